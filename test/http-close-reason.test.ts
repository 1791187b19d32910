/**
 * HTTP connections leave their pool with a reason from the pool's fixed set
 * (docs/operations.md, "Session close reasons"), never with an undici code.
 * The mapping is checked on undici's own error classes, then on real sockets closed by a
 * node:http server and by the client for each of the usual reasons.
 */
import t from 'tap';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errors } from 'undici';
import { httpCloseReason } from '../src/drivers/http/close-reason.js';
import { CLOSE_REASONS, type CloseReason } from '../src/core/pool-stats.js';
import { httpDevice, makeClient } from './kit/http-fixtures.js';
import { waitFor } from './kit/wait.js';

t.test('undici disconnect errors map onto the fixed set', async (t) => {
  const cases: Array<[unknown, CloseReason]> = [
    [new errors.InformationalError('socket idle timeout'), 'idle_timeout'],
    [new errors.InformationalError('reset'), 'closed_by_peer'],
    [new errors.InformationalError('aborted'), 'discarded'],
    [new errors.InformationalError('servername changed'), 'retired'],
    [new errors.InformationalError('something new in undici 8'), 'error'],
    [new errors.SocketError('other side closed'), 'closed_by_peer'],
    [new errors.SocketError('closed'), 'closed_by_peer'],
    [new errors.SocketError('bad response'), 'error'],
    [new errors.ClientDestroyedError(), 'pool_closed'],
    [new errors.ClientClosedError(), 'pool_closed'],
    [new errors.HeadersTimeoutError(), 'discarded'],
    [new errors.BodyTimeoutError(), 'discarded'],
    [new errors.RequestAbortedError(), 'discarded'],
    [new errors.ResponseExceededMaxSizeError(), 'discarded'],
    [new errors.ResponseContentLengthMismatchError(), 'error'],
    [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'closed_by_peer'],
    [Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }), 'closed_by_peer'],
    [Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' }), 'error'],
    [new Error('no code at all'), 'error'],
    [undefined, 'closed_by_peer'],
  ];
  for (const [err, want] of cases) {
    const got = httpCloseReason(err);
    t.equal(got, want, `${(err as Error | undefined)?.constructor.name ?? 'no error'} "${(err as Error | undefined)?.message ?? ''}" → ${want}`);
    t.ok((CLOSE_REASONS as readonly string[]).includes(got), `${got} is in the set`);
  }
});

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void, setup?: (s: Server) => void): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  setup?.(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function closer(server: Server): () => Promise<void> {
  return () => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });
}

function recordingClient(url: string): { client: ReturnType<typeof makeClient>; reasons: string[] } {
  const reasons: string[] = [];
  const client = makeClient(httpDevice('api1', { baseUrl: url }), { observer: { sessionClosed: (_d, _p, r) => reasons.push(r) } });
  return { client, reasons };
}

t.test('a server answering "Connection: close" ends the connection: closed_by_peer', async (t) => {
  const { url, server } = await listen((_req, res) => res.writeHead(200, { connection: 'close' }).end('ok'));
  t.teardown(closer(server));
  const { client, reasons } = recordingClient(url);
  t.teardown(() => client.destroy());
  const res = await client.request({ method: 'GET', path: '/', headers: {}, timeoutMs: 5000 });
  t.equal(res.status, 200);
  await waitFor(() => reasons.length >= 1, 'the disconnect', 5000);
  t.same(reasons, ['closed_by_peer']);
});

t.test('a server closing an idle kept-alive socket: closed_by_peer', async (t) => {
  const sockets = new Set<import('node:net').Socket>();
  const { url, server } = await listen((_req, res) => res.end('ok'), (s) => s.on('connection', (c) => sockets.add(c)));
  t.teardown(closer(server));
  const { client, reasons } = recordingClient(url);
  t.teardown(() => client.destroy());
  await client.request({ method: 'GET', path: '/', headers: {}, timeoutMs: 5000 });
  for (const s of sockets) s.end();
  await waitFor(() => reasons.length >= 1, 'the disconnect', 5000);
  t.same(reasons, ['closed_by_peer']);
});

t.test('the server\'s Keep-Alive hint runs out on an idle socket: idle_timeout', async (t) => {
  // "Keep-Alive: timeout=3": undici keeps the socket 3 s less its 2 s safety margin, i.e. 1 s.
  const { url, server } = await listen((_req, res) => res.writeHead(200, { 'keep-alive': 'timeout=3' }).end('ok'), (s) => {
    s.keepAliveTimeout = 10_000;
  });
  t.teardown(closer(server));
  const { client, reasons } = recordingClient(url);
  t.teardown(() => client.destroy());
  await client.request({ method: 'GET', path: '/', headers: {}, timeoutMs: 5000 });
  t.same(reasons, [], 'still open right after the answer');
  await waitFor(() => reasons.length >= 1, 'the idle timeout', 8000);
  t.same(reasons, ['idle_timeout']);
});

t.test('closing the client closes its idle sockets: pool_closed', async (t) => {
  const { url, server } = await listen((_req, res) => res.end('ok'));
  t.teardown(closer(server));
  const { client, reasons } = recordingClient(url);
  await client.request({ method: 'GET', path: '/', headers: {}, timeoutMs: 5000 });
  await client.close();
  await waitFor(() => reasons.length >= 1, 'the disconnect', 5000);
  t.same(reasons, ['pool_closed']);
});

t.test('a request timing out mid-answer discards its socket: discarded', async (t) => {
  const { url, server } = await listen((_req, res) => {
    res.writeHead(200);
    res.write('partial');
  });
  t.teardown(closer(server));
  const { client, reasons } = recordingClient(url);
  t.teardown(() => client.destroy());
  await t.rejects(client.request({ method: 'GET', path: '/', headers: {}, timeoutMs: 200 }));
  await waitFor(() => reasons.length >= 1, 'the disconnect', 5000);
  t.same(reasons, ['discarded']);
});
