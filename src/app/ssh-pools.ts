import type { AppConfig, DeviceSpec } from '../config/types.js';
import { WarmpoolError } from '../core/errors.js';
import { specFingerprint } from '../core/fingerprint.js';
import type { Logger } from '../core/logger.js';
import type { DeviceSession } from '../drivers/ssh-types.js';
import { systemClock, systemRandom, type Clock, type Random } from '../core/clock.js';
import { ConnectLimiter, SessionBudget } from '../pool/limits.js';
import { DevicePool } from '../pool/pool.js';
import type { PoolObserver, PoolStats, SessionFactory } from '../pool/types.js';

export interface PoolRegistryOptions {
  config: AppConfig;
  sshFactory: (d: DeviceSpec) => SessionFactory<DeviceSession>;
  clock?: Clock;
  random?: Random;
  observer?: PoolObserver;
  logger: Logger;
  /** Share of maxLifetimeMs removed at random per session (default 0.1). */
  lifetimeJitter?: number;
}

export type UpsertResult = 'added' | 'changed' | 'resized' | 'unchanged';

interface Slot {
  spec: DeviceSpec;
  /** Fingerprint of the connection-relevant fields; a change means old sessions must go. */
  key: string;
  pool: DevicePool<DeviceSession>;
}

/**
 * The SSH pools of every device, kept in step with the inventory.
 *
 * - unchanged device: its pool (and warm sessions) stay;
 * - changed connection settings (host, credentials, host-key policy, ssh settings, ...):
 *   pool.retire(newFactory) — idle sessions close now, busy ones on release, so no caller
 *   ever gets a session built from the old settings after the change;
 * - only pool sizes/timeouts changed: updated in place, no reconnect;
 * - deleted device: its pool drains and is closed once empty.
 *
 * The connect limiter and the session budget are created here, once, and shared by all
 * SSH pools.
 */
export class PoolRegistry {
  /** Sessions of every SSH pool (process-wide; `used` is what they hold now). */
  readonly sessionBudget: SessionBudget;
  /** Shared with the NETCONF pools (app/netconf-pools.ts): one cap on concurrent logins per process. */
  readonly connectLimiter: ConnectLimiter;
  readonly #opts: PoolRegistryOptions;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #log: Logger;
  readonly #slots = new Map<string, Slot>();
  /** Pools of deleted/drained devices still closing sessions (awaited by closeAll). */
  readonly #leaving = new Set<DevicePool<DeviceSession>>();
  #closed = false;

  constructor(opts: PoolRegistryOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#random = opts.random ?? systemRandom;
    this.#log = opts.logger;
    this.connectLimiter = new ConnectLimiter(opts.config.limits.maxConcurrentConnects);
    this.sessionBudget = new SessionBudget(opts.config.limits.maxTotalSessions);
  }

  /** The device's SSH pool; DEVICE_NOT_FOUND when the inventory has no such device. */
  sshPool(deviceId: string): DevicePool<DeviceSession> {
    const slot = this.#slots.get(deviceId);
    if (!slot) throw new WarmpoolError('DEVICE_NOT_FOUND', `device "${deviceId}" not found`, { device: deviceId });
    return slot.pool;
  }

