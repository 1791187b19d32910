/**
 * SSH-level keepalives for many connections on ONE timer.
 *
 * WHY not ssh2's own keepalive: it keeps a setInterval per connection and, on every reply,
 * clears and re-creates it; it also pings a connection that just received data. With 10 000
 * idle sessions that was about a third of the daemon's idle CPU (bench/scale.ts). Here:
 * - one timer for every connection of the process, armed for the earliest due check; each
 *   firing also serves every check due within a small window (1/20 of that connection's
 *   interval, at most 250 ms), so checks that fall close together share one wake-up;
 * - any data received from the peer counts as an answer (it proves the peer alive), so a
 *   connection that carried traffic within the interval is not pinged at all (an application
 *   keepalive, a command's output);
 * - the ping is the cheapest SSH round trip: a global request "keepalive@openssh.com" with
 *   want-reply, exactly what ssh2 and OpenSSH send.
 *
 * Semantics are ssh2's (device.ssh.keepaliveIntervalMs / keepaliveCountMax): a check falls due
 * one interval after the last check or after the last data received, whichever is later; a
 * check with nothing received since the previous one counts a miss and pings; the check after
 * `countMax` misses in a row ends the connection ("Keepalive timeout"). A silent peer is so
 * detected between countMax and countMax + 1 intervals after it last answered.
 */
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';

/** What the wheel needs of one connection. */
export interface KeepaliveTarget {
  /** Send one keepalive request; false when the connection cannot send any more. */
  ping(): boolean;
  /** countMax checks in a row went unanswered: end the connection. */
  timedOut(): void;
}

/** A connection's place on the wheel. */
export interface KeepaliveHandle {
  /** Data arrived from the peer (cheap: one clock read). */
  received(): void;
  /** The connection ended: no more checks. */
  remove(): void;
}

const MAX_WINDOW_MS = 250;

class Entry implements KeepaliveHandle {
  readonly target: KeepaliveTarget;
  readonly intervalMs: number;
  readonly countMax: number;
  readonly windowMs: number;
  readonly #clock: Clock;
  due: number;
  /** Time of the last check (a ping sent, or a miss counted). */
  checkedAt: number;
  lastRx: number;
  misses = 0;
  removed = false;

  constructor(target: KeepaliveTarget, intervalMs: number, countMax: number, clock: Clock, now: number) {
    this.target = target;
    this.intervalMs = intervalMs;
    this.countMax = countMax;
    this.windowMs = Math.min(MAX_WINDOW_MS, Math.floor(intervalMs / 20));
    this.#clock = clock;
    this.due = now + intervalMs;
    this.checkedAt = now;
    this.lastRx = now;
  }

  received(): void {
    this.lastRx = this.#clock.now();
  }

  remove(): void {
    this.removed = true;
  }
}

export class KeepaliveWheel {
  readonly #clock: Clock;
  /** Binary min-heap on `due`. A removed entry stays until it reaches the top (lazy deletion). */
  readonly #heap: Entry[] = [];
  #timer: TimerHandle | undefined;
  #timerAt = Infinity;
  readonly #fire = (): void => this.#run();

  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
  }

  /** Connections on the wheel, removed ones not yet dropped included (for tests). */
  get size(): number {
    return this.#heap.length;
  }

  /** Start checking a connection every `intervalMs` (> 0). */
  add(target: KeepaliveTarget, intervalMs: number, countMax: number): KeepaliveHandle {
    const now = this.#clock.now();
    const e = new Entry(target, intervalMs, countMax, this.#clock, now);
    this.#push(e);
    this.#arm(now);
    return e;
  }

  #run(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.#clock.now();
    const heap = this.#heap;
    for (let top = heap[0]; top && top.due <= now + top.windowMs; top = heap[0]) {
      this.#pop();
      if (top.removed) continue;
      this.#check(top, now);
      if (!top.removed) this.#push(top);
    }
    this.#arm(now);
  }

  #check(e: Entry, now: number): void {
    if (e.lastRx > e.checkedAt) {
      // The peer sent something since the last check: alive. Not due before an interval of quiet.
      e.misses = 0;
      const quietDue = e.lastRx + e.intervalMs;
      if (quietDue > now + e.windowMs) {
        e.due = quietDue;
        e.checkedAt = now;
        return;
      }
    }
    e.checkedAt = now;
    if (++e.misses > e.countMax) {
      e.removed = true;
      e.target.timedOut();
      return;
    }
    if (!e.target.ping()) {
      e.removed = true;
      return;
    }
    e.due = now + e.intervalMs;
  }

  #arm(now: number): void {
    const top = this.#heap[0];
    if (!top) {
      if (this.#timer) this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#timerAt = Infinity;
      return;
    }
    if (this.#timer && this.#timerAt <= top.due) return;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timerAt = top.due;
    this.#timer = this.#clock.setTimeout(this.#fire, Math.max(0, top.due - now));
  }

  #push(e: Entry): void {
    const h = this.#heap;
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as Entry;
      if (parent.due <= e.due) break;
      h[i] = parent;
      i = p;
    }
    h[i] = e;
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop() as Entry;
    if (h.length === 0) return;
    let i = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (h[r] as Entry).due < (h[l] as Entry).due ? r : l;
      if ((h[c] as Entry).due >= last.due) break;
      h[i] = h[c] as Entry;
      i = c;
    }
    h[i] = last;
  }
}

/** The process's wheel: every SSH connection's keepalive (transport/ssh-connect.ts). */
export const sshKeepalives = new KeepaliveWheel();

/** ssh2 internals used to send a global request and hear its reply (as drivers/exec-ping.ts; ssh2 is pinned). */
interface SshInternals {
  _protocol?: { ping?: () => void };
  _callbacks?: Array<(failed: boolean | Error) => void>;
  emit(event: string, ...args: unknown[]): boolean;
}

const ignoreReply = (): void => {};

/**
 * Put a logged-in ssh2 client on the wheel: pings are "keepalive@openssh.com" global requests
 * (ssh2's own keepalive must be off: client-config.ts), every chunk read from `sock` counts as
 * an answer, and a timeout ends the connection as ssh2's keepalive would (an 'error' with
 * level 'client-timeout', then the stream destroyed: the connection reports CONNECTION_LOST).
 * Returns undefined when keepalives are off (interval 0) or ssh2 lacks the internals.
 */
export function watchSshConnection(
  wheel: KeepaliveWheel,
  client: object,
  sock: NodeJS.ReadableStream & { writable: boolean; readable: boolean; destroy(): void },
  intervalMs: number,
  countMax: number,
): KeepaliveHandle | undefined {
  const c = client as SshInternals;
  if (!(intervalMs > 0) || typeof c._protocol?.ping !== 'function' || !Array.isArray(c._callbacks)) return undefined;
  const callbacks = c._callbacks;
  const protocol = c._protocol as { ping: () => void };
  const handle = wheel.add({
    ping: () => {
      if (!sock.writable) return false;
      // ssh2 answers global-request replies in order from this FIFO: keep our place in it.
      callbacks.push(ignoreReply);
      protocol.ping();
      return true;
    },
    timedOut: () => {
      if (!sock.readable) return;
      const err = Object.assign(new Error('Keepalive timeout'), { level: 'client-timeout' });
      c.emit('error', err);
      sock.destroy();
    },
  }, intervalMs, countMax);
  const onData = (): void => handle.received();
  sock.on('data', onData);
  sock.once('close', () => {
    handle.remove();
    sock.removeListener('data', onData);
  });
  return handle;
}
