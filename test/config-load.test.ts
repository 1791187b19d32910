import t from 'tap';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, loadInventoryFile } from '../src/config/load.js';
import { CONFIG_KEYS } from '../src/config/schema.js';
import { isWarmpoolError, type WarmpoolError } from '../src/core/errors.js';

const examples = fileURLToPath(new URL('../examples/', import.meta.url));

function configError(fn: () => unknown): WarmpoolError {
  try {
    fn();
  } catch (err) {
    if (isWarmpoolError(err, 'CONFIG_INVALID')) return err;
    throw err;
  }
  throw new Error('expected a CONFIG_INVALID error, got none');
}

t.test('with no file, env or flag every key has its documented default', async (t) => {
  const c = loadConfig({ argv: [], env: {} });
  t.equal(c.grpc.listen, '127.0.0.1:50051');
  t.equal(c.metrics.listen, '0.0.0.0:9464');
  t.equal(c.log.level, 'info');
  t.equal(c.shutdown.graceMs, 20000);
  t.same(c.defaults.pool, { min: 0, max: 2, idleTimeoutMs: 300000, maxLifetimeMs: 3600000, acquireTimeoutMs: 10000, maxWaiting: 64 });
  t.same(c.defaults.ssh, {
    connectTimeoutMs: 10000,
    keepaliveIntervalMs: 15000,
    keepaliveCountMax: 3,
    commandTimeoutMs: 30000,
    appKeepaliveMs: 60000,
    healthCheckAfterMs: 30000,
    legacyAlgorithms: false,
    maxOutputBytes: 4 * 1024 * 1024,
  });
  t.equal(c.grpc.maxReceiveMessageBytes, 4 * 1024 * 1024);
  t.equal(c.limits.maxTotalSessions, 20000);
  t.equal(c.inventory.file, '');
  t.equal(c.configFile, '');
});

t.test('precedence is flag > env > file > default, for grpc.listen and a nested number', async (t) => {
  const dir = t.testdir({ 'w.yaml': 'grpc:\n  listen: "127.0.0.1:6001"\ndefaults:\n  pool:\n    maxWaiting: 7\n' });
  const file = join(dir, 'w.yaml');
  const env = { WARMPOOL_GRPC_LISTEN: '127.0.0.1:6002', WARMPOOL_DEFAULTS_POOL_MAX_WAITING: '8' };
  const flags = ['--grpc.listen', '127.0.0.1:6003', '--defaults.pool.maxWaiting=9'];

  const fileOnly = loadConfig({ argv: ['serve', '--config', file], env: {} });
  t.equal(fileOnly.grpc.listen, '127.0.0.1:6001');
  t.equal(fileOnly.defaults.pool.maxWaiting, 7);
  t.equal(fileOnly.defaults.pool.max, 2, 'keys the file does not set keep their defaults');

  const envOverFile = loadConfig({ argv: ['serve', '--config', file], env });
  t.equal(envOverFile.grpc.listen, '127.0.0.1:6002');
  t.equal(envOverFile.defaults.pool.maxWaiting, 8);

  const flagOverEnv = loadConfig({ argv: ['serve', '--config', file, ...flags], env });
  t.equal(flagOverEnv.grpc.listen, '127.0.0.1:6003');
  t.equal(flagOverEnv.defaults.pool.maxWaiting, 9);

  const flagOverDefault = loadConfig({ argv: flags, env: {} });
  t.equal(flagOverDefault.grpc.listen, '127.0.0.1:6003');
});

t.test('a flag given twice takes its last value, in both --k v and --k=v forms', async (t) => {
  const c = loadConfig({ argv: ['--metrics.listen', '127.0.0.1:9464', '--grpc.maxConcurrentStreams=10', '--metrics.listen', '127.0.0.1:9481', '--grpc.maxConcurrentStreams', '20'], env: {} });
  t.equal(c.metrics.listen, '127.0.0.1:9481');
  t.equal(c.grpc.maxConcurrentStreams, 20);
  const b = loadConfig({ argv: ['--log.audit.enabled', 'true', '--log.audit.enabled=false'], env: {} });
  t.equal(b.log.audit.enabled, false);
});

