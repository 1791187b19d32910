/**
 * Patterns through a real daemon (gRPC client, simulated SSH devices): a caller's
 * catastrophic `expect` no longer stalls the process, and patterns outside RE2 syntax
 * are refused with the field named, before any device is touched.
 */
import t from 'tap';
import { request } from 'node:http';
import { status } from '@grpc/grpc-js';
import { startSimDevice } from '../../src/sim/ssh-device.js';
import { startTestDaemon, simSpec, m } from '../kit/daemon.js';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One GET of /healthz; resolves with how long the answer took. */
function healthz(address: string): Promise<number> {
  const i = address.lastIndexOf(':');
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: address.slice(0, i), port: Number(address.slice(i + 1)), path: '/healthz', timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`/healthz answered ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('/healthz timed out')));
    req.on('error', reject);
    req.end();
  });
}

t.test('the catastrophic expect (a+a+)+b against 40 echoed "a"s returns at once, and /healthz stays fast meanwhile', async (t) => {
  const sim = await startSimDevice({ platform: 'linux', hostname: 'l1' });
  t.teardown(() => sim.close());
  const td = await startTestDaemon({ devices: [simSpec(sim, 'l1', { mode: 'shell' })] });
  t.teardown(() => td.stop());
  const a40 = 'a'.repeat(40);

  // /healthz polled back to back for as long as the call runs (bounded: the call has a deadline).
  let running = true;
  const latencies: number[] = [];
  const poller = (async () => {
    while (running && latencies.length < 10_000) latencies.push(await healthz(td.daemon.metricsAddress));
  })();
  const t0 = performance.now();
  let res: Any;
  try {
    // Shell mode: the output line of 40 "a"s (and its echo) passes the expect check; with
    // JavaScript's RegExp that line alone took hours of backtracking, in the event loop.
    res = await td.call(m(td.proxy, 'Run'), { device: 'l1', commands: [`echo ${a40}`, `echo ${a40}b`], expect: '(a+a+)+b' }, { deadlineMs: 20_000 });
  } finally {
    running = false;
    await poller;
  }
  const callMs = performance.now() - t0;
  t.equal(res.results[0].output, `${a40}\n`, 'no match: the first command ends at its prompt with its whole output');
  t.equal(res.results[1].output, `${a40}b\n`, 'the second command ends at the line the pattern matched');
  t.ok(callMs < 10_000, `the call returned in ${callMs.toFixed(0)} ms`);
  t.ok(latencies.length >= 1, `${latencies.length} /healthz answers while the call ran`);
  const worst = Math.max(...latencies);
  t.ok(worst < 100, `slowest /healthz answer during the call: ${worst.toFixed(1)} ms`);
});

t.test('expect outside RE2 syntax is INVALID_ARGUMENT naming the field, over gRPC, for Run and RunMany', async (t) => {
  const sim = await startSimDevice({ platform: 'cisco_ios', hostname: 'r1' });
  t.teardown(() => sim.close());
  const td = await startTestDaemon({ devices: [simSpec(sim, 'r1')] });
  t.teardown(() => td.stop());

  const err: Any = await td.call(m(td.proxy, 'Run'), { device: 'r1', commands: ['copy run start'], expect: 'Destination(?= filename)' }).catch((e) => e);
  t.equal(err.code, status.INVALID_ARGUMENT);
  t.match(err.details, /^device "r1": expect: lookahead \(\?=\.\.\.\) is not supported: patterns use RE2 syntax, see docs\/operations\.md#patterns$/);

  const big: Any = await td.call(m(td.proxy, 'Run'), { device: 'r1', commands: ['show clock'], expect: '(?:x{0,50}y){9}' }).catch((e) => e);
  t.equal(big.code, status.INVALID_ARGUMENT);
  t.match(big.details, /expect: is too complex/);

  const got: Any[] = [];
  const many: Any = await new Promise((resolve) => {
    const call = td.proxy.RunMany({ template: { commands: ['show clock'], expect: '(a)\\1' }, devices: ['r1'] });
    call.on('data', (r: Any) => got.push(r));
    call.on('error', resolve);
    call.on('end', () => resolve(undefined));
  });
  t.equal(many?.code, status.INVALID_ARGUMENT, 'RunMany refuses the template');
  t.match(many?.details, /template\.expect: backreferences \(\\1\) are not supported/);
  t.same(got, [], 'no device was run');

  const ok: Any = await td.call(m(td.proxy, 'Run'), { device: 'r1', commands: ['show clock'], expect: '(?i)^\\*\\d\\d:\\d\\d' });
  t.match(ok.results[0].output, /^\*\d\d:\d\d/, 'a valid RE2 expect still ends the command at its line');
});

t.test('a device put over gRPC with a lookahead prompt is refused naming the key', async (t) => {
  const td = await startTestDaemon();
  t.teardown(() => td.stop());
  const err: Any = await td
    .call(m(td.inventory, 'PutDevice'), {
      device: { id: 'g1', host: '127.0.0.1', port: 22, platform: 'generic', username: 'u', password: 'p', prompt: '\\w+(?=#)#', host_key: { accept_any: true } },
    })
    .catch((e) => e);
  t.equal(err.code, status.INVALID_ARGUMENT);
  t.match(err.details, /prompt: lookahead \(\?=\.\.\.\) is not supported: patterns use RE2 syntax/);
});
