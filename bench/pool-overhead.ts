/**
 * The pool's own cost, in one run:
 *   1. acquire+release of a warm idle session (µs per operation), against an empty async
 *      round (`await` of a resolved promise) as the floor, with sessions that do no I/O;
 *   2. memory per idle pooled SSH shell session: N real sessions to a simulated IOS device
 *      running in another process, held by one pool (RSS and heap deltas per session).
 *
 *   node --expose-gc dist/bench/pool-overhead.js [N=1000]
 */
import { loadConfig } from '../src/config/load.js';
import { validateDevice } from '../src/config/inventory.js';
import { silentLogger } from '../src/core/logger.js';
import { systemClock, systemRandom } from '../src/core/clock.js';
import { ConnectLimiter, SessionBudget } from '../src/pool/limits.js';
import { DevicePool } from '../src/pool/pool.js';
import type { Session, SessionFactory } from '../src/pool/types.js';
import { createSshSessionFactory } from '../src/drivers/ssh-factory.js';
import { startSimProcess } from './lib/sim-process.js';
import { summarize, writeResult } from './lib/stats.js';

const N = Number(process.argv[2] ?? 1000);
const settings = (max: number) => ({ min: 0, max, idleTimeoutMs: 0, maxLifetimeMs: 0, acquireTimeoutMs: 600_000, maxWaiting: 100_000 });

function pool<S extends Session>(factory: SessionFactory<S>, max: number, maxConnects = 32): DevicePool<S> {
  return new DevicePool<S>({
    device: 'bench', protocol: 'ssh', settings: settings(max), factory, clock: systemClock, random: systemRandom,
    connectLimiter: new ConnectLimiter(maxConnects), sessionBudget: new SessionBudget(max + 1),
    breaker: { failureThreshold: 1_000_000, openMs: 1000, maxOpenMs: 1000 }, healthCheckAfterMs: 0,
    keepaliveIntervalMs: 0, lifetimeJitter: 0, logger: silentLogger,
  });
}

async function acquireRelease(): Promise<{ poolUs: number; floorUs: number }> {
  let n = 0;
  const inert: SessionFactory<Session> = {
    open: async () => ({ id: `s${n++}`, dirty: false, probe: async () => {}, close: async () => {}, onClose: () => {} }),
  };
  const p = pool(inert, 1);
  (await p.acquire({})).release();
  const ITER = 200_000;
  const rounds = { pool: [] as number[], floor: [] as number[] };
  for (let r = 0; r < 7; r++) {
    let t0 = performance.now();
    for (let i = 0; i < ITER; i++) (await p.acquire({})).release();
    rounds.pool.push(((performance.now() - t0) * 1000) / ITER);
    t0 = performance.now();
    for (let i = 0; i < ITER; i++) await Promise.resolve(i);
    rounds.floor.push(((performance.now() - t0) * 1000) / ITER);
  }
  await p.close();
  return { poolUs: summarize('pool', rounds.pool).p50, floorUs: summarize('floor', rounds.floor).p50 };
}

async function memoryPerSession(n: number): Promise<{ rssPerSessionKiB: number; heapPerSessionKiB: number; openSeconds: number }> {
  const sim = await startSimProcess();
  try {
    const config = loadConfig({ argv: [], env: {} });
    const device = validateDevice({
      id: 'bench', host: '127.0.0.1', port: sim.port, platform: 'cisco_ios', username: 'admin', password: 'admin-pass',
      hostKey: { fingerprints: [sim.fingerprint] }, ssh: { appKeepaliveMs: 0 },
    }, config.defaults, 'api');
    const p = pool(createSshSessionFactory(device, { logger: silentLogger }), n, 64);
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const before = process.memoryUsage();
    const t0 = performance.now();
    const leases = await Promise.all(Array.from({ length: n }, () => p.acquire({})));
    const openSeconds = (performance.now() - t0) / 1000;
    for (const l of leases) l.release();
    await new Promise((r) => setTimeout(r, 1000));
    gc?.();
    const after = process.memoryUsage();
    const stats = p.stats();
    if (stats.idle !== n) throw new Error(`expected ${n} idle sessions, have ${stats.idle}`);
    await p.close();
    return { rssPerSessionKiB: (after.rss - before.rss) / 1024 / n, heapPerSessionKiB: (after.heapUsed - before.heapUsed) / 1024 / n, openSeconds };
  } finally {
    sim.stop();
  }
}

async function main(): Promise<void> {
  const ar = await acquireRelease();
  const mem = await memoryPerSession(N);
  const perGiB = Math.floor((1024 * 1024) / mem.rssPerSessionKiB);
  const md = [
    `### Pool overhead (${new Date().toISOString().slice(0, 10)}, node ${process.version})`,
    '',
    '| measure | value |',
    '|---|---:|',
    `| acquire+release of a warm idle session | ${ar.poolUs.toFixed(3)} µs/op |`,
    `| floor: one awaited resolved promise | ${ar.floorUs.toFixed(3)} µs/op |`,
    `| idle SSH shell sessions held | ${N} (opened in ${mem.openSeconds.toFixed(1)} s) |`,
    `| RSS per idle session | ${mem.rssPerSessionKiB.toFixed(1)} KiB |`,
    `| JS heap per idle session | ${mem.heapPerSessionKiB.toFixed(1)} KiB |`,
    `| sessions per GiB (RSS) | ${perGiB} |`,
  ].join('\n');
  process.stdout.write(`${md}\n`);
  writeResult('pool-overhead', md, { date: new Date().toISOString(), node: process.version, sessions: N, ...ar, ...mem, sessionsPerGiB: perGiB });
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
