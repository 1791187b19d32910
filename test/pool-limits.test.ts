import t from 'tap';
import { isWarmpoolError } from '../src/core/errors.js';
import { ConnectLimiter, SessionBudget } from '../src/pool/limits.js';
import type { Lease } from '../src/pool/types.js';
import { FakeClock, flush } from './kit/fake-clock.js';
import { FakeFactory, type FakeSession, makeTestPool } from './kit/fake-session.js';

function settle<T>(p: Promise<T>): { value?: T; error?: unknown; done: boolean } {
  const r: { value?: T; error?: unknown; done: boolean } = { done: false };
  p.then((v) => { r.value = v; r.done = true; }, (e: unknown) => { r.error = e; r.done = true; });
  return r;
}

t.test('connect limiter grants slots in FIFO order and skips aborted waiters', async (t) => {
  const lim = new ConnectLimiter(1);
  const order: string[] = [];
  await lim.acquire();
  const ac = new AbortController();
  const a = lim.acquire().then(() => order.push('a'));
  const b = settle(lim.acquire(ac.signal));
  const c = lim.acquire().then(() => order.push('c'));
  t.equal(lim.waiting, 3);
  ac.abort();
  await flush();
  t.ok(isWarmpoolError(b.error, 'CANCELLED'));
  t.equal(lim.waiting, 2);
  lim.release();
  await a;
  lim.release();
  await c;
  t.same(order, ['a', 'c']);
  t.equal(lim.active, 1);
  lim.release();
  t.equal(lim.active, 0);
});

t.test('the global connect limiter caps concurrent opens across pools', async (t) => {
  const clock = new FakeClock();
  const limiter = new ConnectLimiter(2);
  const factory = new FakeFactory(clock);
  factory.openDelayMs = 100;
  const p1 = makeTestPool({ max: 5 }, { clock, factory, connectLimiter: limiter });
  const p2 = makeTestPool({ max: 5 }, { clock, factory, connectLimiter: limiter });
  const ls = [...Array.from({ length: 3 }, () => settle(p1.pool.acquire())), ...Array.from({ length: 3 }, () => settle(p2.pool.acquire()))];
  await clock.tick(0);
  t.equal(factory.inFlight, 2, 'only two connects at a time');
  t.match(p1.pool.stats(), { connecting: 3 }, 'queued connects still count as connecting');
  await clock.tick(300);
  t.equal(factory.maxInFlight, 2);
  t.ok(ls.every((l) => l.value), 'all served eventually');
  for (const l of ls) (l.value as Lease<FakeSession>).release();
  await Promise.all([p1.pool.close(), p2.pool.close()]);
  t.equal(limiter.active, 0, 'no slot leaked');
});

t.test('a pool that drains while its connect waits for a slot releases nothing it does not hold', async (t) => {
  const clock = new FakeClock();
  const limiter = new ConnectLimiter(1);
  const factory = new FakeFactory(clock);
  factory.openDelayMs = 100;
  const p1 = makeTestPool({ max: 1 }, { clock, factory, connectLimiter: limiter });
  const p2 = makeTestPool({ max: 1 }, { clock, factory, connectLimiter: limiter });
  const a = settle(p1.pool.acquire());
  const b = settle(p2.pool.acquire());
  await clock.tick(0);
  t.equal(limiter.waiting, 1);
  await p2.pool.drain();
  await clock.tick(0);
  t.ok(isWarmpoolError(b.error, 'DRAINING'));
  t.equal(limiter.waiting, 0);
  await clock.tick(100);
  (a.value as Lease<FakeSession>).release();
  t.equal(limiter.active, 0);
  t.equal(p2.pool.stats().failedConnectsTotal, 0, 'our own abort is not a device failure');
  await Promise.all([p1.pool.close(), p2.pool.close()]);
});

t.test('session budget: a pool waits for a token; its waiter is served when another pool closes one', async (t) => {
  const clock = new FakeClock();
  const budget = new SessionBudget(2);
  const factory = new FakeFactory(clock);
  const a = makeTestPool({ max: 2 }, { clock, factory, sessionBudget: budget });
  const b = makeTestPool({ max: 2, acquireTimeoutMs: 1000 }, { clock, factory, sessionBudget: budget });
  const la = [settle(a.pool.acquire()), settle(a.pool.acquire())];
  await clock.tick(0);
  t.equal(budget.used, 2);
  const lb = settle(b.pool.acquire());
  const lb2 = settle(b.pool.acquire());
  await clock.tick(0);
  t.match(b.pool.stats(), { connecting: 0, waiting: 2 }, 'no open beyond the budget');
  (la[0]!.value as Lease<FakeSession>).release({ discard: true });
  await clock.tick(0);
  t.ok(lb.value, 'served once a token came back');
  t.equal(budget.used, 2);
  await clock.tick(1000);
  t.ok(isWarmpoolError(lb2.error, 'ACQUIRE_TIMEOUT'), 'the other waiter kept waiting until its deadline');
  (la[1]!.value as Lease<FakeSession>).release();
  (lb.value as Lease<FakeSession>).release();
  await Promise.all([a.pool.close(), b.pool.close()]);
  t.equal(budget.used, 0, 'every token returned');
});

t.test('session budget: idle sessions of other pools above their min are evicted to make room', async (t) => {
  const clock = new FakeClock();
  const budget = new SessionBudget(3);
  const factory = new FakeFactory(clock);
  const a = makeTestPool({ min: 1, max: 3 }, { clock, factory, sessionBudget: budget });
  const b = makeTestPool({ max: 3 }, { clock, factory, sessionBudget: budget });
  const la = [settle(a.pool.acquire()), settle(a.pool.acquire()), settle(a.pool.acquire())];
  await clock.tick(0);
  a.pool.start();
  for (const l of la) (l.value as Lease<FakeSession>).release();
  t.equal(a.pool.stats().idle, 3);
  const lb = [settle(b.pool.acquire()), settle(b.pool.acquire())];
  await clock.tick(0);
  t.ok(lb.every((l) => l.value), 'both served from evicted capacity');
  t.ok(a.events.filter((e) => e === 'closed:sw1:budget').length === 2);
  t.equal(a.pool.stats().idle, 1, 'never below min');
  const lb3 = settle(b.pool.acquire());
  await clock.tick(0);
  t.notOk(lb3.done, 'nothing more to evict: waits');
  t.match(b.pool.stats(), { connecting: 0, waiting: 1 }, 'below its own max, but no budget token');
  for (const l of lb) (l.value as Lease<FakeSession>).release();
  await clock.tick(0);
  t.ok(lb3.value);
  (lb3.value as Lease<FakeSession>).release();
  await Promise.all([a.pool.close(), b.pool.close()]);
  t.equal(budget.used, 0);
});
