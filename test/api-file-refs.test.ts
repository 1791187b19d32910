import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { startSimDevice } from '../src/sim/ssh-device.js';
import { startSimHttpDevice } from '../src/sim/http-device.js';
import { makeHostVerifier, globMatch, type HostKeyRejection } from '../src/transport/hostkey.js';
import { fingerprintsFromKnownHosts, refuseFileReferences } from '../src/api/validate.js';
import { startTestDaemon, m } from './kit/daemon.js';
import { generateEd25519 } from './kit/keys.js';
import { makeTestPki } from './kit/tls.js';
import { httpDevice } from './kit/http-fixtures.js';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const dir = t.testdir({ 'exists.txt': 'top-secret-file-content line two three\n' });
const existing = join(dir, 'exists.txt');
const missing = join(dir, 'missing.txt');

/** A device message with one file field set at `path` (proto names). */
function withFile(path: string, file: string): Any {
  const dev: Any = {
    id: 'f1', host: '127.0.0.1', port: 22, platform: 'cisco_ios', username: 'u', password: 'pw-inline-1',
    host_key: { accept_any: true },
  };
  if (path.startsWith('http.')) dev.http = { base_url: 'https://127.0.0.1:1', auth: { type: 'basic', username: 'a', password: 'p' }, tls: {} };
  const parts = path.split('.');
  let o = dev;
  for (const p of parts.slice(0, -1)) o = o[p] ??= {};
  o[parts[parts.length - 1] as string] = file;
  return dev;
}

const FILE_FIELDS = [
  'password_file', 'private_key_file', 'passphrase_file', 'enable_secret_file', 'host_key.known_hosts_file',
  'http.auth.password_file', 'http.auth.token_file', 'http.tls.ca_file', 'http.tls.cert_file', 'http.tls.key_file',
];

t.test('PutDevice refuses every file field, naming it, and says the same whether the file exists or not', async (t) => {
  const td = await startTestDaemon();
  t.teardown(() => td.stop());
  const put = m(td.inventory, 'PutDevice');
  for (const field of FILE_FIELDS) {
    const a: Any = await td.call(put, { device: withFile(field, existing) }).catch((e) => e);
    const b: Any = await td.call(put, { device: withFile(field, missing) }).catch((e) => e);
    t.equal(a.code, status.INVALID_ARGUMENT, `${field}: INVALID_ARGUMENT`);
    t.equal(b.code, status.INVALID_ARGUMENT);
    t.match(a.details, `device.${field}: file paths are not accepted over the API`, `${field} is named`);
    t.equal(a.details, b.details, `${field}: an existing and a missing file get the same answer (no existence oracle)`);
    t.notMatch(a.details, /top-secret|exists\.txt|missing\.txt/, 'neither path nor content is echoed');
  }
  const list: Any = await td.call(m(td.inventory, 'ListDevices'), {});
  t.equal(list.devices.length, 0, 'nothing was added');
});

t.test('refuseFileReferences walks nested messages, so a *_file field added later is refused too', async (t) => {
  t.throws(() => refuseFileReferences({ id: 'x', future: { deep: { some_new_file: '/etc/shadow' } } }), {
    code: 'INVALID_ARGUMENT', field: 'device.future.deep.some_new_file', message: /no inline form/,
  });
  t.doesNotThrow(() => refuseFileReferences({ id: 'x', http: null, host_key: { known_hosts_file: '' }, labels: { a_file: 'x' } }),
    'empty file fields are "not given"');
});

