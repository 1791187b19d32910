/**
 * VyOS (aliases vyatta_vyos, brocade_vyos, ubiquiti_edgerouter, vyos_vyos).
 *
 * Facts: netmiko/vyos/vyos_ssh.py ("set terminal width 512", "set terminal length 0", config
 * check "#", exit "exit" then "exit discard", commit failures "Failed to generate committed
 * config", "Commit failed"), scrapli/definitions/vyos_vyos.yaml (prompts `user@host$` /
 * `user@host#`, failures "Invalid command", "Set failed", "Need to specify the config node to set").
 * vbash wraps each prompt in bracketed-paste escapes (ESC[?2004h / ESC[?2004l), which the
 * cleaner renders away; configuration mode prints "[edit]" above its prompt.
 */
import type { Profile } from '../profiles.js';
import { errors, pat } from './build.js';

export const VYOS: Profile = {
  platform: 'vyos',
  // "vyos@vyos:~$ " operational, "vyos@vyos# " configuration
  promptPattern: pat('^(?<base>[\\w.\\-]{1,63}@[\\w.\\-]{1,63})(?::[^\\n]{0,128}?)?[$#]\\s*$', 'prompt'),
  configPattern: pat('^[\\w.\\-]{1,63}@[\\w.\\-]{1,63}#\\s*$', 'config prompt'),
  pagingCommands: ['set terminal length 0', 'set terminal width 512'],
  pagerPatterns: [],
  config: { enter: ['configure'], exit: ['commit', 'exit'], abort: ['exit discard'] },
  errorPatterns: errors([
    ['^\\s*Invalid command', 'Invalid command'],
    ['^\\s*Commit failed', 'Commit failed'],
    ['^\\s*Set failed', 'Set failed'],
    ['^\\s*Delete failed', 'Delete failed'],
    ['^\\s*Failed to generate committed config', 'Failed to generate'],
    ['^\\s*Incomplete command', 'Incomplete command'],
    ['^\\s*Ambiguous command', 'Ambiguous command'],
    ['^\\s*Invalid value', 'Invalid value'],
    ['^\\s*Need to specify the config node', 'Need to specify'],
    ['^\\s*Cannot exit: ', 'Cannot exit:'],
  ]),
  defaultMode: 'shell',
};
