import t from 'tap';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { status, Metadata } from '@grpc/grpc-js';
import { startSimDevice } from '../src/sim/ssh-device.js';
import { startSimHttpDevice } from '../src/sim/http-device.js';
import { startTestDaemon, simSpec, m } from './kit/daemon.js';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const code = (e: unknown) => (e as { code: number }).code;
const details = (e: unknown) => (e as { details: string }).details;

t.test('RunStream sends SessionInfo first, then chunks, then results, and survives a slow reader', async (t) => {
  const ios = await startSimDevice({ platform: 'cisco_ios', hostname: 'r1' });
  t.teardown(() => ios.close());
  const td = await startTestDaemon({ devices: [simSpec(ios, 'r1')] });
  t.teardown(() => td.stop());
  const call = td.proxy.RunStream({ device: 'r1', commands: ['show lines 60000', 'show clock'] });
  const events: Any[] = [];
  let paused = false;
  await new Promise<void>((resolve, reject) => {
    call.on('data', (ev: Any) => {
      events.push(ev);
      // A slow reader: stop reading for a while after the first chunks.
      if (!paused && events.length === 5) {
        paused = true;
        call.pause();
        setTimeout(() => call.resume(), 500);
      }
    });
    call.on('end', resolve);
    call.on('error', (e: Any) => { t.comment(`${e.code} ${e.details}`); reject(e); });
  });
  t.equal(events[0].event, 'session', 'SessionInfo first');
  const results = events.filter((e) => e.event === 'result');
  t.equal(results.length, 2);
  const chunks = events.filter((e) => e.event === 'chunk' && e.chunk.command_index === 0).map((e) => e.chunk.data).join('');
  t.ok(chunks.length > 1_000_000, 'large output streamed in chunks');
  t.equal(chunks.split('\n').filter(Boolean).length, 60000, 'all lines in the chunks');
  t.equal(results[0].result.output, '', 'the final result does not repeat the output');
  t.ok(events.findIndex((e) => e.event === 'result') > events.findIndex((e) => e.event === 'chunk'), 'chunks before results');
});

t.test('RunMany streams a result per device, errors per device, and stops on cancel', async (t) => {
  const sims = await Promise.all([0, 1, 2].map((i) => startSimDevice({ platform: 'arista_eos', hostname: `sw${i}` })));
  t.teardown(() => Promise.all(sims.map((s) => s.close())));
  const devices = sims.map((s, i) => simSpec(s, `sw${i}`, { labels: { site: 'fra1' } }));
  const td = await startTestDaemon({ devices });
  t.teardown(() => td.stop());

  const got: Any[] = [];
  await new Promise<void>((resolve, reject) => {
    const call = td.proxy.RunMany({ template: { commands: ['show version'] }, labels: { site: 'fra1' }, devices: ['ghost'] });
    call.on('data', (r: Any) => got.push(r));
    call.on('end', resolve);
    call.on('error', reject);
  });
  t.same(got.map((r) => r.device).sort(), ['ghost', 'sw0', 'sw1', 'sw2']);
  const ghost = got.find((r) => r.device === 'ghost');
  t.equal(ghost.error.code, status.NOT_FOUND, 'unknown device is a per-device NOT_FOUND');
  for (const r of got.filter((x) => x.device !== 'ghost')) t.match(r.response.results[0].output, /Arista/);

  // Cancel while every device hangs: the stream ends and no further commands start.
  const before = sims.map((s) => s.stats.commandCounts.get('hang') ?? 0);
  const call = td.proxy.RunMany({ template: { commands: ['hang'] }, labels: { site: 'fra1' }, concurrency: 1 });
  const err = await new Promise<Any>((resolve) => {
    call.on('error', resolve);
    call.on('data', () => {});
    setTimeout(() => call.cancel(), 500);
  });
  t.equal(code(err), status.CANCELLED);
  await new Promise((r) => setTimeout(r, 300));
  const started = sims.map((s, i) => (s.stats.commandCounts.get('hang') ?? 0) - (before[i] ?? 0)).reduce((a, b) => a + b, 0);
  t.equal(started, 1, 'with concurrency 1, only the first device was started');
});

t.test('Inventory: put, get, list, delete; secrets are write-only; invalid devices are refused', async (t) => {
  const sim = await startSimDevice({ platform: 'cisco_ios' });
  t.teardown(() => sim.close());
  const td = await startTestDaemon();
  t.teardown(() => td.stop());
  const device = {
    id: 'api-r1', host: sim.host, port: sim.port, platform: 'cisco_ios', username: sim.username,
    password: sim.password, enable_secret: sim.enableSecret, host_key: { fingerprints: [sim.hostKeyFingerprint] }, labels: { role: 'edge' },
  };
  const put: Any = await td.call(m(td.inventory, 'PutDevice'), { device });
  t.equal(put.id, 'api-r1');
  t.equal(put.source, 'api');
  t.equal(put.has_password, true);
  t.equal(put.password, '', 'password never returned');
  t.notMatch(JSON.stringify(put), sim.password);
  const got: Any = await td.call(m(td.inventory, 'GetDevice'), { id: 'api-r1' });
  t.equal(got.mode, 'SESSION_MODE_SHELL');
  const run: Any = await td.call(m(td.proxy, 'Run'), { device: 'api-r1', commands: ['show version'] });
  t.match(run.results[0].output, /Cisco IOS/, 'a device added over the API is usable at once');
  const list: Any = await td.call(m(td.inventory, 'ListDevices'), { labels: { role: 'edge' } });
  t.same(list.devices.map((d: Any) => d.id), ['api-r1']);
  const bad = await td.call(m(td.inventory, 'PutDevice'), { device: { ...device, id: 'x', host_key: {} } }).catch((e) => e);
  t.equal(code(bad), status.INVALID_ARGUMENT);
  t.match(details(bad), /hostKey/);
  t.notMatch(details(bad), sim.password);
  const del: Any = await td.call(m(td.inventory, 'DeleteDevice'), { id: 'api-r1' });
  t.equal(del.deleted, true);
  const gone = await td.call(m(td.inventory, 'GetDevice'), { id: 'api-r1' }).catch((e) => e);
  t.equal(code(gone), status.NOT_FOUND);
});

