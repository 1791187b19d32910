import { setMaxListeners } from 'node:events';
import type { PoolSettings, Protocol } from '../config/types.js';
import { WarmpoolError, describeError, isPermanentConnectError, isWarmpoolError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { Backoff } from './backoff.js';
import { CircuitBreaker } from './breaker.js';
import type { Clock, Random, TimerHandle } from '../core/clock.js';
import type { BudgetClient, ConnectLimiter, SessionBudget } from './limits.js';
import type {
  AcquireOptions, Lease, PoolObserver, PoolStats, Session, SessionFactory, SessionInfo,
} from './types.js';

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

type EntryState = 'idle' | 'busy' | 'checking' | 'keepalive' | 'closing';

/** One open session and the pool's bookkeeping for it (kept small: 10 000 idle sessions is a target). */
class Entry<S extends Session> {
  prev: Entry<S> | undefined = undefined;
  next: Entry<S> | undefined = undefined;
  state: EntryState = 'idle';
  uses = 0;
  lastUsed: number;
  lastKeepalive = 0;
  /** Ended by itself (peer closed, keepalive failed) while not idle: close it when it comes back. */
  dead = false;
  constructor(
    readonly session: S,
    /** Inventory generation it was built for; retire() bumps the pool's. */
    readonly gen: number,
    readonly expiresAt: number,
    readonly connectMs: number,
    now: number,
  ) {
    this.lastUsed = now;
  }
}

/** A caller waiting for a session. */
class Waiter<S extends Session> {
  prev: Waiter<S> | undefined = undefined;
  next: Waiter<S> | undefined = undefined;
  queued = false;
  settled = false;
  timer: TimerHandle | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  constructor(
    readonly resolve: (l: Lease<S>) => void,
    readonly reject: (e: unknown) => void,
    readonly enqueuedAt: number,
    readonly deadline: number,
    /** True when the caller's own deadline, not acquireTimeoutMs, is the binding one. */
    readonly callerDeadline: boolean,
    readonly signal: AbortSignal | undefined,
  ) {}
}

interface Linked<T> { prev: T | undefined; next: T | undefined }

/** Intrusive doubly linked list: O(1) push/pop at both ends and O(1) removal from the middle
 *  (a cancelled waiter or an idle session closed by its peer), no array shifts, no node objects. */
class List<T extends Linked<T>> {
  head: T | undefined = undefined;
  tail: T | undefined = undefined;
  size = 0;
  pushHead(n: T): void {
    n.prev = undefined;
    n.next = this.head;
    if (this.head) this.head.prev = n; else this.tail = n;
    this.head = n;
    this.size++;
  }
  pushTail(n: T): void {
    n.next = undefined;
    n.prev = this.tail;
    if (this.tail) this.tail.next = n; else this.head = n;
    this.tail = n;
    this.size++;
  }
  remove(n: T): void {
    if (n.prev) n.prev.next = n.next; else this.head = n.next;
    if (n.next) n.next.prev = n.prev; else this.tail = n.prev;
    n.prev = n.next = undefined;
    this.size--;
  }
}

/**
 * A connect that failed at once (refused, or reset/closed before the SSH handshake), as opposed
 * to a timeout: retrying it immediately costs nothing, and may find the device's server back.
 */
function isQuickFailure(err: unknown): boolean {
  return isWarmpoolError(err, 'CONNECT_REFUSED') || isWarmpoolError(err, 'CONNECTION_LOST');
}

/** Calls fn, turning a synchronous throw into a rejection (drivers are outside our control). */
function callAsync(fn: () => Promise<void>): Promise<void> {
  try {
    return fn();
  } catch (err) {
    return Promise.reject(err);
  }
}

class PoolLease<S extends Session> implements Lease<S> {
  readonly #entry: Entry<S>;
  readonly #back: (e: Entry<S>, discard: boolean) => void;
  #released = false;
  constructor(entry: Entry<S>, readonly info: SessionInfo, back: (e: Entry<S>, discard: boolean) => void) {
    this.#entry = entry;
    this.#back = back;
  }
  get session(): S {
    return this.#entry.session;
  }
  release(opts?: { discard?: boolean }): void {
    // Idempotent; also a no-op once close() has taken the session away.
    if (this.#released) return;
    this.#released = true;
    if (this.#entry.state === 'busy') this.#back(this.#entry, opts?.discard === true);
  }
}

/**
 * The sessions of one device and protocol.
 *
 * Shape (after pg-pool): every public method and every event (release, open done, timer,
 * close done) only changes state and then calls #pump(), the one place that decides what
 * happens next — hand idle sessions to waiters, open new sessions, fail waiters fast.
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
  readonly #limiter: ConnectLimiter;
  readonly #budget: SessionBudget;
  readonly #breaker: CircuitBreaker;
  readonly #backoff: Backoff;
  readonly #healthCheckAfterMs: number;
  readonly #keepaliveMs: number;
  /**
   * Keepalives due this soon are run by the sweep already under way. WHY: each sweep walks the
   * idle list, and with 1 000 sessions opened at different moments one sweep per session due
   * time would be O(n²) per period; batching keeps it to about one sweep a second per pool.
   */
  readonly #keepaliveSlackMs: number;
  readonly #jitter: number;
  readonly #observer: PoolObserver;
  readonly #log: Logger;

  // LIFO idle list: head = most recently used. WHY LIFO: the hot few sessions serve the
  // traffic and stay warm (their TCP windows, device-side caches, known-good health),
  // while the rest get no use and idle out, so the pool shrinks to what the load needs.
  // FIFO would rotate through every session and keep all of them just barely alive.
  readonly #idle = new List<Entry<S>>();
  readonly #waiters = new List<Waiter<S>>();
  /** Every session not yet closing, for close() and retire(). */
  readonly #all = new Set<Entry<S>>();
  #busy = 0; // leased + being probed on borrow
  #keepalive = 0; // idle sessions out for an application keepalive
  #connecting = 0;
  /** Opens past the connect limiter, i.e. actually talking to the device (a subset of #connecting). */
  #dialing = 0;
  #closing = 0;

  #gen = 0;
  #started = false;
  #draining = false;
  #closed = false;
  #abort = new AbortController();
  #budgetWait = false;
  /** No open attempt before this (monotonic ms): reconnect backoff after a failure. */
  #retryAt = 0;
  #retryTimer: TimerHandle | undefined;
  #retryTimerAt = 0;
  #sweepTimer: TimerHandle | undefined;
  #sweepAt = 0;
  #emptyWaiters: (() => void)[] = [];
  #lastError = '';
  /** The error of the last failed open, until an open succeeds: what callers get during the backoff. */
  #lastFailure: unknown = undefined;
  #lastFailureAt = 0;

  #createdTotal = 0;
  #closedTotal = 0;
  #acquiredTotal = 0;
  #failedConnectsTotal = 0;

  // Bound once, so leases and timers need no closure per acquire.
  readonly #releaseFn = (e: Entry<S>, discard: boolean): void => this.#release(e, discard);
  readonly #sweepFn = (): void => this.#sweep();
  /** Last line of defence: a throw in our own callbacks (or an observer's) must never become an
   *  unhandled rejection, which the daemon treats as fatal. */
  readonly #onBug = (err: unknown): void => {
    this.#log.error({ err: describeError(err) }, 'pool internal error');
  };
  readonly #retryFn = (): void => {
    this.#retryTimer = undefined;
    this.#pump();
  };

  constructor(opts: DevicePoolOptions<S>) {
    this.device = opts.device;
    this.protocol = opts.protocol;
    this.#settings = opts.settings;
    this.#factory = opts.factory;
    this.#clock = opts.clock;
    this.#random = opts.random;
    this.#limiter = opts.connectLimiter;
    this.#budget = opts.sessionBudget;
    this.#healthCheckAfterMs = opts.healthCheckAfterMs;
    this.#keepaliveMs = opts.keepaliveIntervalMs;
    this.#keepaliveSlackMs = Math.min(1000, Math.floor(opts.keepaliveIntervalMs / 20));
    this.#jitter = Math.min(1, Math.max(0, opts.lifetimeJitter));
    this.#observer = opts.observer ?? {};
    this.#log = opts.logger.child({ device: opts.device, protocol: opts.protocol });
    this.#backoff = new Backoff({
      baseMs: opts.backoff?.baseMs ?? 250, maxMs: opts.backoff?.maxMs ?? 10_000, random: opts.random,
    });
    this.#breaker = new CircuitBreaker({
      device: opts.device, clock: opts.clock, random: opts.random, ...opts.breaker,
      onChange: (s) => {
        this.#log[s === 'open' ? 'warn' : 'info']({ circuit: s, lastError: this.#breaker.lastError }, 'circuit %s', s);
        this.#observer.circuitChanged?.(this.device, this.protocol, s);
      },
    });
    this.#budget.register(this);
    // Every connect in flight (and every one queued for a connect slot) listens on this one
    // signal; more than 10 is normal for a big pool, not a leak.
    setMaxListeners(0, this.#abort.signal);
  }

  get settings(): PoolSettings {
    return this.#settings;
  }

  /** Sessions whose close() has not resolved yet (they still count against max). */
  get closing(): number {
    return this.#closing;
  }

  /** Prewarm: open sessions up to min (and keep refilling it). */
  start(): void {
    this.#started = true;
    this.#pump();
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
    const e = this.#idle.head;
    if (e && this.#waiters.size === 0 && this.#usable(e, now) && now - e.lastUsed <= this.#healthCheckAfterMs) {
      this.#idle.remove(e);
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
      w.timer = this.#clock.setTimeout(() => this.#waiterTimedOut(w), deadline - now);
      if (opts.signal) {
        w.onAbort = () => this.#fail(w, this.#err('CANCELLED', `acquire cancelled by the caller after waiting ${this.#waited(w)} ms`));
        opts.signal.addEventListener('abort', w.onAbort, { once: true });
      }
      w.queued = true;
      this.#waiters.pushTail(w);
      this.#pump();
    });
  }

  stats(): PoolStats {
    return {
      device: this.device,
      protocol: this.protocol,
      idle: this.#idle.size + this.#keepalive,
      busy: this.#busy,
      connecting: this.#connecting,
      waiting: this.#waiters.size,
      createdTotal: this.#createdTotal,
      closedTotal: this.#closedTotal,
      acquiredTotal: this.#acquiredTotal,
      failedConnectsTotal: this.#failedConnectsTotal,
      circuit: this.#breaker.state,
      min: this.#settings.min,
      max: this.#settings.max,
      circuitOpenUntil: this.#breaker.openUntil,
      lastError: this.#breaker.lastError || this.#lastError,
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
      this.#abort.abort();
      this.#failAll(this.#drainingError());
    }
    let closedIdle = 0;
    while (this.#idle.head) {
      this.#destroy(this.#idle.head, 'draining');
      closedIdle++;
    }
    const closingBusy = this.#busy + this.#keepalive;
    this.#pump();
    return Promise.resolve({ closedIdle, closingBusy });
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
    let closedIdle = 0;
    while (this.#idle.head) {
      this.#destroy(this.#idle.head, 'retired');
      closedIdle++;
    }
    const closingBusy = this.#busy + this.#keepalive;
    this.#breaker.success();
    this.#backoff.reset();
    this.#retryAt = 0;
    this.#lastFailure = undefined;
    this.#pump();
    return { closedIdle, closingBusy };
  }

  /** New min/max/timeouts that need no new sessions (excess idle sessions are closed). */
  updateSettings(settings: PoolSettings): void {
    this.#settings = settings;
    this.#pump();
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
      this.#abort.abort();
      this.#failAll(this.#err('POOL_CLOSED', 'pool is closed'));
      for (const e of this.#all) this.#destroy(e, 'pool_closed');
      if (this.#sweepTimer) this.#clock.clearTimeout(this.#sweepTimer);
      if (this.#retryTimer) this.#clock.clearTimeout(this.#retryTimer);
      this.#sweepTimer = this.#retryTimer = undefined;
      this.#budget.unregister(this);
    }
    return this.whenEmpty();
  }

  // ---- BudgetClient ----

  onBudgetAvailable(): void {
    this.#budgetWait = false;
    this.#pump();
  }

  evictIdleForBudget(): boolean {
    const e = this.#idle.tail; // least recently used
    if (!e || this.#established() <= this.#settings.min) return false;
    this.#destroy(e, 'budget');
    return true;
  }

  // ---- the scheduler ----

  #pump(): void {
    if (this.#closed) return this.#checkEmpty();
    const now = this.#clock.now();
    const s = this.#settings;

    // 1. Idle sessions to waiters, first come first served; most recently used session first.
    while (this.#waiters.head && this.#idle.head) {
      const e = this.#idle.head;
      if (!this.#usable(e, now)) {
        this.#destroy(e, this.#unusableReason(e, now));
        continue;
      }
      this.#idle.remove(e);
      const w = this.#dequeue(this.#waiters.head);
      if (now - e.lastUsed > this.#healthCheckAfterMs) this.#probe(e, w);
      else this.#handOver(e, w, now);
    }

    // 2. A lowered max: close surplus idle sessions (closing ones are on their way out already).
    while (this.#idle.tail && this.#live() > s.max) this.#destroy(this.#idle.tail, 'resized');

    // 3. Open sessions for waiters no open is already under way for, and up to min.
    let wantBudget = false;
    while (!this.#draining && this.#total() < s.max &&
      (this.#waiters.size > this.#connecting || (this.#started && this.#live() < s.min))) {
      if (this.#breaker.state === 'open') {
        // Fail fast: nobody should wait out a connect timeout for a device known to be down.
        // Sessions in use still serve the queue when released: the breaker stops connects, not that.
        if (this.#established() === 0) this.#failUncovered(this.#breaker.error());
        this.#armRetry(now + Math.max(1, this.#breaker.openUntil - this.#clock.wallNow()), now);
        break;
      }
      if (now < this.#retryAt) {
        // Reconnect backoff after a failed open. With no session that could be released to
        // them and no open in flight, callers would only wait for the retry to fail the same
        // way: give them the last connect error now (grpc-js fails calls in TRANSIENT_FAILURE
        // the same way). With sessions in use they wait for a release, as in any busy pool.
        if (this.#lastFailure !== undefined && this.#established() === 0 && this.#connecting === 0) {
          this.#failUncovered(this.#backoffError(now));
        }
        this.#armRetry(this.#retryAt, now);
        break;
      }
      if (!this.#budget.tryTake(this)) {
        wantBudget = true; // the budget calls onBudgetAvailable() when a token comes back
        break;
      }
      try {
        this.#breaker.check(); // half-open: the first open is the probe, the rest fail fast
      } catch (err) {
        this.#budget.give();
        if (this.#established() === 0) this.#failUncovered(err);
        break;
      }
      this.#connecting++;
      this.#open().catch(this.#onBug);
    }
    if (this.#budgetWait && !wantBudget) this.#budget.cancelWait(this);
    this.#budgetWait = wantBudget;

    this.#checkEmpty();
  }

  // ---- state changes (each ends in #pump or is called by it) ----

  #handOver(e: Entry<S>, w: Waiter<S> | undefined, now: number): Lease<S> {
    if (e.state !== 'checking') this.#busy++;
    e.state = 'busy';
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
    if (w) {
      this.#settle(w);
      w.resolve(lease);
    }
    return lease;
  }

  #release(e: Entry<S>, discard: boolean): void {
    const now = this.#clock.now();
    e.lastUsed = now;
    // WHY never reuse a discarded/dirty session: it may sit in config mode, hold half a
    // command's output, or be desynchronised from the prompt; the next caller would get garbage.
    if (discard || e.session.dirty || !this.#usable(e, now)) {
      this.#destroy(e, discard ? 'discarded' : this.#unusableReason(e, now));
    } else {
      this.#busy--;
      e.state = 'idle';
      this.#idle.pushHead(e);
      this.#armSweepFor(e, now);
    }
    this.#pump();
  }

  async #open(): Promise<void> {
    const factory = this.#factory;
    const gen = this.#gen;
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
      if (!signal.aborted) this.#openFailed(err, started);
      this.#pump();
      return;
    }
    const now = this.#clock.now();
    this.#connecting--;
    this.#createdTotal++;
    this.#breaker.success();
    this.#backoff.reset();
    this.#retryAt = 0;
    this.#lastError = ''; // a stale error would mislead timeout messages and stats
    this.#lastFailure = undefined;
    this.#observer.sessionOpened?.(this.device, this.protocol, 'success', (now - started) / 1000);
    const lifetime = this.#settings.maxLifetimeMs > 0
      ? this.#settings.maxLifetimeMs * (1 - this.#jitter * this.#random()) : Infinity;
    const e = new Entry(session, gen, now + lifetime, now - started, now);
    this.#all.add(e);
    session.onClose((err) => this.#closedByPeer(e, err));
    this.#idle.pushHead(e);
    if (this.#draining || gen !== this.#gen) this.#destroy(e, this.#draining ? 'draining' : 'retired');
    else this.#armSweepFor(e, now);
    // Delivered through the idle list: the first waiter gets it, even if the one it was
    // opened for has left meanwhile; with no waiter it simply stays idle.
    this.#pump();
  }

  #openFailed(err: unknown, started: number): void {
    const now = this.#clock.now();
    this.#failedConnectsTotal++;
    this.#lastError = describeError(err);
    this.#observer.sessionOpened?.(this.device, this.protocol, 'failure', (now - started) / 1000);
    this.#log.warn({ err: this.#lastError }, 'session open failed');
    if (isPermanentConnectError(err)) {
      // Bad credentials or a wrong host key do not fix themselves; retrying locks accounts
      // or hammers a possible attacker. Fail the waiters with the real error and trip the breaker.
      this.#breaker.trip(err);
      this.#failUncovered(err);
      return;
    }
    this.#breaker.failure(err);
    const firstFailure = this.#backoff.attempts === 0;
    this.#retryAt = now + this.#backoff.next();
    this.#lastFailure = err;
    this.#lastFailureAt = now;
    if (this.#established() > 0) {
      // Sessions are in use and will come back: the waiters queue behind them as usual. Only
      // those whose deadline ends before the retry are told why now, not by a bare timeout later.
      this.#failUncovered(err, this.#retryAt);
    } else if (firstFailure && isQuickFailure(err) && this.#waiters.size > this.#connecting) {
      // One immediate retry for a refused or reset connect: a device restarting its SSH server
      // or shedding a burst of logins (OpenSSH MaxStartups) often takes the next one. The
      // backoff for later (background) reconnects stays.
      this.#retryAt = now;
    } else {
      // Nothing can serve the waiter this open was for but another open, which would only be
      // tried after the backoff: it gets this connect's error now (as in pg-pool), not a
      // timeout. While other opens are in flight the rest wait for them (one may succeed);
      // when none is left, every waiter not covered by one gets the error.
      this.#failUncovered(err, Infinity, this.#connecting > 0 ? 1 : Infinity);
    }
  }

  #probe(e: Entry<S>, w: Waiter<S>): void {
    // WHY: a session idle for a while may have been closed by the device (vty exec-timeout)
    // without us noticing; a cheap round trip now beats a failed command later.
    e.state = 'checking';
    this.#busy++;
    callAsync(() => e.session.probe()).then(
      () => this.#probeDone(e, w, undefined),
      (err: unknown) => this.#probeDone(e, w, err ?? new Error('probe failed')),
    ).catch(this.#onBug);
  }

  #probeDone(e: Entry<S>, w: Waiter<S>, err: unknown): void {
    if (e.state !== 'checking') {
      // Taken away meanwhile by close(); the caller is still waiting on us.
      if (!w.settled) this.#fail(w, this.#closed ? this.#err('POOL_CLOSED', 'pool is closed') : this.#drainingError());
      return this.#pump();
    }
    const now = this.#clock.now();
    if (err !== undefined || e.dead || e.session.dirty || this.#draining) {
      this.#destroy(e, err !== undefined ? 'probe_failed' : this.#unusableReason(e, now));
      // Transparent to the caller: back to the front of the queue for another session.
      if (!w.settled) {
        if (this.#draining) this.#fail(w, this.#drainingError());
        else {
          w.queued = true;
          this.#waiters.pushHead(w);
        }
      }
    } else if (!w.settled) {
      this.#handOver(e, w, now);
    } else {
      this.#busy--;
      e.state = 'idle';
      this.#idle.pushHead(e);
      this.#armSweepFor(e, now);
    }
    this.#pump();
  }

  #startKeepalive(e: Entry<S>, now: number): void {
    // WHY: devices close quiet vty lines even with SSH keepalives; an application-level
    // nudge keeps them. Only idle sessions, and taken out of the idle list meanwhile, so a
    // keepalive never runs concurrently with a lease.
    this.#idle.remove(e);
    e.state = 'keepalive';
    e.lastKeepalive = now;
    this.#keepalive++;
    callAsync(() => (e.session.keepalive as () => Promise<void>).call(e.session)).then(
      () => this.#keepaliveDone(e, undefined),
      (err: unknown) => this.#keepaliveDone(e, err ?? new Error('keepalive failed')),
    ).catch(this.#onBug);
  }

  #keepaliveDone(e: Entry<S>, err: unknown): void {
    if (e.state !== 'keepalive') return this.#pump();
    const now = this.#clock.now();
    this.#keepalive--;
    e.state = 'idle';
    // Back at the cold end: a keepalive is not use, it must not make the session "recent".
    this.#idle.pushTail(e);
    if (err !== undefined || e.session.dirty || !this.#usable(e, now)) {
      this.#destroy(e, err !== undefined ? 'keepalive_failed' : this.#unusableReason(e, now));
    } else {
      this.#armSweepFor(e, now);
    }
    this.#pump();
  }

  #closedByPeer(e: Entry<S>, err?: Error): void {
    if (e.state === 'closing') return;
    e.dead = true;
    this.#log.info({ session: e.session.id, err: err ? describeError(err) : undefined }, 'session closed by peer');
    // Idle: remove at once so nobody gets it. Leased/probing/keepalive: closed when it comes back.
    if (e.state === 'idle') {
      this.#destroy(e, 'closed_by_peer');
      this.#pump();
    }
  }

  /** Take a session out of service; it keeps counting against max until close() resolves. */
  #destroy(e: Entry<S>, reason: string): void {
    switch (e.state) {
      case 'closing': return;
      case 'idle': this.#idle.remove(e); break;
      case 'keepalive': this.#keepalive--; break;
      default: this.#busy--; // busy, checking
    }
    e.state = 'closing';
    this.#all.delete(e);
    this.#closing++;
    this.#observer.sessionClosed?.(this.device, this.protocol, reason);
    const done = (): void => {
      this.#closing--;
      this.#closedTotal++;
      this.#budget.give();
      this.#pump();
    };
    callAsync(() => e.session.close()).then(done, done).catch(this.#onBug);
  }

  #sweep(): void {
    this.#sweepTimer = undefined;
    if (this.#closed) return;
    const now = this.#clock.now();
    const s = this.#settings;
    let next = Infinity;
    // From the cold end, so that when only some may go, the least recently used go first.
    for (let e = this.#idle.tail; e; ) {
      const prev = e.prev;
      if (!this.#usable(e, now)) {
        // Lifetime is enforced only while idle: WHY never mid-command — a recycle must not
        // break a caller's batch; a busy session past its lifetime is closed on release.
        this.#destroy(e, this.#unusableReason(e, now));
      } else if (s.idleTimeoutMs > 0 && now - e.lastUsed >= s.idleTimeoutMs && this.#established() > s.min) {
        this.#destroy(e, 'idle_timeout');
      } else if (this.#keepaliveMs > 0 && e.session.keepalive &&
        now - Math.max(e.lastUsed, e.lastKeepalive) >= this.#keepaliveMs - this.#keepaliveSlackMs) {
        this.#startKeepalive(e, now);
      } else {
        next = Math.min(next, this.#dueOf(e, now));
      }
      e = prev;
    }
    if (next < Infinity) this.#armSweep(next, now);
    this.#pump();
  }

  // ---- helpers ----

  /** The next time the sweep has something to do for this idle session. */
  #dueOf(e: Entry<S>, now: number): number {
    let due = e.expiresAt;
    const idleAt = e.lastUsed + this.#settings.idleTimeoutMs;
    // Past the idle timeout but kept for min: not an event; it is re-checked by later sweeps.
    if (this.#settings.idleTimeoutMs > 0 && idleAt > now) due = Math.min(due, idleAt);
    if (this.#keepaliveMs > 0 && e.session.keepalive) {
      due = Math.min(due, Math.max(e.lastUsed, e.lastKeepalive) + this.#keepaliveMs);
    }
    return due;
  }

  /** One sweep timer per pool, moved only when something falls due earlier — so a release does not allocate a timer. */
  #armSweepFor(e: Entry<S>, now: number): void {
    const due = this.#dueOf(e, now);
    if (due < Infinity) this.#armSweep(due, now);
  }

  #armSweep(at: number, now: number): void {
    if (this.#closed || (this.#sweepTimer && this.#sweepAt <= at)) return;
    if (this.#sweepTimer) this.#clock.clearTimeout(this.#sweepTimer);
    this.#sweepAt = at;
    this.#sweepTimer = this.#clock.setTimeout(this.#sweepFn, Math.max(0, at - now));
  }

  #armRetry(at: number, now: number): void {
    if (this.#retryTimer && this.#retryTimerAt <= at) return;
    if (this.#retryTimer) this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimerAt = at;
    this.#retryTimer = this.#clock.setTimeout(this.#retryFn, Math.max(0, at - now));
  }

  #usable(e: Entry<S>, now: number): boolean {
    return !e.dead && !e.session.dirty && e.gen === this.#gen && now < e.expiresAt && !this.#draining;
  }

  #unusableReason(e: Entry<S>, now: number): string {
    if (this.#draining) return 'draining';
    if (e.dead) return 'closed_by_peer';
    if (e.session.dirty) return 'dirty';
    if (e.gen !== this.#gen) return 'retired';
    if (now >= e.expiresAt) return 'max_lifetime';
    return 'unusable';
  }

  /** Established sessions (what min is about). */
  #established(): number {
    return this.#idle.size + this.#keepalive + this.#busy;
  }

  #live(): number {
    return this.#established() + this.#connecting;
  }

  #total(): number {
    return this.#live() + this.#closing;
  }

  #checkEmpty(): void {
    if (this.#emptyWaiters.length > 0 && this.#total() === 0) {
      const ws = this.#emptyWaiters;
      this.#emptyWaiters = [];
      for (const r of ws) r();
    }
  }

  #dequeue(w: Waiter<S>): Waiter<S> {
    this.#waiters.remove(w);
    w.queued = false;
    return w;
  }

  /** Stop the waiter's timer and abort listener; it will be resolved or rejected exactly once. */
  #settle(w: Waiter<S>): void {
    w.settled = true;
    if (w.queued) this.#dequeue(w);
    if (w.timer) this.#clock.clearTimeout(w.timer);
    if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
  }

  #fail(w: Waiter<S>, err: unknown): void {
    if (w.settled) return;
    this.#settle(w);
    w.reject(err);
    this.#pump(); // fewer waiters may mean fewer opens (and a budget wait to cancel)
  }

  #waiterTimedOut(w: Waiter<S>): void {
    w.timer = undefined;
    const waited = this.#waited(w);
    const last = this.#lastError ? `; last connect error: ${this.#lastError}` : '';
    // With no session in use, the waiter was waiting for a connect to the device, not for a
    // release: the device did not answer in time, which is UNAVAILABLE (CONNECT_TIMEOUT), not a
    // saturated pool. This is the case when the connect timeout is not below acquireTimeoutMs;
    // a shorter connect timeout hands the waiter the connect's own error (#openFailed).
    const dialing = this.#dialing > 0 && this.#established() === 0;
    const err = w.callerDeadline
      ? this.#err('DEADLINE_EXCEEDED', `caller deadline passed after waiting ${waited} ms for a session` +
        `${dialing ? ' (connecting to the device had not finished)' : ''}${last}`)
      : dialing
        ? this.#err('CONNECT_TIMEOUT', `connecting to the device did not finish within acquireTimeoutMs ${this.#settings.acquireTimeoutMs} ` +
          `(waited ${waited} ms; a connect timeout below acquireTimeoutMs reports the connect's own error)${last}`)
        : this.#err('ACQUIRE_TIMEOUT', `no session within acquireTimeoutMs ${this.#settings.acquireTimeoutMs} (waited ${waited} ms; ` +
          `busy ${this.#busy}, max ${this.#settings.max})${last}`);
    this.#fail(w, err);
  }

  /**
   * Reject the waiters that no in-flight open will serve (the first #connecting waiters are
   * "covered"); with `before`, only those whose deadline ends before that time; at most `limit`.
   */
  #failUncovered(err: unknown, before = Infinity, limit = Infinity): void {
    let skip = this.#connecting;
    for (let w = this.#waiters.head; w && limit > 0; ) {
      const next = w.next;
      if (skip > 0) skip--;
      else if (w.deadline < before) {
        this.#settle(w);
        w.reject(err);
        limit--;
      }
      w = next;
    }
  }

  /** For callers arriving during the reconnect backoff: the last connect error, and when. */
  #backoffError(now: number): unknown {
    const last = this.#lastFailure;
    if (!(last instanceof WarmpoolError)) return last;
    return new WarmpoolError(last.code, `${last.message} (${Math.round(now - this.#lastFailureAt)} ms ago; ` +
      `the next connect attempt is after the reconnect backoff, in ${Math.round(this.#retryAt - now)} ms)`, { device: this.device, cause: last });
  }

  #failAll(err: unknown): void {
    while (this.#waiters.head) {
      const w = this.#waiters.head;
      this.#settle(w);
      w.reject(err);
    }
    if (this.#budgetWait) this.#budget.cancelWait(this);
    this.#budgetWait = false;
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
