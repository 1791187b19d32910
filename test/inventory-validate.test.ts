import t from 'tap';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { parseInventory, validateDevice } from '../src/config/inventory.js';
import { loadConfig } from '../src/config/load.js';
import { isWarmpoolError, type WarmpoolError } from '../src/core/errors.js';

const defaults = loadConfig({ argv: [], env: {} }).defaults;
const FP = 'SHA256:Ndn2nNQI3C/HRofmkAHuPkHxYutLZVwHJidfQ4IkyLY';
const SECRET = 'Zq9-very-secret-VALUE-7Hk';

function device(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'core-sw1', host: '192.0.2.10', platform: 'cisco_ios', username: 'netops', password: SECRET, hostKey: { fingerprints: [FP] }, ...over };
}

function rejection(fn: () => unknown, code: 'CONFIG_INVALID' | 'INVALID_ARGUMENT' = 'CONFIG_INVALID'): WarmpoolError {
  try {
    fn();
  } catch (err) {
    if (isWarmpoolError(err, code)) return err;
    throw err;
  }
  throw new Error(`expected a ${code} error, got none`);
}

/** Validate one device as the file loader does and return the error. */
function fileError(raw: unknown): WarmpoolError {
  return rejection(() => validateDevice(raw, defaults, 'file', 'inventory devices.yaml', { index: 0 }));
}

t.test('a minimal device gets the defaults for pool, ssh, port and mode', async (t) => {
  const spec = validateDevice(device(), defaults, 'file');
  t.equal(spec.port, 22);
  t.equal(spec.mode, 'shell');
  t.same(spec.pool, defaults.pool);
  t.same(spec.ssh, defaults.ssh);
  t.same(spec.labels, {});
  t.equal(spec.source, 'file');
  t.equal(spec.http, undefined);
  t.equal(spec.password?.reveal(), SECRET);
});

t.test('mode defaults by platform: exec on linux, shell elsewhere; an explicit mode wins', async (t) => {
  t.equal(validateDevice(device({ platform: 'linux' }), defaults, 'file').mode, 'exec');
  for (const platform of ['cisco_ios', 'cisco_nxos', 'arista_eos', 'juniper_junos']) {
    t.equal(validateDevice(device({ platform }), defaults, 'file').mode, 'shell', platform);
  }
  t.equal(validateDevice(device({ platform: 'generic', prompt: '[>#]\\s*$' }), defaults, 'file').mode, 'shell');
  t.equal(validateDevice(device({ platform: 'linux', mode: 'shell' }), defaults, 'file').mode, 'shell');
});

t.test('pool and ssh overrides are merged key by key over the defaults', async (t) => {
  const spec = validateDevice(device({ pool: { min: 1, max: 4 }, ssh: { commandTimeoutMs: '90s', legacyAlgorithms: true } }), defaults, 'file');
  t.same(spec.pool, { ...defaults.pool, min: 1, max: 4 });
  t.same(spec.ssh, { ...defaults.ssh, commandTimeoutMs: 90000, legacyAlgorithms: true });
});

t.test('a bad id is reported by position', async (t) => {
  const err = fileError(device({ id: 'core sw1' }));
  t.equal(err.field, 'id');
  t.equal(err.message, 'inventory devices.yaml: devices[0]: id: must be 1..128 characters of A-Z a-z 0-9 . _ : - (got "core sw1")');
  t.match(fileError(device({ id: 'x'.repeat(129) })).message, /devices\[0\]: id:/);
  t.match(fileError(device({ id: undefined })).message, /devices\[0\]: id: is required/);
});

