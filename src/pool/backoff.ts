import type { Random } from '../core/clock.js';

export interface BackoffOptions {
  /** First delay (ms) and the floor of every delay. */
  baseMs: number;
  /** No delay is ever longer than this. */
  maxMs: number;
  random: Random;
  /** Growth of the upper bound per attempt (default 3, as in AWS "decorrelated jitter"). */
  factor?: number;
}

/** The reconnect backoff's bounds, as pools and bastions are given them. */
export type BackoffSettings = Pick<BackoffOptions, 'baseMs' | 'maxMs'>;

/**
 * Reconnect delays with decorrelated jitter:
 *   delay_n = min(maxMs, baseMs + random * (delay_{n-1} * factor - baseMs)),  delay_{-1} = baseMs
 *
 * WHY jitter: when a device (or a whole site) comes back, every pool and every daemon
 * replica would otherwise reconnect in the same instant and trip the device's login
 * rate limit again. WHY decorrelated rather than full jitter: full jitter can draw ~0 ms,
 * which for a device that refuses connections is a wasted attempt; decorrelated jitter
 * never goes below baseMs and still spreads the herd. The upper bound grows by `factor`
 * per attempt (exponential) and is capped by maxMs.
 */
export class Backoff {
  readonly #base: number;
  readonly #max: number;
  readonly #factor: number;
  readonly #random: Random;
  #prev: number;
  #attempts = 0;

  constructor(opts: BackoffOptions) {
    if (!(opts.baseMs > 0) || !(opts.maxMs >= opts.baseMs)) {
      throw new RangeError(`backoff needs 0 < baseMs <= maxMs (got ${opts.baseMs}, ${opts.maxMs})`);
    }
    this.#base = opts.baseMs;
    this.#max = opts.maxMs;
    this.#factor = opts.factor ?? 3;
    this.#random = opts.random;
    this.#prev = opts.baseMs;
  }

  /** Number of delays handed out since the last reset (= consecutive failures). */
  get attempts(): number {
    return this.#attempts;
  }

  /** The delay (ms) before the next attempt. Each call counts as one more failed attempt. */
  next(): number {
    const upper = this.#prev * this.#factor;
    const delay = Math.min(this.#max, this.#base + this.#random() * Math.max(0, upper - this.#base));
    this.#prev = delay;
    this.#attempts++;
    return Math.round(delay);
  }

  /** After a success: the next failure starts again from baseMs. */
  reset(): void {
    this.#attempts = 0;
    this.#prev = this.#base;
  }
}
