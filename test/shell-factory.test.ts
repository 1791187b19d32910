import t from 'tap';
import { silentLogger } from '../src/core/logger.js';
import { createSshSessionFactory } from '../src/drivers/ssh-factory.js';
import { batch, simDeviceSpec, startSim } from './kit/sim.js';

t.test('the factory opens a shell session for shell-mode devices', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios' });
  const f = createSshSessionFactory(simDeviceSpec(sim), { logger: silentLogger });
  const s = await f.open(new AbortController().signal);
  t.teardown(() => s.close());
  t.equal(s.mode, 'shell');
  const [r] = await s.runBatch(batch(['show clock']));
  t.match(r?.output, /^\*\d\d:\d\d/);
  await s.probe();
});

t.test('the factory opens an exec session for exec-mode devices', async (t) => {
  const sim = await startSim(t, { platform: 'linux' });
  const f = createSshSessionFactory(simDeviceSpec(sim, { mode: 'exec' }), { logger: silentLogger });
  const s = await f.open(new AbortController().signal);
  t.teardown(() => s.close());
  t.equal(s.mode, 'exec');
  const rs = await s.runBatch(batch(['echo hi', 'false']));
  t.equal(rs[0]?.output, 'hi\n');
  t.equal(rs[1]?.exitStatus, 1);
});

t.test('open fails with the connection error and leaves nothing connected', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios', faults: { refuseAuth: true } });
  const f = createSshSessionFactory(simDeviceSpec(sim), { logger: silentLogger });
  await t.rejects(f.open(new AbortController().signal), { code: 'AUTH_FAILED' });
  for (let i = 0; i < 50 && sim.stats.connections > 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(sim.stats.connections, 0);
});

t.test('an aborted open (slow login) is CANCELLED and closes the connection', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios', loginDelayMs: 2000 });
  const f = createSshSessionFactory(simDeviceSpec(sim), { logger: silentLogger });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  await t.rejects(f.open(ac.signal), { code: 'CANCELLED' });
  for (let i = 0; i < 100 && sim.stats.connections > 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(sim.stats.connections, 0);
});

t.test('an open aborted while waiting for the prompt is CANCELLED and closes the connection', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios', perCommandLatencyMs: 1000 });
  const f = createSshSessionFactory(simDeviceSpec(sim), { logger: silentLogger });
  const ac = new AbortController();
  // Paging command takes 1 s on this device: abort during it.
  setTimeout(() => ac.abort(), 400);
  await t.rejects(f.open(ac.signal), { code: 'CANCELLED' });
  for (let i = 0; i < 100 && sim.stats.connections > 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(sim.stats.connections, 0);
});
