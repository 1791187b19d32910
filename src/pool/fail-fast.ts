import { WarmpoolError, isWarmpoolError, type ErrorCode } from '../core/errors.js';
import type { Session } from './types.js';
import type { WaitQueue } from './waiters.js';

/**
 * What callers are told when the pool cannot give them a session: which waiters hear of a
 * failed open at once, and what a waiter whose time ran out is told. WHY fail fast at all:
 * a caller waiting out a timeout for a device that has just refused us learns nothing more,
 * and gets a vaguer error (docs/api.md, "Status codes").
 */

/** An error naming the pool, as every pool error does. */
export function poolError(device: string, protocol: string, code: ErrorCode, what: string): WarmpoolError {
  return new WarmpoolError(code, `${device} (${protocol}): ${what}`, { device });
}

/**
 * A connect that failed at once (refused, or reset/closed before the SSH handshake), as opposed
 * to a timeout: retrying it immediately costs nothing, and may find the device's server back.
 */
function isQuickFailure(err: unknown): boolean {
  return isWarmpoolError(err, 'CONNECT_REFUSED') || isWarmpoolError(err, 'CONNECTION_LOST');
}

export interface FailedOpen {
  err: unknown;
  /** Bad credentials or host key: the breaker is tripped, no backoff. */
  permanent: boolean;
  /** The first failure since the last success. */
  first: boolean;
  /** Opens still in flight: the first `connecting` waiters are theirs. */
  connecting: number;
  /** Sessions open (leased, idle or busy with upkeep). */
  established: number;
  /** When the backoff lets the next attempt start. */
  retryAt: number;
}

/**
 * Tell the waiters who should hear of a failed open now. Returns true when the open is worth
 * one immediate retry instead (the caller then lifts the backoff).
 */
export function tellOfFailedOpen<S extends Session>(waiters: WaitQueue<S>, f: FailedOpen): boolean {
  if (f.permanent) {
    // Every waiter no other open covers gets the real error: retrying cannot fix it.
    waiters.rejectUncovered(f.err, f.connecting);
  } else if (f.established > 0) {
    // Sessions are in use and will come back: the waiters queue behind them as usual. Only
    // those whose deadline ends before the retry are told why now, not by a bare timeout later.
    waiters.rejectUncovered(f.err, f.connecting, f.retryAt);
  } else if (f.first && isQuickFailure(f.err) && waiters.size > f.connecting) {
    // One immediate retry for a refused or reset connect: a device restarting its SSH server
    // or shedding a burst of logins (OpenSSH MaxStartups) often takes the next one. The
    // backoff for later (background) reconnects stays.
    return true;
  } else {
    // Nothing can serve the waiter this open was for but another open, which would only be
    // tried after the backoff: it gets this connect's error now (as in pg-pool), not a
    // timeout. While other opens are in flight the rest wait for them (one may succeed);
    // when none is left, every waiter not covered by one gets the error.
    waiters.rejectUncovered(f.err, f.connecting, Infinity, f.connecting > 0 ? 1 : Infinity);
  }
  return false;
}

export interface TimedOut {
  device: string;
  protocol: string;
  waitedMs: number;
  /** The caller's own deadline, not acquireTimeoutMs, ran out. */
  callerDeadline: boolean;
  /** A connect to the device was under way and no session was open. */
  dialing: boolean;
  acquireTimeoutMs: number;
  busy: number;
  max: number;
  lastError: string;
}

/** The error for a waiter whose deadline passed. */
export function timeoutError(f: TimedOut): WarmpoolError {
  const last = f.lastError ? `; last connect error: ${f.lastError}` : '';
  const err = (code: ErrorCode, what: string): WarmpoolError => poolError(f.device, f.protocol, code, what);
  if (f.callerDeadline) {
    return err('DEADLINE_EXCEEDED', `caller deadline passed after waiting ${f.waitedMs} ms for a session` +
      `${f.dialing ? ' (connecting to the device had not finished)' : ''}${last}`);
  }
  // With no session in use, the waiter was waiting for a connect to the device, not for a
  // release: the device did not answer in time, which is UNAVAILABLE (CONNECT_TIMEOUT), not a
  // saturated pool. This is the case when the connect timeout is not below acquireTimeoutMs;
  // a shorter connect timeout hands the waiter the connect's own error (tellOfFailedOpen).
  if (f.dialing) {
    return err('CONNECT_TIMEOUT', `connecting to the device did not finish within acquireTimeoutMs ${f.acquireTimeoutMs} ` +
      `(waited ${f.waitedMs} ms; a connect timeout below acquireTimeoutMs reports the connect's own error)${last}`);
  }
  return err('ACQUIRE_TIMEOUT', `no session within acquireTimeoutMs ${f.acquireTimeoutMs} (waited ${f.waitedMs} ms; ` +
    `busy ${f.busy}, max ${f.max})${last}`);
}
