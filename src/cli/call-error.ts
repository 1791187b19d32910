import * as grpc from '@grpc/grpc-js';
import { statusName } from '../api/status.js';
import { callerStatus } from '../client/errors.js';
import { EXIT, exitCodeForStatus } from './exit-codes.js';

/**
 * grpc-js's own texts when no answer came from a daemon at all (connect refused, DNS, TLS,
 * connection dropped, a proxy with nothing behind it). A device being down is also UNAVAILABLE,
 * but that comes from the daemon, with its `warmpool-error-code`, and reads "device ...".
 */
const TRANSPORT = /No connection established|Connection dropped|failed to connect|Failed to start call|ECONNREFUSED|ECONNRESET|ENOENT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|Name resolution failed|DNS resolution failed|SSL|TLS|handshake|upstream connect error|GOAWAY|RST_STREAM/i;
const REFUSED = /ECONNREFUSED|ENOENT|No connection established/i;

export interface CallFailure {
  message: string;
  exitCode: number;
}

/** grpc-js's details tidied: no empty "Resolution note:", no doubled "Error: " prefix. */
function tidy(details: string): string {
  return details.replace(/\s*Resolution note:\s*$/, '').replace(/Last error: Error: /, 'Last error: ').trim();
}

function isServiceError(err: unknown): err is grpc.ServiceError {
  return typeof (err as Partial<grpc.ServiceError> | null)?.code === 'number';
}

/** True when the call never reached a warmpool daemon (as opposed to the daemon reporting a failure). */
export function isDaemonUnreachable(err: unknown): boolean {
  if (!isServiceError(err)) return false;
  // The daemon sets warmpool-error-code on every error it produces (api/status.ts).
  if ((err.metadata?.get('warmpool-error-code').length ?? 0) > 0) return false;
  const details = err.details ?? '';
  if (err.code === grpc.status.UNAVAILABLE) return TRANSPORT.test(details);
  // The deadline passed before the call got a connection (a peer that accepts but never speaks HTTP/2).
  return err.code === grpc.status.DEADLINE_EXCEEDED && /Waiting for LB pick/.test(details);
}

/**
 * What to print for a failed call, and the exit status. `device` names the device the call was
 * about, so a device that is down reads "core-sw1: UNAVAILABLE: device "core-sw1": connection refused".
 */
export function describeCallError(err: unknown, addr: string, device?: string): CallFailure {
  if (!isServiceError(err)) return { message: String((err as Error | null)?.message ?? err), exitCode: EXIT.FAILURE };
  const errorCode = err.metadata?.get('warmpool-error-code')[0];
  // A reply a proxy cut after its headers: the daemon was reached, the commands may have run.
  const seen = callerStatus(err.code, tidy(err.details ?? ''), errorCode === undefined ? undefined : String(errorCode));
  if (seen.code !== err.code) {
    const text = `${statusName(seen.code)}: ${seen.details}`;
    return { message: device ? `${device}: ${text}` : text, exitCode: exitCodeForStatus(seen.code) };
  }
  const details = seen.details;
  if (isDaemonUnreachable(err)) {
    const hint = REFUSED.test(details)
      ? '\n  is the daemon running? start it with "warmpool serve --config FILE" or try "npm run demo"' : '';
    return { message: `cannot reach warmpool at ${addr}: ${details}${hint}`, exitCode: EXIT.UNAVAILABLE };
  }
  const text = `${statusName(err.code)}: ${details}`;
  return { message: device ? `${device}: ${text}` : text, exitCode: exitCodeForStatus(err.code) };
}
