/**
 * Output limits end to end, through a real daemon and a real gRPC client:
 * - ssh.maxOutputBytes on exec mode (real OpenSSH sshd) and shell mode (the simulator):
 *   RESOURCE_EXHAUSTED fast, a message naming device, command and limit, the session replaced
 *   and the pool slot back, memory bounded, audit and metrics truthful;
 * - RunStream is not capped and its final result does not repeat the output;
 * - the reply cap below grpc.maxSendMessageBytes (Run and RunMany);
 * - http.maxResponseBytes on chunked and close-delimited bodies from a node:http server;
 * - config validation of the limits against grpc.maxSendMessageBytes.
 */
import t from 'tap';
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { status } from '@grpc/grpc-js';
import { loadConfig } from '../src/config/load.js';
import { startSimDevice } from '../src/sim/ssh-device.js';
import { numberedLinesText } from '../src/sim/platforms.js';
import { startTestDaemon, simSpec, m, type TestDaemon } from './kit/daemon.js';
import { sshdDevice, startSshd } from './kit/sshd.js';
import { batch, openSimShell, startSim, testSshSettings } from './kit/sim.js';
import { captureLogger, httpDevice } from './kit/http-fixtures.js';
import { parseExposition, sampleValue } from './kit/metrics-fixtures.js';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const MiB = 1024 * 1024;
const code = (e: unknown) => (e as { code: number }).code;
const details = (e: unknown) => (e as { details: string }).details;

async function rejection(p: Promise<unknown>): Promise<Any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

function metrics(td: TestDaemon): Promise<string> {
  const addr = td.daemon.metricsAddress;
  const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: '/metrics', timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('GET /metrics timed out')));
    req.on('error', reject);
    req.end();
  });
}

async function metricValue(td: TestDaemon, name: string, labels: Record<string, string>): Promise<number> {
  return sampleValue(parseExposition(await metrics(td)), name, labels) ?? 0;
}

/** Peak RSS above the value at start while `fn` runs (sampled every 5 ms). */
async function peakRssGrowth<T>(fn: () => Promise<T>): Promise<{ value: T; growth: number }> {
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, growth: peak - base };
  } finally {
    clearInterval(timer);
  }
}

const sshd = await startSshd();
t.teardown(() => sshd.stop());

t.test('exec mode: 300 MB of stdout fails fast with RESOURCE_EXHAUSTED, memory bounded, session replaced, slot back', async (t) => {
  const { logger, lines } = captureLogger('info');
  const cap = 4 * MiB;
  const td = await startTestDaemon({ devices: [sshdDevice(sshd, { id: 'lx1' }, { maxOutputBytes: cap })], logger });
  t.teardown(() => td.stop());
  const run = m(td.proxy, 'Run');
  const first = await td.call<Any, Any>(run, { device: 'lx1', commands: ['echo warm'] });
  const command = "head -c 300000000 /dev/zero | tr '\\0' a";

  const started = Date.now();
  const { value: err, growth } = await peakRssGrowth(() => rejection(td.call(run, { device: 'lx1', commands: [command] }, { deadlineMs: 60_000 })));
  const elapsed = Date.now() - started;
  t.comment(`exec 300 MB: RESOURCE_EXHAUSTED after ${elapsed} ms, peak RSS growth ${(growth / MiB).toFixed(1)} MiB (cap ${cap / MiB} MiB)`);
  t.equal(code(err), status.RESOURCE_EXHAUSTED, details(err));
  t.equal(details(err), `device "lx1": output of "${command}" exceeded ssh.maxOutputBytes (${cap} bytes); use RunStream for larger outputs`);
  t.equal(err.metadata.get('warmpool-error-code')[0], 'OUTPUT_TOO_LARGE');
  t.ok(elapsed < 20_000, `failed in ${elapsed} ms, long before 300 MB could have been read`);
  t.ok(growth < 10 * cap, `peak RSS growth ${(growth / MiB).toFixed(1)} MiB stays below 10x the cap`);

  const next = await td.call<Any, Any>(run, { device: 'lx1', commands: ['echo after'] });
  t.equal(next.results[0].output, 'after\n', 'the next Run on the device works');
  t.not(next.session.id, first.session.id, 'on a new session: the capped one was discarded, not reused');
  const stats = await td.call<Any, Any>(m(td.admin, 'GetPoolStats'), { devices: ['lx1'] });
  const pool = stats.pools.find((p: Any) => p.protocol === 'ssh');
  t.equal(pool.busy, 0, 'no slot is left busy');

  const audit = lines.map((l) => JSON.parse(l)).filter((e) => e.audit && e.command === command && e.outcome !== 'allowed');
  t.equal(audit.length, 1, 'one audit event for the capped command');
  t.equal(audit[0].outcome, 'error');
  t.match(audit[0].error, /exceeded ssh\.maxOutputBytes/);
  t.ok(lines.some((l) => /command output too large/.test(l) && /"level":40/.test(l)), 'the daemon logs a warning');
  t.equal(await metricValue(td, 'warmpool_rpc_requests_total', { method: 'DeviceProxy/Run', code: 'RESOURCE_EXHAUSTED' }), 1);
  t.equal(await metricValue(td, 'warmpool_command_duration_seconds_count', { protocol: 'ssh', result: 'error' }), 1);
});

