/**
 * The platform catalogue as data: names and aliases (with "did you mean"), each profile's prompts
 * at every level, login screens, and the pager fallback when a paging command is refused.
 */
import t from 'tap';
import { PLATFORMS, type DeviceSpec, type Platform } from '../src/config/types.js';
import { validateDevice } from '../src/config/inventory.js';
import { loadConfig } from '../src/config/load.js';
import { isWarmpoolError } from '../src/core/errors.js';
import { PLATFORM_ALIASES, resolvePlatformName } from '../src/platforms/aliases.js';
import { classifyLoginScreen, loginRefused } from '../src/platforms/login-screens.js';
import { resolveProfile } from '../src/platforms/profiles.js';
import { decidePrompt, isPagerPrompt, matchPrompt, promptLevel } from '../src/session/prompt.js';
import { parseSimArgs } from '../src/sim/sim-command.js';
import { LONG_COMMAND } from '../src/sim/platforms/index.js';
import { batch, openSimShell, startSim } from './kit/sim.js';
import { offlineDevice, streamChannel } from './kit/stream-channel.js';

const defaults = loadConfig({ argv: [], env: {} }).defaults;
const FP = 'SHA256:Ndn2nNQI3C/HRofmkAHuPkHxYutLZVwHJidfQ4IkyLY';

function spec(platform: Platform): DeviceSpec {
  return { ...offlineDevice(platform, 'd1'), ...(platform === 'generic' ? { prompt: '[>#]' } : {}) };
}

function configError(platform: unknown): string {
  try {
    validateDevice({ id: 'sw1', host: '192.0.2.1', platform, username: 'u', password: 'p', hostKey: { fingerprints: [FP] } }, defaults, 'file');
  } catch (err) {
    if (isWarmpoolError(err, 'CONFIG_INVALID')) return err.message;
    throw err;
  }
  throw new Error('expected CONFIG_INVALID');
}

t.test('Netmiko and Scrapli names are accepted and stored as the profile they mean', async (t) => {
  const cases: Array<[string, Platform]> = [
    ['cisco_xe', 'cisco_ios'], ['juniper', 'juniper_junos'], ['cisco_xr', 'cisco_xr'], ['huawei_vrp', 'huawei'], ['huawei_vrpv8', 'huawei_vrpv8'], ['h3c_comware', 'hp_comware'],
    ['aruba_procurve', 'hp_procurve'], ['aruba_osswitch', 'hp_procurve'], ['ruckus_fastiron', 'brocade_fastiron'], ['extreme_netiron', 'brocade_netiron'],
    ['dell_os9', 'dell_force10'], ['dell_powerconnect', 'dell_os6'], ['alcatel_sros', 'nokia_sros'], ['vyatta_vyos', 'vyos'], ['extreme', 'extreme_exos'],
    ['nokia_sros', 'nokia_sros'], ['nokia_sros_classic', 'nokia_sros'], ['nokia_sros_mdcli', 'nokia_sros_mdcli'], ['Nokia_SROS_MDCLI', 'nokia_sros_mdcli'],
    ['cisco_iosxr', 'cisco_xr'], ['fortinet_fortios', 'fortinet'], ['cisco_iosxe', 'cisco_ios'], ['Cisco_IOS', 'cisco_ios'], ['cisco_ios_ssh', 'cisco_ios'], ['mikrotik_routeros', 'mikrotik_routeros'],
  ];
  for (const [name, want] of cases) {
    const r = resolvePlatformName(name);
    t.same(r.ok ? r.platform : r.problem, want, name);
    const d = validateDevice({ id: 'sw1', host: '192.0.2.1', platform: name, username: 'u', password: 'p', hostKey: { fingerprints: [FP] } }, defaults, 'file');
    t.equal(d.platform, want, `${name} in the inventory`);
    t.equal(d.mode, want === 'linux' ? 'exec' : 'shell');
  }
  for (const target of Object.values(PLATFORM_ALIASES)) t.ok((PLATFORMS as readonly string[]).includes(target), `alias target ${target} is a platform`);
});

