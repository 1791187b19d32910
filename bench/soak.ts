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
import { readdirSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { status as Status } from '@grpc/grpc-js';
import { loadConfig } from '../src/config/load.js';
import { validateDevice } from '../src/config/inventory.js';
import type { DeviceSpec, Platform } from '../src/config/types.js';
import { loadProto } from '../src/api/proto.js';
import { silentLogger } from '../src/core/logger.js';
import { Daemon } from '../src/server.js';
import { generateHostKey, startSimDevice, type SimDevice } from '../src/sim/ssh-device.js';
import type { DeviceProxyClient } from '../src/gen/warmpool/v1/DeviceProxy.js';
import type { AdminClient } from '../src/gen/warmpool/v1/Admin.js';
import { startFaultProxy, type FaultProxy } from '../test/kit/fault-proxy.js';
import { Chaos, HOSTILE_CALLS, seededRandom, type ChaosTarget } from './lib/soak-chaos.js';
import { CallLedger, statusName } from './lib/soak-ledger.js';
import { table, writeResult } from './lib/stats.js';

// ------------------------------------------------------------------ options

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}

const MINUTES = Number(arg('minutes') ?? process.env.SOAK_MINUTES ?? 10);
const SEED = Number(arg('seed') ?? process.env.SOAK_SEED ?? 20261123);
if (!(MINUTES > 0) || !Number.isFinite(SEED)) {
  process.stderr.write('usage: soak [--minutes N] [--seed N]   (or SOAK_MINUTES)\n');
  process.exit(2);
}
const TOTAL_MS = MINUTES * 60_000;
/** Load without chaos first, so pools, JIT and caches reach their working size before the baseline. */
const WARMUP_MS = Math.min(60_000, Math.max(10_000, TOTAL_MS * 0.1));
const CALLERS = 8;
const WATCHDOG_SLACK_MS = 5_000;
/** Every 10 s; more often on short runs so there are always enough samples to compare thirds. */
const MEMORY_SAMPLE_MS = Math.min(10_000, Math.max(1000, (TOTAL_MS - WARMUP_MS) / 6));
const CHAOS_MEAN_INTERVAL_MS = 6_000;
/** Tolerances for "back to baseline": stated here and printed with the result. */
const FD_TOLERANCE = 8;
const HANDLE_TOLERANCE = 10;
const HEAP_GROWTH_MAX_BYTES = 10 * 1024 * 1024;
const HEAP_GROWTH_MAX_RATIO = 0.2;

// Memory is judged after gc(); that needs --expose-gc, so re-run ourselves with it.
if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const gc = globalThis.gc as () => void;

// ------------------------------------------------------------------ devices

interface SoakDevice {
  id: string;
  platform: Platform;
  max: number;
  maxWaiting: number;
  hostile?: boolean;
  hostKey: string;
  sim: SimDevice;
  proxy: FaultProxy;
  reboots: number;
}

const FLEET: Array<{ id: string; platform: Platform; max: number; maxWaiting: number; hostile?: boolean }> = [
  { id: 'ios-1', platform: 'cisco_ios', max: 2, maxWaiting: 16 },
  { id: 'ios-2', platform: 'cisco_ios', max: 4, maxWaiting: 32 },
  { id: 'junos-1', platform: 'juniper_junos', max: 2, maxWaiting: 16 },
  { id: 'eos-1', platform: 'arista_eos', max: 3, maxWaiting: 16 },
  { id: 'linux-1', platform: 'linux', max: 4, maxWaiting: 32 },
  // One session and a short queue: RESOURCE_EXHAUSTED and queue time are part of the mix.
  { id: 'linux-2', platform: 'linux', max: 1, maxWaiting: 3 },
  // Answers `hostile ...` commands (floods, giant lines, garbage, fake prompts, drips, closes).
  { id: 'hostile-1', platform: 'cisco_ios', max: 2, maxWaiting: 8, hostile: true },
];

