/**
 * FortiGate FortiOS (alias fortinet_fortios).
 *
 * Facts: netmiko/fortinet/fortinet_ssh.py (prompt terminators "#" and "$"; paging off with
 * "config system console" / "set output standard" / "end"; "press 'a' to accept" post-login
 * banner), scrapli/definitions/fortinet_fortios.yaml (prompt `[\w_-]+ (\([\w-]+\) )?[$#]`).
 * FortiOS has no configuration mode to enter: `config <path>` ... `end` blocks are ordinary
 * commands (a batch with configure: true is refused; send the block as commands).
 */
import type { Profile } from '../profiles.js';
import { errors, PAGERS, pat } from './build.js';

export const FORTINET: Profile = {
  platform: 'fortinet',
  // "FGT-1 # ", "FGT-1 (global) # ", "FGT-1 (port1) # ", "FGT-1 $ " (read-only admin)
  promptPattern: pat('^(?<base>[\\w.\\-]{1,63})(?: \\([\\w.\\-]{1,40}\\))? [#$]\\s*$', 'prompt'),
  pagingCommands: ['config system console', 'set output standard', 'end'],
  pagerPatterns: [PAGERS.more],
  errorPatterns: errors([
    ['^Command fail\\. Return code', 'Command fail'],
    ['^command parse error', 'command parse error'],
    ['^Unknown action', 'Unknown action'],
    ['^value parse error', 'value parse error'],
    ['^node_check_object fail', 'node_check_object fail'],
    ['^entry not found', 'entry not found'],
  ]),
  defaultMode: 'shell',
  endMarker: { commands: ['show', 'get'] },
};
