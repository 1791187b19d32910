import { LRUCache } from 'lru-cache';
import type { ValidRun } from './requests.js';

/**
 * Result cache and request coalescing for Run (docs/api.md, "Semantics clients rely on": Cache).
 *
 * - Key: (device, mode, privileged, commands, expect). configure requests never enter.
 * - An entry lives for the TTL of the request that stored it; a request accepts an entry
 *   no older than its own cache_ttl_ms.
 * - Bounded by entry count and by bytes (output sizes), so a burst of large
 *   `show running-config` replies cannot grow memory without bound.
 * - Identical requests in flight at the same time share one device round trip.
 */
export interface CacheValue<T> {
  at: number;
  value: T;
}

export type CacheOutcome = 'hit' | 'miss' | 'coalesced';

export class ResultCache<T extends object> {
  readonly #lru: LRUCache<string, CacheValue<T>>;
  readonly #inflight = new Map<string, Promise<T>>();
  readonly #byDevice = new Map<string, Set<string>>();
  readonly #now: () => number;

  constructor(opts: { maxEntries: number; maxBytes: number; sizeOf: (v: T) => number; now: () => number }) {
    this.#now = opts.now;
    this.#lru = new LRUCache<string, CacheValue<T>>({
      max: Math.max(1, opts.maxEntries),
      maxSize: Math.max(1, opts.maxBytes),
      sizeCalculation: (v) => Math.max(1, opts.sizeOf(v.value)),
      perf: { now: opts.now },
      ttlAutopurge: false,
      dispose: (_v, key) => this.#forget(key),
    });
  }

  static keyOf(device: string, mode: string, run: ValidRun): string {
    return JSON.stringify([device, mode, run.privileged, run.expectSource, run.commands]);
  }

  /**
   * Serve from cache, join an identical in-flight request, or run `load`.
   * `ttlMs` must be > 0 (callers bypass the cache otherwise).
   */
  async get(device: string, key: string, ttlMs: number, load: () => Promise<T>): Promise<{ value: T; outcome: CacheOutcome }> {
    const hit = this.#lru.get(key);
    if (hit && this.#now() - hit.at <= ttlMs) return { value: hit.value, outcome: 'hit' };
    const pending = this.#inflight.get(key);
    if (pending) return { value: await pending, outcome: 'coalesced' };
    const p = load();
    this.#inflight.set(key, p);
    try {
      const value = await p;
      this.#lru.set(key, { at: this.#now(), value }, { ttl: ttlMs });
      let keys = this.#byDevice.get(device);
      if (!keys) this.#byDevice.set(device, (keys = new Set()));
      keys.add(key);
      return { value, outcome: 'miss' };
    } finally {
      this.#inflight.delete(key);
    }
  }

  /** Drop every entry of a device (after a configure request, or when the device changes). */
  invalidateDevice(device: string): void {
    const keys = this.#byDevice.get(device);
    if (!keys) return;
    this.#byDevice.delete(device);
    for (const k of keys) this.#lru.delete(k);
  }

  get size(): number {
    return this.#lru.size;
  }

  get bytes(): number {
    return this.#lru.calculatedSize;
  }

  #forget(key: string): void {
    const device = (JSON.parse(key) as [string])[0];
    const keys = this.#byDevice.get(device);
    if (keys) {
      keys.delete(key);
      if (keys.size === 0) this.#byDevice.delete(device);
    }
  }
}
