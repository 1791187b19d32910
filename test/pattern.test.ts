/**
 * core/pattern.ts: RE2 patterns for everything matched against device output.
 * What is refused (and how the refusal reads), what RE2 syntax means here, that
 * pathological patterns cost little to compile and to run, and that for the syntax
 * both engines share, a Pattern finds what JavaScript's RegExp finds.
 */
import t from 'tap';
import fc from 'fast-check';
import { compilePattern, compilePromptPattern, estimateProgramSize, PATTERN_LIMITS, PatternError, requiredFirstChar, type PatternOptions } from '../src/core/pattern.js';

const request: PatternOptions = { field: 'expect', kind: 'request', multiline: true };
const config: PatternOptions = { field: 'devices[3].prompt', kind: 'config' };

function refusal(source: string, opts: PatternOptions = request): PatternError {
  try {
    compilePattern(source, opts);
  } catch (err) {
    if (err instanceof PatternError) return err;
    throw err;
  }
  throw new Error(`${JSON.stringify(source)} was accepted`);
}

t.test('unsupported syntax is refused in plain words, naming the field, with the code of its origin', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['yes(?=/no)', /^lookahead \(\?=\.\.\.\) is not supported: patterns use RE2 syntax, see docs\/operations\.md#patterns$/],
    ['yes(?!/no)', /^negative lookahead \(\?!\.\.\.\) is not supported/],
    ['(?<=a)b', /^lookbehind \(\?<=\.\.\.\) is not supported/],
    ['(?<!a)b', /^negative lookbehind \(\?<!\.\.\.\) is not supported/],
    ['(?>a+)b', /^atomic groups \(\?>\.\.\.\) are not supported/],
    ['(a)\\1', /^backreferences \(\\1\) are not supported/],
    ['(?<x>a)\\k<x>', /^named backreferences \(\\k<name>\) are not supported/],
    ['a++', /^possessive or doubled quantifiers \(\+\+\) are not supported/],
    ['\\u0041', /^the \\uXXXX escape is not supported \(write \\x\{XXXX\}\)/],
    ['a\\Z', /^\\Z is not supported \(use \\z or \$\)/],
    ['a{2,1}', /^repeat count \{2,1\} is not allowed \(counts go from 0 to 1000/],
    ['([a-z', /^is not a valid pattern: missing closing \] at "\[a-z"; patterns use RE2 syntax/],
    ['(?<n>x)(?<n>y)', /^is not a valid pattern: duplicate capture group name/],
  ];
  for (const [source, problem] of cases) {
    const err = refusal(source);
    t.equal(err.code, 'INVALID_ARGUMENT', `${source}: request → INVALID_ARGUMENT`);
    t.equal(err.field, 'expect', `${source}: field`);
    t.match(err.problem, problem, `${source}: ${err.problem}`);
    t.equal(err.message, `expect: ${err.problem}`, `${source}: message names the field`);
    const cfg = refusal(source, config);
    t.equal(cfg.code, 'CONFIG_INVALID', `${source}: inventory → CONFIG_INVALID`);
    t.ok(cfg.message.startsWith('devices[3].prompt: '), `${source}: names the key`);
  }
});

