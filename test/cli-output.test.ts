import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { PoolStats__Output } from '../src/gen/warmpool/v1/PoolStats.js';
import { styleFor } from '../src/cli/style.js';
import { startTestDaemon, simSpec, m } from './kit/daemon.js';
import { startSim } from './kit/sim.js';
import { freePort } from './kit/sshd.js';
import { ROOT } from './kit/proc.js';
import { waitFor } from './kit/wait.js';
import { cli, runCli } from './kit/cli.js';

/**
 * What the warmpool command prints when things work: --json with the contract's field names
 * only, `many` streaming results (plain lines and a summary off a terminal; a live progress
 * line and colour on one, no colour with NO_COLOR), and `session.reused` of a prewarmed session.
 * The real CLI, as a separate process, against a real daemon with simulated devices.
 */
/** Field name → type of every message in proto/, read from the .proto text (the contract itself). */
function protoMessages(): Map<string, Map<string, string>> {
  const dir = join(ROOT, 'proto/warmpool/v1');
  const out = new Map<string, Map<string, string>>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.proto'))) {
    const text = readFileSync(join(dir, f), 'utf8').replace(/\/\/.*$/gm, '');
    for (const msg of text.matchAll(/message\s+(\w+)\s*\{([^]*?)\n\}/g)) {
      const fields = new Map<string, string>();
      for (const fm of (msg[2] as string).matchAll(/^\s*(?:optional\s+|repeated\s+)?(map<[^>]+>|[\w.]+)\s+(\w+)\s*=\s*\d+/gm)) {
        fields.set(fm[2] as string, fm[1] as string);
      }
      out.set(msg[1] as string, fields);
    }
  }
  return out;
}

/** Every key of `value` is a field of `type` in proto/, recursively; no proto-loader extras. */
function assertContractShape(t: Test, type: string, value: unknown, path: string): void {
  const messages = protoMessages();
  const walk = (ty: string, v: unknown, p: string): void => {
    const fields = messages.get(ty);
    if (!fields) throw new Error(`no message ${ty} in proto/`);
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const ft = fields.get(k);
      if (ft === undefined) {
        t.fail(`${p}.${k} is not a field of ${ty}`);
        continue;
      }
      if (ft.startsWith('map<') || !messages.has(ft)) continue;
      for (const [i, el] of (Array.isArray(x) ? x : [x]).entries()) walk(ft, el, Array.isArray(x) ? `${p}.${k}[${i}]` : `${p}.${k}`);
    }
  };
  walk(type, value, path);
  t.notMatch(JSON.stringify(value), /"_\w+":/, `${path}: no "_"-prefixed keys`);
}

t.test('colour needs a terminal and no (non-empty) NO_COLOR', async (t) => {
  const red = (tty: boolean, env: NodeJS.ProcessEnv) => styleFor({ isTTY: tty }, env).red('x');
  t.equal(red(true, {}), '\x1b[31mx\x1b[39m', 'a terminal: colour');
  t.equal(red(true, { NO_COLOR: '' }), '\x1b[31mx\x1b[39m', 'NO_COLOR set but empty: colour (no-color.org)');
  t.equal(red(true, { NO_COLOR: '1' }), 'x', 'NO_COLOR=1: none');
  t.equal(red(false, {}), 'x', 'not a terminal: none');
});

