/**
 * The shell driver: one interactive PTY shell on a network CLI, kept logged in and at
 * its normal prompt between batches. Platform knowledge comes from a Profile (data);
 * this file only types commands, waits for prompts, and follows mode changes.
 *
 * Hot path: each incoming chunk is cleaned once, line by line (StreamCleaner), and only
 * the unterminated last line (at most a few hundred characters) is rendered and tested
 * for a prompt, so a multi-MB output costs one linear pass and no re-scans.
 */
import type { ClientChannel } from 'ssh2';
import type { DeviceSpec } from '../config/types.js';
import type { Pattern } from '../core/pattern.js';
import { WarmpoolError, describeError, type ErrorCode } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { redactCommand } from '../core/redact.js';
import { lineTooLong, outputTooLarge } from '../session/output-limit.js';
import type { BatchRequest, CommandOutcome, DeviceSession } from './ssh-types.js';
import type { SshConnection } from '../transport/ssh-connect.js';
import { renderLine, StreamCleaner } from '../session/cleaner.js';
import { resolveProfile, type Profile } from '../platforms/profiles.js';
import { asksNoQuestion, decidePrompt, isPagerPrompt, matchPrompt, promptLevel, type PromptMatch } from '../session/prompt.js';

export interface ShellSessionOptions {
  logger?: Logger;
  signal?: AbortSignal;
  /** Login (prompt learning + paging off) must finish within this; default device.ssh.connectTimeoutMs. */
  loginTimeoutMs?: number;
  /**
   * How long a line that looks like a prompt, but not the known one, must stay the last
   * thing received before it is accepted (banners, host-name changes). Default 60 ms.
   */
  settleMs?: number;
  /**
   * End-of-output confirmation (see Profile.endMarker): how long the first prompt may stand alone
   * before it is accepted without the device's answer to the typed-ahead empty line. The
   * session is then discarded, as the device no longer behaves as it did at login. Default 1500 ms.
   */
  markerFallbackMs?: number;
  /** false: never type ahead; ends are found by the prompt only (benchmarks measure the marker's cost). */
  endMarker?: boolean;
  /** PTY width: wide so devices do not wrap long lines or echo. */
  cols?: number;
  rows?: number;
}

interface ReadOptions {
  command: string;
  timeoutMs: number;
  signal?: AbortSignal;
  expect?: Pattern;
  passwordPrompt?: Pattern;
  onChunk?: (data: string) => void | Promise<void>;
  /** What is being waited for, for error messages; default: the prompt after `command` (see whatOf). */
  what?: string;
  /**
   * An empty line was typed ahead after the command: the end of output is the prompt, an
   * empty line, and the prompt again. 'probe' is the login check that the device answers it.
   */
  marker?: 'command' | 'probe';
}

interface ReadResult {
  output: string;
  /** The prompt (or expect/password line) that ended the read. */
  ended: 'prompt' | 'expect' | 'password';
  line: string;
  error: string;
}

interface Waiter {
  opts: ReadOptions;
  cleaner: StreamCleaner;
  /** Cleaned output kept for the result; stays empty when streaming (the consumer has it). */
  chunks: string[];
  /** UTF-8 bytes in `chunks`, checked against ssh.maxOutputBytes as they arrive. */
  bytes: number;
  resolve: (r: ReadResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  settle: NodeJS.Timeout | undefined;
  settleMatch: PromptMatch | undefined;
  pagerAnswered: boolean;
  /** onChunk promise the channel is paused for. */
  pending: Promise<void> | undefined;
  onAbort: (() => void) | undefined;
  done: boolean;
  /**
   * With a marker: the last complete line, held back because it is exactly a prompt. It is the
   * first of the two end prompts when the second follows at once; otherwise it was output.
   */
  held: string | undefined;
}

let counter = 0;

/**
 * What a read waits for, for error messages, built only when one is needed (commands are
 * redacted: the hot path should not pay for a message it rarely sends).
 */
function whatOf(opts: ReadOptions): string {
  return opts.what ?? `the prompt after "${redactCommand(opts.command)}"`;
}

/** Characters of each chunk's complete lines searched for `expect` (see expectEnd). */
const EXPECT_WINDOW = 1024;

export class ShellSession implements DeviceSession {
  readonly mode = 'shell' as const;
  readonly id: string;
  /** The prompt the session is at, as displayed (trailing blanks removed). */
  prompt = '';
  private readonly device: DeviceSpec;
  private readonly profile: Profile;
  private readonly conn: SshConnection;
  private readonly log: Logger;
  private readonly settleMs: number;
  private readonly markerFallbackMs: number;
  /** The device answers a typed-ahead empty line with a second prompt (checked at login). */
  private markerOk = false;
  private stream: ClientChannel | undefined;
  private waiter: Waiter | undefined;
  private isDirty = false;
  private closed = false;
  private closedByUs = false;
  private busy = false;
  private readonly closeListeners: ((err?: Error) => void)[] = [];
  private closeError: Error | undefined;

