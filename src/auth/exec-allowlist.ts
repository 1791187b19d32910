/**
 * The read-only allow-list for exec-mode (Linux-like) devices: which programs a read-only caller
 * may run, with which options and which operands. Everything not listed is refused.
 *
 * The command is first split by argv.ts (plain words only, so the shell expands nothing); then:
 *   - the program is named without a path and must be a key of EXEC_COMMANDS (case-sensitive);
 *   - every option must be listed for that program. Short options without a value may be
 *     bundled (`ls -la`); options with a value take it as the NEXT word (`head -n 20`, not
 *     `-n20`; bundled only as the last letter: `ps -eo pid`), long options only as exact words (`--all`, not `--al` or `--lines=5`);
 *     like GNU getopt, an option after an operand is still an option;
 *   - operands are checked per program: file operands must be absolute paths that pass
 *     `pathProblem` (no dot components, no secrets directories, no /dev, most of /proc denied).
 *
 * Nothing listed writes a file, runs another program, changes system state, or waits forever
 * (`tail -f`, `free -s`, `ip monitor` are absent). docs/security.md "Exec allow-list" mirrors
 * this table; test/policy-escapes.test.ts holds the escapes that must stay refused.
 */

/** Why a value is refused, or undefined when it is fine. */
type Check = (v: string) => string | undefined;

interface CommandSpec {
  /** Short options without a value (bundleable). */
  flags?: string;
  /** Long options without a value, exact words. */
  long?: readonly string[];
  /** Options that take the next word as their value. */
  valued?: Readonly<Record<string, Check>>;
  /** ps: words without a dash are BSD option letters from this set. */
  bsd?: string;
  /** Checks the operands (non-option words); `seen` holds the options used. */
  operands: (operands: string[], seen: ReadonlySet<string>) => string | undefined;
  /** A program with its own grammar (ip): replaces the generic option parser. */
  custom?: (args: string[]) => string | undefined;
}

const NUMBER: Check = (v) => (/^\d{1,6}$/.test(v) ? undefined : `'${v}' is not a number`);
const LINES: Check = (v) => (/^\+?\d{1,6}$/.test(v) ? undefined : `'${v}' is not a line count`);
const NAME: Check = (v) => (/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(v) ? undefined : `'${v}' is not a plain name`);
const NAMES: Check = (v) => (v.split(',').every((x) => NAME(x) === undefined) ? undefined : `'${v}' is not a list of names`);
const PIDS: Check = (v) => (/^\d{1,9}(,\d{1,9}){0,63}$/.test(v) ? undefined : `'${v}' is not a list of process ids`);
/** A grep pattern: a plain word that cannot be taken for an option. */
const PATTERN: Check = (v) => (v.startsWith('-') ? `pattern '${v}' starts with '-'` : undefined);

/** ps -o keys: process attributes only (procps has no key for the environment; `ps e` is refused). */
const PS_KEYS = new Set([
  'pid', 'ppid', 'pgid', 'sid', 'user', 'euser', 'ruser', 'uid', 'euid', 'group', 'gid', 'comm', 'args', 'cmd', 'command',
  'etime', 'etimes', 'time', 'stat', 'state', 'pcpu', '%cpu', 'pmem', '%mem', 'rss', 'vsz', 'start', 'lstart', 'stime',
  'tty', 'nlwp', 'pri', 'ni', 'nice', 'psr', 'wchan', 'lwp', 'thcount',
]);
const PS_FORMAT: Check = (v) => {
  const bad = v.split(',').find((k) => !PS_KEYS.has(k.replace(/=.*$/, '').toLowerCase()));
  return bad === undefined ? undefined : `ps format key '${bad}' is not allowed`;
};

// ---------------------------------------------------------------------------------------------
// File operands

/**
 * Path prefixes no read-only caller may name (the prefix itself or anything under it). The
 * device account's file permissions remain the real boundary; this list removes the usual places
 * of secrets an unprivileged account can still read, and every device node.
 */
export const DENIED_PATH_PREFIXES: readonly string[] = [
  '/dev', '/root', '/home', '/boot', '/var/lib', '/var/backups', '/var/spool', '/run/secrets', '/var/run/secrets',
  '/etc/shadow', '/etc/shadow-', '/etc/gshadow', '/etc/gshadow-', '/etc/sudoers', '/etc/sudoers.d', '/etc/ssh',
  '/etc/ssl/private', '/etc/security', '/etc/kubernetes', '/etc/NetworkManager', '/etc/wireguard', '/etc/ipsec.secrets',
  '/etc/ppp', '/sys/firmware', '/sys/kernel',
];

/** The /proc entries that may be read: system-wide tables, never a process's own files. */
export const ALLOWED_PROC_ENTRIES: ReadonlySet<string> = new Set([
  'cpuinfo', 'meminfo', 'loadavg', 'uptime', 'version', 'mounts', 'partitions', 'stat', 'interrupts', 'diskstats',
  'filesystems', 'swaps', 'vmstat', 'net', 'devices', 'modules',
]);

