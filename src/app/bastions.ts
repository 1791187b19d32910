import type { AppConfig, BastionSpec } from '../config/types.js';
import type { Clock, Random } from '../core/clock.js';
import { WarmpoolError } from '../core/errors.js';
import { specFingerprint } from '../core/fingerprint.js';
import type { Logger } from '../core/logger.js';
import type { PoolObserver } from '../core/pool-stats.js';
import { BastionPool, type BastionStats } from '../transport/bastion-pool.js';
import { tcpConnector, type Connector } from '../transport/connector.js';

export interface BastionRegistryOptions {
  breaker: AppConfig['breaker'];
  clock: Clock;
  random: Random;
  observer?: PoolObserver;
  logger: Logger;
}

interface Slot {
  key: string;
  pool: BastionPool;
}

/**
 * The bastions of the inventory file, each a BastionPool, kept in step with reloads.
 *
 * Bastions come from the file only (docs/api.md, "Bastions": the Inventory API can point a
 * device at one but not define one). At reload a bastion whose settings changed, or that
 * reaches the daemon through one that changed (chains), is retired: its old connections take
 * no new channel and close when their last device session has gone; a new pool takes over. The
 * caller retires the device pools behind it (`replace` returns their bastion ids) so that no
 * device session outlives the settings it was opened with.
 */
export class BastionRegistry {
  readonly #opts: BastionRegistryOptions;
  readonly #slots = new Map<string, Slot>();
  /** Retired pools whose connections may still carry device sessions (closed at shutdown). */
  readonly #leaving = new Set<BastionPool>();
  #closed = false;

  constructor(opts: BastionRegistryOptions) {
    this.#opts = opts;
  }

  has(id: string): boolean {
    return this.#slots.has(id);
  }

  get ids(): string[] {
    return [...this.#slots.keys()];
  }

  /**
   * Bring the set in step with `specs` (already validated: every via exists, no cycles). Returns
   * the ids of bastions that changed or left, including every bastion reached through one of
   * them: devices `via` any of these must retire their sessions.
   */
  replace(specs: BastionSpec[]): Set<string> {
    if (this.#closed) return new Set();
    const incoming = new Map(specs.map((b) => [b.id, b]));
    const keys = new Map(specs.map((b) => [b.id, specFingerprint(b)]));
    const changed = new Set<string>();
    for (const [id, slot] of this.#slots) {
      if (keys.get(id) !== slot.key) changed.add(id);
    }
    // A bastion reached through a changed one changes too: its connections ride on the old channels.
    for (let grew = true, rounds = 0; grew && rounds <= specs.length; rounds++) {
      grew = false;
      for (const b of specs) {
        if (b.via !== undefined && changed.has(b.via) && !changed.has(b.id) && this.#slots.has(b.id)) {
          changed.add(b.id);
          grew = true;
        }
      }
    }
    for (const id of changed) {
      const slot = this.#slots.get(id);
      if (!slot) continue;
      slot.pool.retire();
      this.#leaving.add(slot.pool);
      this.#slots.delete(id);
      this.#opts.logger.info({ bastion: id, removed: !incoming.has(id) }, incoming.has(id) ? 'bastion settings changed: retiring its connections' : 'bastion removed: retiring its connections');
    }
    for (const b of specs) {
      if (this.#slots.has(b.id)) continue;
      this.#slots.set(b.id, { key: keys.get(b.id) as string, pool: this.#newPool(b) });
      if (b.hostKey.acceptAny) this.#opts.logger.warn({ bastion: b.id }, 'host-key checking is off for this bastion (hostKey.acceptAny)');
    }
    return changed;
  }

  /**
   * The connector for whatever is reached through bastion `id`, looked up at each connect, so
   * a device keeps working across a reload that replaced the bastion's pool.
   */
  connector(id: string): Connector {
    return (target) => {
      const slot = this.#slots.get(id);
      if (!slot) {
        return Promise.reject(new WarmpoolError('CHANNEL_OPEN_FAILED', `device ${target.deviceId}: via bastion ${id}: no such bastion in the inventory file (removed at a reload?)`, { device: target.deviceId }));
      }
      return slot.pool.connector(target);
    };
  }

  stats(ids?: string[]): BastionStats[] {
    const out: BastionStats[] = [];
    for (const [id, slot] of this.#slots) if (!ids || ids.length === 0 || ids.includes(id)) out.push(slot.pool.stats());
    return out;
  }

  /** Shutdown (after the device pools closed): every bastion connection closes now. */
  closeAll(): void {
    this.#closed = true;
    for (const slot of this.#slots.values()) slot.pool.close();
    for (const pool of this.#leaving) pool.close();
    this.#slots.clear();
    this.#leaving.clear();
  }

  #newPool(b: BastionSpec): BastionPool {
    const o = this.#opts;
    return new BastionPool({
      spec: b,
      connector: b.via === undefined ? tcpConnector : this.connector(b.via),
      clock: o.clock,
      random: o.random,
      breaker: o.breaker,
      ...(o.observer ? { observer: o.observer } : {}),
      logger: o.logger,
    });
  }
}
