import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT, type Proc } from './proc.js';

const TS_LOADER = join(ROOT, 'node_modules/@tapjs/typescript/dist/esm/import.mjs');

/** Every .ts file under src/ has a .js in dist/src/ at least as new (so dist is what src says). */
function distIsFresh(): boolean {
  const walk = (dir: string): boolean => readdirSync(dir, { withFileTypes: true }).every((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return walk(p);
    if (!e.name.endsWith('.ts')) return true;
    try {
      return statSync(join(ROOT, 'dist', relative(ROOT, p).replace(/\.ts$/, '.js'))).mtimeMs >= statSync(p).mtimeMs;
    } catch {
      return false;
    }
  });
  return walk(join(ROOT, 'src'));
}

let cached: string[] | undefined;

/**
 * How to start `warmpool` as a user does: the built dist/src/main.js (`npx tsc -p tsconfig.json`)
 * when it is up to date with src/, which starts in about a second; otherwise src/main.ts through
 * the TypeScript loader, the same code, only slower to start.
 */
export function warmpoolCommand(): string[] {
  cached ??= distIsFresh()
    ? [process.execPath, join(ROOT, 'dist/src/main.js')]
    : [process.execPath, `--import=${TS_LOADER}`, join(ROOT, 'src/main.ts')];
  return cached;
}

export const usingBuiltCli = (): boolean => warmpoolCommand()[1]?.endsWith('main.js') === true;

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  /** Run on a pseudo-terminal (util-linux `script`): stdin, stdout and stderr are one TTY. */
  tty?: boolean;
  /** stdin as a pipe the test can write to and end (with `tty`, ending it ends the terminal's input). */
  stdin?: boolean;
}

export interface CliProc extends Proc { stdout: () => string; stderr: () => string }

/** `warmpool ARGS...` as a separate process. Without `tty`: stdout and stderr are pipes, also kept apart. */
export function runCli(args: string[], o: CliOptions = {}): CliProc {
  const cmd = warmpoolCommand();
  const env = { ...process.env, ...o.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const child = o.tty
    // -q quiet, -f flush as written, -e exit with the child's status; the log goes to /dev/null.
    ? spawn('script', ['-qfec', [...cmd, ...args].map(shellQuote).join(' '), '/dev/null'], { env, stdio: [o.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] })
    : spawn(cmd[0] as string, [...cmd.slice(1), ...args], { env, stdio: [o.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  let out = '';
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { child, out: () => out, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Runs to the end: exit status and output. */
export async function cli(args: string[], o: CliOptions = {}): Promise<{ code: number | null; out: string; stdout: string; stderr: string }> {
  const p = runCli(args, o);
  const code = await p.exited;
  return { code, out: p.out(), stdout: p.stdout(), stderr: p.stderr() };
}