const simOptions = (d: { platform: Platform; hostKey: string; hostile?: boolean }, port?: number) => ({
  platform: d.platform, hostKey: d.hostKey, perCommandLatencyMs: 2, runConfigLines: 200, ...(port ? { port } : {}), ...(d.hostile ? { hostile: true } : {}),
});

async function startSimOnPort(d: SoakDevice, port: number): Promise<SimDevice> {
  // The old listener has just closed; retry briefly in case the port is not free yet.
  for (let i = 0; ; i++) {
    try {
      return await startSimDevice(simOptions(d, port));
    } catch (err) {
      if (i >= 20) throw err;
      await sleep(100);
    }
  }
}

async function reboot(d: SoakDevice, downMs: number): Promise<void> {
  const port = d.sim.port;
  await d.sim.close();
  await sleep(downMs);
  try {
    d.sim = await startSimOnPort(d, port);
    d.reboots++;
  } catch (err) {
    failures.push(`${d.id}: simulator did not come back on port ${port}: ${String(err)}`);
  }
}

// ------------------------------------------------------------------ helpers

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const failures: string[] = [];
const openFds = () => readdirSync('/proc/self/fd').length;
const activeHandles = () => process.getActiveResourcesInfo().filter((r) => r !== 'Timeout' && r !== 'Immediate').length;
const activeTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const mb = (b: number) => (b / 1024 / 1024).toFixed(1);

function unary<Res>(fn: (req: unknown, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Res) => void) => unknown, req: unknown, deadlineMs: number): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (e, r) => (e ? reject(e) : resolve(r as Res))));
}

async function waitUntil(what: string, ms: number, cond: () => boolean | Promise<boolean>): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await Promise.resolve().then(cond).catch(() => false)) return true;
    await sleep(200);
  }
  failures.push(`timed out after ${ms} ms waiting for ${what}`);
  return false;
}

/** GET on the daemon's metrics listener: status code (0 when it failed) and latency. */
function httpGet(agent: http.Agent, address: string, path: string, timeoutMs = 5000): Promise<{ code: number; ms: number }> {
  const colon = address.lastIndexOf(':');
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.get({ host: address.slice(0, colon), port: Number(address.slice(colon + 1)), path, agent, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve({ code: res.statusCode ?? 0, ms: performance.now() - t0 }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ code: 0, ms: performance.now() - t0 }));
  });
}

/**
 * /healthz every `everyMs` for the whole run. The daemon shares this process's event loop, so
 * each sample is timed from when it was due: a stall that delays the sampler's own timer counts.
 */
