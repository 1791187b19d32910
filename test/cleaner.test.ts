import t from 'tap';
import fc from 'fast-check';
import { cleanOutput, renderLine, StreamCleaner } from '../src/session/cleaner.js';
import { COMMON_PAGER_PATTERNS } from '../src/platforms/profiles.js';
import { compilePattern } from '../src/core/pattern.js';

const pat = (source: string) => compilePattern(source, { field: 'errorPatterns', kind: 'config' });

const IOS_ERASE = '\b'.repeat(10) + ' '.repeat(10) + '\b'.repeat(10);

t.test('removes the echoed command and the trailing prompt, CRLF becomes LF', async (t) => {
  t.equal(cleanOutput('show clock\r\n*12:00:00.000 UTC Mon Nov 23 2026\r\nRouter#', 'show clock', 'Router#'), '*12:00:00.000 UTC Mon Nov 23 2026\n');
});

t.test('a command with no output yields the empty string', async (t) => {
  t.equal(cleanOutput('terminal length 0\r\nRouter#', 'terminal length 0', 'Router#'), '');
  t.equal(cleanOutput('Router#', '', 'Router#'), '');
});

t.test('prompts with a trailing space (NX-OS, Junos) are removed', async (t) => {
  t.equal(cleanOutput('show version\r\nfoo\r\nswitch# ', 'show version', 'switch#'), 'foo\n');
  t.equal(cleanOutput('show version \r\n\r\nHostname: r1\r\n\r\nadmin@r1> ', 'show version', 'admin@r1>'), '\nHostname: r1\n\n');
});

t.test('IOS pager prompt and its backspace/space erase leave only the page text', async (t) => {
  const raw = `show run\r\nline1\r\nline2\r\n --More-- ${IOS_ERASE}line3\r\n --More-- ${IOS_ERASE}line4\r\nRouter#`;
  t.equal(cleanOutput(raw, 'show run', 'Router#'), 'line1\nline2\nline3\nline4\n');
});

t.test('Junos pager erased with CR and ESC[K disappears', async (t) => {
  const raw = 'show configuration\r\na;\r\n---(more)---\r\x1b[Kb;\r\n---(more 45%)---\r\x1b[Kc;\r\nadmin@r1> ';
  t.equal(cleanOutput(raw, 'show configuration', 'admin@r1>'), 'a;\nb;\nc;\n');
});

t.test('a pager prompt that was never erased is still removed', async (t) => {
  t.equal(cleanOutput('x\r\nfoo\r\n -- More -- \r\nbar\r\nR1#', 'x', 'R1#'), 'foo\n\nbar\n');
  t.equal(cleanOutput('x\r\nfoo <--- More ---> \r\nR1#', 'x', 'R1#'), 'foo\n');
});

t.test('ANSI colour (CSI) and OSC sequences are stripped', async (t) => {
  t.equal(cleanOutput('ls\r\n\x1b[0m\x1b[01;34mbin\x1b[0m  notes\r\n\x1b]0;user@host: ~\x07u@h:~$ ', 'ls', 'u@h:~$'), 'bin  notes\n');
  t.equal(renderLine('\x1b]2;title\x1b\\text'), 'text');
  t.equal(renderLine('a\x1b(Bb\x1b=c'), 'abc');
});

t.test('backspace overstrike and carriage-return overwrite render like a terminal', async (t) => {
  t.equal(renderLine('abc\b\bX'), 'aXc');
  t.equal(renderLine('hello\rJ'), 'Jello');
  t.equal(renderLine('progress 10%\rprogress 100%'), 'progress 100%');
  t.equal(renderLine('abcdef\r\x1b[K12'), '12');
  t.equal(renderLine('abc\x1b[2D\x1b[Kz'), 'az');
});

t.test('text printed without a final newline is kept, the prompt after it is not', async (t) => {
  t.equal(cleanOutput('printf foo\r\nfoouser@h:~$ ', 'printf foo', 'user@h:~$'), 'foo');
});

t.test('lines that merely contain the word more are left alone', async (t) => {
  t.equal(cleanOutput('x\r\nuse --more-options for more\r\nR1#', 'x', 'R1#'), 'use --more-options for more\n');
});

t.test('streaming: chunks split anywhere give the same result as one piece', async (t) => {
  const raw = `show run\r\n\x1b[32mline1\x1b[0m\r\nline2\r\n --More-- ${IOS_ERASE}line3\r\nRouter#`;
  const whole = cleanOutput(raw, 'show run', 'Router#');
  for (let cut = 1; cut < raw.length; cut++) {
    const c = new StreamCleaner({ command: 'show run', pagerPatterns: COMMON_PAGER_PATTERNS });
    const got = c.push(raw.slice(0, cut)) + c.push(raw.slice(cut)) + c.finish('Router#');
    if (got !== whole) {
      t.fail(`cut at ${cut} gave ${JSON.stringify(got)}`);
      return;
    }
  }
  t.equal(whole, 'line1\nline2\nline3\n');
});

