import { WarmpoolError, describeError, type ErrorCode } from '../core/errors.js';
import type { Clock, Random } from '../core/clock.js';
import type { CircuitState } from '../core/pool-stats.js';

export interface CircuitBreakerOptions {
  device: string;
  clock: Clock;
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** First open period (ms); doubles with each re-opening without a success in between. */
  openMs: number;
  /** Longest open period (ms). */
  maxOpenMs: number;
  random: Random;
  onChange?: (state: CircuitState) => void;
}

/** The breaker's tuning, as pools and bastions are given it (config key `breaker`). */
export type BreakerSettings = Pick<CircuitBreakerOptions, 'failureThreshold' | 'openMs' | 'maxOpenMs'>;

/** Share of an open period removed at random, so that many pools do not probe in lockstep. */
const OPEN_JITTER = 0.2;

/**
 * Per-device circuit breaker for connection attempts.
 *
 * WHY: a device that is down (or refuses our login) would otherwise be hammered by every
 * request, each one waiting for a connect timeout. After `failureThreshold` consecutive
 * failures callers fail fast (CIRCUIT_OPEN, gRPC UNAVAILABLE) for the open period; then
 * exactly one attempt is let through (half-open probe) to find out whether the device is
 * back. Repeated openings without a success grow the period (openMs * 2^k, capped at
 * maxOpenMs) and are jittered downwards, so the cap is a true cap.
 *
 * The open → half-open transition is evaluated lazily, on `state`/`tryTakeProbe()`; onChange is
 * called at that moment. Callers that need to act at the end of the open period (e.g. to
 * refill a pool's minimum) arm their own timer at `openUntil` — the breaker holds no timers,
 * so there is nothing to cancel.
 */
export class CircuitBreaker {
  readonly #device: string;
  readonly #clock: Clock;
  readonly #threshold: number;
  readonly #openMs: number;
  readonly #maxOpenMs: number;
  readonly #random: Random;
  readonly #onChange: ((s: CircuitState) => void) | undefined;

  #state: CircuitState = 'closed';
  #failures = 0;
  /** Openings since the last success; drives the growth of the open period. */
  #openings = 0;
  /** Monotonic ms (clock.now) when the open period ends. */
  #openUntilMono = 0;
  /** Same instant on the wall clock, for messages and stats. */
  #openUntilWall = 0;
  /**
   * Monotonic ms until which the half-open probe slot is taken (0 = free). A probe whose
   * owner never reports back (crashed, forgot) frees the slot after maxOpenMs, so the
   * breaker can never be stuck half-open.
   */
  #probeUntil = 0;
  #lastError = '';
  /** Code of the permanent error that tripped the circuit, while it is the latest failure. */
  #permanentCode: ErrorCode | undefined;

  constructor(opts: CircuitBreakerOptions) {
    this.#device = opts.device;
    this.#clock = opts.clock;
    this.#threshold = Math.max(1, opts.failureThreshold);
    this.#openMs = opts.openMs;
    this.#maxOpenMs = Math.max(opts.openMs, opts.maxOpenMs);
    this.#random = opts.random;
    this.#onChange = opts.onChange;
  }

  get state(): CircuitState {
    if (this.#state === 'open' && this.#clock.now() >= this.#openUntilMono) {
      this.#probeUntil = 0;
      this.#set('half_open');
    }
    return this.#state;
  }

  /** Wall-clock ms until which the circuit is open; 0 when closed. */
  get openUntil(): number {
    return this.#state === 'closed' ? 0 : this.#openUntilWall;
  }

  /** Description of the last failure ('' if none since the last success). */
  get lastError(): string {
    return this.#lastError;
  }

  /**
   * Takes the half-open probe slot if it is free: true means the caller now owns the probe
   * and must report success() or failure(). False when the circuit is closed (there is no
   * probe to take), open, or another probe is in flight.
   */
  tryTakeProbe(): boolean {
    if (this.state !== 'half_open') return false;
    const now = this.#clock.now();
    if (now < this.#probeUntil) return false;
    this.#probeUntil = now + this.#maxOpenMs;
    return true;
  }

  /**
   * For a caller about to connect: returns when the circuit is closed or the caller got the
   * half-open probe (tryTakeProbe), and throws error() otherwise.
   */
  check(): void {
    if (this.state !== 'closed' && !this.tryTakeProbe()) throw this.error();
  }

  /**
   * The error for callers turned away while the circuit is not closed. Pure: it never takes
   * the half-open probe slot. WHY separate from tryTakeProbe: a caller that only wants the
   * message (to fail waiters) must not claim the probe by accident — nobody would then make
   * the trial connect, and recovery would stall until the slot expires (maxOpenMs).
   */
  error(): WarmpoolError {
    const until = new Date(this.#openUntilWall).toISOString();
    const probing = this.#state === 'half_open' && this.#clock.now() < this.#probeUntil ? ' (a probe connection is in progress)' : '';
    // WHY: a circuit opened by a wrong host key or refused login fails with that error's code
    // (FAILED_PRECONDITION), not CIRCUIT_OPEN (UNAVAILABLE): clients retry UNAVAILABLE, and
    // retrying cannot fix a credential or host-key problem.
    return new WarmpoolError(
      this.#permanentCode ?? 'CIRCUIT_OPEN',
      `${this.#device}: circuit open until ${until}${probing}; last error: ${this.#lastError || 'none'}`,
      { device: this.#device },
    );
  }

  success(): void {
    this.#failures = 0;
    this.#openings = 0;
    this.#probeUntil = 0;
    this.#lastError = '';
    this.#permanentCode = undefined;
    if (this.#state !== 'closed') this.#set('closed');
  }

  failure(err: unknown): void {
    this.#lastError = describeError(err);
    this.#permanentCode = undefined;
    this.#failures++;
    const state = this.state;
    // A failed probe re-opens at once; in the closed state only a run of failures opens.
    // While open, late failures of attempts started before the opening change nothing.
    if (state === 'half_open' || (state === 'closed' && this.#failures >= this.#threshold)) this.#open();
  }

  /** Permanent errors (bad credentials, wrong host key): open now, whatever the count. */
  trip(err: unknown): void {
    this.#lastError = describeError(err);
    this.#permanentCode = err instanceof WarmpoolError ? err.code : undefined;
    this.#failures = Math.max(this.#failures + 1, this.#threshold);
    this.#open();
  }

  #open(): void {
    const period = Math.min(this.#maxOpenMs, this.#openMs * 2 ** Math.min(this.#openings, 30));
    const ms = Math.max(1, Math.round(period * (1 - OPEN_JITTER * this.#random())));
    this.#openings++;
    this.#probeUntil = 0;
    this.#openUntilMono = this.#clock.now() + ms;
    this.#openUntilWall = this.#clock.wallNow() + ms;
    // Re-opening from half_open is still a change observers care about (the gauge was "not open").
    this.#set('open');
  }

  #set(s: CircuitState): void {
    const changed = s !== this.#state;
    this.#state = s;
    if (changed && this.#onChange) this.#onChange(s);
  }
}
