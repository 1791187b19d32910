import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { WarmpoolClient, WarmpoolClientError } from '../src/client/index.js';
import { haproxyVersion, startHaproxy } from './kit/haproxy.js';
import { startTestDaemon, simSpec } from './kit/daemon.js';
import { startSim } from './kit/sim.js';
import { freePort } from './kit/sshd.js';
import { makeTestPki } from './kit/tls.js';
import { waitFor } from './kit/wait.js';

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
  const metricsPort = td.daemon.metricsAddress.split(':').pop()!;
  // One replica; the other two lines point at loopback addresses where nothing listens (DOWN).
  const lb = async (options?: string) => {
    const h = await startHaproxy({
      WARMPOOL_LB_LISTEN: `127.0.0.1:${await freePort()}`,
      WARMPOOL_LB_STATS_LISTEN: `127.0.0.1:${await freePort()}`,
      WARMPOOL_HEALTH_PORT: metricsPort,
      WARMPOOL_CHECK_INTER: '200ms',
      WARMPOOL_REPLICA_0: td.daemon.grpcAddress,
      WARMPOOL_REPLICA_1: `127.0.0.2:${await freePort()}`,
      WARMPOOL_REPLICA_2: `127.0.0.3:${await freePort()}`,
      ...(options ? { WARMPOOL_SERVER_OPTIONS: options } : {}),
    });
    t.teardown(() => h.stop());
    // The health check on the metrics port stays cleartext, TLS options or not.
    await waitFor(async () => (await h.servers()).find((s) => s.name === 'w0')?.status === 'UP', 'HAProxy to see w0 UP', 10_000)
      .catch((e: Error) => { throw new Error(`${e.message}\n${h.out()}`); });
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
