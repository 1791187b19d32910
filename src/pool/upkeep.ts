import type { PoolSettings } from '../config/types.js';
import type { Clock, Random, TimerHandle } from '../core/clock.js';
import type { CloseReason } from '../core/pool-stats.js';
import { callAsync } from './call-async.js';
import type { Entries, Entry } from './entry.js';
import type { Session } from './types.js';
import type { Waiter } from './waiters.js';

/** What upkeep needs from its pool. */
export interface UpkeepHost<S extends Session> {
  readonly entries: Entries<S>;
  /** The pool's current settings (they change with updateSettings and retire). */
  settings(): PoolSettings;
  whyUnusable(e: Entry<S>, now: number): CloseReason | undefined;
  /** Take a session out of service. */
  destroy(e: Entry<S>, reason: CloseReason): void;
  /** Lease a session that passed its borrow probe to the waiter it was probed for. */
  handOver(e: Entry<S>, w: Waiter<S>, now: number): void;
  /** The waiter's session fell through: back to the front of the queue, or refused if the pool is closing. */
  giveBack(w: Waiter<S>): void;
  /** Something changed: let the pool decide what happens next. */
  schedule(): void;
  onBug(err: unknown): void;
}

export interface UpkeepOptions {
  random: Random;
  /** Each session lives maxLifetimeMs * (1 - lifetimeJitter * random). */
  lifetimeJitter: number;
  /** Probe a session on borrow when it has been idle longer than this (ms). */
  healthCheckAfterMs: number;
  /** Call session.keepalive() on sessions idle this long (ms); 0 = off. */
  keepaliveIntervalMs: number;
}

/**
 * Care of the idle sessions: one sweep timer per pool closes sessions past their idle timeout
 * or max lifetime and starts application keepalives; the health probe on borrow runs here too.
 * Upkeep only changes entries' states (through Entries.transition) and tells the pool.
 */
export class Upkeep<S extends Session> {
  readonly #host: UpkeepHost<S>;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #jitter: number;
  readonly #healthCheckAfterMs: number;
  readonly #keepaliveMs: number;
  /**
   * Keepalives due this soon are run by the sweep already under way. WHY: each sweep walks the
   * idle list, and with 1 000 sessions opened at different moments one sweep per session due
   * time would be O(n²) per period; batching keeps it to about one sweep a second per pool.
   */
  readonly #keepaliveSlackMs: number;
  #timer: TimerHandle | undefined;
  #timerAt = 0;
  #stopped = false;
  // Bound once, so arming the sweep needs no closure.
  readonly #sweepFn = (): void => this.#sweep();

  constructor(host: UpkeepHost<S>, clock: Clock, opts: UpkeepOptions) {
    this.#host = host;
    this.#clock = clock;
    this.#random = opts.random;
    this.#jitter = Math.min(1, Math.max(0, opts.lifetimeJitter));
    this.#healthCheckAfterMs = opts.healthCheckAfterMs;
    this.#keepaliveMs = opts.keepaliveIntervalMs;
    this.#keepaliveSlackMs = Math.min(1000, Math.floor(opts.keepaliveIntervalMs / 20));
  }