  private constructor(device: DeviceSpec, conn: SshConnection, profile: Profile, opts: ShellSessionOptions) {
    this.device = device;
    this.conn = conn;
    this.profile = profile;
    this.log = opts.logger ?? silentLogger;
    this.settleMs = opts.settleMs ?? 60;
    this.markerFallbackMs = opts.markerFallbackMs ?? 1500;
    this.id = `${device.id}/shell-${++counter}`;
  }

  /** Show commands end at "prompt, empty line, prompt" (the device answered typed-ahead input at login). */
  get endMarker(): boolean {
    return this.markerOk;
  }

  get dirty(): boolean {
    return this.isDirty || this.closed;
  }

  /**
   * Open a PTY shell on an established connection, learn the prompt (robust to banners
   * that contain `#`/`>`), disable paging. On failure the connection is closed.
   */
  static async open(device: DeviceSpec, conn: SshConnection, opts: ShellSessionOptions = {}): Promise<ShellSession> {
    const s = new ShellSession(device, conn, resolveProfile(device), opts);
    try {
      await s.start(opts);
      return s;
    } catch (err) {
      s.closedByUs = true;
      s.teardown();
      conn.close();
      // No usable prompt in time is a failed session set-up, not a command timeout.
      if (err instanceof WarmpoolError && err.code === 'COMMAND_TIMEOUT') {
        throw new WarmpoolError('CONNECT_TIMEOUT', `${err.message} (login)`, { device: device.id, cause: err });
      }
      throw err;
    }
  }

  private async start(opts: ShellSessionOptions): Promise<void> {
    const deadline = Date.now() + (opts.loginTimeoutMs ?? this.device.ssh.connectTimeoutMs);
    const left = (): number => Math.max(1, deadline - Date.now());
    this.stream = await new Promise<ClientChannel>((resolve, reject) => {
      this.conn.client.shell({ term: 'vt100', cols: opts.cols ?? 511, rows: opts.rows ?? 24, width: 0, height: 0 }, (err, stream) => {
        if (err) reject(new WarmpoolError('CHANNEL_OPEN_FAILED', `device ${this.device.id}: cannot open a shell: ${describeError(err)}`, { device: this.device.id, cause: err }));
        else resolve(stream);
      });
    });
    const stream = this.stream;
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => this.onData(d));
    stream.stderr.on('data', () => undefined);
    stream.on('close', () => this.lost('shell channel closed by the device'));
    stream.on('error', (e: Error) => this.lost(`shell channel error: ${describeError(e)}`));
    this.conn.onEnd((err) => {
      if (err) this.lost(describeError(err));
      else this.lost('connection closed');
    });

    const signal = opts.signal;
    // 1. Whatever the device shows first, once it has gone quiet, is a candidate prompt.
    let first = await this.read({ command: '', timeoutMs: left(), signal, what: 'the first prompt after login' });
    let candidate = first.line;
    // 2. A prompt is what the device prints again, identically, for an empty line.
    //    A banner line that looked like one does not come back.
    let learned = false;
    for (let i = 0; i < 4 && !learned; i++) {
      this.write('\n');
      first = await this.read({ command: '', timeoutMs: left(), signal, what: 'the prompt after a newline' }, candidate);
      if (first.line === candidate) learned = true;
      candidate = first.line;
    }
    if (!learned) {
      throw new WarmpoolError('UNEXPECTED_PROMPT', `device ${this.device.id}: the prompt did not settle after login`, { device: this.device.id });
    }
    this.prompt = candidate;
    // 3. Paging off, so outputs arrive in one piece (the pager is still answered if this fails).
    //    The last one also checks, at no extra round trip, that the device answers input typed
    //    ahead while a command runs (as IOS, NX-OS, EOS and Junos do): then show commands get an
    //    end marker. Not while a pager may be active: it would take the empty line as a key.
    const paging = this.profile.pagingCommands;
    let pagingOff = paging.length > 0;
    for (let i = 0; i < paging.length; i++) {
      const cmd = paging[i] as string;
      const probe = i === paging.length - 1 && this.profile.endMarker !== undefined && opts.endMarker !== false;
      const r = await this.command(cmd, left(), signal, probe ? { marker: 'probe' } : {});
      if (r.error) {
        pagingOff = false;
        this.log.warn({ device: this.device.id, command: cmd, error: r.error }, 'paging command refused; answering pager prompts instead');
      }
    }
    if (!pagingOff) this.markerOk = false;
    this.log.debug({ device: this.device.id, session: this.id, prompt: this.prompt }, 'shell ready');
  }