t.test('length and size caps: over-long and too-complex patterns are refused before they cost anything', async (t) => {
  const long = refusal('x'.repeat(PATTERN_LIMITS.request.maxLength + 1));
  t.match(long.problem, /^is 1025 characters, over the limit of 1024$/);
  t.ok(compilePattern('[ab]'.repeat(256), config), 'exactly at the length limit is accepted');
  t.match(refusal('x'.repeat(1024)).problem, /too complex \(1026 instructions/, 'a request pattern must also compile to at most 128 instructions');
  t.match(refusal('a{300}').problem, /^is too complex \(302 instructions once compiled, limit 128\): large repeat counts such as \{500\} are the usual cause, use \* or \+ instead/);
  t.ok(compilePattern('a{300}', config), 'inventory patterns may be larger (tested on one short line only)');
  t.match(refusal('a{1000}', config).problem, /too complex \(1002 instructions/);

  // Each of these took re2js from 0.3 s to 1.6 s (and up to a million instructions) to compile
  // when handed over directly; the estimate refuses them first.
  const pathological = [
    '(((a{100}){100}){100})',
    `(?:${'abcdefghij'.repeat(100)}){999}`,
    Array.from({ length: 120 }, (_, i) => `x${i}{999}`).join('|').slice(0, 1024),
    '[\\w.]{1000}'.repeat(70).slice(0, 1024),
    '\\pL{1000}'.repeat(100).slice(0, 1024),
  ];
  for (const source of pathological) {
    for (const opts of [request, config]) {
      const t0 = performance.now();
      const err = refusal(source, opts);
      const ms = performance.now() - t0;
      t.match(err.problem, /too complex|repeat count/, `${source.slice(0, 30)}...: ${err.problem.slice(0, 60)}`);
      t.ok(ms < 100, `${source.slice(0, 30)}... (${opts.kind}) refused in ${ms.toFixed(1)} ms`);
    }
  }
  t.ok(estimateProgramSize('a{1000}') >= 1000, 'the estimate is an upper bound for counted repeats');
  t.ok(estimateProgramSize('[{]\\{x\\x{41}') < 20, 'braces in classes and escapes are not repeat counts');
});

t.test('RE2 syntax: named groups both ways, flags, $, \\s, \\w, lazy repeats', async (t) => {
  const py = compilePattern('^(?P<base>[\\w.-]+)[>#]\\s*$', config).exec('core-1.fra# ');
  t.same(py, { index: 0, end: 12, groups: { base: 'core-1.fra' } });
  const js = compilePattern('^(?<base>[\\w.-]+)(?:\\((?<mode>[\\w-]+)\\))?#$', config);
  t.same(js.exec('R1#')?.groups, { base: 'R1', mode: undefined }, 'a group that took no part is undefined');
  t.same(js.exec('R1(config-if)#')?.groups, { base: 'R1', mode: 'config-if' });

  t.ok(compilePattern('password:', { ...config, caseInsensitive: true }).test('Password:'));
  t.notOk(compilePattern('password:', config).test('Password:'));
  t.ok(compilePattern('(?i)password:', config).test('PASSWORD:'), 'inline flags work too');

  const line = compilePattern('^end$', config);
  t.notOk(line.test('x\nend\ny'), 'without multiline, ^ and $ are the ends of the input');
  t.ok(compilePattern('^end$', request).test('x\nend\ny'), 'multiline: ^ and $ are line ends');
  t.notOk(line.test('end\n'), '$ does not match before a final newline (as in JavaScript, unlike Perl)');

  t.ok(compilePattern('^\\s+$', config).test(' \t\r\n\f'));
  t.notOk(compilePattern('\\s', config).test('\u00a0'), '\\s is ASCII white space only (JavaScript also counts U+00A0)');
  t.ok(compilePattern('^\\w+$', config).test('Gi0_1'));
  t.notOk(compilePattern('\\w', config).test('é'), '\\w is ASCII, as in JavaScript');
  t.same(compilePattern('a.*?b', config).exec('xaxbxb'), { index: 1, end: 4, groups: {} });
  t.same(compilePattern('a.*b', config).exec('xaxbxb'), { index: 1, end: 6, groups: {} });
});

t.test('the catastrophic (a+a+)+b costs microseconds, on 34 characters and on 1 MB', async (t) => {
  const p = compilePattern('(a+a+)+b', request);
  const a34 = 'a'.repeat(34);
  let t0 = performance.now();
  t.notOk(p.test(a34));
  t.equal(p.exec(a34), undefined);
  t.equal(p.endOfMatchingLine(`${a34}\n`), -1);
  const small = performance.now() - t0;
  const mb = `${'a'.repeat(79)}\n`.repeat(13_108);
  t0 = performance.now();
  t.equal(p.endOfMatchingLine(mb), -1);
  const big = performance.now() - t0;
  t.ok(small < 50, `34 characters: ${small.toFixed(2)} ms`);
  t.ok(big < 1000, `1 MB: ${big.toFixed(1)} ms`);
  t.equal(p.endOfMatchingLine(`${mb}aab\n`), mb.length + 4, 'and it still matches where it should');
});

t.test('endOfMatchingLine: just after the first line where a match ends', async (t) => {
  const text = 'one\nProceed? [confirm]\nthree\n';
  t.equal(compilePattern('\\[confirm\\]$', request).endOfMatchingLine(text), 23);
  t.equal(compilePattern('^three$', request).endOfMatchingLine(text), text.length);
  t.equal(compilePattern('nothing', request).endOfMatchingLine(text), -1);
  t.equal(compilePattern('one\\nProceed', request).endOfMatchingLine(text), 23, 'a match across lines ends on the line where it ends');
  t.equal(compilePattern('three', request).endOfMatchingLine('three'), 5, 'no final newline: the end of the text');
});

t.test('remove: every match goes, as String.replace with a global RegExp would do', async (t) => {
  const p = compilePattern('\\s*-{2,} ?\\(?more(?: \\d+%)?\\)? ?-{2,}\\s*', { ...config, caseInsensitive: true });
  t.equal(p.remove('a --More-- b ---(more 45%)--- c'), 'abc');
  t.equal(p.remove('nothing here'), 'nothing here');
});

t.test('an inventory prompt is anchored at the end of the line, as the shell driver applies it', async (t) => {
  const p = compilePromptPattern('<[\\w-]+>', 'prompt');
  t.ok(p.test('<HUAWEI-1>  '));
  t.notOk(p.test('<HUAWEI-1> more'));
  t.ok(compilePromptPattern('[>#]$', 'prompt').test('R1#'), 'a pattern ending in $ is used as written');
  t.equal(refusal('x(?=#)', { field: 'prompt', kind: 'config' }).code, 'CONFIG_INVALID');
});

// ------------------------------------------------------------- agreement with RegExp

/**
 * Patterns in the syntax both engines read the same way: literals, classes, `.`, groups,
 * alternation, greedy and lazy repeats, counted repeats, anchors. Bodies of repeats are
 * never empty-matching (`(a?)*`), where the engines legitimately differ in which empty
 * iteration they stop at.
 */
const atom: fc.Arbitrary<string> = fc.constantFrom('a', 'b', 'c', ' ', '-', '.', '[ab]', '[^a]', '[a-c]', '\\d', '\\w', '\\s', '\\.', '\\-', '[#>]');
const pattern: fc.Arbitrary<string> = fc.letrec<{ re: string; seq: string; piece: string }>((tie) => ({
  re: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('seq'), fc.tuple(tie('seq'), tie('seq')).map(([x, y]) => `${x}|${y}`)),
  seq: fc.array(tie('piece'), { minLength: 1, maxLength: 5 }).map((a) => a.join('')),
  piece: fc.oneof(
    { depthSize: 'small' },
    atom,
    fc.tuple(atom, fc.constantFrom('*', '+', '?', '*?', '+?', '??', '{2}', '{1,3}', '{0,2}')).map(([x, q]) => `${x}${q}`),
    fc.tuple(tie('re'), fc.constantFrom('', '+', '{1,2}')).map(([x, q]) => `(?:${x})${q}`),
    tie('re').map((x) => `(${x})`),
  ),
})).re.map((body) => body);
// At most four repeats: JavaScript's RegExp (the reference here) backtracks, and five
// nested or chained unbounded repeats over 24 characters would take it minutes.
const anchored = fc
  .tuple(fc.boolean(), pattern, fc.boolean())
  .map(([s, p, e]) => `${s ? '^' : ''}(?:${p})${e ? '$' : ''}`)
  .filter((src) => (src.match(/[*+}?]/g) ?? []).length <= 4);
