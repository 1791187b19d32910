import net from 'node:net';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthenticationType, ConnectConfig, NextAuthHandler, ParsedKey } from 'ssh2';
import type { DeviceSpec } from '../config/types.js';
import { WarmpoolError, describeError, type ErrorCode } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { isAlgorithmMismatch, sshAlgorithms } from './algorithms.js';
import { fingerprintSha256, makeHostVerifier, type HostKeyRejection } from './hostkey.js';

export interface ConnectOptions {
  signal?: AbortSignal;
  logger?: Logger;
}

export interface SshConnection {
  client: ssh2.Client;
  /** TCP connect + SSH handshake + authentication, ms. */
  connectMs: number;
  /** "SHA256:..." of the host key the server presented (and we accepted). */
  hostKeyFingerprint: string;
  /**
   * Fires once when the connection ends: with no error after close(), with a
   * CONNECTION_LOST WarmpoolError when it ended by itself (peer closed, keepalive timeout).
   * Registering after the end calls back on the next tick.
   */
  onEnd(cb: (err?: Error) => void): void;
  /** Ends the connection (SSH disconnect, then the socket is destroyed). Idempotent. */
  close(): void;
  /** True once the connection has ended (by close() or by itself). */
  readonly ended: boolean;
}

type Phase = 'tcp' | 'handshake' | 'auth';

const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);
const LOST = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/** How long close() waits for the peer after the SSH disconnect before destroying the socket. */
const CLOSE_GRACE_MS = 1000;

interface AuthMaterial {
  password: string | undefined;
  key: ParsedKey | undefined;
}

/**
 * The only place where device credentials are revealed. A key that cannot be
 * decrypted is an AUTH_FAILED before any socket is opened; the message never
 * contains the passphrase or key material.
 */
