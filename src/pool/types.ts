import type { PoolSettings, Protocol } from '../config/types.js';

/**
 * What the pool needs from a session, whatever its protocol. Drivers (ssh/) implement it.
 */
export interface Session {
  readonly id: string;
  /** True once the session must not be handed out again (timed out, cancelled mid-command, unexpected prompt, lost). */
  readonly dirty: boolean;
  /** Cheap health check (prompt round trip for shells, a no-op channel request for exec). Rejects when unhealthy. */
  probe(signal?: AbortSignal): Promise<void>;
  /** Application-level keepalive while idle (drain + re-sync prompt). Rejects when the session is no longer usable. */
  keepalive?(): Promise<void>;
  /** Close the session; never rejects. */
  close(): Promise<void>;
  /** Called at most once when the session ends by itself (peer closed, keepalive failure). */
  onClose(listener: (err?: Error) => void): void;
}

export interface SessionFactory<S extends Session> {
  /** Open and log in. Rejects with a WarmpoolError (AUTH_FAILED, HOST_KEY_MISMATCH, CONNECT_TIMEOUT, ...). */
  open(signal: AbortSignal): Promise<S>;
}

/** Returned with every lease; maps onto the API's SessionInfo. */
export interface SessionInfo {
  id: string;
  reused: boolean;
  waitMs: number;
  connectMs: number;
  uses: number;
}

export interface Lease<S extends Session> {
  readonly session: S;
  readonly info: SessionInfo;
  /** Give the session back. `discard: true` (or a dirty session) closes it instead. Idempotent. */
  release(opts?: { discard?: boolean }): void;
}

export interface AcquireOptions {
  signal?: AbortSignal;
  /** Absolute deadline on the pool's clock (ms); the smaller of this and acquireTimeoutMs applies. */
  deadline?: number;
}

export type CircuitState = 'closed' | 'open' | 'half_open';

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

export interface PoolOptions<S extends Session> {
  device: string;
  protocol: Protocol;
  settings: PoolSettings;
  factory: SessionFactory<S>;
}