t.test('exec mode: stderr past the cap fails the same way, naming stderr', async (t) => {
  const td = await startTestDaemon({ devices: [sshdDevice(sshd, { id: 'lx2' }, { maxOutputBytes: MiB })] });
  t.teardown(() => td.stop());
  const run = m(td.proxy, 'Run');
  const command = 'head -c 50000000 /dev/zero >&2';
  const err = await rejection(td.call(run, { device: 'lx2', commands: [command] }, { deadlineMs: 30_000 }));
  t.equal(code(err), status.RESOURCE_EXHAUSTED);
  t.equal(details(err), `device "lx2": stderr of "${command}" exceeded ssh.maxOutputBytes (${MiB} bytes); use RunStream for larger outputs`);
  const ok = await td.call<Any, Any>(run, { device: 'lx2', commands: ['head -c 900000 /dev/zero | tr "\\0" b'] });
  t.equal(ok.results[0].output.length, 900_000, 'an output below the cap is returned whole');
});

t.test('exec mode: RunStream carries an output far larger than the cap; its result does not repeat it', async (t) => {
  const td = await startTestDaemon({ devices: [sshdDevice(sshd, { id: 'lx3' }, { maxOutputBytes: MiB })] });
  t.teardown(() => td.stop());
  const call = td.proxy.RunStream({ device: 'lx3', commands: ['seq 1 2000000'] });
  let streamed = 0;
  let lastLine = '';
  const results: Any[] = [];
  await new Promise<void>((resolve, reject) => {
    call.on('data', (ev: Any) => {
      if (ev.event === 'chunk') {
        streamed += Buffer.byteLength(ev.chunk.data);
        lastLine = (lastLine + ev.chunk.data).slice(-20);
      }
      if (ev.event === 'result') results.push(ev.result);
    });
    call.on('end', resolve);
    call.on('error', reject);
  });
  let expected = 0;
  for (let i = 1; i <= 2_000_000; i++) expected += String(i).length + 1;
  t.equal(streamed, expected, `all ${expected} bytes arrived in chunks (cap ${MiB})`);
  t.match(lastLine, /\n2000000\n$/);
  t.equal(results.length, 1);
  t.equal(results[0].output, '', 'the final result carries no output');
  t.equal(results[0].exit_status, 0);
});

t.test('shell mode: an output past the cap fails with RESOURCE_EXHAUSTED; the session is replaced', async (t) => {
  const sim = await startSimDevice({ platform: 'cisco_ios', hostname: 'r1' });
  t.teardown(() => sim.close());
  const { logger, lines } = captureLogger('info');
  const cap = MiB;
  const td = await startTestDaemon({ devices: [simSpec(sim, 'r1', { ssh: { maxOutputBytes: cap } })], logger });
  t.teardown(() => td.stop());
  const run = m(td.proxy, 'Run');
  const first = await td.call<Any, Any>(run, { device: 'r1', commands: ['show clock'] });

  const started = Date.now();
  const { value: err, growth } = await peakRssGrowth(() => rejection(td.call(run, { device: 'r1', commands: ['show lines 200000'] }, { deadlineMs: 60_000 })));
  t.comment(`shell 12 MB (simulator in-process): RESOURCE_EXHAUSTED after ${Date.now() - started} ms, peak RSS growth ${(growth / MiB).toFixed(1)} MiB (cap ${cap / MiB} MiB)`);
  t.equal(code(err), status.RESOURCE_EXHAUSTED, details(err));
  t.equal(details(err), `device "r1": output of "show lines 200000" exceeded ssh.maxOutputBytes (${cap} bytes); use RunStream for larger outputs`);

  const below = await td.call<Any, Any>(run, { device: 'r1', commands: ['show lines 10000'] });
  t.equal(below.results[0].output, numberedLinesText(10_000), 'an output below the cap is whole and clean on the next Run');
  t.not(below.session.id, first.session.id, 'the capped session was replaced');
  const stats = await td.call<Any, Any>(m(td.admin, 'GetPoolStats'), { devices: ['r1'] });
  t.equal(stats.pools.find((p: Any) => p.protocol === 'ssh').busy, 0);
  const audit = lines.map((l) => JSON.parse(l)).filter((e) => e.audit && e.command === 'show lines 200000' && e.outcome !== 'allowed');
  t.same(audit.map((e) => e.outcome), ['error']);
});

