/**
 * Nokia SR OS, classic CLI (alias alcatel_sros, nokia_sros_classic).
 *
 * Facts: netmiko/nokia/nokia_sros.py (classic when the prompt has no "@": "environment no more",
 * `configure` / `exit all`), scrapli/definitions/nokia_sros_classic.yaml (prompts
 * `^\*?[abcd]:[\w\s_.-]+#`, config `>config[\w>]*(#|\$)`, failures "MINOR:", "MAJOR:", "Error:",
 * "Bad Command:"); SR OS basic system guide: a leading "*" marks unsaved changes, "$" a context
 * created by the command.
 *
 * The MD-CLI is left out: its prompt is two lines ("[/]" or "(ex)[/configure]" above
 * "A:admin@node#") and the configuration mode shows only on the first, which the driver does not
 * read (see docs/platforms.md).
 */
import type { Profile } from '../profiles.js';
import { errors, PAGERS, pat } from './build.js';

export const NOKIA_SROS: Profile = {
  platform: 'nokia_sros',
  // "A:pe1#", "*A:pe1>config>router#", "A:pe1>config>service>vpls$"
  promptPattern: pat('^\\*?(?<base>[ABCD]:[\\w.\\-@]{1,63})(?:>[\\w>.\\-]{1,128})?[#$]\\s*$', 'prompt'),
  configPattern: pat('>config[\\w>.\\-]*[#$]\\s*$', 'config prompt', { must: '>config' }),
  pagingCommands: ['environment no more'],
  pagerPatterns: [PAGERS.sros],
  config: { enter: ['configure'], exit: ['exit all'], abort: ['exit all'] },
  errorPatterns: errors([['^\\s*Error: ', 'Error:'], ['^\\s*MINOR: ', 'MINOR:'], ['^\\s*MAJOR: ', 'MAJOR:'], ['^\\s*Bad Command:', 'Bad Command:'], ['^\\s*\\^\\s*$', '^']]),
  defaultMode: 'shell',
  endMarker: { commands: ['show'] },
};
