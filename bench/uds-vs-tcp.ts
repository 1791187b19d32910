/**
 * Unary Run latency over a Unix domain socket (grpc.listen: unix:///...) against loopback TCP, for
 * the sidecar case. Two `warmpool serve` child processes, identical but for grpc.listen, share one
 * simulated Cisco IOS device (in a third process). One caller, one call at a time, so the figure is
 * latency, not throughput. Two cases per transport:
 *   cached — Run with cache_ttl_ms served from the daemon's result cache: gRPC framing, the
 *            transport and the daemon's own work only; the transport's share is largest here;
 *   device — a Run that goes to the device over the warm SSH session (what a sidecar's app sees).
 * Sides alternate for ROUNDS rounds so machine noise hits both alike.
 *
 *   node --expose-gc dist/bench/uds-vs-tcp.js [CALLS=2000] [ROUNDS=3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, startDaemonProcess, type DaemonClients, type DaemonProcess } from './lib/daemon-process.js';
import { startSimProcess } from './lib/sim-process.js';
import { summarize, table, writeResult, type Row } from './lib/stats.js';

const CALLS = Number(process.argv[2] ?? 2000);
const ROUNDS = Number(process.argv[3] ?? 3);
const WARMUP = 300;

type Side = 'tcp' | 'uds';
type Case = 'cached' | 'device';

async function measure(c: DaemonClients, kase: Case, n: number): Promise<number[]> {
  const req = kase === 'cached'
    ? { device: 'r1', commands: ['show clock'], cache_ttl_ms: 600_000 }
    : { device: 'r1', commands: ['show clock'] };
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await call<{ results: { failed: boolean }[] }>(c.proxy, 'Run', req, 10_000);
    out.push(performance.now() - t);
    if (r.results[0]?.failed !== false) throw new Error(`${kase} Run failed`);
  }
  return out;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'warmpool-bench-uds-'));
  const sim = await startSimProcess('cisco_ios');
  const device = {
    id: 'r1', host: '127.0.0.1', port: sim.port, platform: 'cisco_ios', username: 'admin', password: 'admin-pass', enableSecret: 'enable-pass',
    hostKey: { fingerprints: [sim.fingerprint] }, pool: { min: 1, max: 1 },
  };
  const daemons: Partial<Record<Side, DaemonProcess>> = {};
  const clients: Partial<Record<Side, DaemonClients>> = {};
  try {
    daemons.tcp = await startDaemonProcess({ devices: [device] });
    daemons.uds = await startDaemonProcess({ devices: [device], grpcListen: `unix://${join(dir, 'grpc.sock')}` });
    clients.tcp = daemons.tcp.clients();
    clients.uds = daemons.uds.clients();
    const samples: Record<string, number[]> = {};
    for (const side of ['tcp', 'uds'] as const) for (const kase of ['cached', 'device'] as const) await measure(clients[side]!, kase, WARMUP);
    for (let r = 0; r < ROUNDS; r++) {
      const order: Side[] = r % 2 === 0 ? ['tcp', 'uds'] : ['uds', 'tcp'];
      for (const kase of ['cached', 'device'] as const) {
        for (const side of order) {
          (globalThis as { gc?: () => void }).gc?.();
          const s = await measure(clients[side]!, kase, CALLS);
          (samples[`${kase} ${side}`] ??= []).push(...s);
          const sorted = [...s].sort((a, b) => a - b);
          process.stdout.write(`round ${r + 1} ${kase} ${side}: p50 ${sorted[Math.floor(sorted.length / 2)]!.toFixed(3)} ms\n`);
        }
      }
    }
    const rows: Row[] = Object.entries(samples).map(([name, s]) => summarize(name, s));
    const get = (name: string): Row => rows.find((x) => x.name === name)!;
    const md = [
      `### Unary Run latency: Unix domain socket vs loopback TCP (${new Date().toISOString().slice(0, 10)}, node ${process.version})`,
      '',
      `One caller, one call at a time, ${ROUNDS} alternating rounds of ${CALLS} calls per case and transport after ${WARMUP} warm-up calls;`,
      'two `warmpool serve` child processes identical but for grpc.listen; one simulated Cisco IOS device in a third process (pool min = max = 1).',
      '`show clock` both ways. `cached`: served from the result cache (gRPC + transport + daemon only); `device`: over the warm SSH session.',
      '',
      table([get('cached tcp'), get('cached uds'), get('device tcp'), get('device uds')]),
      '',
      `UDS saves ${(get('cached tcp').p50 - get('cached uds').p50).toFixed(3)} ms at the median of a cached Run ` +
        `(${((1 - get('cached uds').p50 / get('cached tcp').p50) * 100).toFixed(0)} %) and ${(get('device tcp').p50 - get('device uds').p50).toFixed(3)} ms of a device Run.`,
    ].join('\n');
    process.stdout.write(`${md}\n`);
    writeResult('uds-vs-tcp', md, {
      date: new Date().toISOString(), node: process.version, calls: CALLS, rounds: ROUNDS, warmup: WARMUP,
      rows: Object.fromEntries(rows.map((r) => [r.name, { n: r.n, p50Ms: r.p50, p99Ms: r.p99, meanMs: r.mean }])),
    });
  } finally {
    for (const c of Object.values(clients)) c?.close();
    await Promise.all(Object.values(daemons).map((d) => d?.stop()));
    sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`uds-vs-tcp: ${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
