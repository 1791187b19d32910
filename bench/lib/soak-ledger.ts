/**
 * Bookkeeping for the soak: every call started is either completed with a status or caught
 * by its watchdog (deadline + slack). A call the watchdog catches is a failure even if it
 * returns later: a client must never have to out-wait its own deadline.
 */
import { status as Status } from '@grpc/grpc-js';
import { summarize, type Row } from './stats.js';

/** What a caller may get from a healthy daemon while devices misbehave (docs/api.md, "Status codes"). */
export const EXPECTED_STATUSES: ReadonlySet<number> = new Set([
  Status.OK,
  Status.CANCELLED,
  Status.DEADLINE_EXCEEDED,
  Status.UNAVAILABLE,
  Status.RESOURCE_EXHAUSTED,
]);

export const statusName = (code: number): string => Status[code] ?? String(code);

export class CallLedger {
  started = 0;
  completed = 0;
  /** rpc → status name → count. */
  readonly counts = new Map<string, Map<string, number>>();
  /** rpc → latencies (ms) of every completed call. */
  readonly latencies = new Map<string, number[]>();
  readonly hung: string[] = [];
  readonly unexpected: string[] = [];
  readonly #open = new Set<string>();
  #seq = 0;

  readonly #slackMs: number;

  constructor(slackMs: number) {
    this.#slackMs = slackMs;
  }

  get inFlight(): number {
    return this.#open.size;
  }

  /**
   * Runs one call. `start` gets a `done(code, details)` to call exactly once. Resolves when
   * the call completes or its watchdog fires, so a caller loop can never block for good.
   */
  track(rpc: string, what: string, deadlineMs: number, start: (done: (code: number, details: string) => void) => void): Promise<void> {
    const id = `${rpc}#${++this.#seq}`;
    this.started++;
    this.#open.add(id);
    const t0 = performance.now();
    return new Promise<void>((resolve) => {
      let finished = false;
      const watchdog = setTimeout(() => {
        if (finished) return;
        this.hung.push(`${rpc} ${what}: no reply ${deadlineMs + this.#slackMs} ms after start (deadline ${deadlineMs} ms)`);
        resolve();
      }, deadlineMs + this.#slackMs);
      const done = (code: number, details: string) => {
        if (finished) return;
        finished = true;
        clearTimeout(watchdog);
        this.#open.delete(id);
        this.completed++;
        this.count(rpc, code, details, what);
        const list = this.latencies.get(rpc) ?? [];
        list.push(performance.now() - t0);
        this.latencies.set(rpc, list);
        resolve();
      };
      try {
        start(done);
      } catch (err) {
        done(Status.INTERNAL, `client threw: ${String(err)}`);
      }
    });
  }

  /** A status seen without a call of its own (a per-device error inside a RunMany stream). */
  count(rpc: string, code: number, details: string, what: string): void {
    const byStatus = this.counts.get(rpc) ?? new Map<string, number>();
    byStatus.set(statusName(code), (byStatus.get(statusName(code)) ?? 0) + 1);
    this.counts.set(rpc, byStatus);
    if (!EXPECTED_STATUSES.has(code) && this.unexpected.length < 50) this.unexpected.push(`${rpc} ${statusName(code)} (${what}): ${details}`);
  }

  unexpectedTotal(): number {
    let n = 0;
    for (const byStatus of this.counts.values()) {
      for (const [name, c] of byStatus) if (!EXPECTED_STATUSES.has(Status[name as keyof typeof Status] as number)) n += c;
    }
    return n;
  }

  rows(): Row[] {
    return [...this.latencies].sort(([a], [b]) => a.localeCompare(b)).map(([rpc, l]) => summarize(rpc, l));
  }
}
