import { WarmpoolError } from '../core/errors.js';
import type { DeviceRegistry } from '../inventory/registry.js';
import type { CallContext, RunResult } from './context.js';
import type { ValidRunMany } from './requests.js';
import type { Runner } from './run.js';

/** One device's part of a fan-out: its result, or the error it failed with (mapped to a status by the API edge). */
export type DeviceOutcome = { device: string; result: RunResult } | { device: string; error: unknown };

/**
 * The fan-out use case (RunMany): the template run on every named or label-selected device,
 * at most `concurrency` at a time. Each device is resolved and authorized once, by the Runner;
 * one device failing (not found, denied, unreachable) is that device's outcome, not the call's.
 */
export class FanOut {
  readonly #runner: Pick<Runner, 'run'>;
  readonly #devices: DeviceRegistry;

  constructor(deps: { runner: Pick<Runner, 'run'>; devices: DeviceRegistry }) {
    this.#runner = deps.runner;
    this.#devices = deps.devices;
  }

  /**
   * Runs the fan-out, handing each outcome to `emit` as its device finishes; a worker waits for
   * `emit` (stream backpressure) before taking its next device. Throws the abort reason when the
   * call was cancelled or cut by the drain.
   */
  async run(many: ValidRunMany, ctx: CallContext, emit: (o: DeviceOutcome) => void | Promise<void>): Promise<void> {
    const queue = this.#targets(many);
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined && !ctx.signal.aborted; id = queue.shift()) {
        let outcome: DeviceOutcome;
        try {
          outcome = { device: id, result: await this.#runner.run({ ...many.template, device: id }, ctx) };
        } catch (error) {
          if (ctx.signal.aborted) return;
          outcome = { device: id, error };
        }
        await emit(outcome);
      }
    };
    const n = Math.min(many.concurrency, queue.length);
    await Promise.all(Array.from({ length: n }, worker));
    if (ctx.signal.aborted) throw ctx.signal.reason;
  }

  /** The named devices, then those the label selector adds (ids only: each run resolves its device). */
  #targets(many: ValidRunMany): string[] {
    const ids = new Set(many.devices);
    if (Object.keys(many.labels).length > 0) for (const d of this.#devices.list(many.labels)) ids.add(d.id);
    if (ids.size === 0) {
      const sel = Object.entries(many.labels).map(([k, v]) => `${k}=${v}`).join(',');
      throw new WarmpoolError('DEVICE_NOT_FOUND', `no device matches the label selector ${sel}`);
    }
    return [...ids];
  }
}
