/**
 * Hostile devices: no uncaught exception path from device input. A real daemon (in-process,
 * real gRPC client) serves a simulated IOS device started with `hostile: true` (src/sim/hostile.ts)
 * and a healthy one, both in a worker thread. Each hostile behaviour (flood, giant line, binary
 * garbage, ANSI storm, cursor bomb, fake prompts, endless drip, channel close, connection drop,
 * a catastrophic `expect`) must get a specific status, and while and after it:
 *   - /healthz answers within 100 ms (sampled every ~20 ms during the call; the max is asserted),
 *   - the daemon still serves (healthz/readyz 200, the healthy device answers Run OK),
 *   - the hostile device's pool ends with busy 0 and waiting 0 (no slot lost).
 * It lives in test/serial/, which `npm test` runs after the parallel suite and alone: the 100 ms
 * bound is about the daemon's event loop, and on a 2-core machine another test file running
 * beside it takes the cores the daemon, the simulator thread and the client share.
 */
import t, { type Test } from 'tap';
import http from 'node:http';
import { Worker } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import type { SimOptions } from '../../src/sim/ssh-device.js';
import { BINARY_MARKERS, fakePromptOutput } from '../../src/sim/hostile.js';
import { parseSimArgs } from '../../src/sim/sim-command.js';
import { loadConfig } from '../../src/config/load.js';
import { validateDevice } from '../../src/config/inventory.js';
import type { DeviceSpec } from '../../src/config/types.js';
import { startTestDaemon, m, type TestDaemon } from '../kit/daemon.js';
import type { RunResponse__Output } from '../../src/gen/warmpool/v1/RunResponse.js';
import type { RunEvent__Output } from '../../src/gen/warmpool/v1/RunEvent.js';
import type { GetPoolStatsResponse__Output } from '../../src/gen/warmpool/v1/GetPoolStatsResponse.js';

const HOSTILE = 'hostile-1';
const HEALTHY = 'healthy-1';
/** /healthz must answer within this while a hostile call runs (the issue's bound). */
const HEALTHZ_MAX_MS = 100;
const HEALTHZ_EVERY_MS = 20;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface WorkerSim {
  host: string;
  port: number;
  platform: SimOptions['platform'];
  hostKeyFingerprint: string;
  username: string;
  password: string;
  enableSecret: string;
}

/**
 * The simulated devices run in a worker thread: a real device's CPU is not on the daemon's
 * event loop, and /healthz latency must measure the daemon, not the simulator flooding it.
 * The worker loads the TypeScript sources through tap's loader (transpile only: tsc checks types).
 */
