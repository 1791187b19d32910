/**
 * Soak: a real Daemon (in-process) serving simulated devices of several platforms and pool
 * sizes, each behind a TCP fault proxy, under a bounded mixed gRPC load (Run, RunStream,
 * RunMany, cache hits, configure, short deadlines, cancellations, Admin stats) while chaos on a
 * seeded timer resets links, blackholes devices, reboots them, slows handshakes and refuses
 * connects. One device is hostile (src/sim/hostile.ts): some calls make it flood, print a 6 MB
 * line, binary garbage or its own prompt inside the output, drip a byte at a time, or close the
 * channel or connection mid-output. Afterwards chaos stops, links are restored and pools settle;
 * then it checks:
 *
 *   - every call returned (a per-call watchdog at deadline + slack) with a status from the
 *     expected set (OK, CANCELLED, DEADLINE_EXCEEDED, UNAVAILABLE, RESOURCE_EXHAUSTED);
 *   - sessions never exceeded pool.max (sampled every second) and end with nothing busy,
 *     waiting or connecting; no call is still in flight in the daemon;
 *   - every device serves a Run again once its link is back; at the very end every pool is still
 *     busy 0 / waiting 0 (no slot leaked by a hostile call) and /healthz answers (the daemon is
 *     alive; /healthz is also sampled every 250 ms throughout and its slowest answer reported);
 *   - open fds and active handles return to the post-warm-up baseline (both measured the same
 *     way: load stopped, simulators rebooted, pools drained) within a small tolerance;
 *   - heap flat: mean heapUsed (after gc()) of the last third of the run vs the first third.
 *
 *   npm run soak                      10 minutes (or SOAK_MINUTES)
 *   npm run soak -- --minutes 2       any duration; --seed N replays the chaos and load
 *
 * Results: bench/results/soak.md and soak.json. Exit status 1 when any check fails.
 */
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadConfig } from '../src/config/load.js';
import { validateDevice } from '../src/config/inventory.js';
import type { DeviceSpec } from '../src/config/types.js';
import { loadProto } from '../src/api/proto.js';
import { silentLogger } from '../src/core/logger.js';
import { Daemon } from '../src/server.js';
import type { DeviceProxyClient } from '../src/gen/warmpool/v1/DeviceProxy.js';
import type { AdminClient } from '../src/gen/warmpool/v1/Admin.js';
import { CALLERS, CHAOS_MEAN_INTERVAL_MS, MEMORY_SAMPLE_MS, MINUTES, SEED, TOTAL_MS, WARMUP_MS, WATCHDOG_SLACK_MS } from './lib/soak-options.js';
import { seededRandom } from '../test/kit/fake-clock.js';
import { Chaos, type ChaosTarget } from './lib/soak-chaos.js';
import { FLEET, reboot as rebootDevice, startFleet, type SoakDevice } from './lib/soak-fleet.js';
import { CallLedger, statusName } from './lib/soak-ledger.js';
import { createSoakLoad } from './lib/soak-load.js';
import { activeHandles, activeTimers, httpGet, mb, openFds, sampleHealthz, sleep, unary, waitUntil as waitFor } from './lib/soak-probes.js';
import { reportSoak, type MemorySample } from './lib/soak-report.js';

// Memory is judged after gc(); that needs --expose-gc, so re-run ourselves with it.
if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const gc = globalThis.gc as () => void;