t.test('each bad field is reported with the device id, the field and the problem', async (t) => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['min > max', { pool: { min: 5, max: 2 } }, 'pool.min', /must be <= pool\.max \(got min 5, max 2\)/],
    ['max 0', { pool: { max: 0 } }, 'pool.max', /must be an integer >= 1 \(got 0\)/],
    ['negative min', { pool: { min: -1 } }, 'pool.min', /must be a non-negative integer/],
    ['no host key policy', { hostKey: undefined }, 'hostKey', /fingerprints.*knownHostsFile.*acceptAny: true/],
    ['empty host key policy', { hostKey: {} }, 'hostKey', /fingerprints.*knownHostsFile.*acceptAny: true/],
    ['acceptAny false only', { hostKey: { acceptAny: false } }, 'hostKey', /has no policy/],
    ['two host key policies', { hostKey: { fingerprints: [FP], acceptAny: true } }, 'hostKey', /sets fingerprints and acceptAny/],
    ['bad fingerprint', { hostKey: { fingerprints: ['SHA256:abc'] } }, 'hostKey.fingerprints[0]', /43 base64 characters/],
    ['md5 fingerprint', { hostKey: { fingerprints: ['MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48'] } }, 'hostKey.fingerprints[0]', /SHA256:/],
    ['bad prompt regex', { platform: 'generic', prompt: '([a-z' }, 'prompt', /is not a valid pattern: missing closing \]/],
    ['prompt with a lookahead (not RE2)', { platform: 'generic', prompt: '\\w+(?=#)#$' }, 'prompt', /lookahead \(\?=\.\.\.\) is not supported: .*RE2 syntax, see docs\/operations\.md/],
    ['prompt with a huge repeat', { platform: 'generic', prompt: '(?:[a-z]{1,500}){1,2}#' }, 'prompt', /is too complex/],
    ['prompt matching nothing', { prompt: '.*' }, 'prompt', /must not match an empty string/],
    ['generic without prompt', { platform: 'generic' }, 'prompt', /required for platform generic/],
    ['unknown field', { passwrod: 'x' }, 'passwrod', /unknown field \(did you mean "password"\?\)/],
    ['unknown nested field', { pool: { maximum: 3 } }, 'pool.maximum', /unknown field/],
    ['unknown platform', { platform: 'ios' }, 'platform', /must be one of linux, cisco_ios/],
    ['missing platform', { platform: undefined }, 'platform', /is required/],
    ['bad mode', { mode: 'telnet' }, 'mode', /must be one of shell, exec/],
    ['port out of range', { port: 70000 }, 'port', /port number 1\.\.65535 \(got 70000\)/],
    ['port as string', { port: '22' }, 'port', /got "22"/],
    ['bad host', { host: 'core sw1.example' }, 'host', /host name/],
    ['bracketed IPv6', { host: '[2001:db8::1]' }, 'host', /without brackets/],
    ['missing username', { username: undefined }, 'username', /is required/],
    ['no credential', { password: undefined }, 'password', /password, passwordFile, privateKey or privateKeyFile/],
    ['label value not a string', { labels: { rack: 12 } }, 'labels.rack', /must be a string \(got 12; quote it in YAML\)/],
    ['label value with comma', { labels: { role: 'a,b' } }, 'labels.role', /commas/],
    ['passphrase without key', { passphrase: SECRET }, 'passphrase', /only used with privateKey/],
    ['inline key not PEM', { password: undefined, privateKey: SECRET }, 'privateKey', /PEM or OpenSSH/],
    ['pool as list', { pool: [1, 2] }, 'pool', /must be a mapping \(got a list\)/],
    ['timeout too large', { ssh: { commandTimeoutMs: 2 ** 31 } }, 'ssh.commandTimeoutMs', /at most 2147483647/],
  ];
  for (const [name, over, field, problem] of cases) {
    const err = fileError(device(over));
    t.equal(err.field, field, `${name}: field`);
    t.match(err.message, problem, `${name}: problem`);
    t.ok(err.message.startsWith(`inventory devices.yaml: device "core-sw1": ${field}: `), `${name}: names file, device and field: ${err.message}`);
    t.equal(err.device, 'core-sw1', `${name}: device on the error`);
    t.notMatch(err.message, SECRET, `${name}: no secret in the message`);
  }
});

t.test('secret files must exist and be regular files; the message names field and path', async (t) => {
  const dir = t.testdir({ pw: 'demo-password\n', sub: {} });
  const missing = fileError(device({ password: undefined, passwordFile: join(dir, 'absent') }));
  t.equal(missing.field, 'passwordFile');
  t.match(missing.message, `device "core-sw1": passwordFile: file "${join(dir, 'absent')}" does not exist`);
  const directory = fileError(device({ password: undefined, passwordFile: join(dir, 'sub') }));
  t.match(directory.message, /passwordFile: .* is not a regular file/);
  const both = fileError(device({ passwordFile: join(dir, 'pw') }));
  t.match(both.message, /passwordFile: give either password or passwordFile, not both/);
  const ok = validateDevice(device({ password: undefined, passwordFile: 'pw' }), defaults, 'file', undefined, { baseDir: dir });
  t.equal(ok.password?.file, join(dir, 'pw'), 'relative paths resolve against the inventory directory');
  t.equal(ok.password?.reveal(), 'demo-password', 'the file is read at use, without its trailing newline');
  const enable = fileError(device({ enableSecretFile: join(dir, 'absent') }));
  t.equal(enable.field, 'enableSecretFile');
});