t.test('against a daemon with fast, slow, down and prewarmed devices', async (t) => {
  const [ios, slowIos, linux] = await Promise.all([
    startSim(t, { platform: 'cisco_ios' }),
    startSim(t, { platform: 'cisco_ios', perCommandLatencyMs: 4000 }),
    startSim(t, { platform: 'linux' }),
  ]);
  const closed = await freePort();
  const group = { labels: { group: 'many' } };
  const td = await startTestDaemon({
    devices: [
      simSpec(ios, 'r1', group),
      simSpec(ios, 'cold', { pool: { min: 0, max: 1 } }),
      simSpec(slowIos, 'slow', group),
      simSpec(ios, 'down1', { port: closed, ...group }),
      simSpec(linux, 'warm', { pool: { min: 1, max: 2 } }),
    ],
  });
  t.teardown(() => td.stop());
  const addr = ['--addr', td.daemon.grpcAddress];

  await t.test('devices --json and stats --json print only contract fields', async (t) => {
    const r = await cli(['devices', ...addr, '--json']);
    t.equal(r.code, 0, r.stderr);
    const devices = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    t.same(devices.map((d) => d.id).sort(), ['cold', 'down1', 'r1', 'slow', 'warm']);
    for (const d of devices) assertContractShape(t, 'Device', d, `devices[${String(d.id)}]`);
    const warm = devices.find((d) => d.id === 'warm') as { pool: Record<string, unknown>; labels: unknown; mode: unknown };
    t.equal(warm.pool.min, 1, 'an optional field keeps its value under its own name');
    t.equal(warm.mode, 'SESSION_MODE_EXEC', 'enums by name');

    const s = await cli(['stats', ...addr, '--json', 'warm']);
    t.equal(s.code, 0, s.stderr);
    const pools = JSON.parse(s.stdout) as unknown[];
    t.ok(pools.length > 0);
    for (const [i, p] of pools.entries()) assertContractShape(t, 'PoolStats', p, `pools[${i}]`);

    const many = await cli(['many', ...addr, '--json', '--devices', 'r1', '--', 'show clock']);
    t.equal(many.code, 0, many.stderr);
    const results = JSON.parse(many.stdout) as Array<Record<string, unknown>>;
    t.equal(results.length, 1);
    for (const [i, r] of results.entries()) assertContractShape(t, 'DeviceRunResult', r, `many[${i}]`);
    t.notOk('outcome' in (results[0] ?? {}), 'no oneof virtual field');
  });

  await t.test('the first use of a prewarmed session is reused; a session opened for the call is not', async (t) => {
    await waitFor(async () => {
      const s = await td.call<object, { pools: PoolStats__Output[] }>(m(td.admin, 'GetPoolStats'), { devices: ['warm'] });
      return s.pools.some((p) => p.idle >= 1);
    }, 'warm to have its prewarmed session idle');
    const r = await cli(['exec', ...addr, '--json', 'warm', 'uname -a']);
    t.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout) as { session: { reused: boolean; connect_ms: number; uses: string }; results: unknown[] };
    t.same(Object.keys(res).sort(), ['device', 'results', 'session'], 'RunResponse fields only');
    assertContractShape(t, 'RunResponse', res, 'exec');
    t.equal(res.session.reused, true, 'the caller did not wait for its connect');
    t.equal(res.session.connect_ms, 0, 'and paid no connect time');
    t.equal(res.session.uses, '1', 'its first use (uint64 as a string, as in protobuf JSON)');

    const c = await cli(['exec', ...addr, '--json', 'cold', 'show clock']);
    t.equal(c.code, 0, c.stderr);
    const cold = JSON.parse(c.stdout) as { session: { reused: boolean; connect_ms: number } };
    t.equal(cold.session.reused, false, 'opened for this call');
    t.ok(cold.session.connect_ms > 0, 'which paid the connect');
  });

  await t.test('many off a terminal: results as devices finish, plain lines, a summary line', async (t) => {
    const p = runCli(['many', ...addr, '--devices', 'r1,slow,down1', '--', 'show version']);
    await waitFor(() => p.stdout().includes('### r1: show version'), 'the fast device', 60_000);
    t.notOk(p.stdout().includes('### slow'), 'the slow device is still running...');
    t.equal(p.child.exitCode, null, '...and the fast result was printed before the end');
    const code = await p.exited;
    t.equal(code, 1, `a device failed: 1\n${p.out()}`);
    t.match(p.stdout(), '### slow: show version');
    t.match(p.stdout(), /^### down1: UNAVAILABLE: .*refused/m, 'the down device with its status');
    t.match(p.stderr(), /^many: 3 devices, 2 ok, 1 failed \(\d+\.\d s\)\n$/m, 'the summary line');
    t.notMatch(p.out(), /[\r\x1b]/, 'no progress line, no escape sequences');
  });

  await t.test('many on a terminal: a live progress line with the total, and colour', async (t) => {
    const r = await cli(['many', ...addr, '--labels', 'group=many', '--', 'show version'], { tty: true, env: { NO_COLOR: undefined } });
    t.equal(r.code, 1, r.out);
    t.match(r.out, /\r\x1b\[2K\x1b\[36mmany:\x1b\[39m [0-2]\/3 done, /, 'progress before the end, with the total from the label selector');
    t.match(r.out, /\d+\.\d s/, 'elapsed time');
    t.match(r.out, '\x1b[1m### r1: show version\x1b[22m', 'headers in bold');
    t.match(r.out, /\x1b\[31mUNAVAILABLE: .*refused/, 'the failure in red');
    t.match(r.out, /many: 3 devices, 2 ok, \x1b\[31m1 failed\x1b\[39m \(\d+\.\d s\)\r?\n$/, 'the summary replaces the progress line');
    const firstResult = r.out.indexOf('### ');
    t.ok(r.out.lastIndexOf('done, ') > firstResult, 'the progress line comes back under results as they arrive');

    const plain = await cli(['many', ...addr, '--devices', 'r1,down1', '--', 'show version'], { tty: true, env: { NO_COLOR: '1' } });
    t.equal(plain.code, 1, plain.out);
    t.match(plain.out, /\r\x1b\[2Kmany: [01]\/2 done/, 'NO_COLOR: the progress line stays');
    t.notMatch(plain.out, /\x1b\[[0-9;]*m/, 'NO_COLOR: no colour at all');
  });
});
