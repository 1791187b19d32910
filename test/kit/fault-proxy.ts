/**
 * A TCP proxy on loopback that sits between warmpool and a (simulated) device and breaks
 * the link on demand: latency, bandwidth limits, a silent link (blackhole), resets, refused
 * connections, a slow first byte from the device (slow banner/login), a cut after N bytes.
 *
 * Used by the reliability tests and the soak benchmark. The exported names are shared
 * with bench/ code: do not rename them.
 *
 * Design notes (WHY):
 * - Each direction of a connection is one ordered queue with one timer, never a
 *   setTimeout per chunk: independent timers can fire out of order and would reorder
 *   bytes, which corrupts an SSH stream and makes latency tests lie.
 * - A blackholed connection stays dead even after the fault is lifted: the bytes it
 *   swallowed are gone, so a resumed stream would have a hole in it (real links that
 *   come back after a long outage behave the same: the TCP connection is lost).
 * - Resets use socket.resetAndDestroy() (RST, ECONNRESET at the peer); everything else
 *   closes with FIN, so a test can tell the two apart.
 */
import net from 'node:net';

export interface Faults {
  latencyMs?: number;            // added delay per chunk, each direction
  bandwidthBytesPerSec?: number; // throttle each direction
  blackhole?: boolean;           // current AND new connections: swallow bytes both ways, never close, never RST
  refuse?: 'reset' | 'close';    // new connections: RST (socket.resetAndDestroy) or FIN right after accept
  handshakeDelayMs?: number;     // new connections: hold the first bytes from the device for this long (slow banner/login)
  cutAfterBytes?: number;        // reset a connection once this many device->client bytes have passed
}

export interface FaultProxy {
  readonly host: string;   // '127.0.0.1'
  readonly port: number;
  set(f: Faults): void;    // replaces the fault set; applies to new connections and, where it makes sense (latency, bandwidth, blackhole), to open ones
  resetAll(): void;        // RST every open connection (both sides) — a device reboot/link reset
  blackholeAll(): void;    // open connections go silent (bytes dropped, sockets kept open); new ones still work unless set({blackhole:true})
  connections(): number;   // open client connections
  totalConnections(): number; // accepted since start
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
/** Stop reading from a side while this much is queued for the other (latency/bandwidth buffers). */
const HIGH_WATER = 1 << 20;
/** Bandwidth pacing granularity: a chunk is sent in pieces worth at most this long. */
const PACE_SLICE_MS = 20;
/** cutAfterBytes: pause between the last byte and the reset (see Pipe.pump). */
const CUT_GRACE_MS = 10;

type Item = { data: Buffer; due: number } | { end: true; due: number };

/** One direction of one connection: an ordered queue drained by a single timer. */
class Pipe {
  readonly #queue: Item[] = [];
  #queued = 0;
  #timer: NodeJS.Timeout | undefined;
  #waitingDrain = false;
  /** Time before which nothing may be sent (bandwidth pacing, handshake hold). */
  #nextFreeAt = 0;
  /** Latest due time handed out, so a lowered latency cannot overtake earlier bytes. */
  #lastDue = 0;
  /** Bytes written to `dst` so far. */
  delivered = 0;
  stopped = false;

  readonly #src: net.Socket;
  readonly #dst: net.Socket;
  readonly #faults: () => Faults;
  /** device->client only: called with the byte limit reached (cutAfterBytes). */
  readonly #cut: (() => void) | undefined;

