/**
 * One read of a shell channel until the end of a command's output: the prompt, a caller's
 * `expect` line, a password prompt, or (with the end marker) "prompt, empty line, prompt".
 * Pager prompts, and the caller's interactive answers (answers.ts), are answered on the way.
 * Built on Exchange (timeout, cancel, cap, backpressure).
 *
 * Hot path: each incoming chunk is cleaned once, line by line (StreamCleaner), and only the
 * unterminated last line (at most a few hundred characters) is rendered and tested for a
 * prompt, so a multi-MB output costs one linear pass and no re-scans.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { WarmpoolError } from '../core/errors.js';
import type { Pattern } from '../core/pattern.js';
import { redactCommand, redactSecrets } from '../core/redact.js';
import type { Profile } from '../platforms/profiles.js';
import type { CommandAnswers } from './answers.js';
import { renderLine, StreamCleaner } from './cleaner.js';
import type { Dirt } from './dirty.js';
import { Exchange, type ChunkConsumer, type Flow } from './exchange.js';
import { lineTooLong, outputTooLarge } from './output-limit.js';
import { decidePrompt, isPagerPrompt, isPromptLine, type PromptMatch } from './prompt.js';

export interface ReadOptions {
  command: string;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  expect?: Pattern | undefined;
  passwordPrompt?: Pattern | undefined;
  /** Streaming: cleaned output goes to the consumer (as command `index`) and is not kept. */
  onChunk?: ChunkConsumer | undefined;
  index?: number;
  /** What is being waited for, for error messages; default: the prompt after `command` (see what()). */
  what?: string;
  /**
   * An empty line was typed ahead after the command: the end of output is the prompt, an
   * empty line, and the prompt again. 'probe' is the login check that the device answers it.
   */
  marker?: 'command' | 'probe' | undefined;
  /**
   * The caller's interactive answers for this command (never together with `marker`: the typed-ahead
   * empty line would answer the question). Secret replies are masked in what the read returns.
   */
  answers?: CommandAnswers | undefined;
  /**
   * Login only (drivers/shell-login.ts): an unterminated last line for which this is true ends
   * the read as 'screen' (a login screen to answer), before any prompt test.
   */
  screen?: ((line: string) => boolean) | undefined;
}

export interface ReadResult {
  output: string;
  /** The prompt (or expect/password line) that ended the read. */
  ended: 'prompt' | 'expect' | 'password' | 'screen';
  line: string;
  error: string;
}

/** What a read needs from its channel (session/channel.ts). */
export interface ReadHost {
  readonly device: string;
  readonly clock: Clock;
  readonly dirt: Dirt;
  readonly profile: Profile;
  readonly settleMs: number;
  readonly markerFallbackMs: number;
  readonly maxOutputBytes: number;
  /** The prompt that ends the read at once (undefined while learning it at login). */
  readonly knownPrompt: string | undefined;
  readonly flow: Flow;
  write(data: string): void;
  /** `read` becomes the channel's current read; text carried over from the last one is replayed. */
  attach(read: PromptRead): void;
  detach(read: PromptRead): void;
  /** Raw text received after an `expect` match, for the next read. */
  carry(text: string): void;
  /** The read ended at `prompt` (with `context` above it, Profile.contextLine): the channel's prompt from now on. */
  promptSeen(prompt: string, context: string): void;
  /** The login probe learned whether the device answers typed-ahead input. */
  markerChecked(answered: boolean): void;
  /** The device stopped answering the marker: its state is unknown. */
  markerLost(): void;
  /** The cap was passed: close at once so the device stops sending. */
  overflowed(): void;
}

/** Characters of each chunk's complete lines searched for `expect` (see expectEnd). */
const EXPECT_WINDOW = 1024;

type Quiet = 'prompt' | 'probe' | 'marker';

export class PromptRead extends Exchange<ReadResult> {
  readonly opts: ReadOptions;
  readonly #host: ReadHost;
  readonly #cleaner: StreamCleaner;
  /** Cleaned output kept for the result; stays empty when streaming (the consumer has it). */
  readonly #chunks: string[] = [];
  /** UTF-8 bytes in #chunks, checked against ssh.maxOutputBytes as they arrive. */
  #bytes = 0;
  #settle: TimerHandle | undefined;
  #settleMatch: PromptMatch | undefined;
  #pagerAnswered = false;
  /**
   * With a marker: the last complete line, held back because it is exactly a prompt. It is the
   * first of the two end prompts when the second follows at once; otherwise it was output.
   */
  #held: string | undefined;
  /**
   * With a two-line prompt (Profile.contextLine): the last complete lines, held back because they
   * may be the prompt's upper part (an empty line, the context line). They are dropped when the
   * prompt follows at once, and are output when more output follows.
   */
  #heldContext: string | undefined;

