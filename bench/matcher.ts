/**
 * JavaScript RegExp (backtracking) against the Pattern wrapper (re2js, linear time), side by
 * side in one process, on what the shell driver really matches: the prompt check on a chunk's
 * unterminated tail, the error patterns on every output line, an `expect` over a 1 MB chunk;
 * then the catastrophic `(a+a+)+b`, and the worst case for re2js itself within the caps.
 *
 *   npm run bench -- matcher          (or: node dist/bench/matcher.js after npm run build)
 *
 * Writes bench/results/matcher.{md,json}.
 */
import { compilePattern, type Pattern } from '../src/core/pattern.js';
import { resolveProfile } from '../src/platforms/profiles.js';
import { decidePrompt } from '../src/session/prompt.js';
import type { DeviceSpec } from '../src/config/types.js';
import { writeResult } from './lib/stats.js';

/** Median over `rounds` of the mean time per call (ns) of `fn`, run `n` times per round after a warm-up. */
function perCall(fn: () => unknown, n: number, rounds = 5): number {
  for (let i = 0; i < Math.min(n, 2000); i++) fn();
  const means: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    means.push(((performance.now() - t0) * 1e6) / n);
  }
  means.sort((a, b) => a - b);
  return means[Math.floor(means.length / 2)] as number;
}

