import type { PoolSettings, Protocol } from '../config/types.js';
import type { Clock, Random } from '../core/clock.js';
import { WarmpoolError, describeError, isWarmpoolError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { PoolObserver, PoolStats } from '../core/pool-stats.js';
import { callAsync } from './call-async.js';
import { Dialer, type DialerHost } from './dialer.js';
import { Entries, Entry, whyUnusable } from './entry.js';
import { PoolLease } from './lease.js';
import type { BudgetClient, ConnectLimiter, SessionBudget } from './limits.js';
import type { AcquireOptions, Lease, Session, SessionFactory } from './types.js';
import { Upkeep, type UpkeepHost } from './upkeep.js';
import { WaitQueue, Waiter } from './waiters.js';

export interface DevicePoolOptions<S extends Session> {
  device: string;
  protocol: Protocol;
  settings: PoolSettings;
  factory: SessionFactory<S>;
  clock: Clock;
  random: Random;
  connectLimiter: ConnectLimiter;
  sessionBudget: SessionBudget;
  breaker: { failureThreshold: number; openMs: number; maxOpenMs: number };
  /** Reconnect backoff; defaults 250 ms .. 10 s. */
  backoff?: { baseMs: number; maxMs: number };
  /** Probe a session on borrow when it has been idle longer than this (ms). */
  healthCheckAfterMs: number;
  /** Call session.keepalive() on sessions idle this long (ms); 0 = off. */
  keepaliveIntervalMs: number;
  /** Each session lives maxLifetimeMs * (1 - lifetimeJitter * random). */
  lifetimeJitter: number;
  observer?: PoolObserver;
  logger: Logger;
}

/**
 * A connect that failed at once (refused, or reset/closed before the SSH handshake), as opposed
 * to a timeout: retrying it immediately costs nothing, and may find the device's server back.
 */
function isQuickFailure(err: unknown): boolean {
  return isWarmpoolError(err, 'CONNECT_REFUSED') || isWarmpoolError(err, 'CONNECTION_LOST');
}

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
  readonly #random: Random;
  readonly #budget: SessionBudget;
  readonly #jitter: number;
  readonly #observer: PoolObserver;
  readonly #log: Logger;
  readonly #entries = new Entries<S>();
  readonly #waiters: WaitQueue<S>;
  readonly #upkeep: Upkeep<S>;
  readonly #dialer: Dialer<S>;

  #gen = 0;
  #started = false;
  #draining = false;
  #closed = false;
  #budgetWait = false;
  #emptyWaiters: (() => void)[] = [];
  #closedTotal = 0;
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
    this.#random = opts.random;
    this.#budget = opts.sessionBudget;
    this.#jitter = Math.min(1, Math.max(0, opts.lifetimeJitter));
    this.#observer = opts.observer ?? {};
    this.#log = opts.logger.child({ device: opts.device, protocol: opts.protocol });
    this.#waiters = new WaitQueue<S>(opts.clock);
    const host: UpkeepHost<S> & DialerHost<S> = {
      entries: this.#entries,
      settings: () => this.#settings,
      whyUnusable: (e, now) => this.#whyUnusable(e, now),
      destroy: (e, reason) => this.#destroy(e, reason),
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
      const timeoutAt = now + this.#settings.acquireTimeoutMs;
      const callerFirst = opts.deadline !== undefined && opts.deadline < timeoutAt;
      const deadline = callerFirst ? (opts.deadline as number) : timeoutAt;
      const w = new Waiter<S>(resolve, reject, now, deadline, callerFirst, opts.signal);
      w.timer = this.#clock.setTimeout(() => this.#timedOut(w), deadline - now);
      if (opts.signal) {
        w.onAbort = () => this.#fail(w, this.#err('CANCELLED', `acquire cancelled by the caller after waiting ${this.#waited(w)} ms`));
        opts.signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.#waiters.push(w);
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
      closedTotal: this.#closedTotal,
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
    const counts = this.#closeIdle('draining');
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
    const counts = this.#closeIdle('retired');
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
      for (const e of this.#entries.live()) this.#destroy(e, 'pool_closed');
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
    this.#destroy(e, 'budget');
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
        this.#destroy(e, why);
        continue;
      }
      const w = waiters.shift() as Waiter<S>;
      if (this.#upkeep.needsProbe(e, now)) this.#upkeep.probe(e, (err) => this.#probed(e as Entry<S>, w, err));
      else this.#handOver(e, w, now);
    }

    // 2. A lowered max: close surplus idle sessions (closing ones are on their way out already).
    while (entries.coldest && this.#live() > s.max) this.#destroy(entries.coldest, 'resized');

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
      this.#destroy(e, why);
    } else {
      this.#entries.transition(e, 'idle');
      this.#upkeep.armFor(e, now);
    }
    this.#schedule();
  }

  #opened(session: S, gen: number, connectMs: number, now: number): void {
    const lifetime = this.#settings.maxLifetimeMs > 0
      ? this.#settings.maxLifetimeMs * (1 - this.#jitter * this.#random()) : Infinity;
    const e = new Entry(session, gen, now + lifetime, connectMs, now);
    this.#entries.add(e);
    session.onClose((err) => this.#closedByPeer(e, err));
    if (this.#draining || gen !== this.#gen) this.#destroy(e, this.#draining ? 'draining' : 'retired');
    else this.#upkeep.armFor(e, now);
    // Delivered through the idle list: the first waiter gets it, even if the one it was
    // opened for has left meanwhile; with no waiter it simply stays idle.
    this.#schedule();
  }

  /** Who hears of a failed open now (the dialer has updated breaker and backoff; it reschedules next). */
  #openFailed(err: unknown, permanent: boolean, first: boolean, now: number): void {
    const connecting = this.#dialer.connecting;
    if (permanent) {
      // Bad credentials or a wrong host key: every waiter no other open covers gets the real error.
      this.#waiters.rejectUncovered(err, connecting);
    } else if (this.#entries.established > 0) {
      // Sessions are in use and will come back: the waiters queue behind them as usual. Only
      // those whose deadline ends before the retry are told why now, not by a bare timeout later.
      this.#waiters.rejectUncovered(err, connecting, this.#dialer.retryAt);
    } else if (first && isQuickFailure(err) && this.#waiters.size > connecting) {
      // One immediate retry for a refused or reset connect: a device restarting its SSH server
      // or shedding a burst of logins (OpenSSH MaxStartups) often takes the next one. The
      // backoff for later (background) reconnects stays.
      this.#dialer.retryNow(now);
    } else {
      // Nothing can serve the waiter this open was for but another open, which would only be
      // tried after the backoff: it gets this connect's error now (as in pg-pool), not a
      // timeout. While other opens are in flight the rest wait for them (one may succeed);
      // when none is left, every waiter not covered by one gets the error.
      this.#waiters.rejectUncovered(err, connecting, Infinity, connecting > 0 ? 1 : Infinity);
    }
  }

  #probed(e: Entry<S>, w: Waiter<S>, err: unknown): void {
    if (e.state !== 'checking') {
      // Taken away meanwhile by close(); the caller is still waiting on us.
      this.#waiters.reject(w, this.#closed ? this.#err('POOL_CLOSED', 'pool is closed') : this.#drainingError());
      return this.#schedule();
    }
    const now = this.#clock.now();
    const why = err !== undefined ? 'probe_failed' : this.#whyUnusable(e, now);
    if (why !== undefined) {
      this.#destroy(e, why);
      // Transparent to the caller: back to the front of the queue for another session.
      if (!w.settled) {
        if (this.#draining) this.#waiters.reject(w, this.#drainingError());
        else this.#waiters.pushFront(w);
      }
    } else if (!w.settled) {
      this.#handOver(e, w, now);
    } else {
      this.#entries.transition(e, 'idle');
      this.#upkeep.armFor(e, now);
    }
    this.#schedule();
  }

  #closedByPeer(e: Entry<S>, err?: Error): void {
    if (e.state === 'closing' || e.state === 'closed') return;
    e.dead = true;
    this.#log.info({ session: e.session.id, err: err ? describeError(err) : undefined }, 'session closed by peer');
    // Idle: remove at once so nobody gets it. Leased/probing/keepalive: closed when it comes back.
    if (e.state === 'idle') {
      this.#destroy(e, 'closed_by_peer');
      this.#schedule();
    }
  }

  /** Take a session out of service; it keeps counting against max until close() resolves. */
  #destroy(e: Entry<S>, reason: string): void {
    if (e.state === 'closing' || e.state === 'closed') return;
    this.#entries.transition(e, 'closing');
    this.#observer.sessionClosed?.(this.device, this.protocol, reason);
    const done = (): void => {
      this.#entries.transition(e, 'closed');
      this.#closedTotal++;
      this.#budget.give();
      this.#schedule();
    };
    callAsync(() => e.session.close()).then(done, done).catch(this.#onBug);
  }

  #closeIdle(reason: string): { closedIdle: number; closingBusy: number } {
    let closedIdle = 0;
    for (let e = this.#entries.hottest; e; e = this.#entries.hottest) {
      this.#destroy(e, reason);
      closedIdle++;
    }
    return { closedIdle, closingBusy: this.#entries.busy + this.#entries.keepalive };
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
    w.timer = undefined;
    const waited = this.#waited(w);
    const lastError = this.#dialer.lastError;
    const last = lastError ? `; last connect error: ${lastError}` : '';
    // With no session in use, the waiter was waiting for a connect to the device, not for a
    // release: the device did not answer in time, which is UNAVAILABLE (CONNECT_TIMEOUT), not a
    // saturated pool. This is the case when the connect timeout is not below acquireTimeoutMs;
    // a shorter connect timeout hands the waiter the connect's own error (#openFailed).
    const dialing = this.#dialer.dialing > 0 && this.#entries.established === 0;
    const s = this.#settings;
    const err = w.callerDeadline
      ? this.#err('DEADLINE_EXCEEDED', `caller deadline passed after waiting ${waited} ms for a session` +
        `${dialing ? ' (connecting to the device had not finished)' : ''}${last}`)
      : dialing
        ? this.#err('CONNECT_TIMEOUT', `connecting to the device did not finish within acquireTimeoutMs ${s.acquireTimeoutMs} ` +
          `(waited ${waited} ms; a connect timeout below acquireTimeoutMs reports the connect's own error)${last}`)
        : this.#err('ACQUIRE_TIMEOUT', `no session within acquireTimeoutMs ${s.acquireTimeoutMs} (waited ${waited} ms; ` +
          `busy ${this.#entries.busy}, max ${s.max})${last}`);
    this.#fail(w, err);
  }

  // ---- helpers ----

  #whyUnusable(e: Entry<S>, now: number): string | undefined {
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

  #waited(w: Waiter<S>): number {
    return Math.round(this.#clock.now() - w.enqueuedAt);
  }

  #drainingError(): WarmpoolError {
    return this.#err('DRAINING', 'pool is draining; no new sessions are handed out');
  }

  #err(code: WarmpoolError['code'], what: string): WarmpoolError {
    return new WarmpoolError(code, `${this.device} (${this.protocol}): ${what}`, { device: this.device });
  }
}
