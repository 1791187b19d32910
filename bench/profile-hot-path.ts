/**
 * Where the daemon's time goes on a warm Run: N sequential Runs through the gRPC API against a
 * simulator in another process, timing the raw held shell alongside. Run with --cpu-prof to
 * get a profile:   node --cpu-prof --cpu-prof-dir=/tmp/prof dist/bench/profile-hot-path.js 3000
 */
import * as grpc from '@grpc/grpc-js';
import { loadConfig } from '../src/config/load.js';
import { validateDevice } from '../src/config/inventory.js';
import { loadProto } from '../src/api/proto.js';
import { silentLogger } from '../src/observability/logger.js';
import { createSshSessionFactory } from '../src/ssh/factory.js';
import { Daemon } from '../src/server.js';
import { startSimProcess } from './lib/sim-process.js';
import { summarize, table } from './lib/stats.js';

const N = Number(process.argv[2] ?? 2000);
const CMD = 'show clock';
const batch = { commands: [CMD], privileged: false, configure: false, stopOnError: false, timeoutMs: () => 10_000 };

async function main(): Promise<void> {
  const sim = await startSimProcess();
  const config = loadConfig({ argv: ['--grpc.listen', '127.0.0.1:0', '--metrics.listen', '127.0.0.1:0', '--log.audit.enabled', 'false'], env: {} });
  const spec = validateDevice({
    id: 'r1', host: '127.0.0.1', port: sim.port, platform: 'cisco_ios', username: 'admin', password: 'admin-pass', enableSecret: 'enable-pass',
    hostKey: { fingerprints: [sim.fingerprint] }, pool: { min: 1, max: 1 },
  }, config.defaults, 'api');
  const raw = await createSshSessionFactory(spec, { logger: silentLogger }).open(new AbortController().signal);
  const daemon = new Daemon(config, { logger: silentLogger });
  await daemon.start([spec]);
  const client = new (loadProto().grpcObj.warmpool.v1.DeviceProxy)(daemon.grpcAddress, grpc.credentials.createInsecure());
  const run = () => new Promise<void>((res, rej) => client.Run({ device: 'r1', commands: [CMD] }, (e) => (e ? rej(e) : res())));
  const t = { raw: [] as number[], warm: [] as number[] };
  for (let i = 0; i < N; i++) {
    let t0 = performance.now();
    await raw.runBatch(batch);
    t.raw.push(performance.now() - t0);
    t0 = performance.now();
    await run();
    t.warm.push(performance.now() - t0);
  }
  process.stdout.write(`${table([summarize('raw', t.raw), summarize('warm', t.warm)], 'raw')}\n`);
  client.close();
  await raw.close();
  await daemon.shutdown('bench');
  sim.stop();
}
main().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
