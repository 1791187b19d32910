/**
 * Caller authentication over a REAL grpc-js server and client on 127.0.0.1: TLS, mTLS (required
 * and optional), bearer tokens, token and certificate rotation, policy enforcement via guard().
 */
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAuth, sha256, type AuthLayer } from '../src/auth/index.js';
import { isWarmpoolError } from '../src/core/errors.js';
import { silentLogger } from '../src/core/logger.js';
import type { AppConfig } from '../src/config/types.js';
import { issueCert, makeCa, type Ca, type IssuedCert } from './kit/certs.js';
import { grpcConfig } from './kit/grpc-config.js';

const raw = (b: Buffer): Buffer => b;
const PATH = '/warmpool.test.AuthProbe/Whoami';
const service: grpc.ServiceDefinition = {
  Whoami: {
    path: PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
    originalName: 'whoami',
  },
};


/** Start a server whose one RPC authenticates + authorizes like a real handler and echoes the caller. */
async function startServer(tt: Tap, cfg: AppConfig['grpc'], opts: { certRefreshMs?: number } = {}): Promise<{ port: number; auth: AuthLayer }> {
  const auth = createAuth(cfg, silentLogger, { fileRecheckMs: 0, ...opts });
  const server = new grpc.Server();
  server.addService(service, {
    Whoami(call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) {
      try {
        // Request body: "device command" (one command) for the policy check.
        const [device = 'core-sw1', ...cmd] = call.request.toString().split(' ');
        const caller = auth.guard(call, { rpc: 'Run', device: { id: device, labels: {}, platform: 'cisco_ios', mode: 'shell' }, commands: [cmd.join(' ') || 'show version'] });
        cb(null, Buffer.from(JSON.stringify(caller)));
      } catch (err) {
        const code = isWarmpoolError(err, 'UNAUTHENTICATED')
          ? grpc.status.UNAUTHENTICATED
          : isWarmpoolError(err, 'PERMISSION_DENIED')
            ? grpc.status.PERMISSION_DENIED
            : grpc.status.INTERNAL;
        cb({ code, details: (err as Error).message });
      }
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', auth.credentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  tt.teardown(() => {
    server.forceShutdown();
    auth.close();
  });
  return { port, auth };
}

interface Tap {
  teardown(fn: () => void): void;
}

interface CallResult {
  code: grpc.status;
  details: string;
  caller?: { name: string; via: string };
  /** The server certificate this connection saw (TLS only). */
  serverCert?: PeerCertificate;
}

/** One call on a fresh connection (own subchannel pool), then the client is closed. */
function call(
  port: number,
  opts: { ca?: Buffer; client?: IssuedCert; token?: string; authorization?: string; body?: string } = {},
): Promise<CallResult> {
  let serverCert: PeerCertificate | undefined;
  const creds = opts.ca
    ? grpc.credentials.createSsl(opts.ca, opts.client?.key ?? null, opts.client?.cert ?? null, {
        checkServerIdentity: (host, cert) => {
          serverCert = cert;
          return checkServerIdentity(host, cert);
        },
      })
    : grpc.credentials.createInsecure();
  const client = new grpc.Client(`127.0.0.1:${port}`, creds, { 'grpc.use_local_subchannel_pool': 1 });
  const md = new grpc.Metadata();
  if (opts.token !== undefined) md.set('authorization', `Bearer ${opts.token}`);
  if (opts.authorization !== undefined) md.set('authorization', opts.authorization);
  return new Promise((resolve) => {
    client.makeUnaryRequest(PATH, raw, raw, Buffer.from(opts.body ?? ''), md, { deadline: Date.now() + 5000 }, (err, res) => {
      client.close();
      if (err) resolve({ code: err.code, details: err.details, ...(serverCert ? { serverCert } : {}) });
      else resolve({ code: grpc.status.OK, details: '', caller: JSON.parse(res!.toString()), ...(serverCert ? { serverCert } : {}) });
    });
  });
}

// ---- one PKI for the whole file -------------------------------------------------------------
const dir = t.testdir({});
const ca: Ca = makeCa(dir, 'ca');
const otherCa: Ca = makeCa(dir, 'other-ca');
const serverCert = issueCert(ca, 'server', { cn: 'localhost', sans: ['DNS:localhost', 'IP:127.0.0.1'], usage: 'server' });
const billing = issueCert(ca, 'billing', { cn: 'billing-cn', sans: ['URI:spiffe://test/sa/billing-svc', 'DNS:billing.test'], usage: 'client' });
const dnsOnly = issueCert(ca, 'dns-only', { cn: 'dns-cn', sans: ['DNS:ops-1.test'], usage: 'client' });
const cnOnly = issueCert(ca, 'cn-only', { cn: 'ops-cn', usage: 'client' });
const foreign = issueCert(otherCa, 'foreign', { cn: 'intruder', sans: ['URI:spiffe://test/sa/billing-svc'], usage: 'client' });
const expired = issueCert(ca, 'expired', { cn: 'old', sans: ['URI:spiffe://test/sa/billing-svc'], usage: 'client', expired: true });
const caPem = readFileSync(ca.certFile);

const TOKEN_BILLING = 'tok-billing-0123456789abcdef';
const TOKEN_OPS = 'tok-ops-0123456789abcdef-plain';
const tokensFile = join(dir, 'tokens.yaml');
writeFileSync(
  tokensFile,
  `callers:\n  - name: billing-svc\n    tokenSha256: ${sha256(TOKEN_BILLING).toString('hex')}\n  - name: ops-1\n    token: "${TOKEN_OPS}"\n`,
);

const tlsFiles = { certFile: serverCert.certFile, keyFile: serverCert.keyFile };

t.test('no TLS and no tokens: every call is the anonymous caller', async (t) => {
  const { port } = await startServer(t, grpcConfig({}));
  const r = await call(port);
  t.equal(r.code, grpc.status.OK);
  t.same(r.caller, { name: 'anonymous', via: 'none' });
});

t.test('required mTLS (client CA, no tokens file)', async (t) => {
  const { port, auth } = await startServer(t, grpcConfig({ tls: { ...tlsFiles, clientCaFile: ca.certFile } }));
  t.equal(auth.mode, 'mtls');

  t.test('a certificate from the client CA names the caller by its URI SAN', async (t) => {
    const r = await call(port, { ca: caPem, client: billing });
    t.equal(r.code, grpc.status.OK, r.details);
    t.same(r.caller, { name: 'spiffe://test/sa/billing-svc', via: 'mtls' });
    t.equal(r.serverCert?.fingerprint256, serverCert.fingerprint256, 'client saw the configured server certificate');
  });
  t.test('without a URI SAN the DNS SAN names the caller', async (t) => {
    const r = await call(port, { ca: caPem, client: dnsOnly });
    t.same(r.caller, { name: 'ops-1.test', via: 'mtls' });
  });
  t.test('without any SAN the subject CN names the caller', async (t) => {
    const r = await call(port, { ca: caPem, client: cnOnly });
    t.same(r.caller, { name: 'ops-cn', via: 'mtls' });
  });
  // The TLS handshake fails, so grpc-js cannot send a status: the client sees UNAVAILABLE.
  for (const [name, client] of [['no client certificate', undefined], ['a certificate from another CA', foreign], ['an expired certificate', expired]] as const) {
    t.test(`${name}: the handshake is refused and the client sees UNAVAILABLE`, async (t) => {
      const r = await call(port, { ca: caPem, ...(client ? { client } : {}) });
      t.equal(r.code, grpc.status.UNAVAILABLE, `${grpc.status[r.code]}: ${r.details}`);
      t.equal(r.caller, undefined);
    });
  }
  t.test('a plaintext client cannot talk to the TLS port', async (t) => {
    const r = await call(port);
    t.equal(r.code, grpc.status.UNAVAILABLE, `${grpc.status[r.code]}: ${r.details}`);
  });
});

t.test('optional mTLS (client CA and tokens file): a token or a verified certificate is needed', async (t) => {
  const { port, auth } = await startServer(t, grpcConfig({ tls: { ...tlsFiles, clientCaFile: ca.certFile }, auth: { tokensFile } }));
  t.equal(auth.mode, 'mtls-optional');

  const unauth: Array<[string, Parameters<typeof call>[1]]> = [
    ['neither certificate nor token', { ca: caPem }],
    ['a certificate from another CA and no token', { ca: caPem, client: foreign }],
    ['an expired certificate and no token', { ca: caPem, client: expired }],
    ['a valid certificate but a wrong token', { ca: caPem, client: billing, token: 'wrong-token-value-123' }],
  ];
  for (const [name, opts] of unauth) {
    t.test(`${name}: UNAUTHENTICATED`, async (t) => {
      const r = await call(port, opts);
      t.equal(r.code, grpc.status.UNAUTHENTICATED, `${grpc.status[r.code]}: ${r.details}`);
      t.notMatch(r.details, 'wrong-token-value-123');
    });
  }
  t.test('the missing-credentials message says what to send', async (t) => {
    const r = await call(port, { ca: caPem });
    t.match(r.details, /authorization: Bearer <token>.*client certificate/);
  });
  t.test('a valid certificate alone names the caller', async (t) => {
    const r = await call(port, { ca: caPem, client: billing });
    t.same(r.caller, { name: 'spiffe://test/sa/billing-svc', via: 'mtls' });
  });
  t.test('a valid token without a certificate names the caller', async (t) => {
    const r = await call(port, { ca: caPem, token: TOKEN_BILLING });
    t.same(r.caller, { name: 'billing-svc', via: 'token' });
  });
  t.test('a token takes precedence over a certificate', async (t) => {
    const r = await call(port, { ca: caPem, client: billing, token: TOKEN_OPS });
    t.same(r.caller, { name: 'ops-1', via: 'token' });
  });
});

t.test('TLS with bearer tokens', async (t) => {
  const { port, auth } = await startServer(t, grpcConfig({ tls: tlsFiles, auth: { tokensFile } }));
  t.equal(auth.mode, 'tls');

  t.test('a hashed token names its caller', async (t) => {
    const r = await call(port, { ca: caPem, token: TOKEN_BILLING });
    t.same(r.caller, { name: 'billing-svc', via: 'token' });
  });
  t.test('a plaintext-configured token names its caller', async (t) => {
    const r = await call(port, { ca: caPem, token: TOKEN_OPS });
    t.same(r.caller, { name: 'ops-1', via: 'token' });
  });
  t.test('no token: UNAUTHENTICATED saying what is missing', async (t) => {
    const r = await call(port, { ca: caPem });
    t.equal(r.code, grpc.status.UNAUTHENTICATED);
    t.match(r.details, "authorization: Bearer <token>");
  });
  t.test('a wrong token: UNAUTHENTICATED, and the token is not echoed', async (t) => {
    const bad = `${TOKEN_BILLING}x`;
    const r = await call(port, { ca: caPem, token: bad });
    t.equal(r.code, grpc.status.UNAUTHENTICATED);
    t.notMatch(r.details, bad);
    t.notMatch(r.details, 'tok-');
  });
  t.test('a non-Bearer authorization scheme: UNAUTHENTICATED without echoing it', async (t) => {
    const r = await call(port, { ca: caPem, authorization: `Basic ${TOKEN_BILLING}` });
    t.equal(r.code, grpc.status.UNAUTHENTICATED);
    t.notMatch(r.details, TOKEN_BILLING);
  });
  t.test('the Bearer scheme is case-insensitive', async (t) => {
    const r = await call(port, { ca: caPem, authorization: `bearer ${TOKEN_BILLING}` });
    t.same(r.caller, { name: 'billing-svc', via: 'token' });
  });
});

t.test('a rotated tokens file is picked up without restart', async (t) => {
  const file = join(dir, 'tokens-rotating.yaml');
  const oldToken = 'old-token-0123456789abcdef';
  const newToken = 'new-token-0123456789abcdef';
  writeFileSync(file, `callers:\n  - { name: svc, tokenSha256: ${sha256(oldToken).toString('hex')} }\n`);
  const { port } = await startServer(t, grpcConfig({ auth: { tokensFile: file } }));
  t.same((await call(port, { token: oldToken })).caller, { name: 'svc', via: 'token' });
  // Replace atomically, as a Kubernetes Secret mount does.
  writeFileSync(`${file}.tmp`, `callers:\n  - { name: svc2, tokenSha256: ${sha256(newToken).toString('hex')} }\n`);
  renameSync(`${file}.tmp`, file);
  const after = await call(port, { token: oldToken });
  t.equal(after.code, grpc.status.UNAUTHENTICATED, 'the old token is revoked');
  t.same((await call(port, { token: newToken })).caller, { name: 'svc2', via: 'token' });
});

t.test('policy decisions reach the client as PERMISSION_DENIED with the reason', async (t) => {
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(
    policyFile,
    'rules:\n  - callers: ["billing-svc"]\n    rpcs: [Run]\n    devices: { ids: ["core-*"] }\n    presets: [read-only]\n',
  );
  const { port } = await startServer(t, grpcConfig({ auth: { tokensFile, policyFile } }));
  t.same((await call(port, { token: TOKEN_BILLING, body: 'core-sw1 show version' })).caller, { name: 'billing-svc', via: 'token' });
  const conf = await call(port, { token: TOKEN_BILLING, body: 'core-sw1 reload' });
  t.equal(conf.code, grpc.status.PERMISSION_DENIED);
  t.equal(conf.details, "caller billing-svc may not run 'reload' on core-sw1: denied by rule 1 (preset read-only: \"reload\" is a command that changes the device or the session)");
  const other = await call(port, { token: TOKEN_OPS, body: 'core-sw1 show version' });
  t.equal(other.code, grpc.status.PERMISSION_DENIED);
  t.equal(other.details, 'no rule allows caller ops-1 to call Run on core-sw1');
});

t.test('a replaced server certificate is served on new connections without restart', async (t) => {
  const certFile = join(dir, 'rot-server.pem');
  const keyFile = join(dir, 'rot-server.key');
  writeFileSync(certFile, serverCert.cert);
  writeFileSync(keyFile, serverCert.key);
  const { port } = await startServer(t, grpcConfig({ tls: { certFile, keyFile } }), { certRefreshMs: 100 });
  const before = await call(port, { ca: caPem });
  t.equal(before.code, grpc.status.OK, before.details);
  t.equal(before.serverCert?.fingerprint256, serverCert.fingerprint256);

  const renewed = issueCert(ca, 'server-renewed', { cn: 'localhost', sans: ['DNS:localhost', 'IP:127.0.0.1'], usage: 'server' });
  t.not(renewed.fingerprint256, serverCert.fingerprint256);
  // Key first, then certificate, each replaced atomically (rename).
  writeFileSync(`${keyFile}.tmp`, renewed.key);
  renameSync(`${keyFile}.tmp`, keyFile);
  writeFileSync(`${certFile}.tmp`, renewed.cert);
  renameSync(`${certFile}.tmp`, certFile);

  const started = Date.now();
  let seen: string | undefined;
  for (let i = 0; i < 50 && Date.now() - started < 5000; i++) {
    const r = await call(port, { ca: caPem });
    seen = r.serverCert?.fingerprint256;
    if (r.code === grpc.status.OK && seen === renewed.fingerprint256) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  t.equal(seen, renewed.fingerprint256, `new connections see the renewed certificate (after ${Date.now() - started} ms)`);
  const after = await call(port, { ca: caPem });
  t.equal(after.code, grpc.status.OK, 'calls succeed with the renewed certificate');
});

t.test('a half-replaced certificate (key and cert not matching) is not installed; the previous one keeps serving', async (t) => {
  const certFile = join(dir, 'half-server.pem');
  const keyFile = join(dir, 'half-server.key');
  writeFileSync(certFile, serverCert.cert);
  writeFileSync(keyFile, serverCert.key);
  const { port } = await startServer(t, grpcConfig({ tls: { certFile, keyFile } }), { certRefreshMs: 50 });
  const renewed = issueCert(ca, 'server-half', { cn: 'localhost', sans: ['DNS:localhost', 'IP:127.0.0.1'], usage: 'server' });
  writeFileSync(`${keyFile}.tmp`, renewed.key);
  renameSync(`${keyFile}.tmp`, keyFile); // new key, old certificate: a mismatched pair
  await new Promise((res) => setTimeout(res, 300)); // several refresh intervals
  const during = await call(port, { ca: caPem });
  t.equal(during.code, grpc.status.OK, `still serving: ${during.details}`);
  t.equal(during.serverCert?.fingerprint256, serverCert.fingerprint256, 'with the previous certificate');
  writeFileSync(`${certFile}.tmp`, renewed.cert);
  renameSync(`${certFile}.tmp`, certFile);
  const started = Date.now();
  let seen: string | undefined;
  for (let i = 0; i < 50 && Date.now() - started < 5000 && seen !== renewed.fingerprint256; i++) {
    await new Promise((res) => setTimeout(res, 50));
    seen = (await call(port, { ca: caPem })).serverCert?.fingerprint256;
  }
  t.equal(seen, renewed.fingerprint256, 'the completed pair is installed');
});

t.test('a replaced client CA file is applied to new connections without restart', async (t) => {
  const clientCaFile = join(dir, 'rot-client-ca.pem');
  writeFileSync(clientCaFile, caPem);
  const { port } = await startServer(t, grpcConfig({ tls: { ...tlsFiles, clientCaFile } }), { certRefreshMs: 50 });
  t.equal((await call(port, { ca: caPem, client: billing })).code, grpc.status.OK);
  t.equal((await call(port, { ca: caPem, client: foreign })).code, grpc.status.UNAVAILABLE);
  writeFileSync(`${clientCaFile}.tmp`, readFileSync(otherCa.certFile));
  renameSync(`${clientCaFile}.tmp`, clientCaFile);
  const started = Date.now();
  let r = await call(port, { ca: caPem, client: foreign });
  for (let i = 0; i < 50 && Date.now() - started < 5000 && r.code !== grpc.status.OK; i++) {
    await new Promise((res) => setTimeout(res, 50));
    r = await call(port, { ca: caPem, client: foreign });
  }
  t.same(r.caller, { name: 'spiffe://test/sa/billing-svc', via: 'mtls' }, 'a certificate from the new CA is accepted');
  t.equal((await call(port, { ca: caPem, client: billing })).code, grpc.status.UNAVAILABLE, 'one from the old CA is refused');
});
