import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `warmpool sim` in its own process, so the device's CPU does not compete with the side
 * being measured. Resolves once it has printed its port and host-key fingerprint.
 */
export async function startSimProcess(platform = 'cisco_ios'): Promise<{ proc: ChildProcess; port: number; fingerprint: string; stop(): void }> {
  const main = join(fileURLToPath(new URL('../..', import.meta.url)), 'src', 'main.js');
  const proc = reapOnExit(spawn(process.execPath, [main, 'sim', '--platform', platform, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] }));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/host key:\s+SHA256:\S+/.test(out)) resolve();
    });
    proc.on('exit', () => reject(new Error(`simulator exited: ${out}`)));
  });
  return {
    proc,
    port: Number(/:(\d+)\n/.exec(out)![1]),
    fingerprint: /host key:\s+(SHA256:\S+)/.exec(out)![1]!,
    stop: () => proc.kill('SIGINT'),
  };
}

export interface SimFleetProcess {
  proc: ChildProcess;
  pid: number;
  devices: { port: number; fingerprint: string }[];
  stop(): Promise<void>;
}

/**
 * `count` simulated devices in ONE child process (bench/lib/sim-fleet-main.ts), each on its own
 * loopback port with its own host key. The child's open-file limit is the parent's (check it with
 * maxOpenFiles(pid) in proc-stats.ts when holding thousands of connections).
 */
export async function startSimFleetProcess(count: number, platform = 'cisco_ios'): Promise<SimFleetProcess> {
  const main = fileURLToPath(new URL('./sim-fleet-main.js', import.meta.url));
  const proc = reapOnExit(spawn(process.execPath, [main, String(count), platform], { stdio: ['ignore', 'pipe', 'inherit'] }));
  let out = '';
  const devices = await new Promise<{ port: number; fingerprint: string }[]>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve((JSON.parse(out.slice(0, nl)) as { devices: { port: number; fingerprint: string }[] }).devices);
    });
    proc.on('exit', (code) => reject(new Error(`simulator fleet exited (${code}) before starting: ${out}`)));
    setTimeout(() => reject(new Error(`simulator fleet did not start within 30 s: ${out}`)), 30_000).unref();
  }).catch(async (err: unknown) => {
    await stopChild(proc);
    throw err;
  });
  return {
    proc,
    pid: proc.pid as number,
    devices,
    stop: () => stopChild(proc),
  };
}

/** SIGTERM, then SIGKILL after 3 s; resolves when the child has exited. */
export async function stopChild(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(t);
}

const children = new Set<ChildProcess>();
let reaperInstalled = false;

/**
 * Kill `proc` (SIGKILL) when this process exits, however it exits, so a failed benchmark never
 * leaves a simulator or daemon running on the shared machine.
 */
export function reapOnExit<P extends ChildProcess>(proc: P): P {
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  if (!reaperInstalled) {
    reaperInstalled = true;
    // A signal (e.g. bench/run.ts's per-benchmark time limit) must also reach the 'exit' handler.
    process.once('SIGTERM', () => process.exit(143));
    process.once('SIGINT', () => process.exit(130));
    process.on('exit', () => {
      for (const c of children) {
        try {
          c.kill('SIGKILL');
        } catch {
          /* already gone */
        }
      }
    });
  }
  return proc;
}
