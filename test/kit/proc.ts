import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** The repository root, and tap's TypeScript loader so a child process can run src/main.ts as is. */
export const ROOT = new URL('../..', import.meta.url).pathname;
const TS_LOADER = join(ROOT, 'node_modules/@tapjs/typescript/dist/esm/import.mjs');

export interface Proc { child: ChildProcess; out: () => string; exited: Promise<number | null> }

/** `warmpool ARGS...` as users run it: a separate process, output captured (stdout and stderr together). */
export function runWarmpool(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [`--import=${TS_LOADER}`, join(ROOT, 'src/main.ts'), ...args], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out: () => out, exited };
}
