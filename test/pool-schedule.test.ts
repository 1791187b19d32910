import t from 'tap';
import { WarmpoolError, isWarmpoolError } from '../src/core/errors.js';
import type { Lease } from '../src/pool/types.js';
import { FakeClock, flush } from './kit/fake-clock.js';
import { FakeFactory, type FakeSession, makeTestPool } from './kit/fake-session.js';

// Decisions of the pool's one scheduling function (#schedule), seen from the outside on a fake clock.

function settle<T>(p: Promise<T>): { value?: T; error?: unknown; done: boolean } {
  const r: { value?: T; error?: unknown; done: boolean } = { done: false };
  p.then((v) => { r.value = v; r.done = true; }, (e: unknown) => { r.error = e; r.done = true; });
  return r;
}

const refused = (): WarmpoolError => new WarmpoolError('CONNECT_REFUSED', 'sw1: connection refused', { device: 'sw1' });

t.test('one open per waiter no open in flight covers; a waiter who leaves starts none and its open serves the next', async (t) => {
  const { pool, clock, factory } = makeTestPool({ max: 5 });
  factory.openDelayMs = 100;
  const ac = new AbortController();
  const a = settle(pool.acquire({ signal: ac.signal }));
  const b = settle(pool.acquire());
  t.equal(pool.stats().connecting, 2, 'two waiters, two opens');
  ac.abort();
  const c = settle(pool.acquire());
  t.equal(pool.stats().connecting, 2, 'the open started for the waiter who left covers the newcomer');
  await clock.tick(0);
  t.equal(factory.calls, 2);
  await clock.tick(100);
  t.ok(isWarmpoolError(a.error, 'CANCELLED'));
  t.ok(b.value && c.value, 'both remaining waiters served by the two opens');
  t.match(pool.stats(), { busy: 2, idle: 0, connecting: 0, waiting: 0 });
  (b.value as Lease<FakeSession>).release();
  (c.value as Lease<FakeSession>).release();
  await pool.close();
});

t.test('callers turned away while the circuit is open leave the half-open probe free: the first caller after the open period connects at once', async (t) => {
  const clock = new FakeClock();
  const { pool, factory } = makeTestPool({ max: 2, acquireTimeoutMs: 60_000 },
    { clock, breaker: { failureThreshold: 1, openMs: 1000, maxOpenMs: 60_000 }, backoff: { baseMs: 100, maxMs: 100 } });
  factory.plan = [new WarmpoolError('AUTH_FAILED', 'sw1: authentication failed')];
  const first = settle(pool.acquire());
  await clock.tick(0);
  t.ok(isWarmpoolError(first.error, 'AUTH_FAILED'));
  t.equal(pool.stats().circuit, 'open');
  // Each of these is failed with the breaker's error (built without taking the probe slot).
  for (let i = 0; i < 5; i++) t.ok(isWarmpoolError(await pool.acquire().catch((e: unknown) => e), 'AUTH_FAILED'));
  const calls = factory.calls;
  await clock.tick(pool.stats().circuitOpenUntil - clock.wallNow());
  t.equal(pool.stats().circuit, 'half_open');
  const openedAt = clock.now();
  const probe = settle(pool.acquire());
  t.equal(pool.stats().connecting, 1, 'the probe connect starts at once, not after maxOpenMs');
  await clock.tick(0);
  t.equal(factory.calls, calls + 1);
  t.equal((probe.value as Lease<FakeSession>).session.id, 's1');
  t.equal(pool.stats().circuit, 'closed');
  t.equal(clock.now(), openedAt, 'recovered without waiting');
  (probe.value as Lease<FakeSession>).release();
  await pool.close();
});

t.test('in half-open exactly one open is the probe; a waiter turned away gets the breaker error naming the probe', async (t) => {
  const { pool, clock, factory } = makeTestPool({ max: 3, acquireTimeoutMs: 60_000 },
    { breaker: { failureThreshold: 2, openMs: 1000, maxOpenMs: 60_000 }, backoff: { baseMs: 100, maxMs: 100 } });
  factory.plan = [refused(), refused()];
  const first = settle(pool.acquire());
  await clock.tick(0); // a refused connect and its immediate retry: two failures open the circuit
  t.ok(isWarmpoolError(first.error, 'CONNECT_REFUSED'));
  t.equal(pool.stats().circuit, 'open');
  await clock.tick(1000);
  factory.openDelayMs = 50;
  const probe = settle(pool.acquire());
  const other = settle(pool.acquire());
  await clock.tick(0);
  t.equal(pool.stats().connecting, 1, 'one open in flight');
  t.ok(isWarmpoolError(other.error, 'CIRCUIT_OPEN'));
  t.match((other.error as Error).message, /a probe connection is in progress/);
  await clock.tick(50);
  t.ok(probe.value, 'the probe caller is served');
  t.equal(pool.stats().circuit, 'closed');
  (probe.value as Lease<FakeSession>).release();
  await pool.close();
});

t.test('a session retired while its borrow probe runs is not handed out: the caller gets one from the new factory', async (t) => {
  const clock = new FakeClock();
  const { pool, factory, events } = makeTestPool({ max: 2 }, { clock });
  const l = await (async () => { const p = pool.acquire(); await clock.tick(0); return p; })();
  l.release();
  await clock.tick(30_001); // idle past healthCheckAfterMs: the next borrow probes it
  const old = factory.sessions[0] as FakeSession;
  old.probeDelayMs = 10;
  const p = settle(pool.acquire());
  await clock.tick(0);
  t.equal(old.probeCalls, 1, 'probing');
  pool.retire(new FakeFactory(clock, 'n'));
  await clock.tick(10);
  await clock.tick(0);
  t.equal(old.closeCalls, 1, 'the old session is closed after its probe');
  t.ok(events.includes('closed:sw1:retired'));
  t.equal((p.value as Lease<FakeSession>).session.id, 'n1', 'the waiter kept its place and got a fresh session');
  (p.value as Lease<FakeSession>).release();
  await pool.close();
});

t.test('a waiter whose probed session fails goes back to the front of the queue, ahead of later callers', async (t) => {
  const clock = new FakeClock();
  const { pool, factory } = makeTestPool({ max: 1 }, { clock });
  const l = await (async () => { const p = pool.acquire(); await clock.tick(0); return p; })();
  l.release();
  await clock.tick(30_001);
  const s1 = factory.sessions[0] as FakeSession;
  s1.probeDelayMs = 10;
  s1.probeError = new Error('no prompt');
  factory.openDelayMs = 20;
  const order: string[] = [];
  const first = pool.acquire().then((x) => { order.push('first'); return x; });
  await clock.tick(5);
  const second = pool.acquire().then((x) => { order.push('second'); return x; });
  await clock.tick(5); // probe fails: s1 closes, the first waiter is queued again at the front
  await clock.tick(20); // the one open (max 1) serves the first waiter
  (await first).release();
  (await second).release();
  t.same(order, ['first', 'second']);
  t.equal(factory.calls, 2);
  await flush();
  await pool.close();
});
