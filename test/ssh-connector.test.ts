/**
 * The injectable connector of connectSsh (src/transport/connector.ts): the SSH handshake and
 * login run over whatever stream a connector returns, against a real simulated device; the
 * connector's failures, the one connect timeout and cancellation keep their error codes.
 */
import net from 'node:net';
import { Duplex } from 'node:stream';
import t from 'tap';
import { rawExec } from './kit/raw-exec.js';
import { WarmpoolError } from '../src/core/errors.js';
import { buildTcpConnector, connectSsh, type ConnectTarget, type Connector } from '../src/transport/ssh-connect.js';
import { startFaultProxy } from './kit/fault-proxy.js';
import { simDeviceSpec, startSim, testSshSettings } from './kit/sim.js';
import { rejectsWith } from './kit/rejects.js';
import { freePort } from './kit/sshd.js';


const exec = rawExec;

/**
 * A stream that is not a net.Socket (as a bastion's direct-tcpip channel is not): bytes are
 * relayed to and from a TCP socket underneath, with backpressure both ways.
 */
function relayStream(sock: net.Socket): Duplex {
  const d = new Duplex({
    read() {
      sock.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      sock.write(chunk, cb);
    },
    final(cb) {
      sock.end();
      cb();
    },
    destroy(err, cb) {
      sock.destroy();
      cb(err);
    },
  });
  sock.on('data', (chunk: Buffer) => {
    if (!d.push(chunk)) sock.pause();
  });
  sock.on('end', () => d.push(null));
  sock.on('error', (err) => d.destroy(err));
  sock.on('close', () => d.destroy());
  return d;
}

/** Connects to `port` on loopback whatever the target says, wrapping the socket as relayStream. */
function relayConnector(port: number, calls: ConnectTarget[], sockets: net.Socket[] = []): Connector {
  const tcp = buildTcpConnector();
  return async (target) => {
    calls.push(target);
    const sock = (await tcp({ ...target, host: '127.0.0.1', port })) as net.Socket;
    sockets.push(sock);
    return relayStream(sock);
  };
}

t.test('a custom connector carries the login and commands: the device address is the connector\'s to resolve', async (t) => {
  const sim = await startSim(t, { platform: 'linux' });
  const proxy = await startFaultProxy({ host: sim.host, port: sim.port });
  t.teardown(() => proxy.close());
  // The spec names a port nobody listens on: only the connector knows the way (as a bastion would).
  const device = simDeviceSpec(sim, { port: await freePort() });
  const calls: ConnectTarget[] = [];
  const connector = relayConnector(proxy.port, calls);

  const conn = await connectSsh(device, { connector });
  t.teardown(() => conn.close());
  t.equal(calls.length, 1, 'the connector is called once per connection');
  t.same(
    { host: calls[0]?.host, port: calls[0]?.port, deviceId: calls[0]?.deviceId },
    { host: device.host, port: device.port, deviceId: device.id },
    'it is told the device address and id',
  );
  t.equal(proxy.totalConnections(), 1, 'the bytes went through the proxy');
  t.notOk((conn.client as unknown as { _sock: unknown })._sock instanceof net.Socket, 'ssh2 runs over the relay stream, not a socket');
  t.equal(conn.hostKeyFingerprint, sim.hostKeyFingerprint, 'the host key is checked as over TCP');
  t.equal((await exec(conn.client, 'hostname')).trim(), sim.hostname);
  t.equal(sim.stats.commandsRun, 1);
});

t.test('the TCP connector resolves a connected socket, rejects a closed port with its errno, and honours an aborted signal', async (t) => {
  const sim = await startSim(t, { platform: 'linux' });
  const tcp = buildTcpConnector();
  const target = { host: sim.host, port: sim.port, deviceId: 'd1', signal: new AbortController().signal };
  const sock = (await tcp(target)) as net.Socket;
  t.teardown(() => sock.destroy());
  t.type(sock, net.Socket);
  t.equal(sock.connecting, false, 'connected when it resolves');
  t.equal(sock.remotePort, sim.port);
  await t.rejects(tcp({ ...target, port: await freePort() }), { code: 'ECONNREFUSED' });
  const ac = new AbortController();
  ac.abort(new Error('gave up'));
  await t.rejects(tcp({ ...target, signal: ac.signal }), { message: 'gave up' });
  t.equal(sim.stats.totalConnections, 1, 'the aborted attempt never connected');
});

