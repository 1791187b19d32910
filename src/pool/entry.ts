import type { CloseReason } from '../core/pool-stats.js';
import { callAsync } from './call-async.js';
import { List } from './list.js';
import type { Session } from './types.js';

/**
 * Where a session is in its life inside the pool:
 *   idle      in the idle list, ready to be handed out
 *   checking  out for a health probe on borrow (counts as busy: a caller is waiting for it)
 *   busy      leased to a caller
 *   keepalive out of the idle list for an application keepalive
 *   closing   out of service, close() not resolved yet (still holds a vty line, so it counts against max)
 *   closed    gone; counts nowhere
 */
export type EntryState = 'idle' | 'checking' | 'busy' | 'keepalive' | 'closing' | 'closed';

/** One open session and the pool's bookkeeping for it (kept small: 10 000 idle sessions is a target). */
export class Entry<S extends Session> {
  prev: Entry<S> | undefined = undefined;
  next: Entry<S> | undefined = undefined;
  /** Written only by Entries.transition(). */
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

/**
 * The moves a session may make. A switch of string compares, not a lookup table: the check
 * runs on every acquire and release, and comparing interned strings is a pointer compare,
 * where a keyed lookup by a changing state name costs more than the whole rest of the move.
 */
function legal(from: EntryState, to: EntryState): boolean {
  switch (from) {
    case 'idle': return to === 'busy' || to === 'checking' || to === 'keepalive' || to === 'closing';
    case 'checking': return to === 'busy' || to === 'idle' || to === 'closing';
    case 'busy': return to === 'idle' || to === 'closing';
    case 'keepalive': return to === 'idle' || to === 'closing';
    case 'closing': return to === 'closed';
    case 'closed': return false;
  }
}

/**
 * Why a session must not be handed out (again), or undefined when it may be. The one place
 * that decides it: the pool, the sweep and the keepalive all ask here, in this order, so a
 * session closed for several reasons is counted under the same one everywhere.
 */
export function whyUnusable<S extends Session>(e: Entry<S>, now: number, gen: number, draining: boolean): CloseReason | undefined {
  if (draining) return 'draining';
  if (e.dead) return 'closed_by_peer';
  if (e.session.dirty) return 'dirty';
  if (e.gen !== gen) return 'retired';
  if (now >= e.expiresAt) return 'max_lifetime';
  return undefined;
}

/** What the pool hears of sessions leaving it. */
export interface EntryHooks {
  /** A session left service (metrics take the reason). */
  closing(reason: CloseReason): void;
  /** Its close() resolved: the slot it held on the device is free. */
  closed(): void;
  /** Its peer ended it; `idle`: it was closed at once (otherwise it closes when it comes back). */
  peerClosed(id: string, err: Error | undefined, idle: boolean): void;
  onBug(err: unknown): void;
}

/**
 * The pool's sessions and their counts. Every change of an entry's state goes through
 * transition(), which keeps the idle list and every counter in step — so no other code fixes
 * a count by hand, and `established + closing` is always the number of sessions that hold a
 * slot on the device.
 */
export class Entries<S extends Session> {
  // LIFO idle list: head = most recently used. WHY LIFO: the hot few sessions serve the
  // traffic and stay warm (their TCP windows, device-side caches, known-good health),
  // while the rest get no use and idle out, so the pool shrinks to what the load needs.
  // FIFO would rotate through every session and keep all of them just barely alive.
  readonly #idle = new List<Entry<S>>();
  /** Every session not yet closing, for close() and retire(). */
  readonly #live = new Set<Entry<S>>();
  #checking = 0;
  #busy = 0;
  #keepalive = 0;
  #closing = 0;
  #closedTotal = 0;
  readonly #hooks: EntryHooks;

  constructor(hooks: EntryHooks) {
    this.#hooks = hooks;
  }

  /** Most recently used idle session. */
  get hottest(): Entry<S> | undefined {
    return this.#idle.head;
  }

  /** Least recently used idle session. */
  get coldest(): Entry<S> | undefined {
    return this.#idle.tail;
  }

  get idle(): number {
    return this.#idle.size;
  }

  /** Leased plus out for a probe on borrow (what stats call busy). */
  get busy(): number {
    return this.#busy + this.#checking;
  }

  get keepalive(): number {
    return this.#keepalive;
  }

  get closing(): number {
    return this.#closing;
  }

  get closedTotal(): number {
    return this.#closedTotal;
  }

  /** Open sessions, in or out of service but not closing (what min is about). */
  get established(): number {
    return this.#idle.size + this.#keepalive + this.#busy + this.#checking;
  }

  /** Sessions not yet closing, in no particular order. */
  live(): IterableIterator<Entry<S>> {
    return this.#live.values();
  }

  /** A freshly opened session joins as the hottest idle one. */
  add(e: Entry<S>): void {
    e.state = 'idle';
    this.#live.add(e);
    this.#idle.pushHead(e);
    e.session.onClose((err) => this.#peerClosed(e, err));
  }

  /** Take a session out of service; it keeps counting (as closing) until its close() resolves. */
  destroy(e: Entry<S>, reason: CloseReason): void {
    if (e.state === 'closing' || e.state === 'closed') return;
    this.transition(e, 'closing');
    this.#hooks.closing(reason);
    const done = (): void => {
      this.transition(e, 'closed');
      this.#closedTotal++;
      this.#hooks.closed();
    };
    callAsync(() => e.session.close()).then(done, done).catch(this.#hooks.onBug);
  }

  /** Close every idle session now; returns how many, and how many are still out (busy or keepalive). */
  destroyIdle(reason: CloseReason): { closedIdle: number; closingBusy: number } {
    let closedIdle = 0;
    for (let e = this.#idle.head; e; e = this.#idle.head) {
      this.destroy(e, reason);
      closedIdle++;
    }
    return { closedIdle, closingBusy: this.#busy + this.#checking + this.#keepalive };
  }

  #peerClosed(e: Entry<S>, err: Error | undefined): void {
    if (e.state === 'closing' || e.state === 'closed') return;
    e.dead = true;
    // Idle: remove at once so nobody gets it. Leased/probing/keepalive: closed when it comes back.
    const idle = e.state === 'idle';
    if (idle) this.destroy(e, 'closed_by_peer');
    this.#hooks.peerClosed(e.session.id, err, idle);
  }

  transition(e: Entry<S>, to: EntryState): void {
    const from = e.state;
    if (!legal(from, to)) throw new Error(`pool entry ${e.session.id}: illegal transition ${from} → ${to}`);
    switch (from) {
      case 'idle': this.#idle.remove(e); break;
      case 'checking': this.#checking--; break;
      case 'busy': this.#busy--; break;
      case 'keepalive': this.#keepalive--; break;
      case 'closing': this.#closing--; break;
      case 'closed': break;
    }
    e.state = to;
    switch (to) {
      // Back from a keepalive at the cold end: a keepalive is not use, it must not make the
      // session "recent". Every other way back (release, a probe whose caller left) is use.
      case 'idle': if (from === 'keepalive') this.#idle.pushTail(e); else this.#idle.pushHead(e); break;
      case 'checking': this.#checking++; break;
      case 'busy': this.#busy++; break;
      case 'keepalive': this.#keepalive++; break;
      case 'closing': this.#live.delete(e); this.#closing++; break;
      case 'closed': break;
    }
  }
}
