/**
 * One exchange with a device: a shell read until its end, an exec command until its channel
 * closes, a keepalive ping until its reply. The rules every driver shares live here once:
 * - settled exactly once, bounded by a timeout on the injected Clock, cancelled by an AbortSignal;
 * - a failure goes through the session's Dirt (session/dirty.ts), so one rule decides reuse;
 * - output handed to a streaming consumer pauses the source while the consumer's promise is
 *   pending (backpressure), and the result waits until the last chunk was taken;
 * - a consumer that throws or rejects fails the exchange (CANCELLED, "output consumer failed").
 *   Why fail rather than log and read on: the consumer is the caller's stream (RunStream); once
 *   it cannot take output, reading on serves nobody and the result would claim an output the
 *   stream never carried (docs/api.md, "Sizes": a streamed result's output is only in its chunks).
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { WarmpoolError, describeError } from '../core/errors.js';
import type { Dirt, ExchangeKind } from './dirty.js';

/** A source that can stop and restart delivering data (an ssh2 channel). */
export interface Flow {
  pause(): void;
  resume(): void;
}

/** A streaming consumer: command index and cleaned text. A promise means "stop reading until it settles". */
export type ChunkConsumer = (index: number, data: string) => void | Promise<void>;

export abstract class Exchange<T> {
  readonly device: string;
  /** Settled (resolved or rejected): every later event is ignored. */
  done = false;
  /** The consumer's promise for the last chunk handed out, while pending (the source is paused). */
  pending: Promise<void> | undefined;
  protected readonly clock: Clock;
  readonly #dirt: Dirt;
  readonly #kind: ExchangeKind;
  #ending = false;
  #timer: TimerHandle | undefined;
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;
  #resolve: ((v: T) => void) | undefined;
  #reject: ((e: Error) => void) | undefined;

  constructor(clock: Clock, device: string, dirt: Dirt, kind: ExchangeKind = 'stateful') {
    this.clock = clock;
    this.device = device;
    this.#dirt = dirt;
    this.#kind = kind;
  }

  /** The error for a timeout after `timeoutMs`. */
  protected abstract timedOut(timeoutMs: number): WarmpoolError;
  /** The error for a cancelled signal. */
  protected abstract cancelled(): WarmpoolError;
  /** Start the exchange (write, open a channel): called once the timer and signal are armed. */
  protected abstract begin(): void;
  /** Release what the exchange holds (channel, slot, listeners); called once, before it settles. */
  protected abstract released(err: WarmpoolError | undefined): void;

  /** Succeeded or failed, or succeeding once the consumer took the last chunk: ignore new data. */
  get over(): boolean {
    return this.done || this.#ending;
  }

  run(timeoutMs: number, signal: AbortSignal | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      if (signal?.aborted) {
        this.fail(this.cancelled());
        return;
      }
      this.#timer = this.clock.setTimeout(() => this.fail(this.timedOut(timeoutMs)), timeoutMs);
      if (signal) {
        this.#signal = signal;
        this.#onAbort = () => this.fail(this.cancelled());
        signal.addEventListener('abort', this.#onAbort, { once: true });
      }
      this.begin();
    });
  }

  /** Resolve with `value` once the consumer has taken the last chunk handed out (at once when none is pending). */
  succeed(value: T): void {
    if (this.done || this.#ending) return;
    this.#ending = true;
    const p = this.pending;
    if (p) void p.then(() => this.#settle(undefined, value));
    else this.#settle(undefined, value);
  }

  fail(err: WarmpoolError): void {
    this.#settle(err, undefined);
  }

  /**
   * Hand `data` to the consumer. A returned promise pauses `flow` until it settles; the source is
   * resumed only when the last chunk handed out has been taken.
   */
  deliver(consumer: ChunkConsumer, index: number, data: string, flow: Flow): void {
    let r: void | Promise<void>;
    try {
      r = consumer(index, data);
    } catch (err) {
      this.fail(this.#consumerFailed(err));
      return;
    }
    if (!r || typeof (r as Promise<void>).then !== 'function') return;
    flow.pause();
    const prev = this.pending;
    const p: Promise<void> = (prev ? prev.then(() => r) : (r as Promise<void>)).then(
      () => {
        if (this.pending !== p) return;
        this.pending = undefined;
        flow.resume();
      },
      (err: unknown) => {
        if (this.pending === p) this.pending = undefined;
        this.fail(this.#consumerFailed(err));
      },
    );
    this.pending = p;
  }

  #consumerFailed(err: unknown): WarmpoolError {
    return new WarmpoolError('CANCELLED', `device ${this.device}: output consumer failed: ${describeError(err)}`, { device: this.device, cause: err });
  }

  #settle(err: WarmpoolError | undefined, value: T | undefined): void {
    if (this.done) return;
    this.done = true;
    if (this.#timer) this.clock.clearTimeout(this.#timer);
    if (this.#onAbort) (this.#signal as AbortSignal).removeEventListener('abort', this.#onAbort);
    if (err) this.#dirt.after(err, this.#kind);
    this.released(err);
    if (err) (this.#reject as (e: Error) => void)(err);
    else (this.#resolve as (v: T) => void)(value as T);
  }
}
