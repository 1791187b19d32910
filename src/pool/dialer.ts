import { setMaxListeners } from 'node:events';
import type { Protocol } from '../config/types.js';
import type { Clock, Random, TimerHandle } from '../core/clock.js';
import { WarmpoolError, describeError, isPermanentConnectError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { PoolObserver } from '../core/pool-stats.js';
import { Backoff, type BackoffSettings } from './backoff.js';
import { CircuitBreaker, type BreakerSettings } from './breaker.js';
import type { ConnectLimiter, SessionBudget } from './limits.js';
import type { Session, SessionFactory } from './types.js';

/** What the dialer tells its pool. */
export interface DialerHost<S extends Session> {
  /** An open succeeded, for inventory generation `gen`. */
  opened(session: S, gen: number, connectMs: number, now: number): void;
  /**
   * An open failed, not by our own abort; breaker, backoff and last failure are updated
   * already. `permanent`: bad credentials or host key (the breaker is tripped, no backoff).
   * `first`: the first failure since the last success.
   */
  openFailed(err: unknown, permanent: boolean, first: boolean, now: number): void;
  /** Something changed: let the pool decide what happens next. */
  schedule(): void;
  onBug(err: unknown): void;
}

export interface DialerOptions<S extends Session> {
  device: string;
  protocol: Protocol;
  clock: Clock;
  random: Random;
  connectLimiter: ConnectLimiter;
  sessionBudget: SessionBudget;
  breaker: BreakerSettings;
  backoff: BackoffSettings;
  observer: PoolObserver;
  logger: Logger;
  host: DialerHost<S>;
}

/** The last failed open, until an open succeeds (or the device's settings change). */
interface Failure {
  err: unknown;
  /** describeError(err), computed once: stats and timeout messages show it. */
  text: string;
  at: number;
}

/**
 * Opening sessions for one pool: through the process-wide connect limiter, counted while in
 * flight, with the circuit breaker, the reconnect backoff and the last failure that tell the
 * pool when the next attempt may start and what to tell callers until then. The dialer opens
 * when the pool's scheduler says so; it never decides by itself.
 */
export class Dialer<S extends Session> {
  readonly #device: string;
  readonly #protocol: Protocol;
  readonly #clock: Clock;
  readonly #limiter: ConnectLimiter;
  readonly #budget: SessionBudget;
  readonly #observer: PoolObserver;
  readonly #log: Logger;
  readonly #host: DialerHost<S>;
  readonly #breaker: CircuitBreaker;
  readonly #backoff: Backoff;
  #abort = new AbortController();
  #connecting = 0;
  /** Opens past the connect limiter, i.e. actually talking to the device (a subset of #connecting). */
  #dialing = 0;
  /** No open attempt before this (monotonic ms): reconnect backoff after a failure. */
  #retryAt = 0;
  #retryTimer: TimerHandle | undefined;
  #retryTimerAt = 0;
  #failure: Failure | undefined;
  #createdTotal = 0;
  #failedTotal = 0;
  readonly #retryFn = (): void => {
    this.#retryTimer = undefined;
    this.#host.schedule();
  };

  constructor(opts: DialerOptions<S>) {
    this.#device = opts.device;
    this.#protocol = opts.protocol;
    this.#clock = opts.clock;
    this.#limiter = opts.connectLimiter;
    this.#budget = opts.sessionBudget;
    this.#observer = opts.observer;
    this.#log = opts.logger;
    this.#host = opts.host;
    this.#backoff = new Backoff({ ...opts.backoff, random: opts.random });
    this.#breaker = new CircuitBreaker({
      device: opts.device, clock: opts.clock, random: opts.random, ...opts.breaker,
      onChange: (s) => {
        this.#log[s === 'open' ? 'warn' : 'info']({ circuit: s, lastError: this.#breaker.lastError }, 'circuit %s', s);
        this.#observer.circuitChanged?.(this.#device, this.#protocol, s);
      },
    });
    // Every connect in flight (and every one queued for a connect slot) listens on this one
    // signal; more than 10 is normal for a big pool, not a leak.
    setMaxListeners(0, this.#abort.signal);
  }

  get breaker(): CircuitBreaker {
    return this.#breaker;
  }

  /** Opens in flight, including those queued for a connect slot. */
  get connecting(): number {
    return this.#connecting;
  }

  /** Opens talking to the device now. */
  get dialing(): number {
    return this.#dialing;
  }

  get createdTotal(): number {
    return this.#createdTotal;
  }

  get failedTotal(): number {
    return this.#failedTotal;
  }

  /** The last failed open's description ('' once an open succeeded). */
  get lastError(): string {
    return this.#failure?.text ?? '';
  }

  /** True while the reconnect backoff forbids a new attempt. */
  backingOff(now: number): boolean {
    return now < this.#retryAt;
  }

  /** True when callers arriving in the backoff would only meet the last failure again. */
  get hasFailed(): boolean {
    return this.#failure !== undefined;
  }

  /** The next attempt may start now (a refused connect's one immediate retry). */
  retryNow(now: number): void {
    this.#retryAt = now;
  }

  get retryAt(): number {
    return this.#retryAt;
  }

  /** Wake the pool's scheduler at `at` (one timer, moved only when something falls due earlier). */
  wakeAt(at: number, now: number): void {
    if (this.#retryTimer && this.#retryTimerAt <= at) return;
    if (this.#retryTimer) this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimerAt = at;
    this.#retryTimer = this.#clock.setTimeout(this.#retryFn, Math.max(0, at - now));
  }

  /** For callers arriving during the reconnect backoff: the last connect error, and when. */
  backoffError(now: number): unknown {
    const last = this.#failure;
    if (!last || !(last.err instanceof WarmpoolError)) return last?.err;
    return new WarmpoolError(last.err.code, `${last.err.message} (${Math.round(now - last.at)} ms ago; ` +
      `the next connect attempt is after the reconnect backoff, in ${Math.round(this.#retryAt - now)} ms)`,
    { device: this.#device, cause: last.err });
  }

  /**
   * The device's settings changed: the breaker and backoff start afresh, because the change
   * may be the fix (e.g. a corrected password after AUTH_FAILED).
   */
  forgetFailures(): void {
    this.#breaker.success();
    this.#backoff.reset();
    this.#retryAt = 0;
    this.#failure = undefined;
  }

  /** Abort every open in flight or queued (drain, close); their failures are not the device's. */
  abort(): void {
    this.#abort.abort();
  }

  stop(): void {
    this.abort();
    if (this.#retryTimer) this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  /** Start one open; the caller has taken a session-budget token for it, which is ours now. */
  dial(factory: SessionFactory<S>, gen: number): void {
    this.#connecting++;
    this.#open(factory, gen).catch(this.#host.onBug);
  }

  async #open(factory: SessionFactory<S>, gen: number): Promise<void> {
    const signal = this.#abort.signal;
    const started = this.#clock.now();
    let session: S;
    try {
      await this.#limiter.acquire(signal);
      this.#dialing++;
      try {
        session = await factory.open(signal);
      } finally {
        this.#dialing--;
        this.#limiter.release();
      }
    } catch (err) {
      this.#connecting--;
      this.#budget.give();
      // An abort from drain/close is our doing, not the device's: no breaker, no backoff.
      if (!signal.aborted) this.#failed(err, started);
      this.#host.schedule();
      return;
    }
    const now = this.#clock.now();
    this.#connecting--;
    this.#createdTotal++;
    this.#breaker.success();
    this.#backoff.reset();
    this.#retryAt = 0;
    this.#failure = undefined; // a stale error would mislead timeout messages and stats
    this.#observer.sessionOpened?.(this.#device, this.#protocol, 'success', (now - started) / 1000);
    this.#host.opened(session, gen, now - started, now);
  }

  #failed(err: unknown, started: number): void {
    const now = this.#clock.now();
    this.#failedTotal++;
    this.#failure = { err, text: describeError(err), at: now };
    this.#observer.sessionOpened?.(this.#device, this.#protocol, 'failure', (now - started) / 1000);
    this.#log.warn({ err: this.#failure.text }, 'session open failed');
    if (isPermanentConnectError(err)) {
      // Bad credentials or a wrong host key do not fix themselves; retrying locks accounts
      // or hammers a possible attacker: trip the breaker, no backoff schedule.
      this.#breaker.trip(err);
      this.#host.openFailed(err, true, false, now);
      return;
    }
    this.#breaker.failure(err);
    const first = this.#backoff.attempts === 0;
    this.#retryAt = now + this.#backoff.next();
    this.#host.openFailed(err, false, first, now);
  }
}
