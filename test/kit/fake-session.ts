import { WarmpoolError } from '../../src/core/errors.js';
import type { Clock } from '../../src/core/clock.js';
import type { PoolObserver, Session, SessionFactory } from '../../src/pool/types.js';
import type { PoolSettings } from '../../src/config/types.js';
import { silentLogger } from '../../src/core/logger.js';
import { DevicePool, type DevicePoolOptions } from '../../src/pool/pool.js';
import { ConnectLimiter, SessionBudget } from '../../src/pool/limits.js';
import { FakeClock, seededRandom } from './fake-clock.js';

/** Resolves after ms on the given clock (immediately-ish for 0); rejects CANCELLED on abort. */
function delay(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 && !signal) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new WarmpoolError('CANCELLED', 'aborted'));
    const onAbort = (): void => {
      clock.clearTimeout(h);
      reject(new WarmpoolError('CANCELLED', 'aborted'));
    };
    const h = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A controllable Session: probe/keepalive results and delays, self-close on demand. */
export class FakeSession implements Session {
  readonly id: string;
  dirty = false;
  closed = false;
  closeCalls = 0;
  probeCalls = 0;
  keepaliveCalls = 0;
  /** Set to make the next probes / keepalives reject. */
  probeError: Error | undefined;
  keepaliveError: Error | undefined;
  probeDelayMs = 0;
  keepaliveDelayMs = 0;
  closeDelayMs = 0;
  /** True while probe() or keepalive() runs (to check they never overlap a lease). */
  inCall = false;
  #listeners: ((err?: Error) => void)[] = [];
  #ended = false;

  readonly #clock: Clock;

  constructor(id: string, clock: Clock) {
    this.id = id;
    this.#clock = clock;
  }

  async probe(): Promise<void> {
    this.probeCalls++;
    this.inCall = true;
    try {
      await delay(this.#clock, this.probeDelayMs);
      if (this.probeError) throw this.probeError;
    } finally {
      this.inCall = false;
    }
  }

  async keepalive(): Promise<void> {
    this.keepaliveCalls++;
    this.inCall = true;
    try {
      await delay(this.#clock, this.keepaliveDelayMs);
      if (this.keepaliveError) throw this.keepaliveError;
    } finally {
      this.inCall = false;
    }
  }

  async close(): Promise<void> {
    this.closeCalls++;
    await delay(this.#clock, this.closeDelayMs);
    this.closed = true;
  }

  onClose(listener: (err?: Error) => void): void {
    this.#listeners.push(listener);
  }

  /** The peer closes the session (fires onClose listeners once). */
  kill(err?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.closed = true;
    for (const l of this.#listeners) l(err);
  }
}

/** Outcome of one open(): a session (optionally configured) or an error. */
export type OpenPlan = 'ok' | Error;

/**
 * A SessionFactory whose opens take `openDelayMs` on the fake clock and follow `plan`
 * (consumed in order; 'ok' once it is empty). Counts calls and concurrency.
 */
export class FakeFactory implements SessionFactory<FakeSession> {
  openDelayMs = 0;
  plan: OpenPlan[] = [];
  calls = 0;
  inFlight = 0;
  maxInFlight = 0;
  aborted = 0;
  readonly sessions: FakeSession[] = [];
  /** Called on every new session before it is returned. */
  configure: ((s: FakeSession) => void) | undefined;

  readonly #clock: Clock;
  readonly #prefix: string;

  constructor(clock: Clock, prefix = 's') {
    this.#clock = clock;
    this.#prefix = prefix;
  }

  async open(signal: AbortSignal): Promise<FakeSession> {
    this.calls++;
    const step = this.plan.shift() ?? 'ok';
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await delay(this.#clock, this.openDelayMs, signal);
    } catch (err) {
      this.aborted++;
      throw err;
    } finally {
      this.inFlight--;
    }
    if (step !== 'ok') throw step;
    const s = new FakeSession(`${this.#prefix}${this.sessions.length + 1}`, this.#clock);
    this.configure?.(s);
    this.sessions.push(s);
    return s;
  }

  /** Sessions opened and not closed (by us or by their peer). */
  get open_(): FakeSession[] {
    return this.sessions.filter((s) => !s.closed);
  }
}

// ---- a DevicePool wired to fakes, for the pool tests ----


export const testSettings: PoolSettings = {
  min: 0, max: 2, idleTimeoutMs: 60_000, maxLifetimeMs: 0, acquireTimeoutMs: 5_000, maxWaiting: 10,
};

export interface TestPool {
  clock: FakeClock;
  factory: FakeFactory;
  pool: DevicePool<FakeSession>;
  events: string[];
  limiter: ConnectLimiter;
  budget: SessionBudget;
}

/** An observer that records every call as a short string. */
export function recordingObserver(events: string[]): PoolObserver {
  return {
    sessionOpened: (d, _p, r) => events.push(`opened:${d}:${r}`),
    acquired: (d) => events.push(`acquired:${d}`),
    sessionClosed: (d, _p, reason) => events.push(`closed:${d}:${reason}`),
    circuitChanged: (d, _p, s) => events.push(`circuit:${d}:${s}`),
  };
}

export function makeTestPool(
  settings: Partial<PoolSettings> = {},
  over: Partial<DevicePoolOptions<FakeSession>> & { clock?: FakeClock; factory?: FakeFactory } = {},
): TestPool {
  const clock = over.clock ?? new FakeClock();
  const factory = over.factory ?? new FakeFactory(clock);
  const events: string[] = [];
  const limiter = over.connectLimiter ?? new ConnectLimiter(100);
  const budget = over.sessionBudget ?? new SessionBudget(10_000);
  const pool = new DevicePool<FakeSession>({
    device: 'sw1', protocol: 'ssh', settings: { ...testSettings, ...settings }, factory, clock,
    random: seededRandom(1), connectLimiter: limiter, sessionBudget: budget,
    breaker: { failureThreshold: 3, openMs: 1000, maxOpenMs: 8000 },
    backoff: { baseMs: 100, maxMs: 1000 },
    healthCheckAfterMs: 30_000, keepaliveIntervalMs: 0, lifetimeJitter: 0,
    observer: recordingObserver(events), logger: silentLogger,
    ...over,
  });
  return { clock, factory, pool, events, limiter, budget };
}