t.test('a near miss gets "did you mean", a Netmiko name without a profile gets the generic route', async (t) => {
  t.match(configError('cisco_xrr'), /platform: must be one of .*\(got "cisco_xrr"\); did you mean "cisco_xr"\?/);
  t.match(configError('huwaei'), /did you mean "huawei"\?/);
  t.match(configError('juniper_juno'), /did you mean "juniper_junos"\?/);
  t.match(configError('huawei_vrp8'), /did you mean "huawei_vrpv8"\?/);
  t.match(configError('nokia_srl'), /"nokia_srl" is a Netmiko device_type warmpool has no profile for yet; use platform: generic/);
  t.notMatch(configError('zzzzzzzz'), /did you mean/);
  t.match(configError(5), /platform: must be one of .*\(got 5\)/);
});

t.test('every platform has a profile; every catalogue profile tells its levels apart', async (t) => {
  for (const p of PLATFORMS) t.ok(resolveProfile(spec(p)).promptPattern, p);
  // [platform, prompt, level] as the devices print them (after ANSI rendering).
  const cases: Array<[Platform, string, ReturnType<typeof promptLevel>]> = [
    ['cisco_xr', 'RP/0/RP0/CPU0:edge-1#', 'privileged'], ['cisco_xr', 'RP/0/RP0/CPU0:edge-1(config-if)#', 'config'],
    ['cisco_asa', 'fw1/admin>', 'unprivileged'], ['cisco_asa', 'fw1/admin#', 'privileged'], ['cisco_asa', 'fw1/admin(config)#', 'config'],
    ['huawei', '<core-1>', 'privileged'], ['huawei', '[core-1]', 'config'], ['huawei', '[~core-1-GigabitEthernet0/0/1]', 'config'], ['huawei', 'HRP_M<fw1>', 'privileged'],
    ['huawei_vrpv8', '[*core-1-GigabitEthernet0/0/1]', 'config'],
    ['hp_comware', '<HPE>', 'privileged'], ['hp_comware', '[HPE-vlan10]', 'config'],
    ['hp_procurve', 'HP-2920-24G>', 'unprivileged'], ['hp_procurve', 'HP-2920-24G(eth-1)#', 'config'],
    ['aruba_os', '(Aruba7210) >', 'unprivileged'], ['aruba_os', '(Aruba7210) [mynode] (config) #', 'config'], ['aruba_os', '(Aruba7210) (config-subif)#', 'config'],
    ['aruba_aoscx', 'switch#', 'privileged'], ['aruba_aoscx', 'switch(config-if)#', 'config'],
    ['nokia_sros', 'A:pe1#', 'privileged'], ['nokia_sros', '*A:pe1>config>router#', 'config'], ['nokia_sros', 'A:pe1>config>service>vpls$', 'config'],
    ['fortinet', 'FGT-1 #', 'privileged'], ['fortinet', 'FGT-1 (global) #', 'privileged'],
    ['paloalto_panos', 'admin@PA-VM>', 'privileged'], ['paloalto_panos', 'admin@fw1(active)#', 'config'],
    ['mikrotik_routeros', '[admin@MikroTik] >', 'privileged'], ['mikrotik_routeros', '[admin@MikroTik] /ip address>', 'privileged'],
    ['dell_os10', 'OS10(conf-if-eth1/1/1)#', 'config'], ['dell_force10', 'Dell>', 'unprivileged'], ['dell_force10', 'Dell(conf)#', 'config'], ['dell_os6', 'console(config-if-Gi1/0/1)#', 'config'],
    ['brocade_fastiron', 'SSH@ICX7150-48P Router>', 'unprivileged'], ['brocade_fastiron', 'SSH@ICX7150-48P Router(config-if-e1000-1/1/1)#', 'config'], ['brocade_netiron', 'SSH@MLX-4#', 'privileged'],
    ['extreme_exos', '* X460-48t.12 #', 'privileged'], ['vyos', 'vyos@vyos:~$', 'privileged'], ['vyos', 'vyos@vyos#', 'config'],
  ];
  for (const [p, prompt, level] of cases) {
    const prof = resolveProfile(spec(p));
    t.ok(matchPrompt(prof, prompt), `${p}: "${prompt}" is a prompt`);
    t.equal(promptLevel(prof, prompt), level, `${p}: "${prompt}" is ${level}`);
  }
});