const input = fc.array(fc.constantFrom('a', 'b', 'c', ' ', '-', '.', '1', '#', '>', '\n', 'A'), { maxLength: 24 }).map((a) => a.join(''));

t.test('property: for patterns without backreferences or lookaround, Pattern finds what RegExp finds', async (t) => {
  let matched = 0;
  fc.assert(
    fc.property(anchored, input, fc.boolean(), fc.boolean(), (source, s, multiline, caseInsensitive) => {
      const re = new RegExp(source, `${multiline ? 'm' : ''}${caseInsensitive ? 'i' : ''}`);
      let p;
      try {
        p = compilePattern(source, { field: 'expect', kind: 'config', multiline, caseInsensitive });
      } catch (err) {
        // Only the size cap may refuse a pattern of this grammar.
        if (err instanceof PatternError && /too complex/.test(err.problem)) return;
        throw err;
      }
      const want = re.exec(s);
      const got = p.exec(s);
      if (p.test(s) !== (want !== null)) throw new Error(`test differs for /${source}/ on ${JSON.stringify(s)}`);
      if (want === null) {
        if (got !== undefined) throw new Error(`exec found ${JSON.stringify(got)} where RegExp found nothing`);
        return;
      }
      matched++;
      if (got === undefined || got.index !== want.index || got.end !== want.index + want[0].length) {
        throw new Error(`/${source}/ on ${JSON.stringify(s)}: RegExp ${want.index}..${want.index + want[0].length}, Pattern ${JSON.stringify(got)}`);
      }
    }),
    { numRuns: 3000, seed: 20261125 },
  );
  t.ok(matched > 300, `${matched} of 3000 runs matched (the property is not only about non-matches)`);
});

