import t from 'tap';
import { Writable } from 'node:stream';
import { checkListenSafety, isLoopbackListen } from '../src/auth/listen-safety.js';
import { createAuth } from '../src/auth/index.js';
import { createLogger, silentLogger } from '../src/core/logger.js';
import type { AppConfig } from '../src/config/types.js';
import { WarmpoolError } from '../src/core/errors.js';
import { grpcConfig } from './kit/grpc-config.js';

function cfg(listen: string, over: { tls?: Partial<AppConfig['grpc']['tls']>; auth?: Partial<AppConfig['grpc']['auth']> } = {}): AppConfig['grpc'] {
  return grpcConfig({ listen, ...over });
}

t.test('loopback and unix-socket addresses are recognised', async (t) => {
  for (const a of ['127.0.0.1:50051', '127.1.2.3:1', 'localhost:50051', 'LOCALHOST:1', '[::1]:50051', '::1', '[::ffff:127.0.0.1]:5',
    'unix:/run/warmpool.sock', 'unix:///run/w.sock', 'unix-abstract:warmpool', 'dns:localhost:50051', 'ipv4:127.0.0.1:50051']) {
    t.ok(isLoopbackListen(a), a);
  }
  for (const a of ['0.0.0.0:50051', '[::]:50051', ':50051', '10.0.0.1:50051', '192.168.1.5:1', 'warmpool.example.com:443',
    '[::ffff:10.0.0.1]:5', '128.0.0.1:1', 'localhost.example.com:1', '[2001:db8::1]:50051']) {
    t.notOk(isLoopbackListen(a), a);
  }
});

t.test('a non-loopback listen without any caller authentication is refused with the reason and the fixes', async (t) => {
  for (const listen of ['0.0.0.0:50051', '[::]:50051', '10.0.0.1:50051']) {
    try {
      checkListenSafety(cfg(listen));
      t.fail('should throw');
    } catch (err) {
      t.type(err, WarmpoolError);
      const e = err as WarmpoolError;
      t.equal(e.code, 'CONFIG_INVALID');
      t.equal(e.field, 'grpc.listen');
      t.match(e.message, listen);
      t.match(e.message, /anyone who can reach this port could drive privileged sessions to your network devices/);
      t.match(e.message, /grpc\.auth\.tokensFile/);
      t.match(e.message, /grpc\.tls\.clientCaFile/);
      t.match(e.message, /grpc\.auth\.allowInsecure: true/);
    }
  }
  t.throws(() => createAuth(cfg('0.0.0.0:0'), silentLogger), { code: 'CONFIG_INVALID', field: 'grpc.listen' }, 'createAuth checks it too');
});

t.test('TLS without client authentication is still unauthenticated', async (t) => {
  t.throws(() => checkListenSafety(cfg('0.0.0.0:1', { tls: { certFile: '/c', keyFile: '/k' } })), { code: 'CONFIG_INVALID', field: 'grpc.listen' });
});

t.test('non-loopback listen is accepted with tokens, with mTLS, or with allowInsecure (with a warning)', async (t) => {
  const lines: string[] = [];
  const logger = createLogger('info', new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
  t.doesNotThrow(() => checkListenSafety(cfg('0.0.0.0:1', { tls: { certFile: '/c', keyFile: '/k', clientCaFile: '/ca' } }), logger));
  t.equal(lines.length, 0, 'mTLS: no warning');
  t.doesNotThrow(() => checkListenSafety(cfg('0.0.0.0:1', { tls: { certFile: '/c', keyFile: '/k' }, auth: { tokensFile: '/t' } }), logger));
  t.equal(lines.length, 0, 'tokens over TLS: no warning');
  t.doesNotThrow(() => checkListenSafety(cfg('0.0.0.0:1', { auth: { tokensFile: '/t' } }), logger));
  t.match(lines.pop(), /bearer tokens are accepted over plaintext/);
  t.doesNotThrow(() => checkListenSafety(cfg('0.0.0.0:1', { auth: { allowInsecure: true } }), logger));
  t.match(lines.pop(), /without caller authentication \(grpc.auth.allowInsecure is true\)/);
});

t.test('loopback listen needs no authentication', async (t) => {
  t.doesNotThrow(() => checkListenSafety(cfg('127.0.0.1:50051')));
  t.doesNotThrow(() => checkListenSafety(cfg('unix:/tmp/w.sock')));
});
