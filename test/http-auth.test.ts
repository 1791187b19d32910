import t, { type Test } from 'tap';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Secret } from '../src/config/secret.js';
import { startSimHttpDevice } from '../src/sim/http-device.js';
import { captureLogger, httpDevice, makeClient } from './kit/http-fixtures.js';

// Every credential used below; none may appear in an error message or a log line.
const SECRETS = ['s3cret-Pa55', 'wrong-Pa55', 'tok-AAAA-1111', 'tok-BBBB-22222', 'sess-Pa55'];
const seenMessages: string[] = [];
const { logger, lines } = captureLogger('debug');

async function rejectsWith(t: Test, p: Promise<unknown>, match: Record<string, unknown>): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  t.ok(err, 'rejected');
  if (err) {
    seenMessages.push(err.message, String(err.stack ?? ''));
    t.match(err, match);
  }
}

const get = (path = '/restconf/data/interfaces', headers: Record<string, string> = {}) => ({ method: 'GET', path, headers, timeoutMs: 5000 });

t.test('basic auth sends the configured credentials; a caller cannot override Authorization', async (t) => {
  const sim = await startSimHttpDevice({ auth: 'basic', username: 'api', password: 's3cret-Pa55' });
  t.teardown(() => sim.close());
  const ok = makeClient(httpDevice('basic1', { baseUrl: sim.url, auth: { type: 'basic', username: 'api', password: Secret.fromValue('s3cret-Pa55') } }), { logger });
  t.teardown(() => ok.destroy());
  t.equal((await ok.request(get())).status, 200);
  const echoed = await ok.request(get('/headers', { authorization: 'Basic Zm9vOmJhcg==', 'x-trace': 'abc', connection: 'close', host: 'evil.example' }));
  const h = JSON.parse(echoed.body.toString()) as Record<string, string>;
  t.equal(h.authorization, `Basic ${Buffer.from('api:s3cret-Pa55').toString('base64')}`, 'device credential wins');
  t.equal(h['x-trace'], 'abc', 'ordinary caller headers pass');
  t.not(h.host, 'evil.example', 'caller cannot set Host');
  t.not(h.connection, 'close', 'hop-by-hop headers dropped');

  const bad = makeClient(httpDevice('basic2', { baseUrl: sim.url, auth: { type: 'basic', username: 'api', password: Secret.fromValue('wrong-Pa55') } }), { logger });
  t.teardown(() => bad.destroy());
  const r = await bad.request(get());
  t.equal(r.status, 401, 'a refused basic credential is the device answer, handed back');
  t.equal(bad.stats().circuit, 'closed', 'an HTTP 401 does not count against the breaker');
});

t.test('bearer auth picks up a rotated token file on the next request', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'token');
  writeFileSync(file, 'tok-AAAA-1111\n');
  const sim = await startSimHttpDevice({ auth: 'bearer', token: 'tok-AAAA-1111' });
  t.teardown(() => sim.close());
  const client = makeClient(httpDevice('bearer1', { baseUrl: sim.url, auth: { type: 'bearer', token: Secret.fromFile(file) } }), { logger });
  t.teardown(() => client.destroy());
  t.equal((await client.request(get())).status, 200);
  // Kubernetes rotates a mounted Secret by swapping in a new file (atomic rename).
  sim.setToken('tok-BBBB-22222');
  t.equal((await client.request(get())).status, 401, 'old token refused by the device after rotation');
  writeFileSync(join(dir, 'token.new'), 'tok-BBBB-22222\n');
  renameSync(join(dir, 'token.new'), file);
  const r = await client.request(get('/headers'));
  t.equal(r.status, 200, 'next request uses the new token');
  t.equal(JSON.parse(r.body.toString()).authorization, 'Bearer tok-BBBB-22222');
  // In-place rewrite (same inode, different size) is picked up too.
  sim.setToken('tok-AAAA-1111');
  writeFileSync(file, 'tok-AAAA-1111');
  t.equal((await client.request(get())).status, 200);
});

function sessionDevice(url: string, id: string, extra: { tokenField?: string; tokenHeader?: string; password?: string } = {}) {
  return httpDevice(id, {
    baseUrl: url,
    auth: {
      type: 'session',
      loginPath: '/login',
      username: 'admin',
      password: Secret.fromValue(extra.password ?? 'sess-Pa55'),
      ...(extra.tokenField ? { tokenField: extra.tokenField } : {}),
      ...(extra.tokenHeader ? { tokenHeader: extra.tokenHeader } : {}),
    },
  });
}

