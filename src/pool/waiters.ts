import type { Clock, TimerHandle } from '../core/clock.js';
import { List } from './list.js';
import type { AcquireOptions, Lease, Session } from './types.js';

/** A caller waiting for a session. */
export class Waiter<S extends Session> {
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

/** What the queue tells its pool about a waiter. */
export interface WaiterEvents<S extends Session> {
  /** Its deadline passed. */
  timedOut(w: Waiter<S>): void;
  /** Its caller aborted. */
  aborted(w: Waiter<S>): void;
}

/**
 * The callers waiting for a session, first come first served. Each waiter is settled exactly
 * once (resolved or rejected), and settling stops its timer and its abort listener. The queue
 * decides nothing: the pool says who gets what.
 */
export class WaitQueue<S extends Session> {
  readonly #list = new List<Waiter<S>>();
  readonly #clock: Clock;
  readonly #events: WaiterEvents<S>;

  constructor(clock: Clock, events: WaiterEvents<S>) {
    this.#clock = clock;
    this.#events = events;
  }

  get size(): number {
    return this.#list.size;
  }

  get first(): Waiter<S> | undefined {
    return this.#list.head;
  }

  /**
   * A new caller joins at the end, until the earlier of its own deadline and
   * acquireTimeoutMs from now.
   */
  add(resolve: (l: Lease<S>) => void, reject: (e: unknown) => void, now: number, acquireTimeoutMs: number, opts: AcquireOptions): void {
    const timeoutAt = now + acquireTimeoutMs;
    const callerFirst = opts.deadline !== undefined && opts.deadline < timeoutAt;
    const deadline = callerFirst ? (opts.deadline as number) : timeoutAt;
    const w = new Waiter<S>(resolve, reject, now, deadline, callerFirst, opts.signal);
    w.timer = this.#clock.setTimeout(() => {
      w.timer = undefined;
      this.#events.timedOut(w);
    }, deadline - now);
    if (opts.signal) {
      w.onAbort = () => this.#events.aborted(w);
      opts.signal.addEventListener('abort', w.onAbort, { once: true });
    }
    w.queued = true;
    this.#list.pushTail(w);
  }

  /** A caller whose session failed its borrow probe goes back to the front: it was next. */
  pushFront(w: Waiter<S>): void {
    w.queued = true;
    this.#list.pushHead(w);
  }

  /** Take the first waiter out of the queue (still unsettled: it may be probing a session). */
  shift(): Waiter<S> | undefined {
    const w = this.#list.head;
    if (w) this.#unqueue(w);
    return w;
  }

  resolve(w: Waiter<S>, lease: Lease<S>): void {
    this.#settle(w);
    w.resolve(lease);
  }

  /** How long the waiter has waited so far (ms, rounded), for messages. */
  waitedMs(w: Waiter<S>): number {
    return Math.round(this.#clock.now() - w.enqueuedAt);
  }

  /** False when the waiter was settled already. */
  reject(w: Waiter<S>, err: unknown): boolean {
    if (w.settled) return false;
    this.#settle(w);
    w.reject(err);
    return true;
  }

  /**
   * Reject the waiters that no in-flight open will serve (the first `covered` are the ones
   * the opens in flight are for); with `before`, only those whose deadline ends before that
   * time; at most `limit`.
   */
  rejectUncovered(err: unknown, covered: number, before = Infinity, limit = Infinity): void {
    let skip = covered;
    for (let w = this.#list.head; w && limit > 0;) {
      const next = w.next;
      if (skip > 0) skip--;
      else if (w.deadline < before) {
        this.reject(w, err);
        limit--;
      }
      w = next;
    }
  }

  rejectAll(err: unknown): void {
    for (let w = this.#list.head; w; w = this.#list.head) this.reject(w, err);
  }

  #unqueue(w: Waiter<S>): void {
    this.#list.remove(w);
    w.queued = false;
  }

  #settle(w: Waiter<S>): void {
    w.settled = true;
    if (w.queued) this.#unqueue(w);
    if (w.timer) this.#clock.clearTimeout(w.timer);
    if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
  }
}
