/**
 * Runs/s of one `warmpool serve` replica against three behind HAProxy (deploy/haproxy/haproxy.cfg,
 * unchanged, through test/kit/haproxy.ts), and how long a device takes to move when its replica
 * dies. DEVICES simulated Cisco IOS devices in one child process; CALLERS concurrent callers, each
 * Run carrying x-warmpool-device. Cases, alternated for ROUNDS rounds of SECONDS each:
 *   1 replica direct    — the callers talk to replica 0 itself (every device on it);
 *   1 replica, HAProxy  — HAProxy with all three server lines pointing at replica 0 (its cost alone);
 *   3 replicas, HAProxy — the real thing: each device hashed to one of three replicas.
 * Then, under load through HAProxy, the replica holding the most devices gets SIGKILL: per moved
 * device, the time until a call started after the kill succeeds, and the calls that failed.
 * All processes share the machine's cores: read the figures with its core count (printed).
 *
 *   node --expose-gc dist/bench/scale-out.js [SECONDS=5] [ROUNDS=2] [CALLERS=48]
 */
import * as grpc from '@grpc/grpc-js';
import { cpus } from 'node:os';
import { loadProto } from '../src/api/proto.js';
import { startDaemonProcess, type DaemonProcess } from './lib/daemon-process.js';
import { startSimFleetProcess } from './lib/sim-process.js';
import { summarize, writeResult } from './lib/stats.js';
import { startHaproxy, haproxyVersion, type Haproxy } from '../test/kit/haproxy.js';
import { freePort } from '../test/kit/sshd.js';

const SECONDS = Number(process.argv[2] ?? 5);
const ROUNDS = Number(process.argv[3] ?? 2);
const CALLERS = Number(process.argv[4] ?? 48);
const DEVICES = 12;
const POOL_MAX = 4;

type Client = grpc.Client & { Run: (r: object, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null) => void) => void };

function run(c: Client, device: string): Promise<void> {
  const md = new grpc.Metadata();
  md.set('x-warmpool-device', device);
  return new Promise((resolve, reject) => c.Run({ device, commands: ['show clock'] }, md, { deadline: Date.now() + 10_000 }, (e) => (e ? reject(e) : resolve())));
}

/** The first failed call's status and message, for the report. */
let firstError: string | undefined;

