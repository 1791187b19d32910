import { WarmpoolError } from '../core/errors.js';

/**
 * Process-wide limits shared by every device pool.
 *
 * WHY a connect limiter: a daemon restart or a site coming back makes hundreds of pools
 * connect at once; SSH key exchange is CPU-heavy on both ends and AAA servers rate-limit
 * logins. Connection attempts therefore queue (FIFO, so no device starves) for one of
 * `maxConcurrentConnects` slots.
 *
 * WHY a session budget: every session holds a socket, ssh2 buffers and a vty line on a
 * device; `maxTotalSessions` bounds the daemon's memory and file descriptors whatever the
 * inventory says.
 */

interface SlotWaiter {
  resolve: () => void;
  reject: (err: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  done: boolean;
}

export class ConnectLimiter {
  readonly #max: number;
  #active = 0;
  /** FIFO; cancelled entries are marked done and skipped (no O(n) removal on abort). */
  #queue: SlotWaiter[] = [];
  #head = 0;

  constructor(maxConcurrentConnects: number) {
    this.#max = Math.max(1, maxConcurrentConnects);
  }

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    let n = 0;
    for (let i = this.#head; i < this.#queue.length; i++) if (!this.#queue[i]!.done) n++;
    return n;
  }

  /** Resolves when a slot is ours (call release() exactly once); rejects CANCELLED on abort. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(cancelled());
    if (this.#active < this.#max && this.#head === this.#queue.length) {
      this.#active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const w: SlotWaiter = { resolve, reject, signal, onAbort: undefined, done: false };
      if (signal) {
        w.onAbort = () => {
          if (w.done) return;
          w.done = true;
          reject(cancelled());
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.#queue.push(w);
    });
  }

  release(): void {
    this.#active--;
    while (this.#head < this.#queue.length && this.#active < this.#max) {
      const w = this.#queue[this.#head++]!;
      if (w.done) continue;
      w.done = true;
      if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
      this.#active++;
      w.resolve();
    }
    // Compact once the consumed prefix dominates, so the array does not grow forever.
    if (this.#head > 64 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }
}

function cancelled(): WarmpoolError {
  return new WarmpoolError('CANCELLED', 'connection attempt cancelled while waiting for a connect slot');
}

/** What a pool offers the budget. */
export interface BudgetClient {
  /** A token was returned and this client asked for one: try again now (synchronously). */
  onBudgetAvailable(): void;
  /** Close one idle session above the pool's minimum to make room elsewhere; false if none. */
  evictIdleForBudget(): boolean;
}

/**
 * Tokens for open sessions across all pools. A pool takes one before it opens a session and
 * gives it back when that session's close() has resolved (or the open failed). A pool that
 * finds the budget exhausted is remembered and told when a token comes back; meanwhile its
 * own waiters keep waiting until their deadline. To make room, the budget asks OTHER pools to
 * close one idle session above their minimum (idle capacity on a quiet device should not
 * starve a busy one).
 */
export class SessionBudget {
  readonly max: number;
  #used = 0;
  /** Pools waiting for a token, in arrival order (a Set keeps insertion order). */
  #waiting = new Set<BudgetClient>();
  #clients = new Set<BudgetClient>();
  /** Evictions started and not yet turned into a returned token; avoids evicting for the same need twice. */
  #evicting = 0;
  #notifying = false;

  constructor(maxTotalSessions: number) {
    this.max = Math.max(1, maxTotalSessions);
  }

  get used(): number {
    return this.#used;
  }

  register(c: BudgetClient): void {
    this.#clients.add(c);
  }

  unregister(c: BudgetClient): void {
    this.#clients.delete(c);
    this.#waiting.delete(c);
  }

  /** Take a token if one is free; otherwise remember `c` and try to free one elsewhere. */
  tryTake(c: BudgetClient): boolean {
    if (this.#used < this.max) {
      this.#used++;
      this.#waiting.delete(c);
      return true;
    }
    this.#waiting.add(c);
    if (this.#evicting < this.#waiting.size) {
      for (const other of this.#clients) {
        if (other !== c && other.evictIdleForBudget()) {
          this.#evicting++;
          break;
        }
      }
    }
    return false;
  }

  /** A pool no longer needs the token it asked for (its waiters left). */
  cancelWait(c: BudgetClient): void {
    this.#waiting.delete(c);
  }

  give(): void {
    this.#used--;
    if (this.#evicting > 0) this.#evicting--;
    if (this.#notifying) return; // the loop below is already running further up the stack
    this.#notifying = true;
    try {
      // Each notified pool either takes the token (synchronously) or no longer needs it;
      // tryTake only re-adds a pool when no token is free, so this loop terminates.
      while (this.#used < this.max && this.#waiting.size > 0) {
        const first = this.#waiting.values().next().value as BudgetClient;
        this.#waiting.delete(first);
        first.onBudgetAvailable();
      }
    } finally {
      this.#notifying = false;
    }
  }
}
