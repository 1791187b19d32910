import type { DeviceSpec } from '../config/types.js';
import { WarmpoolError, describeError, type ErrorCode } from '../core/errors.js';
import { isAlgorithmMismatch } from './algorithms.js';
import { CLOSED_BEFORE_CONNECT } from './connector.js';
import type { HostKeyRejection } from './hostkey.js';
import type { AuthTrail } from './ssh-auth.js';

/**
 * Connect failures → WarmpoolError codes (docs/api.md, "Status codes": CONNECT_REFUSED,
 * CONNECT_TIMEOUT and HOST_UNREACHABLE are safe to retry, CONNECTION_LOST may not be,
 * HOST_KEY_MISMATCH and AUTH_FAILED need an operator). Every message names the device and
 * the phase; none contains a secret.
 */

/** Where a connect attempt is: the connector's stream, the SSH handshake (host key), or the login. */
export type ConnectPhase = 'tcp' | 'handshake' | 'auth';

const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);
const LOST = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/** What an attempt knows when it fails, beyond the error itself. */
export interface FailureContext {
  phase: ConnectPhase;
  /** Set when our host-key verifier refused the key: that, not ssh2's generic error, is the cause. */
  rejection: HostKeyRejection | undefined;
  trail: AuthTrail;
}

/** Builds the errors of one device's connect attempts. */
export class ConnectErrors {
  readonly #device: DeviceSpec;
  readonly #where: string;

  constructor(device: DeviceSpec) {
    this.#device = device;
    this.#where = `${device.host}:${device.port}`;
  }

  make(code: ErrorCode, msg: string, cause?: unknown): WarmpoolError {
    const id = this.#device.id;
    return new WarmpoolError(code, `device ${id}: ${msg}`, { device: id, cause });
  }

  /**
   * The one timeout over all phases ran out. A device that accepts the connection and then says
   * nothing (a hung sshd, a port forward to nowhere, a tarpit) is worth naming as such: it
   * points at the device, not at the network.
   */
  timeout(phase: ConnectPhase, bannerSeen: boolean): WarmpoolError {
    const silent = phase === 'handshake' && !bannerSeen ? ': the TCP connection was accepted but no SSH banner arrived' : '';
    return this.make(
      'CONNECT_TIMEOUT',
      `connect to ${this.#where} timed out after ${this.#device.ssh.connectTimeoutMs} ms (ssh.connectTimeoutMs) during the ${phase} phase${silent}`,
    );
  }

  cancelled(phase: ConnectPhase): WarmpoolError {
    return this.make('CANCELLED', `connect to ${this.#where} cancelled during the ${phase} phase`);
  }

  /** The peer closed before login completed, without an error of its own. */
  closed(phase: ConnectPhase): WarmpoolError {
    return this.make('CONNECTION_LOST', `${this.#where} closed the connection during the ${phase} phase`);
  }

  /** The connection ended by itself after login (the SshConnection's onEnd error). */
  lost(lastError: Error | undefined): WarmpoolError {
    const why = lastError ? `: ${describeError(lastError).replaceAll(`device ${this.#device.id}: `, '')}` : '';
    return this.make('CONNECTION_LOST', `connection to ${this.#where} lost${why}`, lastError);
  }

  /** ssh2 refused its configuration synchronously (an unsupported algorithm name, ...). */
  badConfig(err: unknown): WarmpoolError {
    return this.make('PROTOCOL_ERROR', `SSH client configuration rejected: ${describeError(err)}`, err);
  }

  /** Classify an error from the connector, the socket or ssh2. */
  translate(err: Error & { level?: string }, ctx: FailureContext): WarmpoolError {
    if (err instanceof WarmpoolError && !ctx.rejection) return err; // a connector's own, already classified
    const where = this.#where;
    const { phase, rejection, trail } = ctx;
    const code = (err as NodeJS.ErrnoException).code;
    if (rejection) {
      const expected = rejection.expected.length ? rejection.expected.join(', ') : 'none';
      return this.make(
        'HOST_KEY_MISMATCH',
        `host key verification failed for ${where}: ${rejection.reason}; presented ${rejection.keyType} ${rejection.presented}, expected ${expected}`,
        err,
      );
    }
    if (code === 'ECONNREFUSED') return this.make('CONNECT_REFUSED', `connection to ${where} refused`, err);
    if (code && UNREACHABLE.has(code)) return this.make('HOST_UNREACHABLE', `${where} is unreachable (${code})`, err);
    if (code === 'ETIMEDOUT') return this.make('CONNECT_TIMEOUT', `connect to ${where} timed out during the ${phase} phase (${code})`, err);
    if (code === CLOSED_BEFORE_CONNECT) return this.make('CONNECTION_LOST', `connection to ${where} closed during the ${phase} phase`, err);
    if (err.level === 'client-authentication' && /authentication methods failed/i.test(err.message)) {
      const user = this.#device.username;
      return this.make(
        'AUTH_FAILED',
        `login as ${user} refused by ${where} (tried ${trail.tried.length ? trail.tried.join(', ') : 'nothing'}; ` +
          `the server offers ${trail.offered.length ? trail.offered.join(', ') : 'unknown methods'})`,
        err,
      );
    }
    if (code && LOST.has(code)) return this.make('CONNECTION_LOST', `connection to ${where} lost during the ${phase} phase (${code})`, err);
    if (/Connection lost before handshake/i.test(err.message)) {
      return this.make('CONNECTION_LOST', `${where} closed the connection before the SSH handshake`, err);
    }
    if (isAlgorithmMismatch(err.message)) {
      const hint = this.#device.ssh.legacyAlgorithms ? 'even with legacyAlgorithms enabled' : 'the device may need ssh.legacyAlgorithms: true';
      return this.make('PROTOCOL_ERROR', `SSH handshake with ${where} failed: ${err.message} (${hint})`, err);
    }
    return this.make('PROTOCOL_ERROR', `SSH ${phase} with ${where} failed: ${describeError(err)}`, err);
  }
}
