/**
 * CPU profile of `warmpool serve` under concurrent Run load (the throughput case), for finding
 * where the daemon's own time goes:
 *   node dist/bench/profile-daemon-load.js [seconds] [profileDir]
 * writes a .cpuprofile (open it in Chrome DevTools) for the daemon process into profileDir.
 */
import { call, startDaemonProcess } from './lib/daemon-process.js';
import { startSimProcess } from './lib/sim-process.js';

const SECONDS = Number(process.argv[2] ?? 6);
const DIR = process.argv[3] ?? '/tmp/warmpool-profile';
const CALLERS = 32;

async function main(): Promise<void> {
  const sim = await startSimProcess();
  const daemon = await startDaemonProcess({
    devices: [{
      id: 'r1', host: '127.0.0.1', port: sim.port, platform: 'cisco_ios', username: 'admin', password: 'admin-pass',
      enableSecret: 'enable-pass', hostKey: { fingerprints: [sim.fingerprint] }, pool: { min: 4, max: 4 },
    }],
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${DIR}`],
  });
  const clients = daemon.clients();
  const until = Date.now() + SECONDS * 1000;
  let calls = 0;
  await Promise.all(Array.from({ length: CALLERS }, async () => {
    while (Date.now() < until) {
      await call(clients.proxy, 'Run', { device: 'r1', commands: ['show clock'] });
      calls++;
    }
  }));
  process.stdout.write(`${calls} calls in ${SECONDS} s (${Math.round(calls / SECONDS)}/s); profile in ${DIR}\n`);
  clients.close();
  await daemon.stop();
  sim.stop();
}
main().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
