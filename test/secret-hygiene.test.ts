import t from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Metadata } from '@grpc/grpc-js';
import { startSimDevice } from '../src/sim/ssh-device.js';
import { createLogger } from '../src/core/logger.js';
import { loadConfig } from '../src/config/load.js';
import { parseInventory } from '../src/config/inventory.js';
import { sshKeygen } from './kit/keys.js';
import { startTestDaemon, simSpec, m } from './kit/daemon.js';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * A scenario full of failures with known secret values: every log line, error message,
 * metric scrape and API reply is captured, and none may contain any secret.
 */
t.test('no secret appears in any log line, error, metric or reply', async (t) => {
  const SECRETS = {
    wrongPassword: 'wrong-pw-Zq81xx',
    goodPassword: 'device-pw-Kk29aa',
    enable: 'enable-secret-Pp55',
    passphrase: 'key-passphrase-Ww73',
    wrongPassphrase: 'bad-passphrase-Ee11',
    token: 'caller-token-0123456789abcdef',
    badToken: 'guessed-token-fedcba9876543210',
    httpPassword: 'http-pw-Mm40zz',
  };
  const sim = await startSimDevice({ platform: 'cisco_ios', password: SECRETS.goodPassword, enableSecret: SECRETS.enable });
  t.teardown(() => sim.close());
  const dir = t.testdir({
    'tokens.yaml': `callers:\n  - name: svc\n    tokenSha256: "${createHash('sha256').update(SECRETS.token).digest('hex')}"\n`,
  });
  const key = sshKeygen(dir, 'id_rsa', 'rsa', SECRETS.passphrase);
  const captured: string[] = [];
  const logger = createLogger('trace', new Writable({ write(chunk, _e, cb) { captured.push(chunk.toString()); cb(); } }));

  const td = await startTestDaemon({
    logger,
    argv: ['--grpc.auth.tokensFile', join(dir, 'tokens.yaml')],
    devices: [
      simSpec(sim, 'badpw', { password: SECRETS.wrongPassword }),
      simSpec(sim, 'badkey', { password: undefined, privateKey: readFileSync(key.path, 'utf8'), passphrase: SECRETS.wrongPassphrase }),
      simSpec(sim, 'hostkey', { hostKey: { fingerprints: ['SHA256:' + 'A'.repeat(42) + 'E'] } }),
      simSpec(sim, 'good', { enableSecret: SECRETS.enable }),
    ],
  });
  t.teardown(() => td.stop());
  const md = new Metadata();
  md.set('authorization', `Bearer ${SECRETS.token}`);
  const bad = new Metadata();
  bad.set('authorization', `Bearer ${SECRETS.badToken}`);
  const run = m(td.proxy, 'Run');
  const seen: string[] = [];
  const record = (x: unknown) => seen.push(JSON.stringify(x, (_k, v) => (v && v.type === 'Buffer' ? Buffer.from(v.data).toString() : v)) ?? '', String((x as Any)?.details ?? ''));

  for (const device of ['badpw', 'badkey', 'hostkey']) {
    record(await td.call(run, { device, commands: ['show clock'] }, { metadata: md }).catch((e) => e));
  }
  record(await td.call(run, { device: 'good', commands: ['show running-config'], privileged: true }, { metadata: md }).catch((e) => e));
  record(await td.call(run, { device: 'good', commands: ['show clock'] }, { metadata: bad }).catch((e) => e));
  record(await td.call(run, { device: 'good', commands: ['show clock'] }).catch((e) => e));
  record(await td.call(m(td.inventory, 'ListDevices'), {}, { metadata: md }));
  record(await td.call(m(td.inventory, 'GetDevice'), { id: 'good' }, { metadata: md }));
  record(await td.call(m(td.inventory, 'PutDevice'), {
    device: { id: 'put-bad', host: '127.0.0.1', platform: 'cisco_ios', username: 'u', password: SECRETS.httpPassword, host_key: {} },
  }, { metadata: md }).catch((e) => e));
  record(await td.call(m(td.admin, 'GetPoolStats'), {}, { metadata: md }));
  record(await td.daemon.metrics.scrape());

  // A bad configuration and a bad inventory entry carrying secrets.
  const badInv = join(dir, 'devices.yaml');
  writeFileSync(badInv, `devices:\n  - id: x\n    host: 127.0.0.1\n    platform: cisco_ios\n    username: u\n    password: ${SECRETS.httpPassword}\n    enableSecret: { nested: "${SECRETS.enable}" }\n    hostKey: { acceptAny: true }\n`);
  try {
    parseInventory(`devices:\n  - id: x\n    host: 127.0.0.1\n    platform: cisco_ios\n    username: u\n    password: [${SECRETS.httpPassword}]\n    hostKey: { acceptAny: true }\n`, 'inline.yaml', loadConfig({ argv: [], env: {} }).defaults);
  } catch (e) {
    record((e as Error).message);
  }
  try {
    loadConfig({ argv: ['--inventory.file', badInv], env: {} });
    parseInventory((await import('node:fs')).readFileSync(badInv, 'utf8'), badInv, loadConfig({ argv: [], env: {} }).defaults);
  } catch (e) {
    record((e as Error).message);
  }

  const everything = [...captured, ...seen].join('\n');
  t.ok(captured.length > 5, `captured ${captured.length} log lines`);
  const codes = seen.map((x) => /^\{"code":(\d+)/.exec(x)?.[1]).filter(Boolean);
  t.same(codes.slice(0, 3), ['9', '9', '9'], 'bad password, bad passphrase and host-key mismatch all failed (FAILED_PRECONDITION)');
  t.ok(codes.includes('16'), 'the bad and the missing token were refused (UNAUTHENTICATED)');
  for (const [name, value] of Object.entries(SECRETS)) t.notOk(everything.includes(value), `${name} never appears`);
});
