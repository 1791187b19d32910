/**
 * Extreme Networks EXOS (alias extreme).
 *
 * Facts: netmiko/extreme/extreme_exos.py ("disable clipaging"; the prompt carries a command
 * counter, "X460-48t.4 # ", and a leading "* " when the configuration is unsaved, which is
 * why Netmiko strips them before matching). EXOS has no configuration mode (configure commands
 * are ordinary commands) and no enable: the account's level decides ">" or "#".
 */
import type { Profile } from '../profiles.js';
import { errors, PAGERS, pat } from './build.js';

export const EXTREME_EXOS: Profile = {
  platform: 'extreme_exos',
  // "X460-48t.1 # ", "* X460-48t.12 # ", "Slot-1 Stack.3 > ": the base stops before ".<counter>",
  // so the prompt is followed from one command to the next.
  promptPattern: pat('^(?:\\* ?)?(?<base>[\\w.\\- ]{1,63}?)(?:\\.\\d{1,6})? ?[#>]\\s*$', 'prompt'),
  pagingCommands: ['disable clipaging'],
  pagerPatterns: [PAGERS.more],
  errorPatterns: errors([['^\\s*%% ', '%%'], ['^\\s*Error: ', 'Error:'], ['^\\s*\\^\\s*$', '^']]),
  defaultMode: 'shell',
  endMarker: { commands: ['show'] },
};
