/**
 * What devices show between authentication and the first prompt, through the real shell driver
 * against the simulators: login screens answered (a bounded number of times), password change
 * demands refused as AUTH_FAILED (gRPC FAILED_PRECONDITION), and Junos root logins that land in
 * the FreeBSD shell taken into the CLI with `cli`.
 */
import t from 'tap';
import { Writable } from 'node:stream';
import { status, type ServiceError } from '@grpc/grpc-js';
import type { Platform } from '../src/config/types.js';
import { createLogger } from '../src/core/logger.js';
import { WarmpoolError } from '../src/core/errors.js';
import { connectSsh } from '../src/transport/ssh-connect.js';
import { ShellSession } from '../src/drivers/shell-driver.js';
import { MAX_LOGIN_SCREENS } from '../src/drivers/shell-login.js';
import { classifyLoginScreen } from '../src/platforms/login-screens.js';
import { PlatformDetections } from '../src/platforms/autodetect.js';
import { probeDevicePlatform } from '../src/drivers/autodetect-probe.js';
import { batch, simDeviceSpec, startSim, type SimDevice } from './kit/sim.js';
import { m, simSpec, startTestDaemon } from './kit/daemon.js';
import type { Test } from 'tap';
import { offlineDevice, streamChannel } from './kit/stream-channel.js';


function capture(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  return { lines, logger: createLogger('info', new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) })) };
}

async function open(t: Test, sim: SimDevice, logger = capture().logger, extra: Partial<Parameters<typeof simDeviceSpec>[1]> = {}): Promise<ShellSession> {
  const device = simDeviceSpec(sim, { mode: 'shell', ...extra });
  const s = await ShellSession.open(device, await connectSsh(device), { logger, loginTimeoutMs: 8000 });
  t.teardown(() => s.close());
  return s;
}

// [platform, the prompt after login, a command and what its output shows]
const SCREENS: Array<[Platform, string, string, RegExp]> = [
  ['hp_comware', '<HPE>', 'display version', /HPE Comware/],
  ['fortinet', 'FGT-1 #', 'get system status', /^Version: FortiGate-VM64/],
  ['dell_force10', 'Dell>', 'show version', /Dell Real Time Operating System Software/],
  ['mikrotik_routeros', '[admin@MikroTik] >', '/system resource print', /board-name: CHR/],
];

for (const [platform, prompt, command, shows] of SCREENS) {
  t.test(`${platform}: the login screen is answered once and the session works`, async (t) => {
    const sim = await startSim(t, { platform, loginScreen: true });
    const { logger, lines } = capture();
    const s = await open(t, sim, logger);
    t.equal(s.prompt, prompt);
    const [r] = await s.runBatch(batch([command]));
    t.equal(r?.failed, false, r?.error);
    t.match(r?.output, shows);
    t.notMatch(r?.output, /press|accept|licen[cs]e\?/i, 'the screen is not part of any output');
    t.equal(lines.filter((l) => l.includes('login screen answered')).length, 1, 'one log line for the one screen');
  });
}

t.test('the same simulators without the screen log in without answering anything', async (t) => {
  const sim = await startSim(t, { platform: 'hp_comware' });
  const { logger, lines } = capture();
  const s = await open(t, sim, logger);
  t.equal(s.prompt, '<HPE>');
  t.equal(lines.filter((l) => l.includes('login screen answered')).length, 0);
});

for (const platform of ['cisco_ios', 'huawei'] as const) {
  t.test(`${platform}: a password change demanded at login is AUTH_FAILED at once, nothing answered`, async (t) => {
    const sim = await startSim(t, { platform, passwordExpired: true });
    const device = simDeviceSpec(sim, { mode: 'shell' });
    const started = Date.now();
    const err = await ShellSession.open(device, await connectSsh(device), { loginTimeoutMs: 8000 }).catch((e: unknown) => e);
    t.ok(err instanceof WarmpoolError, String(err));
    t.equal((err as WarmpoolError).code, 'AUTH_FAILED');
    t.match((err as Error).message, /login refused: the device requires a password change before login/);
    t.notMatch((err as Error).message, new RegExp(sim.password), 'no secret in the message');
    t.ok(Date.now() - started < 6000, 'well before the login timeout');
    t.equal(sim.stats.commandsRun, 0, 'nothing was typed at the change prompt');
    await new Promise((r) => setTimeout(r, 50));
    t.equal(sim.stats.connections, 0, 'the connection was closed');
  });
}

t.test('a password change demand reaches a gRPC caller as FAILED_PRECONDITION, and the pool does not retry it', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios', passwordExpired: true });
  const td = await startTestDaemon({ devices: [simSpec(sim, 'expired1')] });
  t.teardown(() => td.stop());
  const err = (await td.call(m(td.proxy, 'Run'), { device: 'expired1', commands: ['show version'] }, { deadlineMs: 15000 }).catch((e: unknown) => e)) as ServiceError;
  t.equal(err.code, status.FAILED_PRECONDITION, err.details);
  t.match(err.details, /password change/);
  t.equal(err.metadata.get('warmpool-error-code')[0], 'AUTH_FAILED');
  const connects = sim.stats.totalConnections;
  const again = (await td.call(m(td.proxy, 'Run'), { device: 'expired1', commands: ['show version'] }, { deadlineMs: 15000 }).catch((e: unknown) => e)) as ServiceError;
  t.equal(again.code, status.FAILED_PRECONDITION);
  t.equal(sim.stats.totalConnections, connects, 'no new login attempt while the circuit is open');
});

