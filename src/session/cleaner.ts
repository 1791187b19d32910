/**
 * Turns what a PTY shell printed into what the command printed: no echoed command,
 * no trailing prompt, no pager prompts or the backspaces/ANSI used to erase them, no
 * ANSI escapes, no `\r`; line ends `\n`.
 *
 * A line is "rendered" the way a terminal would show it (carriage return, backspace,
 * erase-in-line all move or clear a cursor), which is what removes pager artefacts
 * such as " --More-- \b\b\b\b\b\b\b\b\b\b          \b\b\b\b\b\b\b\b\b\b" without
 * knowing the exact bytes each platform sends. Lines without control characters (the
 * vast majority, e.g. a multi-MB configuration) take a fast path.
 */
import type { Pattern } from '../core/pattern.js';
import { COMMON_PAGER_PATTERNS } from '../platforms/profiles.js';

/** Rightmost column a cursor movement can reach (text itself may run longer). */
const MAX_CURSOR_COLUMN = 4096;

/** A pending line with control characters is rendered ahead (compactPartial) past this many characters. */
const COMPACT_AT = 65_536;

/** Control characters other than \t and \n. */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f\x9b]/;

/**
 * The visible text of one line (no `\n` inside) after terminal rendering.
 * Never returns ESC, `\r`, `\b` or other control characters (tabs are kept).
 */
export function renderLine(line: string): string {
  // CRLF (and the CR CR LF some devices send) is a line end, not an overwrite.
  let end = line.length;
  while (end > 0 && line.charCodeAt(end - 1) === 13) end--;
  if (end !== line.length) line = line.slice(0, end);
  if (!CONTROL.test(line)) return line;
  const r = renderCursor(line);
  // Erasing with spaces leaves trailing blanks that were never output.
  return r.edited ? r.text.trimEnd() : r.text;
}

/**
 * A terminal's state after `line`: the characters on the line (untrimmed), the cursor column,
 * and whether anything moved the cursor or erased (then trailing blanks were never output).
 */
export function renderCursor(line: string): { text: string; pos: number; edited: boolean } {

  const buf: string[] = [];
  let pos = 0;
  let edited = false;
  const n = line.length;
  for (let i = 0; i < n; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x1b || c === 0x9b) {
      // ESC sequences. CSI: ESC [ params intermediates final (or the 8-bit CSI 0x9b).
      let j = i + 1;
      if (c === 0x9b || line.charCodeAt(j) === 0x5b) {
        if (c === 0x1b) j++;
        const pStart = j;
        while (j < n && line.charCodeAt(j) >= 0x30 && line.charCodeAt(j) <= 0x3f) j++;
        const params = line.slice(pStart, j);
        while (j < n && line.charCodeAt(j) >= 0x20 && line.charCodeAt(j) <= 0x2f) j++;
        if (j >= n) {
          i = n;
          break;
        }
        const final = line[j];
        const num = parseInt(params, 10);
        if (final === 'K') {
          edited = true;
          if (!params || params === '0') buf.length = Math.min(buf.length, pos);
          else if (params === '1') for (let k = 0; k < pos && k < buf.length; k++) buf[k] = ' ';
          else buf.length = 0;
        } else if (final === 'D') {
          edited = true;
          pos = Math.max(0, pos - (Number.isFinite(num) && num > 0 ? num : 1));
        } else if (final === 'C') {
          edited = true;
          // Clamped like a terminal's last column: "x ESC[4096C" repeated would otherwise render
          // 8 bytes as 4 097 columns (64 KB of input into 33 MB, and the event loop blocked for seconds).
          if (pos < MAX_CURSOR_COLUMN) pos = Math.min(MAX_CURSOR_COLUMN, pos + (Number.isFinite(num) && num > 0 ? num : 1));
        } else if (final === 'G') {
          edited = true;
          pos = Number.isFinite(num) && num > 0 ? Math.min(num - 1, MAX_CURSOR_COLUMN) : 0;
        }
        // SGR (m) and anything else: no visible effect.
        i = j;
        continue;
      }
      if (line.charCodeAt(j) === 0x5d) {
        // OSC: ESC ] ... (BEL | ESC \)
        j++;
        while (j < n) {
          const d = line.charCodeAt(j);
          if (d === 0x07) break;
          if (d === 0x1b && line.charCodeAt(j + 1) === 0x5c) {
            j++;
            break;
          }
          j++;
        }
        i = j;
        continue;
      }
      // Other escapes: ESC intermediates* final (ESC 7, ESC ( B, ESC =, ...).
      while (j < n && line.charCodeAt(j) >= 0x20 && line.charCodeAt(j) <= 0x2f) j++;
      i = j;
      continue;
    }
    if (c === 13) {
      pos = 0;
      edited = true;
      continue;
    }
    if (c === 8) {
      if (pos > 0) pos--;
      edited = true;
      continue;
    }
    if (c < 0x20 && c !== 9) continue;
    if (c === 0x7f) continue;
    while (buf.length < pos) buf.push(' ');
    buf[pos] = line[i] as string;
    pos++;
  }
  return { text: buf.join(''), pos, edited };
}

