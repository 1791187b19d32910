/**
 * Configuration intent read from the command (src/auth/intent.ts), and `configure: false`
 * refusing configuration sent as plain commands — in the policy, and end to end through the
 * daemon against a simulated IOS device whose hostname must not change.
 */
import t from 'tap';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyCommand, commandIntent, grammarFor, type Intent } from '../src/auth/intent.js';
import { Policy } from '../src/auth/policy.js';
import type { Caller } from '../src/auth/caller.js';
import { startSim } from './kit/sim.js';
import { m, simSpec, startTestDaemon } from './kit/daemon.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
t.comment(`fast-check seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
const esc = (v: string): string => JSON.stringify(v).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

t.test('commandIntent per platform', async (t) => {
  const cases: Array<[string, string, Intent]> = [
    ['cisco_ios', 'show version', 'read'],
    ['cisco_ios', 'sh ip int br', 'read'],
    ['cisco_ios', 'show run | include hostname', 'read'],
    ['cisco_ios', 'ping 10.0.0.1', 'read'],
    ['cisco_ios', 'dir flash:', 'read'],
    ['cisco_ios', 'configure terminal', 'configure'],
    ['cisco_ios', 'conf t', 'configure'],
    ['cisco_ios', 'config t', 'configure'],
    ['cisco_ios', 'CONF   T', 'configure'],
    ['cisco_ios', 'crypto key generate rsa', 'configure'],
    ['cisco_ios', 'boot system flash:x', 'configure'],
    ['cisco_ios', 'setup', 'configure'],
    ['cisco_ios', 'wr', 'operational-change'],
    ['cisco_ios', 'write memory', 'operational-change'],
    ['cisco_ios', 'copy running-config startup-config', 'operational-change'],
    ['cisco_ios', 'reload in 5', 'operational-change'],
    ['cisco_ios', 'rel', 'operational-change'],
    ['cisco_ios', 'delete flash:x', 'operational-change'],
    ['cisco_ios', 'erase startup-config', 'operational-change'],
    ['cisco_ios', 'format flash:', 'operational-change'],
    ['cisco_ios', 'clear counters', 'operational-change'],
    ['cisco_ios', 'debug all', 'operational-change'],
    ['cisco_ios', 'undebug all', 'operational-change'],
    ['cisco_ios', 'u all', 'operational-change'],
    ['cisco_ios', 'test crypto', 'operational-change'],
    ['cisco_ios', 'license boot level x', 'operational-change'],
    ['cisco_ios', 'install add file flash:x', 'operational-change'],
    ['cisco_ios', 'terminal length 24', 'operational-change'],
    ['cisco_ios', 'end', 'operational-change'],
    ['cisco_ios', 'hostname X', 'operational-change'], // not a read: unknown verbs are never reads
    ['cisco_ios', 'show run | redirect flash:x', 'operational-change'],
    ['cisco_ios', 'show run | red flash:x', 'operational-change'],
    ['cisco_ios', 'show run > flash:x', 'operational-change'],
    ['cisco_ios', 'show version\nconf t', 'operational-change'],
    ['cisco_ios', '\u0455how version', 'operational-change'],
    ['cisco_nxos', 'show version | json', 'read'],
    ['cisco_nxos', 'run bash id', 'operational-change'],
    ['cisco_nxos', 'show run | python', 'operational-change'],
    ['cisco_nxos', 'show version ; conf t', 'configure'],
    ['cisco_nxos', 'checkpoint c1', 'operational-change'],
    ['cisco_nxos', 'rollback running-config checkpoint c1', 'configure'],
    ['arista_eos', 'show interfaces | json', 'read'],
    ['arista_eos', 'bash', 'operational-change'],
    ['arista_eos', 'configure session s1', 'configure'],
    ['juniper_junos', 'show configuration | display set', 'read'],
    ['juniper_junos', 'file show /var/log/messages', 'read'],
    ['juniper_junos', 'file delete /var/tmp/x', 'operational-change'],
    ['juniper_junos', 'configure', 'configure'],
    ['juniper_junos', 'edit', 'configure'],
    ['juniper_junos', 'set cli screen-length 0', 'configure'],
    ['juniper_junos', 'delete interfaces ge-0/0/0', 'configure'],
    ['juniper_junos', 'commit', 'configure'],
    ['juniper_junos', 'rollback 1', 'configure'],
    ['juniper_junos', 'request system reboot', 'operational-change'],
    ['juniper_junos', 'start shell', 'operational-change'],
    ['juniper_junos', 'show configuration | save /var/tmp/x', 'operational-change'],
    ['generic', 'display version', 'read'],
    ['generic', 'get system status', 'read'],
    ['generic', 'system-view', 'configure'],
    ['generic', 'config system global', 'configure'],
    ['generic', 'sh', 'operational-change'],
    ['generic', 'execute reboot', 'operational-change'],
    ['linux', 'uname -a', 'read'],
    ['linux', 'ls -l /tmp', 'read'],
    ['linux', 'rm -rf /tmp/x', 'operational-change'],
    ['linux', 'id | sort -o /tmp/x', 'operational-change'],
    ['cisco_xe', 'conf t', 'configure'], // Netmiko names map to their CLI
    ['huawei', 'system-view', 'configure'], // unknown platforms: the generic table
  ];
  for (const [platform, command, intent] of cases) {
    t.equal(commandIntent(platform, command), intent, `${platform}: ${esc(command)} is ${intent}`);
  }
  t.match(classifyCommand('cisco_ios', 'conf t').reason, '"conf" may abbreviate "configure", a configuration command');
  t.match(classifyCommand('cisco_ios', 'show run | t flash:x').reason, '"| t" may abbreviate "| tee"');
});

t.test('which grammar applies is decided by platform and mode', async (t) => {
  t.same(grammarFor('linux', 'exec'), { kind: 'argv' });
  t.same(grammarFor('linux', 'shell'), { kind: 'argv' }, 'an interactive Linux shell is still a shell');
  t.same(grammarFor('cisco_ios', 'exec'), { kind: 'cli', platform: 'cisco_ios' }, 'an exec channel on a switch reaches its CLI');
  t.same(grammarFor('generic', 'shell'), { kind: 'cli', platform: 'generic' });
  t.same(grammarFor('generic', 'exec'), { kind: 'argv' }, 'exec on an unknown OS reaches a login shell');
  t.same(grammarFor('vyos', 'exec'), { kind: 'argv' });
  t.same(grammarFor('cisco_xe', 'shell'), { kind: 'cli', platform: 'cisco_ios' });
});

t.test('property: every prefix of a change verb is a change, never a read', async (t) => {
  const verbs: Record<string, string[]> = {
    cisco_ios: ['configure', 'copy', 'write', 'reload', 'delete', 'erase', 'format', 'clear', 'debug', 'undebug', 'test', 'license', 'install', 'crypto', 'boot', 'request', 'terminal', 'enable', 'tclsh'],
    cisco_nxos: ['configure', 'copy', 'write', 'reload', 'run', 'bash', 'guestshell', 'python', 'checkpoint', 'rollback', 'install', 'attach'],
    arista_eos: ['configure', 'copy', 'write', 'reload', 'bash', 'run', 'zerotouch', 'delete'],
    juniper_junos: ['configure', 'edit', 'set', 'delete', 'commit', 'rollback', 'load', 'request', 'restart', 'clear', 'start', 'test', 'op'],
    generic: ['configure', 'config', 'system-view', 'undo', 'save', 'execute', 'reboot', 'write', 'copy'],
  };
  let n = 0;
  for (const [platform, list] of Object.entries(verbs)) {
    for (const verb of list) {
      for (let len = 1; len <= verb.length; len++) {
        n++;
        const cmd = `${verb.slice(0, len)} x`;
        if (commandIntent(platform, cmd) === 'read') t.fail(`${platform}: ${cmd} classified as read`);
      }
    }
  }
  t.ok(n > 300, `${n} prefixes checked`);
  fc.assert(
    fc.property(fc.constantFrom('cisco_ios', 'cisco_nxos', 'arista_eos', 'juniper_junos', 'generic', 'linux'), fc.string({ maxLength: 30 }),
      fc.constantFrom('\n', '\r', '\u0000', '\u00a0', '\u2028', '\u001b', '\u0430'), fc.nat(), (platform, s, bad, pos) => {
        const at = pos % (s.length + 1);
        return commandIntent(platform, `${s.slice(0, at)}${bad}${s.slice(at)}`) !== 'read';
      }),
    { numRuns: 3000, seed: SEED },
  );
  fc.assert(
    fc.property(fc.constantFrom('cisco_ios', 'cisco_nxos', 'arista_eos', 'juniper_junos', 'generic'), fc.string({ maxLength: 30 }),
      fc.constantFrom(' > flash:x', ' >> x', ' | tee x', ' | redirect x', ' | save x', ' | bash', ' | python'), (platform, s, tail) =>
        commandIntent(platform, `show ${s}${tail}`) !== 'read'),
    { numRuns: 3000, seed: SEED },
  );
});

t.test('configure: false refuses configuration sent as plain commands, whatever the flags say', async (t) => {
  const p = Policy.parse('rules:\n  - callers: ["*"]\n    configure: false\n', 'p.yaml');
  const who: Caller = { name: 'ops', via: 'token' };
  const dev = (platform: string) => ({ id: `d-${platform}`, platform, mode: platform === 'linux' ? 'exec' : 'shell' });
  const deny: Array<[string, string]> = [
    ['cisco_ios', 'configure terminal'], ['cisco_ios', 'conf t'], ['cisco_ios', 'hostname X'], ['cisco_ios', 'end'], ['cisco_ios', 'wr'],
    ['cisco_ios', 'copy run start'], ['cisco_ios', 'reload'], ['cisco_ios', 'clear counters'], ['cisco_ios', 'debug all'],
    ['cisco_nxos', 'show version ; conf t'], ['arista_eos', 'configure session x'], ['juniper_junos', 'set system host-name X'],
    ['juniper_junos', 'commit'], ['juniper_junos', 'request system reboot'], ['generic', 'system-view'], ['linux', 'touch /tmp/x'],
  ];
  for (const [platform, command] of deny) {
    for (const configure of [false, undefined]) {
      const d = p.check(who, { rpc: 'Run', device: dev(platform), commands: ['show version', command], configure });
      t.notOk(d.allowed, `${platform}: ${command} (configure flag ${String(configure)}) refused`);
      if (!d.allowed) t.match(d.message, /denied by rule 1 \(configure: false: .+\)$/);
    }
  }
  t.throws(() => p.authorize(who, { rpc: 'Run', device: dev('cisco_ios'), commands: ['conf t'] }), {
    code: 'PERMISSION_DENIED',
    message: `caller ops may not run 'conf t' on d-cisco_ios: denied by rule 1 (configure: false: "conf" may abbreviate "configure", a configuration command)`,
  });
  for (const [platform, command] of [['cisco_ios', 'show running-config'], ['cisco_ios', 'sh ip int br'], ['juniper_junos', 'show route'], ['linux', 'uname -a']] as const) {
    t.ok(p.check(who, { rpc: 'Run', device: dev(platform), commands: [command] }).allowed, `${platform}: ${command} allowed`);
  }
  const open = Policy.parse('rules:\n  - callers: ["*"]\n', 'p.yaml');
  t.ok(open.check(who, { rpc: 'Run', device: dev('cisco_ios'), commands: ['conf t', 'hostname X', 'end'] }).allowed, 'a rule without configure: false does not classify');
  const bothWays = Policy.parse('rules:\n  - callers: ["*"]\n    configure: true\n', 'p.yaml');
  t.ok(bothWays.check(who, { rpc: 'Run', device: dev('cisco_ios'), commands: ['conf t'] }).allowed, 'configure: true allows it');
  const unknown = p.check(who, { rpc: 'Run', device: { id: 'no-platform' }, commands: ['conf t'] });
  t.notOk(unknown.allowed, 'a device of unknown platform is judged strictly');
});

t.test('privileged: false refuses enable and sudo sent as plain commands', async (t) => {
  const p = Policy.parse('rules:\n  - callers: ["*"]\n    privileged: false\n', 'p.yaml');
  const who: Caller = { name: 'ops', via: 'token' };
  const run = (platform: string, command: string) =>
    p.check(who, { rpc: 'Run', device: { id: 'd', platform, mode: platform === 'linux' ? 'exec' : 'shell' }, commands: [command] });
  for (const [platform, command] of [['cisco_ios', 'enable'], ['cisco_ios', 'en'], ['cisco_ios', 'ENA 15'], ['arista_eos', 'enable'], ['cisco_nxos', 'enable'],
    ['linux', 'sudo id'], ['linux', 'su -'], ['linux', '/usr/bin/sudo id'], ['generic', 'enable']] as const) {
    const d = run(platform, command);
    t.notOk(d.allowed, `${platform}: ${command} refused`);
    if (!d.allowed) t.match(d.message, 'denied by rule 1 (privileged: false: the command raises the privilege level)');
  }
  for (const [platform, command] of [['cisco_ios', 'show version'], ['cisco_ios', 'exit'], ['linux', 'id']] as const) {
    t.ok(run(platform, command).allowed, `${platform}: ${command} allowed`);
  }
});

t.test('interactive answer replies are checked like commands and never quoted', async (t) => {
  const p = Policy.parse('rules:\n  - callers: ["*"]\n    configure: false\n', 'p.yaml');
  const who: Caller = { name: 'ops', via: 'token' };
  const device = { id: 'r1', platform: 'cisco_ios', mode: 'shell' };
  const d = p.check(who, { rpc: 'Run', device, commands: ['show version'], answerReplies: ['conf t'] });
  t.notOk(d.allowed, 'a reply that configures is refused');
  if (!d.allowed) t.equal(d.message, 'caller ops may not send interactive answer 1 on r1: denied by rule 1 (configure: false: interactive answers are refused where only reads are allowed)');
  const secret = p.check(who, { rpc: 'Run', device, commands: ['show version'], answerReplies: ['hunter2-secret'] });
  t.notOk(secret.allowed, 'an unknown reply (a confirmation, a password) is not a read');
  if (!secret.allowed) t.equal(secret.message, 'caller ops may not send interactive answer 1 on r1: denied by rule 1 (configure: false: interactive answers are refused where only reads are allowed)');
  for (const reply of ['', 'show version']) {
    t.notOk(p.check(who, { rpc: 'Run', device, commands: ['show version'], answerReplies: [reply] }).allowed, `reply ${JSON.stringify(reply)} refused too: an empty reply confirms a [confirm]`);
  }
  const ro = Policy.parse('rules:\n  - callers: ["*"]\n    presets: [read-only]\n', 'p.yaml').check(who, { rpc: 'Run', device, commands: ['show version'], answerReplies: [''] });
  t.notOk(ro.allowed, 'the read-only preset refuses answers');
  if (!ro.allowed) t.match(ro.message, 'denied by rule 1 (preset read-only: interactive answers are refused where only reads are allowed)');
  const allow = Policy.parse('rules:\n  - callers: ["*"]\n    commands: { allow: ["^copy ", "^$"] }\n', 'p.yaml');
  t.ok(allow.check(who, { rpc: 'Run', device, commands: ['copy run start'], answerReplies: [''] }).allowed, 'an allow list that names the reply allows it');
  t.notOk(allow.check(who, { rpc: 'Run', device, commands: ['copy run start'], answerReplies: ['y'] }).allowed, 'an allow list applies to replies too');
  t.ok(Policy.parse('rules:\n  - callers: ["*"]\n', 'p.yaml').check(who, { rpc: 'Run', device, commands: ['copy a b'], answerReplies: ['y'] }).allowed);
});

t.test('commands with control characters are refused by every rule that restricts commands', async (t) => {
  const p = Policy.parse('rules:\n  - callers: ["*"]\n    commands: { allow: ["^show "] }\n', 'p.yaml');
  const who: Caller = { name: 'ops', via: 'token' };
  const d = p.check(who, { rpc: 'Run', device: { id: 'r1', platform: 'cisco_ios', mode: 'shell' }, commands: ['show version\u000bconf t'] });
  t.notOk(d.allowed);
  if (!d.allowed) t.match(d.message, 'contains the control character U+000B');
  const ansi = p.check(who, { rpc: 'Run', device: { id: 'r1', platform: 'cisco_ios', mode: 'shell' }, commands: ['show version\u001b[2J'] });
  if (!ansi.allowed) t.match(ansi.message, "may not run 'show version\\u001b[2J'", 'the message shows the control character escaped, never raw');
  t.notOk(ansi.allowed);
  t.ok(p.check(who, { rpc: 'Run', device: { id: 'r1', platform: 'cisco_ios', mode: 'shell' }, commands: ['show\tversion'] }).allowed, 'tab is whitespace');
});

t.test('end to end: configure: false keeps a simulated IOS device unchanged through the daemon', async (t) => {
  const guardedSim = await startSim(t, { platform: 'cisco_ios', hostname: 'guarded-r1' });
  const openSim = await startSim(t, { platform: 'cisco_ios', hostname: 'open-r1' });
  const dir = mkdtempSync(join(tmpdir(), 'warmpool-intent-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(policyFile, [
    'rules:',
    '  - callers: ["anonymous"]',
    '    devices: { ids: ["guarded"] }',
    '    configure: false',
    '  - callers: ["anonymous"]',
    '    devices: { ids: ["open"] }',
    '',
  ].join('\n'));
  const td = await startTestDaemon({
    argv: ['--grpc.auth.policyFile', policyFile],
    devices: [simSpec(guardedSim, 'guarded'), simSpec(openSim, 'open')],
  });
  t.teardown(() => td.stop());
  const run = m(td.proxy, 'Run');
  const hostnameOf = async (device: string): Promise<string> => {
    const r = (await td.call(run, { device, commands: ['show version'] })) as { results: Array<{ output: string }> };
    return r.results[0]!.output;
  };
  const change = ['configure terminal', 'hostname PWNED', 'end'];
  for (const configure of [false, true]) {
    const err = (await td.call(run, { device: 'guarded', commands: change, configure, privileged: true }).catch((e: unknown) => e)) as { code?: number; details?: string };
    t.equal(err.code, 7, `guarded device: PERMISSION_DENIED (configure flag ${configure})`);
    t.match(err.details ?? '', /configure/);
  }
  const guarded = await hostnameOf('guarded');
  t.match(guarded, /guarded-r1 uptime/, 'the guarded device kept its hostname');
  t.notMatch(guarded, /PWNED/);
  // The same commands do change a device whose rule allows configuration: the refusal above is the policy's doing.
  await td.call(run, { device: 'open', commands: change, privileged: true });
  t.match(await hostnameOf('open'), /PWNED uptime/, 'the open device was reconfigured by plain commands');
});
