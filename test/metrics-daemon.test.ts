/**
 * End to end: a real daemon (gRPC + metrics HTTP listener) in front of a simulated SSH device.
 * Calls go through gRPC; /metrics is fetched over HTTP and must show what happened, in a form
 * promtool accepts.
 */
import t from 'tap';
import { request } from 'node:http';
import { status } from '@grpc/grpc-js';
import { startSimDevice } from '../src/sim/ssh-device.js';
import { startSimHttpDevice } from '../src/sim/http-device.js';
import { CLOSE_REASON_LABELS } from '../src/observability/metrics.js';
import { startTestDaemon, simSpec, m } from './kit/daemon.js';
import { freePort } from './kit/sshd.js';
import { parseExposition, promtool, sampleValue } from './kit/metrics-fixtures.js';

function get(address: string, path: string): Promise<{ status: number; type: string; body: string }> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('timeout', () => req.destroy(new Error('GET timed out')));
    req.on('error', reject);
    req.end();
  });
}

t.test('a real daemon exposes what its calls did, and promtool accepts it', async (t) => {
  const sim = await startSimDevice({ platform: 'cisco_ios', hostname: 'r1' });
  t.teardown(() => sim.close());
  const td = await startTestDaemon({ devices: [simSpec(sim, 'r1', { pool: { min: 0, max: 3 } })] });
  t.teardown(() => td.stop());
  const run = m(td.proxy, 'Run');

  await td.call(run, { device: 'r1', commands: ['show version'] });
  await td.call(run, { device: 'r1', commands: ['show clock', 'show bogus'] });
  await t.rejects(td.call(run, { device: 'nope', commands: ['show clock'] }), { code: status.NOT_FOUND });

  const res = await get(td.daemon.metricsAddress, '/metrics');
  t.equal(res.status, 200);
  t.match(res.type, /^text\/plain; version=0\.0\.4/);
  const lint = promtool(['check', 'metrics'], res.body);
  t.equal(lint.status, 0, lint.stdout + lint.stderr);
  t.equal(lint.stdout.trim(), '', 'no lint problems');

  const s = parseExposition(res.body);
  t.equal(sampleValue(s, 'warmpool_rpc_requests_total', { method: 'DeviceProxy/Run', code: 'OK' }), 2);
  t.equal(sampleValue(s, 'warmpool_rpc_requests_total', { method: 'DeviceProxy/Run', code: 'NOT_FOUND' }), 1);
  t.equal(sampleValue(s, 'warmpool_session_opens_total', { device: 'r1', protocol: 'ssh', result: 'success' }), 1, 'one login, then reuse');
  t.equal(sampleValue(s, 'warmpool_session_open_duration_seconds_count', { protocol: 'ssh' }), 1);
  t.equal(sampleValue(s, 'warmpool_acquire_wait_seconds_count', { protocol: 'ssh' }), 2);
  t.equal(sampleValue(s, 'warmpool_command_duration_seconds_count', { protocol: 'ssh', result: 'ok' }), 2);
  t.equal(sampleValue(s, 'warmpool_command_duration_seconds_count', { protocol: 'ssh', result: 'failed' }), 1);
  t.equal(sampleValue(s, 'warmpool_sessions', { device: 'r1', protocol: 'ssh', state: 'idle' }), 1, 'the session is back in the pool');
  t.equal(sampleValue(s, 'warmpool_sessions', { device: 'r1', protocol: 'ssh', state: 'busy' }), 0);
  t.equal(sampleValue(s, 'warmpool_pool_max_sessions', { device: 'r1', protocol: 'ssh' }), 3);
  t.equal(sampleValue(s, 'warmpool_circuit_open', { device: 'r1' }), 0);
  t.equal(sampleValue(s, 'warmpool_devices', {}), 1);
  t.notMatch(res.body, /show (version|clock|bogus)|password/i, 'no command or credential in the exposition');

  const ready = await get(td.daemon.metricsAddress, '/readyz');
  t.equal(ready.status, 200, '/readyz (the probes in deploy/ and helm/) answers 200 while serving');
  const healthy = await get(td.daemon.metricsAddress, '/healthz');
  t.equal(healthy.status, 200);
});

