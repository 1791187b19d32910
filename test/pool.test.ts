import t from 'tap';
import { WarmpoolError, isWarmpoolError } from '../src/core/errors.js';
import type { Lease } from '../src/pool/types.js';
import { FakeClock, flush, seededRandom } from './kit/fake-clock.js';
import { FakeFactory, FakeSession, makeTestPool } from './kit/fake-session.js';

// The daemon treats an unhandled rejection as fatal; so does this file.
const unhandled: unknown[] = [];
const onUnhandled = (r: unknown): void => { unhandled.push(r); };
process.on('unhandledRejection', onUnhandled);
t.teardown(() => {
  process.off('unhandledRejection', onUnhandled);
});

/** Settle a promise into a value or error without risking an unhandled rejection. */
function settle<T>(p: Promise<T>): { value?: T; error?: unknown; done: boolean } {
  const r: { value?: T; error?: unknown; done: boolean } = { done: false };
  p.then((v) => { r.value = v; r.done = true; }, (e: unknown) => { r.error = e; r.done = true; });
  return r;
}

const refused = (): WarmpoolError => new WarmpoolError('CONNECT_REFUSED', 'sw1: connection refused', { device: 'sw1' });

t.test('opens on first acquire, then reuses the released session with accurate lease info', async (t) => {
  const { pool, clock, factory, events } = makeTestPool();
  factory.openDelayMs = 40;
  const p = settle(pool.acquire());
  await clock.tick(40);
  const l1 = p.value as Lease<FakeSession>;
  t.same(l1.info, { id: 's1', reused: false, waitMs: 40, connectMs: 40, uses: 1 });
  l1.release();
  l1.release(); // idempotent
  await clock.tick(5);
  const l2 = await pool.acquire();
  t.same(l2.info, { id: 's1', reused: true, waitMs: 0, connectMs: 0, uses: 2 });
  t.equal(factory.calls, 1);
  t.match(pool.stats(), { idle: 0, busy: 1, connecting: 0, waiting: 0, createdTotal: 1, acquiredTotal: 2, circuit: 'closed' });
  t.same(events, ['opened:sw1:success', 'acquired:sw1', 'acquired:sw1']);
  l2.release();
  await pool.close();
});

t.test('idle sessions are handed out most-recently-used first (LIFO)', async (t) => {
  const { pool, clock } = makeTestPool({ max: 3 });
  const a = settle(pool.acquire());
  const b = settle(pool.acquire());
  await clock.tick(0);
  const la = a.value as Lease<FakeSession>;
  const lb = b.value as Lease<FakeSession>;
  lb.release();
  await clock.tick(10);
  la.release();
  const next = await pool.acquire();
  t.equal(next.session.id, la.session.id, 'the one released last');
  next.release();
  await pool.close();
});

t.test('waiters are served in FIFO order', async (t) => {
  const { pool, clock } = makeTestPool({ max: 1 });
  const first = settle(pool.acquire());
  await clock.tick(0);
  const order: string[] = [];
  const ps = ['a', 'b', 'c'].map((n) => pool.acquire().then((l) => { order.push(n); return l; }));
  t.equal(pool.stats().waiting, 3);
  (first.value as Lease<FakeSession>).release();
  for (const p of ps) (await p).release();
  t.same(order, ['a', 'b', 'c']);
  await pool.close();
});

t.test('a full wait queue rejects with QUEUE_FULL naming the device and the limit', async (t) => {
  const { pool, clock } = makeTestPool({ max: 1, maxWaiting: 2 });
  const held = settle(pool.acquire());
  await clock.tick(0);
  const w1 = settle(pool.acquire());
  const w2 = settle(pool.acquire());
  const err = await pool.acquire().catch((e: unknown) => e);
  t.ok(isWarmpoolError(err, 'QUEUE_FULL'));
  t.match((err as Error).message, /sw1.*maxWaiting 2/);
  (held.value as Lease<FakeSession>).release();
  await clock.tick(0);
  (w1.value as Lease<FakeSession>).release();
  await clock.tick(0);
  (w2.value as Lease<FakeSession>).release();
  await pool.close();
});