/** Why a file operand is refused, or undefined. */
export function pathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return `'${path}' is not an absolute path (read-only file operands must start with '/')`;
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.some((p) => p.startsWith('.'))) return `'${path}' has a component starting with '.' (., .. and hidden files are refused)`;
  const norm = `/${parts.join('/')}`;
  const denied = DENIED_PATH_PREFIXES.find((d) => norm === d || norm.startsWith(`${d}/`));
  if (denied) return `'${path}' is under ${denied}, which read-only callers may not read`;
  if (parts[0] === 'proc' && parts.length > 1 && !ALLOWED_PROC_ENTRIES.has(parts[1]!)) {
    return `'${path}' is not one of the readable /proc entries (${[...ALLOWED_PROC_ENTRIES].join(', ')})`;
  }
  return undefined;
}

const paths = (min: number, max: number) => (ops: string[]): string | undefined => {
  if (ops.length < min) return min === 1 ? 'needs a file operand (reading standard input is refused)' : `needs at least ${min} operands`;
  if (ops.length > max) return `at most ${max} file operands`;
  for (const p of ops) {
    const problem = pathProblem(p);
    if (problem) return problem;
  }
  return undefined;
};
const none = (ops: string[]): string | undefined => (ops.length === 0 ? undefined : `takes no operands ('${ops[0]}')`);

// ---------------------------------------------------------------------------------------------
// ip: "ip [GLOBAL...] OBJECT [show|list [FILTER...]]"

const IP_GLOBAL = new Set(['-4', '-6', '-s', '-stats', '-statistics', '-d', '-details', '-br', '-brief', '-j', '-json', '-o', '-oneline']);
/** Objects as ip(8) resolves them (first match in its command table); only these spellings. */
const IP_OBJECTS = new Map([
  ['address', 'address'], ['addr', 'address'], ['a', 'address'],
  ['route', 'route'], ['ro', 'route'], ['r', 'route'],
  ['link', 'link'], ['l', 'link'],
  ['neighbor', 'neigh'], ['neighbour', 'neigh'], ['neigh', 'neigh'], ['n', 'neigh'],
  ['rule', 'rule'], ['ru', 'rule'],
]);
const IP_VERBS = new Set(['show', 'list']);
const IP_FILTER_KEYS = new Set(['dev', 'table', 'scope', 'to', 'from', 'proto', 'vrf', 'master', 'type', 'label']);
const IP_FILTER_FLAGS = new Set(['up', 'primary', 'secondary', 'permanent', 'dynamic']);