t.test('a device that says nothing over a custom stream times out naming the missing SSH banner', async (t) => {
  const sim = await startSim(t, { platform: 'linux' });
  // The proxy holds the device's first bytes for longer than the whole connect timeout.
  const proxy = await startFaultProxy({ host: sim.host, port: sim.port }, { handshakeDelayMs: 5000 });
  t.teardown(() => proxy.close());
  const device = simDeviceSpec(sim, { ssh: { ...testSshSettings, connectTimeoutMs: 400 } });
  const sockets: net.Socket[] = [];
  const started = Date.now();
  const err = await rejectsWith(t, connectSsh(device, { connector: relayConnector(proxy.port, [], sockets) }), 'CONNECT_TIMEOUT');
  const elapsed = Date.now() - started;
  t.ok(elapsed >= 390 && elapsed < 2500, `failed after ${elapsed} ms`);
  t.match(err.message, /during the handshake phase: the TCP connection was accepted but no SSH banner arrived/);
  t.match(err.message, new RegExp(`device ${device.id}`));
  t.equal(sockets.length, 1);
  t.equal(sockets[0]?.destroyed, true, 'the stream (and the socket under it) was destroyed');
});

t.test('a device that stalls after its version line over a custom stream times out without blaming a missing banner', async (t) => {
  // A listener that sends an SSH version line and then nothing: the key exchange never starts.
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.resume();
    s.write('SSH-2.0-Stalled_1.0\r\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))));
  const sim = await startSim(t, { platform: 'linux' });
  const device = simDeviceSpec(sim, { ssh: { ...testSshSettings, connectTimeoutMs: 400 } });
  const port = (server.address() as net.AddressInfo).port;
  const err = await rejectsWith(t, connectSsh(device, { connector: relayConnector(port, []) }), 'CONNECT_TIMEOUT');
  t.match(err.message, /during the handshake phase$/);
  t.notMatch(err.message, /no SSH banner/);
});

t.test('a connector error keeps its errno classification', async (t) => {
  const sim = await startSim(t, { platform: 'linux' });
  const device = simDeviceSpec(sim);
  const refused: Connector = async () => {
    throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  };
  const err = await rejectsWith(t, connectSsh(device, { connector: refused }), 'CONNECT_REFUSED');
  t.match(err.message, `device ${device.id}: connection to ${device.host}:${device.port} refused`);
  const unreachable: Connector = async () => {
    throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
  };
  await rejectsWith(t, connectSsh(device, { connector: unreachable }), 'HOST_UNREACHABLE');
  t.equal(sim.stats.totalConnections, 0, 'the device was never contacted');
});

t.test('a WarmpoolError from a connector is passed on unchanged', async (t) => {
  const sim = await startSim(t, { platform: 'linux' });
  const device = simDeviceSpec(sim);
  const own = new WarmpoolError('HOST_UNREACHABLE', `device ${device.id}: bastion jump-1 could not open a channel to ${device.host}:${device.port}`, { device: device.id });
  const err = await rejectsWith(t, connectSsh(device, { connector: async () => Promise.reject(own) }), 'HOST_UNREACHABLE');
  t.equal(err, own);
});

t.test('a connector that never answers is cut by the connect timeout in the tcp phase, and told to give up', async (t) => {
  const sim = await startSim(t, { platform: 'linux' });
  const device = simDeviceSpec(sim, { ssh: { ...testSshSettings, connectTimeoutMs: 300 } });
  let seen: AbortSignal | undefined;
  const hanging: Connector = (target) => {
    seen = target.signal;
    return new Promise(() => {});
  };
  const err = await rejectsWith(t, connectSsh(device, { connector: hanging }), 'CONNECT_TIMEOUT');
  t.match(err.message, /after 300 ms \(ssh\.connectTimeoutMs\) during the tcp phase/);
  t.equal(seen?.aborted, true, 'the connector\'s signal aborted');
});

t.test('cancelling while the connector works is CANCELLED, and a stream delivered afterwards is destroyed', async (t) => {
  const sim = await startSim(t, { platform: 'linux' });
  const device = simDeviceSpec(sim);
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  let late: net.Socket | undefined;
  const slow: Connector = async (target) => {
    await gate; // ignores the abort on purpose: the caller must still clean up
    late = (await buildTcpConnector()({ ...target, signal: new AbortController().signal })) as net.Socket;
    return late;
  };
  const ac = new AbortController();
  const p = connectSsh(device, { connector: slow, signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  const err = await rejectsWith(t, p, 'CANCELLED');
  t.match(err.message, /cancelled during the tcp phase/);
  release();
  const deadline = Date.now() + 2000;
  while ((late === undefined || !late.destroyed) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  t.equal(late?.destroyed, true, 'the late stream was destroyed');
});

t.test('a connector that throws synchronously fails the connect instead of throwing', async (t) => {
  const sim = await startSim(t, { platform: 'linux' });
  const device = simDeviceSpec(sim);
  const broken: Connector = () => {
    throw Object.assign(new Error('boom'), { code: 'EHOSTUNREACH' });
  };
  await rejectsWith(t, connectSsh(device, { connector: broken }), 'HOST_UNREACHABLE');
});
