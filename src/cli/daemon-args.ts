import { CONFIG_KEYS } from '../config/schema.js';
import { unknownOption, UsageError } from './args.js';

/** Flags of `serve` and `demo` that are not configuration keys. */
const OWN_FLAGS = ['config', 'help'];

/**
 * `serve` and `demo` take configuration keys as flags (--grpc.listen ADDR), read by config/.
 * It reports a mistyped key under a known section; this catches the rest before it is silently
 * ignored: an unknown plain flag (--conifg, --bogus) and a stray argument (`serve app.yaml`).
 * Values are taken as config/ takes them: `--key=VALUE`, or the next argument unless it starts with "--".
 */
export function checkDaemonArgv(argv: string[]): void {
  const known = [...OWN_FLAGS, ...CONFIG_KEYS.map((k) => k.path)];
  const sections = new Set(CONFIG_KEYS.map((k) => k.path.split('.')[0] as string));
  const end = argv.indexOf('--');
  const args = end === -1 ? argv : argv.slice(0, end);
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '-h') continue;
    const m = /^--([^=]+)(=.*)?$/.exec(a);
    if (!m) {
      const hint = /\.(ya?ml|json)$/i.test(a) ? ` (did you mean --config ${a}?)` : '';
      throw new UsageError(`unexpected argument "${a}"${hint}`);
    }
    const name = m[1] as string;
    // Dotted names under a config section are config/'s to judge (it names the key it expected).
    if (!known.includes(name) && !(name.includes('.') && sections.has(name.split('.')[0] as string))) throw unknownOption(`--${name}`, known);
    const next = args[i + 1];
    if (m[2] === undefined && next !== undefined && !next.startsWith('--')) i++;
  }
}