t.test('the first-character fast path is taken only when the source guarantees it', async (t) => {
  t.equal(requiredFirstChar('^% ', false), '%');
  t.equal(requiredFirstChar('^% ?(?:Invalid|Bad)', true), '%', 'alternatives inside a group do not matter; % has no case');
  t.equal(requiredFirstChar('^a+b', false), 'a');
  for (const [source, ci] of [['^\\s*\\^\\s*$', false], ['^a?b', false], ['^a*', false], ['^a{0,2}', false], ['^%|x', false], ['^a', true], ['^[%]', false], ['^(%)', false], ['(?i)^%', false], ['%', false], ['^\ud83d\ude00?', false]] as Array<[string, boolean]>) {
    t.equal(requiredFirstChar(source, ci), undefined, `${source}${ci ? ' (case-insensitive)' : ''}: no fast path`);
  }
  t.notOk(compilePattern('^% ', config).test('x% '), 'the gate refuses');
  t.ok(compilePattern('^% ', config).test('% Invalid'), 'and lets the right lines through');
  t.ok(compilePattern('^%|x', config).test('ax'), 'no gate where an alternative needs none');
});

t.test('property: patterns starting with ^ and a literal agree with RegExp (the fast path included)', async (t) => {
  const gated = fc.tuple(fc.constantFrom('a', 'b', '-', '#', ' '), fc.constantFrom('', '+', '?', '*'), pattern).map(([c, q, p]) => `^${c}${q}${p}`).filter((src) => (src.match(/[*+}?]/g) ?? []).length <= 4);
  t.doesNotThrow(() => fc.assert(
    fc.property(gated, input, fc.boolean(), (source, s, caseInsensitive) => {
      const re = new RegExp(source, caseInsensitive ? 'i' : '');
      let p;
      try {
        p = compilePattern(source, { field: 'x', kind: 'config', caseInsensitive });
      } catch (err) {
        if (err instanceof PatternError && /too complex/.test(err.problem)) return;
        throw err;
      }
      for (const text of [s, source.slice(1, 2) + s]) {
        if (p.test(text) !== re.test(text)) throw new Error(`/${source}/ on ${JSON.stringify(text)}: RegExp ${re.test(text)}`);
      }
    }),
    { numRuns: 2000, seed: 20261126 },
  ), 'agrees with RegExp on 2000 generated patterns and inputs');
});