t.test('the config file comes from --config, else WARMPOOL_CONFIG, else none', async (t) => {
  const dir = t.testdir({ 'a.yaml': 'log: { level: debug }\n', 'b.yaml': 'log: { level: warn }\n' });
  const a = join(dir, 'a.yaml');
  const b = join(dir, 'b.yaml');
  t.equal(loadConfig({ argv: ['--config', a], env: { WARMPOOL_CONFIG: b } }).log.level, 'debug');
  t.equal(loadConfig({ argv: [`--config=${a}`], env: {} }).configFile, a);
  t.equal(loadConfig({ argv: [], env: { WARMPOOL_CONFIG: b } }).log.level, 'warn');
  t.equal(loadConfig({ argv: [], env: {}, configFile: b }).configFile, b);
});

t.test('process.env and process.argv are never read', async (t) => {
  const saved = process.env['WARMPOOL_LOG_LEVEL'];
  process.env['WARMPOOL_LOG_LEVEL'] = 'trace';
  t.teardown(() => {
    if (saved === undefined) delete process.env['WARMPOOL_LOG_LEVEL'];
    else process.env['WARMPOOL_LOG_LEVEL'] = saved;
  });
  t.equal(loadConfig({ argv: [], env: {} }).log.level, 'info');
  t.equal(loadConfig({ argv: [], env: { WARMPOOL_LOG_LEVEL: 'error' } }).log.level, 'error');
});

t.test('JSON and YAML files give the same configuration', async (t) => {
  const settings = { grpc: { listen: '127.0.0.1:7100' }, defaults: { pool: { min: 1, max: 3 }, ssh: { legacyAlgorithms: true } }, cache: { maxEntries: 0 } };
  const dir = t.testdir({
    'c.json': JSON.stringify(settings, null, '\t'),
    'c.yaml': 'grpc: { listen: "127.0.0.1:7100" }\ndefaults:\n  pool: { min: 1, max: 3 }\n  ssh: { legacyAlgorithms: true }\ncache: { maxEntries: 0 }\n',
  });
  const fromJson = loadConfig({ argv: ['--config', join(dir, 'c.json')], env: {} });
  const fromYaml = loadConfig({ argv: ['--config', join(dir, 'c.yaml')], env: {} });
  t.same({ ...fromJson, configFile: '' }, { ...fromYaml, configFile: '' });
  t.equal(fromJson.defaults.pool.max, 3);
  t.equal(fromJson.defaults.ssh.legacyAlgorithms, true);
});

t.test('durations and sizes accept units from file, env and flags', async (t) => {
  const dir = t.testdir({ 'u.yaml': 'shutdown: { graceMs: 45s }\ncache: { maxBytes: 2MiB }\n' });
  const c = loadConfig({
    argv: ['--config', join(dir, 'u.yaml'), '--defaults.pool.idleTimeoutMs', '2m'],
    env: { WARMPOOL_DEFAULTS_SSH_COMMAND_TIMEOUT_MS: '1.5s' },
  });
  t.equal(c.shutdown.graceMs, 45000);
  t.equal(c.cache.maxBytes, 2 * 1024 * 1024);
  t.equal(c.defaults.pool.idleTimeoutMs, 120000);
  t.equal(c.defaults.ssh.commandTimeoutMs, 1500);
});

t.test('booleans from env and flags accept only clear spellings', async (t) => {
  t.equal(loadConfig({ argv: ['--metrics.perDeviceLabels', 'false'], env: {} }).metrics.perDeviceLabels, false);
  t.equal(loadConfig({ argv: ['--log.audit.includeOutput'], env: {} }).log.audit.includeOutput, true, 'a bare flag means true');
  t.equal(loadConfig({ argv: [], env: { WARMPOOL_METRICS_PER_DEVICE_LABELS: 'off' } }).metrics.perDeviceLabels, false);
  const err = configError(() => loadConfig({ argv: [], env: { WARMPOOL_METRICS_PER_DEVICE_LABELS: 'flase' } }));
  t.match(err.message, /metrics\.perDeviceLabels: must be true or false \(got "flase"\)/);
  t.match(err.message, /WARMPOOL_METRICS_PER_DEVICE_LABELS/, 'names the variable the value came from');
});