t.test('status codes: queue full, login refused, host key mismatch, device down', async (t) => {
  const sim = await startSimDevice({ platform: 'cisco_ios' });
  t.teardown(() => sim.close());
  const td = await startTestDaemon({
    devices: [
      simSpec(sim, 'tiny', { pool: { max: 1, maxWaiting: 1 } }),
      simSpec(sim, 'badpw', { password: 'wrong-password-123' }),
      simSpec(sim, 'badkey', { hostKey: { fingerprints: ['SHA256:' + 'A'.repeat(43)] } }),
    ],
  });
  t.teardown(() => td.stop());
  const run = m(td.proxy, 'Run');

  await td.call(run, { device: 'tiny', commands: ['show clock'] }); // the one session is open and idle
  const calls = [0, 1, 2].map(() => td.call(run, { device: 'tiny', commands: ['sleep 1'] }).then(() => 'ok', (e) => e));
  const outcomes = await Promise.all(calls);
  t.equal(outcomes.filter((o) => o === 'ok').length, 2, 'one runs, one waits');
  const over = outcomes.find((o) => o !== 'ok');
  t.equal(code(over), status.RESOURCE_EXHAUSTED, 'the third overflows the wait queue');
  t.match(details(over), /tiny/);

  const pw = await td.call(run, { device: 'badpw', commands: ['show clock'] }).catch((e) => e);
  t.equal(code(pw), status.FAILED_PRECONDITION, 'login refused');
  t.notMatch(details(pw), /wrong-password-123/);

  const hk = await td.call(run, { device: 'badkey', commands: ['show clock'] }).catch((e) => e);
  t.equal(code(hk), status.FAILED_PRECONDITION, 'host key mismatch');
  t.match(details(hk), /SHA256/);

  await sim.close();
  await td.call(m(td.admin, 'DrainDevice'), { device: 'tiny' });
  const down = await td.call(run, { device: 'tiny', commands: ['show clock'] }).catch((e) => e);
  t.equal(code(down), status.UNAVAILABLE, 'device unreachable');
  t.match(details(down), /tiny/);
});

t.test('Http goes over the device pool; caller auth and policy are enforced', async (t) => {
  const api = await startSimHttpDevice({ auth: 'basic', username: 'api', password: 'http-secret-xyz' });
  t.teardown(() => api.close());
  const token = 'token-for-billing-0123456789';
  const dir = t.testdir({
    'tokens.yaml': `callers:\n  - name: billing\n    tokenSha256: "${createHash('sha256').update(token).digest('hex')}"\n`,
    'policy.yaml': 'rules:\n  - callers: ["billing"]\n    presets: [read-only]\n',
  });
  const { validateDevice } = await import('../src/config/inventory.js');
  const { loadConfig } = await import('../src/config/load.js');
  const defaults = loadConfig({ argv: [], env: {} }).defaults;
  const dev = validateDevice({
    id: 'eapi', host: '127.0.0.1', platform: 'arista_eos', username: 'x', password: 'unused-pass', hostKey: { acceptAny: true },
    http: { baseUrl: api.url, auth: { type: 'basic', username: 'api', password: 'http-secret-xyz' } },
  }, defaults, 'api');
  const td = await startTestDaemon({ devices: [dev], argv: ['--grpc.auth.tokensFile', join(dir, 'tokens.yaml'), '--grpc.auth.policyFile', join(dir, 'policy.yaml')] });
  t.teardown(() => td.stop());
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  const http = m(td.proxy, 'Http');

  const noAuth = await td.call(http, { device: 'eapi', method: 'GET', path: '/api/v1/interfaces' }).catch((e) => e);
  t.equal(code(noAuth), status.UNAUTHENTICATED);
  for (let i = 0; i < 5; i++) {
    const r: Any = await td.call(http, { device: 'eapi', method: 'GET', path: '/api/v1/interfaces' }, { metadata: md });
    t.equal(r.status, 200);
  }
  t.equal(api.counters.socketsOpened, 1, 'five requests, one kept-alive connection');
  const post = await td.call(http, { device: 'eapi', method: 'POST', path: '/command-api', body: Buffer.from('{}') }, { metadata: md }).catch((e) => e);
  t.equal(code(post), status.PERMISSION_DENIED, 'read-only preset refuses POST');
  const cfg = await td.call(m(td.proxy, 'Run'), { device: 'eapi', commands: ['hostname x'], configure: true }, { metadata: md }).catch((e) => e);
  t.equal(code(cfg), status.PERMISSION_DENIED, 'read-only preset refuses configure');
  t.notMatch(details(cfg) + details(post) + details(noAuth), /http-secret-xyz|token-for-billing/);
  const escape = await td.call(http, { device: 'eapi', method: 'GET', path: '/../etc/passwd' }, { metadata: md }).catch((e) => e);
  t.equal(code(escape), status.INVALID_ARGUMENT);
});
