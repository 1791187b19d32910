import t from 'tap';
import { status } from '@grpc/grpc-js';
import { startSimDevice } from '../src/sim/ssh-device.js';
import { startTestDaemon, simSpec, m } from './kit/daemon.js';
import type { RunResponse__Output } from '../src/gen/warmpool/v1/RunResponse.js';
import type { GetPoolStatsResponse__Output } from '../src/gen/warmpool/v1/GetPoolStatsResponse.js';

t.test('Run over the daemon', async (t) => {
  const ios = await startSimDevice({ platform: 'cisco_ios', hostname: 'r1' });
  t.teardown(() => ios.close());
  const td = await startTestDaemon({ devices: [simSpec(ios, 'r1', { pool: { min: 0, max: 2 } })] });
  t.teardown(() => td.stop());
  const run = m(td.proxy, 'Run');

  await t.test('returns clean output and reuses the session on the next call', async (t) => {
    const a = await td.call<object, RunResponse__Output>(run, { device: 'r1', commands: ['show version', 'show clock'] });
    t.equal(a.results.length, 2);
    t.match(a.results[0]!.output, /Cisco IOS/);
    t.notMatch(a.results[0]!.output, /show version|r1[>#]|\x1b|\r/, 'no echo, prompt, ANSI or CR');
    t.equal(a.results[0]!.failed, false);
    t.equal(a.session?.reused, false, 'first call opened the session');
    t.ok((a.session?.connect_ms ?? 0) > 0, 'connect time reported');
    const b = await td.call<object, RunResponse__Output>(run, { device: 'r1', commands: ['show version'] });
    t.equal(b.session?.reused, true, 'second call reused it');
    t.equal(b.session?.id, a.session?.id);
    t.equal(b.session?.connect_ms, 0);
    t.equal(ios.stats.totalConnections, 1, 'the device saw one connection');
  });

  await t.test('flags a failed command and stop_on_error stops the rest', async (t) => {
    const r = await td.call<object, RunResponse__Output>(run, { device: 'r1', commands: ['show bogus', 'show clock'], stop_on_error: true });
    t.equal(r.results.length, 1, 'the second command was not run');
    t.equal(r.results[0]!.failed, true);
    t.match(r.results[0]!.error, /% Invalid input/);
    const r2 = await td.call<object, RunResponse__Output>(run, { device: 'r1', commands: ['show bogus', 'show clock'] });
    t.equal(r2.results.length, 2, 'without stop_on_error both run');
  });

  await t.test('privileged and configure are entered and left around the commands', async (t) => {
    const r = await td.call<object, RunResponse__Output>(run, { device: 'r1', commands: ['show running-config'], privileged: true });
    t.match(r.results[0]!.output, /hostname r1/);
    const c = await td.call<object, RunResponse__Output>(run, { device: 'r1', commands: ['interface Gi0/1', 'description uplink'], configure: true });
    t.equal(c.results.every((x) => !x.failed), true);
    // The next caller gets the normal (unprivileged) state: show running-config is refused there.
    const after = await td.call<object, RunResponse__Output>(run, { device: 'r1', commands: ['show running-config'] });
    t.equal(after.results[0]!.failed, true, 'session back in user mode');
  });

  await t.test('serves an identical request from cache and coalesces in-flight duplicates', async (t) => {
    const before = ios.stats.commandCounts.get('show interfaces') ?? 0;
    const req = { device: 'r1', commands: ['show interfaces'], cache_ttl_ms: 60_000 };
    const results = await Promise.all(Array.from({ length: 5 }, () => td.call<object, RunResponse__Output>(run, req)));
    t.equal((ios.stats.commandCounts.get('show interfaces') ?? 0) - before, 1, 'five concurrent identical calls, one device round trip');
    const again = await td.call<object, RunResponse__Output>(run, req);
    t.equal(again.results[0]!.cached, true);
    t.equal(again.results[0]!.output, results[0]!.results[0]!.output);
    t.equal((ios.stats.commandCounts.get('show interfaces') ?? 0) - before, 1, 'still one round trip');
    // configure requests invalidate the device's cached results
    await td.call(run, { device: 'r1', commands: ['interface Gi0/2', 'shutdown'], configure: true });
    const fresh = await td.call<object, RunResponse__Output>(run, req);
    t.equal(fresh.results[0]!.cached, false, 'cache invalidated by configure');
  });

  await t.test('a deadline shorter than the command gives DEADLINE_EXCEEDED and the session is replaced', async (t) => {
    const err = await td.call(run, { device: 'r1', commands: ['hang'] }, { deadlineMs: 400 }).catch((e: { code: number }) => e);
    t.equal((err as { code: number }).code, status.DEADLINE_EXCEEDED);
    // The timed-out session is never handed out again: the next call works on a clean session.
    const ok = await td.call<object, RunResponse__Output>(run, { device: 'r1', commands: ['show clock'] });
    t.equal(ok.results[0]!.failed, false);
    t.notMatch(ok.results[0]!.output, /hang/);
  });

  await t.test('rejects malformed requests with INVALID_ARGUMENT naming the field', async (t) => {
    for (const [req, field] of [
      [{ device: 'r1', commands: [] }, 'commands'],
      [{ device: 'r1', commands: ['show ver\nreload'] }, 'commands[0]'],
      [{ device: 'r1', commands: ['show\u0007'] }, 'commands[0]'],
      [{ device: 'bad id!', commands: ['x'] }, 'device'],
      [{ device: 'r1', commands: ['x'], expect: '(' }, 'expect'],
    ] as const) {
      const e = (await td.call(run, req as never).catch((x: unknown) => x)) as { code: number; details: string };
      t.equal(e.code, status.INVALID_ARGUMENT, `${field} rejected`);
      t.match(e.details, field);
    }
  });

  await t.test('unknown device is NOT_FOUND', async (t) => {
    const e = (await td.call(run, { device: 'nope', commands: ['show clock'] }).catch((x: unknown) => x)) as { code: number; details: string };
    t.equal(e.code, status.NOT_FOUND);
    t.match(e.details, /nope/);
  });

  await t.test('pool stats report the device', async (t) => {
    const s = await td.call<object, GetPoolStatsResponse__Output>(m(td.admin, 'GetPoolStats'), { devices: ['r1'] });
    const p = s.pools.find((x) => x.protocol === 'ssh');
    t.ok(p);
    t.equal(p!.device, 'r1');
    t.equal(p!.max, 2);
    t.equal(p!.busy, 0);
    t.equal(p!.circuit, 'closed');
  });
});
