import type { Protocol } from '../config/types.js';

/**
 * What a pool reports about itself, and the hooks it calls. Kept on the ground floor so that
 * observability/ (which reads these) and pool/ (which produces them) do not depend on each
 * other: metrics sits beside the pool, not above it.
 */

export type CircuitState = 'closed' | 'open' | 'half_open';

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
  sessionClosed?(device: string, protocol: Protocol, reason: string): void;
  circuitChanged?(device: string, protocol: Protocol, state: CircuitState): void;
}