t.test('SSH and HTTP calls (ok, failed, error) are recorded with real durations, per device, with gRPC latency by code', async (t) => {
  const sim = await startSimDevice({ platform: 'cisco_ios', hostname: 'r1' });
  t.teardown(() => sim.close());
  // Every HTTP answer takes at least 40 ms: failed requests must show that time, not 0 s.
  const api = await startSimHttpDevice({ auth: 'none', latencyMs: 40 });
  t.teardown(() => api.close());
  const td = await startTestDaemon({
    devices: [simSpec(sim, 'r1', { pool: { min: 0, max: 2 }, http: { baseUrl: api.url, auth: { type: 'none' } } })],
  });
  t.teardown(() => td.stop());
  const run = m(td.proxy, 'Run');
  const http = m(td.proxy, 'Http');

  await td.call(run, { device: 'r1', commands: ['show version'] });
  await td.call(run, { device: 'r1', commands: ['show bogus'] });
  // The simulator answers `sleep 5` after 5 s; the command times out after 300 ms.
  await t.rejects(td.call(run, { device: 'r1', commands: ['sleep 5'], command_timeout_ms: 300 }));
  for (let i = 0; i < 3; i++) {
    const res = await td.call(http, { device: 'r1', method: 'GET', path: '/restconf/data/interfaces' }) as { status: number };
    t.equal(res.status, 200);
  }
  const notFound = await td.call(http, { device: 'r1', method: 'GET', path: '/status/404' }) as { status: number };
  t.equal(notFound.status, 404);
  await t.rejects(td.call(http, { device: 'r1', method: 'GET', path: '/slow?ms=5000', timeout_ms: 150 }), { code: status.DEADLINE_EXCEEDED });

  const res = await get(td.daemon.metricsAddress, '/metrics');
  const lint = promtool(['check', 'metrics'], res.body);
  t.equal(lint.status, 0, lint.stdout + lint.stderr);
  t.equal(lint.stdout.trim(), '', 'no lint problems');
  const s = parseExposition(res.body);
  const v = (name: string, labels: Record<string, string>) => sampleValue(s, name, labels);

  // Aggregate (contract) histogram: SSH and HTTP alike.
  t.equal(v('warmpool_command_duration_seconds_count', { protocol: 'ssh', result: 'ok' }), 1);
  t.equal(v('warmpool_command_duration_seconds_count', { protocol: 'ssh', result: 'failed' }), 1);
  t.equal(v('warmpool_command_duration_seconds_count', { protocol: 'ssh', result: 'error' }), 1);
  t.equal(v('warmpool_command_duration_seconds_count', { protocol: 'http', result: 'ok' }), 3, 'every HTTP request is counted');
  t.equal(v('warmpool_command_duration_seconds_count', { protocol: 'http', result: 'failed' }), 1, 'a 404 is a failed request');
  t.equal(v('warmpool_command_duration_seconds_count', { protocol: 'http', result: 'error' }), 1, 'a timed-out request is an error');
  const sum = (protocol: string, result: string) => v('warmpool_command_duration_seconds_sum', { protocol, result }) ?? -1;
  t.ok(sum('ssh', 'error') >= 0.3 && sum('ssh', 'error') < 5, `SSH error took the 300 ms timeout (${sum('ssh', 'error')} s)`);
  t.ok(sum('ssh', 'failed') > 0, `SSH failed command has its real duration (${sum('ssh', 'failed')} s)`);
  t.ok(sum('http', 'failed') >= 0.04, `HTTP failed request has its real duration (${sum('http', 'failed')} s)`);
  t.ok(sum('http', 'ok') >= 3 * 0.04, `HTTP ok requests have their real durations (${sum('http', 'ok')} s)`);
  t.ok(sum('http', 'error') >= 0.15 && sum('http', 'error') < 5, `HTTP error took the 150 ms timeout (${sum('http', 'error')} s)`);

  // Per device (metrics.perDeviceLabels defaults to true).
  t.equal(v('warmpool_device_command_duration_seconds_count', { device: 'r1', protocol: 'ssh', result: 'ok' }), 1);
  t.equal(v('warmpool_device_command_duration_seconds_count', { device: 'r1', protocol: 'ssh', result: 'error' }), 1);
  t.equal(v('warmpool_device_command_duration_seconds_count', { device: 'r1', protocol: 'http', result: 'ok' }), 3);
  t.equal(v('warmpool_device_command_duration_seconds_count', { device: 'r1', protocol: 'http', result: 'failed' }), 1);
  t.equal(v('warmpool_device_command_duration_seconds_bucket', { device: 'r1', protocol: 'http', result: 'ok', le: '0.025' }), 0, '40 ms answers are above 25 ms');
  t.equal(v('warmpool_device_command_duration_seconds_bucket', { device: 'r1', protocol: 'http', result: 'ok', le: '+Inf' }), 3);
  t.equal(v('warmpool_device_acquire_wait_seconds_count', { device: 'r1', protocol: 'ssh' }), 3, 'one acquire per Run');
  t.equal(v('warmpool_device_acquire_wait_seconds_count', { device: 'r1', protocol: 'http' }), 4, 'one acquire per answered request');
  t.equal(v('warmpool_acquire_wait_seconds_count', { protocol: 'ssh' }), 3, 'the contract histogram keeps its labels');

  // gRPC handling time, per method and code, grpc-ecosystem label names.
  const h = (method: string, code: string, type = 'unary') =>
    v('warmpool_grpc_server_handling_seconds_count', { grpc_type: type, grpc_service: 'warmpool.v1.DeviceProxy', grpc_method: method, grpc_code: code });
  t.equal(h('Run', 'OK'), 2);
  t.equal(h('Http', 'OK'), 4, 'a 404 answer is still an OK call');
  t.equal(h('Http', 'DEADLINE_EXCEEDED'), 1);
  t.ok((v('warmpool_grpc_server_handling_seconds_sum', { grpc_type: 'unary', grpc_service: 'warmpool.v1.DeviceProxy', grpc_method: 'Http', grpc_code: 'DEADLINE_EXCEEDED' }) ?? 0) >= 0.15,
    'the handling time of the timed-out call covers its 150 ms');
  t.equal(v('warmpool_rpc_requests_total', { method: 'DeviceProxy/Http', code: 'OK' }), 4, 'the contract counter agrees');

  // Circuit state: both pools closed.
  t.equal(v('warmpool_circuit_state', { device: 'r1', protocol: 'ssh', state: 'closed' }), 1);
  t.equal(v('warmpool_circuit_state', { device: 'r1', protocol: 'http', state: 'closed' }), 1);
  t.equal(v('warmpool_circuit_state', { device: 'r1', protocol: 'http', state: 'open' }), 0);

  // The timed-out SSH session was discarded; the aborted HTTP request's socket too. Reasons come from the fixed set.
  t.equal(v('warmpool_session_closes_total', { device: 'r1', protocol: 'ssh', reason: 'discarded' }), 1);
  t.equal(v('warmpool_session_closes_total', { device: 'r1', protocol: 'http', reason: 'discarded' }), 1, 'undici "aborted" is discarded, not und_err_info');
  const reasons = new Set(s.filter((x) => x.name === 'warmpool_session_closes_total').map((x) => x.labels.reason));
  for (const r of reasons) t.ok(CLOSE_REASON_LABELS.includes(r!), `close reason ${r} is in the documented set`);
});

