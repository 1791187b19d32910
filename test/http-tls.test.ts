import t, { type Test } from 'tap';
import { startSimHttpDevice, type SimHttpDevice } from '../src/sim/http-device.js';
import { makeTestPki, type CertPair } from './kit/tls.js';
import { captureLogger, httpDevice, makeClient } from './kit/http-fixtures.js';
import type { HttpTls } from '../src/config/types.js';

const pki = makeTestPki(t.testdir());

async function sim(t: Test, pair: CertPair, extra: { ca?: Buffer; requireClientCert?: boolean } = {}): Promise<SimHttpDevice> {
  const s = await startSimHttpDevice({ auth: 'none', tls: { key: pair.key, cert: pair.cert, ...extra } });
  t.teardown(() => s.close());
  return s;
}

function get(t: Test, url: string, tls: HttpTls, id = 'tls1') {
  const client = makeClient(httpDevice(id, { baseUrl: url, tls }));
  t.teardown(() => client.destroy());
  return client.request({ method: 'GET', path: '/restconf/data/interfaces', headers: {}, timeoutMs: 5000 });
}

t.test('a certificate signed by the configured CA is accepted', async (t) => {
  const s = await sim(t, pki.server);
  const r = await get(t, s.url, { caFile: pki.caFile });
  t.equal(r.status, 200);
  t.match(JSON.parse(r.body.toString()), { 'openconfig-interfaces:interfaces': { interface: [{ name: 'Ethernet1' }] } });
});

t.test('a certificate from another CA is refused with "certificate signed by unknown authority"', async (t) => {
  const s = await sim(t, pki.otherCa);
  await t.rejects(get(t, s.url, { caFile: pki.caFile }, 'tls-ca'), {
    code: 'TLS_ERROR',
    device: 'tls-ca',
    message: `device tls-ca: TLS connection to 127.0.0.1:${s.port} failed: certificate signed by unknown authority`,
  });
  t.equal(s.counters.requests, 0, 'no request reached the server');
});

t.test('without a configured CA the system roots do not trust a private CA', async (t) => {
  const s = await sim(t, pki.server);
  await t.rejects(get(t, s.url, {}), { code: 'TLS_ERROR', message: /certificate signed by unknown authority/ });
});

t.test('a certificate for another name is refused with the name it was checked against', async (t) => {
  const s = await sim(t, pki.wrongName);
  await t.rejects(get(t, s.url, { caFile: pki.caFile }, 'tls-name'), {
    code: 'TLS_ERROR',
    message: /device tls-name: TLS connection to 127\.0\.0\.1:\d+ failed: certificate name does not match 127\.0\.0\.1$/,
  });
  const s2 = await sim(t, pki.server);
  await t.rejects(get(t, s2.url, { caFile: pki.caFile, serverName: 'other.example' }, 'tls-name2'), {
    code: 'TLS_ERROR',
    message: /certificate name does not match other\.example$/,
  });
});

t.test('serverName selects the name the certificate is checked against', async (t) => {
  const s = await sim(t, pki.wrongName);
  const r = await get(t, s.url, { caFile: pki.caFile, serverName: 'device.example' });
  t.equal(r.status, 200);
});

t.test('an expired certificate is refused with "certificate expired"', async (t) => {
  const s = await sim(t, pki.expired);
  await t.rejects(get(t, s.url, { caFile: pki.caFile }, 'tls-exp'), { code: 'TLS_ERROR', message: /failed: certificate expired$/ });
});

t.test('insecureSkipVerify connects to an untrusted certificate and logs a warning naming the device', async (t) => {
  const s = await sim(t, pki.otherCa);
  const { logger, lines } = captureLogger('info');
  const client = makeClient(httpDevice('tls-insecure', { baseUrl: s.url, tls: { insecureSkipVerify: true } }), { logger });
  t.teardown(() => client.destroy());
  const r = await client.request({ method: 'GET', path: '/headers', headers: {}, timeoutMs: 5000 });
  t.equal(r.status, 200);
  const warn = lines.map((l) => JSON.parse(l) as { level: number; msg: string; device?: string }).find((l) => l.level === 40);
  t.ok(warn, 'a warning was logged');
  t.match(warn, { device: 'tls-insecure', msg: /tls-insecure.*verification is disabled/ });
});

t.test('a client certificate is presented when the device demands one (mTLS)', async (t) => {
  const s = await sim(t, pki.server, { ca: pki.ca, requireClientCert: true });
  const r = await get(t, s.url, { caFile: pki.caFile, certFile: pki.client.certFile, keyFile: pki.client.keyFile });
  t.equal(r.status, 200);
  const without = get(t, s.url, { caFile: pki.caFile }, 'tls-nocert');
  const err = await without.then(
    () => undefined,
    (e: unknown) => e as { code: string; message: string },
  );
  t.ok(err, 'request without a client certificate fails');
  t.ok(err && ['TLS_ERROR', 'CONNECTION_LOST'].includes(err.code), `code ${err?.code}: ${err?.message}`);
});

t.test('unreadable TLS files fail client creation with CONFIG_INVALID naming the field, not the content', async (t) => {
  t.throws(() => makeClient(httpDevice('tls-files', { baseUrl: 'https://127.0.0.1:1', tls: { caFile: '/nonexistent/ca.pem' } })), {
    code: 'CONFIG_INVALID',
    field: 'http.tls.caFile',
    message: /cannot read http\.tls\.caFile \/nonexistent\/ca\.pem: ENOENT/,
  });
  t.throws(() => makeClient(httpDevice('url-creds', { baseUrl: 'https://api:hunter2@127.0.0.1:1' })), {
    code: 'CONFIG_INVALID',
    field: 'http.baseUrl',
    message: 'device url-creds: http.baseUrl must not contain credentials; use http.auth',
  });
  t.throws(() => makeClient(httpDevice('tls-files', { baseUrl: 'https://127.0.0.1:1', tls: { certFile: pki.client.certFile } })), {
    code: 'CONFIG_INVALID',
    field: 'http.tls.keyFile',
  });
});