  // ------------------------------------------------------------------ I/O core

  private write(s: string): void {
    if (this.closed || !this.stream) return;
    this.stream.write(s);
  }

  /** Start waiting for the end of output: a prompt, `expect`, or a password prompt. */
  private read(opts: ReadOptions, known: string | undefined = this.prompt || undefined): Promise<ReadResult> {
    return new Promise<ReadResult>((resolve, reject) => {
      if (this.closed) {
        reject(this.closeErr());
        return;
      }
      const w: Waiter = {
        opts,
        cleaner: new StreamCleaner({ command: opts.command, pagerPatterns: this.profile.pagerPatterns, errorPatterns: this.profile.errorPatterns }),
        chunks: [],
        bytes: 0,
        resolve,
        reject,
        timer: setTimeout(() => this.fail(w, 'COMMAND_TIMEOUT', `device ${this.device.id}: no prompt within ${opts.timeoutMs} ms waiting for ${whatOf(opts)}`), opts.timeoutMs),
        settle: undefined,
        settleMatch: undefined,
        pagerAnswered: false,
        pending: undefined,
        onAbort: undefined,
        done: false,
        held: undefined,
      };
      this.knownPrompt = known;
      if (opts.signal) {
        if (opts.signal.aborted) {
          clearTimeout(w.timer);
          this.isDirty = true;
          reject(new WarmpoolError('CANCELLED', `device ${this.device.id}: cancelled`, { device: this.device.id }));
          return;
        }
        w.onAbort = () => this.fail(w, 'CANCELLED', `device ${this.device.id}: cancelled while waiting for ${whatOf(opts)}`);
        opts.signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiter = w;
      if (this.carry) {
        const carried = this.carry;
        this.carry = '';
        this.onData(carried);
      }
    });
  }

  /** Raw text received after an `expect` match, replayed into the next read. */
  private carry = '';

  private knownPrompt: string | undefined;

  private onData(data: string): void {
    const w = this.waiter;
    // Between batches the device may still print (log messages, a late prompt): drop it,
    // the next command starts from a clean slate.
    if (!w || w.done) return;
    if (w.settle) {
      clearTimeout(w.settle);
      w.settle = undefined;
    }
    w.pagerAnswered = false;
    let lines = w.cleaner.push(data);
    if (w.opts.marker) lines = this.holdPromptLine(w, lines);
    if (lines.length > 0) {
      const end = w.opts.expect ? this.expectEnd(w.opts.expect, lines) : -1;
      // Output ends with the line that matched `expect`; what follows (usually the
      // prompt) is kept for the next read so the session stays in step with the device.
      if (end >= 0) lines = lines.slice(0, end);
      if (!this.keep(w, lines)) return;
      if (end >= 0) {
        this.carry = w.cleaner.pending;
        this.finish(w, 'expect', '');
        return;
      }
    }
    // An unterminated line is held whole (even when streaming) until its line break or prompt.
    if (w.cleaner.pending.length > this.device.ssh.maxOutputBytes) {
      this.overflow(w, lineTooLong(this.device.id, w.opts.command, this.device.ssh.maxOutputBytes).message);
      return;
    }
    this.checkTail(w);
  }

  /**
   * Hand cleaned text to the consumer (streaming: nothing is kept), or keep it for the result
   * while it fits ssh.maxOutputBytes. Returns false when the cap was passed (the read failed).
   */
  private keep(w: Waiter, text: string): boolean {
    if (w.opts.onChunk) {
      this.deliver(w, text);
      return true;
    }
    w.bytes += Buffer.byteLength(text);
    const cap = this.device.ssh.maxOutputBytes;
    if (w.bytes > cap) {
      this.overflow(w, outputTooLarge(this.device.id, w.opts.command, cap).message);
      return false;
    }
    w.chunks.push(text);
    return true;
  }

  /**
   * Past the cap: fail the read, then close the session at once so the device stops sending
   * (what it still sends is never read) and memory stays bounded. The pool replaces it.
   */
  private overflow(w: Waiter, message: string): void {
    this.fail(w, 'OUTPUT_TOO_LARGE', message);
    w.chunks.length = 0;
    void this.close();
  }

  /**
   * With an end marker, a complete line that is exactly a prompt is held back until the next
   * data shows what it was: the first end prompt (the second prompt follows at once), or a
   * line of output that merely looks like the prompt (more output follows): then it is output.
   */
  private holdPromptLine(w: Waiter, lines: string): string {
    if (lines === '') return lines;
    if (w.held !== undefined) {
      lines = w.held + lines;
      w.held = undefined;
    }
    const start = lines.lastIndexOf('\n', lines.length - 2) + 1;
    const last = lines.slice(start, lines.length - 1).trimEnd();
    if (last !== '' && matchPrompt(this.profile, last)) {
      w.held = lines.slice(start);
      return lines.slice(0, start);
    }
    return lines;
  }

  private deliver(w: Waiter, data: string): void {
    let r: void | Promise<void>;
    try {
      r = (w.opts.onChunk as (d: string) => void | Promise<void>)(data);
    } catch (err) {
      this.log.warn({ device: this.device.id, err: describeError(err) }, 'output consumer threw');
      return;
    }
    if (r && typeof (r as Promise<void>).then === 'function') {
      // Backpressure: stop reading from the device until the consumer has taken the chunk.
      const stream = this.stream as ClientChannel;
      stream.pause();
      const p = Promise.resolve(w.pending)
        .then(() => r)
        .catch(() => undefined)
        .finally(() => {
          // Resume only when the last chunk handed out has been taken.
          if (w.pending !== p) return;
          w.pending = undefined;
          if (!this.closed) stream.resume();
        });
      w.pending = p;
    }
  }

  /**
   * Index just after the line where `expect` matches in a chunk's complete lines, -1 when it does
   * not. Only the chunk's last EXPECT_WINDOW characters are searched (from a line start): a
   * question is the last thing a device prints before it waits, and a caller's pattern, linear as
   * RE2 is, can still cost tens of µs a character, so the window bounds its cost per chunk.
   */
  private expectEnd(p: Pattern, text: string): number {
    let start = 0;
    if (text.length > EXPECT_WINDOW) {
      start = text.length - EXPECT_WINDOW;
      const nl = text.indexOf('\n', start);
      if (nl >= 0 && nl + 1 < text.length) start = nl + 1;
    }
    const end = p.endOfMatchingLine(start === 0 ? text : text.slice(start));
    return end < 0 ? -1 : start + end;
  }

  private checkTail(w: Waiter): void {
    if (w.cleaner.pending.length === 0) return;
    const tail = renderLine(w.cleaner.pendingTail(512));
    if (!w.pagerAnswered && isPagerPrompt(this.profile, tail)) {
      // Paging could not be disabled (or a command re-enabled it): page on.
      w.pagerAnswered = true;
      this.write(' ');
      return;
    }
    if (w.opts.expect && w.opts.expect.test(tail)) {
      this.finish(w, 'expect', tail.trimEnd());
      return;
    }
    if (w.opts.passwordPrompt && w.opts.passwordPrompt.test(tail)) {
      this.finish(w, 'password', tail.trimEnd());
      return;
    }
    let { decision, match } = decidePrompt(this.profile, tail, this.knownPrompt);
    // A prompt before the echo of our command is a leftover (the device reprinted its
    // prompt after a log message just before it read our command): only a quiet line counts.
    if (decision === 'prompt' && !w.cleaner.echoSeen) decision = 'settle';
    if (w.opts.marker && decision !== 'none') {
      this.checkMarker(w, match as PromptMatch);
      return;
    }
    if (decision === 'prompt') {
      this.finish(w, 'prompt', (match as PromptMatch).prompt);
    } else if (decision === 'settle') {
      this.whenQuiet(w, match as PromptMatch, this.settleMs, () => this.finish(w, 'prompt', (w.settleMatch as PromptMatch).prompt));
    }
  }

  /**
   * Run `accept` once nothing more has arrived for `ms` (new data clears the timer, onData).
   * Quiet only because the stream is paused for a slow consumer does not count: look again later.
   */
  private whenQuiet(w: Waiter, match: PromptMatch, ms: number, accept: () => void): void {
    w.settleMatch = match;
    w.settle = setTimeout(() => {
      w.settle = undefined;
      if (w.done) return;
      if (w.pending) {
        void w.pending.then(() => {
          if (!w.done && !w.settle) this.checkTail(w);
        });
        return;
      }
      accept();
    }, ms);
  }

  /**
   * The tail is a prompt and an empty line was typed ahead: the output has ended when the held
   * line right before it is the same prompt (prompt, empty line, prompt). A prompt alone may be a
   * line of output that looks like one, so it is only accepted after markerFallbackMs of silence.
   */
  private checkMarker(w: Waiter, match: PromptMatch): void {
    if (w.held !== undefined && w.held.trimEnd() === match.prompt) {
      w.held = undefined;
      if (w.opts.marker === 'probe') this.markerOk = true;
      this.finish(w, 'prompt', match.prompt);
      return;
    }
    const probe = w.opts.marker === 'probe';
    this.whenQuiet(w, match, probe ? Math.max(250, this.settleMs * 4) : this.markerFallbackMs, () => {
      if (probe) {
        this.markerOk = false;
        this.log.debug({ device: this.device.id, session: this.id }, 'no answer to typed-ahead input: end of output by prompt only');
      } else {
        // The device stopped answering the marker as it did at login: its state is unknown.
        this.isDirty = true;
        this.log.warn({ device: this.device.id, session: this.id }, 'end-of-output marker not answered; session will be replaced');
      }
      this.finish(w, 'prompt', (w.settleMatch as PromptMatch).prompt);
    });
  }

  private finish(w: Waiter, ended: ReadResult['ended'], line: string): void {
    if (w.done) return;
    w.done = true;
    this.cleanupWaiter(w);
    // After an `expect` match inside complete lines, the pending text belongs to the next read (carry).
    let rest = ended === 'expect' && line === '' ? '' : w.cleaner.finish(ended === 'prompt' ? line : '');
    if (w.held !== undefined) {
      // Ended some other way than the marker: the held line was output after all.
      rest = w.held + rest;
      w.held = undefined;
    }
    if (rest) {
      // The waiter is already detached: a failure from here on must reject it itself.
      w.done = false;
      const kept = this.keep(w, rest);
      w.done = true;
      if (!kept) return;
    }
    if (ended === 'prompt') this.prompt = line;
    let output: string;
    try {
      output = w.chunks.length === 1 ? (w.chunks[0] as string) : w.chunks.join('');
    } catch {
      // ERR_STRING_TOO_LONG (a cap configured near 512 MiB): answer the call, never leave it hanging.
      w.chunks.length = 0;
      w.done = false;
      this.overflow(w, outputTooLarge(this.device.id, w.opts.command, this.device.ssh.maxOutputBytes).message);
      return;
    }
    w.chunks.length = 0;
    const result: ReadResult = { output, ended, line, error: w.cleaner.error };
    if (w.pending) {
      void w.pending.then(() => w.resolve(result));
    } else {
      w.resolve(result);
    }
  }

  private fail(w: Waiter, code: ErrorCode, message: string): void {
    if (w.done) return;
    w.done = true;
    this.cleanupWaiter(w);
    // The device is in an unknown state (still printing, or at another prompt): never reuse.
    this.isDirty = true;
    w.reject(new WarmpoolError(code, message, { device: this.device.id }));
  }

  private cleanupWaiter(w: Waiter): void {
    clearTimeout(w.timer);
    if (w.settle) clearTimeout(w.settle);
    if (w.onAbort && w.opts.signal) w.opts.signal.removeEventListener('abort', w.onAbort);
    if (this.waiter === w) this.waiter = undefined;
  }

  private closeErr(): Error {
    return this.closeError ?? new WarmpoolError('CONNECTION_LOST', `device ${this.device.id}: session closed`, { device: this.device.id });
  }

  private lost(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closeError = new WarmpoolError('CONNECTION_LOST', `device ${this.device.id}: ${reason}`, { device: this.device.id });
    const w = this.waiter;
    if (w && !w.done) this.fail(w, 'CONNECTION_LOST', `device ${this.device.id}: connection lost while waiting for ${whatOf(w.opts)} (${reason})`);
    this.teardown();
    if (!this.closedByUs) {
      for (const l of this.closeListeners.splice(0)) {
        try {
          l(this.closeError);
        } catch {
          // listeners must not break the driver
        }
      }
    }
  }

  private teardown(): void {
    this.closed = true;
    const w = this.waiter;
    if (w && !w.done) this.fail(w, 'CONNECTION_LOST', `device ${this.device.id}: session closed`);
    this.stream?.removeAllListeners('data');
  }

  // ------------------------------------------------------------------ batches

  private async command(cmd: string, timeoutMs: number, signal: AbortSignal | undefined, extra: Partial<ReadOptions> = {}): Promise<ReadResult> {
    // The marker's empty line goes in the same write: no extra round trip.
    this.write(extra.marker ? cmd + '\n\n' : cmd + '\n');
    return this.read({ command: cmd, timeoutMs, signal, ...extra });
  }

  private level(): ReturnType<typeof promptLevel> {
    return promptLevel(this.profile, this.prompt);
  }

  private async enterPrivileged(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    const en = this.profile.enable;
    if (!en) return;
    let r = await this.command(en.command, timeoutMs, signal, { passwordPrompt: en.passwordPrompt });
    if (r.ended === 'password') {
      const secret = this.device.enableSecret;
      if (!secret) {
        this.isDirty = true;
        throw new WarmpoolError('AUTH_FAILED', `device ${this.device.id}: the device asks for an enable secret and none is configured`, { device: this.device.id });
      }
      // Typed without echo; never logged and never part of any output returned.
      this.write(secret.reveal() + '\n');
      r = await this.read({ command: '', timeoutMs, signal, what: 'the prompt after the enable secret', passwordPrompt: en.passwordPrompt });
      if (r.ended === 'password') {
        this.isDirty = true;
        throw new WarmpoolError('AUTH_FAILED', `device ${this.device.id}: enable secret refused`, { device: this.device.id });
      }
    }
    if (this.level() === 'unprivileged') {
      this.isDirty = true;
      throw new WarmpoolError('AUTH_FAILED', `device ${this.device.id}: could not enter privileged mode${r.error ? ` (${r.error})` : ''}`, { device: this.device.id });
    }
  }

  private async enterConfig(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    const cfg = this.profile.config;
    if (!cfg) throw new WarmpoolError('INVALID_ARGUMENT', `device ${this.device.id}: platform ${this.profile.platform} has no configuration mode`, { device: this.device.id, field: 'configure' });
    for (const cmd of cfg.enter) await this.command(cmd, timeoutMs, signal);
    if (this.level() !== 'config') {
      this.isDirty = true;
      throw new WarmpoolError('UNEXPECTED_PROMPT', `device ${this.device.id}: "${cfg.enter.join('; ')}" did not reach configuration mode (prompt "${this.prompt}")`, { device: this.device.id });
    }
  }

  /** Leaves config mode; returns the first error line of the exit commands (a failed commit), '' when none. */
  private async leaveConfig(timeoutMs: number, signal: AbortSignal | undefined): Promise<string> {
    const cfg = this.profile.config;
    if (!cfg || this.level() !== 'config') return '';
    let error = '';
    for (const cmd of cfg.exit) {
      const r = await this.command(cmd, timeoutMs, signal);
      if (r.error && !error) error = `${cmd}: ${r.error}`;
    }
    if (this.level() === 'config') {
      for (const cmd of cfg.abort) await this.command(cmd, timeoutMs, signal);
      if (!error) error = `${cfg.exit.join('; ')} did not leave configuration mode`;
    }
    if (this.level() === 'config') {
      this.isDirty = true;
      throw new WarmpoolError('UNEXPECTED_PROMPT', `device ${this.device.id}: cannot leave configuration mode (prompt "${this.prompt}")`, { device: this.device.id });
    }
    return error;
  }

  async runBatch(req: BatchRequest): Promise<CommandOutcome[]> {
    if (this.closed) throw this.closeErr();
    if (this.isDirty) throw new WarmpoolError('UNEXPECTED_PROMPT', `device ${this.device.id}: session is not reusable`, { device: this.device.id });
    if (this.busy) throw new WarmpoolError('INTERNAL', `device ${this.device.id}: session already running a batch`, { device: this.device.id });
    if (req.privileged && !this.profile.enable && this.profile.privilegedPattern) {
      throw new WarmpoolError('INVALID_ARGUMENT', `device ${this.device.id}: platform ${this.profile.platform} has no privileged mode`, { device: this.device.id, field: 'privileged' });
    }
    this.busy = true;
    const outcomes: CommandOutcome[] = [];
    const ctlTimeout = req.timeoutMs(0);
    try {
      const startLevel = this.level();
      // Configuration mode is only reachable from privileged level on Cisco-like CLIs.
      if ((req.privileged || req.configure) && this.level() === 'unprivileged') await this.enterPrivileged(ctlTimeout, req.signal);
      if (req.configure) await this.enterConfig(ctlTimeout, req.signal);
      for (let i = 0; i < req.commands.length; i++) {
        const cmd = req.commands[i] as string;
        const t0 = performance.now();
        const r = await this.command(cmd, req.timeoutMs(i), req.signal, {
          ...(req.expect ? { expect: req.expect } : this.markerOk && this.level() !== 'config' && asksNoQuestion(this.profile, cmd) ? { marker: 'command' as const } : {}),
          ...(req.onChunk ? { onChunk: (d: string) => (req.onChunk as NonNullable<BatchRequest['onChunk']>)(i, d) } : {}),
        });
        if (r.ended === 'expect') await this.afterExpect(i + 1 < req.commands.length, req);
        const outcome: CommandOutcome = {
          command: cmd,
          output: r.output,
          exitStatus: r.error ? 1 : 0,
          failed: r.error !== '',
          error: r.error,
          durationMs: performance.now() - t0,
        };
        outcomes.push(outcome);
        req.onResult?.(i, outcome);
        if (outcome.failed && req.stopOnError) break;
      }
      // Back to the state the next caller expects: out of config, and unprivileged again
      // when the session was unprivileged before (also when a command changed mode itself).
      const commitError = await this.leaveConfig(ctlTimeout, req.signal);
      if (commitError) {
        const last = outcomes.at(-1);
        if (last) {
          last.failed = true;
          last.exitStatus = 1;
          last.error = last.error || commitError;
        }
      }
      if (startLevel === 'unprivileged' && this.level() === 'privileged' && this.profile.enable) {
        await this.command(this.profile.enable.disableCommand, ctlTimeout, req.signal);
      }
      return outcomes;
    } catch (err) {
      if (!(err instanceof WarmpoolError && err.code === 'INVALID_ARGUMENT')) this.isDirty = true;
      throw err;
    } finally {
      this.busy = false;
    }
  }

  /**
   * `expect` ended a command before its prompt. When another command follows it is the
   * answer to whatever was asked; at the end of the batch the prompt must arrive by
   * itself, or the session's state is unknown (dirty).
   */
  private async afterExpect(more: boolean, req: BatchRequest): Promise<void> {
    if (more) return;
    try {
      await this.read({ command: '', timeoutMs: Math.min(2000, req.timeoutMs(0)), signal: req.signal, what: 'the prompt after the expected text' });
    } catch {
      this.isDirty = true;
    }
  }

  /** An empty line must come back with the prompt. */
  async probe(signal?: AbortSignal): Promise<void> {
    await this.nudge(signal, 'probe');
  }

  /** Application-level keepalive (devices close idle vty lines despite SSH keepalives). */
  async keepalive(): Promise<void> {
    await this.nudge(undefined, 'keepalive');
  }

  private async nudge(signal: AbortSignal | undefined, what: string): Promise<void> {
    if (this.closed) throw this.closeErr();
    if (this.isDirty) throw new WarmpoolError('UNEXPECTED_PROMPT', `device ${this.device.id}: session is not reusable`, { device: this.device.id });
    if (this.busy) return;
    this.busy = true;
    try {
      this.write('\n');
      const timeoutMs = Math.min(5000, this.device.ssh.commandTimeoutMs);
      await this.read({ command: '', timeoutMs, signal, what: `the prompt (${what})` });
    } finally {
      this.busy = false;
    }
  }

  onClose(listener: (err?: Error) => void): void {
    if (this.closed) {
      if (!this.closedByUs) queueMicrotask(() => listener(this.closeError));
      return;
    }
    this.closeListeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closedByUs = true;
    this.teardown();
    try {
      this.stream?.end();
    } catch {
      // already gone
    }
    this.conn.close();
  }
}

/** Wrap an established connection into a logged-in shell session. */
export function openShellSession(device: DeviceSpec, conn: SshConnection, opts: ShellSessionOptions = {}): Promise<ShellSession> {
  return ShellSession.open(device, conn, opts);
}
