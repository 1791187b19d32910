/**
 * Interactive answers (docs/api.md, "Interactive answers"): questions a command asks on its way
 * ("Proceed with reload? [confirm]", "Destination filename [startup-config]?", "Are you sure? (y/n)")
 * and the replies the caller gave for them. The read (prompt-read.ts) asks `take` with the
 * unterminated last line of output; this module decides which answer, if any, applies, and masks
 * secret replies in what the read returns.
 *
 * Rules, and why:
 * - A pattern must match at the END of the pending line (trailing blanks allowed): a question is the
 *   last thing a device prints before it waits, and an unanchored pattern could fire on half a line
 *   that arrived in one packet, typing the reply before the device asks.
 * - Each answer is used at most once per command. A device that asks again (a refused password, a
 *   loop) is not fed the same reply forever (or a wrong password until the account locks); a caller
 *   who expects the same question twice lists the answer twice. The number of answers is capped
 *   (MAX_ANSWERS), so a command answers at most that many questions.
 * - Among unused answers, the first in request order whose pattern matches is used.
 * - After an answer, the same unchanged line is not answered again: only new text on the line or a
 *   new line can be a new question (a bell or an ANSI sequence alone is not).
 */
import { compilePattern, type Pattern } from '../core/pattern.js';

/** At most this many answers per request. */
export const MAX_ANSWERS = 16;
/** A reply is at most this many characters (a file name, a password, "yes"). */
export const MAX_REPLY_LENGTH = 1024;
/** What an echoed secret reply is replaced with in returned output. */
export const REDACTED = '[REDACTED]';
/**
 * A secret reply at least this long is masked wherever it appears in the output (a device may
 * print it back in an error). A shorter one ("y") only where it was echoed after its question:
 * masking every "y" would destroy the output and protects nothing.
 */
const MASK_ANYWHERE_MIN = 4;

export interface Answer {
  /** The pattern as the caller wrote it (for audit). */
  source: string;
  /** The caller's pattern anchored at the end of the line (answerPattern). */
  pattern: Pattern;
  /** Sent followed by "\n". */
  reply: string;
  secret: boolean;
}

/**
 * Compile an answer's pattern: the caller's source under the same RE2 caps as `expect`
 * (throws PatternError naming `field`), then anchored at the end of the line. The anchor adds a
 * handful of instructions to a program already within the request cap, so it is compiled under
 * the (larger) built-in cap and cannot fail once the source passed.
 */
export function answerPattern(source: string, field: string): Pattern {
  compilePattern(source, { field, kind: 'request' });
  return compilePattern(`(?:${source})\\s*$`, { field, kind: 'config' });
}

/** The answers of one command: which were used, and the masking of secret replies. */
export class CommandAnswers {
  readonly #answers: readonly Answer[];
  readonly #used: boolean[];
  /** Secret replies masked anywhere (long enough, see MASK_ANYWHERE_MIN). */
  readonly #maskAnywhere: string[];
  /** The line last answered, while no new line has started since. */
  #answeredLine: string | undefined;
  /** A secret reply just sent: masked at the end of the next complete line (its echo). */
  #echo: string | undefined;
  #count = 0;

  constructor(answers: readonly Answer[]) {
    this.#answers = answers;
    this.#used = answers.map(() => false);
    this.#maskAnywhere = answers.filter((a) => a.secret && a.reply.length >= MASK_ANYWHERE_MIN).map((a) => a.reply);
  }

  /** Questions answered so far. */
  get count(): number {
    return this.#count;
  }

  /** Are there answers left to use? */
  get open(): boolean {
    return this.#count < this.#answers.length;
  }

  /**
   * The answer for a question at the end of `line` (the rendered pending line), marked used;
   * undefined when none applies.
   */
  take(line: string): Answer | undefined {
    if (this.#answeredLine !== undefined && line === this.#answeredLine) return undefined;
    for (let i = 0; i < this.#answers.length; i++) {
      if (this.#used[i]) continue;
      const a = this.#answers[i] as Answer;
      if (!a.pattern.test(line)) continue;
      this.#used[i] = true;
      this.#count++;
      this.#answeredLine = line;
      if (a.secret && a.reply !== '') this.#echo = a.reply;
      return a;
    }
    return undefined;
  }

  /** Complete lines arrived: the answered line is over (a repeated question is a new one). */
  linesEnded(): void {
    this.#answeredLine = undefined;
  }

  /**
   * `text` (complete lines, or the last rest of a read) with secret replies masked: the echo right
   * after its question (the end of the first line) and long secrets anywhere.
   */
  mask(text: string): string {
    if (this.#echo !== undefined) {
      const secret = this.#echo;
      this.#echo = undefined;
      const nl = text.indexOf('\n');
      const first = nl < 0 ? text : text.slice(0, nl);
      const trimmed = first.trimEnd();
      if (trimmed.endsWith(secret)) {
        text = trimmed.slice(0, trimmed.length - secret.length) + REDACTED + first.slice(trimmed.length) + (nl < 0 ? '' : text.slice(nl));
      }
    }
    for (const s of this.#maskAnywhere) if (text.includes(s)) text = text.split(s).join(REDACTED);
    return text;
  }

  /** Secret text masked for an error message (a line quoted from the output). */
  maskQuoted(text: string): string {
    let out = text;
    for (const a of this.#answers) if (a.secret && a.reply !== '' && out.includes(a.reply)) out = out.split(a.reply).join(REDACTED);
    return out;
  }
}
