/**
 * Reliability through the real daemon when the network, not the device, misbehaves:
 * links reset or gone silent (fault proxy between warmpool and a simulated device),
 * logins too slow for the connect timeout, and a device whose host key changes.
 *
 * Device kill mid-command, random disconnect churn and saturation live in
 * pool-integration.test.ts; the status-code table in api-e2e.test.ts.
 */
import t, { type Test } from 'tap';
import { status, type ServiceError } from '@grpc/grpc-js';
import { startSimDevice, type SimDevice, type SimOptions } from '../src/sim/ssh-device.js';
import type { PoolStats } from '../src/pool/types.js';
import { startFaultProxy, type FaultProxy } from './kit/fault-proxy.js';
import { startTestDaemon, simSpec, m, type TestDaemon } from './kit/daemon.js';
import { waitFor } from './kit/wait.js';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const KEEPALIVE_MS = 200;
const KEEPALIVE_COUNT = 3;
/**
 * ssh2 declares the peer dead when a keepalive is due and countMax are already
 * unanswered: interval × (countMax + 1) after the last reply at the latest.
 */
const KEEPALIVE_BOUND_MS = KEEPALIVE_MS * (KEEPALIVE_COUNT + 1);
/** Scheduling slack on a loaded 2-core box (the daemon shares this process with the test). */
const SLACK_MS = 700;

async function sim(t: Test, opts: Partial<SimOptions> = {}): Promise<SimDevice> {
  const s = await startSimDevice({ platform: 'cisco_ios', ...opts });
  t.teardown(() => s.close());
  return s;
}

async function proxyFor(t: Test, s: SimDevice): Promise<FaultProxy> {
  const p = await startFaultProxy({ host: s.host, port: s.port });
  t.teardown(() => p.close());
  return p;
}

/** The device as seen through the proxy, with short SSH timers (appKeepalive off: not under test here). */
function viaProxy(s: SimDevice, p: FaultProxy, id: string, ssh: Record<string, number> = {}, pool: Record<string, number> = {}) {
  return simSpec(s, id, {
    host: p.host, port: p.port,
    ssh: { keepaliveIntervalMs: KEEPALIVE_MS, keepaliveCountMax: KEEPALIVE_COUNT, appKeepaliveMs: 0, connectTimeoutMs: 3000, ...ssh },
    pool: { max: 2, ...pool },
  });
}

async function daemon(t: Test, devices: ReturnType<typeof simSpec>[], argv: string[] = []): Promise<TestDaemon> {
  const td = await startTestDaemon({ devices, argv });
  t.teardown(() => td.stop());
  return td;
}

const stats = (td: TestDaemon, id: string): PoolStats => td.daemon.stats([id])[0] as PoolStats;
const settled = (s: PoolStats): boolean => s.busy === 0 && s.connecting === 0 && s.waiting === 0;
const run = (td: TestDaemon, device: string, commands: string[], deadlineMs?: number): Promise<Any> =>
  td.call(m(td.proxy, 'Run'), { device, commands }, deadlineMs ? { deadlineMs } : {});
const failure = (p: Promise<unknown>): Promise<ServiceError> =>
  p.then(() => { throw new Error('the call was expected to fail'); }, (e: ServiceError) => e);
const errorCode = (e: ServiceError): string => String(e.metadata?.get('warmpool-error-code')[0] ?? '');

