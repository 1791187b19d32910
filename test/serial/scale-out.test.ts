/**
 * Three `warmpool serve` replicas behind the real HAProxy running deploy/haproxy/haproxy.cfg, with
 * simulated devices and concurrent Run load from a real gRPC client that sets x-warmpool-device:
 *  - every device's sessions are opened by exactly one replica (GetPoolStats on each replica);
 *  - killing a replica moves only its devices: the others open no new session (their warm
 *    sessions stay) and see no failed call;
 *  - the replica comes back and takes its devices back only after the interim replica's sessions
 *    aged out (stick-table expiry > pool idle timeout);
 *  - the per-device cap (pool.max) holds throughout: each simulator counts its concurrent connections.
 * Runs alone (test/serial/): its timing assertions measure the processes, not a neighbour's CPU use.
 */
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProto } from '../../src/api/proto.js';
import { WarmpoolClient, type WarmpoolClientError } from '../../src/client/index.js';
import type { DeviceProxyClient } from '../../src/gen/warmpool/v1/DeviceProxy.js';
import type { AdminClient } from '../../src/gen/warmpool/v1/Admin.js';
import type { InventoryClient } from '../../src/gen/warmpool/v1/Inventory.js';
import type { GetPoolStatsResponse__Output } from '../../src/gen/warmpool/v1/GetPoolStatsResponse.js';
import type { ListDevicesResponse__Output } from '../../src/gen/warmpool/v1/ListDevicesResponse.js';
import { haproxyVersion, startHaproxy, type Haproxy } from '../kit/haproxy.js';
import { runCli } from '../kit/cli.js';
import type { Proc } from '../kit/proc.js';
import { startSim, type SimDevice } from '../kit/sim.js';
import { freePort } from '../kit/sshd.js';
import { waitFor } from '../kit/wait.js';

const REPLICAS = 3;
const DEVICES = 9;
/** Callers per device: more than POOL_MAX, so every device's pool runs at its cap. */
const WORKERS = 3;
const POOL_MAX = 2;
/** Pool idle timeout on the replicas, and HAProxy's stick-table expiry (must be longer, see haproxy.cfg). */
const IDLE_MS = 1500;
const STICK_EXPIRE_MS = 3000;
const COMMAND_MS = 200;

type Counts = Map<string, number>[]; // per replica: device → sessions opened (created_total)

interface Replica {
  index: number;
  host: string;
  grpc: string;
  metrics: string;
  configFile: string;
  proc?: Proc;
  admin: AdminClient;
}

function unary<Res>(fn: (req: object, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Res) => void) => unknown, req: object, md = new grpc.Metadata()): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, md, { deadline: Date.now() + 10_000 }, (e, r) => (e ? reject(e) : resolve(r as Res))));
}