t.test('secret values never appear in messages, JSON or inspect output', async (t) => {
  const spec = validateDevice(
    device({ enableSecret: SECRET, http: { baseUrl: 'https://192.0.2.10', auth: { type: 'bearer', token: SECRET } } }),
    defaults,
    'file',
  );
  t.notMatch(JSON.stringify(spec), SECRET);
  t.notMatch(inspect(spec, { depth: 10 }), SECRET);
  t.notMatch(String(spec.password), SECRET);
  // A secret given with the wrong type must not be echoed either.
  for (const bad of [12345678, [SECRET], { v: SECRET }, true]) {
    const err = fileError(device({ password: bad }));
    t.equal(err.field, 'password');
    t.notMatch(err.message, SECRET);
    t.notMatch(err.message, '12345678');
  }
  const inUrl = fileError(device({ http: { baseUrl: `https://api:${SECRET}@192.0.2.10/` } }));
  t.equal(inUrl.field, 'http.baseUrl');
  t.notMatch(inUrl.message, SECRET);
  const authAsString = fileError(device({ http: { baseUrl: 'https://192.0.2.10', auth: `Bearer ${SECRET}` } }));
  t.equal(authAsString.field, 'http.auth');
  t.match(authAsString.message, /must be a mapping \(got a string\)/);
  const authTypo = fileError(device({ http: { baseUrl: 'https://192.0.2.10', auth: { type: 'basic', username: 'api', password: SECRET, token: SECRET } } }));
  t.equal(authTypo.field, 'http.auth.token');
  t.notMatch(authTypo.message, SECRET);
});

t.test('http settings: URL normalised, auth variants, TLS rules, limits from defaults', async (t) => {
  const dir = t.testdir({ 'ca.pem': 'x', 'token': 'demo-token' });
  const spec = validateDevice(
    device({ http: { baseUrl: 'https://192.0.2.10/api/', auth: { type: 'bearer', tokenFile: 'token' }, tls: { caFile: 'ca.pem', serverName: 'sw1.example.net' }, maxConnections: 8 } }),
    defaults,
    'file',
    undefined,
    { baseDir: dir },
  );
  t.equal(spec.http?.baseUrl, 'https://192.0.2.10/api');
  t.equal(spec.http?.auth.type, 'bearer');
  t.same(spec.http?.tls, { caFile: join(dir, 'ca.pem'), serverName: 'sw1.example.net' });
  t.equal(spec.http?.maxConnections, 8);
  t.equal(spec.http?.maxResponseBytes, defaults.http.maxResponseBytes);
  t.same(validateDevice(device({ http: { baseUrl: 'http://192.0.2.10' } }), defaults, 'file').http?.auth, { type: 'none' });
  const session = validateDevice(
    device({ http: { baseUrl: 'https://192.0.2.10', auth: { type: 'session', loginPath: '/login', username: 'api', password: SECRET, tokenField: 'token', tokenHeader: 'X-Auth-Token' } } }),
    defaults,
    'file',
  );
  t.match(session.http?.auth, { type: 'session', loginPath: '/login', username: 'api', tokenField: 'token', tokenHeader: 'X-Auth-Token' });

  const bad: [Record<string, unknown>, string, RegExp][] = [
    [{ baseUrl: 'ftp://192.0.2.10' }, 'http.baseUrl', /http or https/],
    [{ baseUrl: 'https://192.0.2.10/?a=1' }, 'http.baseUrl', /query or fragment/],
    [{ baseUrl: '/relative' }, 'http.baseUrl', /absolute/],
    [{ baseUrl: 'http://192.0.2.10', tls: { insecureSkipVerify: true } }, 'http.tls', /not https/],
    [{ baseUrl: 'https://192.0.2.10', tls: { caFile: join(dir, 'ca.pem'), insecureSkipVerify: true } }, 'http.tls.insecureSkipVerify', /cannot be combined with caFile/],
    [{ baseUrl: 'https://192.0.2.10', tls: { certFile: join(dir, 'ca.pem') } }, 'http.tls.keyFile', /together/],
    [{ baseUrl: 'https://192.0.2.10', auth: { type: 'digest' } }, 'http.auth.type', /none, basic, bearer, session/],
    [{ baseUrl: 'https://192.0.2.10', auth: { type: 'basic', username: 'api' } }, 'http.auth.password', /required for auth type basic/],
    [{ baseUrl: 'https://192.0.2.10', auth: { type: 'session', loginPath: 'login', username: 'a', password: SECRET } }, 'http.auth.loginPath', /must start with "\/"/],
    [{ baseUrl: 'https://192.0.2.10', maxConnections: 0 }, 'http.maxConnections', /integer >= 1/],
    [{ baseUrl: 'https://192.0.2.10', retries: 3 }, 'http.retries', /unknown field/],
  ];
  for (const [http, field, problem] of bad) {
    const err = fileError(device({ http }));
    t.equal(err.field, field, JSON.stringify(http));
    t.match(err.message, problem, JSON.stringify(http));
  }
});