  constructor(host: ReadHost, opts: ReadOptions) {
    super(host.clock, host.device, host.dirt);
    this.#host = host;
    this.opts = opts;
    this.#cleaner = new StreamCleaner({ command: opts.command, pagerPatterns: host.profile.pagerPatterns, errorPatterns: host.profile.errorPatterns });
  }

  /** What the read waits for, for error messages, built only when one is sent (commands are redacted). */
  what(): string {
    return this.opts.what ?? `the prompt after "${redactCommand(this.opts.command)}"`;
  }

  protected override timedOut(ms: number): WarmpoolError {
    return new WarmpoolError('COMMAND_TIMEOUT', `device ${this.device}: no prompt within ${ms} ms waiting for ${this.what()}${this.#question()}`, { device: this.device });
  }

  /**
   * When the output stopped at an unterminated line that is not a prompt, the device is most
   * likely waiting at a question: say which (secrets masked, capped) and how to answer it.
   */
  #question(): string {
    if (!this.#cleaner.echoSeen) return '';
    const line = renderLine(this.#cleaner.pendingTail(512)).trim();
    if (line === '' || isPromptLine(this.#host.profile, line, undefined)) return '';
    let shown = redactSecrets(line.length > 120 ? `...${line.slice(-120)}` : line);
    if (this.opts.answers) shown = this.opts.answers.maskQuoted(shown);
    const answers = this.opts.answers;
    const hint = !answers ? 'pass RunRequest.answers to answer it' : answers.open ? "no unused answer's pattern matches its end" : 'every answer was already used once';
    return `; the output ended at a question: "${JSON.stringify(shown).slice(1, -1)}" (${hint})`;
  }

  protected override cancelled(): WarmpoolError {
    return new WarmpoolError('CANCELLED', `device ${this.device}: cancelled while waiting for ${this.what()}`, { device: this.device });
  }

  protected override begin(): void {
    this.#host.attach(this);
  }

  protected override released(err: WarmpoolError | undefined): void {
    this.#clearSettle();
    this.#host.detach(this);
    if (err) this.#chunks.length = 0;
  }

  /** Data from the device. */
  push(data: string): void {
    if (this.over) return;
    this.#clearSettle();
    this.#pagerAnswered = false;
    const o = this.opts;
    let lines = this.#cleaner.push(data);
    if (o.marker) lines = this.#holdPromptLine(lines);
    else if (this.#host.profile.contextLine) lines = this.#holdContextLines(lines);
    if (o.answers && lines.length > 0) o.answers.linesEnded();
    if (lines.length > 0) {
      const end = o.expect ? expectEnd(o.expect, lines) : -1;
      // Output ends with the line that matched `expect`; what follows (usually the
      // prompt) is kept for the next read so the session stays in step with the device.
      if (end >= 0) lines = lines.slice(0, end);
      if (!this.#keep(lines)) return;
      if (end >= 0) {
        this.#host.carry(this.#cleaner.pending);
        this.#finish('expect', '');
        return;
      }
    }
    // An unterminated line is held whole (even when streaming) until its line break or prompt.
    if (this.#cleaner.pending.length > this.#host.maxOutputBytes) {
      this.#overflow(lineTooLong(this.device, o.command, this.#host.maxOutputBytes));
      return;
    }
    this.#checkTail();
  }

  #clearSettle(): void {
    if (this.#settle) {
      this.clock.clearTimeout(this.#settle);
      this.#settle = undefined;
    }
  }

  /**
   * Hand cleaned text to the consumer (streaming: nothing is kept), or keep it for the result
   * while it fits ssh.maxOutputBytes. Returns false when the read failed (cap passed, consumer failed).
   */
  #keep(text: string): boolean {
    if (this.opts.answers) text = this.opts.answers.mask(text);
    const consumer = this.opts.onChunk;
    if (consumer) {
      this.deliver(consumer, this.opts.index ?? 0, text, this.#host.flow);
      return !this.done;
    }
    this.#bytes += Buffer.byteLength(text);
    if (this.#bytes > this.#host.maxOutputBytes) {
      this.#overflow(outputTooLarge(this.device, this.opts.command, this.#host.maxOutputBytes));
      return false;
    }
    this.#chunks.push(text);
    return true;
  }

  /**
   * Past the cap: fail the read, then close the session at once so the device stops sending
   * (what it still sends is never read) and memory stays bounded. The pool replaces it.
   */
  #overflow(err: WarmpoolError): void {
    this.fail(err);
    this.#chunks.length = 0;
    this.#host.overflowed();
  }

  /**
   * With an end marker, a complete line that is exactly a prompt is held back until the next
   * data shows what it was: the first end prompt (the second prompt follows at once), or a
   * line of output that merely looks like the prompt (more output follows): then it is output.
   */
  #holdPromptLine(lines: string): string {
    if (lines === '') return lines;
    if (this.#held !== undefined) {
      lines = this.#held + lines;
      this.#held = undefined;
    }
    const start = lines.lastIndexOf('\n', lines.length - 2) + 1;
    const last = lines.slice(start, lines.length - 1).trimEnd();
    if (last !== '' && isPromptLine(this.#host.profile, last, this.#host.knownPrompt)) {
      this.#held = lines.slice(start);
      return lines.slice(0, start);
    }
    return lines;
  }

  /** Two-line prompts: hold back a trailing context line (and the empty line above it), or a trailing empty line. */
  #holdContextLines(lines: string): string {
    if (lines === '') return lines;
    if (this.#heldContext !== undefined) {
      lines = this.#heldContext + lines;
      this.#heldContext = undefined;
    }
    const cut = contextStart(this.#host.profile.contextLine as Pattern, lines);
    if (cut < lines.length) {
      this.#heldContext = lines.slice(cut);
      return lines.slice(0, cut);
    }
    return lines;
  }

  #checkTail(): void {
    const cleaner = this.#cleaner;
    if (cleaner.pending.length === 0) return;
    const host = this.#host;
    const o = this.opts;
    const tail = renderLine(cleaner.pendingTail(512));
    if (!this.#pagerAnswered && isPagerPrompt(host.profile, tail)) {
      // Paging could not be disabled (or a command re-enabled it): page on.
      this.#pagerAnswered = true;
      host.write(' ');
      return;
    }
    if (o.answers && this.#answer(o.answers, tail)) return;
    if (o.screen && o.screen(tail)) {
      this.#finish('screen', tail.trim());
      return;
    }
    if (o.expect && o.expect.test(tail)) {
      this.#finish('expect', tail.trimEnd());
      return;
    }
    if (o.passwordPrompt && o.passwordPrompt.test(tail)) {
      this.#finish('password', tail.trimEnd());
      return;
    }
    let { decision, match } = decidePrompt(host.profile, tail, host.knownPrompt);
    // A prompt before the echo of our command is a leftover (the device reprinted its
    // prompt after a log message just before it read our command): only a quiet line counts.
    if (decision === 'prompt' && !cleaner.echoSeen) decision = 'settle';
    if (o.marker && decision !== 'none') {
      this.#checkMarker(match as PromptMatch);
      return;
    }
    if (decision === 'prompt') this.#finish('prompt', (match as PromptMatch).prompt);
    else if (decision === 'settle') this.#whenQuiet(match as PromptMatch, host.settleMs, 'prompt');
  }

  /**
   * A question at the end of the output that one of the caller's answers is for: send its reply
   * (never logged: it may be secret) and read on until the prompt. Only after the echo of the
   * command (a pattern could match the command line itself), and never at the known prompt (a
   * pattern that also matches the prompt would type the reply as a new command).
   */
  #answer(answers: CommandAnswers, tail: string): boolean {
    if (!this.#cleaner.echoSeen) return false;
    const known = this.#host.knownPrompt;
    if (known !== undefined && tail.trimEnd() === known) return false;
    const a = answers.take(tail);
    if (!a) return false;
    this.#host.write(a.reply + '\n');
    return true;
  }

  /**
   * Accept the prompt once nothing more has arrived for `ms` (new data clears the timer, push).
   * Quiet only because the stream is paused for a slow consumer does not count: look again later.
   */
  #whenQuiet(match: PromptMatch, ms: number, then: Quiet): void {
    this.#settleMatch = match;
    this.#settle = this.clock.setTimeout(() => {
      this.#settle = undefined;
      if (this.over) return;
      const pending = this.pending;
      if (pending) {
        void pending.then(() => {
          if (!this.over && !this.#settle) this.#checkTail();
        });
        return;
      }
      if (then === 'probe') this.#host.markerChecked(false);
      // The device stopped answering the marker as it did at login: its state is unknown.
      else if (then === 'marker') this.#host.markerLost();
      this.#finish('prompt', (this.#settleMatch as PromptMatch).prompt);
    }, ms);
  }

  /**
   * The tail is a prompt and an empty line was typed ahead: the output has ended when the held
   * line right before it is the same prompt (prompt, empty line, prompt). A prompt alone may be a
   * line of output that looks like one, so it is only accepted after markerFallbackMs of silence.
   */
  #checkMarker(match: PromptMatch): void {
    const probe = this.opts.marker === 'probe';
    if (this.#held !== undefined && this.#held.trimEnd() === match.prompt) {
      this.#held = undefined;
      if (probe) this.#host.markerChecked(true);
      this.#finish('prompt', match.prompt);
      return;
    }
    const host = this.#host;
    this.#whenQuiet(match, probe ? Math.max(250, host.settleMs * 4) : host.markerFallbackMs, probe ? 'probe' : 'marker');
  }

  #finish(ended: ReadResult['ended'], line: string): void {
    if (this.over) return;
    this.#clearSettle();
    // After an `expect` match inside complete lines, the pending text belongs to the next read (carry).
    let rest = ended === 'expect' && line === '' ? '' : this.#cleaner.finish(ended === 'prompt' ? line : '');
    if (this.#held !== undefined) {
      // Ended some other way than the marker: the held line was output after all.
      rest = this.#held + rest;
      this.#held = undefined;
    }
    let context = '';
    if (this.#heldContext !== undefined) {
      // Right above the prompt (nothing printed on the prompt's line before it): the prompt's upper part.
      const ctxLine = ended === 'prompt' && rest === '' ? lastLine(this.#heldContext) : '';
      if (ctxLine !== '' && (this.#host.profile.contextLine as Pattern).test(ctxLine)) context = ctxLine.trim();
      else rest = this.#heldContext + rest;
      this.#heldContext = undefined;
    }
    if (rest && !this.#keep(rest)) return;
    if (ended === 'prompt') this.#host.promptSeen(line, context);
    const chunks = this.#chunks;
    let output: string;
    try {
      output = chunks.length === 1 ? (chunks[0] as string) : chunks.join('');
    } catch {
      // ERR_STRING_TOO_LONG (a cap configured near 512 MiB): answer the call, never leave it hanging.
      this.#overflow(outputTooLarge(this.device, this.opts.command, this.#host.maxOutputBytes));
      return;
    }
    chunks.length = 0;
    const error = this.opts.answers ? this.opts.answers.maskQuoted(this.#cleaner.error) : this.#cleaner.error;
    this.succeed({ output, ended, line, error });
  }
}

/** Where the line whose "\n" is at `nl` starts. */
const lineStart = (lines: string, nl: number): number => (nl > 0 ? lines.lastIndexOf('\n', nl - 1) + 1 : 0);

/** The last line of complete lines (each ending in "\n"), without its line end. */
function lastLine(lines: string): string {
  return lines.slice(lineStart(lines, lines.length - 1), lines.length - 1);
}

/**
 * Where the possible upper part of a two-line prompt starts in complete lines: a last line that is
 * a context line (and the empty line above it), or a last empty line (a context line may follow);
 * lines.length when neither.
 */
function contextStart(contextLine: Pattern, lines: string): number {
  const start = lineStart(lines, lines.length - 1);
  const last = lines.slice(start, lines.length - 1);
  if (last.trim() === '') return start;
  if (last.length > 512 || !contextLine.test(last)) return lines.length;
  if (start === 0) return 0;
  const above = lineStart(lines, start - 1);
  return lines.slice(above, start - 1).trim() === '' ? above : start;
}

/**
 * Index just after the line where `expect` matches in a chunk's complete lines, -1 when it does
 * not. Only the chunk's last EXPECT_WINDOW characters are searched (from a line start): a
 * question is the last thing a device prints before it waits, and a caller's pattern, linear as
 * RE2 is, can still cost tens of µs a character, so the window bounds its cost per chunk.
 */
function expectEnd(p: Pattern, text: string): number {
  let start = 0;
  if (text.length > EXPECT_WINDOW) {
    start = text.length - EXPECT_WINDOW;
    const nl = text.indexOf('\n', start);
    if (nl >= 0 && nl + 1 < text.length) start = nl + 1;
  }
  const end = p.endOfMatchingLine(start === 0 ? text : text.slice(start));
  return end < 0 ? -1 : start + end;
}
