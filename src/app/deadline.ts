import type { Clock } from '../core/clock.js';
import { WarmpoolError } from '../core/errors.js';

/**
 * The time a call has left, computed once per call from the caller's deadline and the clock.
 *
 * The gRPC deadline is wall-clock time (ms since the epoch); wall time can jump, and the pool
 * measures its timers on the clock's monotonic scale. So the deadline is converted once, at the
 * start of the call, to the monotonic scale, and every later question (time left for the next
 * command, the pool's acquire deadline, the HTTP request timeout) is answered from that one end.
 */
export class DeadlineBudget {
  readonly #clock: Clock;
  /** The end on the clock's monotonic scale (clock.now()); Infinity: the caller set no deadline. */
  readonly #end: number;

  private constructor(clock: Clock, end: number) {
    this.#clock = clock;
    this.#end = end;
  }

  /** `deadline`: wall-clock ms since the epoch, Infinity when the caller set none (CallContext.deadline). */
  static of(deadline: number, clock: Clock): DeadlineBudget {
    if (!Number.isFinite(deadline)) return new DeadlineBudget(clock, Infinity);
    return new DeadlineBudget(clock, clock.now() + (deadline - clock.wallNow()));
  }

  /** Whether the caller set a deadline at all. */
  get bounded(): boolean {
    return Number.isFinite(this.#end);
  }

  /** The end on the clock's monotonic scale, for the pool's acquire; undefined when unbounded. */
  get end(): number | undefined {
    return this.bounded ? this.#end : undefined;
  }

  /** Milliseconds left (≤ 0 once passed); Infinity when unbounded. */
  remaining(): number {
    return this.#end - this.#clock.now();
  }

  get expired(): boolean {
    return this.remaining() <= 0;
  }

  /**
   * `ms` cut to the time left, never below 1: a timer of 0 would mean "no timeout" to some
   * layers, and 1 ms ends the step at once with that layer's own timeout error.
   */
  cap(ms: number): number {
    const left = this.remaining();
    return left <= 0 ? 1 : Math.min(ms, left);
  }

  /** Throws DEADLINE_EXCEEDED for `device` when the time is up; `when` says what had not yet happened. */
  check(device: string, when: string): void {
    if (this.expired) throw deadlineExceeded(device, when);
  }
}

/** The caller's DEADLINE_EXCEEDED, naming the device and the step the deadline passed in. */
export function deadlineExceeded(device: string, when: string, cause?: unknown): WarmpoolError {
  return new WarmpoolError('DEADLINE_EXCEEDED', `device "${device}": the call's deadline passed ${when}`, { device, cause });
}