t.test('over the API: INVALID_ARGUMENT, and credential files are refused', async (t) => {
  const dir = t.testdir({ pw: 'demo-password', known_hosts: '' });
  const err = rejection(() => validateDevice(device({ pool: { max: 0 } }), defaults, 'api'), 'INVALID_ARGUMENT');
  t.equal(err.message, 'device "core-sw1": pool.max: must be an integer >= 1 (got 0)');
  const file = rejection(() => validateDevice(device({ password: undefined, passwordFile: join(dir, 'pw') }), defaults, 'api'), 'INVALID_ARGUMENT');
  t.equal(file.field, 'passwordFile');
  t.match(file.message, /not accepted over the API/);
  const spec = validateDevice(device({ hostKey: { knownHostsFile: join(dir, 'known_hosts') } }), defaults, 'api');
  t.equal(spec.source, 'api');
  t.equal(spec.hostKey.knownHostsFile, join(dir, 'known_hosts'), 'a known_hosts file is not a credential and is allowed');
});

t.test('over the API, proto3 zero values mean "not given"', async (t) => {
  const fromProto = {
    ...device({ platform: 'linux' }),
    port: 0,
    mode: '',
    prompt: '',
    pagingCommand: '',
    enableCommand: '',
    passwordFile: '',
    privateKey: '',
    privateKeyFile: '',
    passphrase: '',
    enableSecret: '',
    enableSecretFile: '',
    hostKey: { fingerprints: [], knownHostsFile: '', acceptAny: true },
    labels: {},
    pool: { max: 3 },
    http: { baseUrl: 'https://192.0.2.10', auth: { type: '', username: '', password: '', passwordFile: '', token: '' }, tls: { caFile: '', insecureSkipVerify: false } },
  };
  const spec = validateDevice(fromProto, defaults, 'api');
  t.equal(spec.port, 22);
  t.equal(spec.mode, 'exec');
  t.equal(spec.prompt, undefined);
  t.equal(spec.pagingCommand, '', 'an empty paging command is a real value: send none');
  t.same(spec.hostKey, { acceptAny: true });
  t.equal(spec.pool.max, 3);
  t.same(spec.http?.auth, { type: 'none' });
  t.same(spec.http?.tls, { insecureSkipVerify: false });
  // The same zero values in a file are mistakes and are reported.
  t.match(fileError(device({ port: 0 })).message, /port: must be a port number 1\.\.65535 \(got 0\)/);
  t.match(fileError(device({ username: '' })).message, /username: must not be empty/);
  const noHostKey = rejection(() => validateDevice({ ...fromProto, hostKey: { fingerprints: [], knownHostsFile: '', acceptAny: false } }, defaults, 'api'), 'INVALID_ARGUMENT');
  t.equal(noHostKey.field, 'hostKey');
});

t.test('parseInventory: duplicate ids, top-level shape, YAML and JSON', async (t) => {
  const yaml = `devices:\n  - id: a\n    host: 192.0.2.1\n    platform: linux\n    username: u\n    password: ${SECRET}\n    hostKey: { acceptAny: true }\n`;
  const devices = parseInventory(yaml, 'devices.yaml', defaults);
  t.equal(devices.length, 1);
  t.equal(devices[0]?.mode, 'exec');
  const json = JSON.stringify({ devices: [device(), device({ id: 'core-sw2' })] });
  t.same(parseInventory(json, 'devices.json', defaults).map((d) => d.id), ['core-sw1', 'core-sw2']);

  const dup = rejection(() => parseInventory(JSON.stringify({ devices: [device(), device({ id: 'x' }), device()] }), 'devices.json', defaults));
  t.equal(dup.message, 'inventory devices.json: devices[2]: id: duplicate id "core-sw1" (first used by devices[0])');
  t.equal(dup.field, 'id');

  t.match(rejection(() => parseInventory('', 'd.yaml', defaults)).message, /the file is empty; write `devices: \[\]`/);
  t.same(parseInventory('devices: []\n', 'd.yaml', defaults), []);
  t.match(rejection(() => parseInventory('device: []\n', 'd.yaml', defaults)).message, /d\.yaml: device: unknown key \(did you mean "devices"\?\)/);
  t.match(rejection(() => parseInventory('devices: {}\n', 'd.yaml', defaults)).message, /devices: must be a list/);
  t.match(rejection(() => parseInventory('devices:\n  - just-a-string\n', 'd.yaml', defaults)).message, /devices\[0\]: \(entry\): must be a mapping/);
  const broken = rejection(() => parseInventory(`devices:\n  - id: a\n    password: "${SECRET}": x\n`, 'd.yaml', defaults));
  t.match(broken.message, /d\.yaml: not valid YAML at line 3/);
  t.notMatch(broken.message, SECRET, 'a YAML error does not quote the offending line');
  const third = rejection(() => parseInventory(JSON.stringify({ devices: [device({ id: 'a' }), device({ id: 'b' }), device({ id: 'c', hostKey: {} })] }), 'devices.json', defaults));
  t.match(third.message, /^inventory devices\.json: device "c": hostKey: /);
});
