/**
 * Patterns matched against device output: RE2 syntax, matched in time linear in the
 * input (re2js, a pure-JS port of RE2), never by JavaScript's backtracking RegExp.
 * A caller's `(a+a+)+b` against 34 echoed characters used to block the event loop for
 * tens of seconds; here it costs microseconds.
 *
 * Linear is not free: re2js's cost per input character grows with the compiled
 * program's size (its DFA builds states of up to that many instructions, and falls back
 * to an NFA that runs that many threads), so the program size is capped, and so is the
 * source length. Large counted repeats (`x{500}`) are what makes programs big, and a
 * pattern such as `(?:x{100}){999}` would take seconds just to compile, so the size is
 * estimated from the source before re2js sees it.
 */
import { RE2JS, RE2JSSyntaxException } from 're2js';
import { WarmpoolError } from './errors.js';

/** Where a pattern comes from: a request field (caller input) or the inventory / built-in profiles. */
export type PatternKind = 'request' | 'config';

export interface PatternOptions {
  /** The request field or inventory key the source came from, named in every error. */
  field: string;
  kind: PatternKind;
  caseInsensitive?: boolean;
  /** `^` and `$` match at line starts and ends, not only at the ends of the input. */
  multiline?: boolean;
  /**
   * A literal every match contains (case-sensitive; only for our own built-in patterns, whose
   * author knows it). Inputs without it are refused by a plain substring search, without re2js:
   * error patterns run on every output line, and re2js costs about 0.2-0.5 µs a call.
   */
  mustContain?: string;
}

export interface PatternMatch {
  /** Offset of the match's first character. */
  index: number;
  /** Offset just after its last character. */
  end: number;
  /** Named groups (`(?<name>...)` or `(?P<name>...)`); undefined when a group took no part. */
  groups: Record<string, string | undefined>;
}

/**
 * Caps per kind. `maxProgram` is the compiled program size (re2js `programSize()`, about
 * one instruction per literal character or class, times repeat counts). Requests get a
 * small one: a prompt or confirmation pattern needs a few dozen instructions, and the
 * worst-case cost per character of output grows faster than linearly with it (measured
 * with crafted patterns whose DFA needs a new state at nearly every character, 512
 * characters of a/b: 5 µs per character at 63 instructions, 22 µs at 104, 160 µs at 213). Inventory prompts are
 * only tested against the last line (at most 256 characters), so they may be larger
 * (the built-in Linux prompt is 773).
 */
export const PATTERN_LIMITS: Record<PatternKind, { maxLength: number; maxProgram: number }> = {
  request: { maxLength: 1024, maxProgram: 128 },
  config: { maxLength: 1024, maxProgram: 1000 },
};

/** The documentation section that explains the syntax, named in every refusal. */
export const PATTERN_DOCS = 'patterns use RE2 syntax, see docs/operations.md#patterns';

/** A refused pattern: a WarmpoolError naming the field, plus the bare problem for callers that word their own prefix. */
export class PatternError extends WarmpoolError {
  readonly problem: string;
  constructor(kind: PatternKind, field: string, problem: string, cause?: unknown) {
    super(kind === 'request' ? 'INVALID_ARGUMENT' : 'CONFIG_INVALID', `${field}: ${problem}`, { field, cause });
    this.name = 'PatternError';
    this.problem = problem;
  }
}

export class Pattern {
  readonly source: string;
  readonly field: string;
  readonly #re: RE2JS;
  readonly #names: string[];
  /** The character every match must start the input with, when the source says so (see requiredFirstChar). */
  readonly #first: string | undefined;
  readonly #mustContain: string | undefined;

  constructor(source: string, field: string, re: RE2JS, first?: string, mustContain?: string) {
    this.source = source;
    this.field = field;
    this.#re = re;
    this.#names = Object.keys(re.namedGroups());
    this.#first = first;
    this.#mustContain = mustContain;
  }

  /** Compiled program size (the figure capped by PATTERN_LIMITS). */
  get programSize(): number {
    return this.#re.programSize();
  }

