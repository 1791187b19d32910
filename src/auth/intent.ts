/**
 * What a command is for, recognised from the command itself rather than from request flags:
 *
 *   commandIntent('cisco_ios', 'conf t')          → 'configure'
 *   commandIntent('cisco_ios', 'wr')              → 'operational-change'
 *   commandIntent('juniper_junos', 'show route')  → 'read'
 *
 * - 'configure': enters or acts on configuration (configure/conf t/config/edit, Junos set/delete/
 *   commit/rollback/load, crypto, boot, ...).
 * - 'operational-change': changes the device, its files, or the pooled session without being
 *   configuration (write, copy, reload, delete, erase, format, clear, debug, request, install,
 *   license, test, terminal, enable, shells such as bash/run/guestshell/start shell, output
 *   filters that write files or run code, `>` redirection) — and EVERYTHING NOT KNOWN TO BE A
 *   READ: an unknown verb, an unknown output filter, a control or non-ASCII character.
 * - 'read': a known read verb (show, display, ping, traceroute, dir, ...) whose output filters,
 *   if any, are known read-only filters.
 *
 * Abbreviations: IOS, NX-OS, EOS and Junos accept any unique prefix of a keyword ("conf",
 * "wr", "rel", "sh"). So a change verb matches by PREFIX (any length: "c" may be "configure"),
 * while a read verb matches only its full word or a listed abbreviation ("sh", "sho"). A word
 * that could be both is a change. The classifier errs towards change; it never calls a change
 * a read because a device resolved an abbreviation differently.
 *
 * Linux (and exec-mode generic devices): a command is a read exactly when the read-only exec
 * allow-list (exec-allowlist.ts) accepts it; anything else is an operational change.
 */
import { splitPlainArgv } from './argv.js';
import { execArgvProblem } from './exec-allowlist.js';

export type Intent = 'read' | 'configure' | 'operational-change';

/** The CLI grammars the classifier knows; other platform names map to one of these or to 'generic'. */
export type CliPlatform = 'cisco_ios' | 'cisco_nxos' | 'arista_eos' | 'juniper_junos' | 'generic';

/** Which rule set applies to a device: argv rules (a Unix shell parses the command) or a CLI grammar. */
export type CommandGrammar = { kind: 'argv' } | { kind: 'cli'; platform: CliPlatform };

const CLI_ALIASES: Readonly<Record<string, CliPlatform>> = {
  cisco_ios: 'cisco_ios', cisco_xe: 'cisco_ios', cisco_ios_ssh: 'cisco_ios',
  cisco_nxos: 'cisco_nxos', cisco_nxos_ssh: 'cisco_nxos',
  arista_eos: 'arista_eos', arista_eos_ssh: 'arista_eos',
  juniper_junos: 'juniper_junos', juniper: 'juniper_junos',
};

/**
 * The grammar for a device. linux: argv (exec or an interactive shell alike). A known network
 * OS: its CLI, whatever the mode (an exec channel on a switch still reaches the switch CLI).
 * generic or an unknown platform: argv in exec mode (the command reaches a login shell),
 * the strict generic CLI grammar in shell mode.
 */
export function grammarFor(platform: string, mode?: string): CommandGrammar {
  if (platform === 'linux') return { kind: 'argv' };
  const cli = CLI_ALIASES[platform];
  if (cli) return { kind: 'cli', platform: cli };
  return mode === 'exec' ? { kind: 'argv' } : { kind: 'cli', platform: 'generic' };
}

type ChangeIntent = Exclude<Intent, 'read'>;

interface VerbTable {
  /** Full words; a command word that is a prefix of one of them may mean it. */
  change: ReadonlyMap<string, ChangeIntent>;
  /** Exact spellings of read verbs (full words and the abbreviations accepted as reads). */
  read: ReadonlySet<string>;
}

const C: ChangeIntent = 'configure';
const O: ChangeIntent = 'operational-change';

