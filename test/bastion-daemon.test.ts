/**
 * Bastions end to end: the daemon (test/kit/daemon.ts) reads an inventory file with a
 * `bastions:` list, a real OpenSSH sshd is the jump host, simulated devices sit behind it, and a
 * real gRPC client calls Run, GetPoolStats, GetDevice and PutDevice.
 */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import t, { type Test } from 'tap';
import { loginsOf, startBastionSshd } from './kit/bastion.js';
import { m, startTestDaemon, type TestDaemon } from './kit/daemon.js';
import { startSim, type SimDevice } from './kit/sim.js';
import type { Sshd } from './kit/sshd.js';
import { promtool } from './kit/metrics-fixtures.js';
import type { RunResponse__Output } from '../src/gen/warmpool/v1/RunResponse.js';
import type { GetPoolStatsResponse__Output } from '../src/gen/warmpool/v1/GetPoolStatsResponse.js';
import type { Device__Output } from '../src/gen/warmpool/v1/Device.js';

function inventoryYaml(sshd: Sshd, sims: Array<[string, SimDevice]>, bastionExtra = ''): string {
  const lines = [
    'bastions:',
    '  - id: jump1',
    `    host: ${sshd.host}`,
    `    port: ${sshd.port}`,
    `    username: ${sshd.username}`,
    `    privateKeyFile: ${sshd.clientKeyPath}`,
    `    hostKey: { fingerprints: ["${sshd.hostKeyFingerprint}"] }`,
    ...(bastionExtra ? [`    ${bastionExtra}`] : []),
    'devices:',
  ];
  for (const [id, sim] of sims) {
    lines.push(
      `  - id: ${id}`, `    host: ${sim.host}`, `    port: ${sim.port}`, `    platform: ${sim.platform}`,
      `    username: ${sim.username}`, `    password: ${sim.password}`,
      `    hostKey: { fingerprints: ["${sim.hostKeyFingerprint}"] }`, '    via: jump1',
      '    ssh: { connectTimeoutMs: 4000 }',
    );
  }
  return `${lines.join('\n')}\n`;
}

interface Setup {
  d: TestDaemon;
  sshd: Sshd;
  sims: Array<[string, SimDevice]>;
  file: string;
}

async function setup(t: Test, n: number): Promise<Setup> {
  const sshd = await startBastionSshd();
  t.teardown(() => sshd.stop());
  const sims: Array<[string, SimDevice]> = [];
  for (let i = 0; i < n; i++) sims.push([`edge${i}`, await startSim(t, { platform: 'linux', hostname: `edge${i}` })]);
  const dir = mkdtempSync(join(tmpdir(), 'warmpool-bastion-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'devices.yaml');
  writeFileSync(file, inventoryYaml(sshd, sims));
  const d = await startTestDaemon({ argv: ['--inventory.file', file, '--breaker.failureThreshold', '50'] });
  t.teardown(() => d.stop());
  return { d, sshd, sims, file };
}

function run(d: TestDaemon, device: string, commands: string[], deadlineMs = 10_000): Promise<RunResponse__Output> {
  return d.call(m(d.proxy, 'Run'), { device, commands }, { deadlineMs });
}

function stats(d: TestDaemon, devices: string[] = []): Promise<GetPoolStatsResponse__Output> {
  return d.call(m(d.admin, 'GetPoolStats'), { devices });
}

async function failure(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('expected the call to fail');
}

t.test('Run through a bastion over gRPC: one bastion login, PoolStats protocol "bastion", Device.via', async (t) => {
  const { d, sshd } = await setup(t, 6);
  const replies = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => run(d, `edge${i}`, ['hostname'])));
  replies.forEach((r, i) => t.match(r.results[0]!.output, new RegExp(`edge${i}`)));
  t.equal(loginsOf(sshd), 1, 'six devices, one bastion login');

  const all = await stats(d);
  const bastion = all.pools.find((p) => p.protocol === 'bastion');
  t.match(bastion, { device: 'jump1', protocol: 'bastion', busy: 1, created_total: '1', acquired_total: '6', circuit: 'closed', max: 1 });
  const only = await stats(d, ['jump1']);
  t.same(only.pools.map((p) => [p.device, p.protocol]), [['jump1', 'bastion']], 'a bastion id filters GetPoolStats');

  const text = await d.daemon.metrics.scrape();
  t.match(text, /warmpool_bastion_channels\{bastion="jump1"\} 6/);
  t.match(text, /warmpool_bastion_up\{bastion="jump1"\} 1/, "the bastion is up (the WarmpoolBastionDown alert reads this)");
  t.match(text, /warmpool_sessions\{device="jump1",protocol="bastion",state="busy"\} 1/);
  t.match(text, /warmpool_session_opens_total\{device="jump1",protocol="bastion",result="success"\} 1/);
  const lint = promtool(['check', 'metrics'], text);
  t.equal(lint.status, 0, `promtool check metrics: ${lint.stdout}${lint.stderr}`);

  const dev = (await d.call(m(d.inventory, 'GetDevice'), { id: 'edge0' })) as Device__Output;
  t.equal(dev.via, 'jump1');

  const unknown = await failure(d.call(m(d.inventory, 'PutDevice'), { device: { ...dev, id: 'api1', via: 'nope', password: 'x', has_password: false } }));
  t.equal(unknown.code, grpc.status.INVALID_ARGUMENT);
  t.match(unknown.details, /device "api1": device\.via: unknown bastion "nope": bastions are defined in the inventory file/);
});

