/**
 * One bastion (jump host): a small pool of logged-in, kept-alive, host-key-checked SSH
 * connections to it, each carrying up to `maxChannelsPerConnection` direct-tcpip channels — one
 * per device session behind the bastion. Its `connector` plugs into connectSsh (connector.ts), so
 * a device's login, host-key check and timeout run end to end over the channel, unchanged.
 *
 * WHY not a DevicePool: a pool lease is exclusive, a bastion connection is shared by many
 * channels. What it shares with the device pools is the breaker and the backoff (pool/), the
 * error codes and the stats shape (protocol "bastion").
 *
 * Rules:
 * - a channel goes on the first usable connection with room (packing: fewest logins on the
 *   bastion); another connection is opened only when all are full, up to maxConnections; past
 *   that, channel requests wait for a free slot until their own connect signal gives up;
 * - one connect to the bastion at a time: every waiting channel request shares its outcome, so
 *   a bastion that is down is told once, not once per device (fail fast);
 * - after a failed connect, requests fail at once with that error until the backoff ends, and
 *   the breaker opens after breaker.failureThreshold failures (CIRCUIT_OPEN naming the bastion);
 * - when a connection ends, its channels are ended with an error naming the bastion, so each
 *   device session sees its stream close and its pool replaces it (through a new connection);
 * - a connection carrying no channel closes after idleTimeoutMs;
 * - retire() (the bastion's spec changed): no new channels on the old connections, each closes
 *   when its last channel has closed.
 */
