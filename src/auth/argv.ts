/**
 * Splitting a read-only exec command into argv WITHOUT a shell grammar.
 *
 * An exec-mode command reaches the device's login shell (`$SHELL -c COMMAND`), so anything the
 * shell would interpret (pipes, `;`, `$()`, backticks, redirection, globs, quotes, `~`, braces,
 * history `!`, comments `#`, escapes, control characters) would let a caller run something else
 * than what the policy looked at. Rather than parse shell syntax and hope to agree with bash,
 * zsh and busybox sh, read-only callers may only send plain words:
 *
 *   - words of `[A-Za-z0-9._/:=,@%+-]`, separated by spaces (not tabs: in a shell-mode session
 *     an interactive shell completes on tab, so `cat /etc/sha<TAB>` would become /etc/shadow);
 *   - no word starting with `=` (zsh expands `=ls` to a path) and no bare `-` or `--`.
 *
 * With that alphabet every shell splits the command exactly as `split(/ +/)` does and
 * expands nothing, so the argv checked here is the argv the program receives.
 */

/** The characters a read-only exec word may contain (documented in docs/security.md), and the space. */
const PLAIN_CHAR = /[A-Za-z0-9._/:=,@%+\- ]/;

export type ArgvResult = { ok: true; argv: string[] } | { ok: false; reason: string };

/** How a character is shown in a message: printable ASCII as itself, anything else as U+XXXX. */
function describeChar(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return cp >= 0x21 && cp <= 0x7e ? `'${ch}'` : hex;
}

/** argv of a plain-words command, or why it is not one. */
export function splitPlainArgv(command: string): ArgvResult {
  for (const ch of command) {
    if (!PLAIN_CHAR.test(ch)) {
      return { ok: false, reason: `character ${describeChar(ch)} is not allowed (read-only exec commands are plain words of [A-Za-z0-9._/:=,@%+-])` };
    }
  }
  const argv = command.split(/ +/).filter((w) => w !== '');
  if (argv.length === 0) return { ok: false, reason: 'empty command' };
  for (const w of argv) {
    if (w.startsWith('=')) return { ok: false, reason: `word '${w}' starts with '=' (a shell expansion in zsh)` };
    if (w === '-' || w === '--') return { ok: false, reason: `'${w}' is not allowed (standard input / end of options)` };
  }
  return { ok: true, argv };
}
