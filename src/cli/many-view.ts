import type { DeviceRunResult__Output } from '../gen/warmpool/v1/DeviceRunResult.js';
import { renderDeviceResult } from './render.js';
import type { Style } from './style.js';

export interface Sink { write(s: string): void }

export interface ManyViewOptions {
  out: Sink;
  err: Sink;
  outStyle: Style;
  errStyle: Style;
  /** Draw a live progress line on `err` (it is a terminal). */
  progress: boolean;
  /** Devices expected, when known up front (--devices); setTotal() can tell it later. */
  total?: number;
  now?: () => number;
}

/**
 * What `many` shows while RunMany streams: each device's result as soon as it arrives and, on a
 * terminal, one progress line (done/failed/total, elapsed) kept under the results by erasing it
 * before each write and drawing it again after. The summary line replaces it at the end.
 */
export class ManyView {
  readonly #o: ManyViewOptions;
  readonly #now: () => number;
  readonly #started: number;
  #total: number | undefined;
  #done = 0;
  #failed = 0;
  #drawn = false;
  #finished = false;

  constructor(o: ManyViewOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    this.#started = this.#now();
    this.#total = o.total;
  }

  get failed(): number {
    return this.#failed;
  }

  setTotal(n: number): void {
    if (this.#finished) return;
    this.#total = n;
    this.redraw();
  }

  result(r: DeviceRunResult__Output): void {
    this.#done++;
    const { out, err, ok } = renderDeviceResult(r, this.#o.outStyle);
    if (!ok) this.#failed++;
    this.#erase();
    this.#o.out.write(out);
    if (err) this.#o.err.write(err);
    this.redraw();
  }

  /** Draws the progress line again (also called by a timer, so elapsed time moves while waiting). */
  redraw(): void {
    if (!this.#o.progress || this.#finished) return;
    const s = this.#o.errStyle;
    const total = Math.max(this.#total ?? 0, this.#done);
    const of = this.#total === undefined ? '?' : String(total);
    const failed = this.#failed > 0 ? s.red(`${this.#failed} failed`) : '0 failed';
    this.#o.err.write(`\r\x1b[2K${s.cyan('many:')} ${this.#done}/${of} done, ${failed}, ${this.#elapsed()}`);
    this.#drawn = true;
  }

  /** Ends the view with the summary line, e.g. "many: 3 devices, 2 ok, 1 failed (1.2 s)". */
  finish(): void {
    this.#erase();
    this.#finished = true;
    const s = this.#o.errStyle;
    const failed = this.#failed > 0 ? s.red(`${this.#failed} failed`) : s.green('0 failed');
    this.#o.err.write(`many: ${this.#done} device${this.#done === 1 ? '' : 's'}, ${this.#done - this.#failed} ok, ${failed} (${this.#elapsed()})\n`);
  }

  /** Ends the view without a summary (the call failed; its error is printed instead). */
  stop(): void {
    this.#erase();
    this.#finished = true;
  }

  #erase(): void {
    if (!this.#drawn) return;
    this.#o.err.write('\r\x1b[2K');
    this.#drawn = false;
  }

  #elapsed(): string {
    return `${((this.#now() - this.#started) / 1000).toFixed(1)} s`;
  }
}