t.test('an unknown key in the file is an error naming the key and the file', async (t) => {
  const dir = t.testdir({ 'w.yaml': 'grpc:\n  lisen: "127.0.0.1:1"\n', 'top.yaml': 'metrcs: {}\n' });
  const file = join(dir, 'w.yaml');
  const err = configError(() => loadConfig({ argv: ['--config', file], env: {} }));
  t.equal(err.field, 'grpc.lisen');
  t.match(err.message, `invalid configuration in ${file}: unknown key "grpc.lisen" (did you mean "grpc.listen"?)`);
  const top = configError(() => loadConfig({ argv: ['--config', join(dir, 'top.yaml')], env: {} }));
  t.match(top.message, /unknown key "metrcs" \(did you mean "metrics"\?\)/);
});

t.test('a wrong type is an error naming the key, the problem, the value and the file', async (t) => {
  const dir = t.testdir({
    'w.yaml': 'defaults:\n  pool:\n    max: abc\n',
    'zero.yaml': 'defaults:\n  pool:\n    max: 0\n',
    'shape.yaml': 'grpc: "127.0.0.1:1"\n',
    'leaf.yaml': 'grpc:\n  listen: { host: x }\n',
    'level.yaml': 'log: { level: loud }\n',
  });
  const file = join(dir, 'w.yaml');
  const err = configError(() => loadConfig({ argv: ['--config', file], env: {} }));
  t.equal(err.field, 'defaults.pool.max');
  t.equal(err.message, `invalid configuration in ${file}: defaults.pool.max: must be an integer >= 1 (got "abc")`);
  t.match(configError(() => loadConfig({ argv: ['--config', join(dir, 'zero.yaml')], env: {} })).message, /defaults\.pool\.max: must be an integer >= 1 \(got 0\)/);
  t.match(configError(() => loadConfig({ argv: ['--config', join(dir, 'shape.yaml')], env: {} })).message, /grpc: must be a mapping/);
  t.match(configError(() => loadConfig({ argv: ['--config', join(dir, 'leaf.yaml')], env: {} })).message, /grpc\.listen: must be "host:port"/);
  t.match(configError(() => loadConfig({ argv: ['--config', join(dir, 'level.yaml')], env: {} })).message, /log\.level: must be one of fatal, error, warn, info, debug, trace, silent \(got "loud"\)/);
});

t.test('a bad listen address from a flag names the flag', async (t) => {
  const err = configError(() => loadConfig({ argv: ['--grpc.listen', 'localhost'], env: {} }));
  t.equal(err.field, 'grpc.listen');
  t.match(err.message, /\(flag --grpc\.listen\): grpc\.listen: must be "host:port" or "\[ipv6\]:port"/);
  t.equal(loadConfig({ argv: ['--grpc.listen', '[::1]:0'], env: {} }).grpc.listen, '[::1]:0', 'IPv6 loopback with port 0 is fine');
});

t.test('a timeout beyond what Node timers can hold is refused', async (t) => {
  const err = configError(() => loadConfig({ argv: [], env: { WARMPOOL_SHUTDOWN_GRACE_MS: '3000000000' } }));
  t.match(err.message, /shutdown\.graceMs: must be at most 2147483647/);
});

t.test('a missing config file is an error naming the file', async (t) => {
  const dir = t.testdir({});
  const file = join(dir, 'absent.yaml');
  const err = configError(() => loadConfig({ argv: ['serve', '--config', file], env: {} }));
  t.match(err.message, file);
  t.match(err.message, /does not exist/);
  t.match(configError(() => loadConfig({ argv: [], env: { WARMPOOL_CONFIG: file } })).message, /WARMPOOL_CONFIG/);
});

t.test('a syntax error names the file and position without quoting its text', async (t) => {
  const dir = t.testdir({ 'bad.yaml': 'grpc:\n  listen: "127.0.0.1:1"\n  listen: "127.0.0.1:2"\n', 'bad.json': '{"grpc": {"listen": "s3cr3t-ish" x}}' });
  const yamlErr = configError(() => loadConfig({ argv: ['--config', join(dir, 'bad.yaml')], env: {} }));
  t.match(yamlErr.message, /bad\.yaml: not valid YAML at line 3/);
  t.notMatch(yamlErr.message, /127\.0\.0\.1/);
  const jsonErr = configError(() => loadConfig({ argv: ['--config', join(dir, 'bad.json')], env: {} }));
  t.match(jsonErr.message, /bad\.json: not valid JSON at line 1/);
  t.notMatch(jsonErr.message, /s3cr3t/);
});

