import t from 'tap';
import { HttpClients } from '../src/app/http-clients.js';
import { silentLogger } from '../src/core/logger.js';
import { systemClock } from '../src/core/clock.js';
import { startSimHttpDevice } from '../src/sim/http-device.js';
import { makeTestPki } from './kit/tls.js';
import { BREAKER, httpDevice, makeClient } from './kit/http-fixtures.js';

const pki = makeTestPki(t.testdir());

t.test('100 sequential requests reuse one kept-alive socket (counted at the server)', async (t) => {
  const sim = await startSimHttpDevice({ auth: 'none', tls: { key: pki.server.key, cert: pki.server.cert } });
  t.teardown(() => sim.close());
  const client = makeClient(httpDevice('seq1', { baseUrl: sim.url, tls: { caFile: pki.caFile } }));
  t.teardown(() => client.destroy());
  const reused: boolean[] = [];
  for (let i = 0; i < 100; i++) {
    const r = await client.request({ method: 'GET', path: '/api/v1/interfaces', headers: {}, timeoutMs: 5000 });
    t.equal(r.status, 200);
    reused.push(r.session.reused);
    if (i === 99) t.equal(r.session.uses, 100, 'uses counts requests');
  }
  t.equal(sim.counters.socketsOpened, 1, 'server saw exactly one TCP connection');
  t.equal(sim.counters.byPath.get('/api/v1/interfaces'), 100);
  t.equal(reused[0], false, 'first request opened the connection');
  t.ok(reused.slice(1).every(Boolean), 'all later requests went over the open socket');
  const s = client.stats();
  t.match(s, { protocol: 'http', idle: 1, busy: 0, createdTotal: 1, closedTotal: 0, acquiredTotal: 100, circuit: 'closed', max: 4 });
});

t.test('200 concurrent requests never open more than maxConnections sockets and all succeed', async (t) => {
  const sim = await startSimHttpDevice({ auth: 'none', latencyMs: 3, tls: { key: pki.server.key, cert: pki.server.cert } });
  t.teardown(() => sim.close());
  const client = makeClient(httpDevice('conc1', { baseUrl: sim.url, tls: { caFile: pki.caFile }, maxConnections: 4 }));
  t.teardown(() => client.destroy());
  let maxWaiting = 0;
  let maxBusy = 0;
  const probe = setInterval(() => {
    const s = client.stats();
    maxWaiting = Math.max(maxWaiting, s.waiting);
    maxBusy = Math.max(maxBusy, s.busy);
  }, 2);
  const results = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      client.request({
        method: 'POST',
        path: '/command-api',
        headers: { 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify({ jsonrpc: '2.0', method: 'runCmds', params: { version: 1, cmds: ['show version'], format: 'json' }, id: String(i) })),
        timeoutMs: 20_000,
      }),
    ),
  );
  clearInterval(probe);
  t.ok(results.every((r) => r.status === 200), 'all 200 answered 200');
  t.ok(results.every((r, i) => JSON.parse(r.body.toString()).id === String(i)), 'each reply belongs to its request');
  t.equal(JSON.parse(results[0]!.body.toString()).result[0].version, '4.31.2F');
  t.ok(sim.counters.peakOpenSockets <= 4, `peak sockets at the server ${sim.counters.peakOpenSockets} <= 4`);
  t.ok(sim.counters.socketsOpened <= 4, `sockets opened ${sim.counters.socketsOpened} <= 4`);
  t.ok(sim.counters.peakConcurrentRequests <= 4, `peak concurrent requests ${sim.counters.peakConcurrentRequests} <= 4`);
  t.ok(maxWaiting > 0, 'stats showed requests waiting for a connection');
  t.ok(maxBusy <= 4 && maxBusy > 0, `stats busy peaked at ${maxBusy}`);
  const s = client.stats();
  t.equal(s.createdTotal, sim.counters.socketsOpened, 'createdTotal matches the sockets the server saw');
  t.equal(s.idle, s.createdTotal - s.closedTotal, 'every open socket is idle afterwards');
  t.equal(s.waiting, 0);
});

t.test('stats count closed connections after a graceful close, and closed clients refuse requests', async (t) => {
  const sim = await startSimHttpDevice({ auth: 'none' });
  t.teardown(() => sim.close());
  const client = makeClient(httpDevice('close1', { baseUrl: sim.url, maxConnections: 2 }));
  t.teardown(() => client.destroy());
  const slow = client.request({ method: 'GET', path: '/slow?ms=400', headers: {}, timeoutMs: 5000 });
  for (let i = 0; i < 200 && sim.counters.activeRequests === 0; i++) await new Promise((r) => setTimeout(r, 5));
  t.equal(sim.counters.activeRequests, 1, 'the slow request reached the device');
  t.equal(client.stats().busy, 1, 'one busy connection while the slow request runs');
  const closing = client.close();
  t.equal((await slow).status, 200, 'in-flight request finished during a graceful close');
  await closing;
  await t.rejects(client.request({ method: 'GET', path: '/headers', headers: {}, timeoutMs: 1000 }), { code: 'POOL_CLOSED' });
  const s = client.stats();
  t.equal(s.createdTotal, 1);
  t.equal(s.closedTotal, 1);
  t.equal(s.idle + s.busy, 0);
});

