/**
 * Where the daemon's time goes on a warm Run: N sequential Runs through the gRPC API against a
 * simulator in another process, timing the raw held shell alongside. Run with --cpu-prof to
 * get a profile:   node --cpu-prof --cpu-prof-dir=/tmp/prof dist/bench/profile-hot-path.js 3000
 */
import { startSimProcess } from './lib/sim-process.js';
import { summarize, table } from './lib/stats.js';
import { batchOf, startWarmDaemon } from './lib/warm-daemon.js';

const N = Number(process.argv[2] ?? 2000);
const CMD = 'show clock';
const batch = batchOf(CMD);

async function main(): Promise<void> {
  const sim = await startSimProcess();
  const w = await startWarmDaemon(sim.port, sim.fingerprint);
  const t = { raw: [] as number[], warm: [] as number[] };
  for (let i = 0; i < N; i++) {
    let t0 = performance.now();
    await w.raw.runBatch(batch);
    t.raw.push(performance.now() - t0);
    t0 = performance.now();
    await w.run(CMD);
    t.warm.push(performance.now() - t0);
  }
  process.stdout.write(`${table([summarize('raw', t.raw), summarize('warm', t.warm)], 'raw')}\n`);
  await w.close();
  sim.stop();
}
main().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