/** Harness failures: a simulator that did not come back, a wait that timed out. */
const failures: string[] = [];
const reboot = (d: SoakDevice, downMs: number) => rebootDevice(d, downMs, failures);
const waitUntil = (what: string, ms: number, cond: () => boolean | Promise<boolean>) => waitFor(failures, what, ms, cond);

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  // The tests' seeded PRNG (mulberry32): chaos and load replay from a seed.
  const rnd = seededRandom(SEED);
  process.stdout.write(`soak: ${MINUTES} min (warm-up ${WARMUP_MS / 1000} s), seed ${SEED}, ${CALLERS} callers, ${FLEET.length} devices\n`);

  const config = loadConfig({
    argv: [
      '--grpc.listen', '127.0.0.1:0', '--metrics.listen', '127.0.0.1:0', '--log.level', 'silent', '--log.audit.enabled', 'false',
      // Small keepalive (1 s × 3) so a blackholed link is noticed in seconds, not minutes.
      '--defaults.ssh.keepaliveIntervalMs', '1000', '--defaults.ssh.keepaliveCountMax', '3',
      '--defaults.ssh.connectTimeoutMs', '4000', '--defaults.ssh.commandTimeoutMs', '6000',
      '--defaults.pool.acquireTimeoutMs', '4000',
      '--breaker.openMs', '1000', '--breaker.maxOpenMs', '4000',
      '--shutdown.graceMs', '2000',
    ],
    env: {},
  });

  const devices = await startFleet();
  const specs: DeviceSpec[] = devices.map((d) =>
    validateDevice({
      id: d.id, host: d.proxy.host, port: d.proxy.port, platform: d.platform, username: d.sim.username, password: d.sim.password,
      enableSecret: d.sim.enableSecret, hostKey: { fingerprints: [d.sim.hostKeyFingerprint] }, labels: { soak: 'on', platform: d.platform },
      pool: { min: 0, max: d.max, maxWaiting: d.maxWaiting },
    }, config.defaults, 'api'),
  );
  const daemon = new Daemon(config, { logger: silentLogger });
  await daemon.start(specs);
  const v1 = loadProto().grpcObj.warmpool.v1;
  const proxyClient: DeviceProxyClient = new v1.DeviceProxy(daemon.grpcAddress, grpc.credentials.createInsecure());
  const admin: AdminClient = new v1.Admin(daemon.grpcAddress, grpc.credentials.createInsecure(), { channelOverride: proxyClient.getChannel() });
  const run = proxyClient.Run.bind(proxyClient) as never;
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const healthz = sampleHealthz(httpAgent, daemon.metricsAddress, 250);

  const ledger = new CallLedger(WATCHDOG_SLACK_MS);
  const maxSeen = new Map<string, number>();
  const poolViolations: string[] = [];

  // Sessions per device never above pool.max, sampled every second for the whole run.
  const poolSampler = setInterval(() => {
    for (const s of daemon.stats()) {
      if (s.protocol !== 'ssh') continue;
      const open = s.idle + s.busy + s.connecting;
      maxSeen.set(s.device, Math.max(maxSeen.get(s.device) ?? 0, open));
      if (open > s.max && poolViolations.length < 20) poolViolations.push(`${s.device}: ${open} sessions > max ${s.max}`);
    }
  }, 1000);

  const load = createSoakLoad({ devices, rnd, ledger, proxyClient, admin, callers: CALLERS });
  const startLoad = () => load.start();
  const stopLoad = () => load.stop();

  const allSettled = async () => (await unary<{ pools: Array<{ busy: number; waiting: number; connecting: number }> }>(admin.GetPoolStats.bind(admin) as never, {}, 5000))
    .pools.every((p) => p.busy === 0 && p.waiting === 0 && p.connecting === 0);

  /**
   * The same quiet state at baseline and at the end: no load, every simulator rebooted (a
   * blackholed link leaves the device's side of its socket open, as a real device's vty
   * would be; a reboot drops those, so harness sockets do not count against the daemon),
   * pools drained, every link closed. Then gc() and measure.
   */
  const quiesceAndMeasure = async (label: string) => {
    await stopLoad();
    await waitUntil(`${label}: no busy, waiting or connecting sessions`, 30_000, allSettled);
    await Promise.all(devices.map((d) => reboot(d, 100)));
    for (const d of devices) await unary(admin.DrainDevice.bind(admin) as never, { device: d.id }, 5000);
    await waitUntil(`${label}: pools empty and every proxied link closed`, 30_000, () =>
      daemon.stats().every((s) => s.idle + s.busy + s.connecting === 0) && devices.every((d) => d.proxy.connections() === 0 && d.sim.stats.connections === 0));
    await sleep(1500); // let closed sockets' handles go and timers of closed sessions fire or clear
    gc();
    await sleep(100);
    gc();
    return { fds: openFds(), handles: activeHandles(), timers: activeTimers(), heapUsed: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss };
  };

  // ---------------------------------------------------------------- warm-up, baseline

  const t0 = Date.now();
  startLoad();
  await sleep(WARMUP_MS);
  const baseline = await quiesceAndMeasure('baseline');
  process.stdout.write(`baseline after warm-up: ${baseline.fds} fds, ${baseline.handles} handles, heap ${mb(baseline.heapUsed)} MB, rss ${mb(baseline.rss)} MB\n`);

  // ---------------------------------------------------------------- chaos phase

  const memory: MemorySample[] = [];
  const chaosTargets: ChaosTarget[] = devices.map((d) => ({ id: d.id, proxy: d.proxy, reboot: (ms) => reboot(d, ms) }));
  const chaos = new Chaos(chaosTargets, rnd, CHAOS_MEAN_INTERVAL_MS);
  const mainStart = Date.now();
  const mainEnd = t0 + TOTAL_MS;
  startLoad();
  chaos.start();
  load.takeMemSample = () => {
    load.memSampleDue = false;
    gc();
    const m = process.memoryUsage();
    memory.push({ t: Math.round((Date.now() - mainStart) / 1000), heapUsed: m.heapUsed, rss: m.rss, fds: openFds(), inFlight: ledger.inFlight });
  };
  const memSampler = setInterval(() => {
    if (load.hostileInFlight === 0) load.takeMemSample();
    else load.memSampleDue = true;
  }, MEMORY_SAMPLE_MS);
  const progress = setInterval(() => {
    const left = Math.max(0, Math.round((mainEnd - Date.now()) / 1000));
    process.stdout.write(`  ${left}s left: ${ledger.completed}/${ledger.started} calls done, ${ledger.hung.length} hung, ${ledger.unexpectedTotal()} unexpected, chaos ${[...chaos.events.values()].reduce((a, b) => a + b, 0)}\n`);
  }, 30_000);
  await sleep(Math.max(0, mainEnd - Date.now()));

  // ---------------------------------------------------------------- end: restore, settle, check

  clearInterval(progress);
  clearInterval(memSampler);
  load.memSampleDue = false;
  await chaos.stop();
  await stopLoad();
  process.stdout.write(`chaos stopped and links restored; settling\n`);
  await waitUntil('pools to settle after chaos (nothing busy, waiting or connecting)', 30_000, allSettled);
  const settled = await unary<{ pools: Array<Record<string, unknown>> }>(admin.GetPoolStats.bind(admin) as never, {}, 5000);

  // Every device serves again once its link is back (its breaker may need a moment to close).
  const recovered: Record<string, string> = {};
  for (const d of devices) {
    let last = '';
    const ok = await waitUntil(`${d.id} to serve a Run after chaos`, 20_000, async () => {
      try {
        await unary(run, { device: d.id, commands: [load.cmdFor(d.platform)] }, 8000);
        return true;
      } catch (e) {
        last = `${statusName((e as grpc.ServiceError).code)} ${(e as grpc.ServiceError).details}`;
        return false;
      }
    });
    recovered[d.id] = ok ? 'ok' : `FAILED: ${last}`;
  }
  const inFlightInDaemon = daemon.tracker.active;
  // No slot leaked, after everything (hostile calls included) has run: a last look, not a wait.
  const finalPools = (await unary<{ pools: Array<{ device: string; protocol: string; busy: number; waiting: number }> }>(admin.GetPoolStats.bind(admin) as never, {}, 5000)).pools;
  // The sampler runs through both resource measurements, so its socket counts the same in both.
  const end = await quiesceAndMeasure('end');
  const health = await healthz.stop();
  const aliveAtEnd = await httpGet(httpAgent, daemon.metricsAddress, '/healthz');
  clearInterval(poolSampler);

  const pass = reportSoak({
    devices, ledger, load, chaos, failures, poolViolations, maxSeen, settled, inFlightInDaemon, finalPools, recovered,
    health, aliveAtEnd, baseline, end, memory,
  });

  proxyClient.close();
  httpAgent.destroy();
  await daemon.shutdown('soak done');
  for (const d of devices) {
    await d.proxy.close();
    await d.sim.close();
  }
  process.exit(pass ? 0 : 1);
}

main().catch((err: unknown) => {
  process.stderr.write(`soak: ${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