  /** Does the pattern match anywhere in `s`? Runs re2js's DFA (no captures): the cheapest question. */
  test(s: string): boolean {
    // Fast path for error patterns such as "^% " checked on every output line: most lines
    // fail on their first character, without re2js's per-call set-up (about 0.5 µs).
    if (this.#first !== undefined && s[0] !== this.#first) return false;
    if (this.#mustContain !== undefined && !s.includes(this.#mustContain)) return false;
    return this.#re.test(s);
  }

  /**
   * The leftmost match in `s` with its named groups, or undefined. Captures need re2js's
   * backtracker (short inputs) or NFA, several times slower than `test`, so the DFA
   * answers "no match" first, which is the usual answer. Keep `s` short (a line).
   */
  exec(s: string): PatternMatch | undefined {
    if (!this.test(s)) return undefined;
    const m = this.#re.matcher(s);
    if (!m.find()) return undefined;
    const groups: Record<string, string | undefined> = {};
    for (const name of this.#names) groups[name] = m.group(name) ?? undefined;
    return { index: m.start(), end: m.end(), groups };
  }

  /** `s` without any match (each removed left to right, as String.replace with a global RegExp and ""). */
  remove(s: string): string {
    if (!this.#re.test(s)) return s;
    return this.#re.matcher(s).replaceAll('');
  }

  /**
   * Offset just after the line (ending in "\n", or the end of `text`) where the first
   * match to end in `text` ends, -1 when there is none. Only the DFA runs (no capture
   * engine): one pass answers "none", the usual case; on a match, a binary search over
   * line ends finds the shortest prefix that still matches, in about log2(lines) passes.
   * Prefixes are cut just before a "\n", where `$` (multiline) and `\b` mean what they
   * mean in the whole text, so a match that spans lines is found where it ends.
   */
  endOfMatchingLine(text: string): number {
    if (!this.#re.test(text)) return -1;
    let lo = -1; // a cut (index of a "\n") whose prefix does not match, or -1
    let hi = text.length; // the smallest cut known to match (text.length: the whole text)
    for (;;) {
      const mid = lo + 1 + ((hi - lo - 1) >> 1);
      // The cut nearest the midpoint on either side, strictly between lo and hi.
      let cut = text.lastIndexOf('\n', mid);
      if (cut <= lo) {
        cut = text.indexOf('\n', mid);
        if (cut < 0 || cut >= hi) break;
      }
      if (this.#re.test(text.slice(0, cut))) hi = cut;
      else lo = cut;
    }
    return hi >= text.length ? text.length : hi + 1;
  }

  toString(): string {
    return this.source;
  }
}

/**
 * Compile `source` (RE2 syntax) or throw a PatternError: INVALID_ARGUMENT for a request
 * field, CONFIG_INVALID for an inventory key, the message naming the field and saying
 * in plain words what is not supported.
 */
export function compilePattern(source: string, opts: PatternOptions): Pattern {
  const limits = PATTERN_LIMITS[opts.kind];
  const refuse = (problem: string, cause?: unknown): never => {
    throw new PatternError(opts.kind, opts.field, problem, cause);
  };
  if (source.length > limits.maxLength) refuse(`is ${source.length} characters, over the limit of ${limits.maxLength}`);
  // Before re2js expands repeats: (?:x{100}){999} would take seconds and megabytes to compile.
  const estimate = estimateProgramSize(source);
  if (estimate > limits.maxProgram * 8) refuse(tooComplex(`about ${estimate}`, limits.maxProgram));
  let flags = 0;
  if (opts.caseInsensitive) flags |= RE2JS.CASE_INSENSITIVE;
  if (opts.multiline) flags |= RE2JS.MULTILINE;
  let re: RE2JS | undefined;
  try {
    re = RE2JS.compile(source, flags);
  } catch (err) {
    refuse(explainSyntaxError(err), err);
  }
  const compiled = re as RE2JS;
  const size = compiled.programSize();
  if (size > limits.maxProgram) refuse(tooComplex(String(size), limits.maxProgram));
  return new Pattern(source, opts.field, compiled, opts.multiline ? undefined : requiredFirstChar(source, opts.caseInsensitive === true), opts.mustContain);
}

/**
 * For a source of the form `^c...` (not multiline) with `c` a plain literal that is not
 * optional and no `|` outside groups: `c`, the character the input must start with.
 * Undefined whenever that is not certain (escapes, classes, groups, flags, letters under
 * case-insensitivity): the fast path is then simply not taken.
 */
export function requiredFirstChar(source: string, caseInsensitive: boolean): string | undefined {
  if (source[0] !== '^' || source.length < 2) return undefined;
  const c = source[1] as string;
  if ('\\.[](){}*+?|^$'.includes(c) || (c >= '\ud800' && c <= '\udfff')) return undefined;
  if (caseInsensitive && c.toLowerCase() !== c.toUpperCase()) return undefined;
  const next = source[2];
  if (next === '*' || next === '?' || next === '{' || next === '|') return undefined;
  // A top-level alternative (`^% |x`) could match without the character.
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const d = source[i];
    if (d === '\\') i++;
    else if (d === '[') {
      let j = i + 1;
      if (source[j] === '^') j++;
      if (source[j] === ']') j++;
      while (j < source.length && source[j] !== ']') j += source[j] === '\\' ? 2 : 1;
      i = j;
    } else if (d === '(') depth++;
    else if (d === ')') depth--;
    else if (d === '|' && depth === 0) return undefined;
  }
  return c;
}

/**
 * A device's prompt pattern, as the shell driver applies it: to the last line only, so
 * anchored at the end (trailing blanks allowed) unless it already ends with `$`.
 * The inventory validates with this same function, so what it accepts compiles here.
 */
export function compilePromptPattern(source: string, field: string): Pattern {
  const anchored = source.endsWith('$') ? source : `(?:${source})\\s*$`;
  return compilePattern(anchored, { field, kind: 'config' });
}

function tooComplex(size: string, max: number): string {
  return `is too complex (${size} instructions once compiled, limit ${max}): large repeat counts such as {500} are the usual cause, use * or + instead; ${PATTERN_DOCS}`;
}

/** A fragment of the pattern for a message: short and printable (the source may be 1024 characters). */
function fragment(s: string): string {
  const cut = s.length > 24 ? `${s.slice(0, 24)}...` : s;
  return cut.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/** re2js's syntax errors in plain words, naming the usual suspects from JavaScript/PCRE habits. */
function explainSyntaxError(err: unknown): string {
  if (!(err instanceof RE2JSSyntaxException)) return `cannot be compiled (${err instanceof Error ? err.message.slice(0, 120) : 'unknown error'}); ${PATTERN_DOCS}`;
  const desc = err.getDescription();
  const at = err.getPattern() ?? '';
  let what: string | undefined;
  if (at.startsWith('(?=')) what = 'lookahead (?=...) is not supported';
  else if (at.startsWith('(?!')) what = 'negative lookahead (?!...) is not supported';
  else if (at.startsWith('(?<=')) what = 'lookbehind (?<=...) is not supported';
  else if (at.startsWith('(?<!')) what = 'negative lookbehind (?<!...) is not supported';
  else if (at.startsWith('(?>')) what = 'atomic groups (?>...) are not supported';
  else if (/^\\[1-9]/.test(at)) what = `backreferences (${fragment(at)}) are not supported`;
  else if (at.startsWith('\\k')) what = 'named backreferences (\\k<name>) are not supported';
  else if (at.startsWith('\\u')) what = 'the \\uXXXX escape is not supported (write \\x{XXXX})';
  else if (at.startsWith('\\c')) what = 'control escapes (\\cX) are not supported (write \\x{..})';
  else if (at.startsWith('\\Z')) what = '\\Z is not supported (use \\z or $)';
  else if (desc === 'invalid nested repetition operator') what = `possessive or doubled quantifiers (${fragment(at)}) are not supported`;
  else if (desc === 'invalid repeat count') what = `repeat count ${fragment(at)} is not allowed (counts go from 0 to 1000, the first not above the second, and nested counts multiply)`;
  if (what !== undefined) return `${what}: ${PATTERN_DOCS}`;
  return `is not a valid pattern: ${desc}${at ? ` at "${fragment(at)}"` : ''}; ${PATTERN_DOCS}`;
}

/**
 * An upper estimate of the compiled size, from the source alone, in one linear pass:
 * every atom counts 1, a group counts its contents, and `{n,m}` multiplies the atom
 * before it by 2*max(n,m) (an optional copy compiles to two instructions). Only used
 * to refuse absurd sources before re2js expands them; the real size is checked after.
 */
export function estimateProgramSize(source: string): number {
  const stack: number[] = [];
  let cur = 0;
  let last = 0;
  const n = source.length;
  for (let i = 0; i < n; i++) {
    const c = source[i] as string;
    if (c === '\\') {
      const d = source[i + 1];
      i++;
      // \x{...}, \p{...}, \P{...}: braces belong to the escape.
      if ((d === 'x' || d === 'p' || d === 'P') && source[i + 1] === '{') {
        const close = source.indexOf('}', i);
        i = close < 0 ? n : close;
      } else if (d === 'Q') {
        const close = source.indexOf('\\E', i);
        const lit = (close < 0 ? n : close) - i - 1;
        cur += Math.max(0, lit);
        i = close < 0 ? n : close + 1;
        last = 1;
        continue;
      }
      last = 1;
      cur += 1;
    } else if (c === '[') {
      // A class is one instruction; skip to its closing bracket (a leading ] or ^] is literal).
      let j = i + 1;
      if (source[j] === '^') j++;
      if (source[j] === ']') j++;
      while (j < n && source[j] !== ']') {
        if (source[j] === '\\') j++;
        else if (source[j] === '[' && source[j + 1] === ':') {
          const close = source.indexOf(':]', j + 2);
          if (close >= 0) j = close + 1;
        }
        j++;
      }
      i = j;
      last = 1;
      cur += 1;
    } else if (c === '(') {
      stack.push(cur);
      cur = 0;
      last = 0;
    } else if (c === ')') {
      const inner = cur + 2;
      cur = (stack.pop() ?? 0) + inner;
      last = inner;
    } else if (c === '{') {
      const m = /^\{(\d{1,7})(?:(,)(\d{0,7}))?\}/.exec(source.slice(i, i + 18));
      if (m) {
        const lo = Number(m[1]);
        const hi = m[3] ? Number(m[3]) : m[2] ? lo + 1 : lo;
        const times = 2 * Math.max(lo, hi, 1);
        cur += last * (times - 1);
        last *= times;
        i += m[0].length - 1;
      } else {
        last = 1;
        cur += 1;
      }
    } else {
      cur += 1;
      last = c === '|' || c === '*' || c === '+' || c === '?' ? last : 1;
    }
    // Stop early: the caller only compares against a limit, and the product can overflow.
    if (cur > 1e7) return cur;
  }
  while (stack.length > 0) cur += stack.pop() as number;
  return cur;
}