t.test('acquireTimeoutMs gives ACQUIRE_TIMEOUT; an earlier caller deadline gives DEADLINE_EXCEEDED', async (t) => {
  const { pool, clock } = makeTestPool({ max: 1, acquireTimeoutMs: 1000 });
  const held = settle(pool.acquire());
  await clock.tick(0);
  const timeout = settle(pool.acquire());
  const deadline = settle(pool.acquire({ deadline: clock.now() + 300 }));
  const late = settle(pool.acquire({ deadline: clock.now() + 5000 }));
  await clock.tick(299);
  t.notOk(deadline.done);
  await clock.tick(1);
  t.ok(isWarmpoolError(deadline.error, 'DEADLINE_EXCEEDED'));
  t.match((deadline.error as Error).message, /^sw1 \(ssh\): caller deadline passed after waiting 300 ms/);
  await clock.tick(700);
  t.ok(isWarmpoolError(timeout.error, 'ACQUIRE_TIMEOUT'));
  t.match((timeout.error as Error).message, /^sw1 \(ssh\): no session within acquireTimeoutMs 1000 \(waited 1000 ms/);
  t.ok(isWarmpoolError(late.error, 'ACQUIRE_TIMEOUT'), 'acquireTimeoutMs came first for this one');
  const past = await pool.acquire({ deadline: clock.now() }).catch((e: unknown) => e);
  t.ok(isWarmpoolError(past, 'DEADLINE_EXCEEDED'));
  t.equal(pool.stats().waiting, 0);
  (held.value as Lease<FakeSession>).release();
  await pool.close();
});

t.test('an aborted waiter leaves the queue at once with CANCELLED', async (t) => {
  const { pool, clock } = makeTestPool({ max: 1 });
  const held = settle(pool.acquire());
  await clock.tick(0);
  const ac = new AbortController();
  const w = settle(pool.acquire({ signal: ac.signal }));
  const after = settle(pool.acquire());
  t.equal(pool.stats().waiting, 2);
  ac.abort();
  t.equal(pool.stats().waiting, 1, 'queue length drops synchronously');
  await flush();
  t.ok(isWarmpoolError(w.error, 'CANCELLED'));
  (held.value as Lease<FakeSession>).release();
  await flush();
  t.ok(after.value, 'the next waiter got the session');
  const pre = new AbortController();
  pre.abort();
  t.ok(isWarmpoolError(await pool.acquire({ signal: pre.signal }).catch((e: unknown) => e), 'CANCELLED'));
  (after.value as Lease<FakeSession>).release();
  await pool.close();
});

t.test('a session opened for a waiter who left goes to the next waiter, or idle', async (t) => {
  const { pool, clock, factory } = makeTestPool({ max: 1 });
  factory.openDelayMs = 100;
  const ac = new AbortController();
  const gone = settle(pool.acquire({ signal: ac.signal }));
  await clock.tick(10);
  ac.abort();
  const next = settle(pool.acquire());
  await clock.tick(90);
  t.ok(isWarmpoolError(gone.error, 'CANCELLED'));
  t.equal((next.value as Lease<FakeSession>).session.id, 's1');
  t.equal(factory.calls, 1, 'no second open');
  (next.value as Lease<FakeSession>).release();
  const ac2 = new AbortController();
  const l = await pool.acquire();
  const w2 = settle(pool.acquire({ signal: ac2.signal }));
  ac2.abort();
  l.release();
  await flush();
  t.ok(isWarmpoolError(w2.error, 'CANCELLED'));
  t.match(pool.stats(), { idle: 1, busy: 0 });
  await pool.close();
});

t.test('start() prewarms to min and closes are refilled to min', async (t) => {
  const { pool, clock, factory } = makeTestPool({ min: 2, max: 3 });
  pool.start();
  await clock.tick(0);
  t.match(pool.stats(), { idle: 2, createdTotal: 2 });
  factory.sessions[0]!.kill(new Error('peer closed'));
  t.equal(pool.stats().idle, 1, 'removed at once');
  await clock.tick(0);
  t.match(pool.stats(), { idle: 2, createdTotal: 3 });
  await pool.close();
});

t.test('idle sessions are evicted after idleTimeoutMs, least recently used first, never below min', async (t) => {
  const { pool, clock, factory, events } = makeTestPool({ min: 1, max: 3, idleTimeoutMs: 1000 });
  pool.start();
  const ls = [settle(pool.acquire()), settle(pool.acquire()), settle(pool.acquire())];
  await clock.tick(0);
  for (const l of ls) (l.value as Lease<FakeSession>).release(); // s1.. released in order: s3 is MRU
  t.equal(pool.stats().idle, 3);
  await clock.tick(999);
  t.equal(pool.stats().idle, 3);
  await clock.tick(1);
  t.equal(pool.stats().idle, 1);
  t.same(events.filter((e) => e.startsWith('closed')), ['closed:sw1:idle_timeout', 'closed:sw1:idle_timeout']);
  t.same(factory.open_.map((s) => s.id), [(ls[2]!.value as Lease<FakeSession>).session.id], 'the most recently used stays');
  await clock.tick(10_000);
  t.equal(pool.stats().idle, 1, 'min is kept');
  await pool.close();
});

t.test('max lifetime is jittered per session, and enforced only while idle', async (t) => {
  const clock = new FakeClock();
  const { pool, factory } = makeTestPool({ max: 10, maxLifetimeMs: 10_000, idleTimeoutMs: 0 },
    { clock, lifetimeJitter: 0.5, random: seededRandom(42) });
  const leases = await Promise.all(Array.from({ length: 10 }, () => {
    const p = pool.acquire();
    return p;
  }).map(async (p) => { await clock.tick(0); return p; }));
  const busy = leases[0]!;
  for (const l of leases.slice(1)) l.release();
  const closedAt: number[] = [];
  for (let i = 0; i < 100 && closedAt.length < 9; i++) {
    const before = factory.open_.length;
    await clock.tick(100);
    for (let k = factory.open_.length; k < before; k++) closedAt.push(clock.now());
  }
  t.equal(closedAt.length, 9);
  t.ok(Math.min(...closedAt) >= 5000 && Math.max(...closedAt) <= 10_000, `expiries in [5 s, 10 s]: ${closedAt}`);
  t.ok(new Set(closedAt).size >= 5, 'expiries are spread, not all at once');
  t.equal(busy.session.closed, false, 'a leased session past its lifetime is not closed under the caller');
  busy.release();
  await clock.tick(0);
  t.equal(busy.session.closed, true, 'closed on release');
  t.equal(pool.stats().idle, 0);
  await pool.close();
});

t.test('a session idle past healthCheckAfterMs is probed; a failed probe is replaced transparently', async (t) => {
  const { pool, clock, factory, events } = makeTestPool({ max: 2 });
  const l = settle(pool.acquire());
  await clock.tick(0);
  const s1 = (l.value as Lease<FakeSession>).session;
  (l.value as Lease<FakeSession>).release();
  await clock.tick(10_000);
  const fresh = await pool.acquire();
  t.equal(s1.probeCalls, 0, 'recently used: no probe');
  fresh.release();
  await clock.tick(30_001);
  s1.probeError = new Error('no prompt');
  s1.probeDelayMs = 5;
  const p = settle(pool.acquire());
  await clock.tick(5);
  await clock.tick(0);
  t.equal(s1.probeCalls, 1);
  t.equal(s1.closeCalls, 1, 'failed probe closes the session');
  const got = p.value as Lease<FakeSession>;
  t.equal(got.session.id, 's2', 'the caller got a new session instead of an error');
  t.equal(factory.calls, 2);
  t.ok(events.includes('closed:sw1:probe_failed'));
  got.release();
  await clock.tick(30_001);
  const again = settle(pool.acquire());
  t.equal(pool.stats().busy, 1, 'a session being probed counts as busy');
  await clock.tick(0);
  t.equal((again.value as Lease<FakeSession>).session.id, 's2', 'a passing probe hands the session out');
  t.equal(got.session.probeCalls, 1);
  (again.value as Lease<FakeSession>).release();
  await pool.close();
});

t.test('discarded and dirty sessions are closed, never handed out again', async (t) => {
  const { pool, clock, events } = makeTestPool({ max: 2 });
  const a = settle(pool.acquire());
  await clock.tick(0);
  const la = a.value as Lease<FakeSession>;
  la.release({ discard: true });
  const b = settle(pool.acquire());
  await clock.tick(0);
  const lb = b.value as Lease<FakeSession>;
  t.not(lb.session.id, la.session.id);
  lb.session.dirty = true;
  lb.release();
  const c = settle(pool.acquire());
  await clock.tick(0);
  const lc = c.value as Lease<FakeSession>;
  t.equal(lc.session.id, 's3');
  t.same(events.filter((e) => e.startsWith('closed')), ['closed:sw1:discarded', 'closed:sw1:dirty']);
  lc.release();
  await pool.close();
});

t.test('a session closed by its peer while leased is closed on release, not reused', async (t) => {
  const { pool, clock } = makeTestPool({ max: 1 });
  const a = settle(pool.acquire());
  await clock.tick(0);
  const la = a.value as Lease<FakeSession>;
  la.session.kill();
  t.match(pool.stats(), { busy: 1 });
  la.release();
  const b = settle(pool.acquire());
  await clock.tick(0);
  t.equal((b.value as Lease<FakeSession>).session.id, 's2');
  (b.value as Lease<FakeSession>).release();
  await pool.close();
});

t.test('max is never exceeded: a closing session still holds its slot until close() resolves', async (t) => {
  const { pool, clock, factory } = makeTestPool({ max: 1 });
  factory.configure = (s) => { s.closeDelayMs = 500; };
  const a = settle(pool.acquire());
  await clock.tick(0);
  (a.value as Lease<FakeSession>).release({ discard: true });
  const b = settle(pool.acquire());
  await clock.tick(499);
  t.equal(factory.calls, 1, 'no new open while the old one is closing');
  t.match(pool.stats(), { connecting: 0, busy: 0, idle: 0, waiting: 1 });
  t.equal(pool.closing, 1);
  await clock.tick(1);
  t.equal(factory.calls, 2);
  (b.value as Lease<FakeSession>).release();
  const closing = pool.close();
  await clock.tick(500);
  await closing;
});

const connectTimeout = (): WarmpoolError =>
  new WarmpoolError('CONNECT_TIMEOUT', 'device sw1: connect to 10.0.0.1:22 timed out after 1000 ms (ssh.connectTimeoutMs) during the handshake phase', { device: 'sw1' });

const quickFailures = {
  CONNECT_REFUSED: refused,
  CONNECTION_LOST: (): WarmpoolError => new WarmpoolError('CONNECTION_LOST', 'device sw1: 10.0.0.1:22 closed the connection before the SSH handshake', { device: 'sw1' }),
};
for (const [code, make] of Object.entries(quickFailures)) {
  t.test(`a ${code} connect with no session in the pool is retried once at once; the retry serves the waiter`, async (t) => {
    const { pool, clock, factory, events } = makeTestPool({ max: 1, acquireTimeoutMs: 5000 });
    factory.plan = [make()];
    const a = settle(pool.acquire());
    await clock.tick(0);
    t.equal(factory.calls, 2, 'retried without a backoff delay');
    t.ok(a.value, 'served by the retry, at the same instant');
    t.equal((a.value as Lease<FakeSession>).info.waitMs, 0);
    t.match(pool.stats(), { failedConnectsTotal: 1, circuit: 'closed' });
    t.same(events.slice(0, 3), ['opened:sw1:failure', 'opened:sw1:success', 'acquired:sw1']);
    (a.value as Lease<FakeSession>).release();
    await pool.close();
  });
}

t.test('an unreachable host is not retried at once: the waiter gets the error from the first connect', async (t) => {
  const { pool, clock, factory } = makeTestPool({ max: 1, acquireTimeoutMs: 5000 });
  factory.plan = [new WarmpoolError('HOST_UNREACHABLE', 'device sw1: 10.0.0.1:22 is unreachable (EHOSTUNREACH)', { device: 'sw1' })];
  const a = settle(pool.acquire());
  await clock.tick(0);
  t.equal(factory.calls, 1);
  t.ok(isWarmpoolError(a.error, 'HOST_UNREACHABLE'));
  await pool.close();
});

t.test('a refused connect and its retry with no session in the pool: the waiter gets the connect error at once', async (t) => {
  const { pool, clock, factory } = makeTestPool({ max: 1, acquireTimeoutMs: 60_000 });
  factory.plan = [refused(), refused()];
  const a = settle(pool.acquire());
  await clock.tick(0);
  t.equal(factory.calls, 2, 'one immediate retry, no more');
  t.ok(isWarmpoolError(a.error, 'CONNECT_REFUSED'), 'the real cause, now — not a retry loop until the breaker opens');
  t.match((a.error as Error).message, /sw1: connection refused/);
  t.equal(pool.stats().circuit, 'closed', 'two failures are below the threshold (3)');

  // During the reconnect backoff, a new caller fails at once with the last error: no connect is
  // made for it, and it does not wait for the backoff to end.
  const b = settle(pool.acquire());
  await flush();
  t.ok(isWarmpoolError(b.error, 'CONNECT_REFUSED'), 'fails at once during the backoff');
  t.match((b.error as Error).message, /^sw1: connection refused \(0 ms ago; the next connect attempt is after the reconnect backoff, in \d+ ms\)$/);
  t.equal(factory.calls, 2, 'no connect attempt for it');
  t.match(pool.stats(), { waiting: 0, connecting: 0 });

  // After the backoff a caller makes a new attempt, which succeeds: the device is back.
  await clock.tick(1000); // backoff: 100 .. 1000 ms
  const c = settle(pool.acquire());
  await clock.tick(0);
  t.equal(factory.calls, 3);
  t.ok(c.value, 'served once the backoff is over');
  (c.value as Lease<FakeSession>).release();
  await pool.close();
});

t.test('a failed connect with a session in use: waiters queue for the release, as in any busy pool', async (t) => {
  const { pool, clock, factory } = makeTestPool({ max: 2, acquireTimeoutMs: 60_000 });
  const held = settle(pool.acquire());
  await clock.tick(0);
  factory.plan = [refused(), refused()];
  const w = settle(pool.acquire());
  const short = settle(pool.acquire({ deadline: clock.now() + 50 }));
  await clock.tick(0);
  t.equal(factory.calls, 2, 'one open per waiter, each refused');
  t.notOk(w.done, 'a healthy pool: the waiter keeps waiting for a release or the retry');
  t.ok(isWarmpoolError(short.error, 'CONNECT_REFUSED'), 'a waiter whose deadline ends before the retry fails now with the connect error');
  (held.value as Lease<FakeSession>).release();
  await flush();
  t.ok(w.value, 'served by the released session');
  t.equal((w.value as Lease<FakeSession>).session, (held.value as Lease<FakeSession>).session);
  (w.value as Lease<FakeSession>).release();
  await pool.close();
});

t.test('with the circuit open, waiters still queue for a session in use; only a pool with no session fails them fast', async (t) => {
  const { pool, clock, factory } = makeTestPool({ max: 2, acquireTimeoutMs: 60_000 });
  const held = settle(pool.acquire());
  await clock.tick(0);
  factory.plan = [refused(), refused(), refused()];
  const w = settle(pool.acquire());
  for (let i = 0; i < 100 && pool.stats().circuit !== 'open'; i++) await clock.tick(10); // three refused connects, one per backoff
  t.equal(factory.calls, 4);
  t.equal(pool.stats().circuit, 'open');
  t.notOk(w.done, 'the breaker stops connects, not the queue for the session in use');
  (held.value as Lease<FakeSession>).release();
  await flush();
  t.ok(w.value, 'served on release');
  (w.value as Lease<FakeSession>).release({ discard: true });
  await clock.tick(0);
  t.equal(pool.stats().idle + pool.stats().busy, 0, 'no session left');
  const late = await pool.acquire().catch((e: unknown) => e);
  t.ok(isWarmpoolError(late, 'CIRCUIT_OPEN'), 'with no session, a caller fails fast');
  t.equal(factory.calls, 4);
  await pool.close();
});

t.test('a connect that times out before acquireTimeoutMs hands its waiter the connect error when it happens', async (t) => {
  const { pool, clock, factory } = makeTestPool({ max: 1, acquireTimeoutMs: 5000 });
  factory.openDelayMs = 1000;
  factory.plan = [connectTimeout()];
  const a = settle(pool.acquire());
  await clock.tick(999);
  t.notOk(a.done);
  await clock.tick(1);
  t.ok(isWarmpoolError(a.error, 'CONNECT_TIMEOUT'), 'the connect error, at 1000 ms, not ACQUIRE_TIMEOUT at 5000 ms');
  t.match((a.error as Error).message, /timed out after 1000 ms/);
  t.equal(factory.calls, 1, 'a timeout is not retried at once');
  await pool.close();
});

t.test('a failed connect fails one waiter while another connect is in flight; the others wait for that one', async (t) => {
  const { pool, clock, factory } = makeTestPool({ max: 2, acquireTimeoutMs: 60_000 });
  factory.openDelayMs = 1000;
  factory.plan = [connectTimeout(), 'ok'];
  const a = settle(pool.acquire());
  const b = settle(pool.acquire());
  const c = settle(pool.acquire());
  await clock.tick(0);
  t.equal(factory.calls, 2, 'max 2: two opens for three waiters');
  await clock.tick(1000);
  // The first open failed while the second was still in flight: one waiter (the last one that
  // open still covered, b) gets the failure; a stays covered by the second open, which serves it.
  t.ok(isWarmpoolError(b.error, 'CONNECT_TIMEOUT'), 'the failure goes to one waiter, at once');
  t.ok(a.value, 'the head waiter is served by the open that succeeded');
  t.notOk(c.done, 'the third keeps waiting: the device answers again');
  t.equal(pool.stats().connecting, 1, 'a success ends the backoff: a new open is made for it');
  await clock.tick(1000);
  t.ok(c.value, 'served by that open');
  (a.value as Lease<FakeSession>).release();
  (c.value as Lease<FakeSession>).release();
  await pool.close();
});

t.test('an acquire timeout while the connect is still running is CONNECT_TIMEOUT (UNAVAILABLE), not ACQUIRE_TIMEOUT', async (t) => {
  // The connect timeout equals acquireTimeoutMs (both 10 s by default): the waiter's timer fires first.
  const { pool, clock, factory } = makeTestPool({ max: 1, acquireTimeoutMs: 5000 });
  factory.openDelayMs = 5000;
  factory.plan = [connectTimeout()];
  const a = settle(pool.acquire());
  const d = settle(pool.acquire({ deadline: clock.now() + 3000 }));
  await clock.tick(3000);
  t.ok(isWarmpoolError(d.error, 'DEADLINE_EXCEEDED'), "the caller's own deadline stays DEADLINE_EXCEEDED");
  t.match((d.error as Error).message, /connecting to the device had not finished/);
  await clock.tick(2000);
  t.ok(isWarmpoolError(a.error, 'CONNECT_TIMEOUT'), 'the device did not answer in time: UNAVAILABLE');
  t.match((a.error as Error).message, /^sw1 \(ssh\): connecting to the device did not finish within acquireTimeoutMs 5000 \(waited 5000 ms/);
  await pool.close();
});

t.test('breaker: after threshold failures the circuit opens; later callers fail fast; one half-open probe; success closes', async (t) => {
  const { pool, clock, factory, events } = makeTestPool({ max: 2, acquireTimeoutMs: 60_000 },
    { breaker: { failureThreshold: 3, openMs: 10_000, maxOpenMs: 80_000 } });
  factory.plan = [refused(), refused(), refused()];
  const a = settle(pool.acquire());
  const b = settle(pool.acquire());
  await clock.tick(0); // two opens, one immediate retry: three failures
  t.ok(isWarmpoolError(a.error, 'CONNECT_REFUSED'), 'the waiters get the connect error itself');
  t.ok(isWarmpoolError(b.error, 'CONNECT_REFUSED'));
  t.equal(factory.calls, 3);
  t.equal(pool.stats().circuit, 'open');
  const callsWhenOpen = factory.calls;
  const c = await pool.acquire().catch((e: unknown) => e);
  t.ok(isWarmpoolError(c, 'CIRCUIT_OPEN'), 'a later caller fails fast');
  t.match((c as Error).message, /sw1: circuit open until \d{4}-.*Z; last error: sw1: connection refused/);
  t.equal(factory.calls, callsWhenOpen, 'no connection attempt while open');
  await clock.tick(pool.stats().circuitOpenUntil - clock.wallNow());
  t.equal(pool.stats().circuit, 'half_open');
  await clock.tick(1000); // and past the reconnect backoff
  factory.openDelayMs = 100;
  const probe = settle(pool.acquire());
  const other = settle(pool.acquire());
  await clock.tick(0);
  t.ok(isWarmpoolError(other.error, 'CIRCUIT_OPEN'), 'only one caller is let through as the probe');
  t.match((other.error as Error).message, /a probe connection is in progress/);
  t.equal(factory.calls, callsWhenOpen + 1);
  await clock.tick(100);
  t.ok(probe.value, 'probe succeeded');
  t.equal(pool.stats().circuit, 'closed');
  t.same(events.filter((e) => e.startsWith('circuit')), ['circuit:sw1:open', 'circuit:sw1:half_open', 'circuit:sw1:closed']);
  (probe.value as Lease<FakeSession>).release();
  await pool.close();
});

t.test('breaker: a failed half-open probe opens the circuit again', async (t) => {
  const { pool, clock, factory } = makeTestPool({ max: 1, acquireTimeoutMs: 60_000 });
  factory.plan = [refused(), refused(), refused(), refused()];
  const a = settle(pool.acquire());
  await clock.tick(0); // a connect and its immediate retry
  t.ok(isWarmpoolError(a.error, 'CONNECT_REFUSED'));
  await clock.tick(1000); // past the backoff
  const b = settle(pool.acquire());
  await clock.tick(0); // the third failure opens the circuit
  t.ok(isWarmpoolError(b.error, 'CONNECT_REFUSED'));
  t.equal(pool.stats().circuit, 'open');
  await clock.tick(pool.stats().circuitOpenUntil - clock.wallNow() + 1000);
  const calls = factory.calls;
  const probe = settle(pool.acquire());
  await clock.tick(0);
  t.equal(factory.calls, calls + 1, 'one probe attempt');
  t.ok(isWarmpoolError(probe.error, 'CONNECT_REFUSED'), 'the probe caller gets the probe\'s own connect error');
  t.equal(pool.stats().circuit, 'open', 'and the circuit re-opened');
  const later = await pool.acquire().catch((e: unknown) => e);
  t.ok(isWarmpoolError(later, 'CIRCUIT_OPEN'));
  t.equal(factory.calls, calls + 1);
  await pool.close();
});

for (const code of ['AUTH_FAILED', 'HOST_KEY_MISMATCH'] as const) {
  t.test(`${code} is not retried: factory called once, waiters get the error, the breaker trips`, async (t) => {
    const { pool, clock, factory } = makeTestPool({ min: 1, max: 2, acquireTimeoutMs: 60_000 });
    factory.plan = [new WarmpoolError(code, `sw1: ${code.toLowerCase()}`, { device: 'sw1' })];
    factory.openDelayMs = 10;
    const a = settle(pool.acquire());
    await clock.tick(10);
    t.ok(isWarmpoolError(a.error, code), 'waiter gets the permanent error itself');
    t.equal(pool.stats().circuit, 'open');
    await clock.tick(500); // well within the open period: no retry loop, not even for min
    t.equal(factory.calls, 1, 'no retry');
    const b = await pool.acquire().catch((e: unknown) => e);
    t.ok(isWarmpoolError(b, code), 'later callers get the permanent code too (FAILED_PRECONDITION, which clients do not retry)');
    t.match((b as Error).message, /circuit open until/);
    t.match((b as Error).message, new RegExp(code.toLowerCase()));
    t.equal(factory.calls, 1);
    await pool.close();
  });
}

t.test('drain: busy closed on release, waiters and new acquires get DRAINING', async (t) => {
  const { pool, clock, factory } = makeTestPool({ max: 2 });
  const ls = [settle(pool.acquire()), settle(pool.acquire())];
  await clock.tick(0);
  const [a, b] = ls.map((l) => l.value as Lease<FakeSession>) as [Lease<FakeSession>, Lease<FakeSession>];
  const w1 = settle(pool.acquire());
  const w2 = settle(pool.acquire());
  t.equal(pool.stats().waiting, 2);
  t.same(await pool.drain(), { closedIdle: 0, closingBusy: 2 });
  t.equal(pool.stats().waiting, 0);
  await flush();
  t.ok(isWarmpoolError(w1.error, 'DRAINING'), 'waiters get DRAINING');
  t.ok(isWarmpoolError(w2.error, 'DRAINING'));
  t.match((w1.error as Error).message, /^sw1 \(ssh\): pool is draining/);
  t.ok(isWarmpoolError(await pool.acquire().catch((e: unknown) => e), 'DRAINING'), 'new acquires get DRAINING');
  t.equal(factory.open_.length, 2, 'busy sessions are not interrupted');
  a.release();
  await clock.tick(0);
  t.equal(a.session.closed, true, 'closed on release');
  let empty = false;
  void pool.whenEmpty().then(() => { empty = true; });
  await flush();
  t.notOk(empty, 'not empty while a lease is out');
  b.release();
  await clock.tick(0);
  t.ok(empty, 'whenEmpty resolves once the last one closed');
  t.match(pool.stats(), { idle: 0, busy: 0, connecting: 0, waiting: 0, closedTotal: 2 });
  await pool.close();
});

t.test('drain closes idle sessions at once and reports them', async (t) => {
  const { pool, clock, factory } = makeTestPool({ min: 2, max: 2 });
  pool.start();
  await clock.tick(0);
  t.same(await pool.drain(), { closedIdle: 2, closingBusy: 0 });
  await clock.tick(0);
  t.equal(factory.open_.length, 0);
  await pool.whenEmpty();
  t.equal(pool.stats().connecting, 0, 'no refill while draining');
  await pool.close();
});

t.test('retire: idle closed now, busy closed on release, new acquires use the new factory', async (t) => {
  const clock = new FakeClock();
  const { pool, factory } = makeTestPool({ max: 3 }, { clock });
  const a = settle(pool.acquire());
  const b = settle(pool.acquire());
  await clock.tick(0);
  (b.value as Lease<FakeSession>).release();
  const f2 = new FakeFactory(clock, 'n');
  pool.retire(f2, { ...pool.settings, max: 2 });
  await clock.tick(0);
  t.equal((b.value as Lease<FakeSession>).session.closed, true, 'idle closed at once');
  const cp = settle(pool.acquire());
  await clock.tick(0);
  const c = cp.value as Lease<FakeSession>;
  t.equal(c.session.id, 'n1', 'fresh session from the new factory');
  const la = a.value as Lease<FakeSession>;
  t.equal(la.session.closed, false, 'busy one not interrupted');
  la.release();
  await clock.tick(0);
  t.equal(la.session.closed, true, 'closed on release');
  t.equal(factory.open_.length, 0);
  t.equal(pool.stats().max, 2);
  c.release();
  await pool.close();
});

t.test('retire: a session still connecting for the old inventory is not handed out', async (t) => {
  const clock = new FakeClock();
  const { pool, factory } = makeTestPool({ max: 2 }, { clock });
  factory.openDelayMs = 100;
  const a = settle(pool.acquire());
  await clock.tick(50);
  const f2 = new FakeFactory(clock, 'n');
  f2.openDelayMs = 100;
  pool.retire(f2);
  await clock.tick(50); // old open completes → closed, not handed out
  t.equal(factory.sessions[0]!.closed, true);
  await clock.tick(100);
  t.equal((a.value as Lease<FakeSession>).session.id, 'n1');
  (a.value as Lease<FakeSession>).release();
  await pool.close();
});

t.test('retire resets a breaker tripped by bad credentials', async (t) => {
  const clock = new FakeClock();
  const { pool, factory } = makeTestPool({ max: 1 }, { clock });
  factory.plan = [new WarmpoolError('AUTH_FAILED', 'sw1: authentication failed')];
  const first = settle(pool.acquire());
  await clock.tick(0);
  t.ok(isWarmpoolError(first.error, 'AUTH_FAILED'));
  t.equal(pool.stats().circuit, 'open');
  pool.retire(new FakeFactory(clock, 'fixed'));
  const l = settle(pool.acquire());
  await clock.tick(0);
  t.equal((l.value as Lease<FakeSession>).session.id, 'fixed1');
  (l.value as Lease<FakeSession>).release();
  await pool.close();
});

t.test('close fails waiters with POOL_CLOSED, closes busy sessions and cancels every timer', async (t) => {
  const { pool, clock, factory } = makeTestPool({ min: 1, max: 1, idleTimeoutMs: 1000, maxLifetimeMs: 5000 });
  pool.start();
  await clock.tick(0);
  const l = await pool.acquire(); // idle after start: served synchronously
  const w = settle(pool.acquire());
  const closed = pool.close();
  await clock.tick(0);
  await closed;
  t.ok(isWarmpoolError(w.error, 'POOL_CLOSED'));
  t.equal(factory.sessions[0]!.closed, true);
  l.release(); // no-op, no throw
  t.equal(clock.pending, 0, 'no timer left behind');
  t.ok(isWarmpoolError(await pool.acquire().catch((e: unknown) => e), 'POOL_CLOSED'));
});

t.test('keepalive runs only on idle sessions, never while leased', async (t) => {
  const { pool, clock, factory } = makeTestPool({ max: 1, idleTimeoutMs: 0 }, { keepaliveIntervalMs: 1000 });
  factory.configure = (s) => { s.keepaliveDelayMs = 50; };
  const a = settle(pool.acquire());
  await clock.tick(0);
  const s1 = (a.value as Lease<FakeSession>).session;
  await clock.tick(5000);
  t.equal(s1.keepaliveCalls, 0, 'not while leased');
  (a.value as Lease<FakeSession>).release();
  await clock.tick(1000);
  t.equal(s1.keepaliveCalls, 1);
  // Acquire during the keepalive: the caller waits for it rather than sharing the session.
  const b = settle(pool.acquire());
  await flush();
  t.notOk(b.done);
  await clock.tick(50);
  t.equal((b.value as Lease<FakeSession>).session, s1);
  t.equal(s1.inCall, false);
  (b.value as Lease<FakeSession>).release();
  await clock.tick(3050);
  t.ok(s1.keepaliveCalls >= 3, `kept alive while idle (${s1.keepaliveCalls})`);
  s1.keepaliveError = new Error('vty gone');
  await clock.tick(1100);
  t.equal(s1.closed, true, 'a failed keepalive closes the session');
  await pool.close();
});

t.test('no application keepalive for a session used within the interval; each session keeps its own phase', async (t) => {
  const { pool, clock } = makeTestPool({ min: 2, max: 2, idleTimeoutMs: 0 }, { keepaliveIntervalMs: 1000 });
  const a = settle(pool.acquire());
  const b = settle(pool.acquire());
  await clock.tick(0);
  const la = a.value as Lease<FakeSession>;
  const lb = b.value as Lease<FakeSession>;
  la.release();
  await clock.tick(500);
  lb.release(); // b last used half an interval after a
  // a is used again at 900: its keepalive due at 1000 is skipped.
  await clock.tick(400);
  const again = settle(pool.acquire());
  await clock.tick(0);
  const sa = la.session;
  const sb = lb.session;
  t.equal((again.value as Lease<FakeSession>).session, sb, 'the hottest idle session is b');
  (again.value as Lease<FakeSession>).release();
  await clock.tick(0);
  t.equal(sa.keepaliveCalls + sb.keepaliveCalls, 0, 'nothing due yet');
  await clock.tick(150); // t = 1050: a idle since 0 → nudged; b used at 900 → not
  t.equal(sa.keepaliveCalls, 1, 'a, idle a whole interval, is nudged');
  t.equal(sb.keepaliveCalls, 0, 'b carried traffic within the interval: skipped');
  await clock.tick(900); // t = 1950: b due at 1900
  t.equal(sb.keepaliveCalls, 1, 'b nudged one interval after its last use');
  t.equal(sa.keepaliveCalls, 1, 'a not again before its own interval');
  await clock.tick(100); // t = 2050
  t.equal(sa.keepaliveCalls, 2, 'a keeps its own phase');
  await pool.close();
});

t.test('drain or close during a borrow probe fails that caller and closes the session', async (t) => {
  for (const how of ['drain', 'close'] as const) {
    const { pool, clock } = makeTestPool({ max: 1 });
    const a = settle(pool.acquire());
    await clock.tick(0);
    const s1 = (a.value as Lease<FakeSession>).session;
    (a.value as Lease<FakeSession>).release();
    await clock.tick(30_001);
    s1.probeDelayMs = 50;
    const b = settle(pool.acquire());
    await clock.tick(10);
    t.equal(s1.probeCalls, 1, `${how}: probing`);
    const done = how === 'drain' ? pool.drain() : pool.close();
    await clock.tick(50);
    await done;
    t.ok(isWarmpoolError(b.error, how === 'drain' ? 'DRAINING' : 'POOL_CLOSED'), `${how}: caller told why`);
    t.equal(s1.closeCalls, 1, `${how}: session closed`);
    await pool.close();
  }
});

t.test('lowering max closes surplus idle sessions and never opens beyond the new max', async (t) => {
  const { pool, clock, factory } = makeTestPool({ max: 3 });
  const ls = [settle(pool.acquire()), settle(pool.acquire()), settle(pool.acquire())];
  await clock.tick(0);
  for (const l of ls) (l.value as Lease<FakeSession>).release();
  pool.updateSettings({ ...pool.settings, max: 1 });
  await clock.tick(0);
  t.match(pool.stats(), { idle: 1, max: 1 });
  t.equal(factory.open_.length, 1);
  await pool.close();
});

// Runs last (tap runs subtests in order): nothing above left a rejection unhandled.
t.test('no promise rejection was left unhandled by the pool', async (t) => {
  await flush();
  t.same(unhandled, []);
});