t.test('three replicas behind HAProxy keep each device on one replica through a failure and a return', async (t) => {
  const version = haproxyVersion();
  if (!version) throw new Error('haproxy is not installed: run scripts/install-test-deps.sh (Debian package haproxy)');
  t.comment(version);
  const t0 = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'warmpool-scale-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  // Devices: one simulator each, every command takes COMMAND_MS so calls overlap.
  const sims = new Map<string, SimDevice>();
  for (let i = 0; i < DEVICES; i++) sims.set(`dev${i}`, await startSim(t, { platform: 'cisco_ios', hostname: `dev${i}`, perCommandLatencyMs: COMMAND_MS }));
  const ids = [...sims.keys()];
  // One inventory file for all replicas (a ConfigMap in Kubernetes), read-only over the API.
  const inventoryFile = join(dir, 'devices.json');
  writeFileSync(inventoryFile, JSON.stringify({
    devices: ids.map((id) => {
      const s = sims.get(id)!;
      return { id, host: s.host, port: s.port, platform: 'cisco_ios', username: s.username, password: s.password, enableSecret: s.enableSecret, hostKey: { fingerprints: [s.hostKeyFingerprint] } };
    }),
  }), { mode: 0o600 });

  // Replicas on 127.0.0.2..4, all with the same ports, as pods would be: HAProxy checks one health port.
  const [grpcPort, metricsPort] = [await freePort(), await freePort()];
  const v1 = loadProto().grpcObj.warmpool.v1;
  const creds = grpc.credentials.createInsecure();
  const replicas: Replica[] = Array.from({ length: REPLICAS }, (_, index) => {
    const host = `127.0.0.${index + 2}`;
    const configFile = join(dir, `replica${index}.json`);
    writeFileSync(configFile, JSON.stringify({
      grpc: { listen: `${host}:${grpcPort}` },
      metrics: { listen: `${host}:${metricsPort}` },
      log: { level: 'warn', audit: { enabled: false } },
      shutdown: { graceMs: 1000 },
      inventory: { file: inventoryFile, readOnly: true },
      defaults: { pool: { min: 0, max: POOL_MAX, idleTimeoutMs: IDLE_MS }, ssh: { appKeepaliveMs: 0 } },
    }));
    return { index, host, grpc: `${host}:${grpcPort}`, metrics: `${host}:${metricsPort}`, configFile, admin: new v1.Admin(`${host}:${grpcPort}`, creds) as unknown as AdminClient };
  });
  const start = async (r: Replica): Promise<void> => {
    // dist/src/main.js (transpiled on the fly when stale): starts in about a second, not 5-20 s.
    const p = runCli(['serve', '--config', r.configFile]);
    r.proc = p;
    let exited = false;
    void p.exited.then(() => (exited = true));
    await waitFor(async () => {
      if (exited) throw new Error(`replica ${r.index} exited before it was ready:\n${p.out()}`);
      return fetch(`http://${r.metrics}/readyz`).then((res) => res.status === 200, () => false);
    }, `replica ${r.index} /readyz`, 30_000);
  };
  t.teardown(async () => {
    for (const r of replicas) r.admin.close();
    await Promise.all(replicas.map(async (r) => {
      if (!r.proc || r.proc.child.exitCode !== null) return;
      r.proc.child.kill('SIGTERM');
      const timer = setTimeout(() => r.proc?.child.kill('SIGKILL'), 5000);
      await r.proc.exited;
      clearTimeout(timer);
    }));
  });
  await Promise.all(replicas.map(start));
  t.comment(`3 replicas ready after ${Date.now() - t0} ms`);

  const lb: Haproxy = await startHaproxy({
    WARMPOOL_LB_LISTEN: `127.0.0.1:${await freePort()}`,
    WARMPOOL_LB_STATS_LISTEN: `127.0.0.1:${await freePort()}`,
    WARMPOOL_HEALTH_PORT: String(metricsPort),
    // A killed replica is marked down by its first refused connection (observe layer4), not by checks.
    WARMPOOL_CHECK_INTER: '500ms',
    WARMPOOL_STICK_EXPIRE: `${STICK_EXPIRE_MS}ms`,
    ...Object.fromEntries(replicas.map((r) => [`WARMPOOL_REPLICA_${r.index}`, r.grpc])),
  });
  t.teardown(() => lb.stop());
  const allUp = async (): Promise<boolean> => (await lb.servers()).every((s) => s.status === 'UP');
  await waitFor(allUp, 'HAProxy to see every replica UP', 10_000).catch((e: Error) => {
    throw new Error(`${e.message}\n${lb.out()}`);
  });

  // The load goes through the TypeScript client, which sets x-warmpool-device on every Run and
  // repeats only calls that certainly reached no device.
  const client = new WarmpoolClient(lb.address, { timeoutMs: 10_000 });
  const proxy = new v1.DeviceProxy(lb.address, creds) as unknown as DeviceProxyClient;
  const inventory = new v1.Inventory(lb.address, creds) as unknown as InventoryClient;
  t.teardown(() => {
    client.close();
    proxy.close();
    inventory.close();
  });

  // ---- load: WORKERS callers per device, through HAProxy, header set as the clients set it ----
  const paused = new Set<string>();
  const okCalls = new Map<string, number[]>(ids.map((id) => [id, []])); // start times of successful calls
  const failures = new Map<string, string[]>(ids.map((id) => [id, []]));
  const inFlight = new Map<string, number>(ids.map((id) => [id, 0]));
  let running = true;
  const worker = async (device: string): Promise<void> => {
    const until = Date.now() + 120_000; // bound, whatever happens
    while (running && Date.now() < until) {
      if (paused.has(device)) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const started = Date.now();
      inFlight.set(device, (inFlight.get(device) ?? 0) + 1);
      try {
        await client.run(device, ['show clock']);
        okCalls.get(device)!.push(started);
      } catch (e) {
        failures.get(device)!.push(`${(e as WarmpoolClientError).code}: ${(e as WarmpoolClientError).details}`);
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        inFlight.set(device, (inFlight.get(device) ?? 1) - 1);
      }
    }
  };
  const workers = ids.flatMap((id) => Array.from({ length: WORKERS }, () => worker(id)));
  t.teardown(async () => {
    running = false;
    await Promise.all(workers);
  });
  const okSince = (id: string, since: number): number => okCalls.get(id)!.filter((s) => s >= since).length;
  const eachServed = (devs: string[], since: number, n: number, what: string): Promise<void> =>
    waitFor(() => devs.every((id) => okSince(id, since) >= n), what, 20_000);

  const counts = async (): Promise<Counts> =>
    Promise.all(replicas.map(async (r) => {
      const m = new Map<string, number>();
      if (!r.proc || r.proc.child.exitCode !== null || r.proc.child.signalCode !== null) return m;
      const res = await unary<GetPoolStatsResponse__Output>(r.admin.GetPoolStats.bind(r.admin) as never, { devices: [] });
      for (const p of res.pools) if (p.protocol === 'ssh' && Number(p.created_total) > 0) m.set(p.device, Number(p.created_total));
      return m;
    }));
  const show = (label: string, c: Counts): void => {
    t.comment(`sessions opened per replica, ${label}:`);
    t.comment(`  device  ${replicas.map((r) => `w${r.index}`.padStart(4)).join('')}`);
    for (const id of ids) t.comment(`  ${id.padEnd(7)} ${c.map((m) => String(m.get(id) ?? 0).padStart(4)).join('')}`);
    t.comment(`  total   ${c.map((m) => String([...m.values()].reduce((a, b) => a + b, 0)).padStart(4)).join('')}`);
  };
  const holders = (c: Counts, id: string): number[] => c.flatMap((m, i) => (m.has(id) ? [i] : []));
  // The cap at the device, per phase: each simulator's high-water mark of concurrent connections.
  const capByPhase: Array<[string, number[]]> = [];
  const capPhase = (label: string): void => {
    capByPhase.push([label, ids.map((id) => sims.get(id)!.stats.maxConnections)]);
    for (const sim of sims.values()) sim.stats.maxConnections = sim.stats.connections;
  };

  // ---- 1. steady state: one replica per device ----
  const phase1 = Date.now();
  await eachServed(ids, phase1, 5, 'every device to be served through HAProxy');
  await new Promise((r) => setTimeout(r, 1000));
  const c1 = await counts();
  capPhase('steady');
  show('under load', c1);
  const owner = new Map<string, number>();
  for (const id of ids) {
    const h = holders(c1, id);
    t.equal(h.length, 1, `${id}: sessions opened by exactly one replica (got ${h.map((i) => `w${i}`).join(', ')})`);
    owner.set(id, h[0]!);
  }
  const perReplica = replicas.map((r) => ids.filter((id) => owner.get(id) === r.index));
  t.ok(perReplica.every((d) => d.length > 0), `the hash spreads the devices over all replicas (${perReplica.map((d) => d.length).join('/')})`);
  t.same([...failures.values()].flat(), [], 'no call failed in steady state');

  // Pool stats for one device carry its header too: the owner answers, whose pool has opened sessions.
  for (const id of ids) {
    const st = (await client.poolStats([id])).find((p) => p.protocol === 'ssh');
    t.ok(Number(st?.created_total ?? 0) > 0, `${id}: poolStats through HAProxy come from its replica w${owner.get(id)}`);
  }

  // Calls without the header: reads go round-robin to any replica (each has the whole inventory);
  // writes are refused by every replica (inventory.readOnly); RunMany is refused by HAProxy.
  const listed = await unary<ListDevicesResponse__Output>(inventory.ListDevices.bind(inventory) as never, {});
  t.equal(listed.devices.length, DEVICES, 'ListDevices through HAProxy sees the whole inventory');
  await t.rejects(unary(inventory.DeleteDevice.bind(inventory) as never, { id: 'dev0' }), { code: grpc.status.FAILED_PRECONDITION, details: /inventory is read-only/ });
  const many = proxy.RunMany({ template: { commands: ['show clock'] }, devices: ids });
  many.on('data', () => t.fail('RunMany must not reach a replica'));
  const manyErr = await new Promise<grpc.ServiceError>((resolve) => many.on('error', resolve));
  t.equal(manyErr.code, grpc.status.FAILED_PRECONDITION, 'RunMany is refused at the balancer');
  t.match(manyErr.details, /Call Run once per device with the x-warmpool-device header/);
  t.equal(manyErr.metadata.get('warmpool-error-code')[0], 'RUN_MANY_AT_BALANCER', 'with the code that tells the CLI to run one Run per device');

  // ---- 2. kill the replica with the most devices: only its devices move ----
  const victim = replicas.reduce((a, b) => (perReplica[b.index]!.length > perReplica[a.index]!.length ? b : a));
  const moved = perReplica[victim.index]!;
  const stayed = ids.filter((id) => !moved.includes(id));
  capPhase('header-less calls');
  const closed = (id: string): number => sims.get(id)!.stats.totalConnections - sims.get(id)!.stats.connections;
  const beforeKill = new Map(moved.map((id) => [id, { closed: closed(id), open: sims.get(id)!.stats.connections }]));
  const killedAt = Date.now();
  victim.proc!.child.kill('SIGKILL');
  await victim.proc!.exited;
  // The kernel closed the dead replica's connections at the kill, but a busy simulator may count
  // the interim replica's new connection before it reads those closes: start this phase's
  // high-water mark once every simulator has seen them (sessions opened since are all counted).
  await waitFor(() => moved.every((id) => closed(id) - beforeKill.get(id)!.closed >= beforeKill.get(id)!.open), 'the devices to see the killed replica\'s connections close', 10_000);
  const openedAtOnce = moved.map((id) => sims.get(id)!.stats.maxConnections);
  for (const id of moved) sims.get(id)!.stats.maxConnections = sims.get(id)!.stats.connections;
  await eachServed(moved, killedAt, 1, 'the dead replica\'s devices to be served elsewhere');
  const moveMs = moved.map((id) => Math.min(...okCalls.get(id)!.filter((s) => s >= killedAt).map((s) => s - killedAt)));
  await eachServed(moved, killedAt, 5, 'the moved devices to settle');
  await new Promise((r) => setTimeout(r, 1000));
  const c2 = await counts();
  capPhase('replica killed');
  show(`after w${victim.index} was killed (it owned ${moved.join(', ')})`, c2);
  t.comment(`time from SIGKILL to the first successful call started after it, per moved device: ${moveMs.join(', ')} ms`);
  t.comment(`connections the moved devices counted at once around the kill, dead ones included: ${openedAtOnce.join(', ')}`);
  t.comment(`failed calls for the moved devices: ${moved.map((id) => failures.get(id)!.length).join(', ')} (${[...new Set(moved.flatMap((id) => failures.get(id)!))].join(' | ')})`);
  for (const id of stayed) {
    t.equal(c2[owner.get(id)!]!.get(id), c1[owner.get(id)!]!.get(id), `${id}: no new session on w${owner.get(id)} (its warm sessions were kept)`);
    t.same(holders(c2, id), [owner.get(id)], `${id}: still only on w${owner.get(id)}`);
  }
  t.same(stayed.flatMap((id) => failures.get(id)!), [], 'devices of the surviving replicas saw no failed call');
  // Calls cut by the kill, or sent to the dead replica before HAProxy marked it down: UNAVAILABLE
  // (HAProxy's 502/503, or a reply cut after its headers, which the clients report as UNAVAILABLE).
  t.same(moved.flatMap((id) => failures.get(id)!).filter((f) => !f.startsWith(`${grpc.status.UNAVAILABLE}: `)), [], 'the moved devices\' failed calls are all UNAVAILABLE');
  const interim = new Map<string, number>();
  for (const id of moved) {
    const h = holders(c2, id);
    t.equal(h.length, 1, `${id}: moved to exactly one surviving replica (${h.map((i) => `w${i}`).join(', ')})`);
    interim.set(id, h[0]!);
  }
  t.ok(Math.max(...moveMs) < 5000, `every moved device was served again within 5 s (max ${Math.max(...moveMs)} ms)`);

  // ---- 3. the replica returns: busy devices stay where their sessions are ----
  await start(victim);
  await waitFor(allUp, 'HAProxy to see the returning replica UP', 10_000);
  const returnedAt = Date.now();
  await eachServed(moved, returnedAt, 3, 'the moved devices to be served after the return');
  const c3 = await counts();
  capPhase('replica back, devices busy');
  show(`w${victim.index} is back, its devices still busy`, c3);
  t.equal(c3[victim.index]!.size, 0, `w${victim.index} opened no session while its old devices stay busy elsewhere`);
  for (const id of moved) t.equal(c3[interim.get(id)!]!.get(id), c2[interim.get(id)!]!.get(id), `${id}: no new session on interim w${interim.get(id)}`);

  // ---- 4. the moved devices go quiet: the interim sessions age out, then the owner takes them back ----
  for (const id of moved) paused.add(id);
  await waitFor(() => moved.every((id) => inFlight.get(id) === 0), 'the paused devices\' calls to finish', 15_000);
  const quietAt = Date.now();
  await waitFor(() => moved.every((id) => sims.get(id)!.stats.connections === 0), 'the interim sessions to be closed by the idle timeout', IDLE_MS + 5000);
  t.comment(`interim sessions closed ${Date.now() - quietAt} ms after the last call (pool idleTimeoutMs ${IDLE_MS})`);
  await new Promise((r) => setTimeout(r, Math.max(0, quietAt + STICK_EXPIRE_MS + 500 - Date.now())));
  capPhase('devices quiet');
  const resumedAt = Date.now();
  for (const id of moved) paused.delete(id);
  await eachServed(moved, resumedAt, 5, 'the devices to be served after the pause');
  const c4 = await counts();
  capPhase('devices back on their owner');
  show(`after a pause longer than the stick expiry (${STICK_EXPIRE_MS} ms)`, c4);
  for (const id of moved) {
    t.ok((c4[victim.index]!.get(id) ?? 0) > 0, `${id}: back on its owner w${victim.index}`);
    t.equal(c4[interim.get(id)!]!.get(id), c3[interim.get(id)!]!.get(id), `${id}: the interim w${interim.get(id)} opened nothing more`);
  }
  for (const id of stayed) t.equal(c4[owner.get(id)!]!.get(id), c1[owner.get(id)!]!.get(id), `${id}: untouched through the whole run on w${owner.get(id)}`);

  running = false;
  await Promise.all(workers);
  // ---- the per-device cap held throughout ----
  t.comment(`most sessions at once at each device (${ids.join(' ')}), per phase:`);
  for (const [label, max] of capByPhase) t.comment(`  ${max.join(' ')}  ${label}`);
  for (const [label, max] of capByPhase) {
    t.ok(max.every((n) => n <= POOL_MAX), `${label}: at most ${POOL_MAX} sessions at once at every device (saw ${max.join(' ')})`);
  }
  // No call ran twice: neither HAProxy nor the client repeats a call that may have reached a device.
  const ranTwice = ids.map((id) => (sims.get(id)!.stats.commandCounts.get('show clock') ?? 0) - okCalls.get(id)!.length - failures.get(id)!.length);
  t.comment(`'show clock' runs at each device minus calls answered or failed: ${ranTwice.join(' ')}`);
  t.ok(ranTwice.every((n) => n <= 0), 'no device ran a command more often than it was called');
  const calls = [...okCalls.values()].reduce((a, v) => a + v.length, 0);
  t.comment(`${calls} successful Run calls through HAProxy; whole test ${Date.now() - t0} ms`);
});
