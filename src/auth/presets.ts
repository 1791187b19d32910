/**
 * Built-in policy presets. A preset narrows a rule; it never widens it: a request must satisfy
 * the preset AND the rule's own fields.
 *
 * `read-only`: commands without side effects on the device or on the pooled session.
 *   - A command must START with one of these full keywords (abbreviations such as "sh" are
 *     refused: "sh" is also the Linux shell): show, display, get, ping, traceroute, tracert,
 *     dir, more; on Linux-like devices also ls, cat, df, free, uname, uptime, whoami, id, and
 *     bare `hostname` / `date` (with arguments they change the system).
 *   - Refused anywhere in the command: `; & \` $ < >` (shell chaining, substitution and
 *     redirection; on NX-OS `show ... > bootflash:x` writes a file), and a `|` followed by
 *     anything but an output filter (include/exclude/begin/section/count/match/except/find/
 *     grep/egrep/no-more/json/xml/display/last/trim/head/tail/wc/sort/uniq and the usual
 *     i/inc/e/exc/b/beg/s/sec abbreviations). This blocks `| redirect`, `| tee`, `| append`,
 *     `| save` (IOS/NX-OS/EOS/Junos file writes) and piping into a Linux shell.
 *   - No configure mode, and HTTP only GET/HEAD.
 *   - No inventory or admin changes: PutDevice, DeleteDevice and DrainDevice are refused.
 *   `show running-config` stays allowed: it has no side effect. It does reveal configuration
 *   (password hashes, SNMP communities); add `commands.deny: ['^show run', '^more system:']` to
 *   the rule when that matters (deny patterns must cover abbreviations such as "show run").
 */
export interface Preset {
  name: string;
  commandAllow: RegExp[];
  commandDeny: RegExp[];
  /** Short description used in PERMISSION_DENIED messages. */
  why: string;
  configure: boolean;
  httpMethods: ReadonlySet<string>;
  deniedRpcs: ReadonlySet<string>;
}

const FILTERS =
  'include|inc|i|exclude|exc|e|begin|beg|b|section|sec|s|count|cou|match|except|find|grep|egrep|no-more|json|xml|display|last|trim|head|tail|wc|sort|uniq';

export const READ_ONLY: Preset = Object.freeze({
  name: 'read-only',
  commandAllow: [
    /^(show|display|get|ping|traceroute|tracert|dir|more)( |$)/i,
    /^(ls|cat|df|free|uname|uptime|whoami|id)( |$)/i,
    /^(hostname|date)$/i,
  ],
  commandDeny: [/[;&`$<>]/, new RegExp(`\\|(?!\\s*(${FILTERS})( |$))`, 'i')],
  why: 'only commands without side effects',
  configure: false,
  httpMethods: new Set(['GET', 'HEAD']),
  deniedRpcs: new Set(['PutDevice', 'DeleteDevice', 'DrainDevice']),
});

export const PRESETS: ReadonlyMap<string, Preset> = new Map([[READ_ONLY.name, READ_ONLY]]);
