import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { ROOT, type Proc } from './proc.js';

/** The .ts files under src/ whose .js under dist/src/ is missing or older. */
function staleSources(): string[] {
  const stale: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
        let fresh = false;
        try {
          fresh = statSync(distPath(p)).mtimeMs >= statSync(p).mtimeMs;
        } catch {
          // no output yet
        }
        if (!fresh) stale.push(p);
      }
    }
  };
  walk(join(ROOT, 'src'));
  return stale;
}

const distPath = (src: string): string => join(ROOT, 'dist', relative(ROOT, src).replace(/\.ts$/, '.js'));

let built = false;

/**
 * The CLI as users run it is dist/src/main.js (`npm run build`); it starts in about a second,
 * where src/main.ts through the TypeScript loader takes 5-20 s on a loaded machine. When dist/
 * is older than src/ (tests run without a build), the stale files are transpiled into it here:
 * the same emit as tsc, without the type check (`npx tsc -p tsconfig.json --noEmit` does that).
 * Each file is written to a temporary name and renamed, so parallel test files never see half a file.
 */
export function warmpoolCommand(): string[] {
  if (!built) {
    for (const src of staleSources()) {
      const out = ts.transpileModule(readFileSync(src, 'utf8'), {
        fileName: src,
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      }).outputText;
      const dest = distPath(src);
      mkdirSync(dirname(dest), { recursive: true });
      const tmp = `${dest}.${process.pid}.tmp`;
      writeFileSync(tmp, out);
      renameSync(tmp, dest);
    }
    built = true;
  }
  return [process.execPath, join(ROOT, 'dist/src/main.js')];
}

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