for (const mode of [{ name: 'cookie' }, { name: 'token field', tokenField: 'token' }, { name: 'token header', tokenField: 'token', tokenHeader: 'X-Auth-Token' }]) {
  t.test(`session auth (${mode.name}): one login, an expired session is renewed exactly once, concurrent requests share it`, async (t) => {
    const sim = await startSimHttpDevice({ auth: 'session', username: 'admin', password: 'sess-Pa55', latencyMs: 5 });
    t.teardown(() => sim.close());
    const client = makeClient(sessionDevice(sim.url, 'sess1', mode), { logger });
    t.teardown(() => client.destroy());
    // Concurrent first requests share the initial login.
    const first = await Promise.all(Array.from({ length: 5 }, () => client.request(get())));
    t.ok(first.every((r) => r.status === 200));
    t.equal(sim.counters.logins, 1, 'one login for five concurrent first requests');
    for (let i = 0; i < 5; i++) t.equal((await client.request(get())).status, 200);
    t.equal(sim.counters.logins, 1, 'the session is kept');
    t.notOk('set-cookie' in first[0]!.headers, 'no session cookie handed to callers');

    sim.expireSessions();
    const before = sim.counters.byPath.get('/restconf/data/interfaces') ?? 0;
    const renewed = await Promise.all(Array.from({ length: 10 }, () => client.request(get())));
    t.ok(renewed.every((r) => r.status === 200), 'all requests during the renewal succeed');
    t.equal(sim.counters.logins, 2, 'exactly one renewal login for 10 concurrent requests');
    const after = sim.counters.byPath.get('/restconf/data/interfaces') ?? 0;
    t.ok(after - before <= 20, `each request retried at most once (${after - before} sends for 10 requests)`);

    // A POST rejected with 401 is also re-sent once after the renewal: the device did not act on it.
    sim.expireSessions();
    const echo = await client.request({ method: 'POST', path: '/echo', headers: { 'content-type': 'text/plain' }, body: Buffer.from('hi'), timeoutMs: 5000 });
    t.equal(echo.status, 200);
    t.equal(echo.body.toString(), 'hi');
    t.equal(sim.counters.logins, 3);
    t.equal(sim.counters.byPath.get('/echo'), 2, 'the POST was sent twice: 401, then after login');
  });
}

t.test('a refused session login fails with AUTH_FAILED naming the device and the path, without the password', async (t) => {
  const sim = await startSimHttpDevice({ auth: 'session', username: 'admin', password: 'sess-Pa55' });
  t.teardown(() => sim.close());
  const client = makeClient(sessionDevice(sim.url, 'sess-bad', { password: 'wrong-Pa55' }), { logger });
  t.teardown(() => client.destroy());
  await rejectsWith(t, client.request(get()), { code: 'AUTH_FAILED', message: 'device sess-bad: HTTP session login to /login returned 403' });
  t.equal(sim.counters.logins, 1);
  t.equal(client.stats().circuit, 'open', 'refused credentials open the breaker at once (no account lock-out)');
  // While open, callers keep getting the permanent code (FAILED_PRECONDITION), not a retryable UNAVAILABLE.
  await rejectsWith(t, client.request(get()), { code: 'AUTH_FAILED', message: /sess-bad: circuit open until .*HTTP session login to \/login returned 403/ });
  t.equal(sim.counters.logins, 1, 'no further login attempts while open');
});

t.test('a missing token file fails with CONFIG_INVALID naming the file, and nothing is sent', async (t) => {
  const sim = await startSimHttpDevice({ auth: 'bearer', token: 'tok-AAAA-1111' });
  t.teardown(() => sim.close());
  const file = join(t.testdir(), 'absent-token');
  const client = makeClient(httpDevice('bearer-missing', { baseUrl: sim.url, auth: { type: 'bearer', token: Secret.fromFile(file) } }), { logger });
  t.teardown(() => client.destroy());
  await rejectsWith(t, client.request(get()), { code: 'CONFIG_INVALID', message: `device bearer-missing: cannot read the HTTP token (file ${file}): ENOENT` });
  t.equal(sim.counters.requests, 0);
});

t.test('no credential appears in any error message or log line', async (t) => {
  const text = [...seenMessages, ...lines].join('\n');
  t.ok(seenMessages.length >= 4, 'errors were collected');
  for (const s of SECRETS) t.notOk(text.includes(s), `secret ${s.slice(0, 4)}… not found`);
  t.notOk(text.includes(Buffer.from('api:s3cret-Pa55').toString('base64')), 'basic credential (base64) not found');
});
