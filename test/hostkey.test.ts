import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { Secret } from '../src/config/secret.js';
import { WarmpoolError } from '../src/core/errors.js';
import { connectSsh } from '../src/transport/ssh-connect.js';
import { fingerprintSha256, hostFieldMatches, knownHostsName } from '../src/transport/hostkey.js';
import { generateEd25519, startTestSshServer } from './kit/keys.js';
import { sshdDevice, startSshd, testDevice } from './kit/sshd.js';

const sshd = await startSshd();
t.teardown(() => sshd.stop());

let fileNo = 0;
function knownHosts(text: string): string {
  const p = join(sshd.dir, `known_hosts_${++fileNo}`);
  writeFileSync(p, text);
  return p;
}

async function mismatch(t: Test, p: Promise<{ close(): void }>): Promise<WarmpoolError> {
  try {
    const c = await p;
    c.close();
  } catch (err) {
    t.type(err, WarmpoolError);
    t.equal((err as WarmpoolError).code, 'HOST_KEY_MISMATCH', (err as Error).message);
    return err as WarmpoolError;
  }
  t.fail('connected although the host key should have been refused');
  throw new Error('unreachable');
}

const other = generateEd25519();

t.test('fingerprintSha256 matches ssh-keygen -l', async (t) => {
  const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(sshd.dir, 'host_ed25519.pub')], { encoding: 'utf8' });
  const fromKeygen = out.split(/\s+/)[1];
  const blob = Buffer.from(sshd.hostKeyPublic.split(' ')[1] as string, 'base64');
  t.equal(fingerprintSha256(blob), fromKeygen);
  t.equal(sshd.hostKeyFingerprint, fromKeygen);
});

t.test('a pinned fingerprint is accepted (with or without base64 padding)', async (t) => {
  const c1 = await connectSsh(sshdDevice(sshd, { hostKey: { fingerprints: [other.fingerprint, sshd.hostKeyFingerprint] } }));
  c1.close();
  const c2 = await connectSsh(sshdDevice(sshd, { hostKey: { fingerprints: [`${sshd.hostKeyFingerprint}=`] } }));
  c2.close();
  t.same([c1.hostKeyFingerprint, c2.hostKeyFingerprint], [sshd.hostKeyFingerprint, sshd.hostKeyFingerprint], 'both pins accepted the key sshd presented');
});

t.test('a pinned mismatch is HOST_KEY_MISMATCH naming expected and presented keys, distinct from network errors, with no secret', async (t) => {
  const srv = await startTestSshServer({ password: 'sekrit-pw-42' });
  t.teardown(() => srv.stop());
  const err = await mismatch(
    t,
    connectSsh(
      testDevice({
        host: srv.host,
        port: srv.port,
        username: 'tester',
        password: Secret.fromValue('sekrit-pw-42'),
        hostKey: { fingerprints: [other.fingerprint] },
      }),
    ),
  );
  t.match(err.message, /device test-dev/);
  t.match(err.message, /host key verification failed/);
  t.ok(err.message.includes(other.fingerprint), 'expected fingerprint shown');
  t.ok(err.message.includes(srv.hostKeyFingerprint), 'presented fingerprint shown');
  t.notOk(err.message.includes('sekrit-pw-42'), 'no password');
});

t.test('pinned mismatch against OpenSSH too', async (t) => {
  const err = await mismatch(t, connectSsh(sshdDevice(sshd, { hostKey: { fingerprints: [other.fingerprint] } })));
  t.ok(err.message.includes(sshd.hostKeyFingerprint));
});

t.test('known_hosts: a plain [host]:port entry is accepted', async (t) => {
  const file = knownHosts(`# comment\n\n${sshd.knownHostsLine}\n`);
  const c = await connectSsh(sshdDevice(sshd, { hostKey: { knownHostsFile: file } }));
  c.close();
  t.equal(c.hostKeyFingerprint, sshd.hostKeyFingerprint, 'connected with the key of the known_hosts entry');
});

