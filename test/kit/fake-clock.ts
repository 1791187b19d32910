import type { Clock, Random, TimerHandle } from '../../src/core/clock.js';

interface FakeTimer {
  due: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A Clock whose time moves only when the test says so. `advance(ms)` runs due timers in
 * (due, creation) order, synchronously, setting now() to each timer's due time first.
 * `tick(ms)` does the same but lets promise callbacks run between timers, which is what
 * code that awaits (pools, factories) needs.
 */
export class FakeClock implements Clock {
  #now = 0;
  #seq = 0;
  #timers: FakeTimer[] = [];
  readonly wallBase: number;

  constructor(wallBase = Date.UTC(2026, 0, 1)) {
    this.wallBase = wallBase;
  }

  now(): number {
    return this.#now;
  }

  wallNow(): number {
    return this.wallBase + this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t: FakeTimer = { due: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(t);
    return { __timer: t };
  }

  clearTimeout(handle: TimerHandle): void {
    const t = handle.__timer as FakeTimer;
    t.cancelled = true;
    const i = this.#timers.indexOf(t);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  /** Timers not yet run or cancelled. */
  get pending(): number {
    return this.#timers.length;
  }

  #nextDue(limit: number): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.#timers) {
      if (t.due <= limit && (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq))) best = t;
    }
    return best;
  }

  #runOne(t: FakeTimer): void {
    this.#timers.splice(this.#timers.indexOf(t), 1);
    this.#now = Math.max(this.#now, t.due);
    t.fn();
  }

  /** Move time forward by ms, running every timer that falls due, synchronously. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (let i = 0; i < 1_000_000; i++) {
      const t = this.#nextDue(target);
      if (!t) break;
      this.#runOne(t);
    }
    this.#now = target;
  }

  /** Like advance, but lets pending promise callbacks run before and after each timer. */
  async tick(ms = 0): Promise<void> {
    const target = this.#now + ms;
    await flush();
    for (let i = 0; i < 100_000; i++) {
      const t = this.#nextDue(target);
      if (!t) break;
      this.#runOne(t);
      await flush();
    }
    this.#now = target;
    await flush();
  }
}

/** Let every queued promise callback (and chains of them) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Deterministic PRNG (shipped in src/core/clock.ts: the simulator's hostile garbage uses it too). */
export { seededRandom } from '../../src/core/clock.js';

export function sequenceRandom(...values: number[]): Random {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)] as number;
}
