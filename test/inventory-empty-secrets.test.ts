/**
 * An empty optional secret means "not set", in the inventory file as over PutDevice. Netmiko
 * users write `secret=""` for "enable has no password"; one such device used to stop the whole
 * daemon from starting (CONFIG_INVALID, exit 2) while the same value over the API was accepted.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { status } from '@grpc/grpc-js';
import { validateDevice } from '../src/config/inventory.js';
import { loadConfig, loadInventoryFile } from '../src/config/load.js';
import { isWarmpoolError } from '../src/core/errors.js';
import { startSimDevice } from '../src/sim/ssh-device.js';
import { startTestDaemon, m } from './kit/daemon.js';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const defaults = loadConfig({ argv: [], env: {} }).defaults;
const FP = 'SHA256:Ndn2nNQI3C/HRofmkAHuPkHxYutLZVwHJidfQ4IkyLY';
const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nnot-parsed-at-validation\n-----END OPENSSH PRIVATE KEY-----\n';

function device(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'sw1', host: '192.0.2.10', platform: 'cisco_ios', username: 'netops', password: 'pw', hostKey: { fingerprints: [FP] }, ...over };
}

function fileError(raw: Record<string, unknown>): Error {
  try {
    validateDevice(raw, defaults, 'file', 'inventory devices.yaml', { index: 0 });
  } catch (err) {
    if (isWarmpoolError(err, 'CONFIG_INVALID')) return err;
    throw err;
  }
  throw new Error('expected CONFIG_INVALID');
}

t.test('in the inventory file an empty enableSecret, passphrase, password or privateKey is "not set"', async (t) => {
  const spec = validateDevice(device({ enableSecret: '' }), defaults, 'file');
  t.equal(spec.enableSecret, undefined, 'enableSecret: "" — enable has no password');
  t.equal(spec.password?.reveal(), 'pw');

  const keyOnly = validateDevice(device({ password: '', privateKey: KEY, passphrase: '' }), defaults, 'file');
  t.equal(keyOnly.password, undefined, 'password: "" beside a key');
  t.equal(keyOnly.passphrase, undefined, 'passphrase: "" — the key is not encrypted');
  t.ok(keyOnly.privateKey);

  const pwOnly = validateDevice(device({ privateKey: '' }), defaults, 'file');
  t.equal(pwOnly.privateKey, undefined, 'privateKey: "" — no key');
});

t.test('an empty secret is still refused where the device then has no credential, or where it is required', async (t) => {
  const noCredential = fileError(device({ password: '' }));
  t.match(noCredential.message, /password: a credential is required.*\(an empty password counts as not set\)/);
  const http = fileError(device({ http: { baseUrl: 'https://192.0.2.10', auth: { type: 'basic', username: 'api', password: '' } } }));
  t.match(http.message, /http\.auth\.password: must not be empty/, 'basic auth needs its password: "" is a mistake');
  t.match(fileError(device({ enableSecretFile: '' })).message, /enableSecretFile: must not be empty/, 'an empty file path is a mistake, not "none"');
});

t.test('the daemon starts with enableSecret: "" in its inventory file, and PutDevice with "" behaves the same', async (t) => {
  const sim = await startSimDevice({ platform: 'cisco_ios' });
  t.teardown(() => sim.close());
  const dir = mkdtempSync(join(tmpdir(), 'warmpool-empty-secret-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'devices.yaml');
  writeFileSync(file, [
    'devices:',
    `  - { id: from-file, host: ${sim.host}, port: ${sim.port}, platform: cisco_ios, username: ${sim.username},`,
    `      password: "${sim.password}", enableSecret: "", hostKey: { fingerprints: ["${sim.hostKeyFingerprint}"] } }`,
    '',
  ].join('\n'));
  t.equal(loadInventoryFile(file, { defaults })[0]?.enableSecret, undefined, 'the file loads; the enable secret is unset');

  const td = await startTestDaemon({ argv: ['--inventory.file', file] });
  t.teardown(() => td.stop());
  await td.call(m(td.inventory, 'PutDevice'), {
    device: {
      id: 'from-api', host: sim.host, port: sim.port, platform: 'cisco_ios', username: sim.username,
      password: sim.password, enable_secret: '', host_key: { fingerprints: [sim.hostKeyFingerprint] },
    },
  });
  const outcomes: Record<string, unknown>[] = [];
  for (const id of ['from-file', 'from-api']) {
    const got: Any = await td.call(m(td.inventory, 'GetDevice'), { id });
    const plain: Any = await td.call(m(td.proxy, 'Run'), { device: id, commands: ['show clock'] });
    // The simulator asks for an enable password, and none is set: the same error for both.
    const priv: Any = await td.call(m(td.proxy, 'Run'), { device: id, commands: ['show running-config'], privileged: true }).catch((e: Any) => e);
    outcomes.push({
      hasEnableSecret: got.has_enable_secret,
      plainOk: plain.results[0].failed === false,
      privilegedCode: priv.code,
      privilegedDetails: String(priv.details).replace(id, 'ID'),
    });
  }
  t.same(outcomes[0], outcomes[1], 'the file device and the API device behave the same');
  t.match(outcomes[0], {
    hasEnableSecret: false,
    plainOk: true,
    privilegedCode: status.FAILED_PRECONDITION,
    privilegedDetails: /asks for an enable secret and none is configured/,
  });
});