function checkIp(args: string[]): string | undefined {
  let i = 0;
  for (; i < args.length && args[i]!.startsWith('-'); i++) {
    if (!IP_GLOBAL.has(args[i]!)) return `option '${args[i]}' of ip is not allowed (allowed: ${[...IP_GLOBAL].join(' ')})`;
  }
  const obj = args[i];
  if (obj === undefined || !IP_OBJECTS.has(obj)) {
    return `ip object '${obj ?? ''}' is not allowed (allowed: ${[...IP_OBJECTS.keys()].join(' ')})`;
  }
  const verb = args[i + 1];
  if (verb === undefined) return undefined; // "ip addr" shows
  if (!IP_VERBS.has(verb)) return `'ip ${obj} ${verb}' is not allowed: only the full words 'show' or 'list' (changes such as add/del/set/flush are refused)`;
  for (let j = i + 2; j < args.length; j++) {
    const w = args[j]!;
    if (IP_FILTER_FLAGS.has(w)) continue;
    if (!IP_FILTER_KEYS.has(w)) return `'${w}' is not an allowed filter of 'ip ${obj} ${verb}' (allowed: ${[...IP_FILTER_KEYS, ...IP_FILTER_FLAGS].join(' ')})`;
    const v = args[++j];
    if (v === undefined || v.startsWith('-')) return `ip filter '${w}' needs a value`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------

export const EXEC_COMMANDS: ReadonlyMap<string, CommandSpec> = new Map<string, CommandSpec>([
  ['ls', { flags: 'aAdFhilnprSt1', long: ['--all', '--almost-all', '--directory', '--human-readable', '--inode', '--numeric-uid-gid', '--reverse', '--full-time'], operands: paths(0, 8) }],
  ['cat', { flags: 'nbsAETv', operands: paths(1, 8) }],
  ['head', { valued: { '-n': LINES }, operands: paths(1, 8) }],
  ['tail', { valued: { '-n': LINES }, operands: paths(1, 8) }],
  ['wc', { flags: 'lwcm', operands: paths(1, 8) }],
  ['grep', {
    flags: 'icvnwxFEhHlLos',
    valued: { '-e': PATTERN, '-m': NUMBER, '-A': NUMBER, '-B': NUMBER, '-C': NUMBER },
    operands: (ops, seen) => {
      if (seen.has('-e')) return paths(1, 8)(ops);
      const [pattern, ...files] = ops;
      if (pattern === undefined) return 'needs a pattern and a file';
      return paths(1, 8)(files);
    },
  }],
  ['df', { flags: 'hHkiTlPa', long: ['--human-readable', '--si', '--inodes', '--print-type', '--local', '--portability', '--all'], operands: paths(0, 8) }],
  ['free', { flags: 'bkmghtwl', long: ['--bytes', '--kibi', '--mebi', '--gibi', '--human', '--total', '--wide', '--lohi', '--kilo', '--mega', '--giga'], operands: none }],
  ['uname', { flags: 'asnrvmpio', long: ['--all', '--kernel-name', '--nodename', '--kernel-release', '--kernel-version', '--machine', '--processor', '--hardware-platform', '--operating-system'], operands: none }],
  ['uptime', { flags: 'ps', long: ['--pretty', '--since'], operands: none }],
  ['whoami', { operands: none }],
  ['id', { flags: 'ugGnr', operands: (ops) => (ops.length > 1 ? 'at most one user name' : ops[0] === undefined ? undefined : NAME(ops[0])) }],
  // With an operand or -F/-b hostname SETS the name: no options, no operands.
  ['hostname', { operands: none }],
  // An operand other than +FORMAT, or -s/--set, SETS the clock.
  ['date', {
    flags: 'uR',
    long: ['--utc', '--rfc-email'],
    operands: (ops) => {
      if (ops.length > 1) return 'at most one +FORMAT operand';
      const f = ops[0];
      return f === undefined || /^\+[A-Za-z0-9%:._,/-]*$/.test(f) ? undefined : `operand '${f}' would set the clock (only +FORMAT is allowed)`;
    },
  }],
  ['pwd', { flags: 'LP', operands: none }],
  ['nproc', { long: ['--all'], operands: none }],
  ['lscpu', { operands: none }],
  ['ps', {
    flags: 'efAlFHjwy',
    long: ['--forest', '--no-headers'],
    valued: { '-o': PS_FORMAT, '-O': PS_FORMAT, '-p': PIDS, '-u': NAMES, '-U': NAMES, '-g': NAMES, '-G': NAMES, '-C': NAMES },
    bsd: 'auxwfjlr',
    operands: none,
  }],
  ['ss', {
    flags: 'tulnaps46eimxwHOr',
    long: ['--tcp', '--udp', '--listening', '--numeric', '--all', '--processes', '--summary', '--extended', '--memory', '--info', '--ipv4', '--ipv6', '--no-header', '--oneline', '--resolve'],
    operands: none,
  }],
  ['ip', { operands: none, custom: checkIp }],
]);

/** Why `argv` is not an allowed read-only exec command, or undefined when it is. */
export function execArgvProblem(argv: readonly string[]): string | undefined {
  const [name, ...args] = argv;
  if (name === undefined) return 'empty command';
  if (name.includes('/')) return `'${name}': programs are named without a path`;
  const spec = EXEC_COMMANDS.get(name);
  if (!spec) return `'${name}' is not an allowed read-only command (allowed: ${[...EXEC_COMMANDS.keys()].join(', ')})`;
  if (spec.custom) return spec.custom(args);
  const seen = new Set<string>();
  const operands: string[] = [];
  const allowedOptions = (): string =>
    [...(spec.flags ?? '')].map((f) => `-${f}`).concat(spec.long ?? [], Object.keys(spec.valued ?? {}).map((k) => `${k} VALUE`)).join(' ') || 'none';
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const valueCheck = spec.valued?.[a];
    if (valueCheck) {
      const v = args[++i];
      if (v === undefined) return `option '${a}' of ${name} needs a value`;
      const problem = valueCheck(v);
      if (problem) return `option '${a}' of ${name}: ${problem}`;
      seen.add(a);
    } else if (a.startsWith('--')) {
      if (!spec.long?.includes(a)) return `option '${a}' of ${name} is not allowed (allowed: ${allowedOptions()})`;
      seen.add(a);
    } else if (a.startsWith('-')) {
      const letters = [...a.slice(1)];
      // "-eo pid": flags bundled with one valued option LAST, whose value is the next word.
      const last = letters.length > 1 ? spec.valued?.[`-${letters.at(-1)}`] : undefined;
      if (last) letters.pop();
      for (const letter of letters) {
        if (!spec.flags?.includes(letter)) return `option '-${letter}' of ${name} is not allowed (allowed: ${allowedOptions()})`;
        seen.add(`-${letter}`);
      }
      if (last) {
        const opt = `-${a.at(-1)}`;
        const v = args[++i];
        if (v === undefined) return `option '${opt}' of ${name} needs a value`;
        const problem = last(v);
        if (problem) return `option '${opt}' of ${name}: ${problem}`;
        seen.add(opt);
      }
    } else if (spec.bsd !== undefined) {
      for (const letter of a) {
        if (!spec.bsd.includes(letter)) return `option '${letter}' of ${name} is not allowed (allowed BSD options: ${spec.bsd})`;
      }
    } else {
      operands.push(a);
    }
  }
  const problem = spec.operands(operands, seen);
  return problem === undefined ? undefined : `${name}: ${problem}`;
}
