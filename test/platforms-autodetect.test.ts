/**
 * platform: autodetect, against every simulator: one probe session, a bounded set of read-only
 * commands, the right platform; concurrent first connects share one probe.
 */
import t from 'tap';
import type { Platform } from '../src/config/types.js';
import { connectSsh } from '../src/transport/ssh-connect.js';
import { ShellSession } from '../src/drivers/shell-driver.js';
import { classifyProbe, detectPlatform, PlatformDetections, PROBE_COMMANDS, probeOrder, withDetectedPlatform, type Detection } from '../src/platforms/autodetect.js';
import { simDeviceSpec, startSim, type SimDevice } from './kit/sim.js';
import type { Test } from 'tap';
import { waitFor } from './kit/wait.js';

async function probeSession(t: Test, sim: SimDevice): Promise<ShellSession> {
  const device = simDeviceSpec(sim, { platform: 'autodetect', mode: 'shell' });
  const conn = await connectSsh(device);
  const s = await ShellSession.open(device, conn);
  t.teardown(() => s.close());
  return s;
}

// [simulator, what autodetect must find] (IOS XE is the cisco_ios profile, as in Netmiko).
const CASES: Array<[Platform, Platform]> = [
  ['cisco_ios', 'cisco_ios'], ['cisco_nxos', 'cisco_nxos'], ['arista_eos', 'arista_eos'], ['juniper_junos', 'juniper_junos'], ['linux', 'linux'],
  ['cisco_xr', 'cisco_xr'], ['cisco_asa', 'cisco_asa'], ['huawei', 'huawei'], ['huawei_vrpv8', 'huawei_vrpv8'], ['hp_comware', 'hp_comware'], ['hp_procurve', 'hp_procurve'],
  ['aruba_os', 'aruba_os'], ['aruba_aoscx', 'aruba_aoscx'], ['nokia_sros', 'nokia_sros'], ['nokia_sros_mdcli', 'nokia_sros_mdcli'], ['fortinet', 'fortinet'], ['paloalto_panos', 'paloalto_panos'],
  ['mikrotik_routeros', 'mikrotik_routeros'], ['dell_os10', 'dell_os10'], ['dell_force10', 'dell_force10'], ['dell_os6', 'dell_os6'],
  ['brocade_fastiron', 'brocade_fastiron'], ['brocade_netiron', 'brocade_netiron'], ['extreme_exos', 'extreme_exos'], ['vyos', 'vyos'],
];

for (const [simPlatform, want] of CASES) {
  t.test(`autodetect finds ${want} (simulated ${simPlatform})`, async (t) => {
    const sim = await startSim(t, { platform: simPlatform });
    const s = await probeSession(t, sim);
    const before = sim.stats.commandsRun;
    const d = await detectPlatform(simDeviceSpec(sim, { platform: 'autodetect' }), s);
    t.equal(d.platform, want);
    t.ok(d.probes >= 1 && d.probes <= PROBE_COMMANDS.length, `bounded: ${d.probes} probe(s)`);
    t.ok(d.evidence.length > 0 && d.evidence.length <= 200, d.evidence);
    t.ok(sim.stats.commandsRun - before <= PROBE_COMMANDS.length + 1, 'no more than the probes were sent');
    t.equal(s.dirty, false);
  });
}

t.test('the prompt orders the probes so most devices answer the first', async (t) => {
  t.equal(probeOrder('<HUAWEI>')[0], 'display version');
  t.equal(probeOrder('[admin@MikroTik] >')[0], '/system resource print');
  t.equal(probeOrder('admin@host:~$')[0], 'uname -a');
  t.equal(probeOrder('FGT-1 #')[0], 'get system status');
  t.equal(probeOrder('Router>')[0], 'show version');
  t.same(new Set(probeOrder('anything#')), new Set(PROBE_COMMANDS), 'every probe at most once');
});

t.test('output no signature knows identifies nothing; the generic simulator reads as IOS', async (t) => {
  t.equal(classifyProbe('show version', 'Acme SwitchOS 1.0\n'), undefined);
  t.equal(classifyProbe('display version', 'Cisco IOS Software\n'), undefined, 'a signature counts only for its own command');
  t.equal(classifyProbe('uname -a', 'Linux box 6.1\n')?.platform, 'linux');
  // SR OS prints the same version from both CLIs: the MD-CLI's prompt names the user (Netmiko's test).
  const timos = 'TiMOS-B-23.10.R1 both/x86_64 Nokia 7750 SR Copyright (c) 2000-2023 Nokia.\n';
  t.equal(classifyProbe('show version', timos, 'A:admin@pe1#')?.platform, 'nokia_sros_mdcli');
  t.equal(classifyProbe('show version', timos, 'A:pe1#')?.platform, 'nokia_sros');
  t.equal(classifyProbe('show version', timos)?.platform, 'nokia_sros', 'no prompt known: the classic CLI, as before');
  const sim = await startSim(t, { platform: 'generic', genericPrompts: { user: 'acme>', priv: 'acme#', config: 'acme(cfg)#' } });
  const s = await probeSession(t, sim);
  t.equal(s.prompt, 'acme>');
  const d = await detectPlatform(simDeviceSpec(sim, { platform: 'autodetect' }), s);
  t.equal(d.platform, 'cisco_ios', 'the generic simulator prints IOS XE text');
  t.equal(d.probes, 1);
});

