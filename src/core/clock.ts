/**
 * Time and randomness are injected so that pool timers, backoff and jitter are
 * tested with a fake clock, without sleeping.
 */
export interface TimerHandle {
  /** Opaque; pass back to clearTimeout. */
  readonly __timer: unknown;
}

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Wall-clock milliseconds since the epoch, for messages ("open until ..."). */
  wallNow(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export type Random = () => number;

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    // Pool housekeeping timers must never keep the process alive on their own.
    t.unref();
    return { __timer: t };
  },
  clearTimeout(handle) {
    clearTimeout(handle.__timer as NodeJS.Timeout);
  },
};

export const systemRandom: Random = Math.random;
