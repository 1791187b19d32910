/**
 * The profile a device with `platform: autodetect` is driven with until its platform is known
 * (../autodetect.ts): any prompt of the catalogue, every pager answered, no paging command,
 * no privileged or configuration level. Good for the bounded set of show commands that
 * identify a platform, and nothing more.
 */
import type { Profile } from '../profiles.js';
import { pat, PAGERS } from './build.js';

export const AUTODETECT_PROBE: Profile = {
  platform: 'autodetect',
  // A line ending in > # $ % or ], optionally followed by blanks; the text before the
  // terminator is the base, so a different line that looks like a prompt must first stand
  // alone (prompt learning and decidePrompt treat it as a stranger). ProCurve's
  // "Press any key to continue" is answered by prompt learning (see aruba.ts).
  promptPattern: pat('^(?:(?<base>[^\\n]{1,96}?) ?[>#$%\\]]|(?<key>Press any key to continue))\\s*$', 'prompt'),
  pagingCommands: [],
  pagerPatterns: [PAGERS.more, PAGERS.vrp, PAGERS.procurve, PAGERS.sros, PAGERS.routeros],
  errorPatterns: [],
  defaultMode: 'shell',
};