async function startSimWorker(t: Test, specs: SimOptions[]): Promise<WorkerSim[]> {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
    process.env.TS_NODE_TRANSPILE_ONLY = '1';
    import(workerData.loader)
      .then(() => import(workerData.sim))
      .then(async ({ startSimDevice }) => {
        const sims = [];
        for (const o of workerData.specs) sims.push(await startSimDevice(o));
        parentPort.postMessage(sims.map((s) => ({ host: s.host, port: s.port, platform: s.platform, hostKeyFingerprint: s.hostKeyFingerprint,
          username: s.username, password: s.password, enableSecret: s.enableSecret })));
        parentPort.on('message', () => Promise.all(sims.map((s) => s.close())).then(() => parentPort.postMessage('closed')));
      })
      .catch((err) => { throw err; });`,
    {
      eval: true,
      workerData: {
        loader: new URL('../../node_modules/@tapjs/typescript/dist/esm/import.mjs', import.meta.url).href,
        sim: new URL('../../src/sim/ssh-device.ts', import.meta.url).href,
        specs,
      },
    },
  );
  const sims = await new Promise<WorkerSim[]>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`simulator worker exited (${code}) before starting`)));
  });
  t.teardown(async () => {
    const closed = new Promise((r) => worker.once('message', r));
    worker.postMessage('close');
    await Promise.race([closed, sleep(3000)]);
    await worker.terminate();
  });
  return sims;
}

/** The inventory entry for a simulated device, its host key pinned (as simSpec in helpers/daemon.ts). */
function specOf(sim: WorkerSim, id: string, extra: Record<string, unknown>): DeviceSpec {
  return validateDevice({
    id, host: sim.host, port: sim.port, platform: sim.platform, username: sim.username, password: sim.password,
    enableSecret: sim.enableSecret, hostKey: { fingerprints: [sim.hostKeyFingerprint] }, ...extra,
  }, loadConfig({ argv: [], env: {} }).defaults, 'api', 'test');
}

/** GET on the daemon's metrics listener; resolves with status and latency, never rejects. */
function get(agent: http.Agent, address: string, path: string, timeoutMs = 2000): Promise<{ code: number; ms: number }> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.get({ host, port, path, agent, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve({ code: res.statusCode ?? 0, ms: performance.now() - t0 }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ code: 0, ms: performance.now() - t0 }));
  });
}

/**
 * Samples /healthz every ~20 ms (one request at a time) until stopped; keeps the slowest answer.
 * The daemon runs in this process, so a blocked event loop also delays the sampler's own timer:
 * each sample is timed from when it was due, not from when the timer managed to fire, so a
 * stall between two requests counts as fully as one during a request.
 */
class HealthzSampler {
  max = 0;
  samples = 0;
  failures = 0;
  #stopped = false;
  readonly #loop: Promise<void>;

  constructor(agent: http.Agent, address: string) {
    this.#loop = (async () => {
      let due = performance.now();
      while (!this.#stopped) {
        const r = await get(agent, address, '/healthz');
        const done = performance.now();
        this.samples++;
        if (r.code !== 200) this.failures++;
        this.max = Math.max(this.max, done - due);
        due = Math.max(done, due + HEALTHZ_EVERY_MS);
        await sleep(due - done);
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }
}

interface Outcome<T> {
  value?: T;
  code: number;
  details: string;
  ms: number;
  healthzMaxMs: number;
  heapGrowthMb: number;
}

interface Ctx {
  td: TestDaemon;
  agent: http.Agent;
  run: TestDaemon['proxy']['Run'];
}

/**
 * Runs one hostile call while sampling /healthz and the heap, then checks the daemon is intact:
 * healthz fast during the call, the hostile pool back to busy 0 / waiting 0, the daemon alive and
 * the healthy device still answering.
 */
async function hostileCall<T>(t: Test, c: Ctx, fn: () => Promise<T>): Promise<Outcome<T>> {
  const sampler = new HealthzSampler(c.agent, c.td.daemon.metricsAddress);
  const heap0 = process.memoryUsage().heapUsed;
  let heapMax = heap0;
  const heapTimer = setInterval(() => (heapMax = Math.max(heapMax, process.memoryUsage().heapUsed)), 20);
  const t0 = performance.now();
  let out: Omit<Outcome<T>, 'healthzMaxMs' | 'heapGrowthMb'>;
  try {
    const value = await fn();
    out = { value, code: status.OK, details: '', ms: performance.now() - t0 };
  } catch (e) {
    const se = e as grpc.ServiceError;
    out = { code: typeof se.code === 'number' ? se.code : -1, details: se.details ?? String(e), ms: performance.now() - t0 };
  } finally {
    clearInterval(heapTimer);
    await sampler.stop();
  }
  t.ok(sampler.samples >= 1, `/healthz sampled during the call (${sampler.samples} samples)`);
  t.equal(sampler.failures, 0, '/healthz answered 200 every time during the call');
  t.ok(sampler.max < HEALTHZ_MAX_MS, `/healthz answered within ${HEALTHZ_MAX_MS} ms during the call (slowest ${sampler.max.toFixed(1)} ms)`);
  await checkIntact(t, c);
  return { ...out, healthzMaxMs: sampler.max, heapGrowthMb: (heapMax - heap0) / 1024 / 1024 };
}

async function poolOf(c: Ctx, device: string): Promise<{ busy: number; waiting: number } | undefined> {
  const r = await c.td.call<object, GetPoolStatsResponse__Output>(m(c.td.admin, 'GetPoolStats'), { devices: [device] }, { deadlineMs: 5000 });
  return r.pools.find((p) => p.device === device && p.protocol === 'ssh');
}

async function checkIntact(t: Test, c: Ctx): Promise<void> {
  // No slot lost: the hostile device's pool settles to nothing busy and nobody waiting (bounded poll).
  let last: { busy: number; waiting: number } | undefined;
  const end = Date.now() + 5000;
  for (;;) {
    last = await poolOf(c, HOSTILE);
    if (!last || (last.busy === 0 && last.waiting === 0) || Date.now() > end) break;
    await sleep(50);
  }
  t.same({ busy: last?.busy, waiting: last?.waiting }, { busy: 0, waiting: 0 }, `${HOSTILE} pool: busy 0, waiting 0 after the call`);
  const health = await get(c.agent, c.td.daemon.metricsAddress, '/healthz');
  const ready = await get(c.agent, c.td.daemon.metricsAddress, '/readyz');
  t.same([health.code, ready.code], [200, 200], 'daemon alive: /healthz and /readyz answer 200');
  const ok = await c.td.call<object, RunResponse__Output>(c.run, { device: HEALTHY, commands: ['show clock'] }, { deadlineMs: 10_000 }).catch((e: grpc.ServiceError) => e);
  t.ok(!(ok instanceof Error) && (ok as RunResponse__Output).results[0]?.failed === false, `the healthy device still answers Run OK${ok instanceof Error ? ` (got ${status[ok.code]}: ${ok.details})` : ''}`);
}

function runCall(c: Ctx, req: object, deadlineMs: number): Promise<RunResponse__Output> {
  return c.td.call<object, RunResponse__Output>(c.run, req, { deadlineMs });
}

/** RunStream as a promise: every event, and the final status (rejects with the ServiceError). */
function runStream(c: Ctx, req: object, deadlineMs: number, onEvent: (ev: RunEvent__Output) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const call = c.td.proxy.RunStream(req, { deadline: Date.now() + deadlineMs });
    call.on('data', (ev: RunEvent__Output) => onEvent(ev));
    call.on('error', (e) => reject(e));
    call.on('end', () => resolve());
  });
}

const codeName = (code: number): string => status[code] ?? String(code);

t.test('warmpool sim --hostile turns the hostile commands on, and takes no value', async (t) => {
  t.equal(parseSimArgs(['--platform', 'cisco_ios', '--hostile', '--port', '0']).hostile, true);
  t.equal(parseSimArgs(['--platform', 'cisco_ios', '--hostile', '--port', '0']).port, 0, 'the next flag is still read');
  t.equal(parseSimArgs(['--platform', 'cisco_ios']).hostile, undefined, 'off unless asked for');
});

t.test('hostile devices never take the daemon down, hang a call or leak a pool slot', async (t) => {
  const [hostileSim, healthySim] = await startSimWorker(t, [{ platform: 'cisco_ios', hostile: true }, { platform: 'cisco_ios', hostname: 'good' }]);
  const td = await startTestDaemon({
    devices: [
      // One session: "reusable" is visible as the same session id on the next call. A 1 MiB output
      // cap: the behaviour at the cap is the same at any size, and a flood cut sooner leaves less
      // garbage whose collection, on this 2-core machine shared with another test file, would
      // count against the /healthz bound.
      specOf(hostileSim as WorkerSim, HOSTILE, { pool: { min: 0, max: 1 }, ssh: { maxOutputBytes: 1 << 20 } }),
      specOf(healthySim as WorkerSim, HEALTHY, { pool: { min: 0, max: 2 } }),
    ],
  });
  t.teardown(() => td.stop());
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  t.teardown(() => agent.destroy());
  const c: Ctx = { td, agent, run: m(td.proxy, 'Run') };
  // Sessions open and warm before timing anything.
  await runCall(c, { device: HOSTILE, commands: ['show clock'] }, 15_000);
  await runCall(c, { device: HEALTHY, commands: ['show clock'] }, 15_000);

  await t.test('a device started without the hostile option treats hostile commands as invalid input', async (t) => {
    const r = await runCall(c, { device: HEALTHY, commands: ['show hostile flood', 'hostile flood'] }, 10_000);
    t.same(r.results.map((x) => x.failed), [true, true], 'both refused by the device');
    t.match(r.results[0]?.error ?? '', /% Invalid input/);
  });

  await t.test('never-ending output fails Run with RESOURCE_EXHAUSTED at the output cap, long before the command timeout', async (t) => {
    const o = await hostileCall(t, c, () => runCall(c, { device: HOSTILE, commands: ['show hostile flood'], command_timeout_ms: 8000 }, 15_000));
    t.equal(codeName(o.code), 'RESOURCE_EXHAUSTED', `status (${o.details})`);
    t.match(o.details, HOSTILE, 'the message names the device');
    t.ok(o.ms < 6000, `answered in ${o.ms.toFixed(0)} ms, before the 8 s command timeout`);
  });

  await t.test('a 20 MB line without a line end fails Run with RESOURCE_EXHAUSTED', async (t) => {
    const o = await hostileCall(t, c, () => runCall(c, { device: HOSTILE, commands: ['show hostile giant-line 20000000'], command_timeout_ms: 10_000 }, 15_000));
    t.equal(codeName(o.code), 'RESOURCE_EXHAUSTED', `status (${o.details})`);
    t.match(o.details, HOSTILE, 'the message names the device');
  });

  await t.test('never-ending output over RunStream streams chunks, then DEADLINE_EXCEEDED at command_timeout_ms, memory bounded', async (t) => {
    let chunks = 0;
    let bytes = 0;
    const o = await hostileCall(t, c, () =>
      runStream(c, { device: HOSTILE, commands: ['show hostile flood'], command_timeout_ms: 1000 }, 15_000, (ev) => {
        if (ev.chunk) {
          chunks++;
          bytes += ev.chunk.data.length;
        }
      }),
    );
    t.equal(codeName(o.code), 'DEADLINE_EXCEEDED', `status (${o.details})`);
    t.ok(chunks > 0, `streamed ${chunks} chunks (${(bytes / 1024 / 1024).toFixed(1)} MB) before the timeout`);
    t.ok(o.ms >= 900 && o.ms < 8000, `ended at the command timeout (${o.ms.toFixed(0)} ms)`);
    // Nothing may accumulate the endless output: what is held is bounded by the stream's flow control.
    t.ok(o.heapGrowthMb < 64, `heap grew by ${o.heapGrowthMb.toFixed(1)} MB at most during the call (< 64 MB)`);
  });

  await t.test('binary garbage, NULs, invalid UTF-8 and ANSI/CR/backspace storms give OK, cleaned output and a reusable session', async (t) => {
    const o = await hostileCall(t, c, () => runCall(c, { device: HOSTILE, commands: ['show hostile binary'], command_timeout_ms: 10_000 }, 15_000));
    t.equal(codeName(o.code), 'OK', `status (${o.details})`);
    const r = o.value?.results[0];
    t.equal(r?.failed, false, 'not flagged as failed');
    const out = r?.output ?? '';
    let at = -1;
    for (const marker of BINARY_MARKERS) {
      const i = out.indexOf(marker, at + 1);
      t.ok(i > at, `marker "${marker}" survives cleaning, in order`);
      if (i > at) at = i;
    }
    t.notMatch(out, /[\x00-\x08\x0b-\x1f\x7f\x1b]/, 'no NUL, ESC, CR, backspace or other control characters left');
    t.notMatch(out, /hostile binary|Router[>#]/, 'no echo or prompt');
    const next = await runCall(c, { device: HOSTILE, commands: ['show clock'] }, 10_000);
    t.equal(next.session?.reused, true, 'the next call reuses the session');
    t.equal(next.session?.id, o.value?.session?.id, 'the very same session');
    t.match(next.results[0]?.output ?? '', /^\*\d\d:\d\d:\d\d\.\d{3} UTC/, 'and gets its own output');
  });

  await t.test('lines equal to the device prompt inside the output do not end it: OK with the whole output', async (t) => {
    const o = await hostileCall(t, c, () => runCall(c, { device: HOSTILE, commands: ['show hostile fake-prompt 200'], command_timeout_ms: 10_000 }, 15_000));
    t.equal(codeName(o.code), 'OK', `status (${o.details})`);
    t.equal(o.value?.results[0]?.output, fakePromptOutput('Router>'), 'the whole output, prompts inside it kept');
    t.equal(o.value?.results[0]?.failed, false);
    const next = await runCall(c, { device: HOSTILE, commands: ['show clock'] }, 10_000);
    t.match(next.results[0]?.output ?? '', /^\*\d\d:\d\d:\d\d\.\d{3} UTC[^\n]*\n$/, 'the next command gets its own output, nothing left over');
  });

  await t.test('a device dripping a byte every 50 ms fails with DEADLINE_EXCEEDED at command_timeout_ms', async (t) => {
    const o = await hostileCall(t, c, () => runCall(c, { device: HOSTILE, commands: ['show hostile drip 50'], command_timeout_ms: 1000 }, 15_000));
    t.equal(codeName(o.code), 'DEADLINE_EXCEEDED', `status (${o.details})`);
    t.match(o.details, HOSTILE, 'the message names the device');
    t.ok(o.ms >= 950 && o.ms < 5000, `at the command timeout (${o.ms.toFixed(0)} ms)`);
  });

  await t.test('a device closing the shell channel mid-output fails the call UNAVAILABLE naming the device', async (t) => {
    const o = await hostileCall(t, c, () => runCall(c, { device: HOSTILE, commands: ['show hostile close'], command_timeout_ms: 10_000 }, 15_000));
    t.equal(codeName(o.code), 'UNAVAILABLE', `status (${o.details})`);
    t.match(o.details, HOSTILE, 'the message names the device');
    t.ok(o.ms < 5000, `promptly (${o.ms.toFixed(0)} ms)`);
  });

  await t.test('a device dropping the connection mid-output fails RunStream UNAVAILABLE naming the device', async (t) => {
    let chunks = 0;
    const o = await hostileCall(t, c, () =>
      runStream(c, { device: HOSTILE, commands: ['show hostile drop'], command_timeout_ms: 10_000 }, 15_000, (ev) => {
        if (ev.chunk) chunks++;
      }),
    );
    t.equal(codeName(o.code), 'UNAVAILABLE', `status (${o.details})`);
    t.match(o.details, HOSTILE, 'the message names the device');
    t.ok(chunks > 0, 'the output before the drop was streamed');
    const after = await runCall(c, { device: HOSTILE, commands: ['show clock'] }, 10_000);
    t.equal(after.results[0]?.failed, false, 'the device is served again on a fresh session');
  });

  await t.test('a 1 MB line of ANSI escapes, CRs and backspaces is cleaned without stalling the daemon', async (t) => {
    const o = await hostileCall(t, c, () => runCall(c, { device: HOSTILE, commands: ['show hostile ansi-storm 1000000'], command_timeout_ms: 10_000 }, 15_000));
    t.ok(['OK', 'RESOURCE_EXHAUSTED'].includes(codeName(o.code)), `OK, or RESOURCE_EXHAUSTED for an over-long line; got ${codeName(o.code)} (${o.details})`);
    if (o.code === status.OK) {
      t.match(o.value?.results[0]?.output ?? '', /storm-end\n$/, 'the line after the storm is there');
      t.notMatch(o.value?.results[0]?.output ?? '', /[\x00-\x08\x0b-\x1f\x7f\x1b]/, 'no control characters left');
    } else {
      t.match(o.details, HOSTILE, 'the message names the device');
    }
  });

  await t.test('cursor-forward escapes cannot blow 64 KB of input up into megabytes of output', async (t) => {
    const o = await hostileCall(t, c, () => runCall(c, { device: HOSTILE, commands: ['show hostile cursor-bomb 65536'], command_timeout_ms: 10_000 }, 15_000));
    t.ok(['OK', 'RESOURCE_EXHAUSTED'].includes(codeName(o.code)), `OK, or RESOURCE_EXHAUSTED at the output cap; got ${codeName(o.code)} (${o.details})`);
    if (o.code === status.OK) {
      const out = o.value?.results[0]?.output ?? '';
      t.match(out, /bomb-end\n$/, 'the line after the bomb is there');
      t.ok(out.length <= 65_536, `output no larger than the input (${out.length} characters)`);
    } else {
      // The daemon's own message, not the client library refusing an oversize reply.
      t.match(o.details, HOSTILE, 'the message names the device');
    }
  });

  // Last: without a linear-time matcher this pattern blocks the event loop for good.
  await t.test('a catastrophic expect pattern against 40 "a" is answered promptly', async (t) => {
    const o = await hostileCall(t, c, () => runCall(c, { device: HOSTILE, commands: ['show hostile echo-a 40'], expect: '(a+a+)+b', command_timeout_ms: 5000 }, 10_000));
    t.ok(['OK', 'INVALID_ARGUMENT'].includes(codeName(o.code)), `OK (a normal reply) or INVALID_ARGUMENT, got ${codeName(o.code)} (${o.details})`);
    if (o.code === status.OK) t.equal(o.value?.results[0]?.output, 'a'.repeat(40) + '\n', 'the whole line, no match');
    t.ok(o.ms < 3000, `answered in ${o.ms.toFixed(0)} ms`);
  });
});
