import net from 'node:net';
import t, { type Test } from 'tap';
import { Secret } from '../src/config/secret.js';
import { WarmpoolError } from '../src/core/errors.js';
import { createLogger } from '../src/core/logger.js';
import { connectSsh } from '../src/transport/ssh-connect.js';
import { generateEd25519, startTestSshServer } from './kit/keys.js';
import { rejectsWith } from './kit/rejects.js';
import { freePort, sshdDevice, startSshd, testDevice } from './kit/sshd.js';

const sshd = await startSshd();
t.teardown(() => sshd.stop());

async function expectCode(t: Test, p: Promise<unknown>, code: string): Promise<WarmpoolError> {
  const err = await rejectsWith(t, p, code);
  t.match(err.message, /device test-dev/, 'message names the device');
  return err;
}

/** A TCP listener that accepts and never says a word (counts live sockets for the no-leak check). */
async function silentListener() {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.resume(); // read (and drop) the client's banner so its FIN is seen
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    sockets,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

t.test('connects to OpenSSH with an ed25519 key and reports fingerprint and connect time', async (t) => {
  const conn = await connectSsh(sshdDevice(sshd));
  t.teardown(() => conn.close());
  t.equal(conn.hostKeyFingerprint, sshd.hostKeyFingerprint);
  t.ok(conn.connectMs > 0 && conn.connectMs < 5000, `connectMs ${conn.connectMs.toFixed(1)}`);
  const sock = (conn.client as unknown as { _sock: net.Socket })._sock;
  t.ok(sock instanceof net.Socket, 'our own socket is used');
});

t.test('onEnd fires once without an error after close()', async (t) => {
  const conn = await connectSsh(sshdDevice(sshd));
  const calls: Array<Error | undefined> = [];
  const ended = new Promise<void>((r) => conn.onEnd((e) => (calls.push(e), r())));
  conn.close();
  conn.close();
  await ended;
  t.same(calls, [undefined]);
  t.equal(conn.ended, true);
});

t.test('an encrypted RSA key with the right passphrase logs in', async (t) => {
  const dev = sshdDevice(sshd, {
    privateKey: Secret.fromFile(sshd.encryptedKeyPath),
    passphrase: Secret.fromValue(sshd.passphrase),
  });
  const conn = await connectSsh(dev);
  t.teardown(() => conn.close());
  t.equal(conn.hostKeyFingerprint, sshd.hostKeyFingerprint);
});

t.test('a wrong passphrase is AUTH_FAILED saying the key could not be decrypted, without the passphrase', async (t) => {
  const wrong = 'not-the-passphrase-xyzzy';
  const dev = sshdDevice(sshd, {
    privateKey: Secret.fromFile(sshd.encryptedKeyPath),
    passphrase: Secret.fromValue(wrong),
  });
  const err = await expectCode(t, connectSsh(dev), 'AUTH_FAILED');
  t.match(err.message, /could not be decrypted/);
  t.notOk(err.message.includes(wrong), 'no passphrase in the message');
  t.notOk(err.message.includes(sshd.passphrase), 'not the real one either');
});

t.test('an encrypted key without any passphrase is AUTH_FAILED', async (t) => {
  const dev = sshdDevice(sshd, { privateKey: Secret.fromFile(sshd.encryptedKeyPath) });
  const err = await expectCode(t, connectSsh(dev), 'AUTH_FAILED');
  t.match(err.message, /no passphrase/);
});

t.test('a key sshd does not know is AUTH_FAILED', async (t) => {
  const dev = sshdDevice(sshd, { privateKey: Secret.fromValue(generateEd25519().privatePem) });
  const err = await expectCode(t, connectSsh(dev), 'AUTH_FAILED');
  t.match(err.message, /publickey/, 'says what was tried');
});

t.test('a closed port is CONNECT_REFUSED', async (t) => {
  const port = await freePort();
  await expectCode(t, connectSsh(testDevice({ host: '127.0.0.1', port, password: Secret.fromValue('x') })), 'CONNECT_REFUSED');
});

t.test('a listener that never speaks SSH is CONNECT_TIMEOUT within connectTimeoutMs, socket closed', async (t) => {
  const l = await silentListener();
  t.teardown(() => l.close());
  const started = Date.now();
  const dev = testDevice({ host: '127.0.0.1', port: l.port, password: Secret.fromValue('x') }, { connectTimeoutMs: 400 });
  const err = await expectCode(t, connectSsh(dev), 'CONNECT_TIMEOUT');
  const elapsed = Date.now() - started;
  t.ok(elapsed >= 390 && elapsed < 1500, `failed after ${elapsed} ms`);
  t.match(err.message, /handshake phase/);
  // Our side destroyed the socket: the listener sees it close.
  const deadline = Date.now() + 2000;
  while (l.sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  t.equal(l.sockets.size, 0, 'no socket left open');
});

t.test('an abort signal cancels a hanging connect with CANCELLED and closes the socket', async (t) => {
  const l = await silentListener();
  t.teardown(() => l.close());
  const ac = new AbortController();
  const dev = testDevice({ host: '127.0.0.1', port: l.port, password: Secret.fromValue('x') }, { connectTimeoutMs: 5000 });
  const p = connectSsh(dev, { signal: ac.signal });
  setTimeout(() => ac.abort(), 100);
  const started = Date.now();
  await expectCode(t, p, 'CANCELLED');
  t.ok(Date.now() - started < 1000, 'promptly');
  const deadline = Date.now() + 2000;
  while (l.sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  t.equal(l.sockets.size, 0, 'no socket left open');
});

t.test('an already aborted signal rejects CANCELLED without connecting', async (t) => {
  const ac = new AbortController();
  ac.abort();
  await expectCode(t, connectSsh(sshdDevice(sshd), { signal: ac.signal }), 'CANCELLED');
});

t.test('password auth works against an ssh2 server', async (t) => {
  const srv = await startTestSshServer({ password: 'pw-123', methods: ['password'] });
  t.teardown(() => srv.stop());
  const conn = await connectSsh(
    testDevice({ host: srv.host, port: srv.port, username: 'tester', password: Secret.fromValue('pw-123'), hostKey: { fingerprints: [srv.hostKeyFingerprint] } }),
  );
  t.teardown(() => conn.close());
  t.equal(conn.hostKeyFingerprint, srv.hostKeyFingerprint);
});

t.test('keyboard-interactive only servers get the password as the answer', async (t) => {
  const srv = await startTestSshServer({ password: 'tacacs-pw', methods: ['keyboard-interactive'] });
  t.teardown(() => srv.stop());
  const conn = await connectSsh(
    testDevice({ host: srv.host, port: srv.port, username: 'tester', password: Secret.fromValue('tacacs-pw'), hostKey: { fingerprints: [srv.hostKeyFingerprint] } }),
  );
  t.teardown(() => conn.close());
  t.equal(srv.kbdInteractiveLogins, 1);
});

t.test('a wrong password is AUTH_FAILED and the message has no password', async (t) => {
  const srv = await startTestSshServer({ password: 'right-pw', methods: ['password', 'keyboard-interactive'] });
  t.teardown(() => srv.stop());
  const err = await expectCode(
    t,
    connectSsh(testDevice({ host: srv.host, port: srv.port, username: 'tester', password: Secret.fromValue('wrong-pw-777'), hostKey: { fingerprints: [srv.hostKeyFingerprint] } })),
    'AUTH_FAILED',
  );
  t.notOk(err.message.includes('wrong-pw-777'));
  t.match(err.message, /password/);
});

t.test('a server offering only SHA-1 kex is PROTOCOL_ERROR suggesting legacyAlgorithms, and legacyAlgorithms connects', async (t) => {
  const srv = await startTestSshServer({ password: 'pw' });
  t.teardown(() => srv.stop());
  // Re-create with a legacy-only kex list: ssh2.Server takes algorithms in its config.
  const ssh2 = (await import('ssh2')).default;
  const hk = generateEd25519();
  const legacy = new ssh2.Server(
    { hostKeys: [hk.privatePem], algorithms: { kex: ['diffie-hellman-group14-sha1'], cipher: ['aes128-cbc'] } },
    (c) => {
      c.on('error', () => {});
      c.on('authentication', (ctx) => (ctx.method === 'password' && ctx.password === 'pw' ? ctx.accept() : ctx.reject(['password'])));
    },
  );
  await new Promise<void>((r) => legacy.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => legacy.close(() => r())));
  const port = (legacy.address() as net.AddressInfo).port;
  const base = { host: '127.0.0.1', port, username: 'tester', password: Secret.fromValue('pw'), hostKey: { fingerprints: [hk.fingerprint] } };
  const err = await expectCode(t, connectSsh(testDevice(base)), 'PROTOCOL_ERROR');
  t.match(err.message, /legacyAlgorithms/);
  const conn = await connectSsh(testDevice(base, { legacyAlgorithms: true }));
  conn.close();
  t.equal(conn.hostKeyFingerprint, hk.fingerprint, 'legacy algorithms negotiated: logged in to the legacy-only server');
});

t.test('acceptAny connects and logs a warning', async (t) => {
  const lines: string[] = [];
  const logger = createLogger('warn', { write: (s: string) => void lines.push(s) });
  const conn = await connectSsh(sshdDevice(sshd, { hostKey: { acceptAny: true } }), { logger });
  t.teardown(() => conn.close());
  t.equal(lines.length, 1);
  t.match(lines[0], /acceptAny/);
});

t.test('a key-less, password-less device is AUTH_FAILED before any connection', async (t) => {
  const srv = await startTestSshServer();
  t.teardown(() => srv.stop());
  await expectCode(t, connectSsh(testDevice({ host: srv.host, port: srv.port })), 'AUTH_FAILED');
  t.equal(srv.connections, 0);
});

t.test('a server dropping the connection after login reports CONNECTION_LOST through onEnd', async (t) => {
  const srv = await startTestSshServer({
    password: 'pw',
    onCommand: ({ command, connection }) => {
      if (command !== 'drop') return false;
      connection.end();
      return true;
    },
  });
  t.teardown(() => srv.stop());
  const conn = await connectSsh(testDevice({ host: srv.host, port: srv.port, username: 'tester', password: Secret.fromValue('pw'), hostKey: { fingerprints: [srv.hostKeyFingerprint] } }));
  const ended = new Promise<Error | undefined>((r) => conn.onEnd(r));
  conn.client.exec('drop', () => {});
  const err = await ended;
  t.type(err, WarmpoolError);
  t.equal((err as WarmpoolError).code, 'CONNECTION_LOST');
});

t.test('AUTH_FAILED says which methods the server offers when ours do not fit', async (t) => {
  const srv = await startTestSshServer({ password: 'pw', methods: ['password'] });
  t.teardown(() => srv.stop());
  const dev = testDevice({
    host: srv.host,
    port: srv.port,
    username: 'tester',
    privateKey: Secret.fromValue(generateEd25519().privatePem),
    hostKey: { fingerprints: [srv.hostKeyFingerprint] },
  });
  const err = await expectCode(t, connectSsh(dev), 'AUTH_FAILED');
  t.match(err.message, /server offers password/);
});
