/**
 * NETCONF driver (RFC 6241 over RFC 6242): one `netconf` subsystem channel on one held SSH
 * connection (the factory connects; this driver gets the connection).
 *
 * - Hello once per session: ours offers base:1.0 and base:1.1; the server's capabilities and
 *   session-id are kept (`capabilities`, shown by GetDevice as `netconf.capabilities`). Framing is
 *   chunked (1.1) when both sides offer base:1.1, end-of-message (1.0) otherwise.
 * - The daemon owns message-id: one counter per session; the caller sends only what goes inside
 *   <rpc>. A reply whose message-id is not the one awaited is a protocol error (dirty).
 * - One RPC at a time (the pool hands a session to one caller). Notifications are dropped.
 * - Reply: passed through as text; `failed` when an <rpc-error> has severity "error", `error` its
 *   error-message (or error-tag). A reply past ssh.maxOutputBytes fails OUTPUT_TOO_LARGE.
 * - A timeout, a cancel, a framing error or a lost channel spoils the session
 *   (session/dirty.ts): a reply may still be on its way, so it is never handed out again.
 * - probe/keepalive: <get> with an empty subtree filter (RFC 6241 §6.4.2: selects nothing, not an
 *   error; every server implements <get> and subtree filtering, and the reply is a few bytes).
 */
