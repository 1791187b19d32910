/**
 * The shell driver when things go wrong or get big: timeouts, hangs, cancellation,
 * device-side idle close, connection drops, multi-MB output, slow consumers.
 */
import t from 'tap';
import { numberedLinesText } from '../src/sim/platforms.js';
import { batch, openSimShell, startSim } from './kit/sim.js';

t.test('a command that outlives its timeout rejects COMMAND_TIMEOUT and marks the session dirty', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios' });
  const s = await openSimShell(t, sim);
  const t0 = Date.now();
  await t.rejects(s.runBatch(batch(['sleep 3'], { timeoutMs: () => 200 })), { code: 'COMMAND_TIMEOUT' });
  t.ok(Date.now() - t0 < 1500);
  t.equal(s.dirty, true);
  await t.rejects(s.runBatch(batch(['show clock'])), { code: 'UNEXPECTED_PROMPT' }, 'a dirty session refuses work');
});

t.test('a device that never returns its prompt (hang fault) times out', async (t) => {
  const sim = await startSim(t, { platform: 'arista_eos' });
  const s = await openSimShell(t, sim);
  sim.setFault({ hang: true });
  await t.rejects(s.runBatch(batch(['show version'], { timeoutMs: () => 150 })), { code: 'COMMAND_TIMEOUT' });
  t.equal(s.dirty, true);
});

t.test('aborting the signal mid-command rejects CANCELLED and marks the session dirty', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios' });
  const s = await openSimShell(t, sim);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  await t.rejects(s.runBatch(batch(['sleep 3'], { signal: ac.signal })), { code: 'CANCELLED' });
  t.equal(s.dirty, true);
});

t.test('the device closing an idle session (exec-timeout) fires onClose with CONNECTION_LOST', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios', faults: { idleCloseMs: 300 } });
  const s = await openSimShell(t, sim);
  const closed = new Promise<Error | undefined>((resolve) => s.onClose(resolve));
  const err = await closed;
  t.match(err, { code: 'CONNECTION_LOST' });
  t.equal(s.dirty, true);
  await t.rejects(s.runBatch(batch(['show clock'])), { code: 'CONNECTION_LOST' });
});

t.test('keepalive nudges keep an idle-closing device open and the prompt in sync', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios', faults: { idleCloseMs: 400 } });
  const s = await openSimShell(t, sim);
  let closed = false;
  s.onClose(() => (closed = true));
  for (let i = 0; i < 6; i++) {
    await new Promise((r) => setTimeout(r, 150));
    await s.keepalive();
  }
  t.equal(closed, false, 'still open after 900 ms of nudges');
  await s.probe();
  const [r] = await s.runBatch(batch(['show clock']));
  t.match(r?.output, /^\*\d\d:\d\d:\d\d\.\d{3} UTC/);
});

t.test('a connection dropped in the middle of output rejects CONNECTION_LOST', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios' });
  const s = await openSimShell(t, sim);
  sim.setFault({ dropMidOutput: true });
  await t.rejects(s.runBatch(batch(['show version'])), { code: 'CONNECTION_LOST' });
  t.equal(s.dirty, true);
});

t.test('the device being killed while idle fires onClose once; close() by us fires nothing', async (t) => {
  const sim = await startSim(t, { platform: 'juniper_junos' });
  const a = await openSimShell(t, sim);
  const b = await openSimShell(t, sim);
  let aCalls = 0;
  let bCalls = 0;
  a.onClose(() => aCalls++);
  b.onClose(() => bCalls++);
  await b.close();
  const lost = new Promise<void>((resolve) => a.onClose(() => resolve()));
  sim.kill();
  await lost;
  await new Promise((r) => setTimeout(r, 50));
  t.equal(aCalls, 1);
  t.equal(bCalls, 0);
});

t.test('a 2 MB output arrives intact: exact line count and content', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios' });
  const s = await openSimShell(t, sim);
  const n = 40_000; // ~2.3 MB
  const [r] = await s.runBatch(batch([`show lines ${n}`], { timeoutMs: () => 20_000 }));
  const expected = numberedLinesText(n);
  t.ok(expected.length > 2_000_000);
  t.equal(r?.output.length, expected.length);
  t.equal(r?.output.split('\n').length - 1, n);
  t.ok(r?.output === expected, 'byte-for-byte equal');
});

