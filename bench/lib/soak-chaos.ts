/**
 * Chaos for the soak, on a timer, driven by a seeded random source so a failing run can be
 * replayed: link resets, blackholes (restored later), device reboots (simulator closed and
 * started again on the same port with the same host key), slow handshakes, refused connects
 * and added latency. One fault at a time per device, so every fault is also lifted.
 * HOSTILE_CALLS (below) are the soak's hostile-output calls, made on a hostile simulated device.
 */
import type { FaultProxy } from '../../test/kit/fault-proxy.js';
import { BINARY_MARKERS, fakePromptOutput } from '../../src/sim/hostile.js';

export interface ChaosTarget {
  id: string;
  proxy: FaultProxy;
  /** Close the simulator and start it again on the same port (a device reboot). */
  reboot(downMs: number): Promise<void>;
}

export type ChaosKind = 'reset' | 'blackhole' | 'reboot' | 'slow-handshake' | 'refuse' | 'latency';
const KINDS: ChaosKind[] = ['reset', 'blackhole', 'reboot', 'slow-handshake', 'refuse', 'latency'];

export class Chaos {
  readonly events = new Map<ChaosKind, number>();
  readonly log: string[] = [];
  readonly #busy = new Set<string>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #pending = new Set<Promise<void>>();
  #stopped = true;
  #t0 = 0;

  readonly #targets: ChaosTarget[];
  readonly #rnd: () => number;
  /** Mean pause between two chaos events, ms. */
  readonly #meanIntervalMs: number;

  constructor(targets: ChaosTarget[], rnd: () => number, meanIntervalMs: number) {
    this.#targets = targets;
    this.#rnd = rnd;
    this.#meanIntervalMs = meanIntervalMs;
  }

  start(): void {
    this.#stopped = false;
    this.#t0 = Date.now();
    this.#schedule();
  }