t.test('shell mode: RunStream streams past the cap, in order, and the result output is empty', async (t) => {
  const sim = await startSimDevice({ platform: 'cisco_ios', hostname: 'r2' });
  t.teardown(() => sim.close());
  const td = await startTestDaemon({ devices: [simSpec(sim, 'r2', { ssh: { maxOutputBytes: 256 * 1024 } })] });
  t.teardown(() => td.stop());
  const call = td.proxy.RunStream({ device: 'r2', commands: ['show lines 50000', 'show clock'] });
  const chunks: string[] = [];
  const results: Any[] = [];
  await new Promise<void>((resolve, reject) => {
    call.on('data', (ev: Any) => {
      if (ev.event === 'chunk' && ev.chunk.command_index === 0) chunks.push(ev.chunk.data);
      if (ev.event === 'result') results.push(ev.result);
    });
    call.on('end', resolve);
    call.on('error', reject);
  });
  t.equal(chunks.join(''), numberedLinesText(50_000), 'the whole output arrived in chunks (about 3 MB, cap 256 KiB)');
  t.same(results.map((r) => r.output), ['', ''], 'no result repeats its output');
  t.same(results.map((r) => r.failed), [false, false]);
});

t.test('a Run reply larger than grpc.maxSendMessageBytes fails with RESOURCE_EXHAUSTED naming the device and both sizes', async (t) => {
  const sim = await startSimDevice({ platform: 'cisco_ios', hostname: 'r3' });
  t.teardown(() => sim.close());
  const td = await startTestDaemon({
    devices: [simSpec(sim, 'r3', { ssh: { maxOutputBytes: 900_000 } })],
    argv: ['--grpc.maxSendMessageBytes', '2MiB', '--defaults.ssh.maxOutputBytes', '1MiB', '--defaults.http.maxResponseBytes', '1MiB'],
  });
  t.teardown(() => td.stop());
  const run = m(td.proxy, 'Run');
  // Three outputs of ~790 KB: each below the per-command cap, together above the 2 MiB message.
  const commands = ['show lines 13000', 'show lines 13000', 'show lines 13000'];
  const err = await rejection(td.call(run, { device: 'r3', commands }));
  t.equal(code(err), status.RESOURCE_EXHAUSTED, details(err));
  t.match(details(err), /^device "r3": the reply would be about (\d+) bytes, over the (\d+) bytes allowed \(grpc\.maxSendMessageBytes less headroom\); use RunStream/);
  const [, size, limit] = /about (\d+) bytes, over the (\d+) bytes/.exec(details(err)) ?? [];
  t.ok(Number(size) > 3 * numberedLinesText(13000).length, `size ${size} counts all three outputs`);
  t.ok(Number(limit) < 2 * MiB && Number(limit) > 2 * MiB - 64 * 1024, `limit ${limit} is just below the 2 MiB send limit`);
  t.notMatch(details(err), /Sent message larger than max/, "grpc-js's own error never reaches the caller");
  t.equal(await metricValue(td, 'warmpool_rpc_requests_total', { method: 'DeviceProxy/Run', code: 'RESOURCE_EXHAUSTED' }), 1);

  const fits = await td.call<Any, Any>(run, { device: 'r3', commands: commands.slice(0, 2) });
  t.equal(fits.results.length, 2, 'a reply below the limit is sent');

  const got: Any[] = [];
  await new Promise<void>((resolve, reject) => {
    const call = td.proxy.RunMany({ template: { commands }, devices: ['r3'] });
    call.on('data', (r: Any) => got.push(r));
    call.on('end', resolve);
    call.on('error', reject);
  });
  t.equal(got.length, 1);
  t.equal(got[0].error.code, status.RESOURCE_EXHAUSTED, 'RunMany reports the oversize device as a per-device RESOURCE_EXHAUSTED');
  t.match(got[0].error.message, /^device "r3": the reply would be about \d+ bytes/);
});

