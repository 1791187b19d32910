/**
 * Huawei VRP and HPE/H3C Comware: `<host>` user view, `[host]` system view,
 * `[host-GigabitEthernet0/0/1]` sub-views; `system-view` enters, `return` leaves.
 *
 * Facts: netmiko/huawei/huawei.py ("screen-length 0 temporary", config check "]", exit
 * "return", password-change prompt "Change now|Please choose", "HRP_" prefix on firewalls),
 * scrapli/definitions/huawei_vrp.yaml (prompts `<...>` and `[~*...]`, failure "Error:");
 * netmiko/hp/hp_comware.py ("screen-length disable", "RBM_" prefix, "Press Y or ENTER to
 * continue"), scrapli/definitions/hp_comware.yaml (failure "% Unrecognized command found at '^' position.").
 */
import type { Profile } from '../profiles.js';
import { errors, PAGERS, pat } from './build.js';

/**
 * The host name is the shortest part before an optional "-<view>" suffix, so "[core-1]" and
 * "[core-1-GigabitEthernet0/0/1]" share the base "core": the driver then follows sub-views at
 * once instead of waiting for them to settle. "~" and "*" mark VRPv8 candidate states.
 */
const VIEW_PROMPT = pat('^(?:HRP_[AMS]|RBM_[PS])?[<\\[]~?\\*?(?<base>[\\w.@/:]{1,63}?)(?:-[\\w.\\-@/: ]{1,80})?[>\\]]\\s*$', 'prompt');
const SYSTEM_VIEW = pat('\\]\\s*$', 'config prompt', { must: ']' });
const CARET: readonly [string, string] = ['^\\s*\\^\\s*$', '^'];

export const HUAWEI: Profile = {
  platform: 'huawei',
  promptPattern: VIEW_PROMPT,
  configPattern: SYSTEM_VIEW,
  pagingCommands: ['screen-length 0 temporary'],
  pagerPatterns: [PAGERS.vrp, PAGERS.more],
  config: { enter: ['system-view'], exit: ['return'], abort: ['return'] },
  errorPatterns: errors([['^\\s*Error: ', 'Error:'], CARET]),
  defaultMode: 'shell',
  endMarker: { commands: ['display'] },
};

/**
 * VRP V8 in two-stage mode (NE40E/NE8000, CE switches): system-view shows "[~HUAWEI]", then
 * "[*HUAWEI]" once the candidate differs from the running configuration, and nothing takes effect
 * until `commit`. Leaving with uncommitted changes asks "Uncommitted configurations found. Are you
 * sure to commit them before exiting? [Y(yes)/N(no)/C(cancel)]:", so the exit path commits, then
 * discards whatever a failed commit left (`clear configuration candidate`), then returns.
 * Facts: netmiko/huawei/huawei.py HuaweiVrpv8SSH (commit, error marker "Failed to generate
 * committed config"), Huawei NE40E command reference (commit; "[~HUAWEI] sysname A / [*HUAWEI]
 * commit / [~A]").
 */
export const HUAWEI_VRPV8: Profile = {
  ...HUAWEI,
  platform: 'huawei_vrpv8',
  config: { enter: ['system-view'], exit: ['commit', 'clear configuration candidate', 'return'], abort: ['clear configuration candidate', 'return'] },
  errorPatterns: errors([['^\\s*Error: ', 'Error:'], ['Failed to generate committed config', 'Failed to generate'], CARET]),
};

export const HP_COMWARE: Profile = {
  platform: 'hp_comware',
  promptPattern: VIEW_PROMPT,
  configPattern: SYSTEM_VIEW,
  pagingCommands: ['screen-length disable'],
  pagerPatterns: [PAGERS.vrp, PAGERS.more],
  config: { enter: ['system-view'], exit: ['return'], abort: ['return'] },
  errorPatterns: errors([['^\\s*% ?(?:Unrecognized|Incomplete|Wrong|Too many|Ambiguous)', '%'], ['^\\s*% ', '%'], CARET]),
  defaultMode: 'shell',
  endMarker: { commands: ['display'] },
};