t.test('a reset link is detected at once: the running call fails UNAVAILABLE quickly, an idle one is replaced unseen', async (t) => {
  const s = await sim(t);
  const p = await proxyFor(t, s);
  const td = await daemon(t, [viaProxy(s, p, 'r1')]);

  const first = await run(td, 'r1', ['show clock']);
  t.equal(first.session.reused, false);
  const pending = failure(run(td, 'r1', ['sleep 5']));
  await waitFor(() => (s.stats.commandCounts.get('sleep 5') ?? 0) > 0, 'the command to start');
  const t0 = Date.now();
  p.resetAll();
  const err = await pending;
  const took = Date.now() - t0;
  t.equal(err.code, status.UNAVAILABLE, `UNAVAILABLE (${err.details})`);
  t.equal(errorCode(err), 'CONNECTION_LOST');
  t.match(err.details, /r1/);
  t.ok(took < 1000, `reported ${took} ms after the reset, not after keepalive or command timeouts`);

  const next = await run(td, 'r1', ['show clock']);
  t.equal(next.results[0].failed, false, 'the next call is served');
  t.equal(next.session.reused, false, 'on a fresh session');

  // Idle session reset: noticed by itself, at once, and never handed out. (A call arriving in
  // the very event-loop turn the RST is read in can still be given the session; it then
  // fails UNAVAILABLE like the running call above.)
  const closedBefore = stats(td, 'r1').closedTotal;
  const t1 = Date.now();
  p.resetAll();
  await waitFor(() => stats(td, 'r1').closedTotal > closedBefore, 'the idle session to be dropped', 2000);
  t.ok(Date.now() - t1 < 500, `an idle reset session is dropped within ${Date.now() - t1} ms, without any call`);
  t.equal(stats(td, 'r1').idle, 0);
  const afterIdleReset = await run(td, 'r1', ['show clock']);
  t.equal(afterIdleReset.results[0].failed, false, 'no error surfaced for a session reset while idle');
  t.equal(afterIdleReset.session.reused, false, 'the reset session was not handed out');
  await waitFor(() => settled(stats(td, 'r1')) && stats(td, 'r1').idle === 1, 'pool back to one idle session');
  await waitFor(() => s.stats.connections === 1, 'the device holds only the live session');
});

t.test('a blackholed idle link is detected within the SSH keepalive bound and the pool settles', async (t) => {
  const s = await sim(t);
  const p = await proxyFor(t, s);
  const td = await daemon(t, [viaProxy(s, p, 'r1')]);
  await run(td, 'r1', ['show clock']);
  t.equal(stats(td, 'r1').idle, 1);
  const closedBefore = stats(td, 'r1').closedTotal;

  const t0 = Date.now();
  p.blackholeAll();
  await waitFor(() => stats(td, 'r1').closedTotal > closedBefore, 'the dead session to be noticed', KEEPALIVE_BOUND_MS + 5000);
  const detected = Date.now() - t0;
  t.ok(detected <= KEEPALIVE_BOUND_MS + SLACK_MS,
    `detected after ${detected} ms (bound ${KEEPALIVE_MS} ms x (${KEEPALIVE_COUNT} + 1) = ${KEEPALIVE_BOUND_MS} ms + ${SLACK_MS} ms slack)`);
  t.ok(detected >= KEEPALIVE_MS * KEEPALIVE_COUNT - 50, `and not before countMax keepalives went unanswered (${detected} ms)`);
  const st = stats(td, 'r1');
  t.match(st, { idle: 0, busy: 0, connecting: 0, waiting: 0 }, 'no session left behind');
  t.equal(s.stats.connections, 1, 'the device never saw a close (the blackhole ate it): detection came from keepalives');

  const next = await run(td, 'r1', ['show clock']);
  t.equal(next.session.reused, false, 'the next call gets a fresh session over a new connection');
});

t.test('a command on a link that goes silent fails UNAVAILABLE within the keepalive bound, not at the command timeout', async (t) => {
  const s = await sim(t);
  const p = await proxyFor(t, s);
  const td = await daemon(t, [viaProxy(s, p, 'r1', { commandTimeoutMs: 20_000 })]);
  await run(td, 'r1', ['show clock']);
  const pending = failure(run(td, 'r1', ['sleep 10']));
  await waitFor(() => (s.stats.commandCounts.get('sleep 10') ?? 0) > 0, 'the command to start');
  const t0 = Date.now();
  p.blackholeAll();
  const err = await pending;
  const took = Date.now() - t0;
  t.equal(err.code, status.UNAVAILABLE, `UNAVAILABLE (${err.details})`);
  t.ok(took <= KEEPALIVE_BOUND_MS + SLACK_MS, `failed after ${took} ms (keepalive bound ${KEEPALIVE_BOUND_MS} ms)`);
  await waitFor(() => settled(stats(td, 'r1')), 'pool to settle');
  t.equal(stats(td, 'r1').idle, 0, 'the dead session is not kept');
});

