import type { Duplex } from 'node:stream';
import type ssh2 from 'ssh2';
import type { ConnectErrors } from './connect-errors.js';

/** How long close() waits for the peer after the SSH disconnect before destroying the stream. */
const CLOSE_GRACE_MS = 1000;

/** One logged-in SSH connection to a device, as the drivers use it. */
export interface SshConnection {
  client: ssh2.Client;
  /** Connector (TCP) + SSH handshake + authentication, ms. */
  connectMs: number;
  /** "SHA256:..." of the host key the server presented (and we accepted). */
  hostKeyFingerprint: string;
  /**
   * Fires once when the connection ends: with no error after close(), with a
   * CONNECTION_LOST WarmpoolError when it ended by itself (peer closed, keepalive timeout).
   * Registering after the end calls back on the next tick.
   */
  onEnd(cb: (err?: Error) => void): void;
  /** Ends the connection (SSH disconnect, then the stream is destroyed). Idempotent. */
  close(): void;
  /** True once the connection has ended (by close() or by itself). */
  readonly ended: boolean;
}

/**
 * The SshConnection handed out once login completed. The connect attempt tells it when the
 * ssh2 client closed ({@link LiveSshConnection.clientClosed}); it owns the end listeners and
 * the close grace.
 */
export class LiveSshConnection implements SshConnection {
  readonly client: ssh2.Client;
  readonly connectMs: number;
  readonly hostKeyFingerprint: string;
  readonly #sock: Duplex;
  readonly #errors: ConnectErrors;
  readonly #endListeners: Array<(err?: Error) => void> = [];
  #ended = false;
  #closedByUs = false;
  #endErr: Error | undefined;

  constructor(client: ssh2.Client, sock: Duplex, errors: ConnectErrors, connectMs: number, hostKeyFingerprint: string) {
    this.client = client;
    this.#sock = sock;
    this.#errors = errors;
    this.connectMs = connectMs;
    this.hostKeyFingerprint = hostKeyFingerprint;
  }

  get ended(): boolean {
    return this.#ended;
  }

  onEnd(cb: (err?: Error) => void): void {
    if (this.#ended) {
      const e = this.#endErr;
      queueMicrotask(() => cb(e));
    } else {
      this.#endListeners.push(cb);
    }
  }

  close(): void {
    if (this.#ended || this.#closedByUs) return;
    this.#closedByUs = true;
    try {
      this.client.end();
    } catch {
      /* already down */
    }
    // Do not wait forever for a silent peer to acknowledge the disconnect.
    const sock = this.#sock;
    setTimeout(() => sock.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** The ssh2 client emitted 'close'; `lastError` is the last error it emitted, if any. */
  clientClosed(lastError: Error | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#sock.destroy();
    this.#endErr = this.#closedByUs ? undefined : this.#errors.lost(lastError);
    for (const l of this.#endListeners.splice(0)) l(this.#endErr);
  }
}
