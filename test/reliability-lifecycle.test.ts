/**
 * Reliability through the real daemon across the life of devices and of the daemon itself:
 * devices that close idle sessions, inventory reloads while calls run, shutdown while calls
 * run, and what the gauges show while a device is saturated.
 *
 * Covered elsewhere and not repeated here: SIGTERM drain of a separate process
 * (lifecycle.test.ts), queue-full status (api-e2e.test.ts), device kill and churn
 * (pool-integration.test.ts), idle close at the driver level (shell-faults.test.ts).
 */
import t, { type Test } from 'tap';
import { writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { status, type ServiceError } from '@grpc/grpc-js';
import { startSimDevice, type SimDevice, type SimOptions } from '../src/sim/ssh-device.js';
import type { PoolStats } from '../src/pool/types.js';
import { startTestDaemon, simSpec, m, type TestDaemon } from './kit/daemon.js';
import { waitFor } from './kit/wait.js';
import { parseExposition, sampleValue } from './kit/metrics-fixtures.js';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

async function sim(t: Test, opts: Partial<SimOptions> = {}): Promise<SimDevice> {
  const s = await startSimDevice({ platform: 'cisco_ios', ...opts });
  t.teardown(() => s.close());
  return s;
}

const stats = (td: TestDaemon, id: string): PoolStats => td.daemon.stats([id])[0] as PoolStats;
const settled = (s: PoolStats | undefined): boolean => !!s && s.busy === 0 && s.connecting === 0 && s.waiting === 0;
const run = (td: TestDaemon, device: string, commands: string[], deadlineMs?: number): Promise<Any> =>
  td.call(m(td.proxy, 'Run'), { device, commands }, deadlineMs ? { deadlineMs } : {});
/** Resolves with the status code of a call (0 for OK); never rejects. */
const outcome = (p: Promise<unknown>): Promise<number> => p.then(() => status.OK, (e: ServiceError) => e.code);

t.test('a device that closes idle sessions: the next call succeeds on a fresh session, the dead one is never handed out', async (t) => {
  const s = await sim(t, { faults: { idleCloseMs: 250 } });
  // appKeepaliveMs 0: no nudge keeps the line open, so the device really closes it.
  const td = await startTestDaemon({ devices: [simSpec(s, 'r1', { ssh: { appKeepaliveMs: 0 }, pool: { max: 2 } })] });
  t.teardown(() => td.stop());

  const seen = new Set<string>();
  for (let round = 0; round < 3; round++) {
    const r = await run(td, 'r1', ['show clock']);
    t.equal(r.results[0].failed, false, `round ${round}: served without error`);
    t.equal(r.session.reused, false, `round ${round}: on a fresh session`);
    t.notOk(seen.has(r.session.id), 'never a session used before the device closed it');
    seen.add(r.session.id);
    // The device closes the quiet line; the call after that must not notice.
    await waitFor(() => s.stats.connections === 0, 'the device to close the idle session', 5000);
  }
  await waitFor(() => stats(td, 'r1').idle === 0 && settled(stats(td, 'r1')), 'the pool to drop the closed session');
  t.equal(stats(td, 'r1').closedTotal, 3, 'every closed session left the pool');
  t.equal(s.stats.totalConnections, 3, 'one connection per round: no failed attempt on a dead session');

  // Back-to-back calls inside the idle window reuse the live session.
  const a = await run(td, 'r1', ['show clock']);
  const b = await run(td, 'r1', ['show clock']);
  t.equal(b.session.id, a.session.id, 'an open session is reused while the device keeps it');
});

/** Inventory file entry for a simulator. */
function yamlDevice(id: string, s: SimDevice): string {
  return [
    `  - id: ${id}`,
    `    host: ${s.host}`,
    `    port: ${s.port}`,
    '    platform: cisco_ios',
    `    username: ${s.username}`,
    `    password: "${s.password}"`,
    `    hostKey: { fingerprints: ["${s.hostKeyFingerprint}"] }`,
    '    pool: { max: 2, maxWaiting: 64 }',
  ].join('\n');
}

t.test('inventory reloads under load: every call returns, removed devices are NOT_FOUND, changed ones get new sessions, nothing leaks', async (t) => {
  const one = await sim(t, { hostname: 'one' });
  const two = await sim(t, { hostname: 'two' });
  const dir = t.testdir({});
  const file = join(dir, 'devices.yaml');
  // Atomic replace, as config management does: a reload never reads half a file.
  const write = (entries: [string, SimDevice][]) => {
    writeFileSync(file + '.tmp', 'devices:\n' + entries.map(([id, s]) => yamlDevice(id, s)).join('\n') + '\n');
    renameSync(file + '.tmp', file);
  };
  write([['a', one], ['b', one], ['c', one]]);
  const td = await startTestDaemon({ argv: ['--inventory.file', file] });
  t.teardown(() => td.stop());

  // Each state of the inventory, applied in turn while workers call a, b, c, d.
  const states: [string, SimDevice][][] = [
    [['a', one], ['b', two], ['c', one]], // b moves to another device
    [['a', one], ['b', two]], // c removed
    [['a', one], ['b', two], ['d', two]], // d added
    [['a', one], ['b', one], ['d', two], ['c', two]], // b back, c returns elsewhere
    [['a', one], ['b', two], ['d', two]], // c removed again, b moves again
  ];
  const removedAtSomePoint = new Set(['c', 'd']); // d is unknown before it is added
  const codes = new Map<string, Map<number, number>>();
  let calls = 0;
  let stop = false;
  const worker = async (w: number) => {
    for (let i = 0; !stop && i < 400; i++) {
      const device = ['a', 'b', 'c', 'd'][(w + i) % 4] as string;
      calls++;
      const c = await outcome(run(td, device, ['show clock'], 8000));
      const perDevice = codes.get(device) ?? new Map<number, number>();
      perDevice.set(c, (perDevice.get(c) ?? 0) + 1);
      codes.set(device, perDevice);
    }
  };
  const workers = Array.from({ length: 6 }, (_, w) => worker(w));
  for (const st of states) {
    const before = calls;
    // Let some calls run on this state (bounded), then move on.
    await waitFor(() => calls >= before + 20, 'calls to run on the current inventory', 10_000);
    write(st);
    td.daemon.reloadInventory();
  }
  // The API path too: delete over the Inventory service while calls run.
  await td.call(m(td.inventory, 'DeleteDevice'), { id: 'd' });
  const before = calls;
  await waitFor(() => calls >= before + 20, 'calls after the API delete', 10_000);
  stop = true;
  const t0 = Date.now();
  await Promise.all(workers);
  t.ok(Date.now() - t0 < 9000, 'every call returned (none hung)');

  for (const [device, byCode] of codes) {
    for (const [c, n] of byCode) {
      const allowed = c === status.OK || c === status.UNAVAILABLE || (c === status.NOT_FOUND && removedAtSomePoint.has(device));
      t.ok(allowed, `${device}: ${n} x ${status[c]}`);
    }
  }
  t.ok((codes.get('a')?.get(status.OK) ?? 0) > 10, 'the device never touched by the reloads kept being served');
  t.ok((codes.get('c')?.get(status.NOT_FOUND) ?? 0) > 0, 'calls to a removed device get NOT_FOUND');
  const cNow = await td.call(m(td.proxy, 'Run'), { device: 'c', commands: ['show clock'] }).catch((e: ServiceError) => e);
  t.equal((cNow as ServiceError).code, status.NOT_FOUND, 'a removed device stays NOT_FOUND');
  const dNow = await td.call(m(td.proxy, 'Run'), { device: 'd', commands: ['show clock'] }).catch((e: ServiceError) => e);
  t.equal((dNow as ServiceError).code, status.NOT_FOUND, 'a device deleted over the API is NOT_FOUND');

  // b ends on `two`: its sessions must be new ones to `two`, never old ones to `one`.
  const twoBefore = two.stats.commandCounts.get('show version') ?? 0;
  const oneBefore = one.stats.commandCounts.get('show version') ?? 0;
  const b = await run(td, 'b', ['show version']);
  t.equal((two.stats.commandCounts.get('show version') ?? 0) - twoBefore, 1, 'the changed device is served by its new address');
  t.equal((one.stats.commandCounts.get('show version') ?? 0) - oneBefore, 0, 'not by a session left from the old one');
  t.equal(b.results[0].failed, false);

  // No leak: once calls stop, each simulator holds exactly the idle sessions of the pools
  // pointing at it, and the removed devices' pools are gone.
  const idleOn = (ids: string[]) => ids.reduce((n, id) => n + (stats(td, id)?.idle ?? 0), 0);
  await waitFor(() => ['a', 'b'].every((id) => settled(stats(td, id))), 'pools to settle');
  await waitFor(() => one.stats.connections === idleOn(['a']) && two.stats.connections === idleOn(['b']),
    'device connections to match the pools', 5000);
  t.equal(one.stats.connections, idleOn(['a']), `one: ${one.stats.connections} connections = a's idle sessions`);
  t.equal(two.stats.connections, idleOn(['b']), `two: ${two.stats.connections} connections = b's idle sessions`);
  t.same(td.daemon.pools.stats().map((p) => p.device).sort(), ['a', 'b'], 'only the listed devices have pools');
  t.ok(one.stats.maxConnections <= 6 && two.stats.maxConnections <= 6, `never more than the pools' max at a device (${one.stats.maxConnections}, ${two.stats.maxConnections})`);
});

t.test('shutdown under load: every in-flight call ends OK, UNAVAILABLE or CANCELLED, and every device connection closes', async (t) => {
  const s = await sim(t);
  const td = await startTestDaemon({
    devices: [simSpec(s, 'r1', { pool: { max: 3, maxWaiting: 100 } })],
    argv: ['--shutdown.graceMs', '800'],
  });
  t.teardown(() => td.stop());
  await run(td, 'r1', ['show clock']);

  // Short commands finish inside the grace period, long ones outlive it, and some calls wait
  // in the pool queue (6 workers on 3 sessions).
  let started = 0;
  const worker = async (w: number): Promise<number[]> => {
    const got: number[] = [];
    for (let i = 0; i < 50; i++) {
      started++;
      const c = await outcome(run(td, 'r1', [w % 3 === 0 ? 'sleep 3' : 'sleep 0.1'], 10_000));
      got.push(c);
      if (c !== status.OK) break; // the daemon is going away
    }
    return got;
  };
  const workers = Array.from({ length: 6 }, (_, w) => worker(w));
  await waitFor(() => started >= 12 && stats(td, 'r1').busy === 3 && stats(td, 'r1').waiting > 0, 'the device to be saturated');
  const t0 = Date.now();
  await td.daemon.shutdown('test');
  const shutdownMs = Date.now() - t0;
  const results = (await Promise.all(workers)).flat();
  t.ok(shutdownMs < 800 + 3000, `shutdown finished in ${shutdownMs} ms (grace 800 ms)`);
  const allowed = new Set<number>([status.OK, status.UNAVAILABLE, status.CANCELLED]);
  const bad = results.filter((c) => !allowed.has(c));
  t.same(bad, [], `only OK, UNAVAILABLE or CANCELLED (${results.length} calls: ${[...new Set(results)].map((c) => status[c]).join(', ')})`);
  t.ok(results.includes(status.OK), 'calls finishing within the grace period succeeded');
  t.ok(results.some((c) => c !== status.OK), 'calls outliving the grace period were ended');
  await waitFor(() => s.stats.connections === 0, 'every device connection to close', 5000);
  t.equal(s.stats.connections, 0);
});

async function scrape(td: TestDaemon) {
  const res = await fetch(`http://${td.daemon.metricsAddress}/metrics`);
  return parseExposition(await res.text());
}

t.test('saturation shows on /metrics: busy and waiting gauges rise, queue-full is counted, and both fall back', async (t) => {
  const s = await sim(t);
  const td = await startTestDaemon({ devices: [simSpec(s, 'r1', { pool: { max: 2, maxWaiting: 3 } })] });
  t.teardown(() => td.stop());
  // Both sessions open and idle first: a caller waiting for a session being opened counts as waiting.
  await Promise.all([run(td, 'r1', ['sleep 0.2']), run(td, 'r1', ['sleep 0.2'])]);
  t.equal(stats(td, 'r1').idle, 2);
  const g = (samples: Awaited<ReturnType<typeof scrape>>, state: string) =>
    sampleValue(samples, 'warmpool_sessions', { device: 'r1', protocol: 'ssh', state });
  const waiting = (samples: Awaited<ReturnType<typeof scrape>>) =>
    sampleValue(samples, 'warmpool_pool_waiting', { device: 'r1', protocol: 'ssh' });

  const before = await scrape(td);
  t.equal(g(before, 'busy'), 0);
  t.equal(waiting(before), 0);

  // 2 running + 3 waiting fill the device; the 6th overflows.
  const inflight = Array.from({ length: 5 }, () => outcome(run(td, 'r1', ['sleep 1'], 10_000)));
  await waitFor(() => stats(td, 'r1').busy === 2 && stats(td, 'r1').waiting === 3, 'the device to be saturated');
  const during = await scrape(td);
  t.equal(g(during, 'busy'), 2, 'busy gauge shows both sessions in use');
  t.equal(waiting(during), 3, 'waiting gauge shows the queue');
  const over = await outcome(run(td, 'r1', ['show clock']));
  t.equal(over, status.RESOURCE_EXHAUSTED, 'the call beyond maxWaiting is RESOURCE_EXHAUSTED');

  t.same(await Promise.all(inflight), [0, 0, 0, 0, 0], 'every queued call was served');
  const after = await scrape(td);
  t.equal(g(after, 'busy'), 0, 'busy gauge back to 0');
  t.equal(waiting(after), 0, 'waiting gauge back to 0');
  t.equal(g(after, 'idle'), 2, 'both sessions idle again');
  t.equal(sampleValue(after, 'warmpool_rpc_requests_total', { method: 'DeviceProxy/Run', code: 'RESOURCE_EXHAUSTED' }), 1, 'the overflow is counted by code');
  t.ok((sampleValue(after, 'warmpool_acquire_wait_seconds_count', { protocol: 'ssh' }) ?? 0) >= 6, 'queued acquires are in the wait histogram');
});
