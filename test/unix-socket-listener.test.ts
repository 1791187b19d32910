/**
 * grpc.listen: unix:///path — the sidecar listener: a real grpc-js client calls Run through the
 * socket file, the file has grpc.socketMode, a crashed daemon's stale socket is replaced, and
 * anything else at that path is refused with a message naming the key.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { startTestDaemon, simSpec, m } from './kit/daemon.js';
import { startSim } from './kit/sim.js';
import type { RunResponse__Output } from '../src/gen/warmpool/v1/RunResponse.js';

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'warmpool-uds-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('Run is served over a Unix domain socket whose file has grpc.socketMode', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios', hostname: 'u1' });
  const sock = join(tempDir(t), 'grpc.sock');
  const td = await startTestDaemon({ argv: ['--grpc.listen', `unix://${sock}`, '--grpc.socketMode', '0600'], devices: [simSpec(sim, 'u1')] });
  t.teardown(() => td.stop());
  t.equal(td.daemon.grpcAddress, `unix://${sock}`, 'the address clients dial is the configured one');
  const st = statSync(sock);
  t.ok(st.isSocket(), 'a socket file exists at the path');
  t.equal(st.mode & 0o777, 0o600, 'its mode is grpc.socketMode');
  const r = await td.call<object, RunResponse__Output>(m(td.proxy, 'Run'), { device: 'u1', commands: ['show clock'] });
  t.equal(r.results[0]?.failed, false);
  t.equal(sim.stats.totalConnections, 1);
  await td.stop();
  t.notOk(existsSync(sock), 'a clean stop removes the socket file');
});

t.test('the default socket mode is 0660 (daemon user and group)', async (t) => {
  const sock = join(tempDir(t), 'grpc.sock');
  const td = await startTestDaemon({ argv: ['--grpc.listen', `unix:${sock}`] });
  t.teardown(() => td.stop());
  t.equal(statSync(sock).mode & 0o777, 0o660);
});

t.test('a stale socket left by a killed daemon is replaced; a live one or a regular file is refused', async (t) => {
  const dir = tempDir(t);
  // What SIGKILL leaves behind: a process bound the socket and died without unlinking it.
  const stale = join(dir, 'stale.sock');
  const child = spawn(process.execPath, ['-e', "require('net').createServer().listen(process.argv[1], () => console.log('up'))", stale], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((r) => child.stdout!.once('data', () => r()));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  t.ok(statSync(stale).isSocket(), 'precondition: a socket file nobody answers on');
  const td = await startTestDaemon({ argv: ['--grpc.listen', `unix://${stale}`] });
  t.teardown(() => td.stop());
  t.ok(statSync(stale).isSocket());

  await t.rejects(startTestDaemon({ argv: ['--grpc.listen', `unix://${stale}`] }), { message: /grpc\.listen: .*stale\.sock is in use by another running process/ }, 'a live socket is never taken over');

  const regular = join(dir, 'notasocket');
  writeFileSync(regular, 'precious');
  await t.rejects(startTestDaemon({ argv: ['--grpc.listen', `unix://${regular}`] }), { message: /grpc\.listen: .*notasocket exists and is not a socket; refusing to replace it/ });
  await t.rejects(startTestDaemon({ argv: ['--grpc.listen', `unix://${join(dir, 'missing', 'g.sock')}`] }), { message: /grpc\.listen: directory .*missing does not exist/ });
});

t.test('unix: addresses and socket modes are validated with messages naming the key', async (t) => {
  const load = (argv: string[]) => loadConfig({ argv, env: {} });
  t.equal(load(['--grpc.listen', 'unix:///run/warmpool/grpc.sock']).grpc.listen, 'unix:///run/warmpool/grpc.sock', 'a unix socket needs no caller authentication (it is local)');
  t.throws(() => load(['--grpc.listen', 'unix://host/run/x.sock']), /grpc\.listen: must be "host:port" or "\[ipv6\]:port" with a port 0\.\.65535, or "unix:\/\/\/path\/to\/socket"/);
  t.throws(() => load(['--grpc.listen', 'unix:']), /grpc\.listen: must be/);
  t.throws(() => load(['--grpc.socketMode', '660x']), /grpc\.socketMode: must be an octal file mode in quotes, like "0660"/);
  t.throws(() => load(['--metrics.listen', 'unix:///run/m.sock']), /metrics\.listen: must be "host:port"/, 'the metrics listener stays TCP (probes and scrapers need it)');
});