t.test('prompts that change with context are followed as the same device', async (t) => {
  const same: Array<[Platform, string, string]> = [
    ['huawei', '<core-1>', '[core-1-GigabitEthernet0/0/1]'],
    ['extreme_exos', 'X460-48t.1 #', '* X460-48t.2 #'],
    ['nokia_sros', 'A:pe1#', '*A:pe1>config>router#'],
    ['mikrotik_routeros', '[admin@MikroTik] >', '[admin@MikroTik] /ip address>'],
    ['fortinet', 'FGT-1 #', 'FGT-1 (console) #'],
    ['brocade_fastiron', 'SSH@ICX7150-48P Router>', 'SSH@ICX7150-48P Router(config)#'],
  ];
  for (const [p, known, next] of same) t.equal(decidePrompt(resolveProfile(spec(p)), next, known).decision, 'prompt', `${p}: ${known} -> ${next}`);
  // Output that looks like a prompt of another host must stand alone first.
  t.equal(decidePrompt(resolveProfile(spec('huawei')), '[V200R009C00SPC500]', '<core-1>').decision, 'settle');
});

t.test('pager prompts of the catalogue are recognised on their platforms', async (t) => {
  const cases: Array<[Platform, string]> = [
    ['huawei', '  ---- More ----'], ['hp_procurve', '-- MORE --, next page: Space, next line: Enter, quit: Control-C'],
    ['nokia_sros', 'Press any key to continue (Q to quit)'], ['mikrotik_routeros', '-- [Q quit|D dump|down]'],
    ['brocade_fastiron', '--More--, next page: Space, next line: Return key, quit: Control-c'], ['cisco_asa', '<--- More --->'],
  ];
  for (const [p, line] of cases) t.ok(isPagerPrompt(resolveProfile(spec(p)), line), `${p}: ${line}`);
});

t.test('login screens: keys are answered, password expiry is a refused login', async (t) => {
  t.same(classifyLoginScreen('Press any key to continue'), { kind: 'answer', answer: '\n', what: 'press any key' });
  t.equal(classifyLoginScreen("(Press 'a' to accept):")?.kind, 'answer');
  t.equal(classifyLoginScreen('Press Y or ENTER to continue, N to exit.')?.kind, 'answer');
  t.equal(classifyLoginScreen('Do you want to see the software license? [Y/n]: ')?.kind, 'answer');
  for (const l of ['The password needs to be changed. Change now? [Y/N]:', 'WARNING: Your password has expired.', 'You are required to change your password immediately (administrator enforced)', 'New password:']) {
    t.equal(classifyLoginScreen(l)?.kind, 'refused', l);
  }
  t.equal(classifyLoginScreen('Router#'), undefined);
  const refused = classifyLoginScreen('WARNING: Your password has expired.');
  if (refused?.kind !== 'refused') throw new Error('expected refused');
  const err = loginRefused(spec('huawei'), refused);
  t.equal(err.code, 'AUTH_FAILED', 'mapped to FAILED_PRECONDITION by src/api/status.ts');
  t.match(err.message, /^device d1: login refused: the device requires a password change/);
});

t.test('warmpool sim runs every catalogue platform and refuses autodetect', async (t) => {
  for (const p of Object.keys(LONG_COMMAND)) t.equal(parseSimArgs(['--platform', p]).platform, p);
  t.throws(() => parseSimArgs(['--platform', 'autodetect']), /--platform must be one of/);
  t.equal(parseSimArgs(['--platform', 'cisco_xe']).platform, 'cisco_ios', 'aliases as in the inventory');
  t.throws(() => parseSimArgs(['--platform', 'huwaei']), /did you mean "huawei"\?/);
});

t.test('a refused paging command falls back to answering the pager (FastIron below enable)', async (t) => {
  const sim = await startSim(t, { platform: 'brocade_fastiron', runConfigLines: 200, pageLines: 20 });
  const s = await openSimShell(t, sim);
  t.equal(sim.stats.commandCounts.get('skip-page-display'), 1, 'the paging command was tried');
  t.equal(s.endMarker, false, 'no typed-ahead marker while a pager may be active');
  const [r] = await s.runBatch(batch(['show running-config'], { privileged: true }));
  t.equal(r?.output, LONG_COMMAND.brocade_fastiron.text(sim.hostname, 200), 'ten pages answered, output whole and clean');
  t.equal(s.prompt, 'SSH@ICX7150-48P Router>');
});

