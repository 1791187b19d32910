import type { PoolSettings, Protocol } from '../config/types.js';
import type { Clock, Random } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { PoolObserver } from '../core/pool-stats.js';
import type { ConnectLimiter, SessionBudget } from './limits.js';
import type { BackoffSettings } from './backoff.js';
import type { BreakerSettings } from './breaker.js';

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

// Stats and observer hooks live on the ground floor (core/) so that observability/ need not
// import pool/; re-exported here for the pool's users.
export type { CircuitState, PoolObserver, PoolStats } from '../core/pool-stats.js';

/** What a DevicePool is built from. */
export interface DevicePoolOptions<S extends Session> {
  device: string;
  protocol: Protocol;
  settings: PoolSettings;
  factory: SessionFactory<S>;
  clock: Clock;
  random: Random;
  /** Process-wide: shared by every pool. */
  connectLimiter: ConnectLimiter;
  /** Process-wide: shared by every pool. */
  sessionBudget: SessionBudget;
  breaker: BreakerSettings;
  /** Reconnect backoff; defaults 250 ms .. 10 s. */
  backoff?: BackoffSettings;
  /** Probe a session on borrow when it has been idle longer than this (ms). */
  healthCheckAfterMs: number;
  /** Call session.keepalive() on sessions idle this long (ms); 0 = off. */
  keepaliveIntervalMs: number;
  /** Each session lives maxLifetimeMs * (1 - lifetimeJitter * random). */
  lifetimeJitter: number;
  observer?: PoolObserver;
  logger: Logger;
}