t.test('a mistyped dotted flag is an error; other tools\' flags and words after -- are not', async (t) => {
  const err = configError(() => loadConfig({ argv: ['serve', '--defaults.pool.mx', '3'], env: {} }));
  t.match(err.message, /unknown flag "--defaults\.pool\.mx" \(did you mean "--defaults\.pool\.max"\?\)/);
  const c = loadConfig({ argv: ['exec', 'core-sw1', '--json', '--addr', '127.0.0.1:1', '--', 'show', '--grpc.lisen'], env: {} });
  t.equal(c.grpc.listen, '127.0.0.1:50051');
});

t.test('unknown WARMPOOL_ variables (Kubernetes service links) are ignored', async (t) => {
  const c = loadConfig({ argv: [], env: { WARMPOOL_PORT: 'tcp://10.0.0.1:50051', WARMPOOL_SERVICE_HOST: '10.0.0.1' } });
  t.equal(c.grpc.listen, '127.0.0.1:50051');
});

t.test('cross-key rules name the key', async (t) => {
  t.match(configError(() => loadConfig({ argv: ['--defaults.pool.min', '3'], env: {} })).message, /defaults\.pool\.min: must be <= defaults\.pool\.max \(got min 3, max 2\)/);
  t.match(configError(() => loadConfig({ argv: ['--breaker.openMs', '90s'], env: {} })).message, /breaker\.openMs: must be <= breaker\.maxOpenMs/);
  const open = configError(() => loadConfig({ argv: ['--grpc.listen', '0.0.0.0:50051'], env: {} }));
  t.equal(open.field, 'grpc.listen');
  t.match(open.message, /no caller authentication/);
  t.equal(loadConfig({ argv: ['--grpc.listen', '0.0.0.0:50051', '--grpc.auth.allowInsecure'], env: {} }).grpc.listen, '0.0.0.0:50051');
  const dir = t.testdir({ 'cert.pem': 'x' });
  t.match(configError(() => loadConfig({ argv: ['--grpc.tls.certFile', join(dir, 'cert.pem')], env: {} })).message, /grpc\.tls\.keyFile: grpc\.tls\.certFile and grpc\.tls\.keyFile must be set together/);
  t.match(configError(() => loadConfig({ argv: ['--grpc.auth.tokensFile', join(dir, 'none')], env: {} })).message, /grpc\.auth\.tokensFile: file ".*none" does not exist/);
});

t.test('paths in the config file are relative to it, paths from flags to the working directory', async (t) => {
  const dir = t.testdir({ conf: { 'w.yaml': 'inventory: { file: devices.yaml }\n', 'devices.yaml': 'devices: []\n' } });
  const c = loadConfig({ argv: ['--config', join(dir, 'conf', 'w.yaml')], env: {} });
  t.equal(c.inventory.file, join(dir, 'conf', 'devices.yaml'));
  t.same(loadInventoryFile(c.inventory.file, c), []);
});

t.test('the example config and inventory load as shipped', async (t) => {
  const c = loadConfig({ argv: ['serve', '--config', join(examples, 'warmpool.yaml')], env: {} });
  const fresh = loadConfig({ argv: [], env: {} });
  t.same({ ...c, inventory: fresh.inventory, configFile: '' }, fresh, 'the example spells out the defaults');
  const devices = loadInventoryFile(c.inventory.file, c);
  t.ok(devices.length >= 3);
  t.ok(devices.some((d) => d.http !== undefined), 'an example device has an HTTP API');
  for (const d of devices) {
    if (d.hostKey.acceptAny) t.equal(d.host, '127.0.0.1', `${d.id}: acceptAny only for the loopback simulator`);
  }
});

t.test('a missing inventory file is an error naming the file', async (t) => {
  const dir = t.testdir({});
  const err = configError(() => loadInventoryFile(join(dir, 'devices.yaml'), loadConfig({ argv: [], env: {} })));
  t.match(err.message, join(dir, 'devices.yaml'));
});

t.test('every key is settable by its generated env variable and flag', async (t) => {
  for (const key of CONFIG_KEYS) {
    t.equal(key.env, `WARMPOOL_${key.path.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/\./g, '_').toUpperCase()}`);
    t.equal(key.arg, key.path);
  }
  t.ok(CONFIG_KEYS.some((k) => k.env === 'WARMPOOL_DEFAULTS_POOL_MAX_WAITING'));
  t.ok(CONFIG_KEYS.some((k) => k.env === 'WARMPOOL_GRPC_LISTEN'));
});
