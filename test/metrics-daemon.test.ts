/**
 * End to end: a real daemon (gRPC + metrics HTTP listener) in front of a simulated SSH device.
 * Calls go through gRPC; /metrics is fetched over HTTP and must show what happened, in a form
 * promtool accepts.
 */
import t from 'tap';
import { request } from 'node:http';
import { status } from '@grpc/grpc-js';
import { startSimDevice } from '../src/sim/ssh-device.js';
import { startTestDaemon, simSpec, m } from './kit/daemon.js';
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