t.test('known_hosts: comma lists and globs match, negations veto', async (t) => {
  const pub = sshd.hostKeyPublic;
  const ok = knownHosts(`otherhost,[127.0.0.*]:${sshd.port} ${pub}\n`);
  const c = await connectSsh(sshdDevice(sshd, { hostKey: { knownHostsFile: ok } }));
  c.close();
  const vetoed = knownHosts(`[127.0.0.*]:${sshd.port},![127.0.0.1]:${sshd.port} ${pub}\n`);
  const err = await mismatch(t, connectSsh(sshdDevice(sshd, { hostKey: { knownHostsFile: vetoed } })));
  t.match(err.message, /no entry/);
});

t.test('known_hosts: a bare host entry does not match a non-22 port', async (t) => {
  const file = knownHosts(`127.0.0.1 ${sshd.hostKeyPublic}\n`);
  const err = await mismatch(t, connectSsh(sshdDevice(sshd, { hostKey: { knownHostsFile: file } })));
  t.match(err.message, /no entry for \[127\.0\.0\.1\]:\d+/);
});

t.test('known_hosts: hashed entries written by ssh-keygen -H are accepted', async (t) => {
  const file = knownHosts(`${sshd.knownHostsLine}\n`);
  execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
  const text = readFileSync(file, 'utf8');
  t.match(text, /^\|1\|/, 'the file is hashed');
  t.notOk(text.includes('127.0.0.1'), 'no plain host left');
  const c = await connectSsh(sshdDevice(sshd, { hostKey: { knownHostsFile: file } }));
  c.close();
});

t.test('known_hosts: an entry with another key for this host is a mismatch listing it', async (t) => {
  const file = knownHosts(`[127.0.0.1]:${sshd.port} ${other.publicLine}\n`);
  const err = await mismatch(t, connectSsh(sshdDevice(sshd, { hostKey: { knownHostsFile: file } })));
  t.ok(err.message.includes(other.fingerprint), 'expected key listed');
  t.ok(err.message.includes(sshd.hostKeyFingerprint), 'presented key listed');
});

t.test('known_hosts: @revoked rejects even when another line accepts', async (t) => {
  const file = knownHosts(`${sshd.knownHostsLine}\n@revoked * ${sshd.hostKeyPublic}\n`);
  const err = await mismatch(t, connectSsh(sshdDevice(sshd, { hostKey: { knownHostsFile: file } })));
  t.match(err.message, /@revoked/);
});

t.test('known_hosts: @cert-authority lines are ignored (not accepted as host keys)', async (t) => {
  const file = knownHosts(`@cert-authority [127.0.0.1]:${sshd.port} ${sshd.hostKeyPublic}\n`);
  await mismatch(t, connectSsh(sshdDevice(sshd, { hostKey: { knownHostsFile: file } })));
});

t.test('known_hosts: an unreadable file rejects instead of accepting', async (t) => {
  const err = await mismatch(t, connectSsh(sshdDevice(sshd, { hostKey: { knownHostsFile: join(sshd.dir, 'missing') } })));
  t.match(err.message, /could not be read \(ENOENT\)/);
});

t.test('known_hosts: the file is read per connection, so a rotated file applies at once', async (t) => {
  const file = knownHosts(`[127.0.0.1]:${sshd.port} ${other.publicLine}\n`);
  await mismatch(t, connectSsh(sshdDevice(sshd, { hostKey: { knownHostsFile: file } })));
  writeFileSync(file, `${sshd.knownHostsLine}\n`);
  const c = await connectSsh(sshdDevice(sshd, { hostKey: { knownHostsFile: file } }));
  c.close();
});

t.test('no host-key policy at all rejects', async (t) => {
  await mismatch(t, connectSsh(sshdDevice(sshd, { hostKey: {} })));
});

t.test('knownHostsName and hostFieldMatches follow OpenSSH', async (t) => {
  t.equal(knownHostsName('h', 22), 'h');
  t.equal(knownHostsName('h', 2222), '[h]:2222');
  t.ok(hostFieldMatches('a,B.example,c', 'b.example'), 'case-insensitive');
  t.ok(hostFieldMatches('sw?', 'sw1'));
  t.notOk(hostFieldMatches('sw?', 'sw10'));
  t.notOk(hostFieldMatches('*.example,!bad.example', 'bad.example'));
  t.notOk(hostFieldMatches('|1|garbage|garbage', 'h'));
});
