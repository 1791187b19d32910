import type { PoolSettings, Protocol } from '../config/types.js';
import type { Clock } from '../core/clock.js';
import { describeError, type ErrorCode, type WarmpoolError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { CloseReason, PoolObserver, PoolStats } from '../core/pool-stats.js';
import { Dialer, type DialerHost } from './dialer.js';
import { Entries, Entry, whyUnusable } from './entry.js';
import { poolError, tellOfFailedOpen, timeoutError } from './fail-fast.js';
import { PoolLease } from './lease.js';
import type { BudgetClient, SessionBudget } from './limits.js';
import type { AcquireOptions, DevicePoolOptions, Lease, Session, SessionFactory } from './types.js';
import { Upkeep, type UpkeepHost } from './upkeep.js';
import { WaitQueue, type Waiter } from './waiters.js';

export type { DevicePoolOptions } from './types.js';

/**
 * The sessions of one device and protocol.
 *
 * Shape (after pg-pool): every public method and every event (release, open done, probe done,
 * timer, close done) only changes state and then calls #schedule(), the one place that decides
 * what happens next — hand idle sessions to waiters, open new sessions, fail waiters fast.
 * Entries (entry.ts) own the sessions' states and counts, the WaitQueue (waiters.ts) the
 * callers, Upkeep (upkeep.ts) the sweep, keepalive and borrow probe, the Dialer (dialer.ts)
 * the opens, breaker and backoff.
 *
 * Counting rule: connecting + idle (incl. keepalive) + busy (incl. borrow probe) + closing
 * ≤ settings.max, always. A closing session still holds a vty line on the device until its
 * socket is gone, so it counts until close() resolves.
 */
export class DevicePool<S extends Session> implements BudgetClient {
  readonly device: string;
  readonly protocol: Protocol;
  #settings: PoolSettings;
  #factory: SessionFactory<S>;
  readonly #clock: Clock;
  readonly #budget: SessionBudget;
  readonly #observer: PoolObserver;
  readonly #log: Logger;
  readonly #entries: Entries<S>;
  readonly #waiters: WaitQueue<S>;
  readonly #upkeep: Upkeep<S>;
  readonly #dialer: Dialer<S>;

  #gen = 0;
  #started = false;
  #draining = false;
  #closed = false;
  #budgetWait = false;
  #emptyWaiters: (() => void)[] = [];
  #acquiredTotal = 0;

  // Bound once, so leases need no closure per acquire.
  readonly #releaseFn = (e: Entry<S>, discard: boolean): void => this.#release(e, discard);
  /** Last line of defence: a throw in our own callbacks (or an observer's) must never become an
   *  unhandled rejection, which the daemon treats as fatal. */
  readonly #onBug = (err: unknown): void => {
    this.#log.error({ err: describeError(err) }, 'pool internal error');
  };

  constructor(opts: DevicePoolOptions<S>) {
    this.device = opts.device;
    this.protocol = opts.protocol;
    this.#settings = opts.settings;
    this.#factory = opts.factory;
    this.#clock = opts.clock;
    this.#budget = opts.sessionBudget;
    this.#observer = opts.observer ?? {};
    this.#log = opts.logger.child({ device: opts.device, protocol: opts.protocol });
    this.#entries = new Entries<S>({
      closing: (reason) => this.#observer.sessionClosed?.(this.device, this.protocol, reason),
      closed: () => {
        this.#budget.give();
        this.#schedule();
      },
      peerClosed: (id, err, idle) => {
        this.#log.info({ session: id, err: err ? describeError(err) : undefined }, 'session closed by peer');
        if (idle) this.#schedule();
      },
      onBug: this.#onBug,
    });
    this.#waiters = new WaitQueue<S>(opts.clock, {
      timedOut: (w) => this.#timedOut(w),
      aborted: (w) => this.#fail(w, this.#err('CANCELLED', `acquire cancelled by the caller after waiting ${this.#waiters.waitedMs(w)} ms`)),
    });
    const host: UpkeepHost<S> & DialerHost<S> = {
      entries: this.#entries,
      settings: () => this.#settings,
      whyUnusable: (e, now) => this.#whyUnusable(e, now),
      destroy: (e, reason) => this.#entries.destroy(e, reason),
      handOver: (e, w, now) => void this.#handOver(e, w, now),
      giveBack: (w) => this.#giveBack(w),
      schedule: () => this.#schedule(),
      onBug: this.#onBug,
      opened: (session, gen, connectMs, now) => this.#opened(session, gen, connectMs, now),
      openFailed: (err, permanent, first, now) => this.#openFailed(err, permanent, first, now),
    };
    this.#upkeep = new Upkeep(host, opts.clock, opts);
    this.#dialer = new Dialer<S>({
      ...opts, backoff: opts.backoff ?? { baseMs: 250, maxMs: 10_000 }, observer: this.#observer, logger: this.#log, host,
    });
    this.#budget.register(this);
  }

  get settings(): PoolSettings {
    return this.#settings;
  }

  /** Sessions whose close() has not resolved yet (they still count against max). */
  get closing(): number {
    return this.#entries.closing;
  }

  /** Prewarm: open sessions up to min (and keep refilling it). */
  start(): void {
    this.#started = true;
    this.#schedule();
  }

  acquire(opts: AcquireOptions = {}): Promise<Lease<S>> {
    if (this.#closed) return Promise.reject(this.#err('POOL_CLOSED', 'pool is closed'));
    if (this.#draining) return Promise.reject(this.#drainingError());
    if (opts.signal?.aborted) return Promise.reject(this.#err('CANCELLED', 'acquire cancelled by the caller'));
    const now = this.#clock.now();
    if (opts.deadline !== undefined && opts.deadline <= now) {
      return Promise.reject(this.#err('DEADLINE_EXCEEDED', 'caller deadline already passed before waiting for a session'));
    }
    // Fast path: a warm idle session and nobody ahead of us — no timer, no queue, no closure.
    const e = this.#entries.hottest;
    if (e && this.#waiters.size === 0 && this.#whyUnusable(e, now) === undefined && !this.#upkeep.needsProbe(e, now)) {
      return Promise.resolve(this.#handOver(e, undefined, now));
    }
    if (this.#waiters.size >= this.#settings.maxWaiting) {
      return Promise.reject(this.#err('QUEUE_FULL', `wait queue is full (maxWaiting ${this.#settings.maxWaiting})`));
    }
    return new Promise<Lease<S>>((resolve, reject) => {
      this.#waiters.add(resolve, reject, now, this.#settings.acquireTimeoutMs, opts);
      this.#schedule();
    });
  }

  stats(): PoolStats {
    const breaker = this.#dialer.breaker;
    return {
      device: this.device,
      protocol: this.protocol,
      idle: this.#entries.idle + this.#entries.keepalive,
      busy: this.#entries.busy,
      connecting: this.#dialer.connecting,
      waiting: this.#waiters.size,
      createdTotal: this.#dialer.createdTotal,
      closedTotal: this.#entries.closedTotal,
      acquiredTotal: this.#acquiredTotal,
      failedConnectsTotal: this.#dialer.failedTotal,
      circuit: breaker.state,
      min: this.#settings.min,
      max: this.#settings.max,
      circuitOpenUntil: breaker.openUntil,
      lastError: breaker.lastError || this.#dialer.lastError,
    };
  }

  /**
   * Stop handing out sessions: waiters and later acquires get DRAINING, connection attempts
   * are aborted, idle sessions close now, busy ones close when released. Resolves at once with
   * the counts (a lease may be held for minutes; callers that must wait use whenEmpty()).
   */
  drain(): Promise<{ closedIdle: number; closingBusy: number }> {
    if (!this.#draining) {
      this.#draining = true;
      this.#dialer.abort();
      this.#failAll(this.#drainingError());
    }
    const counts = this.#entries.destroyIdle('draining');
    this.#schedule();
    return Promise.resolve(counts);
  }

  /**
   * The device's inventory entry changed: sessions built from the old settings must go.
   * Idle ones close now, busy ones on release, in-flight opens when they complete; new
   * acquires get sessions from `factory`. The breaker and backoff start afresh, because
   * the change may be the fix (e.g. a corrected password after AUTH_FAILED).
   */
  retire(factory?: SessionFactory<S>, settings?: PoolSettings): { closedIdle: number; closingBusy: number } {
    if (this.#closed) return { closedIdle: 0, closingBusy: 0 };
    this.#gen++;
    if (factory) this.#factory = factory;
    if (settings) this.#settings = settings;
    const counts = this.#entries.destroyIdle('retired');
    this.#dialer.forgetFailures();
    this.#schedule();
    return counts;
  }

  /** New min/max/timeouts that need no new sessions (excess idle sessions are closed). */
  updateSettings(settings: PoolSettings): void {
    this.#settings = settings;
    this.#schedule();
  }

  /** Resolves when no session is connecting, open or closing. */
  whenEmpty(): Promise<void> {
    if (this.#total() === 0) return Promise.resolve();
    return new Promise((resolve) => this.#emptyWaiters.push(resolve));
  }

  /**
   * Shut down: fail waiters (POOL_CLOSED), abort connects, cancel timers, and close every
   * session now, busy ones included (their holders see the session fail). Resolves when all
   * sessions are closed.
   */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#draining = true;
      this.#dialer.stop();
      this.#upkeep.stop();
      this.#failAll(this.#err('POOL_CLOSED', 'pool is closed'));
      for (const e of this.#entries.live()) this.#entries.destroy(e, 'pool_closed');
      this.#budget.unregister(this);
    }
    return this.whenEmpty();
  }

  // ---- BudgetClient ----

  onBudgetAvailable(): void {
    this.#budgetWait = false;
    this.#schedule();
  }

  evictIdleForBudget(): boolean {
    const e = this.#entries.coldest; // least recently used
    if (!e || this.#entries.established <= this.#settings.min) return false;
    this.#entries.destroy(e, 'budget');
    return true;
  }

  // ---- the scheduler ----

  #schedule(): void {
    if (this.#closed) return this.#checkEmpty();
    const now = this.#clock.now();
    const s = this.#settings;
    const entries = this.#entries;
    const waiters = this.#waiters;
    const dialer = this.#dialer;

    // 1. Idle sessions to waiters, first come first served; most recently used session first.
    for (let e = entries.hottest; e && waiters.size > 0; e = entries.hottest) {
      const why = this.#whyUnusable(e, now);
      if (why !== undefined) {
        this.#entries.destroy(e, why);
        continue;
      }
      const w = waiters.shift() as Waiter<S>;
      if (this.#upkeep.needsProbe(e, now)) this.#upkeep.probe(e, w);
      else this.#handOver(e, w, now);
    }

    // 2. A lowered max: close surplus idle sessions (closing ones are on their way out already).
    while (entries.coldest && this.#live() > s.max) this.#entries.destroy(entries.coldest, 'resized');

    // 3. Open sessions for waiters no open is already under way for, and up to min.
    let wantBudget = false;
    while (!this.#draining && this.#total() < s.max &&
      (waiters.size > dialer.connecting || (this.#started && this.#live() < s.min))) {
      const breaker = dialer.breaker;
      const circuit = breaker.state;
      if (circuit === 'open') {
        // Fail fast: nobody should wait out a connect timeout for a device known to be down.
        // Sessions in use still serve the queue when released: the breaker stops connects, not that.
        if (entries.established === 0) waiters.rejectUncovered(breaker.error(), dialer.connecting);
        dialer.wakeAt(now + Math.max(1, breaker.openUntil - this.#clock.wallNow()), now);
        break;
      }
      if (dialer.backingOff(now)) {
        // Reconnect backoff after a failed open. With no session that could be released to
        // them and no open in flight, callers would only wait for the retry to fail the same
        // way: give them the last connect error now (grpc-js fails calls in TRANSIENT_FAILURE
        // the same way). With sessions in use they wait for a release, as in any busy pool.
        if (dialer.hasFailed && entries.established === 0 && dialer.connecting === 0) {
          waiters.rejectUncovered(dialer.backoffError(now), 0);
        }
        dialer.wakeAt(dialer.retryAt, now);
        break;
      }
      if (!this.#budget.tryTake(this)) {
        wantBudget = true; // the budget calls onBudgetAvailable() when a token comes back
        break;
      }
      if (circuit === 'half_open' && !breaker.tryTakeProbe()) {
        // Half-open: the first open is the probe, the rest fail fast until it reports.
        this.#budget.give();
        if (entries.established === 0) waiters.rejectUncovered(breaker.error(), dialer.connecting);
        break;
      }
      dialer.dial(this.#factory, this.#gen);
    }
    if (this.#budgetWait && !wantBudget) this.#budget.cancelWait(this);
    this.#budgetWait = wantBudget;

    this.#checkEmpty();
  }

  // ---- state changes (each ends in #schedule or is called by it) ----

  #handOver(e: Entry<S>, w: Waiter<S> | undefined, now: number): Lease<S> {
    this.#entries.transition(e, 'busy');
    e.uses++;
    this.#acquiredTotal++;
    const waitMs = w ? now - w.enqueuedAt : 0;
    // Reused from the caller's point of view: it did not wait for this session's connect (a prewarmed
    // session was already idle when it asked; until its first release, lastUsed is its open time).
    const reused = e.uses > 1 || w === undefined || w.enqueuedAt > e.lastUsed;
    const lease = new PoolLease(e, {
      id: e.session.id, reused, waitMs, connectMs: reused ? 0 : e.connectMs, uses: e.uses,
    }, this.#releaseFn);
    this.#observer.acquired?.(this.device, this.protocol, waitMs / 1000);
    if (w) this.#waiters.resolve(w, lease);
    return lease;
  }

  #release(e: Entry<S>, discard: boolean): void {
    const now = this.#clock.now();
    e.lastUsed = now;
    // WHY never reuse a discarded/dirty session: it may sit in config mode, hold half a
    // command's output, or be desynchronised from the prompt; the next caller would get garbage.
    const why = discard ? 'discarded' : this.#whyUnusable(e, now);
    if (why !== undefined) {
      this.#entries.destroy(e, why);
    } else {
      this.#entries.transition(e, 'idle');
      this.#upkeep.armFor(e, now);
    }
    this.#schedule();
  }

  #opened(session: S, gen: number, connectMs: number, now: number): void {
    const e = new Entry(session, gen, this.#upkeep.expiresAt(now), connectMs, now);
    this.#entries.add(e);
    if (this.#draining || gen !== this.#gen) this.#entries.destroy(e, this.#draining ? 'draining' : 'retired');
    else this.#upkeep.armFor(e, now);
    // Delivered through the idle list: the first waiter gets it, even if the one it was
    // opened for has left meanwhile; with no waiter it simply stays idle.
    this.#schedule();
  }

  #openFailed(err: unknown, permanent: boolean, first: boolean, now: number): void {
    const dialer = this.#dialer;
    const retry = tellOfFailedOpen(this.#waiters, {
      err, permanent, first, connecting: dialer.connecting, established: this.#entries.established, retryAt: dialer.retryAt,
    });
    if (retry) dialer.retryNow(now);
  }

  #giveBack(w: Waiter<S>): void {
    if (w.settled) return;
    if (this.#closed) this.#waiters.reject(w, this.#err('POOL_CLOSED', 'pool is closed'));
    else if (this.#draining) this.#waiters.reject(w, this.#drainingError());
    else this.#waiters.pushFront(w);
  }

  #fail(w: Waiter<S>, err: unknown): void {
    // Fewer waiters may mean fewer opens (and a budget wait to cancel).
    if (this.#waiters.reject(w, err)) this.#schedule();
  }

  #failAll(err: unknown): void {
    this.#waiters.rejectAll(err);
    if (this.#budgetWait) this.#budget.cancelWait(this);
    this.#budgetWait = false;
  }

  #timedOut(w: Waiter<S>): void {
    const s = this.#settings;
    this.#fail(w, timeoutError({
      device: this.device, protocol: this.protocol, waitedMs: this.#waiters.waitedMs(w), callerDeadline: w.callerDeadline,
      dialing: this.#dialer.dialing > 0 && this.#entries.established === 0,
      acquireTimeoutMs: s.acquireTimeoutMs, busy: this.#entries.busy, max: s.max, lastError: this.#dialer.lastError,
    }));
  }

  // ---- helpers ----

  #whyUnusable(e: Entry<S>, now: number): CloseReason | undefined {
    return whyUnusable(e, now, this.#gen, this.#draining);
  }

  /** Established plus connecting: what max and min are about. */
  #live(): number {
    return this.#entries.established + this.#dialer.connecting;
  }

  #total(): number {
    return this.#live() + this.#entries.closing;
  }

  #checkEmpty(): void {
    if (this.#emptyWaiters.length > 0 && this.#total() === 0) {
      const ws = this.#emptyWaiters;
      this.#emptyWaiters = [];
      for (const r of ws) r();
    }
  }

  #drainingError(): WarmpoolError {
    return this.#err('DRAINING', 'pool is draining; no new sessions are handed out');
  }

  #err(code: ErrorCode, what: string): WarmpoolError {
    return poolError(this.device, this.protocol, code, what);
  }
}