  constructor(src: net.Socket, dst: net.Socket, faults: () => Faults, cut: (() => void) | undefined, holdUntil = 0) {
    this.#src = src;
    this.#dst = dst;
    this.#faults = faults;
    this.#cut = cut;
    this.#nextFreeAt = holdUntil;
    src.on('data', (d: Buffer) => this.#push(d));
    src.on('end', () => this.#pushEnd());
  }

  #push(data: Buffer): void {
    if (this.stopped) return; // blackholed: read and drop
    const due = Math.max(Date.now() + (this.#faults().latencyMs ?? 0), this.#lastDue);
    this.#lastDue = due;
    this.#queue.push({ data, due });
    this.#queued += data.length;
    if (this.#queued > HIGH_WATER) this.#src.pause();
    this.#pump();
  }

  #pushEnd(): void {
    if (this.stopped) return;
    const due = Math.max(Date.now() + (this.#faults().latencyMs ?? 0), this.#lastDue);
    this.#lastDue = due;
    this.#queue.push({ end: true, due });
    this.#pump();
  }

  /** Drop everything queued and everything that arrives later; keep both sockets open. */
  stop(): void {
    this.stopped = true;
    this.#queue.length = 0;
    this.#queued = 0;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    // Keep reading so the sender never sees back-pressure that would tell it something.
    this.#src.resume();
  }

  #pump(): void {
    if (this.#timer || this.#waitingDrain || this.stopped) return;
    while (this.#queue.length > 0 && !this.stopped) {
      const head = this.#queue[0] as Item;
      const now = Date.now();
      const ready = Math.max(head.due, this.#nextFreeAt);
      if (ready > now) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#pump();
        }, ready - now);
        return;
      }
      if ('end' in head) {
        this.#queue.shift();
        if (!this.#dst.destroyed) this.#dst.end();
        continue;
      }
      let piece = head.data;
      const bps = this.#faults().bandwidthBytesPerSec;
      if (bps && bps > 0) {
        const max = Math.max(1, Math.floor((bps * PACE_SLICE_MS) / 1000));
        if (piece.length > max) piece = piece.subarray(0, max);
        this.#nextFreeAt = Math.max(now, this.#nextFreeAt) + (piece.length * 1000) / bps;
      }
      const limit = this.#cut ? this.#faults().cutAfterBytes : undefined;
      if (limit !== undefined && this.delivered + piece.length >= limit) {
        // Deliver exactly up to the limit, then reset. WHY not at once: on Linux an RST that
        // reaches the peer before its application has read the data makes the data vanish
        // (the read returns ECONNRESET first). So wait until the bytes are flushed, then a
        // moment, then one more event-loop turn: a peer in this process (the daemon under
        // test) gets a poll phase to read them first; one in another process gets 10 ms.
        const last = piece.subarray(0, Math.max(0, limit - this.delivered));
        this.delivered += last.length;
        this.stopped = true;
        this.#queue.length = 0;
        const cut = this.#cut as () => void;
        const later = (): void => {
          this.#timer = setTimeout(() => {
            this.#timer = undefined;
            setImmediate(cut);
          }, CUT_GRACE_MS);
        };
        if (last.length > 0 && !this.#dst.destroyed) this.#dst.write(last, later);
        else later();
        return;
      }
      if (piece === head.data) this.#queue.shift();
      else head.data = head.data.subarray(piece.length);
      this.#queued -= piece.length;
      this.delivered += piece.length;
      if (this.#queued <= HIGH_WATER && this.#src.isPaused()) this.#src.resume();
      if (this.#dst.destroyed) return;
      if (!this.#dst.write(piece)) {
        this.#waitingDrain = true;
        this.#dst.once('drain', () => {
          this.#waitingDrain = false;
          this.#pump();
        });
        return;
      }
    }
  }

  dispose(): void {
    this.stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue.length = 0;
  }
}

class Conn {
  up: Pipe | undefined;
  down: Pipe | undefined;
  blackholed = false;
  done = false;

  readonly client: net.Socket;
  readonly device: net.Socket | undefined;
  readonly #onDone: (c: Conn) => void;

  constructor(client: net.Socket, device: net.Socket | undefined, onDone: (c: Conn) => void) {
    this.client = client;
    this.device = device;
    this.#onDone = onDone;
  }

  /** RST both sides. */
  reset(): void {
    if (this.done) return;
    this.finish();
    rst(this.client);
    if (this.device) rst(this.device);
  }

  blackhole(): void {
    if (this.done || this.blackholed) return;
    this.blackholed = true;
    this.up?.stop();
    this.down?.stop();
    silenceEnds(this.client, this.device);
  }

  finish(): void {
    if (this.done) return;
    this.done = true;
    this.up?.dispose();
    this.down?.dispose();
    this.#onDone(this);
  }
}

/**
 * On a blackholed link a FIN from either end is swallowed like everything else. The local
 * socket of an end that has closed is dropped (that end is gone and learns nothing from it),
 * so it does not linger half-open; the other end hears nothing.
 */
function silenceEnds(client: net.Socket, device: net.Socket | undefined): void {
  client.once('end', () => client.destroy());
  device?.once('end', () => device.destroy());
}

function rst(s: net.Socket): void {
  if (s.destroyed) return;
  // resetAndDestroy needs a connected handle; while still connecting a plain destroy is all there is.
  if (s.connecting || !s.remoteAddress) s.destroy();
  else s.resetAndDestroy();
}

export function startFaultProxy(target: { host: string; port: number }, faults: Faults = {}): Promise<FaultProxy> {
  let current: Faults = { ...faults };
  const getFaults = (): Faults => current;
  const sockets = new Set<net.Socket>();
  const conns = new Set<Conn>();
  let openClients = 0;
  let accepted = 0;
  let closed = false;

  const track = (s: net.Socket): void => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('close', () => sockets.delete(s));
  };

  const server = net.createServer({ noDelay: true, pauseOnConnect: true, allowHalfOpen: true }, (client) => {
    accepted++;
    track(client);
    client.setNoDelay(true);
    if (closed) {
      client.destroy();
      return;
    }
    openClients++;
    client.once('close', () => openClients--);
    const f = current;
    if (f.refuse === 'reset') {
      client.resetAndDestroy();
      return;
    }
    if (f.refuse === 'close') {
      client.end();
      client.resume();
      client.once('end', () => client.destroy());
      return;
    }
    if (f.blackhole) {
      // Accepted, then silence: nothing reaches the device and nothing comes back.
      const c = new Conn(client, undefined, (x) => conns.delete(x));
      c.blackholed = true;
      conns.add(c);
      client.resume();
      client.on('data', () => undefined);
      silenceEnds(client, undefined);
      client.once('close', () => c.finish());
      return;
    }
    // allowHalfOpen on both sides: a FIN is forwarded through the queue (after the data
    // still in it), not answered at once by Node.
    const device = net.connect({ host: target.host, port: target.port, noDelay: true, allowHalfOpen: true });
    track(device);
    const c = new Conn(client, device, (x) => conns.delete(x));
    conns.add(c);
    const holdUntil = f.handshakeDelayMs && f.handshakeDelayMs > 0 ? Date.now() + f.handshakeDelayMs : 0;
    c.up = new Pipe(client, device, getFaults, undefined);
    c.down = new Pipe(device, client, getFaults, () => c.reset(), holdUntil);
    client.resume();

    // A reset on one side is passed on as a reset; an orderly close as an orderly close
    // (the FIN itself travels through the queue as an 'end' item, after the data).
    const onClose = (from: net.Socket, other: net.Socket) => (hadError: boolean) => {
      if (c.blackholed) {
        // A blackholed link never tells the other side anything.
        if (from === client) c.finish();
        return;
      }
      if (hadError) {
        c.reset();
        return;
      }
      if (other.destroyed || (client.destroyed && device.destroyed)) c.finish();
    };
    client.on('close', onClose(client, device));
    device.on('close', onClose(device, client));
    device.on('error', (err: NodeJS.ErrnoException) => {
      // Device unreachable (ECONNREFUSED) or reset: the client sees a reset.
      if (!c.blackholed && err.code) c.reset();
    });
    client.on('error', () => {
      if (!c.blackholed) c.reset();
    });
  });

  return new Promise<FaultProxy>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: HOST, port: 0 }, () => {
      server.off('error', reject);
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        host: HOST,
        port,
        set(f: Faults) {
          current = { ...f };
          if (current.blackhole) for (const c of conns) c.blackhole();
        },
        resetAll() {
          for (const c of [...conns]) c.reset();
        },
        blackholeAll() {
          for (const c of conns) c.blackhole();
        },
        connections: () => openClients,
        totalConnections: () => accepted,
        close() {
          closed = true;
          for (const c of [...conns]) c.finish();
          for (const s of [...sockets]) s.destroy();
          return new Promise<void>((res) => server.close(() => res()));
        },
      });
    });
  });
}