t.test('shell mode: one line longer than the cap without a line break is refused, not held without bound', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios', hostname: 'r4', motd: 'x'.repeat(50_000) });
  const err = await rejection(openSimShell(t, sim, { ssh: { ...testSshSettings, maxOutputBytes: 10_000 } }));
  t.equal(err.code, 'OUTPUT_TOO_LARGE');
  // Which wording depends on how the 50 000 bytes were cut into reads: still unterminated at the
  // cap ("a line longer than"), or already ended by its line break when read ("exceeded").
  t.match(err.message, /^device "sim-cisco_ios-\d+": output of "" (has a line longer than ssh\.maxOutputBytes \(10000 bytes\) without a line break|exceeded ssh\.maxOutputBytes \(10000 bytes\); use RunStream for larger outputs)$/);
  const s = await openSimShell(t, sim, { ssh: { ...testSshSettings, maxOutputBytes: 100_000 } });
  t.equal((await s.runBatch(batch(['show clock'])))[0]?.failed, false, 'with a cap above the line the same device logs in');
});

async function httpServer(t: Any, handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server: Server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The status line and headers a node:http server sends for `path` (raw socket, body not read). */
function rawHead(url: string, path: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    let got = '';
    const sock = connect(Number(port), '127.0.0.1', () => sock.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`));
    sock.setTimeout(5000, () => sock.destroy(new Error('no reply head within 5 s')));
    sock.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      if (end >= 0) {
        sock.destroy();
        resolve(got.slice(0, end).toLowerCase());
      }
    });
    sock.on('error', reject);
  });
}

t.test('http.maxResponseBytes holds for chunked and close-delimited bodies (node:http), naming device and limit', async (t) => {
  const url = await httpServer(t, (req, res) => {
    // Neither reply has a Content-Length; /close is not chunked either: its body ends when the connection closes.
    if (req.url === '/close') res.useChunkedEncodingByDefault = false;
    res.writeHead(200, { 'content-type': 'text/plain' });
    const big = Buffer.alloc(64 * 1024, 'z');
    let n = 0;
    const pump = () => {
      while (n < 200 && !res.destroyed) {
        n++;
        if (!res.write(big)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  const chunkedHead = await rawHead(url, '/chunked');
  t.match(chunkedHead, /\r\ntransfer-encoding: chunked/, 'the /chunked reply is chunked');
  t.notMatch(chunkedHead, /content-length/);
  const closeHead = await rawHead(url, '/close');
  t.notMatch(closeHead, /content-length|transfer-encoding/, 'the /close reply has neither Content-Length nor chunking');
  t.match(closeHead, /\r\nconnection: close/);

  const limit = 100_000;
  const td = await startTestDaemon({ devices: [httpDevice('h1', { baseUrl: url, maxResponseBytes: limit })] });
  t.teardown(() => td.stop());
  const http = m(td.proxy, 'Http');
  for (const path of ['/chunked', '/close']) {
    const err = await rejection(td.call(http, { device: 'h1', method: 'GET', path }, { deadlineMs: 20_000 }));
    t.equal(code(err), status.RESOURCE_EXHAUSTED, `${path}: ${details(err)}`);
    t.equal(details(err), `device "h1": HTTP response body exceeded http.maxResponseBytes (${limit} bytes)`);
  }
  t.equal(await metricValue(td, 'warmpool_rpc_requests_total', { method: 'DeviceProxy/Http', code: 'RESOURCE_EXHAUSTED' }), 2);
});

t.test('config refuses output and body limits at or above grpc.maxSendMessageBytes', async (t) => {
  const load = (argv: string[]) => loadConfig({ argv, env: {} });
  t.throws(() => load(['--defaults.ssh.maxOutputBytes', '16MiB']), {
    code: 'CONFIG_INVALID',
    field: 'defaults.ssh.maxOutputBytes',
    message: /^invalid configuration \(flag --defaults\.ssh\.maxOutputBytes\): defaults\.ssh\.maxOutputBytes: must be below grpc\.maxSendMessageBytes \(got 16777216 >= 16777216\)/,
  });
  t.throws(() => load(['--defaults.http.maxResponseBytes', '20MiB']), { code: 'CONFIG_INVALID', field: 'defaults.http.maxResponseBytes', message: /must be below grpc\.maxSendMessageBytes \(got 20971520 >= 16777216\)/ });
  t.throws(() => load(['--grpc.maxSendMessageBytes', '4MiB']), { code: 'CONFIG_INVALID', message: /defaults\.ssh\.maxOutputBytes: must be below grpc\.maxSendMessageBytes \(got 4194304 >= 4194304\)/ }, 'a smaller send limit needs smaller output limits');
  t.equal(load(['--grpc.maxSendMessageBytes', '64MiB', '--defaults.ssh.maxOutputBytes', '32MiB']).defaults.ssh.maxOutputBytes, 32 * MiB);
  t.equal(load([]).defaults.ssh.maxOutputBytes, 4 * MiB, 'default 4 MiB');
});
