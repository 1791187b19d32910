/**
 * End of output: show commands are followed by a typed-ahead empty line, so their output ends
 * with "prompt, empty line, prompt", and a line of output that looks like the prompt cannot end
 * them early. Against the simulator over real SSH connections.
 */
import t from 'tap';
import { resolveProfile } from '../src/platforms/profiles.js';
import { asksNoQuestion } from '../src/session/prompt.js';
import { fakePromptOutput } from '../src/sim/hostile.js';
import { batch, openSimShell, simDeviceSpec, startSim } from './kit/sim.js';

t.test('only commands that abbreviate a question-free word get the marker', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios' });
  const ios = resolveProfile(simDeviceSpec(sim));
  const cases: Array<[string, boolean]> = [
    ['show version', true],
    ['sh run', true],
    ['  SHOW clock', true],
    ['sho', true],
    ['s', false],
    ['reload', false],
    ['copy running-config startup-config', false],
    ['delete flash:x', false],
    ['clear counters', false],
    ['ping', false],
    ['showx', false],
    ['', false],
  ];
  for (const [cmd, want] of cases) t.equal(asksNoQuestion(ios, cmd), want, JSON.stringify(cmd));
  const linux = resolveProfile(simDeviceSpec(sim, { platform: 'linux' }));
  t.equal(asksNoQuestion(linux, 'show version'), false, 'Linux shells never get the marker');
});

for (const platform of ['cisco_ios', 'cisco_nxos', 'arista_eos', 'juniper_junos'] as const) {
  t.test(`${platform}: the device answers typed-ahead input at login, so show commands use the marker`, async (t) => {
    const sim = await startSim(t, { platform, runConfigLines: 50 });
    const s = await openSimShell(t, sim);
    t.equal(s.endMarker, true);
    const before = sim.stats.commandsRun;
    const rs = await s.runBatch(batch(['show version', 'show version']));
    t.equal(rs.length, 2);
    t.equal(rs[0]?.output, rs[1]?.output, 'same output twice: nothing of the marker leaks into the next command');
    t.notMatch(rs[0]?.output ?? '', new RegExp(`^${s.prompt.replace(/[^\w]/g, '\\$&')}\\s*$`, 'm'), 'the end prompts are not part of the output');
    t.equal(sim.stats.commandsRun - before, 2, 'the empty lines are not commands');
    t.equal(s.dirty, false);
  });
}

t.test('a device that throws typed-ahead input away gets no marker; commands end at the prompt as before', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios', faults: { flushTypeahead: true } });
  const s = await openSimShell(t, sim, {}, { settleMs: 20 });
  t.equal(s.endMarker, false);
  const [r] = await s.runBatch(batch(['show version']));
  t.match(r?.output, /Cisco IOS/);
  t.equal(s.dirty, false);
});

t.test('a device that stops answering the marker: the output is accepted after the fallback and the session is replaced', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios' });
  const s = await openSimShell(t, sim, {}, { markerFallbackMs: 150 });
  t.equal(s.endMarker, true);
  sim.setFault({ flushTypeahead: true });
  const [r] = await s.runBatch(batch(['show version']));
  t.match(r?.output, /Cisco IOS/);
  t.equal(r?.failed, false);
  t.equal(s.dirty, true, 'not handed to the next caller');
});

t.test('commands that may ask a question are sent without the marker', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios' });
  const s = await openSimShell(t, sim, {}, { markerFallbackMs: 60_000 });
  t.equal(s.endMarker, true);
  // With the marker and no answer to it, this would wait out the (long) fallback; the command
  // timeout of the batch is 5 s, so a wrong decision fails the test with COMMAND_TIMEOUT.
  sim.setFault({ flushTypeahead: true });
  const [r] = await s.runBatch(batch(['terminal length 0']));
  t.equal(r?.failed, false);
  t.equal(s.dirty, false);
});

t.test('a show command printing the prompt as a line of output, then pausing, is returned whole', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios', hostile: true });
  const s = await openSimShell(t, sim);
  t.equal(s.endMarker, true);
  const [r] = await s.runBatch(batch(['show hostile fake-prompt 200']));
  t.equal(r?.output, fakePromptOutput(s.prompt));
  t.equal(r?.failed, false);
  t.equal(s.dirty, false);
  const [next] = await s.runBatch(batch(['show version']));
  t.match(next?.output, /^Cisco IOS/, 'the session is in step for the next command');
});