t.test('bastion down while calls run: they fail UNAVAILABLE naming the bastion, then recover; no pool slot leaks', async (t) => {
  const { d, sshd } = await setup(t, 3);
  await Promise.all([0, 1, 2].map((i) => run(d, `edge${i}`, ['hostname'])));
  const inFlight = [0, 1, 2].map((i) => failure(run(d, `edge${i}`, ['sleep 2'])));
  await new Promise((r) => setTimeout(r, 300));
  await sshd.halt();
  for (const err of await Promise.all(inFlight)) {
    t.equal(err.code, grpc.status.UNAVAILABLE, err.details);
    t.match(err.details, /bastion jump1/);
  }
  // While it is down, new calls fail fast, naming the bastion.
  const started = performance.now();
  const down = await failure(run(d, 'edge0', ['hostname']));
  t.equal(down.code, grpc.status.UNAVAILABLE);
  t.match(down.details, /edge0.*via bastion jump1: connection to 127\.0\.0\.1:\d+ refused/);
  t.ok(performance.now() - started < 2000, `failed fast (${Math.round(performance.now() - started)} ms)`);

  await sshd.restart();
  // Each device's pool may still be in its reconnect backoff (failing fast with the last
  // connect error) when the bastion returns: every device gets the same bounded retry.
  const runUntilOk = async (id: string): Promise<RunResponse__Output | undefined> => {
    const end = Date.now() + 10_000;
    let ok: RunResponse__Output | undefined;
    while (!ok && Date.now() < end) {
      ok = await run(d, id, ['hostname']).catch(() => undefined);
      if (!ok) await new Promise((r) => setTimeout(r, 200));
    }
    return ok;
  };
  const ok = await runUntilOk('edge1');
  t.ok(ok, 'calls work again after the bastion is back');
  t.match(ok!.results[0]!.output, /edge1/);
  for (const id of ['edge0', 'edge2']) t.ok(await runUntilOk(id), `${id} works again too`);
  const after = await stats(d);
  for (const p of after.pools.filter((x) => x.protocol === 'ssh')) t.match(p, { busy: 0, connecting: 0, waiting: 0 }, `${p.device}: no leaked slot`);
  t.match(after.pools.find((p) => p.protocol === 'bastion'), { busy: 1, connecting: 0, channels: undefined });
});

t.test('SIGHUP with changed bastion settings retires its connection and the device sessions behind it', async (t) => {
  const { d, sshd, sims, file } = await setup(t, 2);
  await Promise.all([0, 1].map((i) => run(d, `edge${i}`, ['hostname'])));
  t.equal(loginsOf(sshd), 1);
  writeFileSync(file, inventoryYaml(sshd, sims, 'maxChannelsPerConnection: 8'));
  d.daemon.reloadInventory();
  const r = await run(d, 'edge0', ['hostname']);
  t.equal(r.session?.reused, false, 'a fresh device session after the bastion changed');
  t.equal(loginsOf(sshd), 2, 'through a new bastion connection');
  const b = (await stats(d, ['jump1'])).pools[0];
  t.match(b, { created_total: '1', acquired_total: '1' }, 'the new bastion pool');
});