t.test('without keepalives a blackholed command ends at its deadline, server side too, and its session is not reused', async (t) => {
  const s = await sim(t);
  const p = await proxyFor(t, s);
  // keepaliveIntervalMs 0: nothing but the deadline can end the command.
  const td = await daemon(t, [viaProxy(s, p, 'r1', { keepaliveIntervalMs: 0, commandTimeoutMs: 20_000 })]);
  await run(td, 'r1', ['show clock']);
  p.blackholeAll();

  // A server-side timeout (command_timeout_ms): the status comes from the daemon.
  const t0 = Date.now();
  const err = await failure(td.call(m(td.proxy, 'Run'), { device: 'r1', commands: ['show version'], command_timeout_ms: 600 }));
  const took = Date.now() - t0;
  t.equal(err.code, status.DEADLINE_EXCEEDED, `DEADLINE_EXCEEDED (${err.details})`);
  t.equal(errorCode(err), 'COMMAND_TIMEOUT', 'produced by the daemon, not by the client library');
  t.ok(took >= 550 && took < 600 + SLACK_MS + 500, `after ${took} ms (timeout 600 ms)`);
  t.equal(stats(td, 'r1').idle, 0, 'the timed-out session was not put back');

  // A gRPC deadline: the client gives up by itself, so check that the daemon let go too.
  const fresh = await run(td, 'r1', ['show clock']);
  t.equal(fresh.session.reused, false, 'a fresh session over a new connection');
  p.blackholeAll();
  const t1 = Date.now();
  const err2 = await failure(run(td, 'r1', ['show version'], 700));
  t.equal(err2.code, status.DEADLINE_EXCEEDED);
  await waitFor(() => td.daemon.tracker.active === 0 && settled(stats(td, 'r1')), 'the daemon to end the call', 3000);
  const released = Date.now() - t1;
  t.ok(released < 700 + SLACK_MS + 500, `the daemon released the session ${released} ms after the call began (deadline 700 ms)`);
  t.equal(stats(td, 'r1').idle, 0, 'and did not keep it');
  const again = await run(td, 'r1', ['show clock']);
  t.equal(again.results[0].failed, false, 'the device is served again');
});

t.test('a login slower than connectTimeoutMs fails UNAVAILABLE (CONNECT_TIMEOUT) without leaking slots', async (t) => {
  const s = await sim(t);
  const p = await proxyFor(t, s);
  // acquireTimeoutMs 600 < connect timeout (400) + the shortest reconnect backoff (250): each
  // call fails with the connect error itself rather than waiting for a retry.
  // breaker.maxOpenMs 1000 also caps the reconnect backoff at 1 s (app/ssh-pools.ts).
  const td = await daemon(t, [viaProxy(s, p, 'slow', { connectTimeoutMs: 400 }, { max: 3, acquireTimeoutMs: 600 })],
    ['--breaker.openMs', '1000', '--breaker.maxOpenMs', '1000']);
  p.set({ handshakeDelayMs: 2000 });

  const t0 = Date.now();
  const errs = await Promise.all([0, 1, 2].map(() => failure(run(td, 'slow', ['show clock']))));
  const took = Date.now() - t0;
  for (const e of errs) {
    t.equal(e.code, status.UNAVAILABLE, `UNAVAILABLE (${e.details})`);
    t.equal(errorCode(e), 'CONNECT_TIMEOUT');
    t.match(e.details, /slow.*timed out after 400 ms/);
  }
  t.ok(took < 400 + SLACK_MS + 500, `all three failed after ${took} ms, not after the 2 s login`);
  t.equal(p.totalConnections(), 3, 'one connection attempt per call');
  const st = stats(td, 'slow');
  t.match(st, { idle: 0, busy: 0, connecting: 0, waiting: 0 }, 'no slot held by the failed connects');
  t.equal(st.failedConnectsTotal, 3);
  t.equal(st.circuit, 'closed', 'three failures are below the breaker threshold');
  await waitFor(() => s.stats.connections === 0, 'the abandoned connections to close at the device');

  p.set({});
  // The pool waits out its reconnect backoff (up to 1 s here) before it tries again. With no
  // session to wait for, a call meeting that wait fails at once with the last connect error
  // (UNAVAILABLE) rather than waiting for the retry. Bounded: the backoff cap is 1 s.
  const waits: string[] = [];
  let served = false;
  const retryBy = Date.now() + 1000 + SLACK_MS + 500;
  for (let i = 0; i < 100 && Date.now() < retryBy && !served; i++) {
    const c0 = Date.now();
    const r = await run(td, 'slow', ['show clock']).catch((e: ServiceError) => e);
    if (!(r instanceof Error)) served = true;
    else {
      waits.push(`${errorCode(r as ServiceError)} after ${Date.now() - c0} ms`);
      await new Promise((res) => setTimeout(res, 50));
    }
  }
  t.ok(waits.every((c) => /^CONNECT_TIMEOUT after \d+ ms$/.test(c) && Number(/(\d+) ms/.exec(c)?.[1]) < 400),
    `while the backoff ran, calls failed at once with the last connect error: ${waits.join(', ') || 'no wait'}`);
  t.ok(served, 'the device is tried again within the backoff cap');
  const t1 = Date.now();
  const ok = await Promise.all([0, 1, 2].map(() => run(td, 'slow', ['sleep 1'])));
  const took1 = Date.now() - t1;
  t.ok(ok.every((r) => r.results[0].failed === false), 'with the delay gone, max concurrent calls succeed');
  t.equal(new Set(ok.map((r) => r.session.id)).size, 3, 'on three sessions at once: no slot was lost to the failed connects');
  t.equal(stats(td, 'slow').idle, 3);
  t.ok(took1 < 2500, `concurrently (${took1} ms for three 1 s commands)`);
});

