import t, { type Test } from 'tap';
import { encodeMessage, FrameDecoder, FramingError, MAX_CHUNK_SIZE } from '../src/drivers/netconf/framing.js';
import { parseHello, rpcErrors, topLevelElements } from '../src/drivers/netconf/xml-scan.js';

function collect(max = 1 << 20): { d: FrameDecoder; msgs: string[] } {
  const msgs: string[] = [];
  const d = new FrameDecoder(max, (m) => msgs.push(m.toString('utf8')));
  return { d, msgs };
}

/** Feed `bytes` split at every position in turn (1-byte pieces included): framing must not depend on slicing. */
function feedSplits(t: Test, framing: '1.0' | '1.1', bytes: Buffer, expected: string[]): void {
  for (const step of [1, 2, 3, 5, 7, 64, bytes.length]) {
    const { d, msgs } = collect();
    d.framing = framing;
    for (let i = 0; i < bytes.length; i += step) d.push(bytes.subarray(i, i + step));
    t.same(msgs, expected, `pieces of ${step} bytes`);
    t.equal(d.pending, 0);
  }
}

t.test('1.0 end-of-message framing: messages split anywhere, marker straddling pushes', async (t) => {
  const a = '<rpc-reply message-id="1"><ok/></rpc-reply>';
  const b = '<rpc-reply message-id="2"><data>]]&gt;x</data></rpc-reply>';
  feedSplits(t, '1.0', Buffer.concat([encodeMessage('1.0', a), encodeMessage('1.0', b)]), [a, b]);
  // A lone "]]>" inside text is not the marker.
  feedSplits(t, '1.0', Buffer.from('x]]>y]]>]]>'), ['x]]>y']);
});

t.test('1.1 chunked framing: several chunks per message, multi-byte characters split across chunks', async (t) => {
  const text = 'ü<data>héllo</data>';
  const body = Buffer.from(text);
  const wire = Buffer.concat([
    Buffer.from(`\n#3\n`), body.subarray(0, 3), Buffer.from(`\n#${body.length - 3}\n`), body.subarray(3), Buffer.from('\n##\n'),
    encodeMessage('1.1', '<ok/>'),
  ]);
  feedSplits(t, '1.1', wire, [text, '<ok/>']);
});

t.test('switching from 1.0 to 1.1 after the hello reads the bytes after the hello chunked', async (t) => {
  const msgs: string[] = [];
  const d: FrameDecoder = new FrameDecoder(1 << 20, (m) => {
    msgs.push(m.toString());
    d.framing = '1.1';
  });
  d.push(Buffer.concat([encodeMessage('1.0', '<hello/>'), encodeMessage('1.1', '<rpc-reply/>')]));
  t.same(msgs, ['<hello/>', '<rpc-reply/>']);
});