t.test('the classifier: every screen has its answer, expiry texts are refusals, ordinary lines are nothing', async (t) => {
  t.match(classifyLoginScreen('Press Y or ENTER to continue, N to exit.'), { kind: 'answer', answer: 'y\n' });
  t.match(classifyLoginScreen("(Press 'a' to accept):"), { kind: 'answer', answer: 'a' });
  t.match(classifyLoginScreen('Have you read and do you acknowledge the above statement? [y/n]:'), { kind: 'answer', answer: 'y\n' });
  t.match(classifyLoginScreen('Do you want to see the software license? [Y/n]:'), { kind: 'answer', answer: 'n\n' });
  t.match(classifyLoginScreen('Current password:'), { kind: 'refused' });
  t.match(classifyLoginScreen('Info: The password needs to be changed. Change now? [Y/N]:'), { kind: 'refused' });
  t.equal(classifyLoginScreen('Router>'), undefined);
  t.equal(classifyLoginScreen('Password:'), undefined, 'an enable password prompt is not a login screen');
  t.equal(classifyLoginScreen('Press any key to continue (Q to quit)'), undefined, "SR OS's pager is not a login screen");
  t.equal(classifyLoginScreen('x'.repeat(600) + ' [y/n]: acknowledge'), undefined, 'over-long lines are not looked at');
  t.equal(MAX_LOGIN_SCREENS, 4);
});

t.test('Junos: a root login that lands in the FreeBSD shell types cli, then works as the CLI', async (t) => {
  const sim = await startSim(t, { platform: 'juniper_junos', username: 'root', junosShell: true });
  const { logger, lines } = capture();
  const s = await open(t, sim, logger);
  t.equal(s.prompt, 'root@router>', 'at the CLI prompt, not "root@router:RE:0%"');
  t.equal(sim.stats.commandCounts.get('cli'), 1, 'cli typed once');
  t.ok(lines.some((l) => l.includes('login landed in the FreeBSD shell')), 'logged');
  const [v] = await s.runBatch(batch(['show version']));
  t.match(v?.output, /^Hostname: router\nModel: mx204/);
  const cfg = await s.runBatch(batch(['set system host-name edge9'], { configure: true }));
  t.ok(cfg.every((r) => !r.failed), JSON.stringify(cfg));
  t.equal(s.prompt, 'root@edge9>', 'committed and back at the operational prompt');
});

t.test('Junos: a login at the CLI prompt types no cli', async (t) => {
  const sim = await startSim(t, { platform: 'juniper_junos' });
  const s = await open(t, sim);
  t.equal(s.prompt, 'admin@router>');
  t.equal(sim.stats.commandCounts.get('cli') ?? 0, 0);
});

t.test('autodetect recognises Junos from its FreeBSD shell (uname -a) and the session then starts the CLI', async (t) => {
  const sim = await startSim(t, { platform: 'juniper_junos', username: 'root', junosShell: true });
  const device = simDeviceSpec(sim, { platform: 'autodetect' });
  const d = await new PlatformDetections().resolve(device, () => probeDevicePlatform(device));
  t.equal(d.platform, 'juniper_junos');
  t.equal(d.command, 'uname -a', 'the "%" prompt asks uname first');
  t.equal(d.probes, 1);
});

t.test('a login screen that keeps coming back is answered at most MAX_LOGIN_SCREENS times, then UNEXPECTED_PROMPT', async (t) => {
  const { silentLogger } = await import('../src/core/logger.js');
  const { login } = await import('../src/drivers/shell-login.js');
  const { systemClock } = await import('../src/core/clock.js');
  const screen = '\r\nPress Y or ENTER to continue, N to exit.';
  const device = offlineDevice('hp_comware', 'c1');
  // A device that answers every key with its screen again.
  const { ch, stream, typed } = streamChannel({ device, onWrite: (_text, s) => void setImmediate(() => s.push(screen)) });
  t.teardown(() => ch.close());
  stream.push(screen);
  const started = Date.now();
  const err = await login(ch, { device: device.id, clock: systemClock, deadline: systemClock.now() + 10_000, signal: undefined, endMarker: true, log: silentLogger }).catch((e: unknown) => e);
  t.equal((err as WarmpoolError).code, 'UNEXPECTED_PROMPT', String(err));
  t.match((err as Error).message, /login screen \(banner acknowledgement\) still shown after 4 answers/);
  t.equal(typed.length, MAX_LOGIN_SCREENS, 'answered exactly MAX_LOGIN_SCREENS times');
  t.ok(typed.every((x) => x === 'y\n'));
  t.ok(Date.now() - started < 5000, 'without waiting for the login timeout');
});

t.test('warmpool sim takes the login options as switches', async (t) => {
  const { parseSimArgs } = await import('../src/sim/sim-command.js');
  t.match(parseSimArgs(['--platform', 'hp_comware', '--login-screen']), { platform: 'hp_comware', loginScreen: true });
  t.match(parseSimArgs(['--platform', 'huawei', '--password-expired']), { passwordExpired: true });
  t.match(parseSimArgs(['--platform', 'juniper', '--junos-shell', '--username', 'root']), { platform: 'juniper_junos', junosShell: true, username: 'root' });
  t.notOk('loginScreen' in parseSimArgs(['--platform', 'hp_comware']), 'off unless asked for');
});