t.test('event-loop delay gauges are numbers even when scrapes come faster than the delay is sampled', async (t) => {
  const td = await startTestDaemon();
  t.teardown(() => td.stop());
  // Our sampling period is 100 ms: back-to-back scrapes find no new sample in between.
  for (let i = 0; i < 3; i++) {
    const res = await get(td.daemon.metricsAddress, '/metrics');
    const s = parseExposition(res.body);
    for (const name of ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99']) {
      const value = sampleValue(s, `nodejs_eventloop_lag_${name}_seconds`, {});
      t.ok(value !== undefined && Number.isFinite(value) && value >= 0 && value < 60, `scrape ${i}: nodejs_eventloop_lag_${name}_seconds = ${value}`);
    }
  }
});

t.test('event-loop delay is the delay beyond the 100 ms sampling period, not the period itself', async (t) => {
  const td = await startTestDaemon();
  t.teardown(() => td.stop());
  await get(td.daemon.metricsAddress, '/metrics'); // starts a fresh window
  await new Promise((r) => setTimeout(r, 1200)); // about 12 samples of a mostly idle loop
  const s = parseExposition((await get(td.daemon.metricsAddress, '/metrics')).body);
  const p50 = sampleValue(s, 'nodejs_eventloop_lag_p50_seconds', {}) ?? -1;
  // Raw samples are each ~0.1 s (the period); an idle loop is late by far less than that.
  t.ok(p50 >= 0 && p50 < 0.09, `median delay ${p50} s`);
  const min = sampleValue(s, 'nodejs_eventloop_lag_min_seconds', {}) ?? -1;
  t.ok(min >= 0 && min < 0.09, `min delay ${min} s`);
});

