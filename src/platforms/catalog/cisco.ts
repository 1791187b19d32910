/**
 * Cisco IOS XR and ASA. IOS, IOS XE (alias cisco_xe), NX-OS are in ../profiles.ts.
 *
 * Facts: netmiko/cisco/cisco_xr.py (terminal width 511 + terminal length 0; config prompt ")#";
 * commit failure "% Failed to commit one or more configuration items"; "Uncommitted changes found"
 * question on `end`), scrapli/definitions/cisco_iosxr.yaml (prompt `^[\w.\-@/:]{1,63}#`,
 * config `\(config[\w.\-@/:]{0,32}\)#`, failures "% Invalid input detected" ...);
 * netmiko/cisco/cisco_asa_ssh.py ("terminal pager 0", config check ")#"),
 * scrapli/definitions/cisco_asa.yaml (failures "% Invalid input detected", "% Unknown command").
 */
import type { Profile } from '../profiles.js';
import { ciscoStyle, ENABLE, errors, iosPrompt, PAGERS, pat } from './build.js';

const CARET: readonly [string, string] = ['^\\s*\\^\\s*$', '^'];

export const CISCO_XR: Profile = ciscoStyle({
  platform: 'cisco_xr',
  // "RP/0/RP0/CPU0:edge-1#", "RP/0/RP0/CPU0:edge-1(config-if)#"
  prompt: iosPrompt(),
  config: pat('\\(config[\\w.\\-@/:+]{0,40}\\)#\\s*$', 'config prompt', { must: '(config' }),
  paging: ['terminal length 0', 'terminal width 511'],
  pagers: [PAGERS.more],
  // Not a bare "^% ": XR says "% No modifications to commit." after a commit with nothing to do.
  errors: errors([
    ['^% ?(?:Invalid|Incomplete|Ambiguous|Failed|Unknown|Unrecognized|Bad|Error|Access denied|This command is not authorized)', '%'],
    CARET,
  ]),
  configEnter: ['configure terminal'],
  // `commit` then `abort`: after a good commit abort only leaves; after a failed one it also
  // discards the candidate, where `end` would ask "Uncommitted changes found, commit them
  // before exiting(yes/no/cancel)?" and stall the session.
  configExit: ['commit', 'abort'],
  configAbort: ['abort'],
  endMarker: ['show'],
});

export const CISCO_ASA: Profile = ciscoStyle({
  platform: 'cisco_asa',
  // "ciscoasa>", "ciscoasa#", "ciscoasa/admin(config)#" (multi-context)
  prompt: iosPrompt(),
  config: pat('\\(config[\\w.\\-@/:+]{0,40}\\)#\\s*$', 'config prompt', { must: '(config' }),
  paging: ['terminal pager 0'],
  pagers: [PAGERS.more],
  errors: errors([['^ERROR: ', 'ERROR: '], ['^% ', '% '], CARET]),
  enable: ENABLE,
  endMarker: ['show'],
});
