import { status as Status } from '@grpc/grpc-js';
import type { WarmpoolClientError } from './errors.js';

/**
 * Which failed calls the client repeats by itself: only those that certainly sent nothing to
 * the device, so a command, configuration change or HTTP POST never runs twice because of a
 * retry. The same rule as the Python client (clients/python/warmpool_client/_retry.py):
 *
 * - UNAVAILABLE while connecting to the daemon itself (no `warmpool-error-code`, grpc-js says
 *   "No connection established" / ECONNREFUSED / name resolution): the request never left;
 * - UNAVAILABLE with `warmpool-error-code` CONNECT_REFUSED, CONNECT_TIMEOUT, HOST_UNREACHABLE
 *   (the device session could not be opened, before the first command) or CIRCUIT_OPEN (refused
 *   at once);
 * - DRAINING: the daemon refused the call at its start, or the pool refused a session. A call
 *   still running when a shutdown's grace period ended gets SHUTDOWN instead (commands may
 *   have run), which is not repeated.
 *
 * Never: CONNECTION_LOST, CHANNEL_OPEN_FAILED, POOL_CLOSED, any other status, or a stream that
 * already delivered a message.
 */
const NOT_SENT = new Set(['CONNECT_REFUSED', 'CONNECT_TIMEOUT', 'HOST_UNREACHABLE', 'CIRCUIT_OPEN', 'DRAINING']);
const CONNECT_FAILURE = /No connection established|ECONNREFUSED|failed to connect|Name resolution failed|DNS resolution failed/i;

export function isSafeToRetry(err: WarmpoolClientError): boolean {
  if (err.code !== Status.UNAVAILABLE) return false;
  if (err.errorCode === undefined) return CONNECT_FAILURE.test(err.details);
  if (NOT_SENT.has(err.errorCode)) return true;
  return false;
}

/** Milliseconds before retry number `attempt` (0-based): base·2^attempt, capped, times [0.5, 1]. */
export function backoffMs(attempt: number, random: () => number = Math.random, baseMs = 100, capMs = 2000): number {
  return Math.min(capMs, baseMs * 2 ** attempt) * (0.5 + 0.5 * random());
}
