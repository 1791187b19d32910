import t from 'tap';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { TokenStore, sha256, parseTokensFile } from '../src/auth/tokens.js';
import { createAuthenticator } from '../src/auth/authenticate.js';
import { isWarmpoolError, WarmpoolError } from '../src/core/errors.js';
import { createLogger } from '../src/core/logger.js';
import type { Clock } from '../src/core/clock.js';
import * as grpc from '@grpc/grpc-js';

function fakeClock(): Clock & { advance(ms: number): void } {
  let now = 1000;
  return {
    now: () => now,
    wallNow: () => now,
    setTimeout: () => ({ __timer: null }),
    clearTimeout: () => {},
    advance(ms) {
      now += ms;
    },
  };
}

const A = 'alpha-token-0123456789';
const B = 'bravo-token-0123456789';
const hex = (s: string): string => sha256(s).toString('hex');

function replace(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

t.test('a token is identified by its sha256 and a plaintext entry by its value', async (t) => {
  const dir = t.testdir({
    'tokens.yaml': `callers:\n  - name: a-svc\n    tokenSha256: ${hex(A)}\n  - name: b-svc\n    token: ${B}\n`,
  });
  const store = new TokenStore(join(dir, 'tokens.yaml'));
  t.equal(store.identify(A), 'a-svc');
  t.equal(store.identify(B), 'b-svc');
  t.equal(store.identify(`${A} `), undefined);
  t.equal(store.identify(''), undefined);
  t.equal(store.identify(hex(A)), undefined, 'the hash itself is not a token');
  t.equal(store.size, 2);
});

t.test('JSON tokens files are accepted too', async (t) => {
  const dir = t.testdir({ 'tokens.json': JSON.stringify({ callers: [{ name: 'j', tokenSha256: hex(A).toUpperCase() }] }) });
  t.equal(new TokenStore(join(dir, 'tokens.json')).identify(A), 'j');
});

t.test('a changed file is re-read, but stat() at most once per recheck interval', async (t) => {
  const dir = t.testdir({ 'tokens.yaml': `callers: [{ name: a-svc, tokenSha256: ${hex(A)} }]\n` });
  const file = join(dir, 'tokens.yaml');
  const clock = fakeClock();
  const store = new TokenStore(file, { clock, recheckMs: 1000 });
  t.equal(store.identify(A), 'a-svc');
  replace(file, `callers: [{ name: b-svc, tokenSha256: ${hex(B)} }]\n`);
  clock.advance(999);
  t.equal(store.identify(A), 'a-svc', 'within the interval the old content is still used');
  t.equal(store.identify(B), undefined);
  clock.advance(1);
  t.equal(store.identify(A), undefined, 'after the interval the old token is revoked');
  t.equal(store.identify(B), 'b-svc');
});

t.test('reload() re-reads at once (SIGHUP)', async (t) => {
  const dir = t.testdir({ 'tokens.yaml': `callers: [{ name: a-svc, tokenSha256: ${hex(A)} }]\n` });
  const file = join(dir, 'tokens.yaml');
  const store = new TokenStore(file, { clock: fakeClock() });
  replace(file, `callers: [{ name: b-svc, tokenSha256: ${hex(B)} }]\n`);
  t.equal(store.reload(), true);
  t.equal(store.identify(B), 'b-svc');
});

t.test('a broken or missing file after start keeps the last good tokens and logs without secrets', async (t) => {
  const dir = t.testdir({ 'tokens.yaml': `callers: [{ name: a-svc, tokenSha256: ${hex(A)} }]\n` });
  const file = join(dir, 'tokens.yaml');
  const lines: string[] = [];
  const logger = createLogger('info', new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
  const clock = fakeClock();
  const store = new TokenStore(file, { clock, recheckMs: 10, logger });
  replace(file, `callers:\n  - name: b-svc\n    token: ${B}\n  - name: c\n    token: [unclosed\n`);
  clock.advance(10);
  t.equal(store.identify(A), 'a-svc', 'still the last good content');
  rmSync(file);
  clock.advance(10);
  t.equal(store.identify(A), 'a-svc');
  t.equal(lines.filter((l) => l.includes('not reloaded')).length, 2, 'each distinct problem logged once');
  clock.advance(10);
  store.identify(A);
  t.equal(lines.filter((l) => l.includes('not reloaded')).length, 2, 'the same problem is not logged again');
  t.notMatch(lines.join(''), B);
});

t.test('invalid tokens files are CONFIG_INVALID naming file and entry, never a token', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['not a list', 'callers: 3', /top-level "callers:" list/],
    ['both forms', `callers: [{ name: x, token: ${B}, tokenSha256: ${hex(A)} }]`, /callers\[0\] \(x\) needs exactly one/],
    ['neither form', 'callers: [{ name: x }]', /needs exactly one of tokenSha256 or token/],
    ['short hash', 'callers: [{ name: x, tokenSha256: abcd }]', /64 hexadecimal/],
    ['short plaintext', 'callers: [{ name: x, token: short }]', /at least 16 characters/],
    ['duplicate name', `callers: [{ name: x, token: ${A} }, { name: x, token: ${B} }]`, /callers\[1\]: caller name "x" appears twice/],
    ['shared token', `callers: [{ name: x, token: ${A} }, { name: y, tokenSha256: ${hex(A)} }]`, /callers\[1\] \(y\) has the same token/],
    ['bad name', `callers: [{ name: "a b", token: ${A} }]`, /callers\[0\]\.name/],
    ['bad yaml', `callers:\n  - name: x\n    token: "${B}\n  bad: [`, /not valid YAML or JSON/],
  ];
  for (const [name, text, re] of cases) {
    const dir = t.testdir({ 'tokens.yaml': text });
    const file = join(dir, 'tokens.yaml');
    t.throws(() => parseTokensFile(text, file), { code: 'CONFIG_INVALID' }, name);
    try {
      new TokenStore(file);
      t.fail(`${name}: should throw`);
    } catch (err) {
      t.ok(isWarmpoolError(err, 'CONFIG_INVALID'), name);
      const e = err as WarmpoolError;
      t.match(e.message, re, name);
      t.match(e.message, file, `${name}: names the file`);
      t.equal(e.field, 'grpc.auth.tokensFile');
      t.notMatch(e.message, A, `${name}: no token in the message`);
      t.notMatch(e.message, B, `${name}: no token in the message`);
      t.notMatch(e.message, hex(A), `${name}: no hash in the message`);
    }
  }
});