t.test('streaming: chunks add up to the output, and a slow consumer pauses the device', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_nxos' });
  const s = await openSimShell(t, sim);
  const chunks: string[] = [];
  let inFlight = 0;
  let overlapped = false;
  const [r] = await s.runBatch(
    batch(['show lines 20000'], {
      timeoutMs: () => 20_000,
      onChunk: async (i, d) => {
        t.equal(i, 0);
        if (inFlight++ > 0) overlapped = true;
        chunks.push(d);
        await new Promise((res) => setTimeout(res, 1));
        inFlight--;
      },
    }),
  );
  t.equal(overlapped, false, 'never called again before the previous promise settled');
  t.ok(chunks.length > 1, `${chunks.length} chunks`);
  t.equal(chunks.join(''), numberedLinesText(20_000));
  t.equal(r?.output, '', 'a streamed command keeps no output: the chunks carried it');
});

t.test('per-command latency and a slow login (TACACS) are waited for', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios', perCommandLatencyMs: 30, loginDelayMs: 200 });
  const t0 = Date.now();
  const s = await openSimShell(t, sim);
  t.ok(Date.now() - t0 >= 200);
  const rs = await s.runBatch(batch(['show clock', 'show version']));
  t.ok(rs.every((r) => !r.failed && r.durationMs >= 25));
});

t.test('login that never shows a settled prompt fails CONNECT_TIMEOUT within the login timeout and closes the connection', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios' });
  // A login timeout shorter than the settle period: the prompt is never accepted in time.
  await t.rejects(openSimShell(t, sim, {}, { loginTimeoutMs: 30, settleMs: 100 }), { code: 'CONNECT_TIMEOUT' });
  await new Promise((r) => setTimeout(r, 100));
  t.equal(sim.stats.connections, 0, 'connection closed');
});

t.test('log messages printed while idle are drained; the next command and keepalive stay in step', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios' });
  const s = await openSimShell(t, sim);
  sim.notify('*Nov 23 12:00:00.000: %SYS-5-CONFIG_I: Configured from console by admin on vty0');
  await new Promise((r) => setTimeout(r, 50));
  const [r] = await s.runBatch(batch(['show clock']));
  t.match(r?.output, /^\*\d\d:\d\d:\d\d\.\d{3} UTC [^\n]+\n$/);
  sim.notify('%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to up');
  await s.keepalive();
  const [v] = await s.runBatch(batch(['show version']));
  t.match(v?.output, /^Cisco IOS XE Software/);
  t.equal(s.dirty, false);
});

t.test('a log message racing with a command does not end the command early at the reprinted prompt', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios', perCommandLatencyMs: 80 });
  const s = await openSimShell(t, sim);
  // The message arrives after the command was sent but before its output.
  setTimeout(() => sim.notify('%SYS-5-CONFIG_I: Configured from console'), 20);
  const [r] = await s.runBatch(batch(['show version']));
  t.match(r?.output, /Configuration register is 0x2102\n$/, 'the whole output, not cut at the reprinted prompt');
  const [c] = await s.runBatch(batch(['show clock']));
  t.match(c?.output, /^\*\d\d:\d\d:\d\d\.\d{3} UTC [^\n]+\n$/);
});

t.test('a log message arriving before the echo does not end the read at the prompt reprinted with it', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios' });
  const s = await openSimShell(t, sim);
  // Printed by the device just before it reads our command: message + prompt, then the echo.
  const before = sim.stats.commandsRun;
  const run = s.runBatch(batch(['show clock']));
  sim.notify('%SYS-5-CONFIG_I: Configured from console');
  const [r] = await run;
  t.equal(sim.stats.commandsRun, before + 1);
  t.match(r?.output, /\*\d\d:\d\d:\d\d\.\d{3} UTC [^\n]+\n$/, 'ends with the real output');
  const [c] = await s.runBatch(batch(['show clock']));
  t.match(c?.output, /^\*\d\d:\d\d:\d\d\.\d{3} UTC [^\n]+\n$/, 'and stays in step');
});
