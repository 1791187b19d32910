import t from 'tap';
import { CircuitBreaker } from '../src/pool/breaker.js';
import { WarmpoolError, isWarmpoolError } from '../src/core/errors.js';
import type { CircuitState } from '../src/pool/types.js';
import { FakeClock } from './kit/fake-clock.js';

function make(over: Partial<ConstructorParameters<typeof CircuitBreaker>[0]> = {}) {
  const clock = new FakeClock();
  const changes: CircuitState[] = [];
  const b = new CircuitBreaker({
    device: 'sw1', clock, failureThreshold: 3, openMs: 1000, maxOpenMs: 8000,
    random: () => 0, onChange: (s) => changes.push(s), ...over,
  });
  return { clock, b, changes };
}
const refused = new WarmpoolError('CONNECT_REFUSED', 'sw1: connection refused', { device: 'sw1' });

t.test('stays closed below the threshold and a success resets the count', async (t) => {
  const { b } = make();
  b.failure(refused);
  b.failure(refused);
  b.success();
  b.failure(refused);
  b.failure(refused);
  t.equal(b.state, 'closed');
  t.doesNotThrow(() => b.check());
});

t.test('opens after threshold consecutive failures; check fails fast naming device, time and last error', async (t) => {
  const { b, clock, changes } = make();
  for (let i = 0; i < 3; i++) b.failure(refused);
  t.equal(b.state, 'open');
  t.equal(b.openUntil, clock.wallNow() + 1000);
  const err = t.throws(() => b.check()) as WarmpoolError;
  t.ok(isWarmpoolError(err, 'CIRCUIT_OPEN'));
  t.match(err.message, /^sw1: circuit open until 2026-01-01T00:00:01\.000Z; last error: sw1: connection refused$/);
  t.same(changes, ['open']);
});

t.test('after the open period exactly one caller gets the half-open probe; success closes', async (t) => {
  const { b, clock, changes } = make();
  for (let i = 0; i < 3; i++) b.failure(refused);
  clock.advance(999);
  t.throws(() => b.check());
  clock.advance(1);
  t.equal(b.state, 'half_open');
  t.doesNotThrow(() => b.check(), 'first caller is the probe');
  t.throws(() => b.check(), /probe connection is in progress/, 'second caller fails fast');
  t.throws(() => b.check());
  b.success();
  t.equal(b.state, 'closed');
  t.equal(b.openUntil, 0);
  t.doesNotThrow(() => b.check());
  t.same(changes, ['open', 'half_open', 'closed']);
});

t.test('a failed probe re-opens for a longer period, growing up to maxOpenMs', async (t) => {
  const { b, clock, changes } = make();
  for (let i = 0; i < 3; i++) b.failure(refused);
  const periods: number[] = [];
  for (let i = 0; i < 6; i++) {
    const start = clock.wallNow();
    periods.push(b.openUntil - start);
    clock.advance(b.openUntil - start);
    b.check();
    b.failure(refused);
  }
  t.same(periods, [1000, 2000, 4000, 8000, 8000, 8000]);
  t.same(changes.slice(0, 4), ['open', 'half_open', 'open', 'half_open']);
});

t.test('the open period is jittered downwards, never above the cap', async (t) => {
  const { b, clock } = make({ random: () => 0.5 });
  for (let i = 0; i < 3; i++) b.failure(refused);
  t.equal(b.openUntil - clock.wallNow(), 900);
});

t.test('trip opens at once on a permanent error', async (t) => {
  const { b } = make();
  b.trip(new WarmpoolError('AUTH_FAILED', 'sw1: authentication failed for user netops'));
  t.equal(b.state, 'open');
  t.throws(() => b.check(), /authentication failed/);
});

t.test('an abandoned probe slot frees itself after maxOpenMs', async (t) => {
  const { b, clock } = make();
  for (let i = 0; i < 3; i++) b.failure(refused);
  clock.advance(1000);
  b.check();
  t.throws(() => b.check());
  clock.advance(8000);
  t.doesNotThrow(() => b.check());
});

t.test('error() builds the fail-fast error without taking the half-open probe', async (t) => {
  const { b, clock } = make();
  for (let i = 0; i < 3; i++) b.failure(refused);
  const open = b.error();
  t.ok(isWarmpoolError(open, 'CIRCUIT_OPEN'));
  t.match(open.message, /^sw1: circuit open until 2026-01-01T00:00:01\.000Z; last error: sw1: connection refused$/);
  clock.advance(1000);
  t.equal(b.state, 'half_open');
  // Asked for the error only (to fail waiters), many times: the probe slot must stay free, or
  // nobody would make the trial connect until the slot expired after maxOpenMs.
  for (let i = 0; i < 3; i++) b.error();
  t.doesNotThrow(() => b.check(), 'the probe slot is still free for the caller that will connect');
  t.match(b.error().message, /a probe connection is in progress/);
  t.throws(() => b.check(), /a probe connection is in progress/);
});

t.test('error() calls in half-open do not stall recovery: the next connect is the probe and its success closes at once', async (t) => {
  const { b, clock, changes } = make();
  for (let i = 0; i < 3; i++) b.failure(refused);
  clock.advance(1000);
  t.equal(b.state, 'half_open');
  for (let i = 0; i < 5; i++) t.ok(isWarmpoolError(b.error(), 'CIRCUIT_OPEN'));
  t.equal(b.tryTakeProbe(), true, 'the probe is taken by the caller that connects, at the same instant');
  b.success();
  t.equal(b.state, 'closed', 'closed without waiting out maxOpenMs');
  t.equal(clock.now(), 1000, 'no time had to pass');
  t.same(changes, ['open', 'half_open', 'closed']);
});

t.test('tryTakeProbe: nothing to take while closed or open; exactly one taker in half-open', async (t) => {
  const { b, clock } = make();
  t.equal(b.tryTakeProbe(), false, 'closed: no probe');
  for (let i = 0; i < 3; i++) b.failure(refused);
  t.equal(b.tryTakeProbe(), false, 'open: no probe');
  clock.advance(1000);
  t.equal(b.tryTakeProbe(), true, 'half-open: the first caller takes it');
  t.equal(b.tryTakeProbe(), false, 'the second does not');
  b.failure(refused);
  t.equal(b.state, 'open', 'the failed probe re-opens');
  t.equal(b.tryTakeProbe(), false);
});

t.test('error() keeps the code of a permanent error', async (t) => {
  const { b } = make();
  b.trip(new WarmpoolError('HOST_KEY_MISMATCH', 'sw1: host key verification failed'));
  t.ok(isWarmpoolError(b.error(), 'HOST_KEY_MISMATCH'));
});
