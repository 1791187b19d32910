/**
 * src/core/fingerprint.ts: one stable spec fingerprint, secrets hashed under a per-process key
 * (inline) or counted by path (file), never included in clear.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Secret } from '../src/config/secret.js';
import { sameSpec, specFingerprint } from '../src/core/fingerprint.js';

t.test('the fingerprint is 64 hex characters and the same for equal values', async (t) => {
  const fp = specFingerprint({ host: 'r1', port: 22, tags: ['a', 'b'] });
  t.match(fp, /^[0-9a-f]{64}$/);
  t.equal(specFingerprint({ host: 'r1', port: 22, tags: ['a', 'b'] }), fp);
});

t.test('key order does not count, array order does', async (t) => {
  t.ok(sameSpec({ a: 1, b: { c: 2, d: 3 } }, { b: { d: 3, c: 2 }, a: 1 }));
  t.notOk(sameSpec({ list: [1, 2] }, { list: [2, 1] }));
});

t.test('an undefined key counts as absent, but not as null', async (t) => {
  t.ok(sameSpec({ a: 1, prompt: undefined }, { a: 1 }));
  t.notOk(sameSpec({ a: 1, prompt: null }, { a: 1 }));
});

t.test('values of different types or shapes are told apart', async (t) => {
  const distinct = [null, 0, -0, '0', false, 'false', 'null', NaN, Infinity, [], {}, [null], ['a,b'], ['a', 'b'], { a: 'b' }, { 'a":"b': '' }];
  const fps = distinct.map((v) => specFingerprint({ v }));
  t.equal(new Set(fps).size, distinct.length, 'every value has its own fingerprint');
});

t.test('an inline secret counts by value and never appears in clear, not even hashed without a key', async (t) => {
  const pw = 'correct-horse-battery-staple';
  const a = { password: Secret.fromValue(pw) };
  t.ok(sameSpec(a, { password: Secret.fromValue(pw) }), 'an equal value in a new Secret object is the same');
  t.notOk(sameSpec(a, { password: Secret.fromValue('another-one') }), 'a changed value is a change');
  t.notOk(sameSpec(a, { password: pw }), 'a secret is not the same as the plain string');
  // Were the secret hashed without the process key, anyone holding a fingerprint could test guesses offline.
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  const fp = specFingerprint(a);
  t.not(fp, sha(`{"password":${JSON.stringify(pw)}}`), 'not a hash of the clear text');
  t.not(fp, sha(`{"password":secret:inline:${sha(pw)}}`), 'not an unkeyed hash of the value');
});

t.test('a string shaped like a secret token is not a secret', async (t) => {
  const s = Secret.fromFile('/run/secrets/pw');
  t.notOk(sameSpec({ p: s }, { p: 'secret:file:"/run/secrets/pw"' }));
});

t.test('a file secret counts by its path, and its content is not read', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wp-fp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'pw');
  writeFileSync(file, 'one\n');
  const before = specFingerprint({ password: Secret.fromFile(file) });
  writeFileSync(file, 'two-rotated\n');
  t.equal(specFingerprint({ password: Secret.fromFile(file) }), before, 'rotation is picked up by reveal(), not by the fingerprint');
  t.not(specFingerprint({ password: Secret.fromFile(join(dir, 'other')) }), before, 'another path is a change');
  rmSync(file);
  t.equal(specFingerprint({ password: Secret.fromFile(file) }), before, 'a missing file neither throws nor changes it');
  t.notOk(sameSpec({ password: Secret.fromFile(file) }, { password: Secret.fromValue('two-rotated') }), 'file and inline differ');
});

t.test('values that cannot be fingerprinted faithfully are refused', async (t) => {
  t.throws(() => specFingerprint({ f: () => 1 }), { name: 'TypeError', message: /function cannot be fingerprinted/ });
  t.throws(() => specFingerprint({ m: new Map([['a', 1]]) }), { name: 'TypeError', message: /Map object cannot be fingerprinted/ });
  t.throws(() => specFingerprint({ n: 1n }), { name: 'TypeError', message: /bigint/ });
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  t.throws(() => specFingerprint(cyclic), { name: 'TypeError', message: /cycle/ });
  const shared = { x: 1 };
  t.ok(sameSpec({ a: shared, b: shared }, { a: { x: 1 }, b: { x: 1 } }), 'a value reached twice is not a cycle');
  t.equal(specFingerprint(Object.assign(Object.create(null), { a: 1 })), specFingerprint({ a: 1 }), 'null-prototype objects are plain');
});
