import t from 'tap';
import { Registry } from 'prom-client';
import { ALL_DEVICES, createMetrics } from '../src/observability/metrics.js';
import type { PoolStats } from '../src/pool/types.js';
import type { CloseReason } from '../src/core/pool-stats.js';
import {
  driveAll, fullScrape, parseExposition, poolStats, promtool, sampleValue, twoDeviceStats,
} from './kit/metrics-fixtures.js';

/** CONTRACT §4 plus the documented extras: every family with its exact label set. */
const EXPECTED: Array<{ name: string; type: 'gauge' | 'counter' | 'histogram'; labels: string[] }> = [
  { name: 'warmpool_sessions', type: 'gauge', labels: ['device', 'protocol', 'state'] },
  { name: 'warmpool_pool_waiting', type: 'gauge', labels: ['device', 'protocol'] },
  { name: 'warmpool_session_opens_total', type: 'counter', labels: ['device', 'protocol', 'result'] },
  { name: 'warmpool_session_open_duration_seconds', type: 'histogram', labels: ['protocol'] },
  { name: 'warmpool_acquire_wait_seconds', type: 'histogram', labels: ['protocol'] },
  { name: 'warmpool_command_duration_seconds', type: 'histogram', labels: ['protocol', 'result'] },
  { name: 'warmpool_rpc_requests_total', type: 'counter', labels: ['method', 'code'] },
  { name: 'warmpool_cache_requests_total', type: 'counter', labels: ['result'] },
  { name: 'warmpool_circuit_open', type: 'gauge', labels: ['device'] },
  { name: 'warmpool_pool_max_sessions', type: 'gauge', labels: ['device', 'protocol'] },
  { name: 'warmpool_session_closes_total', type: 'counter', labels: ['device', 'protocol', 'reason'] },
  { name: 'warmpool_circuit_transitions_total', type: 'counter', labels: ['device', 'protocol', 'state'] },
  { name: 'warmpool_devices', type: 'gauge', labels: [] },
  { name: 'warmpool_build_info', type: 'gauge', labels: ['version'] },
  { name: 'warmpool_circuit_state', type: 'gauge', labels: ['device', 'protocol', 'state'] },
  { name: 'warmpool_device_command_duration_seconds', type: 'histogram', labels: ['device', 'protocol', 'result'] },
  { name: 'warmpool_device_acquire_wait_seconds', type: 'histogram', labels: ['device', 'protocol'] },
  { name: 'warmpool_grpc_server_handling_seconds', type: 'histogram', labels: ['grpc_type', 'grpc_service', 'grpc_method', 'grpc_code'] },
];