/** Change verbs shared by IOS, NX-OS and EOS (exec mode). */
const CISCO_LIKE_CHANGE: Array<[string, ChangeIntent]> = [
  ['configure', C], ['setup', C], ['crypto', C], ['boot', C], ['rollback', C], ['feature', C], ['set', C], ['archive', C],
  ['copy', O], ['write', O], ['reload', O], ['delete', O], ['erase', O], ['format', O], ['clear', O], ['clock', O],
  ['debug', O], ['undebug', O], ['test', O], ['license', O], ['install', O], ['request', O], ['upgrade', O],
  ['terminal', O], ['enable', O], ['disable', O], ['exit', O], ['end', O], ['logout', O], ['quit', O], ['no', O],
  ['cd', O], ['mkdir', O], ['rmdir', O], ['rename', O], ['squeeze', O], ['fsck', O], ['undelete', O], ['send', O],
  ['telnet', O], ['ssh', O], ['connect', O], ['tclsh', O], ['monitor', O], ['event', O], ['run', O], ['bash', O],
  ['guestshell', O], ['python', O], ['python3', O], ['restart', O], ['system', O], ['checkpoint', O], ['load', O],
  ['source', O], ['attach', O], ['vsh', O], ['reset', O], ['lock', O], ['login', O], ['disconnect', O],
  ['resume', O], ['release', O], ['renew', O], ['zerotouch', O], ['start', O], ['schedule', O], ['tftp-server', O],
];

const JUNOS_CHANGE: Array<[string, ChangeIntent]> = [
  ['configure', C], ['edit', C], ['set', C], ['delete', C], ['commit', C], ['rollback', C], ['load', C],
  ['activate', C], ['deactivate', C], ['annotate', C], ['insert', C], ['rename', C], ['replace', C],
  ['wildcard', C], ['copy', C], ['protect', C], ['unprotect', C],
  ['request', O], ['restart', O], ['clear', O], ['start', O], ['monitor', O], ['test', O], ['file', O], ['op', O],
  ['save', O], ['quit', O], ['exit', O], ['telnet', O], ['ssh', O], ['run', O], ['up', O], ['top', O], ['exec', O],
];

/** Huawei/H3C (system-view, undo, save), FortiOS (config, execute, diagnose) and the rest, for generic. */
const GENERIC_EXTRA_CHANGE: Array<[string, ChangeIntent]> = [
  ['config', C], ['system-view', C], ['undo', C], ['edit', C], ['commit', C], ['unset', C], ['purge', C],
  ['save', O], ['execute', O], ['diagnose', O], ['reboot', O], ['shutdown', O], ['return', O], ['startup', O],
  ['sudo', O], ['su', O], ['sh', O], ['shell', O], ['cli', O], ['exec', O], ['env', O], ['find', O],
];

const table = (change: Array<[string, ChangeIntent]>, read: string[]): VerbTable => ({ change: new Map(change), read: new Set(read) });

const VERBS: Readonly<Record<CliPlatform, VerbTable>> = {
  cisco_ios: table(CISCO_LIKE_CHANGE, ['show', 'sho', 'sh', 'ping', 'traceroute', 'dir', 'more', 'verify']),
  cisco_nxos: table(CISCO_LIKE_CHANGE, ['show', 'sho', 'sh', 'ping', 'ping6', 'traceroute', 'traceroute6', 'dir']),
  arista_eos: table(CISCO_LIKE_CHANGE, ['show', 'sho', 'sh', 'ping', 'traceroute', 'dir', 'more']),
  juniper_junos: table(JUNOS_CHANGE, ['show', 'sho', 'sh', 'ping', 'traceroute', 'help']),
  // generic may be a Unix shell: "sh" is the shell there, so only full words are reads.
  generic: table([...CISCO_LIKE_CHANGE, ...JUNOS_CHANGE, ...GENERIC_EXTRA_CHANGE], ['show', 'display', 'get', 'ping', 'traceroute', 'tracert', 'dir']),
};

// ---------------------------------------------------------------------------------------------
// Output filters after "|"

export interface FilterTable {
  /** Read-only filters. */
  safe: ReadonlySet<string>;
  /** Filters that write files, send mail or run code (named in messages). */
  unsafe: ReadonlySet<string>;
  /**
   * true: the platform accepts any unique prefix of a filter name (IOS, Junos), and the tables
   * above are its complete filter list. false: only full names and `abbreviations`.
   */
  prefixes: boolean;
  abbreviations: ReadonlyMap<string, string>;
}

