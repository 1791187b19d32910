/**
 * Command round trip, in one run, against a simulated Cisco IOS device in another process:
 *   raw held shell   — an ssh2 shell session held by the benchmark itself (the physical limit)
 *   raw, no marker   — the same with prompt-only end detection: the cost of the end-of-output
 *                      marker (an empty line typed ahead after show commands)
 *   warm Run         — through the daemon's gRPC API on a pooled session
 *   cold per command — connect, log in, paging off, command, close (what callers pay without a pool)
 *   gRPC floor       — an empty unary call (grpc.health.v1 Check) on the same daemon and channel: the
 *                      cost of the transport alone, so the daemon's own share can be told apart from it
 * on loopback and through a proxy adding 5 ms each way. Cases are interleaved so machine noise
 * hits them alike.
 *
 *   npm run bench            (all benchmarks)    node dist/bench/ssh-warm-vs-cold.js [N]
 */
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { startLatencyProxy } from '../test/kit/latency-proxy.js';
import { startSimProcess } from './lib/sim-process.js';
import { batchOf, startWarmDaemon } from './lib/warm-daemon.js';
import { summarize, table, writeResult, type Row } from './lib/stats.js';

const N = Number(process.argv[2] ?? 400);
const COLD_EVERY = 10;
const CMD = 'show clock';

const batch = batchOf(CMD);

async function measure(label: string, port: number, fingerprint: string, n: number): Promise<Row[]> {
  const w = await startWarmDaemon(port, fingerprint);
  const { raw, rawNoMarker, factory } = w;
  const run = () => w.run(CMD);
  const Health = grpc.makeGenericClientConstructor(healthService as grpc.ServiceDefinition, 'Health');
  const health = new Health(w.daemon.grpcAddress, grpc.credentials.createInsecure(), { channelOverride: w.client.getChannel() }) as unknown as {
    check(req: object, cb: (e: Error | null) => void): void;
  };
  const ping = () => new Promise<void>((res, rej) => health.check({ service: '' }, (e) => (e ? rej(e) : res())));
  for (let i = 0; i < 20; i++) {
    await raw.runBatch(batch);
    await rawNoMarker.runBatch(batch);
    await run();
    await ping();
  }
  const t = { raw: [] as number[], warm: [] as number[], cold: [] as number[], floor: [] as number[], noMarker: [] as number[] };
  for (let i = 0; i < n; i++) {
    let t0 = performance.now();
    await raw.runBatch(batch);
    t.raw.push(performance.now() - t0);
    t0 = performance.now();
    await rawNoMarker.runBatch(batch);
    t.noMarker.push(performance.now() - t0);
    t0 = performance.now();
    await run();
    t.warm.push(performance.now() - t0);
    t0 = performance.now();
    await ping();
    t.floor.push(performance.now() - t0);
    if (i % COLD_EVERY === 0) {
      t0 = performance.now();
      const s = await factory.open(new AbortController().signal);
      await s.runBatch(batch);
      await s.close();
      t.cold.push(performance.now() - t0);
    }
  }
  await w.close();
  return [
    summarize(`${label}: raw held ssh2 shell`, t.raw), summarize(`${label}: warm Run via daemon`, t.warm),
    summarize(`${label}: cold connect per command`, t.cold), summarize(`${label}: gRPC floor (empty unary call)`, t.floor),
    summarize(`${label}: raw held shell, no end marker`, t.noMarker),
  ];
}

async function main(): Promise<void> {
  const sim = await startSimProcess();
  try {
    const loop = await measure('loopback', sim.port, sim.fingerprint, N);
    const proxy = await startLatencyProxy({ host: '127.0.0.1', port: sim.port }, 5);
    const wan = await measure('+5 ms each way', proxy.port, sim.fingerprint, Math.max(50, Math.round(N / 4)));
    await proxy.close();
    const overhead = loop[1]!.p50 - loop[0]!.p50;
    const own = overhead - loop[3]!.p50;
    const md = [
      `### SSH command round trip: raw held shell vs warm Run vs cold connect (${new Date().toISOString().slice(0, 10)}, node ${process.version})`,
      '',
      table(loop, loop[0]!.name),
      '',
      table(wan, wan[0]!.name),
      '',
      `Daemon overhead at p50 on loopback (warm Run − raw held shell): ${overhead.toFixed(3)} ms, of which the gRPC`,
      `transport floor (an empty unary call, client and daemon in one process) is ${loop[3]!.p50.toFixed(3)} ms and the daemon's own work`,
      `(validation, policy, pool lease, metrics, message conversion) ${own.toFixed(3)} ms.`,
      `End-of-output marker (raw held shell with − without) at p50: loopback ${(loop[0]!.p50 - loop[4]!.p50).toFixed(3)} ms, ` +
        `+5 ms each way ${(wan[0]!.p50 - wan[4]!.p50).toFixed(3)} ms.`,
      `Cold / warm at p50: loopback ${(loop[2]!.p50 / loop[1]!.p50).toFixed(1)}×, +5 ms each way ${(wan[2]!.p50 / wan[1]!.p50).toFixed(1)}×.`,
    ].join('\n');
    process.stdout.write(`${md}\n`);
    writeResult('ssh-warm-vs-cold', md, { date: new Date().toISOString(), node: process.version, loopback: loop, wan, overheadMs: overhead, grpcFloorMs: loop[3]!.p50, ownOverheadMs: own, markerCostMs: { loopback: loop[0]!.p50 - loop[4]!.p50, wan: wan[0]!.p50 - wan[4]!.p50 } });
  } finally {
    sim.stop();
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