  /**
   * Add the device, or bring its pool in step with its changed spec: 'changed' retires the
   * sessions built from the old connection settings, 'resized' updates sizes and timeouts in place.
   */
  upsert(device: DeviceSpec): UpsertResult {
    if (this.#closed) {
      // An inventory change racing shutdown: nothing to build pools for any more. Not an
      // error, because this runs inside inventory change listeners.
      this.#log.warn({ device: device.id }, 'inventory change ignored: shutting down');
      return 'unchanged';
    }
    const key = connectionKey(device);
    const slot = this.#slots.get(device.id);
    if (!slot) {
      this.#slots.set(device.id, { spec: device, key, pool: this.#newPool(device) });
      return 'added';
    }
    const old = slot.spec;
    slot.spec = device;
    if (slot.key !== key) {
      slot.key = key;
      this.#log.info({ device: device.id }, 'device connection settings changed: retiring its sessions');
      slot.pool.retire(this.#opts.sshFactory(device), device.pool);
      return 'changed';
    }
    if (JSON.stringify(old.pool) !== JSON.stringify(device.pool)) {
      slot.pool.updateSettings(device.pool);
      return 'resized';
    }
    return 'unchanged';
  }

  /**
   * Retire the sessions of every device `which` picks (a bastion they go through changed or
   * left): idle sessions close now, busy ones on release, new ones open through the current
   * settings. Returns how many pools were retired.
   */
  retireDevices(which: (d: DeviceSpec) => boolean): number {
    let n = 0;
    for (const slot of this.#slots.values()) {
      if (!which(slot.spec)) continue;
      slot.pool.retire(this.#opts.sshFactory(slot.spec), slot.spec.pool);
      n++;
    }
    return n;
  }

  /** Delete a device: its pool drains (busy sessions finish) and is closed when empty. */
  remove(deviceId: string): boolean {
    const slot = this.#slots.get(deviceId);
    if (!slot) return false;
    this.#slots.delete(deviceId);
    this.#retireWhole(slot.pool);
    return true;
  }

  /**
   * Admin DrainDevice: recycle the device's sessions — idle ones close now, busy ones when
   * released — while the device stays usable: waiting and later requests get fresh sessions.
   * Done with the same pool (retire), not a new one, so old sessions still closing keep
   * counting against the device's max (its vty lines). Resolves at once with the counts.
   */
  async drainDevice(deviceId: string): Promise<{ closedIdle: number; closingBusy: number }> {
    const slot = this.#slots.get(deviceId);
    if (!slot) throw new WarmpoolError('DEVICE_NOT_FOUND', `device "${deviceId}" not found`, { device: deviceId });
    return slot.pool.retire();
  }

  stats(filter?: string[]): PoolStats[] {
    const out: PoolStats[] = [];
    if (filter && filter.length > 0) {
      for (const id of filter) {
        const slot = this.#slots.get(id);
        if (slot) out.push(slot.pool.stats());
      }
    } else {
      for (const slot of this.#slots.values()) out.push(slot.pool.stats());
    }
    return out;
  }

  /**
   * Shutdown: every pool drains and closes. The grace for calls in flight is the server's
   * one timer (shutdown.graceMs, server.ts), which runs before this is called.
   */
  async closeAll(): Promise<void> {
    this.#closed = true;
    const pools = [...[...this.#slots.values()].map((s) => s.pool), ...this.#leaving];
    this.#slots.clear();
    await Promise.all(pools.map((p) => p.drain()));
    await Promise.all(pools.map((p) => p.close()));
    this.#leaving.clear();
  }

  #retireWhole(pool: DevicePool<DeviceSession>): void {
    this.#leaving.add(pool);
    void pool.drain();
    void pool.whenEmpty().then(() => pool.close()).then(() => this.#leaving.delete(pool));
  }

  #newPool(d: DeviceSpec): DevicePool<DeviceSession> {
    const { config } = this.#opts;
    const pool = new DevicePool<DeviceSession>({
      device: d.id,
      protocol: 'ssh',
      settings: d.pool,
      factory: this.#opts.sshFactory(d),
      clock: this.#clock,
      random: this.#random,
      connectLimiter: this.connectLimiter,
      sessionBudget: this.sessionBudget,
      breaker: config.breaker,
      backoff: { baseMs: 250, maxMs: Math.max(250, Math.min(10_000, config.breaker.maxOpenMs)) },
      healthCheckAfterMs: d.ssh.healthCheckAfterMs,
      keepaliveIntervalMs: d.ssh.appKeepaliveMs,
      lifetimeJitter: this.#opts.lifetimeJitter ?? 0.1,
      ...(this.#opts.observer ? { observer: this.#opts.observer } : {}),
      logger: this.#log,
    });
    pool.start();
    return pool;
  }
}

/**
 * Everything that decides what a session to this device IS; a difference means existing
 * sessions are stale. Secrets count as src/core/fingerprint.ts says (inline: a keyed hash of
 * the value; file: the path, the content is re-read at the next connect, so sessions already
 * logged in stay). Labels, source and pool sizes are not connection-relevant.
 */
export function connectionKey(d: DeviceSpec): string {
  return specFingerprint([
    d.host, d.port, d.platform, d.mode, d.username,
    d.password, d.privateKey, d.passphrase, d.enableSecret,
    d.hostKey.fingerprints ?? null, d.hostKey.knownHostsFile ?? null, d.hostKey.acceptAny ?? false,
    d.prompt ?? null, d.pagingCommand ?? null, d.enableCommand ?? null,
    d.ssh, d.via ?? null,
  ]);
}

