/**
 * The read-only allow-list for network-OS CLIs (IOS, NX-OS, EOS, Junos, generic):
 *
 *   KEYWORD [ARGS...] [| FILTER [ARGS...]]...
 *
 * - only printable ASCII (no tab: it completes words on a CLI); never `; & \` $ < > ! { } \ ' ~ ?`
 *   (command separators on NX-OS, file redirection on NX-OS/EOS, CLI variables, history, shell
 *   syntax where the CLI hands text to bash, and `?`, which prints help and leaves the typed text
 *   in the pooled session's line buffer for the next caller); the generic grammar (which may be a Unix shell) also refuses `( ) * ? [ ] #`,
 *   `"` and any word starting with `-`;
 * - KEYWORD is one of the platform's read keywords, as a full word (no abbreviations: on a
 *   generic device "sh" may be the Unix shell);
 * - no word may name a network file system (tftp:, ftp:, http:, https:, scp:, sftp:, rcp:, ftps:):
 *   `more tftp://...` or `show archive config differences ... http://...` make the device connect out;
 * - every `|` segment starts with a known read-only filter of the platform (intent.ts FILTERS),
 *   abbreviated only where the platform's filter list is complete (IOS, Junos); its arguments
 *   may not start with `-` (no `sort -o FILE` where a filter is a Unix program);
 * - and intent.ts must classify the whole command as 'read'.
 */
import { classifyCommand, FILTERS, resolveFilter, type CliPlatform } from './intent.js';

export const READ_KEYWORDS: Readonly<Record<CliPlatform, readonly string[]>> = {
  cisco_ios: ['show', 'ping', 'traceroute', 'dir', 'more'],
  cisco_nxos: ['show', 'ping', 'ping6', 'traceroute', 'traceroute6', 'dir'],
  arista_eos: ['show', 'ping', 'traceroute', 'dir', 'more'],
  juniper_junos: ['show', 'ping', 'traceroute'],
  generic: ['show', 'display', 'get', 'ping', 'traceroute', 'tracert', 'dir'],
};

const DENIED_CHARS = /[;&`$<>!{}\\'~?]/;
const GENERIC_DENIED_CHARS = /[;&`$<>!{}\\'~?()*[\]#"]/;
const NETWORK_FS = /^(tftp|ftp|ftps|https?|scp|sftp|rcp):/i;

/** Why `command` is not an allowed read-only command on this CLI, or undefined. */
export function cliReadOnlyProblem(platform: CliPlatform, command: string): string | undefined {
  for (const ch of command) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x20 || cp > 0x7e) {
      return `character U+${cp.toString(16).toUpperCase().padStart(4, '0')} is not allowed (read-only commands are printable ASCII)`;
    }
    if ((platform === 'generic' ? GENERIC_DENIED_CHARS : DENIED_CHARS).test(ch)) {
      return `character '${ch}' is not allowed in read-only commands on ${platform}`;
    }
  }
  const [main = '', ...filters] = command.split('|');
  const words = main.trim().split(/\s+/).filter((w) => w !== '');
  const keyword = words[0]?.toLowerCase();
  if (keyword === undefined) return 'empty command';
  const keywords = READ_KEYWORDS[platform];
  if (!keywords.includes(keyword)) {
    return `'${words[0]}' is not a read-only command on ${platform} (allowed: ${keywords.join(', ')}, as full words)`;
  }
  if (platform === 'generic') {
    const dash = words.find((w) => w.startsWith('-'));
    if (dash) return `'${dash}': options starting with '-' are refused on generic devices`;
  }
  const remote = command.split(/[\s|]+/).find((w) => NETWORK_FS.test(w));
  if (remote) return `'${remote}' names a network file system`;
  for (const f of filters) {
    const [word, ...args] = f.trim().split(/\s+/).filter((w) => w !== '');
    if (word === undefined) return 'empty output filter after "|"';
    const r = resolveFilter(platform, word);
    if (!r.ok) return `${r.reason} (allowed: ${[...FILTERS[platform].safe].join(', ')})`;
    const dash = args.find((a) => a.startsWith('-'));
    if (dash) return `filter argument '${dash}' starts with '-'`;
  }
  const c = classifyCommand(platform, command);
  return c.intent === 'read' ? undefined : c.reason;
}