t.test('host keys over the API: inline known_hosts text pins the keys listed for the device, and a wrong one fails closed', async (t) => {
  const key = generateEd25519();
  const other = generateEd25519();
  const sim = await startSimDevice({ platform: 'cisco_ios', hostKey: key.privatePem });
  t.teardown(() => sim.close());
  const td = await startTestDaemon();
  t.teardown(() => td.stop());
  const put = m(td.inventory, 'PutDevice');
  const run = m(td.proxy, 'Run');
  const base = { host: sim.host, port: sim.port, platform: 'cisco_ios', username: sim.username, password: sim.password };
  const name = `[${sim.host}]:${sim.port}`;

  const good: Any = await td.call(put, { device: { ...base, id: 'kh-good', host_key: { known_hosts: `# comment\n${name} ${key.publicLine}\n*.example ${other.publicLine}\n` } } });
  t.same(good.host_key.fingerprints, [key.fingerprint], 'only the key for this host name is pinned');
  t.equal(good.host_key.known_hosts_file, '');
  const r: Any = await td.call(run, { device: 'kh-good', commands: ['show clock'] });
  t.equal(r.results.length, 1, 'the session came up with the pinned key');

  // A hashed entry (ssh-keygen -H) works too.
  const khFile = join(dir, 'kh');
  writeFileSync(khFile, `${name} ${key.publicLine}\n`);
  execFileSync('ssh-keygen', ['-H', '-f', khFile], { stdio: 'ignore' });
  const hashed: Any = await td.call(put, { device: { ...base, id: 'kh-hashed', host_key: { known_hosts: readFileSync(khFile, 'utf8') } } });
  t.same(hashed.host_key.fingerprints, [key.fingerprint], 'hashed host names are matched');

  await td.call(put, { device: { ...base, id: 'kh-wrong', host_key: { known_hosts: `${name} ${other.publicLine}\n` } } });
  const bad: Any = await td.call(run, { device: 'kh-wrong', commands: ['show clock'] }).catch((e) => e);
  t.equal(bad.code, status.FAILED_PRECONDITION, 'a different key is a host key mismatch');
  t.match(bad.details, other.fingerprint, 'expected fingerprint named');
  t.match(bad.details, key.fingerprint, 'presented fingerprint named');

  const none: Any = await td.call(put, { device: { ...base, id: 'kh-none', host_key: { known_hosts: `other.host ${key.publicLine}\n` } } }).catch((e) => e);
  t.equal(none.code, status.INVALID_ARGUMENT);
  t.match(none.details, `device.host_key.known_hosts: has no usable key for ${name}`);

  const revoked: Any = await td.call(put, { device: { ...base, id: 'kh-rev', host_key: { known_hosts: `${name} ${key.publicLine}\n@revoked * ${key.publicLine}\n` } } }).catch((e) => e);
  t.equal(revoked.code, status.INVALID_ARGUMENT, 'a key that is also @revoked is not pinned');

  const both: Any = await td.call(put, { device: { ...base, id: 'kh-both', host_key: { known_hosts: `${name} ${key.publicLine}\n`, fingerprints: [key.fingerprint] } } }).catch((e) => e);
  t.equal(both.code, status.INVALID_ARGUMENT);
  t.match(both.details, /exactly one of/);
});

t.test('a glob in inline known_hosts cannot stall the daemon (no backtracking regex)', async (t) => {
  const key = generateEd25519();
  const evil = `${'*a'.repeat(40)}*b`;
  const started = performance.now();
  t.throws(() => fingerprintsFromKnownHosts(`${evil} ${key.publicLine}\n`, 'a'.repeat(200), 22), { code: 'INVALID_ARGUMENT' });
  const ms = performance.now() - started;
  t.ok(ms < 500, `matched in ${ms.toFixed(1)} ms`);
  t.ok(globMatch('*.Example.com', 'sw1.example.COM'));
  t.ok(globMatch('sw?', 'sw1'));
  t.notOk(globMatch('sw?', 'sw10'));
  t.ok(globMatch('*', ''));
  t.notOk(globMatch('a*b', 'acbd'));
});

