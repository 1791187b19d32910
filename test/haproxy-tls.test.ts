import t from 'tap';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { parseAllDocuments } from 'yaml';
import { WarmpoolClient, WarmpoolClientError } from '../src/client/index.js';
import { haproxyVersion, oneReplicaEnv, startHaproxy, w0Up } from './kit/haproxy.js';
import { startTestDaemon, simSpec } from './kit/daemon.js';
import { startSim } from './kit/sim.js';
import { makeTestPki } from './kit/tls.js';

/**
 * The shipped deploy/haproxy/haproxy.cfg in front of a replica that requires mTLS
 * (grpc.tls.clientCaFile), as the gateway manifests run it: WARMPOOL_SERVER_OPTIONS gives the
 * server lines HAProxy's client certificate, with no edit to the file. Callers speak h2c to
 * HAProxy here; the hop to the replica is TLS with a client certificate.
 */
t.test('WARMPOOL_SERVER_OPTIONS carries HAProxy to an mTLS replica; without it the replica refuses the hop', async (t) => {
  if (!haproxyVersion()) throw new Error('haproxy is not installed: run scripts/install-test-deps.sh (Debian package haproxy)');
  const pki = makeTestPki(t.testdir());
  // HAProxy's `crt` is one PEM file with the certificate and its key.
  const clientPem = join(pki.dir, 'haproxy-client.pem');
  writeFileSync(clientPem, Buffer.concat([pki.client.cert, readFileSync(pki.client.keyFile)]));
  const sim = await startSim(t, { platform: 'cisco_ios' });
  const td = await startTestDaemon({
    argv: ['--grpc.tls.certFile', pki.server.certFile, '--grpc.tls.keyFile', pki.server.keyFile, '--grpc.tls.clientCaFile', pki.caFile],
    devices: [simSpec(sim, 'r1')],
  });
  t.teardown(() => td.stop());
  // One replica; the other two lines point at loopback addresses where nothing listens (DOWN).
  const lb = async (options?: string) => {
    const h = await startHaproxy({
      ...(await oneReplicaEnv(td.daemon.grpcAddress, td.daemon.metricsAddress)),
      ...(options ? { WARMPOOL_SERVER_OPTIONS: options } : {}),
    });
    t.teardown(() => h.stop());
    // The health check on the metrics port stays cleartext, TLS options or not.
    await w0Up(h);
    const client = new WarmpoolClient(h.address, { timeoutMs: 10_000, retries: 0 });
    t.teardown(() => client.close());
    return client;
  };

  const tls = await lb(`ssl verify required ca-file ${pki.caFile} crt ${clientPem} alpn h2`);
  const res = await tls.run('r1', ['show version']);
  t.equal(res.results?.[0]?.failed, false, 'the call went through HAProxy to the mTLS replica and ran');
  t.match(res.results?.[0]?.output ?? '', /Cisco IOS/, 'with the device\'s output');

  const plain = await lb();
  const err = await plain.run('r1', ['show version']).then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof WarmpoolClientError, 'without the options the call fails');
  t.equal((err as WarmpoolClientError).code, grpc.status.UNAVAILABLE, 'as UNAVAILABLE: HAProxy could not speak h2c to a TLS replica');
});

/**
 * What deploy/kubernetes/gateway-statefulset runs: its copy of haproxy.cfg with the environment of
 * balancer.yaml's HAProxy container, its TLS paths pointed at test certificates laid out as its
 * Secret volumes lay them out (cert.pem, cert.pem.key, ca.crt). Only addresses and the check
 * interval are replaced (loopback, a fast check).
 */
t.test('the balancer manifest\'s environment on its copy of haproxy.cfg: callers need a client certificate, the mTLS replica gets HAProxy\'s', async (t) => {
  if (!haproxyVersion()) throw new Error('haproxy is not installed: run scripts/install-test-deps.sh (Debian package haproxy)');
  const overlay = join(import.meta.dirname, '..', 'deploy', 'kubernetes', 'gateway-statefulset');
  const deployment = parseAllDocuments(readFileSync(join(overlay, 'balancer.yaml'), 'utf8')).map((d) => d.toJS()).find((o) => o?.kind === 'Deployment');
  const container = deployment.spec.template.spec.containers.find((c: { name: string }) => c.name === 'haproxy');
  const pki = makeTestPki(t.testdir());
  // The Secret volumes' files: the balancer's server certificate for callers, its client certificate for the replicas.
  const tlsDir = join(pki.dir, 'etc-haproxy-tls');
  for (const [sub, pair] of [['callers', pki.server], ['replicas', pki.client]] as const) {
    mkdirSync(join(tlsDir, sub), { recursive: true });
    writeFileSync(join(tlsDir, sub, 'cert.pem'), pair.cert);
    writeFileSync(join(tlsDir, sub, 'cert.pem.key'), pair.key);
    writeFileSync(join(tlsDir, sub, 'ca.crt'), pki.ca);
  }
  const manifestEnv: Record<string, string> = {};
  for (const e of container.env as Array<{ name: string; value?: string }>) {
    if (e.value !== undefined) manifestEnv[e.name] = e.value.replaceAll('/etc/haproxy/tls/', `${tlsDir}/`);
  }
  t.match(manifestEnv.WARMPOOL_LB_BIND_OPTIONS, /verify required/, 'the manifest requires callers\' certificates');

  const sim = await startSim(t, { platform: 'cisco_ios' });
  const td = await startTestDaemon({
    argv: ['--grpc.tls.certFile', pki.server.certFile, '--grpc.tls.keyFile', pki.server.keyFile, '--grpc.tls.clientCaFile', pki.caFile],
    devices: [simSpec(sim, 'r1')],
  });
  t.teardown(() => td.stop());
  const replaced = {
    ...(await oneReplicaEnv(td.daemon.grpcAddress, td.daemon.metricsAddress)),
  };
  for (const name of Object.keys(replaced)) t.ok(name in manifestEnv, `the manifest sets ${name}, replaced here`);
  const h = await startHaproxy({ ...manifestEnv, ...replaced }, join(overlay, 'haproxy.cfg'));
  t.teardown(() => h.stop());
  await w0Up(h);

  const withCert = new WarmpoolClient(h.address, { rootCerts: pki.ca, privateKey: pki.client.key, certChain: pki.client.cert, timeoutMs: 10_000, retries: 0 });
  t.teardown(() => withCert.close());
  const res = await withCert.run('r1', ['show version']);
  t.equal(res.results?.[0]?.failed, false, 'a caller with a certificate reached the mTLS replica through HAProxy');
  t.match(res.results?.[0]?.output ?? '', /Cisco IOS/);

  const noCert = new WarmpoolClient(h.address, { rootCerts: pki.ca, timeoutMs: 10_000, retries: 0 });
  t.teardown(() => noCert.close());
  const refused = await noCert.run('r1', ['show version']).then(() => undefined, (e: unknown) => e);
  t.ok(refused instanceof WarmpoolClientError, 'a caller without a certificate is refused');
  t.equal((refused as WarmpoolClientError).code, grpc.status.UNAVAILABLE, 'at the TLS handshake');

  const cleartext = new WarmpoolClient(h.address, { timeoutMs: 10_000, retries: 0 });
  t.teardown(() => cleartext.close());
  const plain = await cleartext.run('r1', ['show version']).then(() => undefined, (e: unknown) => e);
  t.equal((plain as WarmpoolClientError).code, grpc.status.UNAVAILABLE, 'a cleartext caller is refused');
  t.equal(sim.stats.commandCounts.get('show version'), 1, 'only the certified caller\'s command reached the device');
});
