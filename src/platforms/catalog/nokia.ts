/**
 * Nokia SR OS, classic CLI (alias alcatel_sros, nokia_sros_classic).
 *
 * Facts: netmiko/nokia/nokia_sros.py (classic when the prompt has no "@": "environment no more",
 * `configure` / `exit all`), scrapli/definitions/nokia_sros_classic.yaml (prompts
 * `^\*?[abcd]:[\w\s_.-]+#`, config `>config[\w>]*(#|\$)`, failures "MINOR:", "MAJOR:", "Error:",
 * "Bad Command:"); SR OS basic system guide: a leading "*" marks unsaved changes, "$" a context
 * created by the command.
 *
 * The MD-CLI (SR OS 19+) is NOKIA_SROS_MDCLI below, a platform of its own (docs/platforms.md says why).
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

/**
 * Nokia SR OS, model-driven CLI (MD-CLI, SR OS 19+).
 *
 * Facts: netmiko/nokia/nokia_sros.py (MD-CLI when the prompt has "@"; "environment command-completion
 * space false", "environment console width 512", "environment more false"; `edit-config exclusive`,
 * `commit`, `discard` when the context shows "*", `quit-config`; `exit all`; the context line
 * `^!?*?((ex|gl|pr|ro))?[.*]` stripped from output), scrapli_community/nokia/sros/nokia_sros.py
 * (its default `nokia_sros` is the MD-CLI: exec `[...]` over `[abcd]:user@host#`, configuration
 * `(ex)[...]` over the same line, escalate `edit-config exclusive`, deescalate `quit-config`,
 * failures "MINOR:", "MAJOR:"); the MD-CLI user guide: the prompt is two lines, the first shows the
 * baseline-out-of-date "!" and uncommitted-changes "*" indicators, the configuration mode ("(ex)[/...]"
 * in the explicit workflow, "[ex:/...]" in the implicit one; ex, pr, gl, ro) and the context ("[/]";
 * "[]" before 21.x), the second "CPM:user@name#".
 *
 * Configuration uses `edit-config private`, not Netmiko's exclusive: a pooled device has several
 * sessions, and exclusive mode refuses a second one. A private candidate holds only this batch's changes, and leaving private mode
 * discards what was not committed, so a failed commit can never be left behind. Leaving:
 * `commit`, `quit-config`, `exit all` (back to the operational root "[/]"); still in a
 * configuration mode afterwards (exclusive or global, entered by the batch itself, refuses to quit
 * with changes): `discard`, `quit-config`, `exit all`; still there: the session is discarded
 * (drivers/shell-modes.ts). Read-only mode "(ro)" is not a configuration level here: it holds no
 * lock and no changes, and `commit` would fail in it.
 */
export const NOKIA_SROS_MDCLI: Profile = {
  platform: 'nokia_sros_mdcli',
  // "A:admin@pe1#" (B:, C:, D: on other CPMs); the context line above it is contextLine.
  promptPattern: pat('^\\*?(?<base>[ABCD]:[\\w.\\-]{1,63}@[\\w.\\-]{1,63})#\\s*$', 'prompt', { must: '@' }),
  // "[/]", "[]", "[/configure router \"Base\"]", "*(pr)[/configure]", "!*(ex)[/]", "*[ex:/configure]", "(ex:bof)[/]"
  contextLine: pat('^[!*]{0,2}(?:\\((?:ex|pr|gl|ro)(?::bof)?\\) ?)?\\[(?:(?:ex|pr|gl|ro)(?::bof)?:)?(?:/[^\\n]*|[a-z][^\\n]*)?\\]\\s*$', 'context line', { must: '[' }),
  // Tested against the context line (Profile.contextLine): exclusive, private or global, either workflow.
  configPattern: pat('^[!*]{0,2}(?:\\((?:ex|pr|gl)(?::bof)?\\)|\\[(?:ex|pr|gl)(?::bof)?:)', 'config context'),
  pagingCommands: ['environment command-completion space false', 'environment console width 512', 'environment more false'],
  pagerPatterns: [PAGERS.sros],
  config: { enter: ['edit-config private'], exit: ['commit', 'quit-config', 'exit all'], abort: ['discard', 'quit-config', 'exit all'] },
  errorPatterns: errors([['^\\s*CRITICAL: ', 'CRITICAL:'], ['^\\s*MAJOR: ', 'MAJOR:'], ['^\\s*MINOR: ', 'MINOR:'], ['^\\s*Error: ', 'Error:']]),
  defaultMode: 'shell',
};