t.test('exposition carries every contract metric with its exact label set and a HELP text', async (t) => {
  const text = await fullScrape();
  const samples = parseExposition(text);
  for (const e of EXPECTED) {
    t.match(text, new RegExp(`^# TYPE ${e.name} ${e.type}$`, 'm'), `${e.name} is a ${e.type}`);
    t.match(text, new RegExp(`^# HELP ${e.name} \\S.{30,}$`, 'm'), `${e.name} has a helpful HELP text`);
    const sampleName = e.type === 'histogram' ? `${e.name}_bucket` : e.name;
    const want = e.type === 'histogram' ? [...e.labels, 'le'].sort() : [...e.labels].sort();
    const family = samples.filter((s) => s.name === sampleName);
    t.ok(family.length > 0, `${sampleName} has samples`);
    for (const s of family) t.same(Object.keys(s.labels).sort(), want, `${sampleName} labels`);
  }
  // Sessions gauge has all three states for every pool, even at zero.
  t.equal(sampleValue(samples, 'warmpool_sessions', { device: 'sw1', protocol: 'ssh', state: 'idle' }), 1);
  t.equal(sampleValue(samples, 'warmpool_sessions', { device: 'sw1', protocol: 'ssh', state: 'busy' }), 2);
  t.equal(sampleValue(samples, 'warmpool_sessions', { device: 'sw1', protocol: 'ssh', state: 'connecting' }), 1);
  t.equal(sampleValue(samples, 'warmpool_sessions', { device: 'sw2', protocol: 'ssh', state: 'busy' }), 0);
  t.equal(sampleValue(samples, 'warmpool_pool_waiting', { device: 'sw1', protocol: 'ssh' }), 3);
  t.equal(sampleValue(samples, 'warmpool_pool_max_sessions', { device: 'sw1', protocol: 'http' }), 4);
  t.equal(sampleValue(samples, 'warmpool_circuit_open', { device: 'sw1' }), 0);
  t.equal(sampleValue(samples, 'warmpool_circuit_open', { device: 'sw2' }), 1);
  t.equal(sampleValue(samples, 'warmpool_devices', {}), 2);
  t.equal(sampleValue(samples, 'warmpool_build_info', { version: '0.0.0-test' }), 1);
  t.equal(sampleValue(samples, 'warmpool_session_opens_total', { device: 'sw2', protocol: 'ssh', result: 'failure' }), 1);
  t.equal(sampleValue(samples, 'warmpool_rpc_requests_total', { method: 'DeviceProxy/Run', code: 'NOT_FOUND' }), 1);
  t.equal(sampleValue(samples, 'warmpool_cache_requests_total', { result: 'coalesced' }), 1);
  // A warm command of 0.4 ms lands below the 0.5 ms bucket boundary, not in the first bucket.
  t.equal(sampleValue(samples, 'warmpool_command_duration_seconds_bucket', { protocol: 'ssh', result: 'ok', le: '0.00025' }), 0);
  t.equal(sampleValue(samples, 'warmpool_command_duration_seconds_bucket', { protocol: 'ssh', result: 'ok', le: '0.0005' }), 1);
  // Failed opens count but do not skew the open-duration histogram.
  t.equal(sampleValue(samples, 'warmpool_session_open_duration_seconds_count', { protocol: 'ssh' }), 1);
});

t.test('histogram buckets span fast loopback to slow logins and long commands', async (t) => {
  const samples = parseExposition(await fullScrape());
  const les = (name: string): number[] =>
    samples.filter((s) => s.name === `${name}_bucket` && s.labels.protocol === 'ssh' && (s.labels.result ?? 'ok') === 'ok')
      .map((s) => Number(s.labels.le)).filter(Number.isFinite);
  const open = les('warmpool_session_open_duration_seconds');
  t.equal(Math.min(...open), 0.005);
  t.equal(Math.max(...open), 30);
  const wait = les('warmpool_acquire_wait_seconds');
  t.ok(Math.min(...wait) < 0.001, 'acquire wait resolves sub-millisecond');
  t.equal(Math.max(...wait), 30);
  const cmd = les('warmpool_command_duration_seconds');
  t.equal(Math.min(...cmd), 0.0001);
  t.equal(Math.max(...cmd), 60);
});

t.test('default process and Node.js metrics keep their standard names', async (t) => {
  const text = await fullScrape();
  t.match(text, /^process_resident_memory_bytes \d/m);
  t.match(text, /^process_cpu_seconds_total \d/m);
  t.match(text, /^nodejs_eventloop_lag_seconds \d/m);
  t.notMatch(text, /^warmpool_process_/m);
});

t.test('promtool accepts the exposition with no lint problems', async (t) => {
  for (const perDevice of [true, false]) {
    const r = promtool(['check', 'metrics'], await fullScrape(perDevice));
    t.equal(r.status, 0, `promtool exit status (perDeviceLabels=${perDevice}): ${r.stdout}${r.stderr}`);
    t.equal(r.stdout.trim(), '', 'no lint problems on stdout');
    t.equal(r.stderr.trim(), '', 'no lint problems on stderr');
  }
});

t.test('promtool check really rejects a bad exposition (the lint step can fail)', async (t) => {
  const r = promtool(['check', 'metrics'], '# HELP foo_count x\n# TYPE foo_count counter\nfoo_count 1\n');
  t.not(r.status, 0);
});

