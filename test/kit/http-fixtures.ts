/**
 * Shared pieces of the test/http-*.test.ts files (not a test itself): a DeviceSpec with an
 * HTTP API, a client on the system clock, a logger whose lines can be inspected, and a fake clock.
 */
import { Writable } from 'node:stream';
import type { DeviceSpec, HttpSpec } from '../../src/config/types.js';
import { DeviceHttpClient, type BreakerSettings } from '../../src/drivers/http/client.js';
import { createLogger, silentLogger, type Logger } from '../../src/core/logger.js';
import { systemClock, systemRandom, type Clock, type TimerHandle } from '../../src/core/clock.js';
import type { PoolObserver } from '../../src/pool/types.js';

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
    pool: { min: 0, max: 2, idleTimeoutMs: 300_000, maxLifetimeMs: 3_600_000, acquireTimeoutMs: 10_000, maxWaiting: 64 },
    ssh: { connectTimeoutMs: 10_000, keepaliveIntervalMs: 15_000, keepaliveCountMax: 3, commandTimeoutMs: 30_000, appKeepaliveMs: 0, healthCheckAfterMs: 0, legacyAlgorithms: false, maxOutputBytes: 4 * 1024 * 1024 },
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

/** Manual clock: `now()` moves only with advance(); timers fire during advance(). */
export class FakeClock implements Clock {
  #now = 1_000;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 0;
  now(): number {
    return this.#now;
  }
  wallNow(): number {
    return 1_700_000_000_000 + this.#now;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.#next;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return { __timer: id };
  }
  clearTimeout(h: TimerHandle): void {
    this.#timers.delete(h.__timer as number);
  }
  advance(ms: number): void {
    this.#now += ms;
    for (const [id, t] of [...this.#timers]) {
      if (t.at <= this.#now) {
        this.#timers.delete(id);
        t.fn();
      }
    }
  }
}

export { systemRandom };