t.test('error patterns: the highest-priority matching line becomes the error', async (t) => {
  const c = new StreamCleaner({ command: 'show foo', errorPatterns: [pat('^% Invalid'), pat('^% '), pat('^\\s*\\^\\s*$')] });
  c.push("show foo\r\n        ^\r\n% Invalid input detected at '^' marker.\r\n\r\n");
  c.finish('R1#');
  t.equal(c.error, "% Invalid input detected at '^' marker.");
  const ok = new StreamCleaner({ command: 'show ip route', errorPatterns: [pat('^% ')] });
  ok.push('show ip route\r\nGateway of last resort is not set\r\n');
  t.equal(ok.error, '');
});

t.test('a 2 MB output is cleaned quickly and exactly', async (t) => {
  const lines: string[] = [];
  for (let i = 0; i < 40000; i++) lines.push(`line ${i} ${'x'.repeat(40)}`);
  const raw = 'show big\r\n' + lines.join('\r\n') + '\r\nR1#';
  const t0 = performance.now();
  const out = cleanOutput(raw, 'show big', 'R1#');
  const ms = performance.now() - t0;
  t.equal(out, lines.join('\n') + '\n');
  t.ok(ms < 1000, `took ${ms.toFixed(1)} ms`);
});

t.test('fuzz: never throws, never leaves ESC, CR or BS in the output', async (t) => {
  const alphabet = fc.constantFrom('a', 'b', ' ', '#', '>', '\r', '\n', '\b', '\x1b', '[', ']', 'K', 'm', '0', ';', '\x07', '\\', '-', 'M', 'o', 'r', 'e', '(', ')', '\t', '\x00', '\x7f', '\x9b', 'é');
  const text = fc.array(alphabet, { maxLength: 200 }).map((a) => a.join(''));
  t.doesNotThrow(() => fc.assert(
    fc.property(text, fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), (raw, cmd, prompt) => {
      const out = cleanOutput(raw, cmd, prompt);
      return !/[\x1b\r\b]/.test(out);
    }),
    { numRuns: 10_000 },
  ), 'no ESC, CR or BS left in 10 000 generated outputs');
  t.doesNotThrow(() => fc.assert(
    fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (raw) => {
      const out = cleanOutput(raw, 'show x', 'R1#');
      return !/[\x1b\r\b]/.test(out);
    }),
    { numRuns: 10_000 },
  ), 'no ESC, CR or BS left in 10 000 generated binary strings');
});

t.test('lines before the echo (log message, leftover prompt) are dropped once the echo arrives', async (t) => {
  t.equal(cleanOutput('\r\nRouter>\r\n%SYS-5-CONFIG_I: Configured\r\nRouter>show clock\r\n12:00\r\nRouter>', 'show clock', 'Router>'), '12:00\n');
});

t.test('a device that does not echo still gets its output', async (t) => {
  t.equal(cleanOutput('line one\r\n% Invalid input\r\nR1#', 'show x', 'R1#'), 'line one\n% Invalid input\n');
  const c = new StreamCleaner({ command: 'show x', errorPatterns: [pat('^% ')] });
  c.push('line one\r\n% Invalid input\r\n');
  c.finish('R1#');
  t.equal(c.error, '% Invalid input', 'errors in held-back lines still count');
});

t.test('a long line of escapes is rendered as it arrives, to the same text as rendering it whole', async (t) => {
  // Mostly text, so what stands on the line before a compaction matters for what follows.
  const unit = fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom('a', 'bc', ' ', 'xyz', '0123456789') },
    { weight: 3, arbitrary: fc.constantFrom('\r', '\b', '\b\b', '\x1b[K', '\x1b[3D', '\x1b[5C', '\x1b[12G', '\x1b[31m', '\x1b[0m', '\x1b]0;title\x07') },
    { weight: 1, arbitrary: fc.constant('\x1b[2K') },
  );
  fc.assert(
    fc.property(fc.array(unit, { minLength: 1, maxLength: 400 }), fc.integer({ min: 200, max: 600 }), fc.integer({ min: 1000, max: 40_000 }), (units, repeat, chunk) => {
      const line = units.join('').repeat(repeat);
      const c = new StreamCleaner({ command: '' });
      for (let i = 0; i < line.length; i += chunk) t.equal(c.push(line.slice(i, i + chunk)), '');
      const streamed = c.push('\r\n');
      return streamed.trimEnd() === renderLine(line).trimEnd();
    }),
    { numRuns: 25, seed: 20261125 },
  );
  // Rendering ahead keeps the cursor where it was: text arriving later overwrites from there.
  const moved = new StreamCleaner({ command: '' });
  moved.push(`${'x'.repeat(70_000)}\rabc`);
  t.equal(moved.push('ZZ\r\n'), `abcZZ${'x'.repeat(70_000 - 5)}\n`);
  // The case that motivated it: 1 MB of escapes that render to almost nothing takes one
  // bounded step per chunk, and the end of the line finds almost nothing left to render.
  const c = new StreamCleaner({ command: '' });
  const storm = '\x1b[31mab\x1b[2K\rcd\b\b\x1b[10D\x1b[0mx\x1b[K'.repeat(40_000);
  for (let i = 0; i < storm.length; i += 32_768) c.push(storm.slice(i, i + 32_768));
  t.ok(c.pending.length < 70_000, `the pending line is kept compact (${c.pending.length} characters for ${storm.length} received)`);
  t.equal(c.push('end\r\n'), `${renderLine(storm + 'end')}\n`);
});
