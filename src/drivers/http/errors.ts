/**
 * undici / node:net / node:tls errors → WarmpoolError with a message that names the device and
 * says what happened in words. Raw messages are only used where they are known to be secret-free.
 */
import { WarmpoolError, type ErrorCode } from '../../core/errors.js';
import { tlsReason } from './tls.js';

export interface ErrorContext {
  device: string;
  /** host:port, for messages. */
  target: string;
  /** Name the server certificate is checked against. */
  servername: string;
  connectTimeoutMs: number;
  /** The error to use when undici's headers/body timer fires (COMMAND_TIMEOUT or DEADLINE_EXCEEDED). */
  timeoutError: () => WarmpoolError;
}

function codeOf(err: unknown): string {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : '';
}

/** Connection-level failures before any response byte, after which an idempotent request may be sent again. */
const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'UND_ERR_SOCKET']);

export function isRetryableBeforeResponse(err: unknown): boolean {
  return RETRYABLE_CODES.has(codeOf(err));
}

/** Codes that say the device (or the path to it) is unhealthy: the breaker counts these, not HTTP statuses. */
const BREAKER_CODES = new Set<ErrorCode>(['CONNECT_REFUSED', 'CONNECT_TIMEOUT', 'HOST_UNREACHABLE', 'TLS_ERROR', 'CONNECTION_LOST']);

export function countsForBreaker(err: WarmpoolError): boolean {
  return BREAKER_CODES.has(err.code);
}

export function mapHttpError(err: unknown, ctx: ErrorContext): WarmpoolError {
  if (err instanceof WarmpoolError) return err;
  const { device, target } = ctx;
  const code = codeOf(err);
  const mk = (c: ErrorCode, msg: string) => new WarmpoolError(c, `device ${device}: ${msg}`, { device, cause: err });
  const tls = tlsReason(err, ctx.servername);
  if (tls !== undefined) return mk('TLS_ERROR', `TLS connection to ${target} failed: ${tls}`);
  switch (code) {
    case 'ECONNREFUSED':
      return mk('CONNECT_REFUSED', `connection to ${target} refused`);
    case 'UND_ERR_CONNECT_TIMEOUT':
      return mk('CONNECT_TIMEOUT', `connect to ${target} timed out after ${ctx.connectTimeoutMs} ms`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EADDRNOTAVAIL':
      return mk('HOST_UNREACHABLE', `${target} unreachable (${code})`);
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return ctx.timeoutError();
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
    case 'ETIMEDOUT':
    case 'UND_ERR_SOCKET':
      return mk('CONNECTION_LOST', `connection to ${target} lost (${code === 'UND_ERR_SOCKET' ? 'closed by the device' : code})`);
    case 'UND_ERR_ABORTED':
    case 'UND_ERR_ABORT':
    case 'ABORT_ERR':
      return mk('CANCELLED', 'HTTP request cancelled');
    case 'UND_ERR_CLOSED':
    case 'UND_ERR_DESTROYED':
      return mk('POOL_CLOSED', 'HTTP client closed');
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
    case 'UND_ERR_HEADERS_OVERFLOW':
      return mk('PROTOCOL_ERROR', `invalid HTTP response from ${target} (${code})`);
    case 'UND_ERR_INVALID_ARG':
      return new WarmpoolError('INVALID_ARGUMENT', `device ${device}: invalid HTTP request: ${(err as Error).message}`, { device, cause: err });
    default:
      if (code.startsWith('HPE_')) return mk('PROTOCOL_ERROR', `invalid HTTP response from ${target} (${code})`);
      return mk('INTERNAL', `HTTP request to ${target} failed: ${code || (err instanceof Error ? err.name : 'unknown error')}`);
  }
}
