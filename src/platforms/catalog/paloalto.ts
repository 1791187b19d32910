/**
 * Palo Alto PAN-OS.
 *
 * Facts: netmiko/paloalto/paloalto_panos.py ("set cli scripting-mode on", "set cli pager off",
 * config check "]" of "[edit]", exit "exit", commit marker "configuration committed
 * successfully"), scrapli/definitions/paloalto_panos.yaml (prompts `^[\w\._-]+@[\w\.\(\)_-]+>`
 * and `#`, failures "Unknown command:", "Invalid syntax.", "Server error", "Validation Error:").
 */
import type { Profile } from '../profiles.js';
import { errors, PAGERS, pat } from './build.js';

export const PALOALTO_PANOS: Profile = {
  platform: 'paloalto_panos',
  // "admin@PA-VM> ", "admin@PA-VM# ", "admin@fw1(active)> " (HA)
  promptPattern: pat('^(?<base>[\\w.\\-]{1,63}@[\\w.\\-]{1,63})(?:\\([\\w.\\-]{1,32}\\))?[>#]\\s*$', 'prompt'),
  configPattern: pat('#\\s*$', 'config prompt'),
  pagingCommands: ['set cli scripting-mode on', 'set cli pager off'],
  pagerPatterns: [PAGERS.more],
  // `exit` leaves configuration mode even with uncommitted changes, so a failed commit would leave
  // its candidate for the next batch: `revert config` (PAN-OS 9.1+) after the commit discards it
  // (after a good commit there is nothing to revert).
  config: { enter: ['configure'], exit: ['commit', 'revert config', 'exit'], abort: ['revert config', 'exit'] },
  errorPatterns: errors([
    ['^\\s*Unknown command: ', 'Unknown command:'],
    ['^\\s*Invalid syntax\\.', 'Invalid syntax.'],
    ['^\\s*Server error', 'Server error'],
    ['^\\s*Validation Error:', 'Validation Error:'],
    ['^\\s*Commit failed', 'Commit failed'],
  ]),
  defaultMode: 'shell',
  endMarker: { commands: ['show'] },
};
