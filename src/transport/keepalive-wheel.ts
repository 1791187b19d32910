/**
 * SSH-level keepalives for many connections on ONE timer.
 *
 * WHY not ssh2's own keepalive: it keeps a setInterval per connection and, on every reply,
 * clears and re-creates it; it also pings a connection that just received data. With 10 000
 * idle sessions that was about a third of the daemon's idle CPU (bench/scale.ts). Here:
 * - one timer for every connection of the process, armed for the earliest due check but never
 *   sooner than a small window (1/20 of that connection's interval, at most 250 ms) after the
 *   last firing, which serves every check then due: checks that fall close together share one
 *   wake-up. A check runs at or after its due time, never before: WHY late and not early — a
 *   shell session's application keepalive (pool/upkeep.ts) falls due one appKeepaliveMs after
 *   the previous one and runs up to a second early, while the SSH check it makes redundant
 *   falls due appKeepaliveMs after that previous keepalive's REPLY; checks served early raced it
 *   and sent a ping just before the application keepalive in about half the minutes (counted
 *   in the daemon at 2 000 idle shells: 3.62 pings per shell per minute, 3.08 served late);
 * - any packet received from the peer counts as an answer (it proves the peer alive), so a
 *   connection that carried traffic within the interval is not pinged at all (an application
 *   keepalive, a command's output);
 * - the ping is the cheapest SSH round trip: a global request "keepalive@openssh.com" with
 *   want-reply, exactly what ssh2 and OpenSSH send.
 *
 * Semantics are ssh2's (device.ssh.keepaliveIntervalMs / keepaliveCountMax): a check falls due
 * one interval after the last check or after the last data received, whichever is later; a
 * check with nothing received since the previous one counts a miss and pings; the check after
 * `countMax` misses in a row ends the connection ("Keepalive timeout"). A silent peer is so
 * detected countMax + 1 intervals after it last answered, at most one window later (ssh2's rule).
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
  /**
   * Binary min-heap on `due`. A removed entry stays until it reaches the top (lazy deletion).
   * The keys live in a typed array beside the entries. WHY: with 10 000 connections the heap is
   * cold at every wake-up, and sifting through Entry objects cost one cache miss per level (14
   * levels); comparing keys in one dense array touches a few cache lines instead (bench/profile-idle.ts).
   */
  #items: (Entry | undefined)[] = [];
  #keys = new Float64Array(64);
  #n = 0;
  #timer: TimerHandle | undefined;
  #timerAt = Infinity;
  /** When the timer last fired: the next firing waits at least a window after it (batching). */
  #lastRun = -Infinity;
  readonly #fire = (): void => this.#run();

  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
  }

  /** Connections on the wheel, removed ones not yet dropped included (for tests). */
  get size(): number {
    return this.#n;
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
    // A Node timer may fire a few ms before the time it was armed for (it counts from the event
    // loop's cached time): serve what was due at that time, or such a firing would find nothing due.
    const armedFor = this.#timerAt;
    const now = armedFor < Infinity ? Math.max(this.#clock.now(), armedFor) : this.#clock.now();
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#lastRun = now;
    while (this.#n > 0) {
      const top = this.#items[0] as Entry;
      if (top.due > now) break;
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
    // From the due time, not from when the batch served it, so lateness does not add up over
    // countMax checks; but never less than an interval minus a window after this ping (a
    // wheel that fell behind a blocked event loop must still give the peer time to answer).
    e.due = Math.max(e.due, now - e.windowMs) + e.intervalMs;
  }

  #arm(now: number): void {
    if (this.#n === 0) {
      if (this.#timer) this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#timerAt = Infinity;
      return;
    }
    const at = Math.max(this.#keys[0] as number, this.#lastRun + (this.#items[0] as Entry).windowMs);
    if (this.#timer && this.#timerAt <= at) return;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = this.#clock.setTimeout(this.#fire, Math.max(0, at - now));
  }

  #push(e: Entry): void {
    const key = e.due;
    if (this.#n === this.#keys.length) {
      const grown = new Float64Array(this.#keys.length * 2);
      grown.set(this.#keys);
      this.#keys = grown;
    }
    const keys = this.#keys;
    const items = this.#items;
    let i = this.#n++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((keys[p] as number) <= key) break;
      keys[i] = keys[p] as number;
      items[i] = items[p] as Entry;
      i = p;
    }
    keys[i] = key;
    items[i] = e;
  }

  /** Drop the top entry. */
  #pop(): void {
    const keys = this.#keys;
    const items = this.#items;
    const n = --this.#n;
    const last = items[n] as Entry;
    const key = keys[n] as number;
    // Not shrunk (the slot is reused by the next push); cleared so a removed connection can be collected.
    items[n] = undefined;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (keys[r] as number) < (keys[l] as number) ? r : l;
      if ((keys[c] as number) >= key) break;
      keys[i] = keys[c] as number;
      items[i] = items[c] as Entry;
      i = c;
    }
    keys[i] = key;
    items[i] = last;
  }
}

/** The process's wheel: every SSH connection's keepalive (transport/ssh-connect.ts). */
export const sshKeepalives = new KeepaliveWheel();

/** ssh2 internals used to send a global request and hear its reply (as drivers/exec-ping.ts; ssh2 is pinned). */
interface SshInternals {
  _protocol?: { ping?: () => void; _onPacket?: () => void };
  _callbacks?: Array<(failed: boolean | Error) => void>;
  emit(event: string, ...args: unknown[]): boolean;
}

const ignoreReply = (): void => {};

/**
 * Put a logged-in ssh2 client on the wheel: pings are "keepalive@openssh.com" global requests
 * (ssh2's own keepalive must be off: client-config.ts), every packet received counts as an
 * answer, and a timeout ends the connection as ssh2's keepalive would (an 'error' with
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
  const protocol = c._protocol as { ping: () => void; _onPacket?: () => void };
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
  const before = protocol._onPacket;
  let onData: (() => void) | undefined;
  if (typeof before === 'function') {
    // ssh2 calls its protocol's _onPacket for every packet it decrypted (a no-op unless
    // configured). WHY there and not a 'data' listener on the socket: a second 'data' listener
    // makes every emit copy the listener array, and a packet is what proves the peer alive.
    protocol._onPacket = () => {
      handle.received();
      before();
    };
  } else {
    onData = (): void => handle.received();
    sock.on('data', onData);
  }
  sock.once('close', () => {
    handle.remove();
    if (onData) sock.removeListener('data', onData);
  });
  return handle;
}