/** Wall time (ms) of one call. */
function once(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

const spec = (): DeviceSpec => ({
  id: 'bench', host: '127.0.0.1', port: 22, platform: 'cisco_ios', mode: 'shell', username: 'u', hostKey: { acceptAny: true }, labels: {},
  pool: { min: 0, max: 1, idleTimeoutMs: 1, maxLifetimeMs: 1, acquireTimeoutMs: 1, maxWaiting: 1 },
  ssh: { connectTimeoutMs: 1, keepaliveIntervalMs: 1, keepaliveCountMax: 1, commandTimeoutMs: 1 },
  source: 'file',
} as DeviceSpec);

interface Row {
  case: string;
  regexp: number;
  pattern: number;
  unit: string;
  note: string;
}
const rows: Row[] = [];
const add = (c: string, regexp: number, pattern: number, unit: string, note = ''): void => {
  rows.push({ case: c, regexp, pattern, unit, note });
  process.stdout.write(`${c}: RegExp ${fmt(regexp)} ${unit}, Pattern ${fmt(pattern)} ${unit} ${note}\n`);
};
const fmt = (x: number): string => (Number.isNaN(x) ? 'n/a' : x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toFixed(3));

// ------------------------------------------------------------------ 1. prompt check (per chunk)
const IOS_PROMPT_RE = /^(?<base>[\w.\-@/:]{1,63})(?:\([\w.\-@/:+]{0,32}\))?[>#]\s*$/;
const profile = resolveProfile(spec());
const tails: Array<[string, string]> = [
  ['output tail (no prompt)', '  GigabitEthernet0/12 is up, line protocol is up (connected), 1000Mb/s, media type is 10/100/1000BaseTX'],
  ['prompt of another mode', 'core-sw1(config-if)# '],
  ['known prompt', 'core-sw1#'],
];
for (const [name, tail] of tails) {
  add(`prompt check: ${name}`, perCall(() => IOS_PROMPT_RE.exec(tail), 200_000), perCall(() => profile.promptPattern.exec(tail), 50_000), 'ns/call');
}
add('prompt decision (decidePrompt) for the known prompt', NaN, perCall(() => decidePrompt(profile, 'core-sw1#', 'core-sw1#'), 200_000), 'ns/call', 'exact string comparison before any pattern');

// ------------------------------------------------------------------ 2. error patterns on every line
const CISCO_ERRORS_RE = [/^% ?(?:Invalid|Incomplete|Ambiguous|Unknown|Unrecognized|Bad|Error|Access denied)/i, /^% /, /^\s*\^\s*$/];
const lines: string[] = [];
for (let i = 0; i < 10_000; i++) {
  lines.push(i % 7 === 0 ? ` ip address 10.${i % 250}.${(i >> 8) % 250}.1 255.255.255.0` : i % 13 === 0 ? '!' : `interface GigabitEthernet0/${i % 48} description uplink to rack ${i}`);
}
lines[9_999] = "% Invalid input detected at '^' marker.";
const firstError = (pats: Array<{ test(s: string): boolean }>): number => {
  let hits = 0;
  for (const l of lines) for (const p of pats) if (p.test(l)) { hits++; break; }
  return hits;
};
const linesMsRe = perCall(() => firstError(CISCO_ERRORS_RE), 5) / 1e6;
const linesMsPat = perCall(() => firstError(profile.errorPatterns), 5) / 1e6;
add('error check over a 10 000-line output (3 patterns per line)', linesMsRe, linesMsPat, 'ms', `${fmt((linesMsPat * 1e6) / 10_000)} ns/line with Pattern`);

// ------------------------------------------------------------------ 3. expect over a 1 MB chunk
const chunk = lines.join('\n').repeat(2).slice(0, 1 << 20);
const mb = chunk.slice(0, chunk.lastIndexOf('\n') + 1);
const expects: Array<[string, string]> = [
  ['\\[confirm\\]$', 'no match in 1 MB'],
  ['Destination filename \\[[^\\]]*\\]\\?', 'no match in 1 MB'],
  ['uplink to rack 19999$', 'match on the last line'],
];
for (const [src, note] of expects) {
  const re = new RegExp(src, 'm');
  const p = compilePattern(src, { field: 'expect', kind: 'request', multiline: true });
  const text = note.startsWith('match') ? mb + 'interface GigabitEthernet0/1 description uplink to rack 19999\n' : mb;
  const regexpEnd = (): number => {
    re.lastIndex = 0;
    const m = re.exec(text);
    return m ? text.indexOf('\n', m.index + Math.max(0, m[0].length - 1)) + 1 : -1;
  };
  if (regexpEnd() !== p.endOfMatchingLine(text)) throw new Error(`engines disagree on ${src}`);
  add(`expect /${src}/ over a 1 MB chunk`, perCall(regexpEnd, 3, 3) / 1e6, perCall(() => p.endOfMatchingLine(text), 3, 3) / 1e6, 'ms', note);
}

// ------------------------------------------------------------------ 4. the catastrophic (a+a+)+b
const catastrophic = /(a+a+)+b/m;
const growth: Array<{ n: number; ms: number }> = [];
for (const n of [14, 16, 18, 20, 22]) growth.push({ n, ms: once(() => catastrophic.test('a'.repeat(n))) });
const last = growth.at(-1) as { n: number; ms: number };
const prev = growth.at(-2) as { n: number; ms: number };
const perChar = Math.pow(last.ms / prev.ms, 1 / (last.n - prev.n));
const extrapolated34 = last.ms * Math.pow(perChar, 34 - last.n);
const cat: Pattern = compilePattern('(a+a+)+b', { field: 'expect', kind: 'request', multiline: true });
const a34 = 'a'.repeat(34);
const aMb = `${'a'.repeat(79)}\n`.repeat(13_108);
add('(a+a+)+b on 22 "a"s', last.ms, once(() => cat.test('a'.repeat(22))), 'ms', `RegExp measured; ×${perChar.toFixed(2)} per extra character`);
add('(a+a+)+b on 34 "a"s (one echoed line)', extrapolated34, perCall(() => cat.test(a34), 1000) / 1e6, 'ms', 'RegExp extrapolated from 14..22 characters (not run: it would block this process)');
add('(a+a+)+b over 1 MB of "a" lines', NaN, once(() => cat.endOfMatchingLine(aMb)), 'ms', 'RegExp: not runnable');

// ------------------------------------------------------------------ 5. re2js's own worst case within the caps
// Linear is not constant: a pattern whose DFA keeps needing new states (here 104 instructions,
// under the 128 cap) makes re2js build states for nearly every character.
let seed = 7;
const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
// Lines of random a/b that end in "a": the pattern never matches, so all of it is scanned.
const ab = Array.from({ length: 1 << 16 }, (_, i) => (i % 80 === 79 ? '\n' : i % 80 === 78 ? 'a' : rnd() < 0.5 ? 'a' : 'b')).join('');
const worst = compilePattern('(?:a[ab]{0,12}){4}b$', { field: 'expect', kind: 'request', multiline: true });
const worstMs = once(() => worst.endOfMatchingLine(ab));
add(`worst case found within the caps: /(?:a[ab]{0,12}){4}b$/ (${worst.programSize} instructions) over 64 KiB of random a/b lines`, NaN, worstMs, 'ms', 'RegExp not measured (it is fast here: this is re2js\'s weak spot)');
const tail512 = ab.replace(/\n/g, 'a').slice(0, 512);
add('same pattern, one prompt-tail check (512 characters)', NaN, perCall(() => worst.test(tail512), 20, 3) / 1e6, 'ms', 'the shell driver tests expect on each chunk\'s pending line (at most 512 characters)');
const typical = compilePattern('Destination filename \\[[^\\]]*\\]\\?', { field: 'expect', kind: 'request', multiline: true });
add('same 64 KiB with a typical expect', NaN, once(() => typical.endOfMatchingLine(ab)), 'ms');

const md = [
  `### Matching device output: RegExp vs Pattern (re2js) (${new Date().toISOString().slice(0, 10)}, node ${process.version})`,
  '',
  '| case | RegExp | Pattern (re2js) | unit | note |',
  '|---|---:|---:|---|---|',
  ...rows.map((r) => `| ${r.case.replace(/\|/g, '\\|')} | ${fmt(r.regexp)} | ${fmt(r.pattern)} | ${r.unit} | ${r.note.replace(/\|/g, '\\|')} |`),
  '',
  `RegExp growth of (a+a+)+b: ${growth.map((g) => `${g.n} chars ${g.ms.toFixed(1)} ms`).join(', ')}.`,
].join('\n');
writeResult('matcher', md, { date: new Date().toISOString(), node: process.version, rows, catastrophicGrowth: growth, extrapolated34Ms: extrapolated34 });
process.stdout.write(`\n${md}\n`);
