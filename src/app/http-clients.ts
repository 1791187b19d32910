/**
 * HttpClients: the DeviceHttpClient of every device with an HTTP API, created on first use.
 * When a device's spec changes (inventory reload, PutDevice), the old client is closed
 * gracefully (in-flight requests finish) and a new one is created for the next request.
 */
import type { AppConfig, DeviceSpec } from '../config/types.js';
import { WarmpoolError } from '../core/errors.js';
import { specFingerprint } from '../core/fingerprint.js';
import type { PoolStats } from '../pool/types.js';
import { DeviceHttpClient, type BreakerSettings, type DeviceHttpClientOptions } from '../drivers/http/client.js';

/** Breaker settings come from `breaker`, else from `config.breaker` (the daemon passes its AppConfig). */
export type HttpClientsOptions = Omit<DeviceHttpClientOptions, 'device' | 'breaker'> &
  ({ breaker: BreakerSettings; config?: Pick<AppConfig, 'breaker'> } | { breaker?: BreakerSettings; config: Pick<AppConfig, 'breaker'> });

/**
 * What a client depends on, as a string. Secrets count as src/core/fingerprint.ts says: inline
 * ones by a keyed hash of their value (a PutDevice re-sending the same token keeps the client),
 * file ones by path.
 */
function httpFingerprint(device: DeviceSpec): string {
  return specFingerprint(device.http ?? null);
}

interface Entry {
  spec: DeviceSpec;
  fingerprint: string;
  client: DeviceHttpClient;
}

export class HttpClients {
  readonly #opts: Omit<DeviceHttpClientOptions, 'device'>;
  readonly #entries = new Map<string, Entry>();
  #closed = false;

  constructor(opts: HttpClientsOptions) {
    const { config, breaker, clock, random, observer, logger } = opts;
    this.#opts = { clock, random, observer, logger, breaker: breaker ?? config!.breaker };
  }

  /** The device's client, created or replaced as needed. Throws INVALID_ARGUMENT when the device has no HTTP API. */
  get(device: DeviceSpec): DeviceHttpClient {
    if (this.#closed) throw new WarmpoolError('POOL_CLOSED', `device ${device.id}: HTTP clients are shut down`, { device: device.id });
    if (!device.http) {
      throw new WarmpoolError('INVALID_ARGUMENT', `device ${device.id}: has no HTTP API configured`, { device: device.id, field: 'http' });
    }
    const cur = this.#entries.get(device.id);
    if (cur && cur.spec === device) return cur.client;
    const fingerprint = httpFingerprint(device);
    if (cur && cur.fingerprint === fingerprint) {
      cur.spec = device;
      return cur.client;
    }
    const client = new DeviceHttpClient({ ...this.#opts, device });
    this.#entries.set(device.id, { spec: device, fingerprint, client });
    if (cur) void cur.client.close();
    return client;
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** Closes the device's client gracefully (device deleted or drained). */
  async remove(id: string): Promise<void> {
    const cur = this.#entries.get(id);
    if (!cur) return;
    this.#entries.delete(id);
    await cur.client.close();
  }

  stats(ids?: readonly string[]): PoolStats[] {
    const out: PoolStats[] = [];
    for (const [id, e] of this.#entries) if (!ids || ids.length === 0 || ids.includes(id)) out.push(e.client.stats());
    return out;
  }

  /**
   * Shutdown: close every client, letting requests in flight finish for up to `graceMs`, then
   * destroy what is left. WHY: a graceful undici close waits for every request it holds; one
   * stuck request (a device that never answers, a request without a timeout) must not hold the
   * daemon's exit open.
   */
  async closeAll(graceMs = 2000): Promise<void> {
    this.#closed = true;
    const all = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(all.map(async (e) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), graceMs)));
      const outcome = await Promise.race([e.client.close().then(() => 'closed' as const), late]);
      clearTimeout(timer);
      if (outcome === 'late') await e.client.destroy();
    }));
  }
}