t.test('perDeviceLabels=false collapses every device label to _all and sums the pools', async (t) => {
  const samples = parseExposition(await fullScrape(false));
  const devices = new Set(samples.filter((s) => 'device' in s.labels).map((s) => s.labels.device));
  t.same([...devices], [ALL_DEVICES]);
  t.equal(sampleValue(samples, 'warmpool_sessions', { device: ALL_DEVICES, protocol: 'ssh', state: 'idle' }), 1);
  t.equal(sampleValue(samples, 'warmpool_sessions', { device: ALL_DEVICES, protocol: 'http', state: 'idle' }), 2);
  t.equal(sampleValue(samples, 'warmpool_pool_max_sessions', { device: ALL_DEVICES, protocol: 'ssh' }), 6);
  t.equal(sampleValue(samples, 'warmpool_circuit_open', { device: ALL_DEVICES }), 1, 'number of devices with a breaker not closed');
  t.equal(sampleValue(samples, 'warmpool_devices', {}), 2, 'device count is not collapsed');
  t.equal(sampleValue(samples, 'warmpool_session_opens_total', { device: ALL_DEVICES, protocol: 'ssh', result: 'success' }), 1);
  t.equal(sampleValue(samples, 'warmpool_circuit_state', { device: ALL_DEVICES, protocol: 'ssh', state: 'open' }), 1, 'number of pools per state');
  t.equal(sampleValue(samples, 'warmpool_circuit_state', { device: ALL_DEVICES, protocol: 'ssh', state: 'closed' }), 1);
  t.notOk(samples.some((s) => s.name.startsWith('warmpool_device_')), 'no per-device histograms when per-device labels are off');
  t.equal(sampleValue(samples, 'warmpool_command_duration_seconds_count', { protocol: 'ssh', result: 'ok' }), 1, 'the aggregate histogram still counts');
});

t.test('per-device histograms: coarse buckets, values per device, series dropped with the device', async (t) => {
  let stats: PoolStats[] = [poolStats({ device: 'sw1' }), poolStats({ device: 'sw2' })];
  const m = createMetrics({ perDeviceLabels: true, statsSource: () => stats, defaultMetrics: false });
  m.command('ssh', 'ok', 0.004, 'sw1');
  m.command('ssh', 'ok', 0.2, 'sw2');
  m.command('ssh', 'error', 3, 'sw2');
  m.acquired('sw1', 'ssh', 0.0002);
  m.acquired('sw2', 'ssh', 0.7);
  let s = parseExposition(await m.scrape());
  const le = (name: string, device: string, extra: Record<string, string> = {}) =>
    s.filter((x) => x.name === `${name}_bucket` && x.labels.device === device && Object.entries(extra).every(([k, v]) => x.labels[k] === v));
  t.equal(le('warmpool_device_command_duration_seconds', 'sw1', { result: 'ok' }).length, 10, '9 buckets + +Inf');
  t.equal(le('warmpool_device_acquire_wait_seconds', 'sw1').length, 8, '7 buckets + +Inf');
  t.equal(sampleValue(s, 'warmpool_device_command_duration_seconds_bucket', { device: 'sw1', protocol: 'ssh', result: 'ok', le: '0.005' }), 1);
  t.equal(sampleValue(s, 'warmpool_device_command_duration_seconds_bucket', { device: 'sw2', protocol: 'ssh', result: 'ok', le: '0.1' }), 0);
  t.equal(sampleValue(s, 'warmpool_device_command_duration_seconds_bucket', { device: 'sw2', protocol: 'ssh', result: 'ok', le: '0.25' }), 1);
  t.equal(sampleValue(s, 'warmpool_device_command_duration_seconds_sum', { device: 'sw2', protocol: 'ssh', result: 'error' }), 3);
  t.equal(sampleValue(s, 'warmpool_device_acquire_wait_seconds_bucket', { device: 'sw2', protocol: 'ssh', le: '0.5' }), 0);
  t.equal(sampleValue(s, 'warmpool_device_acquire_wait_seconds_bucket', { device: 'sw2', protocol: 'ssh', le: '1' }), 1);
  t.equal(sampleValue(s, 'warmpool_command_duration_seconds_count', { protocol: 'ssh', result: 'ok' }), 2, 'the aggregate counts every device');
  m.command('ssh', 'ok', 0.01); // no device: aggregate only (a caller that does not know it)
  stats = [poolStats({ device: 'sw1' })];
  await new Promise((r) => setImmediate(r));
  s = parseExposition(await m.scrape());
  t.notOk(s.some((x) => x.labels.device === 'sw2'), 'sw2 has no pool any more: its histogram series are gone');
  t.equal(sampleValue(s, 'warmpool_device_command_duration_seconds_count', { device: 'sw1', protocol: 'ssh', result: 'ok' }), 1);
  t.equal(sampleValue(s, 'warmpool_command_duration_seconds_count', { protocol: 'ssh', result: 'ok' }), 3);
});

