/**
 * Failing fast, with the right code, through a real daemon and a real gRPC client:
 * a closed port, a device killed mid-use and a device that accepts TCP but never speaks
 * answer UNAVAILABLE naming the device and the reason, in well under the time the old pool
 * took (3.4–10 s: it held callers across backoff retries until the breaker opened). A call cut
 * at the end of the drain grace gets UNAVAILABLE, not CANCELLED.
 *
 * The measured times are printed as test comments (`npx tap -R tap test/fail-fast.test.ts`);
 * the assertions use generous bounds (the machine is shared), still well below the old figures.
 */
import net from 'node:net';
import t, { type Test } from 'tap';
import { status, type ServiceError } from '@grpc/grpc-js';
import { loadConfig } from '../src/config/load.js';
import { validateDevice } from '../src/config/inventory.js';
import type { DeviceSpec } from '../src/config/types.js';
import type { PoolStats } from '../src/pool/types.js';
import { startSimDevice, type SimDevice } from '../src/sim/ssh-device.js';
import { startTestDaemon, simSpec, m, type TestDaemon } from './kit/daemon.js';
import { waitFor } from './kit/wait.js';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The old pool needed ≥ 3.4 s for these; the new one answers in milliseconds on loopback. */
const FAST_MS = 2000;
const FP = 'SHA256:Ndn2nNQI3C/HRofmkAHuPkHxYutLZVwHJidfQ4IkyLY';
const defaults = loadConfig({ argv: [], env: {} }).defaults;

function deviceAt(id: string, port: number, extra: Record<string, unknown> = {}): DeviceSpec {
  return validateDevice({
    id, host: '127.0.0.1', port, platform: 'cisco_ios', username: 'netops', password: 'not-used', hostKey: { fingerprints: [FP] }, ...extra,
  }, defaults, 'api', 'test');
}

/** A loopback port nobody listens on: listen, note the port, close. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** A TCP server that accepts connections and never sends a byte (no SSH banner). */
async function silentServer(t: Test): Promise<number> {
  const socks = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    socks.add(s);
    s.on('error', () => {});
    s.on('close', () => socks.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => {
    for (const s of socks) s.destroy();
    srv.close(() => r());
  }));
  return (srv.address() as net.AddressInfo).port;
}

async function daemon(t: Test, devices: DeviceSpec[], argv: string[] = []): Promise<TestDaemon> {
  const td = await startTestDaemon({ devices, argv });
  t.teardown(() => td.stop());
  // Connect the client's channel first, so the times below are the daemon's, not the channel's set-up.
  await td.call(m(td.inventory, 'ListDevices'), {});
  return td;
}

const run = (td: TestDaemon, device: string, commands: string[]): Promise<Any> => td.call(m(td.proxy, 'Run'), { device, commands });
const errorCode = (e: ServiceError): string => String(e.metadata?.get('warmpool-error-code')[0] ?? '');
const stats = (td: TestDaemon, id: string): PoolStats => td.daemon.stats([id])[0] as PoolStats;

/** The call's error and how long it took. */
async function timedFailure(p: () => Promise<unknown>): Promise<{ err: ServiceError; ms: number }> {
  const t0 = performance.now();
  const err = await p().then(() => { throw new Error('the call was expected to fail'); }, (e: ServiceError) => e);
  return { err, ms: Math.round(performance.now() - t0) };
}

t.test('a closed port fails UNAVAILABLE naming the device and "refused" at once, for every caller', async (t) => {
  const port = await closedPort();
  const td = await daemon(t, [deviceAt('closed1', port)]);

  const { err, ms } = await timedFailure(() => run(td, 'closed1', ['show clock']));
  t.comment(`closed port: first call failed after ${ms} ms`);
  t.equal(err.code, status.UNAVAILABLE, `UNAVAILABLE (${err.details})`);
  t.equal(errorCode(err), 'CONNECT_REFUSED');
  t.match(err.details, /closed1/);
  t.match(err.details, /refused/);
  t.ok(ms < FAST_MS, `answered in ${ms} ms (the old pool took 2.3–3.8 s)`);
  t.ok(stats(td, 'closed1').failedConnectsTotal <= 2, 'after at most one immediate retry, not a retry loop until the breaker opened');

  // Concurrent callers, and callers arriving during the reconnect backoff or with the circuit
  // open, all fail at once with the reason; none waits for a retry.
  const t0 = performance.now();
  const errs = await Promise.all(Array.from({ length: 6 }, () => timedFailure(() => run(td, 'closed1', ['show clock']))));
  const all = Math.round(performance.now() - t0);
  t.comment(`closed port: 6 concurrent calls all failed within ${all} ms`);
  for (const { err: e } of errs) {
    t.equal(e.code, status.UNAVAILABLE, `UNAVAILABLE (${e.details})`);
    t.match(e.details, /closed1/);
    t.match(e.details, /refused/);
  }
  t.ok(all < FAST_MS, `six more calls answered within ${all} ms`);
  const st = stats(td, 'closed1');
  t.match(st, { idle: 0, busy: 0, connecting: 0, waiting: 0 }, 'nothing held by the failed calls');
});

