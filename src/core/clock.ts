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

/** Deterministic PRNG (mulberry32) in [0, 1): same seed, same sequence. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Random returning the given values in turn (then the last one forever). */
