import t from 'tap';
import { DeadlineBudget } from '../src/app/deadline.js';
import type { Clock } from '../src/core/clock.js';
import { isWarmpoolError } from '../src/core/errors.js';
import { FakeClock } from './kit/fake-clock.js';

t.test('a call without a deadline has an unbounded budget that never expires', async (t) => {
  const clock = new FakeClock();
  const budget = DeadlineBudget.of(Infinity, clock);
  t.equal(budget.bounded, false);
  t.equal(budget.end, undefined, 'the pool gets no acquire deadline');
  clock.advance(10 * 3_600_000);
  t.equal(budget.remaining(), Infinity);
  t.equal(budget.expired, false);
  t.equal(budget.cap(30_000), 30_000, 'a command keeps its own timeout');
});

t.test('the budget counts down on the clock from the call deadline', async (t) => {
  const clock = new FakeClock();
  clock.advance(5_000);
  const budget = DeadlineBudget.of(clock.wallNow() + 1_000, clock);
  t.equal(budget.bounded, true);
  t.equal(budget.end, 6_000, 'the deadline on the monotonic scale, for the pool');
  clock.advance(400);
  t.equal(budget.remaining(), 600);
  t.equal(budget.cap(30_000), 600, 'a long command timeout is cut to the time left');
  t.equal(budget.cap(100), 100, 'a short one is kept');
  t.equal(budget.expired, false);
  t.doesNotThrow(() => budget.check('r1', 'before a session was acquired'));
  clock.advance(600);
  t.equal(budget.remaining(), 0);
  t.equal(budget.expired, true);
  t.equal(budget.cap(30_000), 1, 'a spent budget gives 1 ms (never 0, which some layers read as no timeout)');
});

t.test('a spent budget fails DEADLINE_EXCEEDED naming the device and the step', async (t) => {
  const clock = new FakeClock();
  const budget = DeadlineBudget.of(clock.wallNow() - 1, clock);
  const err = (() => {
    try {
      budget.check('core-sw1', 'before the request was sent');
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  t.ok(isWarmpoolError(err, 'DEADLINE_EXCEEDED'), 'DEADLINE_EXCEEDED');
  t.equal((err as Error).message, `device "core-sw1": the call's deadline passed before the request was sent`);
});

t.test('the deadline is read once: a wall-clock jump after the start does not move it', async (t) => {
  const fake = new FakeClock();
  let wallJump = 0;
  // The same monotonic time, with a wall clock that can be set (NTP step, operator change).
  const clock: Clock = {
    now: () => fake.now(),
    wallNow: () => fake.wallNow() + wallJump,
    setTimeout: (fn, ms) => fake.setTimeout(fn, ms),
    clearTimeout: (h) => fake.clearTimeout(h),
  };
  const budget = DeadlineBudget.of(clock.wallNow() + 2_000, clock);
  wallJump = 60_000;
  fake.advance(500);
  t.equal(budget.remaining(), 1_500, 'the time left follows the monotonic clock only');
  wallJump = -60_000;
  fake.advance(1_500);
  t.equal(budget.expired, true, 'and ends when the monotonic clock says so');
});
