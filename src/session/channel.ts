/**
 * A shell channel: one interactive stream to a device CLI. It writes, reads until the end of a
 * command's output (PromptRead: prompt, expect, password prompt, end marker), pauses for slow
 * consumers, and reports its end once (CloseSignal). All time comes from the injected Clock.
 * It knows no commands: drivers/shell-driver.ts says what to type.
 */
import type { Clock } from '../core/clock.js';
import { WarmpoolError, describeError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Profile } from '../platforms/profiles.js';
import { CloseSignal, type CloseListener } from './close-signal.js';
import type { Dirt } from './dirty.js';
import type { Flow } from './exchange.js';
import { PromptRead, type ReadHost, type ReadOptions, type ReadResult } from './prompt-read.js';

/** What the channel needs of a stream: an ssh2 ClientChannel (PTY shell), or a node:stream Duplex in tests. */
export interface ChannelStream {
  write(data: string): unknown;
  end(): unknown;
  pause(): unknown;
  resume(): unknown;
  setEncoding(encoding: BufferEncoding): unknown;
  on(event: string, listener: (...args: never[]) => void): unknown;
  removeAllListeners(event?: string): unknown;
  stderr?: { on(event: string, listener: (...args: never[]) => void): unknown };
}

export interface ChannelOptions {
  device: string;
  sessionId: string;
  profile: Profile;
  clock: Clock;
  dirt: Dirt;
  logger: Logger;
  maxOutputBytes: number;
  /** How long a prompt-like line that is not the known prompt must stay last before it is accepted. */
  settleMs: number;
  /** How long the first end prompt may stand alone before it is accepted without the marker's answer. */
  markerFallbackMs: number;
  /** Ends what carries the stream (the SSH connection); called once, by close(). */
  closeTransport: () => void;
}

export class Channel implements ReadHost, Flow {
  readonly device: string;
  readonly clock: Clock;
  readonly dirt: Dirt;
  readonly profile: Profile;
  readonly settleMs: number;
  readonly markerFallbackMs: number;
  readonly maxOutputBytes: number;
  /** The prompt the device showed last, as displayed (trailing blanks removed). */
  prompt = '';
  /** The context line shown above that prompt (Profile.contextLine), '' when none. */
  context = '';
  /** The device answers a typed-ahead empty line with a second prompt (checked at login). */
  markerOk = false;
  knownPrompt: string | undefined;
  readonly #stream: ChannelStream;
  readonly #sessionId: string;
  readonly #log: Logger;
  readonly #closeTransport: () => void;
  readonly #close = new CloseSignal();
  #read: PromptRead | undefined;
  /** Raw text received after an `expect` match, replayed into the next read. */
  #carry = '';
  #closed = false;
  #closeError: WarmpoolError | undefined;

  constructor(stream: ChannelStream, opts: ChannelOptions) {
    this.#stream = stream;
    this.device = opts.device;
    this.#sessionId = opts.sessionId;
    this.profile = opts.profile;
    this.clock = opts.clock;
    this.dirt = opts.dirt;
    this.#log = opts.logger;
    this.maxOutputBytes = opts.maxOutputBytes;
    this.settleMs = opts.settleMs;
    this.markerFallbackMs = opts.markerFallbackMs;
    this.#closeTransport = opts.closeTransport;
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => this.#onData(d));
    stream.stderr?.on('data', () => undefined);
    stream.on('close', () => this.lost('shell channel closed by the device'));
    stream.on('error', (e: Error) => this.lost(`shell channel error: ${describeError(e)}`));
  }

  get closed(): boolean {
    return this.#closed;
  }

  get flow(): Flow {
    return this;
  }

  pause(): void {
    this.#stream.pause();
  }

  resume(): void {
    if (!this.#closed) this.#stream.resume();
  }

  write(data: string): void {
    if (this.#closed) return;
    this.#stream.write(data);
  }

  /** Read until the end of output; `known` is the prompt that ends it at once (default: the current one). */
  read(opts: ReadOptions, known: string | undefined = this.prompt || undefined): Promise<ReadResult> {
    if (this.#closed) return Promise.reject(this.closeError());
    this.knownPrompt = known;
    return new PromptRead(this, opts).run(opts.timeoutMs, opts.signal);
  }

  /** Type `line` and read its output (the marker's empty line goes in the same write: no extra round trip). */
  command(opts: ReadOptions): Promise<ReadResult> {
    this.write(opts.marker ? opts.command + '\n\n' : opts.command + '\n');
    return this.read(opts);
  }

  attach(read: PromptRead): void {
    this.#read = read;
    if (this.#carry) {
      const carried = this.#carry;
      this.#carry = '';
      read.push(carried);
    }
  }

  detach(read: PromptRead): void {
    if (this.#read === read) this.#read = undefined;
  }

  carry(text: string): void {
    this.#carry = text;
  }

  promptSeen(prompt: string, context: string): void {
    this.prompt = prompt;
    this.context = context;
  }

  /** The prompt as shown to a person, for error messages: with its context line above it. */
  get shownPrompt(): string {
    return this.context ? `${this.context} ${this.prompt}` : this.prompt;
  }

  markerChecked(answered: boolean): void {
    this.markerOk = answered;
    if (!answered) this.#log.debug({ device: this.device, session: this.#sessionId }, 'no answer to typed-ahead input: end of output by prompt only');
  }

  markerLost(): void {
    this.dirt.mark();
    this.#log.warn({ device: this.device, session: this.#sessionId }, 'end-of-output marker not answered; session will be replaced');
  }

  overflowed(): void {
    this.close();
  }

  #onData(data: string): void {
    // Between batches the device may still print (log messages, a late prompt): drop it,
    // the next command starts from a clean slate.
    this.#read?.push(data);
  }

  closeError(): WarmpoolError {
    return this.#closeError ?? new WarmpoolError('CONNECTION_LOST', `device ${this.device}: session closed`, { device: this.device });
  }

  /** The stream or its connection ended by itself: the read in progress fails, listeners hear it once. */
  lost(reason: string): void {
    if (this.#closed) return;
    const err = new WarmpoolError('CONNECTION_LOST', `device ${this.device}: ${reason}`, { device: this.device });
    this.#closeError = err;
    const r = this.#read;
    if (r && !r.over) r.fail(new WarmpoolError('CONNECTION_LOST', `device ${this.device}: connection lost while waiting for ${r.what()} (${reason})`, { device: this.device }));
    this.#teardown();
    this.#close.lost(err);
  }

  onClose(listener: CloseListener): void {
    this.#close.listen(listener);
  }

  /** Close by us: no listener hears it; the stream and its transport end. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#close.closedByUs();
    this.#teardown();
    try {
      this.#stream.end();
    } catch {
      // already gone
    }
    this.#closeTransport();
  }

  #teardown(): void {
    this.#closed = true;
    const r = this.#read;
    if (r && !r.over) r.fail(new WarmpoolError('CONNECTION_LOST', `device ${this.device}: session closed`, { device: this.device }));
    this.#stream.removeAllListeners('data');
  }
}