t.test('one probe per device: concurrent first connects share it, a failure is not remembered', async (t) => {
  const sim = await startSim(t, { platform: 'huawei' });
  const device = simDeviceSpec(sim, { platform: 'autodetect' });
  const logs: unknown[] = [];
  const logger = { info: (o: unknown) => logs.push(o), child: () => logger } as unknown as ConstructorParameters<typeof PlatformDetections>[0];
  const detections = new PlatformDetections(logger);
  let probes = 0;
  const probe = async (): Promise<Detection> => {
    probes++;
    const s = await probeSession(t, sim);
    return detectPlatform(device, s);
  };
  const [a, b] = await Promise.all([detections.resolve(device, probe), detections.resolve(device, probe)]);
  t.equal(probes, 1);
  t.equal(a.platform, 'huawei');
  t.equal(b, a);
  t.equal(detections.detected(device.id)?.platform, 'huawei', 'stored for GetDevice');
  t.match(logs, [{ device: device.id, platform: 'huawei', command: 'display version' }], 'one log line names the result');
  t.equal(withDetectedPlatform(device, a.platform).platform, 'huawei');

  const failing = new PlatformDetections();
  let tries = 0;
  const bad = async (): Promise<Detection> => {
    tries++;
    throw new Error('unreachable');
  };
  await t.rejects(failing.resolve(device, bad), /unreachable/);
  await t.rejects(failing.resolve(device, bad), /unreachable/);
  t.equal(tries, 2, 'a failed probe is tried again on the next connect');
});

t.test('a detected device then behaves as its platform: configuration and privilege work', async (t) => {
  const { probeDevicePlatform } = await import('../src/drivers/autodetect-probe.js');
  const { connectSsh: connect } = await import('../src/transport/ssh-connect.js');
  const { batch } = await import('./kit/sim.js');
  for (const [platform, lines, after] of [
    ['cisco_xr', ['interface Gi0/0/0/1', 'description uplink'], 'RP/0/RP0/CPU0:ios#'],
    ['huawei', ['sysname EDGE-9', 'interface GigabitEthernet0/0/1', 'description uplink'], '<EDGE-9>'],
    ['dell_force10', ['interface TenGigabitEthernet 1/1', 'description uplink'], 'Dell>'],
  ] as const) {
    const sim = await startSim(t, { platform });
    const device = simDeviceSpec(sim, { platform: 'autodetect' });
    const detections = new PlatformDetections();
    const d = await detections.resolve(device, () => probeDevicePlatform(device));
    t.equal(d.platform, platform);
    const real = withDetectedPlatform(device, d.platform);
    const s = await ShellSession.open(real, await connect(real));
    t.teardown(() => s.close());
    const rs = await s.runBatch(batch([...lines], { configure: true }));
    t.ok(rs.every((r) => !r.failed), `${platform}: ${JSON.stringify(rs.filter((r) => r.failed))}`);
    t.equal(s.prompt, after, `${platform}: back at the normal prompt`);
    await waitFor(() => sim.stats.connections === 1, `${platform}: the probe connection closed`, 5000);
    t.equal(sim.stats.totalConnections, 2, `${platform}: one probe connection, then the session's`);
  }
});

