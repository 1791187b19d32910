/**
 * Brocade / Ruckus FastIron (ICX; alias ruckus_fastiron) and Brocade / Extreme NetIron (MLX, CER;
 * alias extreme_netiron).
 *
 * Facts: netmiko/ruckus/ruckus_fastiron.py (enable first: "skip-page-display" needs privileged
 * level; "error.*incorrect.*password"), netmiko/extreme/extreme_netiron.py ("skip-page-display"),
 * scrapli/definitions/ruckus_fastiron.yaml (prompts with spaces `^[a-z0-9 .\-_@()/:]{1,63}[>#]`,
 * config `\(conf[a-z0-9.\-@/:\+]{0,32}\)#`, failures "Error -", "Invalid input -").
 */
import type { Profile } from '../profiles.js';
import { ciscoStyle, ENABLE, errors, PAGERS, pat } from './build.js';

// "SSH@ICX7150-48P Router>", "SSH@ICX7150-48P Router(config-if-e1000-1/1/1)#"
const PROMPT = pat('^(?<base>[\\w.\\-@/: ]{1,63})(?:\\([\\w.\\-@/:+]{0,40}\\))?[>#]\\s*$', 'prompt');
const CONFIG = pat('\\(conf[\\w.\\-@/:+]{0,40}\\)#\\s*$', 'config prompt', { must: '(conf' });
const ERRORS = errors([
  ['^\\s*Invalid input -> ', 'Invalid input'],
  ['^\\s*Error - ', 'Error - '],
  ['^\\s*Error: ', 'Error: '],
  ['^\\s*(?:Incomplete|Unrecognized|Ambiguous) (?:command|input)', 'put'],
]);

/**
 * At login the session is unprivileged, where FastIron refuses skip-page-display: the driver
 * logs that and answers "--More--" instead (the pager fallback), as on any device whose
 * paging command is refused.
 */
export const BROCADE_FASTIRON: Profile = ciscoStyle({
  platform: 'brocade_fastiron',
  prompt: PROMPT,
  config: CONFIG,
  paging: ['skip-page-display'],
  pagers: [PAGERS.more],
  errors: ERRORS,
  enable: ENABLE,
  endMarker: ['show'],
});

export const BROCADE_NETIRON: Profile = ciscoStyle({
  platform: 'brocade_netiron',
  prompt: PROMPT,
  config: CONFIG,
  paging: ['skip-page-display'],
  pagers: [PAGERS.more],
  errors: ERRORS,
  enable: ENABLE,
  endMarker: ['show'],
});