import type { ClientChannel } from 'ssh2';
import type { DeviceSpec } from '../../config/types.js';
import { systemClock, type Clock, type TimerHandle } from '../../core/clock.js';
import { WarmpoolError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { CloseSignal } from '../../session/close-signal.js';
import { Dirt } from '../../session/dirty.js';
import type { Session } from '../../pool/types.js';
import type { SshConnection } from '../../transport/ssh-connect.js';
import { EOM, encodeMessage, FrameDecoder, FramingError, type Framing } from './framing.js';
import { attribute, parseHello, rootElement, rpcErrors, XmlScanError } from './xml-scan.js';

export const BASE_10 = 'urn:ietf:params:netconf:base:1.0';
export const BASE_11 = 'urn:ietf:params:netconf:base:1.1';
const NS = 'urn:ietf:params:xml:ns:netconf:base:1.0';
/** The keepalive / health probe: selects nothing (RFC 6241 §6.4.2). */
export const KEEPALIVE_RPC = '<get><filter type="subtree"/></get>';
const CLIENT_HELLO = `<?xml version="1.0" encoding="UTF-8"?><hello xmlns="${NS}"><capabilities><capability>${BASE_10}</capability><capability>${BASE_11}</capability></capabilities></hello>`;
/** How long close() lets a polite <close-session/> go out before the connection is closed. */
const CLOSE_WAIT_MS = 300;

export interface NetconfReply {
  /** The whole <rpc-reply> document. */
  reply: string;
  failed: boolean;
  error: string;
  durationMs: number;
}

export interface NetconfSessionOptions {
  logger?: Logger;
  clock?: Clock;
  signal?: AbortSignal;
}

interface Waiter {
  messageId: string;
  started: number;
  resolve: (r: NetconfReply) => void;
  reject: (e: Error) => void;
  timer: TimerHandle | undefined;
}

let sessionCounter = 0;

export class NetconfSession implements Session {
  readonly mode = 'netconf' as const;
  readonly id: string;
  readonly device: DeviceSpec;
  readonly connection: SshConnection;
  /** The server's hello. */
  capabilities: readonly string[] = [];
  sessionId = 0;
  framing: Framing = '1.0';
  readonly #channel: ClientChannel;
  readonly #decoder: FrameDecoder;
  readonly #dirt = new Dirt();
  readonly #close = new CloseSignal();
  readonly #clock: Clock;
  readonly #log: Logger;
  #nextId = 1;
  #waiter: Waiter | undefined;
  #hello: { resolve: () => void; reject: (e: Error) => void } | undefined;
  #gone: WarmpoolError | undefined;

  private constructor(device: DeviceSpec, connection: SshConnection, channel: ClientChannel, opts: NetconfSessionOptions) {
    this.device = device;
    this.connection = connection;
    this.#channel = channel;
    this.#clock = opts.clock ?? systemClock;
    this.#log = (opts.logger ?? silentLogger).child({ device: device.id });
    this.id = `${device.id}/netconf/${++sessionCounter}`;
    this.#decoder = new FrameDecoder(device.ssh.maxOutputBytes, (m) => this.#onMessage(m));
    channel.on('data', (d: Buffer) => this.#onData(d));
    channel.stderr.on('data', () => undefined);
    channel.on('error', () => undefined);
    channel.on('close', () => this.#lost(this.#err('CONNECTION_LOST', 'the NETCONF channel closed')));
    connection.onEnd((err) => this.#lost(err instanceof WarmpoolError ? err : this.#err('CONNECTION_LOST', 'connection closed')));
  }

  /** Open the `netconf` subsystem on `conn` and exchange hellos (within ssh.connectTimeoutMs). */
  static async open(device: DeviceSpec, conn: SshConnection, opts: NetconfSessionOptions = {}): Promise<NetconfSession> {
    const channel = await new Promise<ClientChannel>((resolve, reject) => {
      conn.client.subsys('netconf', (err, ch) => {
        if (err) {
          reject(new WarmpoolError('CHANNEL_OPEN_FAILED', `device "${device.id}": the NETCONF subsystem was refused (${err.message}); is NETCONF over SSH enabled on port ${device.port}?`, { device: device.id, cause: err }));
        } else {
          resolve(ch);
        }
      });
    });
    const s = new NetconfSession(device, conn, channel, opts);
    await s.#exchangeHellos(opts.signal);
    return s;
  }

  #err(code: 'CONNECT_TIMEOUT' | 'CONNECTION_LOST' | 'PROTOCOL_ERROR' | 'COMMAND_TIMEOUT' | 'CANCELLED' | 'OUTPUT_TOO_LARGE' | 'INVALID_ARGUMENT', what: string): WarmpoolError {
    return new WarmpoolError(code, `device "${this.device.id}": ${what}`, { device: this.device.id });
  }

  #exchangeHellos(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => fail(this.#err('CONNECT_TIMEOUT', `no NETCONF <hello> within ${this.device.ssh.connectTimeoutMs} ms`)), this.device.ssh.connectTimeoutMs);
      const onAbort = (): void => fail(this.#err('CANCELLED', 'cancelled while waiting for the NETCONF <hello>'));
      const done = (): void => {
        this.#clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const fail = (e: Error): void => {
        done();
        this.#hello = undefined;
        this.#dirt.mark();
        reject(e);
      };
      this.#hello = { resolve: () => (done(), resolve()), reject: fail };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#channel.write(encodeMessage('1.0', CLIENT_HELLO));
    });
  }

  get dirty(): boolean {
    return this.#dirt.dirty || this.#gone !== undefined || this.connection.ended;
  }

  onClose(listener: (err?: Error) => void): void {
    this.#close.listen(listener);
  }

  #onData(d: Buffer): void {
    try {
      this.#decoder.push(d);
    } catch (err) {
      if (!(err instanceof FramingError)) throw err;
      const e = err.kind === 'too-large'
        ? this.#err('OUTPUT_TOO_LARGE', `${err.message}; the reply is refused and the session replaced`)
        : this.#err('PROTOCOL_ERROR', err.message);
      this.#log.warn({ err: err.message }, 'NETCONF framing error; session discarded');
      this.#dirt.mark();
      this.#failPending(e);
      this.#channel.close();
    }
  }

  #failPending(e: Error): void {
    if (this.#hello) this.#hello.reject(e);
    const w = this.#waiter;
    if (w) {
      this.#waiter = undefined;
      if (w.timer) this.#clock.clearTimeout(w.timer);
      w.reject(e);
    }
  }

  #onMessage(msg: Buffer): void {
    const xml = msg.toString('utf8');
    if (this.#hello) {
      this.#onHello(xml);
      return;
    }
    let root;
    try {
      root = rootElement(xml);
    } catch (err) {
      this.#protocolError(`unreadable NETCONF message (${(err as Error).message})`);
      return;
    }
    if (root?.local === 'notification') return; // never subscribed by us; not a reply
    if (root?.local !== 'rpc-reply') {
      this.#protocolError(`expected <rpc-reply>, got ${root ? `<${root.local}>` : 'no element'}`);
      return;
    }
    const w = this.#waiter;
    const id = attribute(root.attrs, 'message-id') ?? '';
    if (!w || id !== w.messageId) {
      this.#protocolError(`an <rpc-reply> with message-id "${id.slice(0, 32)}" arrived ${w ? `while ${w.messageId} was awaited` : 'while no RPC was pending'}`);
      return;
    }
    this.#waiter = undefined;
    if (w.timer) this.#clock.clearTimeout(w.timer);
    let failed = false;
    let error = '';
    try {
      const errs = rpcErrors(xml).filter((e) => e.severity === 'error');
      if (errs.length > 0) {
        failed = true;
        const e = errs[0] as { message: string; tag: string };
        error = (e.message || e.tag || 'rpc-error').slice(0, 4096);
      }
    } catch (err) {
      if (!(err instanceof XmlScanError)) throw err;
      // A reply we cannot read errors from still is the reply: pass it through unjudged.
    }
    w.resolve({ reply: xml, failed, error, durationMs: performance.now() - w.started });
  }

  #onHello(xml: string): void {
    const h = this.#hello as { resolve: () => void; reject: (e: Error) => void };
    let info;
    try {
      info = parseHello(xml);
    } catch (err) {
      h.reject(this.#err('PROTOCOL_ERROR', `bad NETCONF <hello> from the server: ${(err as Error).message}`));
      return;
    }
    const has11 = info.capabilities.includes(BASE_11);
    if (!has11 && !info.capabilities.includes(BASE_10)) {
      h.reject(this.#err('PROTOCOL_ERROR', `the server's <hello> offers neither ${BASE_10} nor ${BASE_11}`));
      return;
    }
    this.capabilities = info.capabilities;
    this.sessionId = info.sessionId;
    this.framing = has11 ? '1.1' : '1.0';
    // The bytes after the hello are read with the chosen framing.
    this.#decoder.framing = this.framing;
    this.#hello = undefined;
    this.#log.debug({ framing: this.framing, sessionId: this.sessionId, capabilities: info.capabilities.length }, 'NETCONF hello exchanged');
    h.resolve();
  }

  #protocolError(what: string): void {
    this.#log.warn({ what }, 'NETCONF protocol error; session discarded');
    this.#dirt.mark();
    this.#failPending(this.#err('PROTOCOL_ERROR', what));
    // Ending the channel tells the pool at once (onClose), also for a session lying idle.
    this.#channel.close();
  }

  #lost(err: WarmpoolError): void {
    if (this.#gone) return;
    this.#gone = err;
    this.#dirt.after(err);
    this.#failPending(err);
    this.#close.lost(err);
  }

  /**
   * Send one RPC (`body`: the XML inside <rpc>) and wait for its reply. Rejects COMMAND_TIMEOUT,
   * CANCELLED, CONNECTION_LOST, PROTOCOL_ERROR or OUTPUT_TOO_LARGE; the session is then dirty.
   */
  rpc(body: string, opts: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<NetconfReply> {
    if (this.#gone) return Promise.reject(this.#err('CONNECTION_LOST', 'the NETCONF session is closed'));
    if (this.#waiter) return Promise.reject(this.#err('INVALID_ARGUMENT', 'an RPC is already in flight on this NETCONF session'));
    if (this.framing === '1.0' && body.includes(EOM)) {
      // It would end our message early and let the rest through as another message.
      return Promise.reject(this.#err('INVALID_ARGUMENT', `rpc: contains "${EOM}", the NETCONF 1.0 end-of-message marker (this session uses base:1.0 framing)`));
    }
    if (opts.signal?.aborted) return Promise.reject(this.#err('CANCELLED', 'cancelled before the RPC was sent'));
    const messageId = String(this.#nextId++);
    return new Promise<NetconfReply>((resolve, reject) => {
      const signal = opts.signal;
      const onAbort = (): void => settleErr(this.#err('CANCELLED', `cancelled while waiting for the reply to message-id ${messageId}`));
      const cleanup = (): void => signal?.removeEventListener('abort', onAbort);
      const settleErr = (e: WarmpoolError): void => {
        if (this.#waiter?.messageId !== messageId) return;
        this.#waiter = undefined;
        if (w.timer) this.#clock.clearTimeout(w.timer);
        cleanup();
        // A reply may still be coming: the session must not serve anyone else.
        this.#dirt.after(e);
        reject(e);
      };
      const w: Waiter = {
        messageId,
        started: performance.now(),
        resolve: (r) => {
          cleanup();
          resolve(r);
        },
        reject: (e) => {
          cleanup();
          this.#dirt.after(e);
          reject(e);
        },
        timer: undefined,
      };
      this.#waiter = w;
      w.timer = this.#clock.setTimeout(() => {
        const partial = this.#decoder.pending;
        settleErr(this.#err('COMMAND_TIMEOUT', `no complete NETCONF reply to message-id ${messageId} within ${opts.timeoutMs} ms${partial > 0 ? ` (${partial} bytes of it had arrived)` : ''}`));
      }, opts.timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#channel.write(encodeMessage(this.framing, `<?xml version="1.0" encoding="UTF-8"?><rpc xmlns="${NS}" message-id="${messageId}">${body}</rpc>`));
    });
  }

  /** A cheap, side-effect-free RPC; any reply (even an rpc-error) proves the session answers. */
  async probe(signal?: AbortSignal): Promise<void> {
    await this.rpc(KEEPALIVE_RPC, { timeoutMs: this.device.ssh.connectTimeoutMs, signal });
  }

  keepalive(): Promise<void> {
    return this.probe();
  }

  async close(): Promise<void> {
    if (this.#close.ended) return;
    this.#close.closedByUs();
    if (!this.#gone && !this.#waiter && !this.#dirt.dirty) {
      // Polite end (RFC 6241 §7.8), not awaited beyond a short grace: the connection closes anyway.
      try {
        this.#channel.write(encodeMessage(this.framing, `<rpc xmlns="${NS}" message-id="${this.#nextId++}"><close-session/></rpc>`));
      } catch {
        /* channel already down */
      }
      await new Promise<void>((resolve) => {
        const t = this.#clock.setTimeout(resolve, CLOSE_WAIT_MS);
        this.#channel.once('close', () => {
          this.#clock.clearTimeout(t);
          resolve();
        });
      });
    }
    this.#gone ??= this.#err('CONNECTION_LOST', 'the NETCONF session was closed');
    this.connection.close();
  }
}