t.test('the CA over the API is inline PEM: it is used for the device certificate and checked on PutDevice', async (t) => {
  const pki = makeTestPki(t.testdir());
  const api = await startSimHttpDevice({ auth: 'none', tls: { key: pki.server.key, cert: pki.server.cert } });
  t.teardown(() => api.close());
  const td = await startTestDaemon();
  t.teardown(() => td.stop());
  const put = m(td.inventory, 'PutDevice');
  const http = m(td.proxy, 'Http');
  const dev = (id: string, tls: Any): Any => ({
    id, host: '127.0.0.1', platform: 'arista_eos', username: 'u', password: 'pw-inline-1', host_key: { accept_any: true },
    http: { base_url: api.url, tls },
  });

  const put1: Any = await td.call(put, { device: dev('ca-ok', { ca_pem: pki.ca.toString() }) });
  t.equal(put1.http.tls.ca_pem, pki.ca.toString(), 'the CA (public) is returned as given');
  const ok: Any = await td.call(http, { device: 'ca-ok', method: 'GET', path: '/restconf/data/interfaces' });
  t.equal(ok.status, 200, 'the device certificate verifies against the inline CA');

  await td.call(put, { device: dev('ca-none', {}) });
  const unknown: Any = await td.call(http, { device: 'ca-none', method: 'GET', path: '/restconf/data/interfaces' }).catch((e) => e);
  t.equal(unknown.code, status.UNAVAILABLE, 'without it the system CAs do not know the device');
  t.match(unknown.details, /unknown authority/);

  const cases: Array<[Any, RegExp]> = [
    [{ ca_pem: 'not a certificate' }, /ca_pem: must hold at least one PEM certificate/],
    [{ ca_pem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }, /certificate 1 of 1 is not a valid X\.509/],
    [{ ca_pem: `${pki.ca.toString()}${readFileSync(pki.server.keyFile, 'utf8')}` }, /contains a private key/],
    [{ ca_pem: pki.ca.toString(), insecure_skip_verify: true }, /cannot be combined with http\.tls\.insecure_skip_verify/],
  ];
  for (const [tls, why] of cases) {
    const e: Any = await td.call(put, { device: dev('ca-bad', tls) }).catch((x) => x);
    t.equal(e.code, status.INVALID_ARGUMENT, String(why));
    t.match(e.details, why);
    t.notMatch(e.details, /MII|AAAA|not a certificate/, 'the PEM is not echoed');
  }
  const plain: Any = await td.call(put, { device: { ...dev('ca-http', { ca_pem: pki.ca.toString() }), http: { base_url: 'http://127.0.0.1:1', tls: { ca_pem: pki.ca.toString() } } } }).catch((x) => x);
  t.match(plain.details, /not https/);
});

t.test('a host-key mismatch names fingerprints only, never a field of a known_hosts line', async (t) => {
  const presented = generateEd25519();
  const pinned = generateEd25519();
  // An inventory file may name any file: lines of another file that happen to have three fields
  // must not be echoed (the second field here stands for a secret in, say, a config file).
  const file = join(dir, 'not-known-hosts');
  writeFileSync(file, [
    `* s3cr3t-word ${Buffer.from('hunter2-password').toString('base64')}`,
    `* ssh-rsa ${pinned.blob.toString('base64')}`, // declared type does not match the key: skipped
    `127.0.0.1 ${pinned.publicLine}`,
    '',
  ].join('\n'));
  const spec = { ...httpDevice('hk1', { baseUrl: 'http://127.0.0.1:1' }), hostKey: { knownHostsFile: file } };
  let rejection: HostKeyRejection | undefined;
  const verify = makeHostVerifier(spec, (r) => (rejection = r));
  t.equal(verify(presented.blob), false);
  t.ok(rejection);
  t.same(rejection!.expected, [pinned.fingerprint], 'expected: fingerprints of well-formed keys for the host only');
  t.equal(rejection!.presented, presented.fingerprint);
  t.equal(rejection!.keyType, 'ssh-ed25519');
  const all = JSON.stringify(rejection);
  t.notMatch(all, /s3cr3t|hunter2|ssh-rsa/, 'no field of any line is echoed');
});