  /**
   * When a session opened now must go (Infinity: never). WHY jitter: sessions opened together
   * (prewarm, a burst) would otherwise all be recycled in the same instant.
   */
  expiresAt(now: number): number {
    const max = this.#host.settings().maxLifetimeMs;
    return max > 0 ? now + max * (1 - this.#jitter * this.#random()) : Infinity;
  }

  /**
   * WHY a probe on borrow: a session idle for a while may have been closed by the device
   * (vty exec-timeout) without us noticing; a cheap round trip now beats a failed command later.
   */
  needsProbe(e: Entry<S>, now: number): boolean {
    return now - e.lastUsed > this.#healthCheckAfterMs;
  }

  /** Probe an idle session for the waiter `w`, who gets it if it passes. */
  probe(e: Entry<S>, w: Waiter<S>): void {
    this.#host.entries.transition(e, 'checking');
    callAsync(() => e.session.probe()).then(
      () => this.#probed(e, w, undefined),
      (err: unknown) => this.#probed(e, w, err ?? new Error('probe failed')),
    ).catch(this.#host.onBug);
  }

  /** A session has become idle: make sure the sweep runs when it next has something to do for it. */
  armFor(e: Entry<S>, now: number): void {
    const due = this.#dueOf(e, now);
    if (due < Infinity) this.#arm(due, now);
  }

  /** Pool closed: no more sweeps. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    this.#timer = undefined;
    if (this.#stopped) return;
    const host = this.#host;
    const entries = host.entries;
    const now = this.#clock.now();
    const s = host.settings();
    let next = Infinity;
    // From the cold end, so that when only some may go, the least recently used go first.
    for (let e = entries.coldest; e;) {
      const prev = e.prev;
      const why = host.whyUnusable(e, now);
      if (why !== undefined) {
        // Lifetime is enforced only while idle: WHY never mid-command — a recycle must not
        // break a caller's batch; a busy session past its lifetime is closed on release.
        host.destroy(e, why);
      } else if (s.idleTimeoutMs > 0 && now - e.lastUsed >= s.idleTimeoutMs && entries.established > s.min) {
        host.destroy(e, 'idle_timeout');
      } else if (this.#keepaliveMs > 0 && e.session.keepalive &&
        now - Math.max(e.lastUsed, e.lastKeepalive) >= this.#keepaliveMs - this.#keepaliveSlackMs) {
        this.#keepalive(e, now);
      } else {
        next = Math.min(next, this.#dueOf(e, now));
      }
      e = prev;
    }
    if (next < Infinity) this.#arm(next, now);
    host.schedule();
  }

  #probed(e: Entry<S>, w: Waiter<S>, err: unknown): void {
    const host = this.#host;
    if (e.state !== 'checking') {
      // Taken away meanwhile by close(); the caller is still waiting on us.
      host.giveBack(w);
      return host.schedule();
    }
    const now = this.#clock.now();
    const why = err !== undefined ? 'probe_failed' : host.whyUnusable(e, now);
    if (why !== undefined) {
      host.destroy(e, why);
      // Transparent to the caller: back to the front of the queue for another session.
      host.giveBack(w);
    } else if (!w.settled) {
      host.handOver(e, w, now);
    } else {
      // The caller left (timeout, cancel) while we probed: a healthy session goes back idle.
      host.entries.transition(e, 'idle');
      this.armFor(e, now);
    }
    host.schedule();
  }

  #keepalive(e: Entry<S>, now: number): void {
    // WHY: devices close quiet vty lines even with SSH keepalives; an application-level
    // nudge keeps them. Only idle sessions, and taken out of the idle list meanwhile, so a
    // keepalive never runs concurrently with a lease.
    this.#host.entries.transition(e, 'keepalive');
    e.lastKeepalive = now;
    callAsync(() => (e.session.keepalive as () => Promise<void>).call(e.session)).then(
      () => this.#keepaliveDone(e, undefined),
      (err: unknown) => this.#keepaliveDone(e, err ?? new Error('keepalive failed')),
    ).catch(this.#host.onBug);
  }

  #keepaliveDone(e: Entry<S>, err: unknown): void {
    const host = this.#host;
    // Taken away meanwhile (pool closed): nothing to put back.
    if (e.state !== 'keepalive') return host.schedule();
    const now = this.#clock.now();
    host.entries.transition(e, 'idle');
    const why = err !== undefined ? 'keepalive_failed' : host.whyUnusable(e, now);
    if (why !== undefined) host.destroy(e, why);
    else this.armFor(e, now);
    host.schedule();
  }

  /** The next time the sweep has something to do for this idle session. */
  #dueOf(e: Entry<S>, now: number): number {
    const s = this.#host.settings();
    let due = e.expiresAt;
    const idleAt = e.lastUsed + s.idleTimeoutMs;
    // Past the idle timeout but kept for min: not an event; it is re-checked by later sweeps.
    if (s.idleTimeoutMs > 0 && idleAt > now) due = Math.min(due, idleAt);
    if (this.#keepaliveMs > 0 && e.session.keepalive) {
      due = Math.min(due, Math.max(e.lastUsed, e.lastKeepalive) + this.#keepaliveMs);
    }
    return due;
  }

  /** One sweep timer per pool, moved only when something falls due earlier — so a release does not allocate a timer. */
  #arm(at: number, now: number): void {
    if (this.#stopped || (this.#timer && this.#timerAt <= at)) return;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = this.#clock.setTimeout(this.#sweepFn, Math.max(0, at - now));
  }
}
