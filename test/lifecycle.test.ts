import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startSimDevice } from '../src/sim/ssh-device.js';
import { waitFor } from './kit/wait.js';
import { loadProto } from '../src/api/proto.js';
import { freePort } from './kit/sshd.js';
import { ROOT, runWarmpool as run } from './kit/proc.js';
/** The daemon as users run it: a separate process, driven by signals (helpers/proc.ts). */

t.test('invalid configuration exits 2 naming the key', async (t) => {
  const dir = t.testdir({
    'unknown.yaml': 'grpc:\n  lisen: "127.0.0.1:1"\n',
    'wrongtype.yaml': 'defaults:\n  pool:\n    max: many\n',
    'baddev.yaml': 'inventory:\n  file: devices.yaml\n',
    'devices.yaml': 'devices:\n  - id: sw1\n    host: 127.0.0.1\n    platform: cisco_ios\n    username: u\n    password: "s3cr3t-value"\n',
  });
  for (const [file, key] of [['unknown.yaml', 'lisen'], ['wrongtype.yaml', 'defaults.pool.max'], ['missing.yaml', 'missing.yaml'], ['baddev.yaml', 'hostKey']] as const) {
    const p = run(['serve', '--config', join(dir, file)]);
    t.equal(await p.exited, 2, `${file}: exit 2`);
    t.match(p.out(), key, `${file}: message names ${key}`);
    t.notMatch(p.out(), /s3cr3t-value/, 'no secret in the message');
  }
});