function loadAuth(device: DeviceSpec): AuthMaterial {
  const fail = (msg: string, cause?: unknown): never => {
    throw new WarmpoolError('AUTH_FAILED', `device ${device.id}: ${msg}`, { device: device.id, cause });
  };
  let password: string | undefined;
  let key: ParsedKey | undefined;
  try {
    password = device.password?.reveal();
  } catch (err) {
    fail(`password (${device.password?.describe()}) could not be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (device.privateKey) {
    let pem = '';
    let passphrase: string | undefined;
    try {
      pem = device.privateKey.reveal();
    } catch (err) {
      fail(`private key (${device.privateKey.describe()}) could not be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    try {
      passphrase = device.passphrase?.reveal();
    } catch (err) {
      fail(`key passphrase (${device.passphrase?.describe()}) could not be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const parsed = ssh2.utils.parseKey(pem, passphrase);
    const first = Array.isArray(parsed) ? parsed[0] : parsed;
    if (first instanceof Error || first === undefined) {
      // ssh2's texts: "Encrypted private OpenSSH key detected, but no passphrase given",
      // "Failed to decrypt private key" / "bad decrypt" ... Never echo anything user-supplied.
      const text = first instanceof Error ? first.message : '';
      const encrypted = /passphrase|decrypt|encrypted/i.test(text);
      fail(
        encrypted
          ? `private key (${device.privateKey.describe()}) could not be decrypted: ${
              passphrase === undefined ? 'it is encrypted and no passphrase is configured' : 'wrong passphrase'
            }`
          : `private key (${device.privateKey.describe()}) could not be parsed`,
      );
    }
    key = first as ParsedKey;
  }
  if (password === undefined && key === undefined) {
    fail('no password or private key configured');
  }
  return { password, key };
}

/**
 * Our auth order: publickey, password, keyboard-interactive (answering password
 * prompts with the password; many TACACS/RADIUS-backed devices offer only that).
 * Methods the server did not list as "can continue" are skipped.
 */
function makeAuthHandler(device: DeviceSpec, auth: AuthMaterial, tried: string[], offered: string[]) {
  const plan: AnyAuthMethod[] = [];
  const username = device.username;
  if (auth.key) plan.push({ type: 'publickey', username, key: auth.key } as AnyAuthMethod);
  if (auth.password !== undefined) {
    const password = auth.password;
    plan.push({ type: 'password', username, password });
    plan.push({
      type: 'keyboard-interactive',
      username,
      prompt: (_name, _instructions, _lang, prompts, finish) => {
        // Visible prompts asking for a user name get the user name; everything else
        // (hidden prompts, "Password:", "Passcode:") gets the password.
        finish(prompts.map((p) => (p.echo && /user|login/i.test(p.prompt) ? username : password)));
      },
    });
  }
  let i = 0;
  return (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, next: NextAuthHandler): void => {
    if (methodsLeft && methodsLeft.length > 0) offered.splice(0, offered.length, ...methodsLeft);
    while (i < plan.length) {
      const m = plan[i++] as AnyAuthMethod;
      if (methodsLeft && methodsLeft.length > 0 && !methodsLeft.includes(m.type as AuthenticationType)) continue;
      tried.push(m.type);
      next(m);
      return;
    }
    (next as unknown as (v: false) => void)(false);
  };
}

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Open one SSH connection to a device: TCP (noDelay) → handshake (host key checked)
 * → authentication, under ONE timeout (`device.ssh.connectTimeoutMs`) covering all three,
 * with the phase named in a timeout error. Every failure is a WarmpoolError naming the
 * device; the socket is always destroyed on failure.
 */
export function connectSsh(device: DeviceSpec, opts: ConnectOptions = {}): Promise<SshConnection> {
  const logger = opts.logger ?? silentLogger;
  const signal = opts.signal;
  const id = device.id;
  const where = `${device.host}:${device.port}`;
  const mk = (code: ErrorCode, msg: string, cause?: unknown) =>
    new WarmpoolError(code, `device ${id}: ${msg}`, { device: id, cause });

  if (signal?.aborted) return Promise.reject(mk('CANCELLED', 'connect cancelled before it started'));

  let auth: AuthMaterial;
  try {
    auth = loadAuth(device);
  } catch (err) {
    return Promise.reject(err);
  }
  if (device.hostKey.acceptAny === true && !device.hostKey.fingerprints?.length && !device.hostKey.knownHostsFile) {
    logger.warn({ device: id }, 'host key checking is disabled for this device (hostKey.acceptAny); the connection is open to interception');
  }

  return new Promise<SshConnection>((resolve, reject) => {
    const started = performance.now();
    let phase: Phase = 'tcp';
    let settled = false;
    let rejection: HostKeyRejection | undefined;
    let presentedFp = '';
    const tried: string[] = [];
    const offered: string[] = [];
    let client: ssh2.Client | undefined;

    const sock = net.connect({ host: device.host, port: device.port, noDelay: true });

    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: WarmpoolError) => {
      if (settled) return;
      settled = true;
      cleanup();
      try {
        client?.end();
      } catch {
        /* already down */
      }
      sock.destroy();
      logger.debug({ device: id, code: err.code, phase }, 'ssh connect failed');
      reject(err);
    };

    const timer = setTimeout(() => {
      // A device that accepts TCP and then says nothing (a hung sshd, a port forward to nowhere,
      // a tarpit) is worth naming as such: it points at the device, not at the network.
      const silent = phase === 'handshake' && sock.bytesRead === 0 ? ': the TCP connection was accepted but no SSH banner arrived' : '';
      fail(mk('CONNECT_TIMEOUT', `connect to ${where} timed out after ${device.ssh.connectTimeoutMs} ms (ssh.connectTimeoutMs) during the ${phase} phase${silent}`));
    }, device.ssh.connectTimeoutMs);
    const onAbort = () => fail(mk('CANCELLED', `connect to ${where} cancelled during the ${phase} phase`));
    signal?.addEventListener('abort', onAbort, { once: true });

    const mapError = (err: Error & { level?: string }): WarmpoolError => {
      const code = errCode(err);
      if (rejection) {
        const r = rejection;
        const expected = r.expected.length ? r.expected.join(', ') : 'none';
        return mk(
          'HOST_KEY_MISMATCH',
          `host key verification failed for ${where}: ${r.reason}; presented ${r.keyType} ${r.presented}, expected ${expected}`,
          err,
        );
      }
      if (code === 'ECONNREFUSED') return mk('CONNECT_REFUSED', `connection to ${where} refused`, err);
      if (code && UNREACHABLE.has(code)) return mk('HOST_UNREACHABLE', `${where} is unreachable (${code})`, err);
      if (code === 'ETIMEDOUT') return mk('CONNECT_TIMEOUT', `connect to ${where} timed out during the ${phase} phase (${code})`, err);
      if (err.level === 'client-authentication' && /authentication methods failed/i.test(err.message)) {
        return mk(
          'AUTH_FAILED',
          `login as ${device.username} refused by ${where} (tried ${tried.length ? tried.join(', ') : 'nothing'}; ` +
            `the server offers ${offered.length ? offered.join(', ') : 'unknown methods'})`,
          err,
        );
      }
      if (code && LOST.has(code)) return mk('CONNECTION_LOST', `connection to ${where} lost during the ${phase} phase (${code})`, err);
      if (/Connection lost before handshake/i.test(err.message)) {
        return mk('CONNECTION_LOST', `${where} closed the connection before the SSH handshake`, err);
      }
      if (isAlgorithmMismatch(err.message)) {
        const hint = device.ssh.legacyAlgorithms
          ? 'even with legacyAlgorithms enabled'
          : 'the device may need ssh.legacyAlgorithms: true';
        return mk('PROTOCOL_ERROR', `SSH handshake with ${where} failed: ${err.message} (${hint})`, err);
      }
      return mk('PROTOCOL_ERROR', `SSH ${phase} with ${where} failed: ${describeError(err)}`, err);
    };

    sock.once('error', (err) => {
      if (!client) fail(mapError(err));
    });
    sock.once('close', () => {
      if (!client) fail(mk('CONNECTION_LOST', `connection to ${where} closed during the tcp phase`));
    });

    sock.once('connect', () => {
      if (settled) return;
      phase = 'handshake';
      const c = (client = new ssh2.Client());
      let lastError: Error | undefined;
      let ended = false;
      let closedByUs = false;
      const endListeners: Array<(err?: Error) => void> = [];
      let endErr: Error | undefined;
      let connectMsValue = 0;

      const verifier = makeHostVerifier(device, (r) => {
        rejection = r;
      });
      const config: ConnectConfig = {
        sock,
        username: device.username,
        readyTimeout: 0, // our own timer covers tcp + handshake + auth
        keepaliveInterval: device.ssh.keepaliveIntervalMs,
        keepaliveCountMax: device.ssh.keepaliveCountMax,
        algorithms: sshAlgorithms(device.ssh.legacyAlgorithms),
        tryKeyboard: true,
        hostVerifier: (key: Buffer) => {
          presentedFp = fingerprintSha256(key);
          return verifier(key);
        },
        authHandler: makeAuthHandler(device, auth, tried, offered) as unknown as ConnectConfig['authHandler'],
      };

      c.on('handshake', () => {
        if (phase === 'handshake') phase = 'auth';
      });
      c.on('error', (err: Error & { level?: string }) => {
        lastError = err;
        if (!settled) fail(mapError(err));
      });
      c.once('ready', () => {
        if (settled) {
          c.end();
          return;
        }
        settled = true;
        cleanup();
        connectMsValue = performance.now() - started;
        logger.debug({ device: id, connectMs: Math.round(connectMsValue), hostKey: presentedFp }, 'ssh connected');
        resolve(conn);
      });
      c.on('close', () => {
        if (!settled) {
          fail(lastError ? mapError(lastError) : mk('CONNECTION_LOST', `${where} closed the connection during the ${phase} phase`));
          return;
        }
        if (ended) return;
        ended = true;
        sock.destroy();
        endErr = closedByUs
          ? undefined
          : mk('CONNECTION_LOST', `connection to ${where} lost${lastError ? `: ${describeError(lastError)}` : ''}`, lastError);
        for (const l of endListeners.splice(0)) l(endErr);
      });

      const conn: SshConnection = {
        client: c,
        get connectMs() {
          return connectMsValue;
        },
        get hostKeyFingerprint() {
          return presentedFp;
        },
        get ended() {
          return ended;
        },
        onEnd(cb) {
          if (ended) {
            const e = endErr;
            queueMicrotask(() => cb(e));
          } else endListeners.push(cb);
        },
        close() {
          if (ended || closedByUs) return;
          closedByUs = true;
          try {
            c.end();
          } catch {
            /* already down */
          }
          // Do not wait forever for a silent peer to acknowledge the disconnect.
          setTimeout(() => sock.destroy(), CLOSE_GRACE_MS).unref();
        },
      };

      try {
        c.connect(config);
      } catch (err) {
        // Synchronous config errors (an unsupported algorithm name, ...).
        fail(mk('PROTOCOL_ERROR', `SSH client configuration rejected: ${describeError(err)}`, err));
      }
    });
  });
}