t.test('a changed host key: the open session keeps working, new connections fail FAILED_PRECONDITION without sending the password, and reconnects stay bounded', async (t) => {
  const s = await sim(t);
  const td = await daemon(t, [simSpec(s, 'r1', { pool: { max: 2 } })], ['--breaker.openMs', '300', '--breaker.maxOpenMs', '1000']);
  await run(td, 'r1', ['show clock']);
  s.setFault({ changeHostKey: true });

  const still = await run(td, 'r1', ['show version']);
  t.equal(still.session.reused, true, 'the established session is unaffected by the key change');
  t.equal(still.results[0].failed, false);

  const connectsBefore = s.stats.totalConnections;
  const authBefore = s.stats.authAttempts;
  s.kill();
  await waitFor(() => stats(td, 'r1').idle === 0 && settled(stats(td, 'r1')), 'the pool to drop the killed session');

  const err = await failure(run(td, 'r1', ['show clock']));
  t.equal(err.code, status.FAILED_PRECONDITION, `FAILED_PRECONDITION (${err.details})`);
  t.equal(errorCode(err), 'HOST_KEY_MISMATCH');
  t.match(err.details, /host key/);
  t.notMatch(err.details, s.password);

  // Hammer it for 2 s: the breaker (open 300 ms, growing to 1 s) must keep connects rare.
  const windowMs = 2000;
  const end = Date.now() + windowMs;
  const codes = new Map<number, number>();
  let calls = 0;
  const unexplained: string[] = [];
  while (Date.now() < end && calls < 200) {
    calls++;
    const e = await failure(run(td, 'r1', ['show clock']));
    codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
    if (!/host key/.test(e.details)) unexplained.push(e.details);
    await new Promise((r) => setTimeout(r, 20));
  }
  t.same(unexplained, [], `every one of ${calls} failures names the host key`);
  // While the circuit is open the callers still get FAILED_PRECONDITION: UNAVAILABLE would invite
  // clients to retry something only an operator can fix.
  t.same([...codes.keys()], [status.FAILED_PRECONDITION], `all ${calls} calls failed FAILED_PRECONDITION`);
  const connects = s.stats.totalConnections - connectsBefore;
  // openMs 300 doubling to 1000 with jitter: at most ~5 probes in 2 s.
  t.ok(connects >= 1 && connects <= 6, `${connects} connection attempts for ${calls + 1} calls over ${windowMs} ms`);
  t.equal(s.stats.authAttempts - authBefore, 0, 'no authentication attempt (no password) was ever sent to the new key');
  t.equal(stats(td, 'r1').connecting, 0);
});
