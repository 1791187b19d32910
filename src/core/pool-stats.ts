import type { Protocol } from '../config/types.js';

/**
 * What a pool reports about itself, and the hooks it calls. Kept on the ground floor so that
 * observability/ (which reads these) and pool/ (which produces them) do not depend on each
 * other: metrics sits beside the pool, not above it.
 */

export type CircuitState = 'closed' | 'open' | 'half_open';
export const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'open', 'half_open'];

/**
 * Why a session left its pool: the fixed set of `reason` label values of
 * warmpool_session_closes_total (docs/operations.md, "Session close reasons"). The pool's
 * destroy paths (pool/entry.ts whyUnusable, pool/pool.ts, pool/upkeep.ts) use these names
 * directly; drivers/http/close-reason.ts maps undici's disconnect errors onto them.
 */
export const CLOSE_REASONS = [
  'idle_timeout', // unused for pool.idleTimeoutMs (HTTP: undici's keep-alive idle timeout)
  'max_lifetime', // pool.maxLifetimeMs reached
  'closed_by_peer', // the device or the network ended it (EOF, reset, HTTP "Connection: close")
  'keepalive_failed', // the idle keepalive nudge got no good answer
  'probe_failed', // the liveness check before reuse failed
  'dirty', // the driver could not bring it back to a clean prompt
  'discarded', // a call failed on it in a way that leaves its state unknown (timeout, output cap, cancel)
  'retired', // its settings changed (inventory reload, PutDevice)
  'resized', // pool.max was lowered
  'budget', // evicted for limits.maxTotalSessions
  'draining', // the device or the daemon is draining
  'pool_closed', // its pool was closed (device deleted, shutdown)
  'error', // a transport or protocol error not covered above (TLS, malformed reply)
] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

/** Result of one command or HTTP request (the `result` label of warmpool_command_duration_seconds). */
export type CommandResult = 'ok' | 'failed' | 'error';

/** One pool's state; maps onto the API's PoolStats (docs/api.md, "Messages"). */
export interface PoolStats {
  device: string;
  protocol: Protocol;
  idle: number;
  busy: number;
  connecting: number;
  waiting: number;
  createdTotal: number;
  closedTotal: number;
  acquiredTotal: number;
  failedConnectsTotal: number;
  circuit: CircuitState;
  min: number;
  max: number;
  /** Wall-clock ms until which the breaker is open (0 when closed). */
  circuitOpenUntil: number;
  lastError: string;
}

/** Hooks the metrics layer attaches to; the pool calls them, never the other way round. */
export interface PoolObserver {
  sessionOpened?(device: string, protocol: Protocol, result: 'success' | 'failure', seconds: number): void;
  acquired?(device: string, protocol: Protocol, waitSeconds: number): void;
  sessionClosed?(device: string, protocol: Protocol, reason: CloseReason): void;
  circuitChanged?(device: string, protocol: Protocol, state: CircuitState): void;
  /**
   * One request finished on a session the driver itself picked (HTTP: undici chooses the socket,
   * so the driver, not the use case, knows where waiting ended and sending began). `seconds`
   * excludes the wait for a socket and its connect, like an SSH command's time.
   */
  commandFinished?(device: string, protocol: Protocol, result: CommandResult, seconds: number): void;
}