import type { Duplex } from 'node:stream';
import type { BastionSpec, DeviceSpec } from '../config/types.js';
import type { Clock, Random, TimerHandle } from '../core/clock.js';
import { WarmpoolError, isPermanentConnectError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { PoolObserver, PoolStats } from '../core/pool-stats.js';
import { Backoff, type BackoffSettings } from '../pool/backoff.js';
import { CircuitBreaker, type BreakerSettings } from '../pool/breaker.js';
import { asBastionError, bastionError, channelOpenError, forDevice, isResourceShortage } from './bastion-errors.js';
import type { ConnectTarget, Connector } from './connector.js';
import { connectSsh, type SshConnection } from './ssh-connect.js';

export interface BastionPoolOptions {
  spec: BastionSpec;
  /** How the bastion itself is reached: TCP, or the channel of the bastion it is `via`. */
  connector: Connector;
  clock: Clock;
  random: Random;
  breaker: BreakerSettings;
  backoff?: BackoffSettings;
  observer?: PoolObserver;
  logger: Logger;
}

/** PoolStats plus what only a bastion has. */
export interface BastionStats extends PoolStats {
  /** direct-tcpip channels (device sessions) open now, over all connections. */
  channels: number;
}

interface Conn {
  ssh: SshConnection;
  /** Open channels and the device each one serves. */
  channels: Map<Duplex, string>;
  /** Channel opens under way on this connection (they hold a slot). */
  pending: number;
  /** Lowered when the bastion refused a channel for lack of resources. */
  cap: number;
  retiring: boolean;
  idleTimer: TimerHandle | undefined;
}

interface Waiter {
  wake: () => void;
}

export class BastionPool {
  readonly id: string;
  readonly spec: BastionSpec;
  readonly #connector: Connector;
  readonly #clock: Clock;
  readonly #observer: PoolObserver;
  readonly #log: Logger;
  readonly #breaker: CircuitBreaker;
  readonly #backoff: Backoff;
  readonly #conns = new Set<Conn>();
  readonly #waiters = new Set<Waiter>();
  #opening: Promise<Conn> | undefined;
  #retryAt = 0;
  #lastError: WarmpoolError | undefined;
  #closed = false;
  #retired = false;
  #created = 0;
  #closedTotal = 0;
  #channelsTotal = 0;
  #failed = 0;

  constructor(opts: BastionPoolOptions) {
    this.spec = opts.spec;
    this.id = opts.spec.id;
    this.#connector = opts.connector;
    this.#clock = opts.clock;
    this.#observer = opts.observer ?? {};
    this.#log = opts.logger.child({ bastion: this.id });
    this.#breaker = new CircuitBreaker({
      device: `bastion ${this.id}`,
      clock: opts.clock,
      random: opts.random,
      ...opts.breaker,
      onChange: (s) => this.#observer.circuitChanged?.(this.id, 'bastion', s),
    });
    const b = opts.backoff ?? { baseMs: 250, maxMs: Math.max(250, Math.min(10_000, opts.breaker.maxOpenMs)) };
    this.#backoff = new Backoff({ ...b, random: opts.random });
  }

  /** The Connector for devices (and bastions) behind this one. */
  readonly connector: Connector = (target) => this.openChannel(target);

  /** A direct-tcpip channel to `target` over one of the bastion's connections. */
  async openChannel(target: ConnectTarget): Promise<Duplex> {
    const where = `${target.host}:${target.port}`;
    // Bounded: every pass either returns, throws, or waits for an event (an open finished, a slot
    // freed, a connection ended) that changes what the next pass sees; the signal ends the wait.
    for (;;) {
      if (target.signal.aborted) throw abortReason(target.signal);
      if (this.#closed || this.#retired) {
        throw forDevice(target.deviceId, bastionError(this.id, 'CONNECTION_LOST', 'the bastion was removed or changed; retry to go through its new settings'));
      }
      const conn = this.#withRoom();
      if (conn) return this.#forward(conn, target, where);
      if (this.#opening || this.#conns.size < this.spec.maxConnections) {
        try {
          await (this.#opening ?? this.#open());
        } catch (err) {
          throw forDevice(target.deviceId, err as WarmpoolError);
        }
        continue;
      }
      await this.#waitForRoom(target.signal);
    }
  }

  stats(): BastionStats {
    let idle = 0;
    let busy = 0;
    let channels = 0;
    for (const c of this.#conns) {
      channels += c.channels.size;
      if (c.channels.size + c.pending > 0) busy++;
      else idle++;
    }
    return {
      device: this.id,
      protocol: 'bastion',
      idle,
      busy,
      connecting: this.#opening ? 1 : 0,
      waiting: this.#waiters.size,
      createdTotal: this.#created,
      closedTotal: this.#closedTotal,
      acquiredTotal: this.#channelsTotal,
      failedConnectsTotal: this.#failed,
      circuit: this.#breaker.state,
      min: 0,
      max: this.spec.maxConnections,
      circuitOpenUntil: this.#breaker.openUntil,
      lastError: this.#breaker.lastError || (this.#lastError?.message ?? ''),
      channels,
    };
  }

  /**
   * The bastion's settings changed or it left the inventory: no new channels; every connection
   * closes when its last channel has closed (device pools retire their sessions at the same time).
   */
  retire(): void {
    this.#retired = true;
    for (const c of this.#conns) {
      c.retiring = true;
      if (c.channels.size + c.pending === 0) c.ssh.close();
    }
    this.#wakeAll();
  }

  /** Shutdown: every connection (and so every channel through it) closes now. */
  close(): void {
    this.#closed = true;
    for (const c of this.#conns) c.ssh.close();
    this.#wakeAll();
  }

  // ---- connections ----

  /** The first connection that takes another channel: packing keeps logins on the bastion few. */
  #withRoom(): Conn | undefined {
    for (const c of this.#conns) {
      if (!c.retiring && !c.ssh.ended && c.channels.size + c.pending < c.cap) return c;
    }
    return undefined;
  }

  #open(): Promise<Conn> {
    const now = this.#clock.now();
    if (this.#breaker.state !== 'closed' && !this.#breaker.tryTakeProbe()) {
      // The breaker names itself "bastion B", so its message already reads "bastion B: circuit open until ...".
      const be = this.#breaker.error();
      return Promise.reject(new WarmpoolError(be.code, be.message, { device: this.id }));
    }
    if (this.#lastError && now < this.#retryAt) {
      const e = this.#lastError;
      return Promise.reject(new WarmpoolError(e.code, `${e.message} (next attempt in ${Math.ceil(this.#retryAt - now)} ms)`, { device: this.id, cause: e }));
    }
    const started = this.#clock.now();
    const p = connectSsh(bastionAsDevice(this.spec), { connector: this.#connector, logger: this.#log }).then(
      (ssh) => this.#opened(ssh, started),
      (err: unknown) => {
        throw this.#openFailed(err, started);
      },
    );
    this.#opening = p;
    const done = (): void => {
      if (this.#opening === p) this.#opening = undefined;
      this.#wakeAll();
    };
    p.then(done, done);
    return p;
  }

  #opened(ssh: SshConnection, started: number): Conn {
    this.#created++;
    this.#breaker.success();
    this.#backoff.reset();
    this.#lastError = undefined;
    this.#observer.sessionOpened?.(this.id, 'bastion', 'success', (this.#clock.now() - started) / 1000);
    const conn: Conn = { ssh, channels: new Map(), pending: 0, cap: this.spec.maxChannelsPerConnection, retiring: false, idleTimer: undefined };
    if (this.#closed || this.#retired) {
      ssh.close();
      conn.retiring = true;
    }
    this.#conns.add(conn);
    this.#log.info({ connectMs: Math.round(ssh.connectMs), connections: this.#conns.size }, 'bastion connected');
    ssh.onEnd((err) => this.#ended(conn, err));
    this.#armIdle(conn);
    if (this.spec.interactive) this.#holdPty(ssh);
    return conn;
  }

  /**
   * OpenSSH's sshd sets TCP_NODELAY on a connection only once it runs a PTY session; until then
   * its Nagle delay meets our delayed ACKs and every device round trip waits ~40 ms. A shell with
   * a PTY, held and drained for the connection's life, makes it interactive. Best effort: a
   * bastion that refuses shells keeps working, only slower (logged).
   */
  #holdPty(ssh: SshConnection): void {
    try {
      ssh.client.shell({ term: 'dumb', rows: 24, cols: 80 }, (err, stream) => {
        if (err) {
          this.#log.warn({ err: err.message }, 'bastion refused a PTY shell (interactive: true); device round trips may be ~40 ms slower');
          return;
        }
        stream.resume();
        stream.stderr.resume();
      });
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'bastion PTY shell not opened');
    }
  }

  #openFailed(err: unknown, started: number): WarmpoolError {
    const e = asBastionError(this.id, err);
    this.#failed++;
    this.#lastError = e;
    if (isPermanentConnectError(e)) this.#breaker.trip(e);
    else this.#breaker.failure(e);
    this.#retryAt = this.#clock.now() + this.#backoff.next();
    this.#observer.sessionOpened?.(this.id, 'bastion', 'failure', (this.#clock.now() - started) / 1000);
    this.#log.warn({ code: e.code, err: e.message }, 'bastion connect failed');
    return e;
  }

  #ended(conn: Conn, err: Error | undefined): void {
    if (!this.#conns.delete(conn)) return;
    this.#closedTotal++;
    if (conn.idleTimer) this.#clock.clearTimeout(conn.idleTimer);
    // Close reasons from the fixed set (core/pool-stats.ts CLOSE_REASONS): idle and reload
    // closes retire the connection, closeAll() is the pool closing, anything else the peer ending it.
    const reason = err ? 'closed_by_peer' : conn.retiring ? 'retired' : 'pool_closed';
    this.#observer.sessionClosed?.(this.id, 'bastion', reason);
    if (conn.channels.size > 0) this.#log.warn({ channels: conn.channels.size, err: err?.message }, 'bastion connection ended; its device sessions end with it');
    // The device sessions over it: end each stream with an error naming the bastion, so the
    // device's SSH client reports why (connection lost: bastion B ...) and its pool replaces it.
    const why = bastionError(this.id, 'CONNECTION_LOST', `connection to the bastion ${err ? 'lost' : 'closed'}`);
    for (const [ch, device] of conn.channels) {
      // Emitting 'error' with no listener would throw: the device's client has gone already then.
      if (ch.listenerCount('error') > 0) ch.emit('error', forDevice(device, why));
      ch.destroy();
    }
    conn.channels.clear();
    this.#wakeAll();
  }

  #armIdle(conn: Conn): void {
    if (conn.idleTimer) this.#clock.clearTimeout(conn.idleTimer);
    conn.idleTimer = undefined;
    if (conn.channels.size + conn.pending > 0 || this.spec.idleTimeoutMs <= 0) return;
    conn.idleTimer = this.#clock.setTimeout(() => {
      conn.idleTimer = undefined;
      if (conn.channels.size + conn.pending === 0) {
        conn.retiring = true;
        conn.ssh.close();
      }
    }, this.spec.idleTimeoutMs);
  }

  // ---- channels ----

  #forward(conn: Conn, target: ConnectTarget, where: string): Promise<Duplex> {
    conn.pending++;
    if (conn.idleTimer) {
      this.#clock.clearTimeout(conn.idleTimer);
      conn.idleTimer = undefined;
    }
    return new Promise<Duplex>((resolve, reject) => {
      let settled = false;
      const release = (): void => {
        conn.pending--;
        this.#armIdle(conn);
        this.#wakeAll();
      };
      const onAbort = (): void => {
        if (settled) return;
        settled = true;
        reject(abortReason(target.signal));
      };
      target.signal.addEventListener('abort', onAbort, { once: true });
      const done = (err: Error | undefined, stream: Duplex | undefined): void => {
        target.signal.removeEventListener('abort', onAbort);
        release();
        if (err || !stream) {
          if (isResourceShortage(err)) conn.cap = Math.max(1, conn.channels.size); // the bastion's own limit: use another connection
          if (!settled) {
            settled = true;
            reject(channelOpenError(this.id, target.deviceId, where, err));
          }
          return;
        }
        if (settled || conn.ssh.ended) {
          stream.destroy(); // the caller gave up meanwhile, or the connection died
          if (!settled) {
            settled = true;
            reject(forDevice(target.deviceId, bastionError(this.id, 'CONNECTION_LOST', 'connection to the bastion lost while a channel was opened')));
          }
          return;
        }
        settled = true;
        this.#track(conn, stream, target.deviceId);
        resolve(stream);
      };
      try {
        // The originator address is informational for the bastion (OpenSSH logs it); loopback, port 0.
        conn.ssh.client.forwardOut('127.0.0.1', 0, target.host, target.port, (err, stream) => done(err ?? undefined, stream));
      } catch (err) {
        done(err as Error, undefined); // "Not connected": the connection is going down
      }
    });
  }

  #track(conn: Conn, stream: Duplex, device: string): void {
    conn.channels.set(stream, device);
    this.#channelsTotal++;
    stream.once('close', () => {
      if (!conn.channels.delete(stream)) return;
      if (conn.retiring && conn.channels.size + conn.pending === 0) conn.ssh.close();
      else this.#armIdle(conn);
      this.#wakeAll();
    });
  }

  #waitForRoom(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        wake: () => {
          this.#waiters.delete(w);
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.#waiters.delete(w);
        reject(abortReason(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(w);
    });
  }

  #wakeAll(): void {
    for (const w of [...this.#waiters]) w.wake();
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('connect aborted');
}

/** The bastion in the shape connectSsh takes: a linux/exec "device" that is never given a command. */
export function bastionAsDevice(b: BastionSpec): DeviceSpec {
  const d: DeviceSpec = {
    id: b.id,
    host: b.host,
    port: b.port,
    platform: 'linux',
    mode: 'exec',
    username: b.username,
    hostKey: b.hostKey,
    labels: {},
    pool: { min: 0, max: b.maxConnections, idleTimeoutMs: b.idleTimeoutMs, maxLifetimeMs: 0, acquireTimeoutMs: 0, maxWaiting: 0 },
    ssh: b.ssh,
    source: 'file',
  };
  if (b.password) d.password = b.password;
  if (b.privateKey) d.privateKey = b.privateKey;
  if (b.passphrase) d.passphrase = b.passphrase;
  return d;
}
