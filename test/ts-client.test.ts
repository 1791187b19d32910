import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { WarmpoolClient, WarmpoolClientError, DEVICE_HEADER, resultError } from '../src/client/index.js';
import { loadProto } from '../src/api/proto.js';
import { startSimDevice } from '../src/sim/ssh-device.js';
import { startSimHttpDevice } from '../src/sim/http-device.js';
import { startTestDaemon, simSpec } from './kit/daemon.js';
import { freePort } from './kit/sshd.js';
import { ROOT } from './kit/proc.js';
import { startCutReplyServer } from './kit/cut-reply.js';

const TOKEN = 'ts-client-token-0123456789';

async function rejection(p: Promise<unknown>): Promise<WarmpoolClientError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof WarmpoolClientError) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

t.test('WarmpoolClient against a real daemon with simulated devices', async (t) => {
  const ios = await startSimDevice({ platform: 'cisco_ios', hostname: 'r1' });
  const eos = await startSimDevice({ platform: 'arista_eos', hostname: 'sw1' });
  const api = await startSimHttpDevice({ auth: 'basic', username: 'api', password: 'api-pass', hostname: 'sw1' });
  t.teardown(async () => {
    await ios.close();
    await eos.close();
    await api.close();
  });
  const dir = t.testdir({ 'tokens.yaml': `callers:\n  - name: svc\n    token: ${TOKEN}\n` });
  const td = await startTestDaemon({
    argv: ['--grpc.auth.tokensFile', join(dir, 'tokens.yaml')],
    devices: [
      simSpec(ios, 'r1', { labels: { site: 'fra1' } }),
      simSpec(eos, 'sw1', {
        labels: { site: 'fra1' },
        http: { baseUrl: api.url, auth: { type: 'basic', username: 'api', password: 'api-pass' } },
      }),
    ],
  });
  t.teardown(() => td.stop());
  const c = new WarmpoolClient(td.daemon.grpcAddress, { token: TOKEN, timeoutMs: 60_000 });
  t.teardown(() => c.close());

  t.test('run resolves to the RunResponse', async (t) => {
    const r = await c.run('r1', ['show version', 'show clock']);
    t.equal(r.device, 'r1');
    t.same(r.results.map((x) => x.command), ['show version', 'show clock']);
    t.match(r.results[0]!.output, /Cisco IOS/);
    t.match(r.session?.id, /^r1\//);
  });

  t.test('runStream yields the session first and the result last', async (t) => {
    const events = await collect(c.runStream('r1', ['show version']));
    t.equal(events[0]!.event, 'session');
    t.equal(events.at(-1)!.event, 'result');
    const streamed = events.filter((e) => e.event === 'chunk').map((e) => e.chunk?.data ?? '').join('');
    t.match(streamed, /Cisco IOS/, 'the output arrives in chunks');
    t.equal(events.at(-1)!.result?.output, '', 'and is not sent again in the result');
  });

  t.test('breaking out of runStream cancels it and the client stays usable', async (t) => {
    for await (const ev of c.runStream('r1', ['show version'])) {
      t.equal(ev.event, 'session');
      break;
    }
    t.match((await c.run('r1', ['show version'])).results[0]!.output, /Cisco IOS/);
  });

  t.test('runMany yields a result per device of the label selector, unknown ids as NOT_FOUND results', async (t) => {
    const got = await collect(c.runMany(['show version'], { labels: { site: 'fra1' }, devices: ['ghost'], concurrency: 2 }));
    t.same(got.map((r) => r.device).sort(), ['ghost', 'r1', 'sw1']);
    for (const r of got.filter((x) => x.device !== 'ghost')) {
      t.equal(r.outcome, 'response', r.device);
      t.equal(resultError(r), undefined);
    }
    const ghost = resultError(got.find((r) => r.device === 'ghost')!);
    t.equal(ghost?.code, grpc.status.NOT_FOUND);
    t.equal(ghost?.device, 'ghost');
  });

  t.test('http goes over the device HTTP pool', async (t) => {
    const body = JSON.stringify({ jsonrpc: '2.0', method: 'runCmds', params: { version: 1, cmds: ['show hostname'] }, id: 1 });
    const r = await c.http('sw1', 'POST', '/command-api', { body, headers: { 'content-type': 'application/json' } });
    t.equal(r.status, 200);
    t.match(Buffer.from(r.body).toString(), /"hostname":"sw1"/);
  });

  t.test('devices, getDevice and poolStats', async (t) => {
    t.same((await c.devices({ site: 'fra1' })).map((d) => d.id).sort(), ['r1', 'sw1']);
    t.equal((await c.getDevice('sw1')).platform, 'arista_eos');
    const stats = await c.poolStats(['r1']);
    t.same(stats.map((s) => `${s.device}/${s.protocol}`), ['r1/ssh']);
  });

  t.test('errors carry the status, the device and the daemon code', async (t) => {
    const nf = await rejection(c.run('no-such-device', ['show version']));
    t.equal(nf.code, grpc.status.NOT_FOUND);
    t.equal(nf.codeName, 'NOT_FOUND');
    t.equal(nf.device, 'no-such-device');
    t.equal(nf.errorCode, 'DEVICE_NOT_FOUND');
    t.ok(nf instanceof Error);

    const bad = await rejection(c.run('r1', ['show version\nreload']));
    t.equal(bad.code, grpc.status.INVALID_ARGUMENT);
    t.equal(bad.device, 'r1');

    const anon = new WarmpoolClient(td.daemon.grpcAddress, { timeoutMs: 30_000 });
    t.teardown(() => anon.close());
    const unauth = await rejection(anon.run('r1', ['show version']));
    t.equal(unauth.code, grpc.status.UNAUTHENTICATED);
  });
});

t.test('a daemon that is not running: UNAVAILABLE after the retries', async (t) => {
  const waits: number[] = [];
  const c = new WarmpoolClient(`127.0.0.1:${await freePort()}`, {
    timeoutMs: 20_000, retries: 2, random: () => 1, sleep: async (ms) => void waits.push(ms),
  });
  t.teardown(() => c.close());
  const e = await rejection(c.run('r1', ['show version']));
  t.equal(e.code, grpc.status.UNAVAILABLE);
  t.equal(e.errorCode, undefined, 'the daemon never answered');
  t.same(waits, [100, 200], 'repeated twice with exponential back-off');
});

/** A grpc-js server standing in for the daemon: records metadata, answers from a script. */
async function scriptedServer(t: Test) {
  const calls: Array<{ rpc: string; md: grpc.Metadata }> = [];
  const script: Array<{ code: grpc.status; errorCode: string; details: string } | undefined> = [];
  const fail = (md: grpc.Metadata, rpc: string): Partial<grpc.ServiceError> | undefined => {
    calls.push({ rpc, md });
    const step = script.shift();
    if (!step) return undefined;
    const metadata = new grpc.Metadata();
    metadata.set('warmpool-error-code', step.errorCode);
    return { code: step.code, details: step.details, metadata };
  };
  const unary = (rpc: string, reply: (req: any) => unknown) => // eslint-disable-line @typescript-eslint/no-explicit-any
    (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => { // eslint-disable-line @typescript-eslint/no-explicit-any
      const err = fail(call.metadata, rpc);
      if (err) cb(err as grpc.ServiceError);
      else cb(null, reply(call.request));
    };
  const server = new grpc.Server();
  const v1 = loadProto().grpcObj.warmpool.v1;
  server.addService(v1.DeviceProxy.service, {
    Run: unary('Run', (req) => ({ device: req.device })),
    Http: unary('Http', () => ({ status: 204 })),
    RunStream: (call: grpc.ServerWritableStream<any, any>) => { // eslint-disable-line @typescript-eslint/no-explicit-any
      call.write({ session: { id: 's/1' } });
      const err = fail(call.metadata, 'RunStream');
      if (err) call.emit('error', err);
      else {
        call.write({ result: { command: call.request.commands[0] } });
        call.end();
      }
    },
    RunMany: (call: grpc.ServerWritableStream<any, any>) => { // eslint-disable-line @typescript-eslint/no-explicit-any
      fail(call.metadata, 'RunMany');
      call.end();
    },
  });
  server.addService(v1.Inventory.service, {
    GetDevice: unary('GetDevice', (req) => ({ id: req.id })),
    ListDevices: unary('ListDevices', () => ({ devices: [] })),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  t.teardown(() => server.forceShutdown());
  const waits: number[] = [];
  const client = new WarmpoolClient(`127.0.0.1:${port}`, {
    token: 'tok-123', timeoutMs: 20_000, random: () => 1, sleep: async (ms) => void waits.push(ms),
  });
  t.teardown(() => client.close());
  return { calls, script, client, waits };
}

t.test('single-device calls carry x-warmpool-device; every call carries the token', async (t) => {
  const { calls, client } = await scriptedServer(t);
  await client.run('core-sw1', ['show version']);
  await collect(client.runStream('core-sw2', ['show clock']));
  await client.http('leaf1', 'GET', '/x');
  await client.getDevice('leaf2');
  await collect(client.runMany(['show version'], { labels: { site: 'fra1' } }));
  await client.devices();
  t.same(Object.fromEntries(calls.map((c) => [c.rpc, c.md.get(DEVICE_HEADER)[0]])), {
    Run: 'core-sw1', RunStream: 'core-sw2', Http: 'leaf1', GetDevice: 'leaf2', RunMany: undefined, ListDevices: undefined,
  });
  t.same([...new Set(calls.map((c) => c.md.get('authorization')[0]))], ['Bearer tok-123']);
});

t.test('only failures that reached no device are retried', async (t) => {
  const { calls, script, client, waits } = await scriptedServer(t);
  const U = grpc.status.UNAVAILABLE;
  for (const [errorCode, details] of [
    ['CIRCUIT_OPEN', 'core-sw1: circuit open until 2026-01-01T00:00:00.000Z'],
    ['CONNECT_REFUSED', 'device core-sw1: connection to 10.0.0.1:22 refused'],
    ['DRAINING', 'warmpool is shutting down and accepts no new calls; retry on another instance'],
  ] as const) {
    calls.length = 0;
    script.push({ code: U, errorCode, details });
    t.equal((await client.run('core-sw1', ['show version'])).device, 'core-sw1', `${errorCode}: retried and succeeded`);
    t.equal(calls.length, 2, `${errorCode}: two attempts`);
  }
  for (const [code, errorCode, details] of [
    [U, 'CONNECTION_LOST', 'device core-sw1: connection lost while running command 0'],
    [U, 'SHUTDOWN', 'warmpool is shutting down; the grace period is over'],
    [grpc.status.DEADLINE_EXCEEDED, 'COMMAND_TIMEOUT', 'device core-sw1: command timed out'],
  ] as const) {
    calls.length = 0;
    script.length = 0;
    script.push({ code, errorCode, details });
    const e = await rejection(client.run('core-sw1', ['show version']));
    t.same([e.code, e.errorCode, calls.length], [code, errorCode, 1], `${errorCode}: not retried`);
  }
  calls.length = 0;
  script.push({ code: U, errorCode: 'CIRCUIT_OPEN', details: 'core-sw1: circuit open' });
  const seen: string[] = [];
  const e = await rejection((async () => {
    for await (const ev of client.runStream('core-sw1', ['show version'])) seen.push(ev.event ?? '');
  })());
  t.same([e.errorCode, seen, calls.length], ['CIRCUIT_OPEN', ['session'], 1], 'a stream that delivered a message is not retried');
  t.same(waits, [100, 100, 100], 'each of the three retried calls waited the base back-off once');
});

t.test('a reply a proxy cut after its headers is UNAVAILABLE, says the commands may have run, and is not repeated', async (t) => {
  const cut = await startCutReplyServer();
  t.teardown(() => cut.close());
  const client = new WarmpoolClient(`127.0.0.1:${cut.port}`, { timeoutMs: 5000, random: () => 1, sleep: async () => {} });
  t.teardown(() => client.close());
  const e = await rejection(client.run('core-sw1', ['show version']));
  t.equal(e.codeName, 'UNAVAILABLE', 'grpc-js says INTERNAL; the client reports the broken connection as gRPC does');
  t.match(e.details, /broke while the reply was on the way .*the commands may have run on the device/);
  t.match(e.details, /Received RST_STREAM with code 0/, 'grpc-js\'s own words are kept');
  t.equal(e.errorCode, undefined, 'the daemon did not answer');
  t.equal(e.device, 'core-sw1');
  t.equal(cut.calls(), 1, 'sent once: the commands may have run');
});

t.test('package.json exports warmpool/client and keeps the main entry', async (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main: string; exports: Record<string, string> };
  // Resolved by plain node (no TS loader, which would also demand a built dist/), as a user's
  // `import 'warmpool/client'` would be, from inside the package (self-reference).
  const resolved = execFileSync(process.execPath, ['--input-type=module', '-e',
    "console.log(import.meta.resolve('warmpool/client')); console.log(import.meta.resolve('warmpool'))"], { cwd: ROOT, encoding: 'utf8' });
  t.same(resolved.trim().split('\n'), [
    new URL('dist/src/client/index.js', `file://${ROOT}`).href,
    new URL(pkg.main, `file://${ROOT}`).href,
  ], 'warmpool/client is dist/src/client/index.js; "warmpool" is still the main entry');
  t.ok(existsSync(join(ROOT, pkg.exports['./client']!.replace('./dist/', '').replace(/\.js$/, '.ts'))), 'the export is built from src/client/index.ts');
});

t.test('constructor arguments are checked', async (t) => {
  t.throws(() => new WarmpoolClient('127.0.0.1:1', { privateKey: Buffer.from('k') }), /both privateKey and certChain/);
  t.throws(() => new WarmpoolClient('127.0.0.1:1', { token: 'a\nb' }), /line breaks/);
  t.throws(() => new WarmpoolClient('127.0.0.1:1', { retries: -1 }), /retries/);
});
