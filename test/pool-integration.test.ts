import t from 'tap';
import { status } from '@grpc/grpc-js';
import { startSimDevice } from '../src/sim/ssh-device.js';
import { waitFor } from './kit/wait.js';
import { startTestDaemon, simSpec, m } from './kit/daemon.js';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any


t.test('500 concurrent requests on a device with max 3 all succeed; the device never sees more than 3 connections', async (t) => {
  const sim = await startSimDevice({ platform: 'cisco_ios' });
  t.teardown(() => sim.close());
  const td = await startTestDaemon({ devices: [simSpec(sim, 'r1', { pool: { max: 3, maxWaiting: 500 } })] });
  t.teardown(() => td.stop());
  const run = m(td.proxy, 'Run');
  const results = await Promise.all(Array.from({ length: 500 }, (_, i) => td.call<object, Any>(run, { device: 'r1', commands: [`show lines ${1 + (i % 5)}`] })));
  t.equal(results.length, 500);
  t.ok(results.every((r) => !r.results[0].failed && r.results[0].output.split('\n').filter(Boolean).length >= 1), 'every reply is clean');
  t.ok(sim.stats.maxConnections <= 3, `peak connections at the device: ${sim.stats.maxConnections}`);
  const stats: Any = await td.call(m(td.admin, 'GetPoolStats'), { devices: ['r1'] });
  t.equal(stats.pools[0].busy, 0);
  t.equal(stats.pools[0].waiting, 0);
  t.equal(stats.pools[0].acquired_total, '500');
});

t.test('killing the device mid-command gives UNAVAILABLE promptly; the pool recovers when it is back', async (t) => {
  const sim = await startSimDevice({ platform: 'cisco_ios' });
  t.teardown(() => sim.close());
  const td = await startTestDaemon({ devices: [simSpec(sim, 'r1', { pool: { max: 2 } })] });
  t.teardown(() => td.stop());
  const run = m(td.proxy, 'Run');
  const pending = td.call(run, { device: 'r1', commands: ['sleep 5'] }).catch((e: Any) => e as Any);
  await waitFor(() => (sim.stats.commandCounts.get('sleep 5') ?? 0) > 0, 'command to start');
  const t0 = Date.now();
  sim.kill();
  const err = (await pending) as Any;
  t.equal(err.code, status.UNAVAILABLE);
  t.match(err.details, /r1/);
  t.ok(Date.now() - t0 < 3000, 'reported promptly, not after the command timeout');
  const ok: Any = await td.call(run, { device: 'r1', commands: ['show clock'] });
  t.equal(ok.results[0].failed, false, 'a fresh session serves the next call');
  t.equal(ok.session.reused, false);
});

t.test('random disconnects under load end with the pool back at baseline (bounded: 8 s)', async (t) => {
  const sim = await startSimDevice({ platform: 'arista_eos' });
  t.teardown(() => sim.close());
  const td = await startTestDaemon({ devices: [simSpec(sim, 'sw', { pool: { max: 3, maxWaiting: 100 } })] });
  t.teardown(() => td.stop());
  const run = m(td.proxy, 'Run');
  const end = Date.now() + 8000;
  let ok = 0;
  let failed = 0;
  const codes = new Set<number>();
  const worker = async () => {
    while (Date.now() < end) {
      try {
        await td.call(run, { device: 'sw', commands: ['show version', 'show clock'] }, { deadlineMs: 5000 });
        ok++;
      } catch (e) {
        failed++;
        codes.add((e as { code: number }).code);
        // A client backs off a little before retrying UNAVAILABLE. The pool fails calls at once
        // while it has no session to give (it used to hold them through its reconnect backoff);
        // eight callers retrying in a tight loop would only spin this shared 2-core box and slow
        // the logins the killer is racing.
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const killer = (async () => {
    let seed = 7;
    while (Date.now() < end - 1500) {
      seed = (seed * 48271) % 2147483647;
      await new Promise((r) => setTimeout(r, 100 + (seed % 400)));
      sim.kill();
    }
  })();
  await Promise.all([killer, ...Array.from({ length: 8 }, worker)]);
  t.ok(ok > 50, `${ok} calls succeeded, ${failed} failed`);
  for (const c of codes) t.ok([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.ABORTED].includes(c), `only documented codes (${c})`);
  await waitFor(() => {
    const s = td.daemon.stats(['sw'])[0]!;
    return s.busy === 0 && s.waiting === 0 && s.connecting === 0;
  }, 'pool to settle');
  const s = td.daemon.stats(['sw'])[0]!;
  t.ok(s.idle <= 3, 'never more than max sessions');
  // The churn may have left the circuit open (connects cut mid-login count as failures); calls
  // fail fast until its trial connect succeeds. Service must resume within the open period.
  let after: Any;
  const until = Date.now() + 30_000;
  do {
    after = await td.call(run, { device: 'sw', commands: ['show clock'] }, { deadlineMs: 5_000 }).catch((e) => e);
    if (after.results) break;
    await new Promise((r) => setTimeout(r, 250));
  } while (Date.now() < until);
  t.equal(after.results?.[0]?.failed, false, `the device is served again after the churn (${after.details ?? 'ok'})`);
  t.ok(sim.stats.maxConnections <= 3, `peak connections ${sim.stats.maxConnections}`);
});
