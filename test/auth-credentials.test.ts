import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServerCredentials, transportMode } from '../src/auth/server-credentials.js';
import { parseSubjectAltNames } from '../src/auth/peer-identity.js';
import { silentLogger } from '../src/core/logger.js';
import type { AppConfig } from '../src/config/types.js';
import { issueCert, makeCa } from './kit/certs.js';
import { grpcConfig } from './kit/grpc-config.js';

function cfg(tls: Partial<AppConfig['grpc']['tls']>, tokensFile = ''): AppConfig['grpc'] {
  return grpcConfig({ tls, auth: { tokensFile } });
}

const dir = t.testdir({});
const ca = makeCa(dir, 'ca');
const a = issueCert(ca, 'a', { cn: 'localhost', sans: ['DNS:localhost'], usage: 'server' });
const b = issueCert(ca, 'b', { cn: 'localhost', sans: ['DNS:localhost'], usage: 'server' });

t.test('the transport follows grpc.tls and grpc.auth', async (t) => {
  t.equal(transportMode(cfg({})), 'insecure');
  t.equal(transportMode(cfg({ certFile: a.certFile, keyFile: a.keyFile })), 'tls');
  t.equal(transportMode(cfg({ certFile: a.certFile, keyFile: a.keyFile, clientCaFile: ca.certFile })), 'mtls');
  t.equal(transportMode(cfg({ certFile: a.certFile, keyFile: a.keyFile, clientCaFile: ca.certFile }, '/t')), 'mtls-optional');
  t.throws(() => transportMode(cfg({ certFile: a.certFile })), { code: 'CONFIG_INVALID', field: 'grpc.tls.keyFile' });
  t.throws(() => transportMode(cfg({ clientCaFile: ca.certFile })), { code: 'CONFIG_INVALID', field: 'grpc.tls.certFile', message: /only adds client verification/ });
});

t.test('unusable certificate files are refused at start-up, naming the key and never the key material', async (t) => {
  const garbage = join(dir, 'garbage.pem');
  writeFileSync(garbage, 'not a pem\n');
  const cases: Array<[Partial<AppConfig['grpc']['tls']>, string, RegExp]> = [
    [{ certFile: join(dir, 'missing.pem'), keyFile: a.keyFile }, 'grpc.tls.certFile', /cannot read .*missing\.pem/],
    [{ certFile: garbage, keyFile: a.keyFile }, 'grpc.tls.certFile', /is not a PEM certificate/],
    [{ certFile: a.certFile, keyFile: garbage }, 'grpc.tls.keyFile', /not a readable, unencrypted PEM private key/],
    [{ certFile: a.certFile, keyFile: b.keyFile }, 'grpc.tls.keyFile', /does not belong to the certificate/],
    [{ certFile: a.certFile, keyFile: a.keyFile, clientCaFile: garbage }, 'grpc.tls.clientCaFile', /is not a PEM certificate/],
  ];
  for (const [tls, field, message] of cases) {
    t.throws(() => createServerCredentials(cfg(tls), silentLogger), { code: 'CONFIG_INVALID', field, message }, field);
  }
  try {
    createServerCredentials(cfg({ certFile: a.certFile, keyFile: b.keyFile }), silentLogger);
  } catch (err) {
    t.notMatch((err as Error).message, 'PRIVATE KEY');
  }
});

t.test('close() can be called twice and insecure credentials need no closing', async (t) => {
  const h = createServerCredentials(cfg({ certFile: a.certFile, keyFile: a.keyFile }), silentLogger, { refreshIntervalMs: 50 });
  t.equal(h.mode, 'tls');
  h.close();
  h.close();
  const i = createServerCredentials(cfg({}), silentLogger);
  t.equal(i.mode, 'insecure');
  i.close();
});

t.test('subjectAltName strings are split, including quoted values', async (t) => {
  t.same(parseSubjectAltNames('DNS:a.example, URI:spiffe://x/y, IP Address:127.0.0.1'), [
    { type: 'DNS', value: 'a.example' },
    { type: 'URI', value: 'spiffe://x/y' },
    { type: 'IP Address', value: '127.0.0.1' },
  ]);
  t.same(parseSubjectAltNames('URI:"spiffe://x/a, b", DNS:c'), [
    { type: 'URI', value: 'spiffe://x/a, b' },
    { type: 'DNS', value: 'c' },
  ]);
  t.same(parseSubjectAltNames(undefined), []);
});