/** CALLERS loops for `ms`: caller w calls device w mod DEVICES, so every device gets the same share. */
async function drive(c: Client, ms: number, onResult?: (device: string, started: number, err?: grpc.ServiceError) => void): Promise<{ calls: number; errors: number; wallMs: number; latencies: number[] }> {
  const latencies: number[] = [];
  let errors = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CALLERS }, async (_, w) => {
    const device = `r${w % DEVICES}`;
    while (performance.now() - t0 < ms) {
      const s = performance.now();
      const started = Date.now();
      try {
        await run(c, device);
        latencies.push(performance.now() - s);
        onResult?.(device, started);
      } catch (e) {
        errors++;
        firstError ??= `${(e as grpc.ServiceError).code}: ${(e as grpc.ServiceError).details}`;
        onResult?.(device, started, e as grpc.ServiceError);
        if (!onResult && errors > 100) throw new Error(`more than 100 failed calls: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }));
  return { calls: latencies.length, errors, wallMs: performance.now() - t0, latencies };
}

async function main(): Promise<void> {
  const version = haproxyVersion();
  if (!version) throw new Error('haproxy is not installed (Debian package haproxy; scripts/install-test-deps.sh)');
  const sim = await startSimFleetProcess(DEVICES);
  const inventory = sim.devices.map((d, i) => ({
    id: `r${i}`, host: '127.0.0.1', port: d.port, platform: 'cisco_ios', username: 'admin', password: 'admin-pass', enableSecret: 'enable-pass',
    hostKey: { fingerprints: [d.fingerprint] },
  }));
  const [grpcPort, metricsPort] = [await freePort(), await freePort()];
  const replicas: DaemonProcess[] = [];
  const lbs: Haproxy[] = [];
  const clients: Client[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const host = `127.0.0.${i + 2}`;
      replicas.push(await startDaemonProcess({
        devices: inventory, grpcListen: `${host}:${grpcPort}`,
        config: { metrics: { listen: `${host}:${metricsPort}` }, defaults: { pool: { min: 0, max: POOL_MAX } } },
      }));
    }
    const lbEnv = async (servers: string[]): Promise<Record<string, string>> => ({
      WARMPOOL_LB_LISTEN: `127.0.0.1:${await freePort()}`, WARMPOOL_LB_STATS_LISTEN: `127.0.0.1:${await freePort()}`,
      WARMPOOL_HEALTH_PORT: String(metricsPort), WARMPOOL_CHECK_INTER: '1s',
      ...Object.fromEntries(servers.map((s, i) => [`WARMPOOL_REPLICA_${i}`, s])),
    });
    const lb3 = await startHaproxy(await lbEnv(replicas.map((r) => r.grpcAddress)));
    lbs.push(lb3);
    const lb1 = await startHaproxy(await lbEnv([0, 0, 0].map((i) => replicas[i]!.grpcAddress)));
    lbs.push(lb1);
    for (const lb of lbs) {
      const end = Date.now() + 10_000;
      while (!(await lb.servers()).every((s) => s.status === 'UP')) {
        if (Date.now() > end) throw new Error(`HAProxy servers not UP:\n${lb.out()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const DeviceProxy = loadProto().grpcObj.warmpool.v1.DeviceProxy;
    const creds = grpc.credentials.createInsecure();
    const client = (addr: string): Client => {
      const c = new DeviceProxy(addr, creds) as unknown as Client;
      clients.push(c);
      return c;
    };
    const cases: Array<[string, Client]> = [
      ['1 replica direct', client(replicas[0]!.grpcAddress)],
      ['1 replica, HAProxy', client(lb1.address)],
      ['3 replicas, HAProxy', client(lb3.address)],
    ];
    for (const [, c] of cases) await drive(c, 1500); // warm-up: sessions open, JIT
    const results = new Map<string, { calls: number; wallMs: number; errors: number; latencies: number[]; perRound: number[] }>();
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? cases : [...cases].reverse();
      for (const [name, c] of order) {
        (globalThis as { gc?: () => void }).gc?.();
        const res = await drive(c, SECONDS * 1000);
        const acc = results.get(name) ?? { calls: 0, wallMs: 0, errors: 0, latencies: [], perRound: [] };
        acc.calls += res.calls;
        acc.wallMs += res.wallMs;
        acc.errors += res.errors;
        acc.latencies.push(...res.latencies);
        acc.perRound.push((res.calls * 1000) / res.wallMs);
        results.set(name, acc);
        process.stdout.write(`round ${r + 1} ${name}: ${((res.calls * 1000) / res.wallMs).toFixed(0)} Runs/s (${res.errors} errors)\n`);
      }
    }

    // Failover: which replica holds which device (sessions opened), then SIGKILL the busiest one.
    const Admin = loadProto().grpcObj.warmpool.v1.Admin;
    const owners = new Map<string, number>();
    for (const [i, r] of replicas.entries()) {
      const a = new Admin(r.grpcAddress, creds) as unknown as grpc.Client & { GetPoolStats: (q: object, cb: (e: grpc.ServiceError | null, v?: { pools: { device: string; created_total: string }[] }) => void) => void };
      const res = await new Promise<{ pools: { device: string; created_total: string }[] }>((resolve, reject) => a.GetPoolStats({ devices: [] }, (e, v) => (e ? reject(e) : resolve(v!))));
      a.close();
      // Replica 0 served the single-replica cases too: count only devices nobody else holds.
      for (const p of res.pools) if (Number(p.created_total) > 0 && (i > 0 || !owners.has(p.device))) owners.set(p.device, i);
    }
    const held = [1, 2].map((i) => [...owners].filter(([, o]) => o === i).map(([d]) => d));
    const victimIndex = held[0]!.length >= held[1]!.length ? 1 : 2;
    const moved = held[victimIndex - 1]!;
    const firstOk = new Map<string, number>();
    const failedCalls = new Map<string, number>();
    let killedAt = 0;
    const load = drive(cases[2]![1], 4000, (device, started, err) => {
      if (killedAt === 0 || !moved.includes(device)) return;
      if (err) failedCalls.set(device, (failedCalls.get(device) ?? 0) + 1);
      else if (started >= killedAt && !firstOk.has(device)) firstOk.set(device, Date.now() - killedAt);
    });
    await new Promise((r) => setTimeout(r, 1000));
    killedAt = Date.now();
    replicas[victimIndex]!.proc.kill('SIGKILL');
    const failover = await load;
    const moveMs = moved.map((d) => firstOk.get(d) ?? NaN);

    const rows = [...results].map(([name, r]) => ({ name, runsPerSecond: (r.calls * 1000) / r.wallMs, perRound: r.perRound, errors: r.errors, latency: summarize(name, r.latencies) }));
    const one = rows[0]!.runsPerSecond;
    const md = [
      `### Scaling out: one replica vs three behind HAProxy (${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${cpus().length} cores, ${version.split(' - ')[0]})`,
      '',
      `${DEVICES} simulated Cisco IOS devices (one process), pool max ${POOL_MAX}; ${CALLERS} concurrent callers, \`show clock\` per Run,`,
      `each call with x-warmpool-device; ${ROUNDS} alternating rounds of ${SECONDS} s per case after a warm-up. Every process shares the same ${cpus().length} cores.`,
      '',
      '| case | Runs/s | vs 1 replica direct | p50 ms | p99 ms | errors |',
      '|---|---:|---:|---:|---:|---:|',
      ...rows.map((r) => `| ${r.name} | ${r.runsPerSecond.toFixed(0)} | ${(r.runsPerSecond / one).toFixed(2)}× | ${r.latency.p50.toFixed(2)} | ${r.latency.p99.toFixed(2)} | ${r.errors} |`),
      '',
      `Failover under the same load through HAProxy: SIGKILL of the replica holding ${moved.length} of ${DEVICES} devices;`,
      `time until a call started after the kill succeeded, per moved device: median ${median(moveMs).toFixed(0)} ms, max ${Math.max(...moveMs).toFixed(0)} ms;`,
      `failed calls (UNAVAILABLE) for the moved devices: ${[...failedCalls.values()].reduce((a, b) => a + b, 0)}, for the others: ${failover.errors - [...failedCalls.values()].reduce((a, b) => a + b, 0)}.`,
      ...(firstError ? [`First failed call: ${firstError}`] : []),
    ].join('\n');
    process.stdout.write(`${md}\n`);
    writeResult('scale-out', md, {
      date: new Date().toISOString(), node: process.version, cores: cpus().length, haproxy: version, devices: DEVICES, callers: CALLERS, seconds: SECONDS, rounds: ROUNDS, poolMax: POOL_MAX,
      cases: rows.map((r) => ({ name: r.name, runsPerSecond: r.runsPerSecond, perRound: r.perRound, errors: r.errors, p50Ms: r.latency.p50, p99Ms: r.latency.p99 })),
      failover: { movedDevices: moved.length, moveMs, failedCallsMovedDevices: [...failedCalls.values()].reduce((a, b) => a + b, 0), failedCallsTotal: failover.errors },
    });
  } finally {
    for (const c of clients) c.close();
    for (const lb of lbs) await lb.stop();
    await Promise.all(replicas.map((r) => r.stop()));
    await sim.stop();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

main().catch((err: unknown) => {
  process.stderr.write(`scale-out: ${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