function sampleHealthz(agent: http.Agent, address: string, everyMs: number) {
  const lat: number[] = [];
  let failures = 0;
  let stopped = false;
  const loop = (async () => {
    let due = performance.now();
    while (!stopped) {
      const r = await httpGet(agent, address, '/healthz');
      const done = performance.now();
      if (r.code !== 200) failures++;
      lat.push(done - due);
      due = Math.max(done, due + everyMs);
      await sleep(due - done);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      const sorted = [...lat].sort((a, b) => a - b);
      return { samples: lat.length, failures, maxMs: sorted.at(-1) ?? 0, p99Ms: sorted[Math.floor(sorted.length * 0.99)] ?? 0 };
    },
  };
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
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

  const devices: SoakDevice[] = [];
  for (const f of FLEET) {
    const hostKey = generateHostKey();
    const sim = await startSimDevice(simOptions({ platform: f.platform, hostKey, hostile: f.hostile === true }));
    const proxy = await startFaultProxy({ host: sim.host, port: sim.port });
    devices.push({ ...f, hostKey, sim, proxy, reboots: 0 });
  }
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

  // ---------------------------------------------------------------- the load

  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const cmdFor = (p: Platform) => (p === 'linux' ? pick(['uname -a', 'echo soak', 'uptime', 'hostname']) : p === 'juniper_junos' ? pick(['show version', 'show system uptime']) : pick(['show clock', 'show version', 'show ip interface brief']));
  const bigFor = (p: Platform) => (p === 'linux' ? 'seq 400' : 'show lines 400');
  const shellDevices = devices.filter((d) => d.platform !== 'linux');
  const hostileDevice = devices.find((d) => d.hostile) as SoakDevice;
  /** label → status name → count, for the hostile calls' own table (expected status beside it). */
  const hostileSeen = new Map<string, Map<string, number>>();
  /** OK answers to hostile calls whose output was wrong (cut at a fake prompt, garbage left in). */
  const hostileWrong: string[] = [];
  let hostileWrongTotal = 0;
  /**
   * A hostile call legitimately holds up to the output cap while it runs, so memory is sampled
   * with none in flight: a due sample holds new hostile calls back until the running ones end.
   */
  let hostileInFlight = 0;
  let memSampleDue = false;
  let takeMemSample = () => undefined as void;

  type Op = { weight: number; go: () => Promise<void> };
  const runOp = (rpc: string, req: Record<string, unknown>, deadlineMs: number, what: string) =>
    ledger.track(rpc, what, deadlineMs, (done) => {
      (run as (r: unknown, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null) => void) => void)(
        req, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (e) => done(e ? e.code : Status.OK, e?.details ?? ''));
    });
  const streamOp = (rpc: string, open: (o: grpc.CallOptions) => grpc.ClientReadableStream<unknown>, deadlineMs: number, what: string, cancelAfterMs?: number, onData?: (m: unknown) => void) =>
    ledger.track(rpc, what, deadlineMs, (done) => {
      const call = open({ deadline: Date.now() + deadlineMs });
      call.on('data', (m) => onData?.(m));
      call.on('error', () => undefined); // the status event below carries the outcome
      call.on('status', (s: grpc.StatusObject) => done(s.code, s.details));
      if (cancelAfterMs !== undefined) setTimeout(() => call.cancel(), cancelAfterMs);
    });

  const ops: Op[] = [
    { weight: 30, go: () => { const d = pick(devices); return runOp('Run', { device: d.id, commands: [cmdFor(d.platform)] }, 8000, d.id); } },
    { weight: 10, go: () => { const d = pick(devices); return runOp('Run(cache)', { device: d.id, commands: [d.platform === 'linux' ? 'uname -a' : 'show version'], cache_ttl_ms: 3000 }, 8000, d.id); } },
    { weight: 14, go: () => { const d = pick(devices); return streamOp('RunStream', (o) => proxyClient.RunStream({ device: d.id, commands: [bigFor(d.platform), cmdFor(d.platform)] }, o), 10_000, d.id); } },
    {
      weight: 7,
      // Every device by label; 'show version' is "command not found" on Linux: still an OK result.
      go: () => streamOp('RunMany', (o) => proxyClient.RunMany({ template: { commands: ['show version'] }, labels: { soak: 'on' }, concurrency: 3 }, o), 12_000, 'soak=on', undefined, (m) => {
        const e = (m as { error?: { code: number; message: string } | null }).error;
        if (e) ledger.count('RunMany/device', e.code, e.message, (m as { device: string }).device);
      }),
    },
    {
      weight: 5,
      go: () => {
        const d = pick(shellDevices);
        const commands = d.platform === 'juniper_junos' ? ['set interfaces lo0 description soak'] : ['interface Loopback0', `description soak ${Math.floor(rnd() * 1000)}`];
        return runOp('Run(configure)', { device: d.id, commands, configure: true }, 10_000, d.id);
      },
    },
    // The call's deadline passes while the command runs: DEADLINE_EXCEEDED, and the session is replaced.
    { weight: 10, go: () => { const d = pick(devices); return runOp('Run(short deadline)', { device: d.id, commands: ['sleep 2'] }, 200 + Math.floor(rnd() * 600), d.id); } },
    { weight: 7, go: () => { const d = pick(devices); return streamOp('RunStream(cancel)', (o) => proxyClient.RunStream({ device: d.id, commands: ['sleep 1', cmdFor(d.platform)] }, o), 10_000, d.id, 20 + Math.floor(rnd() * 400)); } },
    // Holds sessions for a while, so callers queue behind it.
    { weight: 8, go: () => { const d = pick(devices); return runOp('Run(slow)', { device: d.id, commands: ['sleep 0.3', cmdFor(d.platform)] }, 8000, d.id); } },
    {
      // Hostile outputs: each must end with a specific status (chaos may make any of them UNAVAILABLE).
      weight: 8,
      go: async () => {
        if (memSampleDue) return sleep(50);
        const h = pick(HOSTILE_CALLS);
        const req = { device: hostileDevice.id, commands: h.commands, command_timeout_ms: h.commandTimeoutMs };
        const seen = (code: number) => {
          const m = hostileSeen.get(h.label) ?? new Map<string, number>();
          m.set(statusName(code), (m.get(statusName(code)) ?? 0) + 1);
          hostileSeen.set(h.label, m);
        };
        hostileInFlight++;
        try {
          if (h.rpc === 'Run') {
            return await ledger.track(h.label, hostileDevice.id, h.deadlineMs, (done) => {
              (run as (r: unknown, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: { results: Array<{ output: string }> }) => void) => void)(
                req, new grpc.Metadata(), { deadline: Date.now() + h.deadlineMs }, (e, r) => {
                  seen(e ? e.code : Status.OK);
                  const wrong = !e && h.verify ? h.verify((r?.results ?? []).map((x) => x.output)) : undefined;
                  if (wrong) {
                    hostileWrongTotal++;
                    if (hostileWrong.length < 20) hostileWrong.push(`${h.label}: ${wrong}`);
                  }
                  done(e ? e.code : Status.OK, e?.details ?? '');
                });
            });
          }
          return await streamOp(h.label, (o) => {
            const call = proxyClient.RunStream(req, o);
            call.on('status', (st: grpc.StatusObject) => seen(st.code));
            return call;
          }, h.deadlineMs, hostileDevice.id);
        } finally {
          hostileInFlight--;
          if (memSampleDue && hostileInFlight === 0) takeMemSample();
        }
      },
    },
    {
      weight: 4,
      go: () => ledger.track('GetPoolStats', '', 5000, (done) => {
        admin.GetPoolStats({}, { deadline: Date.now() + 5000 }, (e) => done(e ? e.code : Status.OK, e?.details ?? ''));
      }),
    },
  ];
  const totalWeight = ops.reduce((n, o) => n + o.weight, 0);
  const pickOp = (): Op => {
    let x = rnd() * totalWeight;
    for (const o of ops) if ((x -= o.weight) < 0) return o;
    return ops[0] as Op;
  };

  let loadOn = false;
  let callers: Promise<void>[] = [];
  const startLoad = () => {
    loadOn = true;
    callers = Array.from({ length: CALLERS }, async () => {
      while (loadOn) await pickOp().go();
    });
  };
  const stopLoad = async () => {
    loadOn = false;
    await Promise.all(callers);
  };

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

  const memory: Array<{ t: number; heapUsed: number; rss: number; fds: number; inFlight: number }> = [];
  const chaosTargets: ChaosTarget[] = devices.map((d) => ({ id: d.id, proxy: d.proxy, reboot: (ms) => reboot(d, ms) }));
  const chaos = new Chaos(chaosTargets, rnd, CHAOS_MEAN_INTERVAL_MS);
  const mainStart = Date.now();
  const mainEnd = t0 + TOTAL_MS;
  startLoad();
  chaos.start();
  takeMemSample = () => {
    memSampleDue = false;
    gc();
    const m = process.memoryUsage();
    memory.push({ t: Math.round((Date.now() - mainStart) / 1000), heapUsed: m.heapUsed, rss: m.rss, fds: openFds(), inFlight: ledger.inFlight });
  };
  const memSampler = setInterval(() => {
    if (hostileInFlight === 0) takeMemSample();
    else memSampleDue = true;
  }, MEMORY_SAMPLE_MS);
  const progress = setInterval(() => {
    const left = Math.max(0, Math.round((mainEnd - Date.now()) / 1000));
    process.stdout.write(`  ${left}s left: ${ledger.completed}/${ledger.started} calls done, ${ledger.hung.length} hung, ${ledger.unexpectedTotal()} unexpected, chaos ${[...chaos.events.values()].reduce((a, b) => a + b, 0)}\n`);
  }, 30_000);
  await sleep(Math.max(0, mainEnd - Date.now()));

  // ---------------------------------------------------------------- end: restore, settle, check

  clearInterval(progress);
  clearInterval(memSampler);
  memSampleDue = false;
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
        await unary(run, { device: d.id, commands: [cmdFor(d.platform)] }, 8000);
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
  const leaked = finalPools.filter((p) => Number(p.busy) !== 0 || Number(p.waiting) !== 0);
  // The sampler runs through both resource measurements, so its socket counts the same in both.
  const end = await quiesceAndMeasure('end');
  const health = await healthz.stop();
  const aliveAtEnd = await httpGet(httpAgent, daemon.metricsAddress, '/healthz');
  clearInterval(poolSampler);

  // Memory flat: first third vs last third of the samples taken during the chaos phase.
  const third = Math.max(1, Math.floor(memory.length / 3));
  const firstHeap = mean(memory.slice(0, third).map((m) => m.heapUsed));
  const lastHeap = mean(memory.slice(-third).map((m) => m.heapUsed));
  const firstRss = mean(memory.slice(0, third).map((m) => m.rss));
  const lastRss = mean(memory.slice(-third).map((m) => m.rss));
  const heapGrowth = lastHeap - firstHeap;
  const heapFlat = memory.length >= 3 && (heapGrowth < HEAP_GROWTH_MAX_BYTES || heapGrowth / firstHeap < HEAP_GROWTH_MAX_RATIO);

  const checks: Array<{ name: string; ok: boolean; detail: string }> = [
    { name: 'every call returned before its watchdog (deadline + 5 s)', ok: ledger.hung.length === 0 && ledger.completed === ledger.started, detail: `${ledger.completed}/${ledger.started} returned, ${ledger.hung.length} hung` },
    { name: 'only expected statuses (OK, CANCELLED, DEADLINE_EXCEEDED, UNAVAILABLE, RESOURCE_EXHAUSTED)', ok: ledger.unexpectedTotal() === 0, detail: `${ledger.unexpectedTotal()} unexpected` },
    { name: 'sessions never above pool.max (sampled every 1 s)', ok: poolViolations.length === 0, detail: devices.map((d) => `${d.id} ${maxSeen.get(d.id) ?? 0}/${d.max}`).join(', ') },
    { name: 'after settling: nothing busy, waiting or connecting', ok: settled.pools.every((p) => Number(p.busy) === 0 && Number(p.waiting) === 0 && Number(p.connecting) === 0), detail: settled.pools.map((p) => `${String(p.device)}/${String(p.protocol)} idle ${String(p.idle)} busy ${String(p.busy)} waiting ${String(p.waiting)} connecting ${String(p.connecting)} circuit ${String(p.circuit)}`).join('; ') },
    { name: 'no call still in flight inside the daemon', ok: inFlightInDaemon === 0, detail: `${inFlightInDaemon} active` },
    { name: 'no leaked slot: at the very end every pool has busy 0 and waiting 0', ok: leaked.length === 0, detail: leaked.length ? leaked.map((p) => `${p.device}/${p.protocol} busy ${p.busy} waiting ${p.waiting}`).join('; ') : `${finalPools.length} pools clean` },
    { name: 'daemon alive: /healthz answered 200 throughout (every 250 ms) and at the end', ok: health.failures === 0 && aliveAtEnd.code === 200, detail: `${health.samples} samples, ${health.failures} failed, slowest ${health.maxMs.toFixed(0)} ms, p99 ${health.p99Ms.toFixed(0)} ms; at the end ${aliveAtEnd.code}` },
    { name: 'hostile calls answered OK carried their whole, clean output (fake prompts did not cut it)', ok: hostileWrongTotal === 0, detail: hostileWrongTotal ? `${hostileWrongTotal} wrong; ${hostileWrong.slice(0, 3).join('; ')}` : 'all right' },
    { name: 'the hostile device was exercised', ok: [...hostileSeen.values()].reduce((n, m) => n + [...m.values()].reduce((a, b) => a + b, 0), 0) > 0, detail: `${HOSTILE_CALLS.length} kinds of hostile call` },
    { name: 'every device serves a Run again after chaos', ok: Object.values(recovered).every((r) => r === 'ok'), detail: Object.entries(recovered).map(([k, v]) => `${k} ${v}`).join(', ') },
    { name: `open fds back to baseline (±${FD_TOLERANCE})`, ok: Math.abs(end.fds - baseline.fds) <= FD_TOLERANCE, detail: `${baseline.fds} → ${end.fds}` },
    { name: `active handles back to baseline (±${HANDLE_TOLERANCE}, timers not counted)`, ok: Math.abs(end.handles - baseline.handles) <= HANDLE_TOLERANCE, detail: `${baseline.handles} → ${end.handles} (timers ${baseline.timers} → ${end.timers})` },
    { name: `heap flat: last-third mean − first-third mean < ${mb(HEAP_GROWTH_MAX_BYTES)} MB or < ${HEAP_GROWTH_MAX_RATIO * 100} %`, ok: heapFlat, detail: `${mb(firstHeap)} → ${mb(lastHeap)} MB (${heapGrowth >= 0 ? '+' : ''}${mb(heapGrowth)} MB, ${((heapGrowth / firstHeap) * 100).toFixed(1)} %) over ${memory.length} samples` },
    { name: 'harness: simulators and proxies behaved', ok: failures.length === 0, detail: failures.length ? failures.join('; ') : 'ok' },
  ];
  const pass = checks.every((c) => c.ok);

  // ---------------------------------------------------------------- report

  const statusCols = ['OK', 'CANCELLED', 'DEADLINE_EXCEEDED', 'UNAVAILABLE', 'RESOURCE_EXHAUSTED'];
  const rpcs = [...ledger.counts.keys()].sort();
  const statusTable = [
    `| RPC | ${statusCols.join(' | ')} | other |`,
    `|---|${statusCols.map(() => '---:').join('|')}|---|`,
    ...rpcs.map((rpc) => {
      const c = ledger.counts.get(rpc) as Map<string, number>;
      const other = [...c].filter(([k]) => !statusCols.includes(k)).map(([k, v]) => `${k} ${v}`).join(', ');
      return `| ${rpc} | ${statusCols.map((s) => c.get(s) ?? 0).join(' | ')} | ${other} |`;
    }),
  ].join('\n');
  const hostileTable = [
    '| hostile call | expected without chaos | seen |',
    '|---|---|---|',
    ...HOSTILE_CALLS.map((h) => `| ${h.label}: \`${h.commands.join('; ')}\`, command_timeout_ms ${h.commandTimeoutMs} | ${h.expect} | ${[...(hostileSeen.get(h.label) ?? new Map<string, number>())].map(([k, v]) => `${k} ${v}`).join(', ') || '—'} |`),
  ].join('\n');
  const chaosTable = ['| chaos event | count |', '|---|---:|', ...[...chaos.events].sort().map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
  const resourceTable = [
    '| resource | baseline (after warm-up) | end | judged by |',
    '|---|---:|---:|---|',
    `| open fds | ${baseline.fds} | ${end.fds} | ±${FD_TOLERANCE} |`,
    `| active handles (no timers) | ${baseline.handles} | ${end.handles} | ±${HANDLE_TOLERANCE} |`,
    `| heapUsed after gc, MB | ${mb(baseline.heapUsed)} | ${mb(end.heapUsed)} | see heap flat |`,
    `| heapUsed mean, first → last third, MB | ${mb(firstHeap)} | ${mb(lastHeap)} | < ${mb(HEAP_GROWTH_MAX_BYTES)} MB or < ${HEAP_GROWTH_MAX_RATIO * 100} % |`,
    `| rss mean, first → last third, MB | ${mb(firstRss)} | ${mb(lastRss)} | reported only |`,
  ].join('\n');
  const checkList = checks.map((c) => `- ${c.ok ? 'PASS' : '**FAIL**'} ${c.name}: ${c.detail}`).join('\n');
  const md = [
    `### Soak: ${MINUTES} min, seed ${SEED} (${new Date().toISOString().slice(0, 16)}Z, node ${process.version}) — **${pass ? 'PASS' : 'FAIL'}**`,
    '',
    `In-process daemon; ${devices.length} simulated devices (${devices.map((d) => `${d.id} ${d.platform}${d.hostile ? ' (hostile)' : ''} max ${d.max}`).join(', ')}), each behind a fault proxy;`,
    `${CALLERS} concurrent gRPC callers; warm-up ${WARMUP_MS / 1000} s without chaos, then chaos every ~${CHAOS_MEAN_INTERVAL_MS / 1000} s; ssh keepalive 1 s × 3.`,
    `Calls: ${ledger.started} started, ${ledger.completed} completed, ${ledger.hung.length} hung; simulator reboots ${devices.reduce((n, d) => n + d.reboots, 0)} (incl. 2 per device for the quiet measurements).`,
    '',
    statusTable,
    '',
    `Hostile calls on ${hostileDevice.id} (src/sim/hostile.ts); chaos on its link may turn any of them into UNAVAILABLE or DEADLINE_EXCEEDED:`,
    '',
    hostileTable,
    '',
    'Latency of every completed call (any status):',
    '',
    table(ledger.rows()),
    '',
    chaosTable,
    '',
    resourceTable,
    '',
    checkList,
    ...(hostileWrong.length ? ['', 'Hostile calls answered OK with a wrong output (first 20):', ...hostileWrong.map((w) => `- ${w.replace(/\s+/g, ' ').slice(0, 300)}`)] : []),
    ...(ledger.hung.length ? ['', 'Hung calls:', ...ledger.hung.slice(0, 20).map((h) => `- ${h}`)] : []),
    ...(ledger.unexpected.length ? ['', 'Unexpected statuses (first 50):', ...ledger.unexpected.map((u) => `- ${u.replace(/\s+/g, ' ').slice(0, 300)}`)] : []),
  ].join('\n');
  process.stdout.write(`\n${md}\n`);
  writeResult('soak', md, {
    date: new Date().toISOString(), node: process.version, minutes: MINUTES, seed: SEED, warmupMs: WARMUP_MS, callers: CALLERS, pass,
    checks, calls: { started: ledger.started, completed: ledger.completed, hung: ledger.hung, unexpected: ledger.unexpected },
    statuses: Object.fromEntries([...ledger.counts].map(([k, v]) => [k, Object.fromEntries(v)])), latency: ledger.rows(),
    hostile: Object.fromEntries([...hostileSeen].map(([k, v]) => [k, Object.fromEntries(v)])), healthz: health,
    chaos: Object.fromEntries(chaos.events), chaosLog: chaos.log, baseline, end, memory, maxSessions: Object.fromEntries(maxSeen),
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
