import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `warmpool sim` in its own process, so the device's CPU does not compete with the side
 * being measured. Resolves once it has printed its port and host-key fingerprint.
 */
export async function startSimProcess(platform = 'cisco_ios'): Promise<{ proc: ChildProcess; port: number; fingerprint: string; stop(): void }> {
  const main = join(fileURLToPath(new URL('../..', import.meta.url)), 'src', 'main.js');
  const proc = spawn(process.execPath, [main, 'sim', '--platform', platform, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
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
