/**
 * NetconfPools: the NETCONF pool (PoolStats.protocol "netconf") of every device that speaks
 * NETCONF, beside its SSH pool (app/ssh-pools.ts) and HTTP client (app/http-clients.ts).
 *
 * - A device with `mode: netconf` or a `netconf:` block gets its pool when it enters the
 *   inventory, so `pool.min` prewarms NETCONF sessions; any other device gets one at its first
 *   Netconf call (the contract's default: NETCONF on the device's SSH port).
 * - The pool uses the device's `pool` settings and shares the daemon's connect limiter and
 *   session budget with the SSH pools (a NETCONF session is one SSH connection).
 * - A changed device (connection settings, NETCONF port): sessions built from the old spec are
 *   retired (idle now, busy on release), as for SSH; a deleted device's pool drains and closes.
 * - The capabilities of the newest session's <hello> are kept per device for GetDevice.
 */
import type { AppConfig, DeviceSpec } from '../config/types.js';
import { systemClock, systemRandom, type Clock, type Random } from '../core/clock.js';
import { WarmpoolError } from '../core/errors.js';
import { specFingerprint } from '../core/fingerprint.js';
import type { Logger } from '../core/logger.js';
import type { NetconfSession } from '../drivers/netconf/session.js';
import type { ConnectLimiter, SessionBudget } from '../pool/limits.js';
import { DevicePool } from '../pool/pool.js';
import type { PoolObserver, PoolStats, SessionFactory } from '../pool/types.js';

export interface NetconfPoolsOptions {
  config: Pick<AppConfig, 'breaker'>;
  factory: (d: DeviceSpec) => SessionFactory<NetconfSession>;
  connectLimiter: ConnectLimiter;
  sessionBudget: SessionBudget;
  clock?: Clock;
  random?: Random;
  observer?: PoolObserver;
  logger: Logger;
}

interface Slot {
  spec: DeviceSpec;
  key: string;
  pool: DevicePool<NetconfSession>;
}

/** Does the device declare NETCONF (its pool is kept from the start)? */
export function declaresNetconf(d: DeviceSpec): boolean {
  return d.mode === 'netconf' || d.netconf !== undefined;
}

/** What a NETCONF session to the device is made of; a difference retires the old sessions. */
function netconfKey(d: DeviceSpec): string {
  return specFingerprint({
    host: d.host, port: d.port, netconf: d.netconf ?? null, username: d.username,
    password: d.password ?? null, privateKey: d.privateKey ?? null, passphrase: d.passphrase ?? null,
    hostKey: d.hostKey, ssh: d.ssh,
  });
}

export class NetconfPools {
  readonly #opts: NetconfPoolsOptions;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #slots = new Map<string, Slot>();
  readonly #leaving = new Set<DevicePool<NetconfSession>>();
  readonly #capabilities = new Map<string, readonly string[]>();
  #closed = false;

  constructor(opts: NetconfPoolsOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#random = opts.random ?? systemRandom;
  }

  /** The device's NETCONF pool, created (or renewed after a spec change) as needed. */
  pool(device: DeviceSpec): DevicePool<NetconfSession> {
    if (this.#closed) throw new WarmpoolError('POOL_CLOSED', `device "${device.id}": NETCONF pools are shut down`, { device: device.id });
    const slot = this.#slots.get(device.id);
    if (slot && slot.spec === device) return slot.pool;
    this.upsert(device, true);
    return (this.#slots.get(device.id) as Slot).pool;
  }

  /** Inventory change: keep, resize or retire the device's pool; create it when the device declares NETCONF (or `force`). */
  upsert(device: DeviceSpec, force = false): void {
    if (this.#closed) return;
    const slot = this.#slots.get(device.id);
    if (!slot) {
      if (!force && !declaresNetconf(device)) return;
      this.#slots.set(device.id, { spec: device, key: netconfKey(device), pool: this.#newPool(device) });
      return;
    }
    const old = slot.spec;
    slot.spec = device;
    const key = netconfKey(device);
    if (key !== slot.key) {
      slot.key = key;
      this.#capabilities.delete(device.id);
      slot.pool.retire(this.#factory(device), device.pool);
    } else if (specFingerprint(old.pool) !== specFingerprint(device.pool)) {
      slot.pool.updateSettings(device.pool);
    }
  }

  remove(id: string): void {
    const slot = this.#slots.get(id);
    if (!slot) return;
    this.#slots.delete(id);
    this.#capabilities.delete(id);
    const pool = slot.pool;
    this.#leaving.add(pool);
    void pool.drain();
    void pool.whenEmpty().then(() => pool.close()).then(() => this.#leaving.delete(pool));
  }

  /** Admin DrainDevice: recycle the device's NETCONF sessions (zero counts when it has no pool). */
  drainDevice(id: string): { closedIdle: number; closingBusy: number } {
    const slot = this.#slots.get(id);
    return slot ? slot.pool.retire() : { closedIdle: 0, closingBusy: 0 };
  }

  /** The newest NETCONF session's capabilities for the device (empty until one opened). */
  capabilities(id: string): readonly string[] {
    return this.#capabilities.get(id) ?? [];
  }

  stats(ids?: readonly string[]): PoolStats[] {
    const out: PoolStats[] = [];
    for (const [id, s] of this.#slots) if (!ids || ids.length === 0 || ids.includes(id)) out.push(s.pool.stats());
    return out;
  }

  async closeAll(opts: { graceMs?: number } = {}): Promise<void> {
    this.#closed = true;
    const pools = [...[...this.#slots.values()].map((s) => s.pool), ...this.#leaving];
    this.#slots.clear();
    await Promise.all(pools.map((p) => p.drain()));
    const graceMs = opts.graceMs ?? 0;
    if (graceMs > 0) {
      let timer: ReturnType<Clock['setTimeout']> | undefined;
      const grace = new Promise<void>((resolve) => { timer = this.#clock.setTimeout(resolve, graceMs); });
      await Promise.race([Promise.all(pools.map((p) => p.whenEmpty())), grace]);
      if (timer) this.#clock.clearTimeout(timer);
    }
    await Promise.all(pools.map((p) => p.close()));
    this.#leaving.clear();
  }

  /** The device's factory, remembering each new session's capabilities. */
  #factory(d: DeviceSpec): SessionFactory<NetconfSession> {
    const inner = this.#opts.factory(d);
    return {
      open: async (signal) => {
        const s = await inner.open(signal);
        this.#capabilities.set(d.id, s.capabilities);
        return s;
      },
    };
  }

  #newPool(d: DeviceSpec): DevicePool<NetconfSession> {
    const { config } = this.#opts;
    const pool = new DevicePool<NetconfSession>({
      device: d.id,
      protocol: 'netconf',
      settings: d.pool,
      factory: this.#factory(d),
      clock: this.#clock,
      random: this.#random,
      connectLimiter: this.#opts.connectLimiter,
      sessionBudget: this.#opts.sessionBudget,
      breaker: config.breaker,
      backoff: { baseMs: 250, maxMs: Math.max(250, Math.min(10_000, config.breaker.maxOpenMs)) },
      healthCheckAfterMs: d.ssh.healthCheckAfterMs,
      keepaliveIntervalMs: d.ssh.appKeepaliveMs,
      lifetimeJitter: 0.1,
      ...(this.#opts.observer ? { observer: this.#opts.observer } : {}),
      logger: this.#opts.logger,
    });
    pool.start();
    return pool;
  }
}