t.test('serve: health, reflection, metrics; SIGTERM drains an in-flight call and exits 0', async (t) => {
  const sim = await startSimDevice({ platform: 'cisco_ios', hostname: 'r1', perCommandLatencyMs: 0 });
  t.teardown(() => sim.close());
  const dir = t.testdir({});
  writeFileSync(join(dir, 'devices.yaml'), [
    'devices:',
    '  - id: r1',
    `    host: ${sim.host}`,
    `    port: ${sim.port}`,
    '    platform: cisco_ios',
    `    username: ${sim.username}`,
    `    password: "${sim.password}"`,
    `    hostKey: { fingerprints: ["${sim.hostKeyFingerprint}"] }`,
  ].join('\n'));
  const [gport, mport] = [await freePort(), await freePort()];
  writeFileSync(join(dir, 'warmpool.yaml'), `grpc: { listen: "127.0.0.1:${gport}" }\nmetrics: { listen: "127.0.0.1:${mport}" }\nshutdown: { graceMs: 10000 }\ninventory: { file: devices.yaml }\n`);
  const p = run(['serve', '--config', join(dir, 'warmpool.yaml')]);
  t.teardown(() => p.child.kill('SIGKILL'));
  await waitFor(async () => (await fetch(`http://127.0.0.1:${mport}/readyz`).catch(() => null))?.status === 200, 'readyz');

  const creds = grpc.credentials.createInsecure();
  const addr = `127.0.0.1:${gport}`;
  // health SERVING over grpc.health.v1
  const healthDef = (await import('grpc-health-check')).service;
  const Health = grpc.makeGenericClientConstructor(healthDef as grpc.ServiceDefinition, 'Health');
  const health = new Health(addr, creds) as unknown as { check(req: object, cb: (e: Error | null, r: { status: string | number }) => void): void; close(): void };
  const hs = await new Promise<{ status: string | number }>((res, rej) => health.check({ service: '' }, (e, r) => (e ? rej(e) : res(r))));
  t.ok(hs.status === 'SERVING' || hs.status === 1, 'health SERVING');
  health.close();

  // reflection lists the three services
  const { loadSync } = await import('@grpc/proto-loader');
  const reflDir = join(ROOT, 'node_modules/@grpc/reflection/build/proto/grpc/reflection/v1alpha/reflection.proto');
  const rdef = loadSync(reflDir, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const Refl = (grpc.loadPackageDefinition(rdef) as any).grpc.reflection.v1alpha.ServerReflection;
  const refl = new Refl(addr, creds);
  const services = await new Promise<string[]>((res, rej) => {
    const call = refl.ServerReflectionInfo();
    call.on('data', (d: any) => { res((d.list_services_response?.service ?? []).map((s: any) => s.name)); call.end(); });
    call.on('error', rej);
    call.write({ list_services: '' });
  });
  refl.close();
  for (const s of ['warmpool.v1.DeviceProxy', 'warmpool.v1.Inventory', 'warmpool.v1.Admin']) t.ok(services.includes(s), `reflection lists ${s}`);

  const metrics = await (await fetch(`http://127.0.0.1:${mport}/metrics`)).text();
  t.match(metrics, /warmpool_sessions\{/);
  t.match(metrics, /process_cpu_user_seconds_total/);
  t.notMatch(metrics, new RegExp(sim.password), 'no password in metrics');

  // An in-flight call (a slow command) survives SIGTERM; new calls are refused; exit 0.
  sim.setFault({});
  const v1 = loadProto().grpcObj.warmpool.v1;
  const proxy = new v1.DeviceProxy(addr, creds);
  t.teardown(() => proxy.close());
  const inflight = new Promise<any>((res, rej) => proxy.Run({ device: 'r1', commands: ['sleep 1'] }, (e: any, r: any) => (e ? rej(e) : res(r))));
  await waitFor(() => (sim.stats.commandCounts.get('sleep 1') ?? 0) > 0, 'command to start');
  p.child.kill('SIGTERM');
  await waitFor(async () => (await fetch(`http://127.0.0.1:${mport}/readyz`).catch(() => null))?.status !== 200, 'readyz false');
  const refused = await new Promise<any>((res) => proxy.Run({ device: 'r1', commands: ['show clock'] }, (e: any) => res(e)));
  t.equal(refused?.code, grpc.status.UNAVAILABLE, 'new calls during drain get UNAVAILABLE');
  const r = await inflight;
  t.equal(r.results[0].failed, false, 'the in-flight call finished');
  t.equal(await p.exited, 0, 'exit 0 after drain');
  t.notMatch(p.out(), new RegExp(sim.password), 'no password in logs');
});

t.test('a second SIGTERM exits at once', async (t) => {
  const sim = await startSimDevice({ platform: 'cisco_ios' });
  t.teardown(() => sim.close());
  const [gport, mport] = [await freePort(), await freePort()];
  const dir = t.testdir({
    'devices.yaml': `devices:\n  - id: r1\n    host: ${sim.host}\n    port: ${sim.port}\n    platform: cisco_ios\n    username: ${sim.username}\n    password: "${sim.password}"\n    hostKey: { fingerprints: ["${sim.hostKeyFingerprint}"] }\n`,
  });
  const p = run(['serve', '--grpc.listen', `127.0.0.1:${gport}`, '--metrics.listen', `127.0.0.1:${mport}`, '--shutdown.graceMs', '60000', '--inventory.file', join(dir, 'devices.yaml')]);
  t.teardown(() => p.child.kill('SIGKILL'));
  await waitFor(async () => (await fetch(`http://127.0.0.1:${mport}/readyz`).catch(() => null))?.status === 200, 'readyz');
  const proxy = new (loadProto().grpcObj.warmpool.v1.DeviceProxy)(`127.0.0.1:${gport}`, grpc.credentials.createInsecure());
  t.teardown(() => proxy.close());
  proxy.Run({ device: 'r1', commands: ['hang'] }, () => {});
  await waitFor(() => (sim.stats.commandCounts.get('hang') ?? 0) > 0, 'hang to start');
  const t0 = Date.now();
  p.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  p.child.kill('SIGTERM');
  const code = await p.exited;
  t.not(code, null, 'exited by itself');
  t.ok(Date.now() - t0 < 10_000, 'did not wait for the 60 s grace period');
});