t.test('through gRPC: an autodetect device is probed once, runs as the detected platform, and GetDevice shows it', async (t) => {
  const { Writable } = await import('node:stream');
  const { createLogger } = await import('../src/core/logger.js');
  const { m, simSpec, startTestDaemon } = await import('./kit/daemon.js');
  type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any
  const sim = await startSim(t, { platform: 'cisco_xr' });
  const lines: string[] = [];
  const logger = createLogger('info', new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
  const td = await startTestDaemon({ devices: [simSpec(sim, 'xr-auto', { platform: 'autodetect' })], logger });
  t.teardown(() => td.stop());
  const before: Any = await td.call(m(td.inventory, 'GetDevice'), { id: 'xr-auto' });
  t.equal(before.platform, 'autodetect');
  t.equal(before.detected_platform, '', 'nothing detected before the first connect');

  const run: Any = await td.call(m(td.proxy, 'Run'), { device: 'xr-auto', commands: ['show version'], privileged: true }, { deadlineMs: 30000 });
  t.match(run.results[0].output, /Cisco IOS XR Software/);
  const cfg: Any = await td.call(m(td.proxy, 'Run'), { device: 'xr-auto', commands: ['interface Gi0/0/0/1', 'description uplink'], configure: true }, { deadlineMs: 30000 });
  t.ok(cfg.results.every((r: Any) => !r.failed), `configure as cisco_xr (commit): ${JSON.stringify(cfg.results)}`);
  t.equal(sim.stats.commandCounts.get('commit'), 1, 'the XR commit model was used');

  const after: Any = await td.call(m(td.inventory, 'GetDevice'), { id: 'xr-auto' });
  t.equal(after.platform, 'autodetect', 'the configured platform stays');
  t.equal(after.detected_platform, 'cisco_xr');
  const list: Any = await td.call(m(td.inventory, 'ListDevices'), {});
  t.equal(list.devices.find((d: Any) => d.id === 'xr-auto')?.detected_platform, 'cisco_xr');
  const detectedLines = lines.filter((l) => l.includes('"platform detected"'));
  t.equal(detectedLines.length, 1, 'one log line');
  t.match(detectedLines[0], /"device":"xr-auto".*"platform":"cisco_xr"/);
  t.equal(sim.stats.commandCounts.get('show version'), 2, 'one probe plus the caller\'s own command: no second probe');

  // Only labels changed: the same box, its sessions stay, so does the detection.
  const same = { id: 'xr-auto', host: sim.host, port: sim.port, platform: 'autodetect', username: sim.username, password: sim.password, enable_secret: sim.enableSecret, host_key: { fingerprints: [sim.hostKeyFingerprint] } };
  await td.call(m(td.inventory, 'PutDevice'), { device: { ...same, labels: { site: 'fra1' } } });
  const relabelled: Any = await td.call(m(td.inventory, 'GetDevice'), { id: 'xr-auto' });
  t.equal(relabelled.detected_platform, 'cisco_xr', 'kept when only labels changed');
  // How it is reached changed: it may be another box now, detected again at its next connect.
  await td.call(m(td.inventory, 'PutDevice'), { device: { ...same, ssh: { command_timeout_ms: 20000 } } });
  const changed: Any = await td.call(m(td.inventory, 'GetDevice'), { id: 'xr-auto' });
  t.equal(changed.detected_platform, '', 'forgotten when its connection settings changed');
});

t.test('through gRPC: a device nothing recognises is FAILED_PRECONDITION (PLATFORM_UNKNOWN) naming what was tried, and is not probed again', async (t) => {
  const { status } = await import('@grpc/grpc-js');
  const { m, simSpec, startTestDaemon } = await import('./kit/daemon.js');
  const sim = await startSim(t, { platform: 'generic', versionText: 'Acme SwitchOS 1.0 (c) Acme\n' });
  const td = await startTestDaemon({ devices: [simSpec(sim, 'acme1', { platform: 'autodetect' })] });
  t.teardown(() => td.stop());
  const err = (await td.call(m(td.proxy, 'Run'), { device: 'acme1', commands: ['show clock'] }, { deadlineMs: 60000 }).catch((e: unknown) => e)) as import('@grpc/grpc-js').ServiceError;
  t.equal(err.code, status.FAILED_PRECONDITION, err.details);
  t.equal(err.metadata.get('warmpool-error-code')[0], 'PLATFORM_UNKNOWN');
  t.match(err.details, /platform autodetect could not identify the device \(prompt "gen1>", tried show version, display version, get system status, show system info, \/system resource print, uname -a\); set platform explicitly/);
  const probes = sim.stats.commandsRun;
  t.ok(probes <= PROBE_COMMANDS.length + 1, `bounded: ${probes} commands`);
  const again = (await td.call(m(td.proxy, 'Run'), { device: 'acme1', commands: ['show clock'] }, { deadlineMs: 60000 }).catch((e: unknown) => e)) as import('@grpc/grpc-js').ServiceError;
  t.equal(again.code, status.FAILED_PRECONDITION);
  t.equal(sim.stats.commandsRun, probes, 'no second probe: only an operator can fix it');
  const got = (await td.call(m(td.inventory, 'GetDevice'), { id: 'acme1' })) as { detected_platform: string };
  t.equal(got.detected_platform, '');
});