const COMMON_ABBREV = new Map([['i', 'include'], ['inc', 'include'], ['ex', 'exclude'], ['exc', 'exclude'], ['b', 'begin'], ['beg', 'begin'], ['sec', 'section']]);

export const FILTERS: Readonly<Record<CliPlatform, FilterTable>> = {
  cisco_ios: {
    safe: new Set(['include', 'exclude', 'begin', 'section', 'count']),
    unsafe: new Set(['append', 'redirect', 'tee', 'format']),
    prefixes: true,
    abbreviations: new Map(),
  },
  juniper_junos: {
    safe: new Set(['count', 'display', 'except', 'find', 'last', 'match', 'no-more', 'resolve', 'trim', 'compare']),
    unsafe: new Set(['save', 'append', 'tee', 'request', 'refresh', 'hold']),
    prefixes: true,
    abbreviations: new Map(),
  },
  cisco_nxos: {
    safe: new Set(['include', 'exclude', 'begin', 'end', 'count', 'grep', 'egrep', 'head', 'last', 'no-more', 'section', 'sort', 'uniq', 'wc', 'xml', 'json', 'json-pretty']),
    unsafe: new Set(['python', 'vsh', 'tee', 'email', 'sed', 'awk', 'less', 'redirect', 'append', 'bash']),
    prefixes: false,
    abbreviations: COMMON_ABBREV,
  },
  arista_eos: {
    safe: new Set(['include', 'exclude', 'begin', 'section', 'count', 'json', 'no-more', 'nz']),
    unsafe: new Set(['bash', 'python', 'tee', 'redirect', 'append', 'awk', 'sed', 'grep', 'egrep', 'sort', 'head', 'tail', 'less']),
    prefixes: false,
    abbreviations: COMMON_ABBREV,
  },
  generic: {
    safe: new Set(['include', 'exclude', 'begin', 'section', 'count', 'match', 'except', 'no-more', 'display']),
    unsafe: new Set(['tee', 'redirect', 'append', 'save', 'bash', 'sh', 'python', 'find', 'sort', 'xargs', 'awk', 'sed']),
    prefixes: false,
    abbreviations: COMMON_ABBREV,
  },
};

/** A filter word resolved: a safe filter's full name, or why it is not one. */
export function resolveFilter(platform: CliPlatform, word: string): { ok: true; name: string } | { ok: false; reason: string } {
  const t = FILTERS[platform];
  const w = word.toLowerCase();
  if (t.prefixes) {
    const unsafe = [...t.unsafe].filter((f) => f.startsWith(w));
    if (unsafe.length > 0) {
      const what = w === unsafe[0] ? `"| ${word}"` : `"| ${word}" may abbreviate "| ${unsafe[0]}", which`;
      return { ok: false, reason: `${what} writes, sends or runs something` };
    }
    const safe = [...t.safe].filter((f) => f.startsWith(w));
    if (safe.length === 1) return { ok: true, name: safe[0]! };
    if (safe.length > 1 && safe.includes(w)) return { ok: true, name: w };
  } else {
    if (t.unsafe.has(w)) return { ok: false, reason: `"| ${word}" writes, sends or runs something` };
    if (t.safe.has(w)) return { ok: true, name: w };
    const full = t.abbreviations.get(w);
    if (full) return { ok: true, name: full };
  }
  return { ok: false, reason: `"| ${word}" is not a known read-only output filter on ${platform}` };
}

// ---------------------------------------------------------------------------------------------

export interface Classification {
  intent: Intent;
  /** Why (for PERMISSION_DENIED messages): names the word that decided. */
  reason: string;
}

const RANK: Record<Intent, number> = { read: 0, 'operational-change': 1, configure: 2 };
const NOT_PRINTABLE_ASCII = /[^\x20-\x7e\t]/;

/** The intent of one command; see the module comment. `mode` matters only for generic/unknown platforms. */
export function commandIntent(platform: string, command: string, mode?: string): Intent {
  return classifyCommand(platform, command, mode).intent;
}