t.test('later calls keep failing fast while the circuit is open, without connection attempts', async (t) => {
  const port = await closedPort();
  // Threshold 2: one call (a connect plus its one immediate retry) opens the circuit.
  const td = await daemon(t, [deviceAt('closed2', port)], ['--breaker.failureThreshold', '2', '--breaker.openMs', '60000', '--breaker.maxOpenMs', '60000']);
  await timedFailure(() => run(td, 'closed2', ['show clock']));
  t.equal(stats(td, 'closed2').circuit, 'open');
  const attempts = stats(td, 'closed2').failedConnectsTotal;
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const { err, ms } = await timedFailure(() => run(td, 'closed2', ['show clock']));
    times.push(ms);
    t.equal(err.code, status.UNAVAILABLE);
    t.equal(errorCode(err), 'CIRCUIT_OPEN');
    t.match(err.details, /closed2: circuit open until .*refused/, 'names the device and the last connect error');
  }
  t.comment(`circuit open: calls failed after ${times.join(', ')} ms`);
  t.ok(Math.max(...times) < FAST_MS);
  t.equal(stats(td, 'closed2').failedConnectsTotal, attempts, 'no connection attempt while the circuit is open');
});

t.test('a device killed mid-use: the running call and the next ones fail UNAVAILABLE at once', async (t) => {
  const sim: SimDevice = await startSimDevice({ platform: 'cisco_ios' });
  t.teardown(() => sim.close());
  const td = await daemon(t, [simSpec(sim, 'k1', { pool: { max: 2 } })]);
  t.equal((await run(td, 'k1', ['show clock'])).results[0].failed, false, 'the device works');

  const pending = timedFailure(() => run(td, 'k1', ['sleep 5']));
  await waitFor(() => (sim.stats.commandCounts.get('sleep 5') ?? 0) > 0, 'the command to start');
  const t0 = performance.now();
  await sim.close(); // listener closed and every connection destroyed: the device is gone
  const running = await pending;
  const runningMs = Math.round(performance.now() - t0);
  t.equal(running.err.code, status.UNAVAILABLE, `the running call: UNAVAILABLE (${running.err.details})`);
  t.match(running.err.details, /k1/);

  const next = await timedFailure(() => run(td, 'k1', ['show clock']));
  const nextMs = Math.round(performance.now() - t0);
  t.comment(`killed device: running call failed ${runningMs} ms after the kill, the next call ${nextMs} ms after it (${next.ms} ms itself)`);
  t.equal(next.err.code, status.UNAVAILABLE, `the next call: UNAVAILABLE (${next.err.details})`);
  t.equal(errorCode(next.err), 'CONNECT_REFUSED', 'the connect error itself: the call did not wait for the breaker to open');
  t.match(next.err.details, /k1/);
  t.match(next.err.details, /refused/);
  t.ok(nextMs < FAST_MS, `the next call failed ${nextMs} ms after the kill (the old pool took 4.7–9 s)`);
});

t.test('a silent device (TCP accepted, no SSH banner) fails UNAVAILABLE with the connect timeout, not an acquire timeout', async (t) => {
  const port = await silentServer(t);
  // The connect timeout (500 ms) is far below acquireTimeoutMs (10 s): the caller gets the
  // connect's own failure when it happens, not a retry loop until the breaker opens.
  const td = await daemon(t, [deviceAt('quiet1', port, { ssh: { connectTimeoutMs: 500 } })]);
  const { err, ms } = await timedFailure(() => run(td, 'quiet1', ['show clock']));
  t.comment(`silent device, connectTimeoutMs 500 < acquireTimeoutMs 10000: failed after ${ms} ms`);
  t.equal(err.code, status.UNAVAILABLE, `UNAVAILABLE (${err.details})`);
  t.equal(errorCode(err), 'CONNECT_TIMEOUT');
  t.match(err.details, /quiet1/);
  t.match(err.details, /timed out after 500 ms/);
  t.match(err.details, /no SSH banner/, 'says what the device did not do');
  t.ok(ms >= 450 && ms < FAST_MS, `failed after ${ms} ms: one connect timeout, not several`);
});

t.test('connect timeout equal to acquireTimeoutMs: the waiter still gets UNAVAILABLE naming the connect', async (t) => {
  const port = await silentServer(t);
  const td = await daemon(t, [deviceAt('quiet2', port, { ssh: { connectTimeoutMs: 1500 }, pool: { acquireTimeoutMs: 1500 } })]);
  const { err, ms } = await timedFailure(() => run(td, 'quiet2', ['show clock']));
  t.comment(`silent device, connectTimeoutMs = acquireTimeoutMs = 1500: failed after ${ms} ms`);
  t.equal(err.code, status.UNAVAILABLE, `UNAVAILABLE, not DEADLINE_EXCEEDED (${err.details})`);
  t.equal(errorCode(err), 'CONNECT_TIMEOUT');
  t.match(err.details, /quiet2/);
  t.match(err.details, /connect/);
  t.ok(ms < 1500 + FAST_MS, `failed after ${ms} ms`);
});

t.test('a call cut at the end of the drain grace gets UNAVAILABLE (SHUTDOWN), not CANCELLED', async (t) => {
  const sim = await startSimDevice({ platform: 'cisco_ios' });
  t.teardown(() => sim.close());
  const td = await daemon(t, [simSpec(sim, 'd1')], ['--shutdown.graceMs', '300']);
  const pending = timedFailure(() => run(td, 'd1', ['sleep 5']));
  await waitFor(() => (sim.stats.commandCounts.get('sleep 5') ?? 0) > 0, 'the command to start');
  const stopped = td.daemon.shutdown('test drain');
  const { err, ms } = await pending;
  t.comment(`drain: the running call was cut after ${ms} ms (graceMs 300)`);
  t.equal(err.code, status.UNAVAILABLE, `UNAVAILABLE (${err.details})`);
  t.equal(errorCode(err), 'SHUTDOWN', 'its own code: unlike DRAINING at the start of a call, commands may have run');
  t.match(err.details, /d1/, 'names the device');
  t.match(err.details, /shutting down/, 'and why');
  await stopped;
});