t.test('hostile 1.1 input fails with a FramingError naming the problem, never a crash', async (t) => {
  const cases: Array<[string, string | Buffer, RegExp, 'too-large' | 'malformed']> = [
    ['a chunk size over the cap', `\n#${MAX_CHUNK_SIZE}\n`, /a chunk of 4294967295 bytes was announced/, 'too-large'],
    ['a chunk size over 4294967295', '\n#4294967296\n', /over 4294967295/, 'malformed'],
    ['a chunk header that never ends', `\n#${'9'.repeat(50)}`, /within 10 digits/, 'malformed'],
    ['a leading zero', '\n#012\n', /chunk size \(1-9\)/, 'malformed'],
    ['garbage where a header belongs', 'HTTP/1.1 200 OK\r\n', /expected "\\n"/, 'malformed'],
    ['end-of-chunks with no chunk', '\n##\n', /before any chunk/, 'malformed'],
    ['a bad end-of-chunks marker', '\n#2\nab\n##x', /ending the end-of-chunks marker/, 'malformed'],
    ['data past the chunk without a header', '\n#2\nabcd', /expected "\\n"/, 'malformed'],
  ];
  for (const [name, input, re, kind] of cases) {
    const { d, msgs } = collect(1024);
    d.framing = '1.1';
    const err = (() => {
      try {
        d.push(Buffer.from(input));
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    t.ok(err instanceof FramingError, `${name}: FramingError`);
    t.match((err as FramingError).message, re, name);
    t.equal((err as FramingError).kind, kind, name);
    t.same(msgs, [], `${name}: no message`);
    t.throws(() => d.push(Buffer.from('\n#1\na\n##\n')), FramingError, `${name}: the decoder stays failed`);
  }
});

t.test('a message past the cap fails as too-large without keeping its bytes (1.0 without a marker, 1.1 over many chunks)', async (t) => {
  const { d } = collect(1000);
  t.throws(() => {
    for (let i = 0; i < 100; i++) d.push(Buffer.alloc(100, 0x41));
  }, { name: 'FramingError', message: /passed 1000 bytes/ });
  const c = collect(1000);
  c.d.framing = '1.1';
  t.throws(() => {
    for (let i = 0; i < 100; i++) c.d.push(Buffer.from('\n#100\n' + 'a'.repeat(100)));
  }, { name: 'FramingError', message: /passed 1000 bytes/ });
  t.ok(c.d.pending <= 1000, 'held bytes stay under the cap');
});

t.test('a missing end leaves the message pending (the session timeout decides), bytes counted', async (t) => {
  const { d, msgs } = collect();
  d.framing = '1.1';
  d.push(Buffer.from('\n#5\nhello'));
  t.same(msgs, []);
  t.equal(d.pending, 5);
});

t.test('blank lines between 1.1 messages are tolerated', async (t) => {
  const { d, msgs } = collect();
  d.framing = '1.1';
  d.push(Buffer.from('\n\n\n#2\nok\n##\n\n#1\na\n##\n'));
  t.same(msgs, ['ok', 'a']);
});

t.test('hello: capabilities (prefixed elements, entities) and session-id', async (t) => {
  const h = parseHello('<?xml version="1.0"?><nc:hello xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"><nc:capabilities>' +
    '<nc:capability>urn:ietf:params:netconf:base:1.1</nc:capability><nc:capability> urn:x?module=a&amp;revision=1 </nc:capability>' +
    '</nc:capabilities><nc:session-id>42</nc:session-id></nc:hello>');
  t.same(h.capabilities, ['urn:ietf:params:netconf:base:1.1', 'urn:x?module=a&revision=1']);
  t.equal(h.sessionId, 42);
  t.throws(() => parseHello('<rpc-reply/>'), { name: 'XmlScanError', message: /expected <hello>, got <rpc-reply>/ });
  t.throws(() => parseHello('<!DOCTYPE x [<!ENTITY a "b">]><hello/>'), /DOCTYPE/);
});

t.test('rpc-error: severity, tag and message of each error; warnings are told apart', async (t) => {
  const errs = rpcErrors('<rpc-reply><rpc-error><error-type>application</error-type><error-tag>invalid-value</error-tag>' +
    '<error-severity>warning</error-severity><error-message>soft</error-message></rpc-error>' +
    '<rpc-error><error-tag>operation-failed</error-tag><error-severity>error</error-severity>' +
    '<error-message xml:lang="en">bad &lt;thing&gt;</error-message><error-info><error-message>nested</error-message></error-info></rpc-error></rpc-reply>');
  t.same(errs, [
    { severity: 'warning', tag: 'invalid-value', message: 'soft' },
    { severity: 'error', tag: 'operation-failed', message: 'bad <thing>' },
  ]);
  t.same(rpcErrors('<rpc-reply><ok/></rpc-reply>'), []);
});

t.test('top-level elements of a caller RPC: one operation, balanced, comments and CDATA skipped', async (t) => {
  t.same(topLevelElements(' <!-- c --><get-config><source><running/></source><x a="1>2"/><![CDATA[</get-config>]]></get-config> '), ['get-config']);
  t.same(topLevelElements('<get/></rpc><rpc><edit-config/>'.replace('</rpc><rpc>', '')), ['get', 'edit-config']);
  t.throws(() => topLevelElements('<get/></rpc><rpc message-id="9"><edit-config/>'), /closes nothing/);
  t.throws(() => topLevelElements('<get><filter></get>'), /closes <filter>/);
  t.throws(() => topLevelElements('<get>'), /not closed/);
  t.throws(() => topLevelElements('text<get/>'), /text outside/);
  t.throws(() => topLevelElements('<get'), /unterminated tag/);
});

t.test('the scanner is linear: a megabyte of hostile text is read in well under a second', async (t) => {
  const hostile = ['<'.repeat(1), 'a'.repeat(1 << 20), '<b' + ' x="'.repeat(1 << 16)];
  for (const h of hostile) {
    const started = performance.now();
    try {
      topLevelElements(h);
    } catch {
      /* refused is fine; time is what is checked */
    }
    t.ok(performance.now() - started < 1000, `${h.slice(0, 8)}...: ${Math.round(performance.now() - started)} ms`);
  }
});