function stripPager(line: string, pagers: Pattern[]): string {
  // Cheap pre-check: every supported pager prompt contains "ore" (More/more).
  if (pagers.length === 0 || line.indexOf('ore') < 0) return line;
  for (const p of pagers) line = p.remove(line);
  return line;
}

export interface StreamCleanerOptions {
  /** The command that was typed: its echo (the first line) is dropped. '' when nothing was typed. */
  command: string;
  pagerPatterns?: Pattern[];
  /** Lines matching one of these make `error` the matching line (earlier patterns win). */
  errorPatterns?: Pattern[];
}

/**
 * Incremental cleaner for one command's output: feed raw chunks, get cleaned complete
 * lines back (for streaming), then `finish(prompt)` for the rest. Only the unterminated
 * last line is kept between chunks, so multi-MB outputs are processed in one pass.
 */
export class StreamCleaner {
  readonly #command: string;
  readonly #pagers: Pattern[];
  readonly #errors: Pattern[];
  #partial = '';
  /** The echo of the typed command has been seen (and dropped); true when nothing was typed. */
  echoSeen: boolean;
  readonly #preEcho: string[] = [];
  #errorRank = Infinity;
  /** The first line that matched the highest-priority error pattern, '' when none. */
  error = '';

  constructor(opts: StreamCleanerOptions) {
    this.#command = opts.command.trim();
    this.echoSeen = this.#command === '';
    this.#pagers = opts.pagerPatterns ?? COMMON_PAGER_PATTERNS;
    this.#errors = opts.errorPatterns ?? [];
  }

  /**
   * The last (up to) 1024 raw characters of the pending line, kept flat: slicing the tail off
   * `partial` (a rope after `+=`) would flatten all of it on every chunk, O(n²) for a long line.
   */
  #tailBuf = '';
  /** The pending line holds control characters (only such a line needs rendering work). */
  #partialControl = false;
  /** Length of the pending line at which compactPartial runs next: doubles, so the work stays linear. */
  #compactAt = COMPACT_AT;
  pendingTail(max: number): string {
    return this.#tailBuf.length > max ? this.#tailBuf.slice(this.#tailBuf.length - max) : this.#tailBuf;
  }

  /** The raw text since the last line end (where a prompt or pager prompt would be). */
  get pending(): string {
    return this.#partial;
  }


