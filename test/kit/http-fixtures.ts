/**
 * Shared pieces of the test/http-*.test.ts files (not a test itself): a DeviceSpec with an
 * HTTP API, a client on the system clock (or an injected one), and a logger whose lines can be inspected.
 */
import { Writable } from 'node:stream';
import type { DeviceSpec, HttpSpec } from '../../src/config/types.js';
import { DeviceHttpClient, type BreakerSettings } from '../../src/drivers/http/client.js';
import { createLogger, silentLogger, type Logger } from '../../src/core/logger.js';
import { systemClock, type Clock } from '../../src/core/clock.js';
import type { PoolObserver } from '../../src/pool/types.js';
import { testPoolSettings, testSshSettings } from './settings.js';

export function httpDevice(id: string, http: Partial<HttpSpec> & { baseUrl: string }): DeviceSpec {
  return {
    id,
    host: '127.0.0.1',
    port: 22,
    platform: 'arista_eos',
    mode: 'shell',
    username: 'netops',
    hostKey: { acceptAny: true },
    labels: {},
    pool: { ...testPoolSettings },
    ssh: { ...testSshSettings },
    http: {
      auth: { type: 'none' },
      tls: {},
      maxConnections: 4,
      maxResponseBytes: 1 << 20,
      connectTimeoutMs: 2_000,
      requestTimeoutMs: 10_000,
      ...http,
    },
    source: 'api',
  };
}

export const BREAKER: BreakerSettings = { failureThreshold: 3, openMs: 5_000, maxOpenMs: 60_000 };

export function makeClient(device: DeviceSpec, opts: { logger?: Logger; clock?: Clock; breaker?: BreakerSettings; observer?: PoolObserver } = {}): DeviceHttpClient {
  return new DeviceHttpClient({
    device,
    clock: opts.clock ?? systemClock,
    random: () => 0,
    breaker: opts.breaker ?? BREAKER,
    logger: opts.logger ?? silentLogger,
    ...(opts.observer ? { observer: opts.observer } : {}),
  });
}

/** A pino logger writing into `lines` (JSON strings). */
export function captureLogger(level = 'debug'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { logger: createLogger(level, dest as unknown as Parameters<typeof createLogger>[1]), lines };
}

/** The kit's one fake clock (fake-clock.ts), re-exported for the HTTP tests that import it from here. */
export { FakeClock } from './fake-clock.js';