t.test('a device that is down: circuit_open is 1 while open, then half_open shows only in circuit_state', async (t) => {
  const sim = await startSimDevice({ platform: 'cisco_ios', hostname: 'gone' });
  const deadPort = await freePort(); // nothing listens: connects are refused at once
  await sim.close();
  const td = await startTestDaemon({
    argv: ['--breaker.failureThreshold', '1', '--breaker.openMs', '1500', '--breaker.maxOpenMs', '1500'],
    devices: [simSpec(sim, 'down1', { port: deadPort, pool: { min: 0, max: 1 } })],
  });
  t.teardown(() => td.stop());
  const run = m(td.proxy, 'Run');
  await t.rejects(td.call(run, { device: 'down1', commands: ['show clock'] }), { code: status.UNAVAILABLE });

  const scrape = async () => parseExposition((await get(td.daemon.metricsAddress, '/metrics')).body);
  let s = await scrape();
  const state = (st: string) => sampleValue(s, 'warmpool_circuit_state', { device: 'down1', protocol: 'ssh', state: st });
  t.equal(sampleValue(s, 'warmpool_circuit_open', { device: 'down1' }), 1, 'open: calls fail fast');
  t.same([state('closed'), state('open'), state('half_open')], [0, 1, 0]);
  t.equal(sampleValue(s, 'warmpool_session_opens_total', { device: 'down1', protocol: 'ssh', result: 'failure' }), 1);
  t.equal(sampleValue(s, 'warmpool_rpc_requests_total', { method: 'DeviceProxy/Run', code: 'UNAVAILABLE' }), 1);
  t.equal(sampleValue(s, 'warmpool_command_duration_seconds_count', { protocol: 'ssh', result: 'error' }), 0, 'no command ran: nothing in command_duration');

  // After the open period (1.5 s, jittered down by at most 20 %) the next connect would be the trial.
  await new Promise((r) => setTimeout(r, 1600));
  s = await scrape();
  t.equal(sampleValue(s, 'warmpool_circuit_open', { device: 'down1' }), 0, 'half-open is not open');
  t.same([state('closed'), state('open'), state('half_open')], [0, 0, 1]);
  t.equal(sampleValue(s, 'warmpool_circuit_transitions_total', { device: 'down1', protocol: 'ssh', state: 'half_open' }), 1);
});