  /**
   * Render what has arrived of a long pending line with control characters now, so that its end
   * does not render megabytes in one event-loop turn (a hostile device's escape storm): the line
   * becomes its visible characters, a CR and the first `pos` of them again, which leaves the same
   * characters with the cursor in the same column. Trailing CRs (maybe half of a CRLF) and a
   * recent escape sequence (maybe continued in the next chunk) stay raw.
   */
  #compactPartial(): void {
    const p = this.#partial;
    let cut = p.length;
    while (cut > 0 && p.charCodeAt(cut - 1) === 13) cut--;
    const esc = Math.max(p.lastIndexOf('\x1b', cut - 1), p.lastIndexOf('\x9b', cut - 1));
    if (esc >= 0 && cut - esc < 256) cut = esc;
    if (cut >= COMPACT_AT / 2) {
      const { text, pos } = renderCursor(p.slice(0, cut));
      const line = pos > text.length ? text.padEnd(pos) : text;
      this.#partial = `${line}\r${line.slice(0, pos)}${p.slice(cut)}`;
    }
    // A line that renders to much text (plain text with a few escapes) is not re-rendered on
    // every chunk: only once it has doubled again.
    this.#compactAt = Math.max(COMPACT_AT, 2 * this.#partial.length);
  }

  /** Feed raw output; returns the cleaned complete lines it finished ('' when none), each ending "\n". */
  push(raw: string): string {
    const nl = raw.lastIndexOf('\n');
    if (nl < 0) {
      this.#partial += raw;
      this.#tailBuf = raw.length >= 1024 ? raw.slice(raw.length - 1024) : (this.#tailBuf + raw).slice(-1024);
      if (!this.#partialControl && CONTROL.test(raw)) this.#partialControl = true;
      if (this.#partialControl && this.#partial.length > this.#compactAt) this.#compactPartial();
      return '';
    }
    const text = this.#partial + raw.slice(0, nl);
    this.#partial = raw.slice(nl + 1);
    this.#partialControl = CONTROL.test(this.#partial);
    this.#compactAt = COMPACT_AT;
    this.#tailBuf = this.#partial.length > 1024 ? this.#partial.slice(this.#partial.length - 1024) : this.#partial;
    const lines = text.split('\n');
    let out = '';
    for (let i = 0; i < lines.length; i++) {
      const line = stripPager(renderLine(lines[i] as string), this.#pagers);
      if (!this.echoSeen) {
        // The echo is normally the first line. Lines before it were printed before the
        // device read our command (a log message, a prompt left over from a keepalive):
        // held back, and dropped once the echo shows they were not this command's output.
        if (line.trimEnd().endsWith(this.#command)) {
          this.echoSeen = true;
          this.#preEcho.length = 0;
        } else {
          this.#preEcho.push(line);
        }
        continue;
      }
      if (this.#errorRank > 0 && this.#errors.length > 0) this.#checkError(line);
      out += line + '\n';
    }
    return out;
  }

  #checkError(line: string): void {
    const limit = Math.min(this.#errorRank, this.#errors.length);
    for (let k = 0; k < limit; k++) {
      if ((this.#errors[k] as Pattern).test(line)) {
        this.#errorRank = k;
        this.error = line.trim();
        return;
      }
    }
  }

  /**
   * The cleaned remainder once the command ended: the pending line without the prompt
   * (text printed without a final newline before the prompt is kept).
   */
  finish(prompt: string): string {
    const rest = stripPager(renderLine(this.#partial), this.#pagers);
    this.#partial = '';
    this.#partialControl = false;
    this.#compactAt = COMPACT_AT;
    this.#tailBuf = '';
    const p = prompt.trimEnd();
    const r = rest.trimEnd();
    let remainder = rest;
    if (p !== '' && r.endsWith(p)) remainder = r.slice(0, r.length - p.length);
    let head = '';
    if (!this.echoSeen) {
      if (remainder.trimEnd().endsWith(this.#command)) {
        // No line end after the echo: the echo and the prompt share this line.
        remainder = '';
      } else if (this.#preEcho.length > 0) {
        // No echo at all (a device that does not echo): the held-back lines were output.
        for (const l of this.#preEcho) {
          if (this.#errors.length > 0 && this.#errorRank > 0) this.#checkError(l);
          head += l + '\n';
        }
      }
      this.#preEcho.length = 0;
      this.echoSeen = true;
    }
    if (remainder.trim() === '') return head;
    if (this.#errors.length > 0 && this.#errorRank > 0) this.#checkError(remainder);
    return head + remainder;
  }
}

/** One-shot form of StreamCleaner: the cleaned output of `raw` for `command` ending at `prompt`. */
export function cleanOutput(raw: string, command: string, prompt: string, pagerPatterns?: Pattern[]): string {
  const c = new StreamCleaner({ command, pagerPatterns: pagerPatterns ?? COMMON_PAGER_PATTERNS });
  return c.push(raw) + c.finish(prompt);
}