  /** No new events; lift every fault now and wait for reboots in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await Promise.allSettled([...this.#pending]);
    for (const t of this.#targets) t.proxy.set({});
    this.#busy.clear();
  }

  #later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
  }

  #between(lo: number, hi: number): number {
    return Math.round(lo + this.#rnd() * (hi - lo));
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#later(this.#between(this.#meanIntervalMs * 0.5, this.#meanIntervalMs * 1.5), () => {
      this.#fire();
      this.#schedule();
    });
  }

  #fire(): void {
    const free = this.#targets.filter((t) => !this.#busy.has(t.id));
    if (free.length === 0) return;
    const target = free[Math.floor(this.#rnd() * free.length)] as ChaosTarget;
    const kind = KINDS[Math.floor(this.#rnd() * KINDS.length)] as ChaosKind;
    this.events.set(kind, (this.events.get(kind) ?? 0) + 1);
    const at = ((Date.now() - this.#t0) / 1000).toFixed(1);
    const { proxy } = target;
    // A fault lifted after `ms`; the device takes no other fault meanwhile.
    const hold = (ms: number, what: string) => {
      this.#busy.add(target.id);
      this.log.push(`+${at}s ${target.id}: ${what} for ${ms} ms`);
      this.#later(ms, () => {
        proxy.set({});
        this.#busy.delete(target.id);
      });
    };
    switch (kind) {
      case 'reset':
        this.log.push(`+${at}s ${target.id}: reset ${proxy.connections()} links`);
        proxy.resetAll();
        break;
      case 'blackhole':
        proxy.set({ blackhole: true });
        hold(this.#between(2000, 8000), 'blackhole');
        break;
      case 'slow-handshake': {
        const delay = this.#between(500, 5000);
        proxy.set({ handshakeDelayMs: delay });
        hold(this.#between(5000, 12000), `handshake delay ${delay} ms`);
        break;
      }
      case 'refuse':
        proxy.set({ refuse: this.#rnd() < 0.5 ? 'reset' : 'close' });
        hold(this.#between(1000, 5000), 'refuse new connections');
        break;
      case 'latency': {
        const ms = this.#between(20, 150);
        proxy.set({ latencyMs: ms });
        hold(this.#between(5000, 12000), `latency ${ms} ms each way`);
        break;
      }
      case 'reboot': {
        const down = this.#between(300, 3000);
        this.#busy.add(target.id);
        this.log.push(`+${at}s ${target.id}: reboot, down ${down} ms`);
        const p = target.reboot(down).finally(() => {
          this.#busy.delete(target.id);
          this.#pending.delete(p);
        });
        this.#pending.add(p);
        break;
      }
    }
  }
}

/**
 * Hostile outputs for the soak (src/sim/hostile.ts, on a simulated device started with
 * `hostile: true`): each a call whose right answer is a specific status, never a hang. Small
 * command timeouts keep one hostile call from holding a session for long; chaos on the same
 * device may turn any of them into UNAVAILABLE.
 */
export interface HostileCall {
  /** Label in the soak's status table, e.g. "Run(hostile flood)". */
  label: string;
  rpc: 'Run' | 'RunStream';
  commands: string[];
  commandTimeoutMs: number;
  deadlineMs: number;
  /** What a daemon with output caps and robust end-of-output detection answers without chaos. */
  expect: 'OK' | 'RESOURCE_EXHAUSTED' | 'DEADLINE_EXCEEDED' | 'UNAVAILABLE';
  /** For an OK answer (Run): what is wrong with the commands' outputs, undefined when right. */
  verify?: (outputs: string[]) => string | undefined;
}

/** The hostile device's prompt between calls: the simulator's default IOS host name, user level. */
const HOSTILE_PROMPT = 'Router>';

function verifyBinary(outputs: string[]): string | undefined {
  const out = outputs[0] ?? '';
  let at = -1;
  for (const m of BINARY_MARKERS) {
    const i = out.indexOf(m, at + 1);
    if (i <= at) return `marker ${m} missing or out of order`;
    at = i;
  }
  if (/[\x00-\x08\x0b-\x1f\x7f\x1b]/.test(out)) return 'control characters left in the output';
  return /^\*\d\d:\d\d:\d\d/.test(outputs[1] ?? '') ? undefined : `the next command's output is wrong: ${JSON.stringify((outputs[1] ?? '').slice(0, 80))}`;
}

function verifyFakePrompt(outputs: string[]): string | undefined {
  if (outputs[0] !== fakePromptOutput(HOSTILE_PROMPT)) return `output cut or changed: ${JSON.stringify((outputs[0] ?? '').slice(0, 120))}`;
  return /^\*\d\d:\d\d:\d\d/.test(outputs[1] ?? '') ? undefined : `the next command's output is wrong: ${JSON.stringify((outputs[1] ?? '').slice(0, 80))}`;
}

export const HOSTILE_CALLS: readonly HostileCall[] = [
  // Endless output: the per-command output cap, long before the command timeout.
  { label: 'Run(hostile flood)', rpc: 'Run', commands: ['show hostile flood'], commandTimeoutMs: 4000, deadlineMs: 8000, expect: 'RESOURCE_EXHAUSTED' },
  { label: 'Run(hostile giant-line)', rpc: 'Run', commands: ['show hostile giant-line 6000000'], commandTimeoutMs: 4000, deadlineMs: 8000, expect: 'RESOURCE_EXHAUSTED' },
  // RunStream is not capped: the command timeout ends it, after streaming.
  { label: 'RunStream(hostile flood)', rpc: 'RunStream', commands: ['show hostile flood'], commandTimeoutMs: 800, deadlineMs: 8000, expect: 'DEADLINE_EXCEEDED' },
  { label: 'Run(hostile binary)', rpc: 'Run', commands: ['show hostile binary', 'show clock'], commandTimeoutMs: 4000, deadlineMs: 8000, expect: 'OK', verify: verifyBinary },
  { label: 'Run(hostile fake-prompt)', rpc: 'Run', commands: ['show hostile fake-prompt 150', 'show clock'], commandTimeoutMs: 4000, deadlineMs: 8000, expect: 'OK', verify: verifyFakePrompt },
  { label: 'Run(hostile drip)', rpc: 'Run', commands: ['show hostile drip 50'], commandTimeoutMs: 600, deadlineMs: 8000, expect: 'DEADLINE_EXCEEDED' },
  { label: 'Run(hostile close)', rpc: 'Run', commands: ['show hostile close'], commandTimeoutMs: 4000, deadlineMs: 8000, expect: 'UNAVAILABLE' },
  { label: 'RunStream(hostile drop)', rpc: 'RunStream', commands: ['show hostile drop'], commandTimeoutMs: 4000, deadlineMs: 8000, expect: 'UNAVAILABLE' },
];
