/**
 * The shell driver against each simulated platform, over real SSH connections.
 */
import t from 'tap';
import type { Platform } from '../src/config/types.js';
import { runningConfigText } from '../src/sim/platforms.js';
import { batch, openSimShell, startSim } from './kit/sim.js';
import { compilePattern } from '../src/core/pattern.js';

interface Case {
  platform: Platform;
  prompt: string;
  clock: string;
  clockRe: RegExp;
  showRun: string;
  bad: string;
  badError: RegExp;
  configLines: string[];
  privPrompt: string;
  configPrompt: RegExp;
}

const CASES: Case[] = [
  { platform: 'cisco_ios', prompt: 'Router>', clock: 'show clock', clockRe: /^\*\d\d:\d\d:\d\d\.\d{3} UTC \w{3} \w{3} \d+ \d{4}\n$/, showRun: 'show running-config', bad: 'show foo', badError: /^% Invalid input detected at '\^' marker\.$/, configLines: ['interface Gi0/1', 'description uplink', 'exit', 'logging host 192.0.2.9'], privPrompt: 'Router#', configPrompt: /^Router\(config(-if)?\)#$/ },
  { platform: 'cisco_nxos', prompt: 'switch#', clock: 'show clock', clockRe: /^\*\d\d:\d\d:\d\d/, showRun: 'show running-config', bad: 'show foo', badError: /^% Invalid command at '\^' marker\.$/, configLines: ['interface Eth1/1', 'description uplink'], privPrompt: 'switch#', configPrompt: /^switch\(config/ },
  { platform: 'arista_eos', prompt: 'sw1>', clock: 'show clock', clockRe: /^\*\d\d:\d\d:\d\d/, showRun: 'show running-config', bad: 'show foo', badError: /^% Invalid input$/, configLines: ['interface Ethernet1', 'description uplink'], privPrompt: 'sw1#', configPrompt: /^sw1\(config/ },
  { platform: 'juniper_junos', prompt: 'admin@router>', clock: 'show system uptime', clockRe: /^Current time: /, showRun: 'show configuration', bad: 'frobnicate', badError: /^unknown command\.$/, configLines: ['set interfaces ge-0/0/1 description uplink', 'set system ntp server 192.0.2.1'], privPrompt: 'admin@router>', configPrompt: /^admin@router#$/ },
];

for (const c of CASES) {
  t.test(c.platform, async (t) => {
    const sim = await startSim(t, { platform: c.platform, runConfigLines: 300 });

    t.test('logs in past a banner and MOTD full of # and > and learns the real prompt', async (t) => {
      const s = await openSimShell(t, sim);
      t.equal(s.prompt, c.prompt);
      const [r] = await s.runBatch(batch([c.clock]));
      t.match(r?.output, c.clockRe);
      t.equal(r?.failed, false);
    });

    t.test('paging is disabled: a long configuration arrives whole, without pager artefacts', async (t) => {
      const s = await openSimShell(t, sim);
      const [r] = await s.runBatch(batch([c.showRun], { privileged: true }));
      t.equal(r?.output, runningConfigText(c.platform, sim.hostname, 300));
      t.notMatch(r?.output, /more/i);
    });

    t.test('the pager is answered when paging cannot be disabled', async (t) => {
      const s = await openSimShell(t, sim, { pagingCommand: '' });
      const [r] = await s.runBatch(batch([c.showRun], { privileged: true }));
      t.equal(r?.output, runningConfigText(c.platform, sim.hostname, 300));
    });

    t.test('an invalid command is flagged with the error line', async (t) => {
      const s = await openSimShell(t, sim);
      const rs = await s.runBatch(batch([c.bad, c.clock]));
      t.equal(rs.length, 2);
      t.equal(rs[0]?.failed, true);
      t.equal(rs[0]?.exitStatus, 1);
      t.match(rs[0]?.error, c.badError);
      t.equal(rs[1]?.failed, false);
      const stopped = await s.runBatch(batch([c.bad, c.clock], { stopOnError: true }));
      t.equal(stopped.length, 1, 'stopOnError stops after the failing command');
    });

    t.test('a configuration batch enters config mode, follows sub-modes, and returns to the normal prompt', async (t) => {
      const s = await openSimShell(t, sim);
      const seen: string[] = [];
      const rs = await s.runBatch(batch(c.configLines, { configure: true, privileged: true, onResult: () => seen.push(s.prompt) }));
      t.equal(rs.length, c.configLines.length);
      t.ok(rs.every((r) => !r.failed), JSON.stringify(rs));
      for (const p of seen) t.match(p, c.configPrompt);
      t.equal(s.prompt, c.prompt, 'normal state restored');
      t.equal(s.dirty, false);
      if (c.platform === 'juniper_junos') t.equal(sim.stats.commandCounts.get('commit and-quit'), 1, 'Junos changes are committed');
      else t.ok((sim.stats.commandCounts.get('end') ?? 0) >= 1);
    });

    t.test('a privileged batch leaves the session at its normal level', async (t) => {
      const s = await openSimShell(t, sim);
      const seen: string[] = [];
      await s.runBatch(batch([c.clock], { privileged: true, onResult: () => seen.push(s.prompt) }));
      t.same(seen, [c.privPrompt]);
      t.equal(s.prompt, c.prompt);
      const [r] = await s.runBatch(batch([c.showRun]));
      if (c.prompt !== c.privPrompt) t.equal(r?.failed, true, 'unprivileged again: show run is refused');
      else t.equal(r?.failed, false);
    });

    t.test('expect ends a command at a matching line instead of the prompt', async (t) => {
      const s = await openSimShell(t, sim);
      const [r] = await s.runBatch(batch([c.showRun], { privileged: true, expect: compilePattern('^end$|^}$', { field: 'expect', kind: 'request', multiline: true }) }));
      t.equal(r?.output, runningConfigText(c.platform, sim.hostname, 300), 'output up to and including the expected line');
      t.equal(s.dirty, false, 'the prompt that followed was consumed');
      const [again] = await s.runBatch(batch([c.clock]));
      t.match(again?.output, c.clockRe, 'in sync afterwards');
    });

    t.test('1000 sequential commands on one session are all clean', async (t) => {
      const s = await openSimShell(t, sim);
      // 500 in one batch, then 500 batches of one command.
      const cmds = Array.from({ length: 1000 }, (_, i) => (i % 2 ? c.clock : 'show version'));
      const rs = await s.runBatch(batch(cmds.slice(0, 500)));
      for (const cmd of cmds.slice(500)) rs.push(...(await s.runBatch(batch([cmd]))));
      t.equal(rs.length, 1000);
      const leaks = rs.filter((r) => r.failed || r.output.includes(c.prompt) || r.output.includes(r.command) || /[\r\x1b\b]/.test(r.output));
      t.equal(leaks.length, 0, JSON.stringify(leaks.slice(0, 2)));
      t.ok(rs.filter((r) => r.command === c.clock).every((r) => c.clockRe.test(r.output)));
    });
  });
}

t.test('cisco_ios: wrong enable secret is AUTH_FAILED and the session is not reused', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios' });
  const s = await openSimShell(t, sim, { enableSecret: (await import('../src/config/secret.js')).Secret.fromValue('wrong') });
  await t.rejects(s.runBatch(batch(['show clock'], { privileged: true })), { code: 'AUTH_FAILED' });
  t.equal(s.dirty, true);
  t.notMatch(JSON.stringify(sim.stats.commandCounts), /wrong/, 'secret not counted as a command');
});

t.test('cisco_ios: a hostname change is followed in config mode and afterwards', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios' });
  const s = await openSimShell(t, sim);
  const rs = await s.runBatch(batch(['hostname EDGE-7', 'interface Gi0/2', 'description x'], { configure: true }));
  t.ok(rs.every((r) => !r.failed));
  t.equal(s.prompt, 'EDGE-7>');
  const [r] = await s.runBatch(batch(['show clock']));
  t.equal(r?.failed, false);
  t.notMatch(r?.output, /EDGE-7/);
});

t.test('linux shell: prompt with $, ANSI colours stripped, command-not-found flagged', async (t) => {
  const sim = await startSim(t, { platform: 'linux' });
  const s = await openSimShell(t, sim);
  t.equal(s.prompt, 'admin@host:~$');
  const rs = await s.runBatch(batch(['echo hello world', 'ls --color', 'nosuchcmd']));
  t.equal(rs[0]?.output, 'hello world\n');
  t.equal(rs[1]?.output, 'bin  etc  notes.txt\n');
  t.equal(rs[2]?.failed, true);
  await t.rejects(s.runBatch(batch(['true'], { configure: true })), { code: 'INVALID_ARGUMENT' });
  t.equal(s.dirty, false, 'a refused request does not spoil the session');
});

t.test('generic platform driven only by prompt, pagingCommand and enableCommand', async (t) => {
  const sim = await startSim(t, {
    platform: 'generic',
    genericPrompts: { user: '<edge-1>', priv: '[edge-1]', config: '[edge-1-cfg]' },
    pagingCommand: 'screen-length 0 temporary',
    enableCommand: 'super',
    runConfigLines: 100,
  });
  const s = await openSimShell(t, sim, { prompt: '^[<\\[]edge-1(-cfg)?[>\\]]\\s*$', pagingCommand: 'screen-length 0 temporary', enableCommand: 'super' });
  t.equal(s.prompt, '<edge-1>');
  t.equal(sim.stats.commandCounts.get('screen-length 0 temporary'), 1);
  const [r] = await s.runBatch(batch(['show version']));
  t.match(r?.output, /Cisco IOS XE Software/);
  t.equal(sim.stats.commandCounts.get('super'), undefined);
});

t.test('juniper_junos: a failed commit marks the last command failed, rolls back and leaves config mode', async (t) => {
  const sim = await startSim(t, { platform: 'juniper_junos' });
  const s = await openSimShell(t, sim);
  const rs = await s.runBatch(batch(['set system services commit-error', 'set system ntp server 192.0.2.1'], { configure: true }));
  t.equal(rs.length, 2);
  t.equal(rs[0]?.failed, false);
  t.equal(rs[1]?.failed, true);
  t.match(rs[1]?.error, /^commit and-quit: error: configuration check-out failed$/);
  t.equal(s.prompt, 'admin@router>');
  t.equal(s.dirty, false);
  t.equal(sim.stats.commandCounts.get('rollback 0'), 1);
  const [r] = await s.runBatch(batch(['show system uptime']));
  t.match(r?.output, /^Current time:/);
});

t.test('cisco_ios: a hostname changed through another session is followed on the next command', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios' });
  const a = await openSimShell(t, sim);
  const b = await openSimShell(t, sim);
  await a.runBatch(batch(['hostname CORE-2'], { configure: true }));
  t.equal(a.prompt, 'CORE-2>');
  const [r] = await b.runBatch(batch(['show clock']));
  t.equal(b.prompt, 'CORE-2>');
  t.match(r?.output, /^\*\d\d:\d\d:\d\d\.\d{3} UTC [^\n]+\n$/);
  await b.probe();
  t.equal(b.dirty, false);
});

t.test('a MOTD ending in a prompt-like line that stays alone for a while is not taken for the prompt', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios', motd: '*** NOTICE ***\nchange-freeze>', motdPauseMs: 150 });
  const s = await openSimShell(t, sim);
  t.equal(s.prompt, 'Router>');
  const [r] = await s.runBatch(batch(['show clock']));
  t.match(r?.output, /^\*\d\d:\d\d:\d\d\.\d{3} UTC [^\n]+\n$/, 'in step with the device after login');
  const [v] = await s.runBatch(batch(['show version']));
  t.match(v?.output, /^Cisco IOS XE Software/);
});