t.test('gRPC handling time: grpc-ecosystem labels, short method names qualified with the package', async (t) => {
  const m = createMetrics({ perDeviceLabels: true, statsSource: () => [], defaultMetrics: false });
  m.rpc('DeviceProxy/Run', 'OK', { seconds: 0.002, type: 'unary' });
  m.rpc('DeviceProxy/RunMany', 'OK', { seconds: 12, type: 'server_stream' });
  m.rpc('/other.pkg.Svc/Do', 'BOGUS', { seconds: 0.1, type: 'unary' });
  m.rpc('Admin/Drain', 'OK'); // no timing: counted, not timed
  const s = parseExposition(await m.scrape());
  t.equal(sampleValue(s, 'warmpool_grpc_server_handling_seconds_count', { grpc_type: 'unary', grpc_service: 'warmpool.v1.DeviceProxy', grpc_method: 'Run', grpc_code: 'OK' }), 1);
  t.equal(sampleValue(s, 'warmpool_grpc_server_handling_seconds_bucket', { grpc_type: 'server_stream', grpc_service: 'warmpool.v1.DeviceProxy', grpc_method: 'RunMany', grpc_code: 'OK', le: '10' }), 0);
  t.equal(sampleValue(s, 'warmpool_grpc_server_handling_seconds_bucket', { grpc_type: 'server_stream', grpc_service: 'warmpool.v1.DeviceProxy', grpc_method: 'RunMany', grpc_code: 'OK', le: '30' }), 1);
  t.equal(sampleValue(s, 'warmpool_grpc_server_handling_seconds_count', { grpc_type: 'unary', grpc_service: 'other.pkg.Svc', grpc_method: 'Do', grpc_code: 'UNKNOWN' }), 1, 'unknown codes fold to UNKNOWN');
  t.notOk(s.some((x) => x.name.startsWith('warmpool_grpc_server_handling_seconds') && x.labels.grpc_method === 'Drain'));
  t.equal(sampleValue(s, 'warmpool_rpc_requests_total', { method: 'Admin/Drain', code: 'OK' }), 1);
});

t.test('state gauges follow statsSource live, and a deleted device leaves no series behind', async (t) => {
  let stats: PoolStats[] = twoDeviceStats();
  let calls = 0;
  const m = createMetrics({ perDeviceLabels: true, statsSource: () => { calls++; return stats; } });
  driveAll(m);
  let s = parseExposition(await m.scrape());
  t.equal(sampleValue(s, 'warmpool_sessions', { device: 'sw1', protocol: 'ssh', state: 'busy' }), 2);
  t.ok(calls >= 1 && calls <= 2, `statsSource read once per scrape (got ${calls})`);

  stats = [poolStats({ device: 'sw1', protocol: 'ssh', busy: 4, max: 4, waiting: 7 }), poolStats({ device: 'sw3', circuit: 'half_open' })];
  s = parseExposition(await m.scrape());
  t.equal(sampleValue(s, 'warmpool_sessions', { device: 'sw1', protocol: 'ssh', state: 'busy' }), 4);
  t.equal(sampleValue(s, 'warmpool_pool_waiting', { device: 'sw1', protocol: 'ssh' }), 7);
  t.equal(sampleValue(s, 'warmpool_circuit_open', { device: 'sw3' }), 0, 'half-open is not open: the trial connect is let through');
  t.equal(sampleValue(s, 'warmpool_circuit_state', { device: 'sw3', protocol: 'ssh', state: 'half_open' }), 1, 'half-open has its own state');
  t.equal(sampleValue(s, 'warmpool_circuit_state', { device: 'sw3', protocol: 'ssh', state: 'open' }), 0);
  t.equal(sampleValue(s, 'warmpool_circuit_state', { device: 'sw3', protocol: 'ssh', state: 'closed' }), 0);
  t.equal(sampleValue(s, 'warmpool_sessions', { device: 'sw1', protocol: 'http', state: 'idle' }), undefined, 'gone pool has no gauge');
  t.notOk(s.some((x) => x.labels.device === 'sw2'), 'gone device sw2: no gauge and no counter series');
  t.equal(sampleValue(s, 'warmpool_session_opens_total', { device: 'sw1', protocol: 'ssh', result: 'success' }), 1, 'live device keeps its counters');

  // The same series come back through a plain registry.metrics() call (how a /metrics handler may read it).
  stats = [];
  await new Promise((r) => setImmediate(r));
  s = parseExposition(await m.registry.metrics());
  t.equal(sampleValue(s, 'warmpool_devices', {}), 0);
  t.notOk(s.some((x) => x.name === 'warmpool_sessions'));
});

