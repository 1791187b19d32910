/**
 * MikroTik RouterOS.
 *
 * Facts: netmiko/mikrotik/mikrotik_ssh.py (prompt `\].*>`; no paging command: Netmiko logs in
 * as "<user>+ct511w4098h" for a dumb terminal without colours; license prompts),
 * scrapli/definitions/mikrotik_routeros.yaml (prompt `\[[a-z0-9@.\-_+\s]{1,48}@[a-z0-9.\-_\s]{1,64}\].{1,16}>`).
 * warmpool logs in with the user name as configured, so the prompt arrives wrapped in ANSI
 * colour codes (the cleaner renders them away) and long outputs stop at RouterOS's pager,
 * which is answered. Commands take effect at once: there is no configuration mode.
 */
import type { Profile } from '../profiles.js';
import { errors, PAGERS, pat } from './build.js';

export const MIKROTIK_ROUTEROS: Profile = {
  platform: 'mikrotik_routeros',
  // "[admin@MikroTik] > ", "[admin@MikroTik] /ip address> "
  promptPattern: pat('^\\[(?<base>[\\w.\\-+ ]{1,48}@[\\w.\\- ]{1,64})\\] ?(?:/[\\w.\\- /]{0,64})?>\\s*$', 'prompt'),
  pagingCommands: [],
  pagerPatterns: [PAGERS.routeros],
  errorPatterns: errors([
    ['^bad command name ', 'bad command name'],
    ['^syntax error ', 'syntax error'],
    ['^expected end of command', 'expected end of command'],
    ['^failure: ', 'failure:'],
    ['^input does not match', 'input does not match'],
    ['^invalid value', 'invalid value'],
    ['^no such item', 'no such item'],
    ['^ambiguous value', 'ambiguous value'],
  ]),
  defaultMode: 'shell',
};