t.test('a timed-out request is not left on the socket: DEADLINE_EXCEEDED for the caller budget, COMMAND_TIMEOUT for the device limit', async (t) => {
  const sim = await startSimHttpDevice({ auth: 'none' });
  t.teardown(() => sim.close());
  const client = makeClient(httpDevice('slow1', { baseUrl: sim.url, requestTimeoutMs: 300 }));
  t.teardown(() => client.destroy());
  await t.rejects(client.request({ method: 'GET', path: '/slow?ms=3000', headers: {}, timeoutMs: 100 }), {
    code: 'DEADLINE_EXCEEDED',
    message: /device slow1: HTTP GET \/slow\?ms=3000 exceeded the deadline of 100 ms/,
  });
  await t.rejects(client.request({ method: 'GET', path: '/slow?ms=3000', headers: {}, timeoutMs: 0 }), {
    code: 'COMMAND_TIMEOUT',
    message: /within 300 ms/,
  });
  const ok = await client.request({ method: 'GET', path: '/slow?ms=10', headers: {}, timeoutMs: 0 });
  t.equal(ok.status, 200, 'client still works');
  t.equal(client.stats().circuit, 'closed', 'timeouts do not count against the breaker');
  t.ok(client.stats().closedTotal >= 2, 'the timed-out connections were closed, not reused');
});

t.test('an aborted request fails with CANCELLED', async (t) => {
  const sim = await startSimHttpDevice({ auth: 'none' });
  t.teardown(() => sim.close());
  const client = makeClient(httpDevice('abort1', { baseUrl: sim.url }));
  t.teardown(() => client.destroy());
  const ac = new AbortController();
  const p = client.request({ method: 'GET', path: '/slow?ms=3000', headers: {}, timeoutMs: 5000, signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  await t.rejects(p, { code: 'CANCELLED', message: /device abort1: HTTP request cancelled/ });
});

t.test('HttpClients reuses the client for an unchanged spec and replaces it (gracefully) when the spec changes', async (t) => {
  const sim = await startSimHttpDevice({ auth: 'none' });
  t.teardown(() => sim.close());
  const clients = new HttpClients({ clock: systemClock, random: () => 0, breaker: BREAKER, logger: silentLogger });
  t.teardown(() => clients.closeAll());
  const d1 = httpDevice('reg1', { baseUrl: sim.url });
  const c1 = clients.get(d1);
  t.equal(clients.get(d1), c1, 'same spec object → same client');
  t.equal(clients.get(httpDevice('reg1', { baseUrl: sim.url })), c1, 'equal spec (new object) → same client');
  await c1.request({ method: 'GET', path: '/headers', headers: {}, timeoutMs: 2000 });
  const d2 = httpDevice('reg1', { baseUrl: sim.url, maxConnections: 8 });
  const c2 = clients.get(d2);
  t.not(c2, c1, 'changed spec → new client');
  await t.rejects(c1.request({ method: 'GET', path: '/headers', headers: {}, timeoutMs: 2000 }), { code: 'POOL_CLOSED' }, 'old client closed');
  t.equal((await c2.request({ method: 'GET', path: '/headers', headers: {}, timeoutMs: 2000 })).status, 200);
  t.equal(clients.stats().length, 1);
  t.equal(clients.stats(['other']).length, 0);
  await clients.remove('reg1');
  t.equal(clients.stats().length, 0);
  t.throws(() => clients.get({ ...d1, http: undefined }), { code: 'INVALID_ARGUMENT', field: 'http' });
});

t.test('closeAll gives requests in flight a grace period, then destroys what is left, so shutdown cannot hang', async (t) => {
  const sim = await startSimHttpDevice({ auth: 'none' });
  t.teardown(() => sim.close());
  const clients = new HttpClients({ clock: systemClock, random: () => 0, breaker: BREAKER, logger: silentLogger });
  const c = clients.get(httpDevice('slow1', { baseUrl: sim.url }));
  // A request the device answers only after 20 s, with a timeout longer still.
  const stuck = c.request({ method: 'GET', path: '/slow?ms=20000', headers: {}, timeoutMs: 60_000 }).then(() => 'answered', (e: Error) => e);
  const quick = c.request({ method: 'GET', path: '/slow?ms=100', headers: {}, timeoutMs: 5000 }).then((r) => r.status);
  await new Promise((r) => setTimeout(r, 50));
  const t0 = Date.now();
  await clients.closeAll(500);
  const took = Date.now() - t0;
  t.ok(took >= 100 && took < 3000, `closeAll returned after ${took} ms (grace 500 ms), not after the 20 s answer`);
  t.equal(await quick, 200, 'a request that finishes within the grace period is answered');
  t.type(await stuck, Error, 'the stuck request fails instead of holding the exit open');
  t.equal(sim.counters.openSockets, 0, 'no socket left open at the device');
});
