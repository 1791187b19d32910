import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { DeviceSpec } from '../config/types.js';
import { WarmpoolError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { clientConfig } from './client-config.js';
import { ConnectErrors, type ConnectPhase } from './connect-errors.js';
import { tcpConnector, type Connector } from './connector.js';
import { fingerprintSha256, makeHostVerifier, type HostKeyRejection } from './hostkey.js';
import { sshKeepalives, watchSshConnection, type KeepaliveWheel } from './keepalive-wheel.js';
import { poolSshPadding } from './ssh-padding.js';
import { loadAuth, makeAuthHandler, type AuthMaterial, type AuthTrail } from './ssh-auth.js';
import { LiveSshConnection, type SshConnection } from './ssh-connection.js';

export type { SshConnection } from './ssh-connection.js';
export type { ConnectTarget, Connector } from './connector.js';
export { buildTcpConnector, tcpConnector } from './connector.js';

export interface ConnectOptions {
  signal?: AbortSignal;
  logger?: Logger;
  /**
   * Opens the byte stream the SSH session runs over (default {@link tcpConnector}: direct TCP,
   * noDelay). Another connector reaches the device another way (through a bastion's
   * direct-tcpip channel, through a test proxy) with the same host-key check, login, timeout
   * and error codes. `ssh.connectTimeoutMs` covers the connector too.
   */
  connector?: Connector;
  /** Runs the connection's SSH keepalives (default: the process's wheel, keepalive-wheel.ts). */
  keepalives?: KeepaliveWheel;
}

/**
 * Open one SSH connection to a device: connector (TCP, noDelay) → handshake (host key checked)
 * → authentication, under ONE timeout (`device.ssh.connectTimeoutMs`) covering all three,
 * with the phase named in a timeout error. Every failure is a WarmpoolError naming the
 * device (docs/api.md, "Status codes"); the stream is always destroyed on failure.
 */
export function connectSsh(device: DeviceSpec, opts: ConnectOptions = {}): Promise<SshConnection> {
  const logger = opts.logger ?? silentLogger;
  const errors = new ConnectErrors(device);
  if (opts.signal?.aborted) return Promise.reject(errors.make('CANCELLED', 'connect cancelled before it started'));

  let auth: AuthMaterial;
  try {
    auth = loadAuth(device);
  } catch (err) {
    return Promise.reject(err);
  }
  if (device.hostKey.acceptAny === true && !device.hostKey.fingerprints?.length && !device.hostKey.knownHostsFile) {
    logger.warn({ device: device.id }, 'host key checking is disabled for this device (hostKey.acceptAny); the connection is open to interception');
  }
  return new ConnectAttempt(device, auth, errors, logger, opts).run();
}

/** One attempt: state that lives from the connector call until login succeeds or fails. */
class ConnectAttempt {
  readonly #device: DeviceSpec;
  readonly #auth: AuthMaterial;
  readonly #errors: ConnectErrors;
  readonly #logger: Logger;
  readonly #signal: AbortSignal | undefined;
  readonly #connector: Connector;
  readonly #keepalives: KeepaliveWheel;
  /** Tells the connector to give up (timeout, cancel, failure). */
  readonly #stop = new AbortController();
  readonly #trail: AuthTrail = { tried: [], offered: [] };
  readonly #started = performance.now();
  #phase: ConnectPhase = 'tcp';
  #settled = false;
  #rejection: HostKeyRejection | undefined;
  #presentedFp = '';
  #sock: Duplex | undefined;
  #client: ssh2.Client | undefined;
  /** Bytes the device sent before login, so a timeout can say "no SSH banner arrived". */
  #bytesIn = 0;
  #timer: NodeJS.Timeout | undefined;
  #resolve: (c: SshConnection) => void = () => {};
  #reject: (e: Error) => void = () => {};

  constructor(device: DeviceSpec, auth: AuthMaterial, errors: ConnectErrors, logger: Logger, opts: ConnectOptions) {
    this.#device = device;
    this.#auth = auth;
    this.#errors = errors;
    this.#logger = logger;
    this.#signal = opts.signal;
    this.#connector = opts.connector ?? tcpConnector;
    this.#keepalives = opts.keepalives ?? sshKeepalives;
  }

  run(): Promise<SshConnection> {
    return new Promise<SshConnection>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      const d = this.#device;
      this.#timer = setTimeout(() => this.#fail(this.#errors.timeout(this.#phase, this.#bytesIn > 0)), d.ssh.connectTimeoutMs);
      this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
      let opened: Promise<Duplex>;
      try {
        opened = this.#connector({ host: d.host, port: d.port, deviceId: d.id, signal: this.#stop.signal });
      } catch (err) {
        opened = Promise.reject(err);
      }
      opened.then(
        (sock) => this.#onStream(sock),
        (err: unknown) => this.#fail(this.#translate(err)),
      );
    });
  }

  readonly #onAbort = (): void => this.#fail(this.#errors.cancelled(this.#phase));
  readonly #countBytes = (chunk: Buffer): void => {
    this.#bytesIn += chunk.length;
  };

  #translate(err: unknown): WarmpoolError {
    const e = err instanceof Error ? err : new Error(String(err));
    return this.#errors.translate(e, { phase: this.#phase, rejection: this.#rejection, trail: this.#trail });
  }

  #cleanup(): void {
    clearTimeout(this.#timer);
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#sock?.removeListener('data', this.#countBytes);
  }

  #fail(err: WarmpoolError): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#cleanup();
    this.#stop.abort(err);
    try {
      this.#client?.end();
    } catch {
      /* already down */
    }
    this.#sock?.destroy();
    this.#logger.debug({ device: this.#device.id, code: err.code, phase: this.#phase }, 'ssh connect failed');
    this.#reject(err);
  }

  /** The connector delivered a connected stream: run the SSH handshake and login over it. */
  #onStream(sock: Duplex): void {
    if (this.#settled) {
      sock.destroy(); // too late: timed out or cancelled while the connector worked
      return;
    }
    this.#sock = sock;
    this.#phase = 'handshake';
    const d = this.#device;
    const c = (this.#client = new ssh2.Client());
    let lastError: Error | undefined;
    let conn: LiveSshConnection | undefined;

    const verifier = makeHostVerifier(d, (r) => {
      this.#rejection = r;
    });
    const config = clientConfig(d, sock, {
      hostVerifier: (key: Buffer) => {
        this.#presentedFp = fingerprintSha256(key);
        return verifier(key);
      },
      authHandler: makeAuthHandler(d.username, this.#auth, this.#trail),
    });

    c.on('handshake', () => {
      if (this.#phase === 'handshake') this.#phase = 'auth';
    });
    c.on('error', (err: Error & { level?: string }) => {
      lastError = err;
      if (!this.#settled) this.#fail(this.#translate(err));
    });
    c.once('ready', () => {
      if (this.#settled) {
        c.end();
        return;
      }
      this.#settled = true;
      this.#cleanup();
      const connectMs = performance.now() - this.#started;
      conn = new LiveSshConnection(c, sock, this.#errors, connectMs, this.#presentedFp);
      // Padding of every packet from here on comes from a pool (ssh-padding.ts: measured cost).
      poolSshPadding(c);
      // SSH keepalives on the process's one timer (ssh2's own are off: client-config.ts).
      if (!watchSshConnection(this.#keepalives, c, sock, d.ssh.keepaliveIntervalMs, d.ssh.keepaliveCountMax) && d.ssh.keepaliveIntervalMs > 0) {
        this.#logger.warn({ device: d.id }, 'ssh2 internals for keepalive pings not found: this connection has no SSH keepalive');
      }
      this.#logger.debug({ device: d.id, connectMs: Math.round(connectMs), hostKey: this.#presentedFp }, 'ssh connected');
      this.#resolve(conn);
    });
    c.on('close', () => {
      if (!this.#settled) {
        this.#fail(lastError ? this.#translate(lastError) : this.#errors.closed(this.#phase));
        return;
      }
      conn?.clientClosed(lastError);
    });

    try {
      c.connect(config);
    } catch (err) {
      // Synchronous config errors (an unsupported algorithm name, ...).
      this.#fail(this.#errors.badConfig(err));
      return;
    }
    // ssh2 paused the stream inside connect(), so this listener does not start the flow early;
    // it sees the same chunks ssh2 reads once ssh2 resumes it.
    sock.on('data', this.#countBytes);
  }
}