t.test('label values stay bounded: unknown codes, odd methods and free-form close reasons', async (t) => {
  const m = createMetrics({ perDeviceLabels: true, statsSource: () => [poolStats({ device: 'sw1' })], defaultMetrics: false });
  m.rpc('/warmpool.v1.DeviceProxy/Run', 'OK');
  m.rpc('DeviceProxy/Run', 'NOPE');
  m.rpc('show running-config | include password', 'OK');
  for (let i = 0; i < 100; i++) m.rpc(`Svc/M${i}`, 'OK');
  // A caller that casts past the CloseReason type still cannot put free text in a label.
  m.sessionClosed('sw1', 'ssh', 'Connection reset by 10.0.0.1: password=hunter2' as CloseReason);
  m.sessionClosed('sw1', 'ssh', 'idle_timeout');
  m.sessionClosed('sw1', 'http', 'UND_ERR_SOCKET' as CloseReason);
  m.command('ssh', 'ok', Number.NaN);
  const text = await m.scrape();
  const s = parseExposition(text);
  t.equal(sampleValue(s, 'warmpool_rpc_requests_total', { method: 'warmpool.v1.DeviceProxy/Run', code: 'OK' }), 1);
  t.equal(sampleValue(s, 'warmpool_rpc_requests_total', { method: 'DeviceProxy/Run', code: 'UNKNOWN' }), 1);
  t.ok((sampleValue(s, 'warmpool_rpc_requests_total', { method: '_other', code: 'OK' }) ?? 0) >= 1, 'over-cap and odd methods fold into _other');
  const methods = new Set(s.filter((x) => x.name === 'warmpool_rpc_requests_total').map((x) => x.labels.method));
  t.ok(methods.size <= 65, `method label bounded (${methods.size})`);
  t.equal(sampleValue(s, 'warmpool_session_closes_total', { device: 'sw1', protocol: 'ssh', reason: 'other' }), 1);
  t.equal(sampleValue(s, 'warmpool_session_closes_total', { device: 'sw1', protocol: 'ssh', reason: 'idle_timeout' }), 1);
  t.equal(sampleValue(s, 'warmpool_session_closes_total', { device: 'sw1', protocol: 'http', reason: 'other' }), 1, 'a raw undici code is not a reason');
  t.notMatch(text, /hunter2|10\.0\.0\.1|running-config/, 'no free text reaches a label');
  t.equal(sampleValue(s, 'warmpool_command_duration_seconds_count', { protocol: 'ssh', result: 'ok' }), 1);
  t.notMatch(text, /^process_/m, 'defaultMetrics: false leaves them out');
});

t.test('uses the registry it is given and reports its content type', async (t) => {
  const registry = new Registry();
  const m = createMetrics({ perDeviceLabels: true, statsSource: () => [], registry, defaultMetrics: false });
  t.equal(m.registry, registry);
  t.match(m.contentType, /^text\/plain; version=0\.0\.4/);
  t.match(await registry.metrics(), /warmpool_devices 0/);
});
