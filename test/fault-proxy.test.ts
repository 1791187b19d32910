/**
 * The fault proxy (test/kit/fault-proxy.ts) against a plain node:net echo server:
 * each fault does what the reliability tests and the soak benchmark rely on.
 */
import t, { type Test } from 'tap';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { startFaultProxy, type FaultProxy, type Faults } from './kit/fault-proxy.js';
import { waitFor } from './kit/wait.js';

interface Echo {
  port: number;
  /** Connections the echo server has accepted. */
  accepted: number;
  /** Bytes the echo server has received. */
  received: number;
  /** Server-side sockets still open. */
  open: Set<net.Socket>;
  /** Errors seen on server-side sockets (codes). */
  errors: string[];
}

/** An echo server; with `banner`, it greets every connection first (like an SSH server). */
async function startEcho(t: Test, banner?: string): Promise<Echo> {
  const echo: Echo = { port: 0, accepted: 0, received: 0, open: new Set(), errors: [] };
  const server = net.createServer((s) => {
    echo.accepted++;
    echo.open.add(s);
    s.setNoDelay(true);
    s.on('close', () => echo.open.delete(s));
    s.on('error', (e: NodeJS.ErrnoException) => echo.errors.push(e.code ?? e.message));
    if (banner) s.write(banner);
    s.on('data', (d: Buffer) => {
      echo.received += d.length;
      s.write(d);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  echo.port = (server.address() as net.AddressInfo).port;
  t.teardown(() => {
    for (const s of echo.open) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return echo;
}

async function proxyTo(t: Test, echo: Echo, faults?: Faults): Promise<FaultProxy> {
  const p = await startFaultProxy({ host: '127.0.0.1', port: echo.port }, faults);
  t.teardown(() => p.close());
  return p;
}

/** A client socket that records what it receives and how it ended. */
interface Client {
  sock: net.Socket;
  data: Buffer[];
  bytes: () => number;
  text: () => string;
  error: NodeJS.ErrnoException | undefined;
  ended: boolean;
  closed: boolean;
  firstByteAt: number;
}

function connect(t: Test, p: FaultProxy): Promise<Client> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: p.host, port: p.port, noDelay: true });
    const c: Client = {
      sock, data: [], error: undefined, ended: false, closed: false, firstByteAt: 0,
      bytes: () => c.data.reduce((n, b) => n + b.length, 0),
      text: () => Buffer.concat(c.data).toString(),
    };
    sock.on('data', (d: Buffer) => {
      if (c.firstByteAt === 0) c.firstByteAt = Date.now();
      c.data.push(d);
    });
    sock.on('error', (e: NodeJS.ErrnoException) => (c.error = e));
    sock.on('end', () => (c.ended = true));
    sock.on('close', () => (c.closed = true));
    // Resolves on connect, or when the proxy kills the connection during the TCP handshake
    // (refuse: 'reset'); the error is then in c.error.
    sock.once('connect', () => resolve(c));
    sock.once('close', () => resolve(c));
    t.teardown(() => sock.destroy());
  });
}

/** Round trip of one small message through proxy and echo, ms. */
async function rtt(c: Client, msg: string): Promise<number> {
  const before = c.bytes();
  const t0 = performance.now();
  c.sock.write(msg);
  await waitFor(() => c.bytes() >= before + msg.length, `echo of ${msg}`, 5000);
  return performance.now() - t0;
}

t.test('without faults bytes pass unchanged both ways and the counters follow connections', async (t) => {
  const echo = await startEcho(t);
  const p = await proxyTo(t, echo);
  t.equal(p.host, '127.0.0.1');
  const c = await connect(t, p);
  const payload = randomBytes(256 * 1024);
  c.sock.write(payload);
  await waitFor(() => c.bytes() >= payload.length, 'the echo of 256 KiB', 10_000);
  t.ok(Buffer.concat(c.data).equals(payload), 'identical bytes in identical order');
  t.ok((await rtt(c, 'x')) < 200, 'no added delay without faults (noDelay on every hop; loose bound for a loaded box)');
  await connect(t, p);
  // The client's connect can complete (kernel handshake) before the proxy's accept runs.
  await waitFor(() => p.connections() === 2 && p.totalConnections() === 2, 'the proxy to count both connections');
  c.sock.end();
  await waitFor(() => p.connections() === 1 && echo.open.size === 1, 'an orderly close to reach the server');
  t.equal(p.totalConnections(), 2, 'the total counts closed connections too');
});

t.test('latency adds at least N ms per direction, applies to open connections, and keeps byte order', async (t) => {
  const echo = await startEcho(t);
  const p = await proxyTo(t, echo);
  const c = await connect(t, p);
  const before = await rtt(c, 'a');
  p.set({ latencyMs: 150 });
  const slow = await rtt(c, 'b');
  t.ok(slow >= 300 - 2, `round trip ${slow.toFixed(0)} ms >= 2 x 150 ms (was ${before.toFixed(0)} ms)`);
  t.ok(slow < 2000, 'and not unbounded');
  // Many small writes while the latency changes: a timer per chunk could reorder them.
  const parts: string[] = [];
  for (let i = 0; i < 300; i++) {
    parts.push(`<${i}>`);
    if (i === 100) p.set({ latencyMs: 5 });
    if (i === 200) p.set({ latencyMs: 40 });
    c.sock.write(`<${i}>`);
  }
  const expected = 'ab' + parts.join('');
  await waitFor(() => c.bytes() >= expected.length, 'all parts echoed', 10_000);
  t.equal(c.text(), expected, 'byte order preserved while latency went down and up');
  p.set({});
  t.ok((await rtt(c, 'z')) < 250, 'clearing the faults removes the delay from the open connection');
});

t.test('bandwidth throttles each direction to about the configured rate', async (t) => {
  const echo = await startEcho(t);
  const p = await proxyTo(t, echo);
  const c = await connect(t, p);
  const size = 40_000;
  const t0 = performance.now();
  c.sock.write(randomBytes(size));
  await waitFor(() => c.bytes() >= size, 'unthrottled echo', 5000);
  const fast = performance.now() - t0;

  p.set({ bandwidthBytesPerSec: 50_000 });
  const t1 = performance.now();
  c.sock.write(randomBytes(size));
  await waitFor(() => c.bytes() >= 2 * size, 'throttled echo', 10_000);
  const slow = performance.now() - t1;
  // 40 000 B at 50 000 B/s is 800 ms in the first direction (paced in 20 ms slices, the
  // first slice immediate); the way back is pipelined behind it.
  t.ok(slow >= 700, `throttled transfer took ${slow.toFixed(0)} ms (>= ~800 ms expected; unthrottled ${fast.toFixed(0)} ms)`);
  t.ok(slow < 4000, 'and finished');
  t.equal(echo.received, 2 * size, 'nothing lost');
});

t.test('resetAll gives ECONNRESET to the client and resets the server side too', async (t) => {
  const echo = await startEcho(t);
  const p = await proxyTo(t, echo);
  const c = await connect(t, p);
  await rtt(c, 'hello');
  p.resetAll();
  await waitFor(() => c.closed, 'client socket to close');
  t.equal(c.error?.code, 'ECONNRESET', 'the client sees a reset, not an orderly end');
  t.equal(c.ended, false, 'no FIN before the reset');
  await waitFor(() => echo.open.size === 0, 'server-side socket to close');
  t.same(echo.errors, ['ECONNRESET'], 'the server side is reset as well');
  t.equal(p.connections(), 0);
  const again = await connect(t, p);
  t.ok((await rtt(again, 'x')) >= 0, 'new connections work after a reset');
});

t.test('blackholeAll: an open connection delivers nothing either way and is never closed; new ones work', async (t) => {
  const echo = await startEcho(t);
  const p = await proxyTo(t, echo);
  const c = await connect(t, p);
  await rtt(c, 'before');
  const receivedBefore = echo.received;
  p.blackholeAll();
  c.sock.write('into the void');
  // A negative property needs an observation window: nothing may happen during it.
  const fresh = await connect(t, p);
  await rtt(fresh, 'fresh connection works');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(echo.received, receivedBefore + 'fresh connection works'.length, 'the server got nothing from the blackholed connection');
  t.equal(c.text(), 'before', 'the client got nothing back');
  t.equal(c.closed, false, 'the client socket is not closed');
  t.equal(c.error, undefined, 'and saw no error (no RST)');
  t.equal(echo.open.size, 2, 'the server-side socket is kept open too');
  t.equal(p.connections(), 2);
});

t.test('set({ blackhole: true }) silences open and new connections; new ones are accepted but reach nothing', async (t) => {
  const echo = await startEcho(t);
  const p = await proxyTo(t, echo);
  const open = await connect(t, p);
  await rtt(open, 'x');
  p.set({ blackhole: true });
  const c = await connect(t, p);
  c.sock.write('hello?');
  open.sock.write('anyone?');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(echo.accepted, 1, 'the new connection never reached the server');
  t.equal(echo.received, 1, 'nothing from the open one either');
  t.equal(c.bytes() + open.bytes(), 1, 'no bytes back');
  t.notOk(c.closed || open.closed, 'neither is closed');
  t.equal(p.totalConnections(), 2, 'the blackholed connection was accepted');
  p.set({});
  const later = await connect(t, p);
  t.ok((await rtt(later, 'back')) >= 0, 'lifting the fault serves new connections again');
});

t.test('cutAfterBytes delivers exactly N device->client bytes, then resets', async (t) => {
  const echo = await startEcho(t);
  const p = await proxyTo(t, echo, { cutAfterBytes: 1234 });
  const c = await connect(t, p);
  const payload = randomBytes(10_000);
  c.sock.write(payload);
  await waitFor(() => c.closed, 'the connection to be cut');
  t.equal(c.bytes(), 1234, 'exactly N bytes arrived');
  t.ok(Buffer.concat(c.data).equals(payload.subarray(0, 1234)), 'and they are the first N bytes');
  // The wire carries an RST; libuv reports an RST that follows already-read data either as
  // ECONNRESET or as a plain EOF, so the client side accepts both.
  t.ok(c.error?.code === 'ECONNRESET' || c.ended, 'then the connection is gone');
  await waitFor(() => echo.open.size === 0, 'server side to be reset');
  t.same(echo.errors, ['ECONNRESET'], 'with a reset, not an orderly close');
});

t.test('cutAfterBytes counts across chunks and per connection', async (t) => {
  const echo = await startEcho(t, 'HELLO\n');
  const p = await proxyTo(t, echo, { cutAfterBytes: 10 });
  for (let i = 0; i < 2; i++) {
    const c = await connect(t, p);
    await waitFor(() => c.bytes() >= 6, 'the banner');
    c.sock.write('abcdefgh');
    await waitFor(() => c.closed, 'the cut');
    t.equal(c.text(), 'HELLO\nabcd', `connection ${i + 1}: banner plus 4 echoed bytes`);
  }
});

t.test("refuse: 'reset' gives ECONNRESET right after accept, 'close' an orderly end; the server sees neither", async (t) => {
  const echo = await startEcho(t, 'banner\n');
  const p = await proxyTo(t, echo, { refuse: 'reset' });
  const r = await connect(t, p);
  await waitFor(() => r.closed, 'reset connection to close');
  t.equal(r.error?.code, 'ECONNRESET', 'reset (during or right after the TCP handshake)');
  t.equal(r.bytes(), 0);

  p.set({ refuse: 'close' });
  const c = await connect(t, p);
  await waitFor(() => c.ended, 'FIN');
  t.equal(c.error, undefined, 'no reset');
  t.equal(c.bytes(), 0, 'no banner: the device was never reached');
  t.equal(echo.accepted, 0, 'no connection reached the server');
  t.equal(p.totalConnections(), 2, 'both were accepted by the proxy');
  await waitFor(() => p.connections() === 0, 'refused connections to be gone');

  p.set({});
  const ok = await connect(t, p);
  await waitFor(() => ok.bytes() >= 7, 'the banner once refusal is lifted');
});

t.test('handshakeDelayMs holds the first bytes from the device; later traffic is not delayed', async (t) => {
  const echo = await startEcho(t, 'SSH-2.0-banner\r\n');
  const p = await proxyTo(t, echo, { handshakeDelayMs: 600 });
  const t0 = Date.now();
  const c = await connect(t, p);
  await waitFor(() => c.bytes() > 0, 'the banner', 5000);
  const held = c.firstByteAt - t0;
  t.ok(held >= 590, `first byte after ${held} ms (>= 600 ms hold)`);
  t.equal(c.text(), 'SSH-2.0-banner\r\n');
  t.ok((await rtt(c, 'x')) < 300, 'after the hold, no delay');
  p.set({});
  const t1 = Date.now();
  const quick = await connect(t, p);
  await waitFor(() => quick.bytes() > 0, 'the banner');
  t.ok(quick.firstByteAt - t1 < 400, 'new connections without the fault are not held');
});

t.test('close() destroys every socket on both sides and stops listening', async (t) => {
  const echo = await startEcho(t);
  const p = await startFaultProxy({ host: '127.0.0.1', port: echo.port });
  const a = await connect(t, p);
  const b = await connect(t, p);
  await rtt(a, 'x');
  await rtt(b, 'y');
  p.blackholeAll(); // a blackholed connection must be destroyed too
  const c = await connect(t, p);
  await rtt(c, 'z');
  await p.close();
  await waitFor(() => a.closed && b.closed && c.closed, 'client sockets to close');
  await waitFor(() => echo.open.size === 0, 'server-side sockets to close');
  const refused = await new Promise<string>((res) => {
    const s = net.connect({ host: p.host, port: p.port });
    s.on('error', (e: NodeJS.ErrnoException) => res(e.code ?? ''));
    s.on('connect', () => {
      s.destroy();
      res('connected');
    });
  });
  t.equal(refused, 'ECONNREFUSED', 'the listener is gone');
});
