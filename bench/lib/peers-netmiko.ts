/**
 * Drives bench/peers/netmiko_driver.py (Debian's python3-netmiko under /usr/bin/python3): one
 * long-lived Python process holding one Netmiko connection per settings variant. Each request is
 * one timed operation; the time reported is the Python side's, around the Netmiko call, as a
 * Python caller would see it (the pipe to this process is not counted).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { reapOnExit, stopChild } from './sim-process.js';

export const NETMIKO_VARIANTS = ['defaults', 'fast_cli', 'tuned', 'floor'] as const;
export type NetmikoVariant = (typeof NETMIKO_VARIANTS)[number];
export type NetmikoOp = 'open' | 'held' | 'timing' | 'cold' | 'close' | 'warmpool';

export interface NetmikoDriver {
  /** Runs one operation; resolves with the Python-side wall time (ms) and CPU time of that process (ms). */
  op(op: NetmikoOp, variant?: NetmikoVariant): Promise<{ ms: number; cpuMs: number; attempts: number }>;
  stop(): Promise<void>;
}

export const PYTHON = '/usr/bin/python3';

/** The driver script, from bench/ (ts) or dist/bench/ (compiled): the .py file is not copied by tsc. */
export function peersDir(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  return here.includes('/dist/bench/') ? here.replace('/dist/bench/lib/', '/bench/peers/') : here.replace('/bench/lib/', '/bench/peers/');
}

/**
 * `warmpoolAddress`: the daemon's gRPC address, for op "warmpool" (warmpool's Python client, clients/python,
 * timed in the same process and the same way as the Netmiko calls).
 */
export async function startNetmiko(
  target: { host: string; port: number; username: string; password: string },
  opts: { fullDisconnect?: boolean; warmpoolAddress?: string } = {},
): Promise<NetmikoDriver> {
  const args = [`${peersDir()}netmiko_driver.py`, target.host, String(target.port), target.username, target.password];
  if (opts.fullDisconnect) args.push('--full-disconnect');
  if (opts.warmpoolAddress) args.push('--warmpool', opts.warmpoolAddress);
  const proc = reapOnExit(spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] })) as ChildProcessWithoutNullStreams;
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const lines = createInterface({ input: proc.stdout });
  const waiting: Array<(line: string) => void> = [];
  lines.on('line', (l) => waiting.shift()?.(l));
  const exited = new Promise<never>((_, reject) => proc.once('exit', (code) => reject(new Error(`netmiko driver exited (${code}): ${stderr.trim()}`))));
  exited.catch(() => {});
  return {
    async op(op, variant) {
      const reply = new Promise<string>((resolve) => waiting.push(resolve));
      proc.stdin.write(`${JSON.stringify({ op, variant })}\n`);
      const r = JSON.parse(await Promise.race([reply, exited])) as { ok: boolean; ms: number; cpu_ms: number; attempts: number; error?: string };
      if (!r.ok) throw new Error(`netmiko ${op} ${variant ?? ''}: ${r.error}`);
      return { ms: r.ms, cpuMs: r.cpu_ms, attempts: r.attempts };
    },
    async stop() {
      proc.stdin.end();
      await stopChild(proc);
    },
  };
}