t.test('commit models: a failed commit marks the batch failed, discards the candidate and leaves config mode', async (t) => {
  const cases: Array<{ platform: Platform; lines: string[]; error: RegExp; prompt: string; discard: string }> = [
    { platform: 'cisco_xr', lines: ['interface Gi0/0/0/1', 'description commit-error'], error: /^commit: % Failed to commit one or more configuration items/, prompt: 'RP/0/RP0/CPU0:ios#', discard: 'abort' },
    { platform: 'huawei_vrpv8', lines: ['sysname EDGE-3', 'info-center loghost 192.0.2.9 commit-error'], error: /^commit: Error: Failed to generate committed config\.$/, prompt: '<HUAWEI>', discard: 'clear configuration candidate' },
    { platform: 'vyos', lines: ['set interfaces ethernet eth0 description commit-error'], error: /^commit: Commit failed$/, prompt: 'admin@vyos:~$', discard: 'exit discard' },
    { platform: 'paloalto_panos', lines: ['set rulebase security rules commit-error'], error: /^commit: (?:Commit failed|Validation Error:)/, prompt: 'admin@PA-VM>', discard: 'revert config' },
    // Leaving private mode discards what was not committed (the MD-CLI's own rule).
    { platform: 'nokia_sros_mdcli', lines: ['configure system location "commit-error"'], error: /^commit: MINOR: MGMT_CORE #4001: /, prompt: 'A:admin@pe1#', discard: 'quit-config' },
  ];
  for (const c of cases) {
    const sim = await startSim(t, { platform: c.platform });
    const s = await openSimShell(t, sim);
    const rs = await s.runBatch(batch(c.lines, { configure: true }));
    t.equal(rs.at(-1)?.failed, true, c.platform);
    t.match(rs.at(-1)?.error, c.error, c.platform);
    t.equal(s.prompt, c.prompt, `${c.platform}: back at the normal prompt`);
    t.equal(s.dirty, false);
    t.ok((sim.stats.commandCounts.get(c.discard) ?? 0) >= 1, `${c.platform}: candidate discarded with "${c.discard}"`);
    const [again] = await s.runBatch(batch(c.lines.slice(0, 1).map((l) => l.replace('commit-error', 'fine')), { configure: true }));
    t.equal(again?.failed, false, `${c.platform}: the next configuration commits`);
  }
});

t.test('long banners and MOTDs full of prompt-like lines do not fool prompt learning', async (t) => {
  const fakes = ['<HUAWEI>', '[admin@MikroTik] >', 'A:pe1#', 'FGT-1 #', 'admin@PA-VM>', 'X460-48t.1 #', 'Press any key to continue'];
  const motd = Array.from({ length: 600 }, (_, i) => (i % 7 === 0 ? fakes[(i / 7) % fakes.length] : `notice ${i}: maintenance window Sat 02:00-04:00 UTC`)).join('\n') + '\n';
  const banner = 'AUTHORIZED ACCESS ONLY\n'.repeat(200);
  const cases: Array<[Platform, string, string]> = [['huawei', '<HUAWEI>', 'display clock'], ['mikrotik_routeros', '[admin@MikroTik] >', '/system clock print'], ['extreme_exos', 'X460-48t.1 #', 'show switch']];
  for (const [platform, prompt, cmd] of cases) {
    const sim = await startSim(t, { platform, motd, banner, motdPauseMs: 20 });
    const s = await openSimShell(t, sim);
    t.equal(s.prompt.replace(/\.\d+ #$/, '.1 #'), prompt, platform);
    const [r] = await s.runBatch(batch([cmd]));
    t.equal(r?.failed, false, `${platform}: ${r?.error}`);
    t.notMatch(r?.output, /notice \d+/, `${platform}: no MOTD in the first output`);
  }
});

t.test('the simulators send what the real devices send: ANSI prompts, a login gate', async (t) => {
  const { default: ssh2 } = await import('ssh2');
  const net = await import('node:net');
  // Raw bytes of a shell, up to the first line that `done` accepts, bounded in time.
  const raw = (sim: Awaited<ReturnType<typeof startSim>>, typed: string, done: (all: string) => boolean): Promise<string> =>
    new Promise((resolve, reject) => {
      const client = new ssh2.Client();
      t.teardown(() => client.end());
      const timer = setTimeout(() => reject(new Error('no answer in 5 s')), 5000);
      client.on('error', reject);
      client.on('ready', () =>
        client.shell({ term: 'vt100', cols: 200, rows: 24 }, (err, stream) => {
          if (err) return reject(err);
          let all = '';
          let sent = false;
          stream.on('data', (d: Buffer) => {
            all += d.toString('utf8');
            if (!sent && /(?:> |continue)$/.test(all)) {
              sent = true;
              stream.write(typed);
            }
            if (sent && done(all)) {
              clearTimeout(timer);
              resolve(all);
            }
          });
        }),
      );
      client.connect({ sock: net.connect({ host: sim.host, port: sim.port }), username: sim.username, password: sim.password } as never);
    });
  const mt = await startSim(t, { platform: 'mikrotik_routeros', motd: '' });
  const mtRaw = await raw(mt, '/ip address\r', (a) => a.includes('ip address'));
  t.match(mtRaw, /\x1b\[m\x1b\[36m\[\x1b\[m\x1b\[1madmin@MikroTik\x1b\[m\x1b\[36m\]\x1b\[m > /, 'RouterOS prompt in colour');
  const pc = await startSim(t, { platform: 'hp_procurve', motd: '' });
  const pcRaw = await raw(pc, '\r', (a) => a.endsWith('HP-2920-24G>'));
  t.match(pcRaw, /Press any key to continue/, 'ProCurve waits for a key before its prompt');
  t.notMatch(pcRaw.slice(0, pcRaw.indexOf('Press any key')), /HP-2920-24G>/, 'no prompt before the key');
});

t.test('exec channels reach the catalogue CLIs too (one command, privileged, no gate)', async (t) => {
  const { createSshSessionFactory } = await import('../src/drivers/ssh-factory.js');
  const { simDeviceSpec } = await import('./kit/sim.js');
  const { silentLogger } = await import('../src/core/logger.js');
  for (const [platform, cmd, re] of [['hp_procurve', 'show version', /^Image stamp:/], ['cisco_xr', 'show version', /Cisco IOS XR Software/], ['vyos', 'show version', /VyOS 1\.4\.0/]] as const) {
    const sim = await startSim(t, { platform });
    const s = await createSshSessionFactory(simDeviceSpec(sim, { mode: 'exec' }), { logger: silentLogger }).open(new AbortController().signal);
    t.teardown(() => s.close());
    const [r] = await s.runBatch(batch([cmd]));
    t.match(r?.output, re, platform);
    t.equal(r?.exitStatus, 0);
  }
});

t.test('SR OS MD-CLI: the context line above the prompt is part of the prompt and tells the level', async (t) => {
  const md = resolveProfile(spec('nokia_sros_mdcli'));
  const classic = resolveProfile(spec('nokia_sros'));
  t.equal(matchPrompt(md, 'A:admin@pe1# ')?.base, 'A:admin@pe1');
  t.equal(matchPrompt(md, 'B:netops@core-7.fra#')?.base, 'B:netops@core-7.fra');
  t.equal(matchPrompt(md, 'A:pe1#'), undefined, 'the classic prompt is not the MD-CLI one');
  t.ok(matchPrompt(classic, 'A:pe1#'), 'nokia_sros stays the classic CLI');
  // [context line, level]: explicit workflow "(ex)[...]", implicit "[ex:...]", "!" and "*" indicators, SR OS 20's "[]".
  const cases: Array<[string, ReturnType<typeof promptLevel>]> = [
    ['[/]', 'privileged'], ['[]', 'privileged'], ['[/show router]', 'privileged'],
    ['(ex)[/configure router "Base" bgp]', 'config'], ['*(ex)[/configure]', 'config'], ['!*(pr)[/]', 'config'], ['(gl)[/]', 'config'],
    ['*[ex:/configure]', 'config'], ['[pr:/configure system]', 'config'], ['(ex:bof)[/]', 'config'], ['(ex)[configure router "Base"]', 'config'],
    ['(ro)[/]', 'privileged'], ['!*[ro:/configure]', 'privileged'],
  ];
  for (const [context, level] of cases) {
    t.ok(md.contextLine?.test(context), `"${context}" is a context line`);
    t.equal(promptLevel(md, 'A:admin@pe1#', context), level, `"${context}" is ${level}`);
  }
  for (const line of ['    description "uplink"', 'A:admin@pe1#', '===============', 'MINOR: CLI #2001: Unknown element', ' [/]']) t.notOk(md.contextLine?.test(line), `"${line}" is not`);
  t.equal(promptLevel(md, 'A:admin@pe1#'), 'privileged', 'no context line seen: operational');
  t.equal(md.endMarker, undefined, 'no end marker with a two-line prompt');
  t.same(md.config, { enter: ['edit-config private'], exit: ['commit', 'quit-config', 'exit all'], abort: ['discard', 'quit-config', 'exit all'] });
  for (const e of ['MINOR: CLI #2001: Unknown element - \'foo\'', 'MAJOR: MGMT_CORE #2005: x', 'CRITICAL: CLI #1: y', 'Error: z']) t.ok(md.errorPatterns.some((p) => p.test(e)), e);
  t.ok(isPagerPrompt(md, 'Press any key to continue (Q to quit)'));
});

t.test('SR OS MD-CLI: output that only looks like the prompt\'s upper lines is kept, however the device splits its writes', async (t) => {
  const read = async (chunks: string[]): Promise<{ output: string; context: string; streamed: string }> => {
    const { ch, stream } = streamChannel({ device: offlineDevice('nokia_sros_mdcli', 'pe1') });
    ch.prompt = 'A:admin@pe1#';
    let streamed = '';
    const p = ch.command({ command: 'show log', timeoutMs: 2000, onChunk: (_i, text) => void (streamed += text) });
    for (const c of chunks) {
      stream.push(c);
      await new Promise((r) => setImmediate(r));
    }
    const r = await p;
    ch.close();
    return { output: r.output, context: ch.context, streamed };
  };
  const echo = 'show log\r\n';
  let r = await read([echo + 'line a\r\n[/]\r\n', 'line b\r\n\r\n', '[/]\r\nA:admin@pe1# ']);
  t.equal(r.streamed, 'line a\n[/]\nline b\n', 'a "[/]" line followed by more output is output');
  t.equal(r.context, '[/]');
  r = await read([echo + 'line a\r\n', '\r\n', '*(pr)[/configure]\r\n', 'A:admin@pe1# ']);
  t.equal(r.streamed, 'line a\n', 'the empty line and the context line, each in its own write, belong to the prompt');
  t.equal(r.context, '*(pr)[/configure]');
  r = await read([echo + 'line a\r\n\r\nA:admin@pe1# ']);
  t.equal(r.streamed, 'line a\n\n', 'no context line: the empty line was output');
  t.equal(r.context, '');
});

t.test('SR OS MD-CLI: streamed output never carries the prompt\'s upper lines', async (t) => {
  const sim = await startSim(t, { platform: 'nokia_sros_mdcli', runConfigLines: 40 });
  const s = await openSimShell(t, sim);
  let streamed = '';
  const [r] = await s.runBatch(batch(['admin show configuration'], { onChunk: (_i: number, text: string) => void (streamed += text) }));
  t.equal(r?.failed, false, r?.error);
  t.equal(streamed, LONG_COMMAND.nokia_sros_mdcli.text(sim.hostname, 40), 'streamed whole, without "[/]" or the empty line above it');
  t.equal(s.promptContext, '[/]');
  // An error ends in its MINOR line; the carets above it stay, the context line does not.
  const [bad] = await s.runBatch(batch(['show foo']));
  t.match(bad?.output, /^ +\^\^\^\nMINOR: CLI #2001: Unknown element - 'foo'\n$/);
});

t.test('SR OS MD-CLI: a batch that enters a configuration mode itself is committed and left, never handed back inside it', async (t) => {
  const sim = await startSim(t, { platform: 'nokia_sros_mdcli' });
  const a = await openSimShell(t, sim);
  const b = await openSimShell(t, sim);
  // Exclusive mode, changes left uncommitted by the batch: the driver commits and quits (lock released).
  const rs = await a.runBatch(batch(['edit-config exclusive', 'configure system location "fra1"']));
  t.ok(rs.every((r) => !r.failed), JSON.stringify(rs));
  t.equal(a.promptContext, '[/]', 'back in operational mode');
  t.equal(sim.stats.commandCounts.get('commit'), 1, 'committed');
  const [taken] = await b.runBatch(batch(['edit-config exclusive', 'quit-config']));
  t.equal(taken?.failed, false, 'the exclusive lock was released');
  // A failed commit in exclusive mode: the last command fails, the candidate is dropped, the lock released.
  const bad = await a.runBatch(batch(['edit-config exclusive', 'configure system location "commit-error"']));
  t.match(bad.at(-1)?.error, /^commit: MINOR: MGMT_CORE #4001: /);
  t.equal(a.promptContext, '[/]');
  t.equal(a.dirty, false);
  const [again] = await b.runBatch(batch(['edit-config exclusive', 'quit-config']));
  t.equal(again?.failed, false, 'released after the failed commit too');
  // In configuration mode the level comes from the context line (the prompt line never changes).
  const seen: string[] = [];
  await a.runBatch(batch(['configure port 1/1/1', 'description "x"'], { configure: true, onResult: () => seen.push(a.promptContext) }));
  t.same(seen, ['(pr)[/configure port 1/1/1]', '*(pr)[/configure port 1/1/1]']);
  t.equal(a.prompt, 'A:admin@pe1#');
});

t.test('SR OS MD-CLI: admin reboot asks before it acts, and the question is answered only when asked to', async (t) => {
  const { answerPattern } = await import('../src/session/answers.js');
  const sim = await startSim(t, { platform: 'nokia_sros_mdcli' });
  const s = await openSimShell(t, sim);
  const no = { source: '\\(y/n\\)\\?', pattern: answerPattern('\\(y/n\\)\\?', 'answers[0].expect'), reply: 'n', secret: false };
  const [r] = await s.runBatch(batch(['admin reboot'], { answers: [no] }));
  t.equal(r?.failed, false);
  t.match(r?.output, /Are you sure you want to reboot \(y\/n\)\? n/);
  t.equal(s.dirty, false);
  await t.rejects(s.runBatch(batch(['admin reboot'], { timeoutMs: () => 300 })), { code: 'COMMAND_TIMEOUT', message: /ended at a question: "Are you sure you want to reboot \(y\/n\)\?"/ });
});

t.test('SR OS MD-CLI: a session that cannot leave configuration mode cleanly is discarded, never handed back', async (t) => {
  const sim = await startSim(t, { platform: 'nokia_sros_mdcli' });
  // The commit fails and quit-config refuses while changes are uncommitted: discard, then quit-config.
  const s = await openSimShell(t, sim);
  const rs = await s.runBatch(batch(['configure system location "commit-error quit-refused"'], { configure: true }));
  t.match(rs.at(-1)?.error, /^commit: MINOR: MGMT_CORE #4001: /);
  t.equal(sim.stats.commandCounts.get('discard'), 1, 'the candidate was discarded');
  t.equal(s.promptContext, '[/]', 'and configuration mode left');
  t.equal(s.dirty, false);
  // The commit never answers: the session's state is unknown, so it is marked for replacement.
  const hung = await openSimShell(t, sim);
  await t.rejects(hung.runBatch(batch(['configure system location "commit-hang"'], { configure: true, timeoutMs: () => 400 })), { code: 'COMMAND_TIMEOUT' });
  t.equal(hung.dirty, true, 'never handed to the next caller');
  await t.rejects(hung.runBatch(batch(['show version'])), { code: 'UNEXPECTED_PROMPT', message: /session is not reusable/ });
});