t.test('a missing tokens file at start-up is CONFIG_INVALID naming the key', async (t) => {
  t.throws(() => new TokenStore('/nonexistent/tokens.yaml'), { code: 'CONFIG_INVALID', field: 'grpc.auth.tokensFile', message: /\/nonexistent\/tokens.yaml/ });
});

t.test('authenticator unit behaviour', async (t) => {
  const dir = t.testdir({ 'tokens.yaml': `callers: [{ name: a-svc, tokenSha256: ${hex(A)} }]\n` });
  const tokens = new TokenStore(join(dir, 'tokens.yaml'));
  const callWith = (...auth: string[]) => {
    const metadata = new grpc.Metadata();
    for (const a of auth) metadata.add('authorization', a);
    return { metadata, getPeer: () => 'ipv4:127.0.0.1:1', getAuthContext: () => ({}) };
  };
  const authn = createAuthenticator({ tokens, mtls: false });
  t.same(authn(callWith(`Bearer ${A}`)), { name: 'a-svc', via: 'token' });
  t.throws(() => authn(callWith(`Bearer ${A}`, `Bearer ${A}`)), { code: 'UNAUTHENTICATED', message: /more than one/ });
  t.throws(() => authn(callWith('Bearer')), { code: 'UNAUTHENTICATED', message: /not of the form/ });
  t.same(createAuthenticator({ mtls: false })(callWith()), { name: 'anonymous', via: 'none' });
  t.throws(() => createAuthenticator({ mtls: true })(callWith(`Bearer ${A}`)), {
    code: 'UNAUTHENTICATED',
    message: /client certificate/,
  }, 'with mTLS only, a token is not a way in');
});