export function classifyCommand(platform: string, command: string, mode?: string): Classification {
  const bad = NOT_PRINTABLE_ASCII.exec(command);
  if (bad) {
    const cp = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return { intent: 'operational-change', reason: `the command contains U+${cp}, a control or non-ASCII character` };
  }
  const grammar = grammarFor(platform, mode);
  if (grammar.kind === 'argv') {
    const split = splitPlainArgv(command);
    if (!split.ok) return command.trim() === '' ? { intent: 'read', reason: 'empty command' } : { intent: 'operational-change', reason: split.reason };
    const problem = execArgvProblem(split.argv);
    return problem === undefined ? { intent: 'read', reason: 'an allowed read-only command' } : { intent: 'operational-change', reason: problem };
  }
  // NX-OS runs "a ; b" as two commands; treat every platform the same way and keep the worst.
  let worst: Classification = { intent: 'read', reason: 'a read-only command' };
  for (const part of command.split(';')) {
    const c = classifyCli(grammar.platform, part);
    if (RANK[c.intent] > RANK[worst.intent]) worst = c;
  }
  return worst;
}

function classifyCli(platform: CliPlatform, command: string): Classification {
  const [main = '', ...filters] = command.split('|');
  const words = main.trim().split(/\s+/).filter((w) => w !== '');
  let result = classifyVerb(platform, words);
  const raise = (c: Classification): void => {
    if (RANK[c.intent] > RANK[result.intent]) result = c;
  };
  if (/[<>]/.test(command)) raise({ intent: 'operational-change', reason: 'the command redirects output to or input from a file (> >> <)' });
  for (const f of filters) {
    const word = f.trim().split(/\s+/)[0] ?? '';
    if (word === '') {
      raise({ intent: 'operational-change', reason: 'an empty output filter after "|"' });
      continue;
    }
    const r = resolveFilter(platform, word);
    if (!r.ok) raise({ intent: 'operational-change', reason: r.reason });
  }
  return result;
}

function classifyVerb(platform: CliPlatform, words: string[]): Classification {
  const first = words[0]?.toLowerCase();
  if (first === undefined) return { intent: 'read', reason: 'empty command' };
  const t = VERBS[platform];
  let best: [string, ChangeIntent] | undefined;
  for (const [verb, intent] of t.change) {
    if (verb.startsWith(first) && (best === undefined || RANK[intent] > RANK[best[1]])) best = [verb, intent];
  }
  // Junos "file show" / "file list" only read files.
  if (platform === 'juniper_junos' && 'file'.startsWith(first) && first.length >= 2 && ['show', 'list'].includes(words[1]?.toLowerCase() ?? '')) {
    return { intent: 'read', reason: `"file ${words[1]}" reads a file` };
  }
  if (best) {
    const [verb, intent] = best;
    const what = intent === 'configure' ? 'a configuration command' : 'a command that changes the device or the session';
    const how = verb === first ? 'is' : `may abbreviate "${verb}",`;
    return { intent, reason: `"${words[0]}" ${how} ${what}` };
  }
  if (t.read.has(first)) return { intent: 'read', reason: `"${words[0]}" is a read command` };
  return { intent: 'operational-change', reason: `"${words[0]}" is not a known read command on ${platform}` };
}

/** Programs that run a command as another (usually more privileged) user on a Unix host. */
const UNIX_PRIVILEGE = new Set(['sudo', 'su', 'doas', 'pkexec', 'run0', 'sudoedit']);

/**
 * Whether the command raises the session's privilege level (`enable` and its abbreviations on a
 * CLI, sudo/su on a Unix host), which `privileged: false` must refuse as plain commands too.
 */
export function raisesPrivilege(platform: string, command: string, mode?: string): boolean {
  const first = command.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  if (first === '') return false;
  const grammar = grammarFor(platform, mode);
  if (grammar.kind === 'argv') return UNIX_PRIVILEGE.has(first.replace(/^.*\//, ''));
  return 'enable'.startsWith(first) || UNIX_PRIVILEGE.has(first);
}
