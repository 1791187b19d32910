/**
 * HPE ProCurve / ArubaOS-Switch (aliases aruba_procurve, aruba_osswitch) and ArubaOS-CX.
 *
 * Facts: netmiko/hp/hp_procurve.py ("Press any key to continue" before the prompt, enable,
 * "terminal width 511", "no page", config check ")#"); netmiko/aruba/aruba_aoscx.py ("no page",
 * config check "(config)#"); scrapli/definitions/aruba_aoscx.yaml (failures "% Command
 * incomplete.", "Invalid input:", "doesn't exist").
 */
import type { Profile } from '../profiles.js';
import { ciscoStyle, ENABLE, errors, PAGERS, pat } from './build.js';

/**
 * ProCurve shows "Press any key to continue" after the banner and waits. Matching it as a
 * prompt (its own base, so it must first stand alone) lets prompt learning answer it: the
 * newline the driver sends to confirm a prompt is the key, and the real prompt follows.
 */
export const HP_PROCURVE: Profile = ciscoStyle({
  platform: 'hp_procurve',
  // "HP-2920-24G>", "HP-2920-24G#", "HP-2920-24G(config)#", "HP-2920-24G(eth-1)#"
  prompt: pat('^(?:(?<base>[\\w.\\-@/:]{1,63})(?:\\([\\w.\\-@/:+]{0,40}\\))?[>#]|(?<base2>Press any key to continue))\\s*$', 'prompt'),
  config: pat('\\([\\w.\\-@/:+]{1,40}\\)#\\s*$', 'config prompt', { must: ')#' }),
  paging: ['no page'],
  pagers: [PAGERS.procurve, PAGERS.more],
  errors: errors([['^\\s*Invalid input: ', 'Invalid input'], ['^\\s*Incomplete input', 'Incomplete input'], ['^\\s*Ambiguous input', 'Ambiguous input'], ['^% ', '% ']]),
  enable: ENABLE,
  endMarker: ['show'],
});

/**
 * ArubaOS mobility controllers and conductors: "(host) >", "(host) #", "(host) (config) #",
 * "(host) [mynode] (config-submode)#" on AOS 8. Facts: netmiko/aruba/aruba_os.py (enable before
 * "no paging", config check "(config) #", "configure term" spelled out because the CLI completes
 * on space), scrapli/definitions/aruba_wlc.yaml (prompts `^[\w.\-@: ()*]{1,63}[>#]$`, failures
 * "% Unrecognized command", "% Invalid input", "% Incomplete command"). At login the session is
 * unprivileged, where "no paging" is refused: the pager is answered instead.
 */
export const ARUBA_OS: Profile = ciscoStyle({
  platform: 'aruba_os',
  prompt: pat('^\\((?<base>[\\w.\\-@:]{1,63})\\) (?:\\[[\\w.\\-@/:]{1,63}\\] )?(?:\\([\\w.\\-@/:+]{1,40}\\) ?)?[>#]\\s*$', 'prompt'),
  config: pat('[)\\]] \\([\\w.\\-@/:+]{1,40}\\) ?#\\s*$', 'config prompt', { must: ' (' }),
  paging: ['no paging'],
  pagers: [PAGERS.more],
  errors: errors([['^\\s*% ?(?:Unrecognized|Ambiguous|Wrong|Incomplete|Too many|Invalid)', '%'], ['^% ', '% '], ['^\\s*\\^\\s*$', '^']]),
  enable: ENABLE,
  endMarker: ['show'],
});

export const ARUBA_AOSCX: Profile = ciscoStyle({
  platform: 'aruba_aoscx',
  // "switch#", "switch(config-if)#"; an operator-role login shows "switch>" (same device, read-only).
  prompt: pat('^(?<base>[\\w.\\-@/:]{1,63})(?:\\([\\w.\\-@/:+]{0,40}\\))?[>#]\\s*$', 'prompt'),
  config: pat('\\(config[\\w.\\-@/:+]{0,40}\\)#\\s*$', 'config prompt', { must: '(config' }),
  paging: ['no page'],
  pagers: [PAGERS.more],
  errors: errors([['^\\s*Invalid input: ', 'Invalid input'], ['^% Command incomplete', '% Command'], ["doesn't exist", "doesn't exist"], ['^% ', '% ']]),
  endMarker: ['show'],
});
