import t from 'tap';
import { WarmpoolError, isWarmpoolError } from '../src/core/errors.js';
import { SessionBudget, ConnectLimiter } from '../src/pool/limits.js';
import type { Lease } from '../src/pool/types.js';
import { FakeClock, flush, seededRandom } from './kit/fake-clock.js';
import { FakeFactory, type FakeSession, makeTestPool } from './kit/fake-session.js';

const unhandled: unknown[] = [];
const onUnhandled = (r: unknown): void => { unhandled.push(r); };
process.on('unhandledRejection', onUnhandled);
t.teardown(() => { process.off('unhandledRejection', onUnhandled); });

/** Expected ways for an acquire to fail under this workload; anything else is a bug. */
const EXPECTED = new Set(['ACQUIRE_TIMEOUT', 'DEADLINE_EXCEEDED', 'CANCELLED', 'CIRCUIT_OPEN', 'QUEUE_FULL', 'CONNECT_REFUSED']);

for (const seed of [1, 2, 3, 4]) {
  t.test(`random acquire/release/fail/cancel never exceeds max and returns to baseline (seed ${seed})`, async (t) => {
    const rnd = seededRandom(seed);
    const pick = (n: number): number => Math.floor(rnd() * n);
    const clock = new FakeClock();
    const max = 1 + pick(4);
    const min = pick(max + 1);
    const budget = new SessionBudget(1000);
    const limiter = new ConnectLimiter(2);
    const factory = new FakeFactory(clock);
    const { pool } = makeTestPool(
      { min, max, idleTimeoutMs: 2000, maxLifetimeMs: 5000, acquireTimeoutMs: 800, maxWaiting: 6 },
      { clock, factory, sessionBudget: budget, connectLimiter: limiter, lifetimeJitter: 0.3,
        healthCheckAfterMs: 300, keepaliveIntervalMs: 700, random: seededRandom(seed + 100),
        breaker: { failureThreshold: 4, openMs: 500, maxOpenMs: 2000 } },
    );
    factory.configure = (s) => {
      s.closeDelayMs = pick(3) * 20;
      s.probeDelayMs = pick(2) * 10;
      s.keepaliveDelayMs = pick(2) * 10;
    };
    pool.start();

    const total = (): number => {
      const s = pool.stats();
      return s.idle + s.busy + s.connecting + pool.closing;
    };
    // Also checked at the instant each open starts, not only between steps.
    const open = factory.open.bind(factory);
    let violations = 0;
    /** The device refuses connections until then (an outage of a random length). */
    let downUntil = 0;
    factory.open = (signal: AbortSignal) => {
      if (total() > max) violations++;
      if (clock.now() < downUntil) factory.plan.unshift(new WarmpoolError('CONNECT_REFUSED', 'refused'));
      return open(signal);
    };

    const held = new Set<Lease<FakeSession>>();
    const inUse = new Set<FakeSession>();
    const aborts: AbortController[] = [];
    const failures = new Map<string, number>();
    let served = 0;
    let doubleLease = 0;
    let badHandout = 0;

    const steps = 3000;
    for (let i = 0; i < steps; i++) {
      const op = pick(100);
      if (op < 35) {
        const ac = new AbortController();
        if (rnd() < 0.3) aborts.push(ac);
        const deadline = rnd() < 0.3 ? clock.now() + pick(1000) + 1 : undefined;
        pool.acquire({ signal: ac.signal, ...(deadline !== undefined ? { deadline } : {}) }).then((l) => {
          served++;
          if (inUse.has(l.session)) doubleLease++;
          // closeCalls, not closed: the test's own kill() may land between hand-out and this callback.
          if (l.session.closeCalls > 0 || l.session.dirty) badHandout++;
          inUse.add(l.session);
          held.add(l);
        }, (err: unknown) => {
          const code = isWarmpoolError(err) ? err.code : String(err);
          failures.set(code, (failures.get(code) ?? 0) + 1);
        });
      } else if (op < 65 && held.size > 0) {
        const l = [...held][pick(held.size)]!;
        held.delete(l);
        inUse.delete(l.session);
        const r = pick(10);
        if (r === 0) l.session.dirty = true;
        l.release(r === 1 ? { discard: true } : undefined);
      } else if (op < 70) {
        // Occasional outages: every connect made during one is refused, enough to open the
        // breaker now and then. (An outage is a time window, not "the next connect fails":
        // callers fail fast while nothing can serve them, so the next connect may come late.)
        if (clock.now() >= downUntil && rnd() < 0.2) downUntil = clock.now() + 1 + pick(400);
      } else if (op < 75 && aborts.length > 0) {
        aborts.splice(pick(aborts.length), 1)[0]!.abort();
      } else if (op < 78) {
        const alive = factory.open_;
        if (alive.length > 0) alive[pick(alive.length)]!.kill(new Error('peer went away'));
      } else if (op < 80) {
        const alive = factory.open_;
        if (alive.length > 0) alive[pick(alive.length)]!.probeError = rnd() < 0.5 ? new Error('probe') : undefined;
      } else {
        await clock.tick(pick(120));
      }
      if (total() > max) violations++;
      if (pool.stats().waiting > 6) violations++;
    }

    // Wind down: stop failing, release everything, let all timers and closes run.
    factory.plan.length = 0;
    downUntil = 0;
    const releaseAll = (): void => {
      for (const l of held) {
        inUse.delete(l.session);
        l.release();
      }
      held.clear();
    };
    releaseAll();
    for (let i = 0; i < 40; i++) {
      await clock.tick(250);
      releaseAll();
    }
    const s = pool.stats();
    t.equal(violations, 0, `busy+idle+connecting+closing <= max (${max}) at every step`);
    t.equal(doubleLease, 0, 'no session leased twice at once');
    t.equal(badHandout, 0, 'no closed or dirty session handed out');
    t.ok(served > 100, `served ${served}; failures ${JSON.stringify([...failures])}`);
    for (const code of failures.keys()) t.ok(EXPECTED.has(code), `failure code ${code} is expected`);
    t.match(s, { busy: 0, waiting: 0, connecting: 0 }, 'back to baseline');
    t.ok(s.idle >= min && s.idle <= max, `idle ${s.idle} within [min ${min}, max ${max}]`);
    t.equal(pool.closing, 0);
    t.equal(budget.used, s.idle, 'budget tokens match open sessions');
    t.equal(limiter.active, 0, 'no connect slot leaked');
    t.equal(factory.open_.length, s.idle, 'every session the pool forgot was closed');
    const closing = pool.close();
    await clock.tick(100); // sessions take up to 40 ms to close
    await closing;
    t.equal(budget.used, 0);
    t.equal(clock.pending, 0, 'no timers left after close');
    await flush();
    t.same(unhandled, [], 'no unhandled rejections');
  });
}
