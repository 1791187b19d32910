/**
 * A simulated device HTTP API on node:http / node:https (loopback): an Arista eAPI-style
 * JSON-RPC endpoint, a RESTCONF-style interface list, session login, and endpoints that
 * misbehave on demand (big, slow, reset). Used by tests, benchmarks and the demo.
 *
 * It counts at the server what clients cannot fake: sockets opened, sockets open now (and
 * the peak), concurrent requests (and the peak), requests per path, logins.
 *
 * Endpoints:
 *   POST /command-api                 JSON-RPC runCmds (show version, show hostname, show interfaces status, ...)
 *   GET  /restconf/data/interfaces    interface list (also GET /api/v1/interfaces)
 *   POST /login                       {"username","password"} → Set-Cookie session=...; {"token": ...}
 *   GET  /big?bytes=N[&chunked=1]     N bytes (chunked=1: no Content-Length, streamed in 16 KiB pieces)
 *   GET  /slow?ms=N                   answers after N ms
 *   POST /echo                        the request body back, same Content-Type
 *   GET  /headers                     the request headers as JSON
 *   ANY  /reset                       destroys the connection without answering
 *   ANY  /flaky?key=K&fail=N          destroys the connection for the first N requests with key K, then answers
 *   GET  /status/N                    answers with status N
 */
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export type SimHttpAuth = 'none' | 'basic' | 'bearer' | 'session';

export interface SimHttpDeviceOptions {
  /** Serve HTTPS with this key/cert. `ca` + `requireClientCert` demand a client certificate (mTLS). */
  tls?: { key: Buffer | string; cert: Buffer | string; ca?: Buffer | string; requireClientCert?: boolean };
  auth: SimHttpAuth;
  username?: string;
  password?: string;
  token?: string;
  /** Session lifetime after login (default 1 h); afterwards the session's requests get 401. */
  sessionTtlMs?: number;
  /** Added before every answer. */
  latencyMs?: number;
  /** 0 (default): any free port. */
  port?: number;
  /** Loopback address to bind (default 127.0.0.1). */
  host?: '127.0.0.1' | '::1';
  /** Shown by `show hostname` / `show version`. */
  hostname?: string;
}

export interface SimHttpCounters {
  socketsOpened: number;
  openSockets: number;
  peakOpenSockets: number;
  activeRequests: number;
  peakConcurrentRequests: number;
  requests: number;
  logins: number;
  /** Requests per URL path (without the query). */
  byPath: Map<string, number>;
}

export interface SimHttpDevice {
  readonly port: number;
  readonly host: string;
  /** e.g. https://127.0.0.1:34567 */
  readonly url: string;
  readonly counters: SimHttpCounters;
  /** Accept only this bearer token from now on (rotation). */
  setToken(token: string): void;
  /** Invalidate every session: the next request with an old cookie/token gets 401. */
  expireSessions(): void;
  resetCounters(): void;
  close(): Promise<void>;
}

const MAX_REQUEST_BODY = 1 << 20;

function newCounters(): SimHttpCounters {
  return { socketsOpened: 0, openSockets: 0, peakOpenSockets: 0, activeRequests: 0, peakConcurrentRequests: 0, requests: 0, logins: 0, byPath: new Map() };
}

function sendJson(res: ServerResponse, status: number, value: unknown, extra: Record<string, string | string[]> = {}): void {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length, ...extra });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BODY) {
        req.destroy();
        reject(new Error('request body too large'));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

/** eAPI `runCmds` results, shaped like EOS 4.31 JSON output. */
function eapiResult(cmd: string, hostname: string, format: string): unknown {
  const c = cmd.trim().replace(/\s+/g, ' ');
  const json: Record<string, unknown> | undefined = {
    'show version': {
      mfgName: 'Arista', modelName: 'DCS-7050SX3-48YC8', hardwareRevision: '11.00', serialNumber: 'JPE21290000',
      systemMacAddress: '00:1c:73:aa:bb:01', hwMacAddress: '00:1c:73:aa:bb:01', configMacAddress: '00:00:00:00:00:00',
      version: '4.31.2F', architecture: 'x86_64', internalVersion: '4.31.2F-35474154.4312F', internalBuildId: '0c6b8a5e-4c5f-4f0b-9c1e-3f8d2a7b6c11',
      imageFormatVersion: '3.0', imageOptimization: 'Default', bootupTimestamp: 1700000000.0, uptime: 1234567.89,
      memTotal: 8099732, memFree: 5702120, isIntlVersion: false,
    },
    'show hostname': { hostname, fqdn: `${hostname}.lab.example` },
    'show interfaces status': {
      interfaceStatuses: {
        Ethernet1: { description: 'uplink-core1', linkStatus: 'connected', vlanInformation: { interfaceMode: 'routed', interfaceForwardingModel: 'routed' }, bandwidth: 10000000000, interfaceType: '10GBASE-SR', duplex: 'duplexFull', autoNegotiateActive: false },
        Ethernet2: { description: '', linkStatus: 'notconnect', vlanInformation: { interfaceMode: 'bridged', vlanId: 1, interfaceForwardingModel: 'bridged' }, bandwidth: 0, interfaceType: '10GBASE-SR', duplex: 'duplexUnknown', autoNegotiateActive: false },
        Management1: { description: 'oob', linkStatus: 'connected', vlanInformation: { interfaceMode: 'routed', interfaceForwardingModel: 'routed' }, bandwidth: 1000000000, interfaceType: '10/100/1000', duplex: 'duplexFull', autoNegotiateActive: true },
      },
    },
    'show clock': { utcTime: Date.now() / 1000, timezone: 'UTC', clockSource: { local: true } },
    enable: {},
  }[c];
  if (json === undefined) return undefined;
  if (format === 'text') {
    if (c === 'show version') return { output: `Arista DCS-7050SX3-48YC8\nHardware version: 11.00\nSerial number: JPE21290000\nSoftware image version: 4.31.2F\nArchitecture: x86_64\n` };
    if (c === 'show hostname') return { output: `Hostname: ${hostname}\nFQDN:     ${hostname}.lab.example\n` };
    return { output: '' };
  }
  return json;
}

const INTERFACES = {
  'openconfig-interfaces:interfaces': {
    interface: [
      { name: 'Ethernet1', config: { name: 'Ethernet1', description: 'uplink-core1', enabled: true, mtu: 9214 }, state: { 'oper-status': 'UP', 'admin-status': 'UP', counters: { 'in-octets': '918273645', 'out-octets': '123456789' } } },
      { name: 'Ethernet2', config: { name: 'Ethernet2', description: '', enabled: true, mtu: 1500 }, state: { 'oper-status': 'DOWN', 'admin-status': 'UP', counters: { 'in-octets': '0', 'out-octets': '0' } } },
      { name: 'Management1', config: { name: 'Management1', description: 'oob', enabled: true, mtu: 1500 }, state: { 'oper-status': 'UP', 'admin-status': 'UP', counters: { 'in-octets': '5551212', 'out-octets': '4441212' } } },
    ],
  },
};

export async function startSimHttpDevice(opts: SimHttpDeviceOptions): Promise<SimHttpDevice> {
  const host = opts.host ?? '127.0.0.1';
  const hostname = opts.hostname ?? 'sim-eos1';
  const ttl = opts.sessionTtlMs ?? 3_600_000;
  let token = opts.token ?? '';
  /** session token → expiry (Date.now ms) */
  const sessions = new Map<string, number>();
  let counters = newCounters();
  const flaky = new Map<string, number>();
  const sockets = new Set<Socket>();

  const authorized = (req: IncomingMessage): boolean => {
    const h = req.headers.authorization ?? '';
    switch (opts.auth) {
      case 'none':
        return true;
      case 'basic': {
        if (!h.startsWith('Basic ')) return false;
        return Buffer.from(h.slice(6), 'base64').toString('utf8') === `${opts.username ?? ''}:${opts.password ?? ''}`;
      }
      case 'bearer':
        return token !== '' && h === `Bearer ${token}`;
      case 'session': {
        const candidate =
          cookieValue(req.headers.cookie, 'session') ??
          (h.startsWith('Bearer ') ? h.slice(7) : undefined) ??
          (typeof req.headers['x-auth-token'] === 'string' ? req.headers['x-auth-token'] : undefined);
        const exp = candidate === undefined ? undefined : sessions.get(candidate);
        return exp !== undefined && exp > Date.now();
      }
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sim');
    const path = url.pathname;
    counters.requests++;
    counters.byPath.set(path, (counters.byPath.get(path) ?? 0) + 1);
    if (path === '/reset') {
      req.socket.destroy();
      return;
    }
    if (path === '/flaky') {
      const key = url.searchParams.get('key') ?? '';
      const seen = (flaky.get(key) ?? 0) + 1;
      flaky.set(key, seen);
      if (seen <= Number(url.searchParams.get('fail') ?? 1)) {
        req.socket.destroy();
        return;
      }
      await readBody(req);
      return sendJson(res, 200, { key, attempt: seen });
    }
    const body = await readBody(req);
    if (opts.latencyMs) await new Promise((r) => setTimeout(r, opts.latencyMs));

    if (path === '/login' && req.method === 'POST') {
      if (opts.auth !== 'session') return sendJson(res, 404, { error: 'not found' });
      counters.logins++;
      let creds: { username?: unknown; password?: unknown } = {};
      try {
        creds = JSON.parse(body.toString('utf8')) as typeof creds;
      } catch {
        return sendJson(res, 400, { error: 'body must be JSON' });
      }
      if (creds.username !== opts.username || creds.password !== opts.password) return sendJson(res, 403, { error: 'invalid credentials' });
      const tok = randomBytes(16).toString('hex');
      sessions.set(tok, Date.now() + ttl);
      return sendJson(res, 200, { token: tok, expiresInMs: ttl }, { 'set-cookie': [`session=${tok}; Path=/; HttpOnly; Secure`] });
    }

    if (!authorized(req)) {
      const challenge = opts.auth === 'basic' ? 'Basic realm="sim"' : 'Bearer realm="sim"';
      return sendJson(res, 401, { error: 'unauthorized' }, { 'www-authenticate': challenge });
    }

    if (path === '/command-api' && req.method === 'POST') {
      let rpc: { jsonrpc?: string; method?: string; params?: { version?: unknown; cmds?: unknown; format?: string }; id?: unknown };
      try {
        rpc = JSON.parse(body.toString('utf8')) as typeof rpc;
      } catch {
        return sendJson(res, 200, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
      }
      const id = rpc.id ?? null;
      if (rpc.method !== 'runCmds' || !Array.isArray(rpc.params?.cmds)) {
        return sendJson(res, 200, { jsonrpc: '2.0', id, error: { code: -32601, message: `Method not found: ${String(rpc.method)}` } });
      }
      const cmds = rpc.params!.cmds as unknown[];
      const format = rpc.params!.format === 'text' ? 'text' : 'json';
      const results: unknown[] = [];
      for (let i = 0; i < cmds.length; i++) {
        const cmd = typeof cmds[i] === 'string' ? (cmds[i] as string) : String((cmds[i] as { cmd?: unknown })?.cmd ?? '');
        const r = eapiResult(cmd, hostname, format);
        if (r === undefined) {
          return sendJson(res, 200, {
            jsonrpc: '2.0', id,
            error: { code: 1002, message: `CLI command ${i + 1} of ${cmds.length} '${cmd}' failed: invalid command`, data: [...results, { errors: [`Invalid input (at token 1: '${cmd.split(' ')[1] ?? cmd}')`] }] },
          });
        }
        results.push(r);
      }
      return sendJson(res, 200, { jsonrpc: '2.0', id, result: results });
    }

    if ((path === '/restconf/data/interfaces' || path === '/api/v1/interfaces') && req.method === 'GET') {
      return sendJson(res, 200, INTERFACES, { 'content-type': 'application/yang-data+json' });
    }

    if (path === '/big' && req.method === 'GET') {
      const n = Math.max(0, Math.min(Number(url.searchParams.get('bytes') ?? 0) || 0, 256 << 20));
      const chunked = url.searchParams.get('chunked') === '1';
      res.writeHead(200, chunked ? { 'content-type': 'application/octet-stream' } : { 'content-type': 'application/octet-stream', 'content-length': n });
      const piece = Buffer.alloc(16384, 0x78);
      let left = n;
      const pump = (): void => {
        while (left > 0) {
          const c = piece.subarray(0, Math.min(left, piece.length));
          left -= c.length;
          if (!res.write(c)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      res.on('close', () => {
        left = 0;
      });
      pump();
      return;
    }

    if (path === '/slow' && req.method === 'GET') {
      const ms = Math.max(0, Math.min(Number(url.searchParams.get('ms') ?? 0) || 0, 60_000));
      const timer = setTimeout(() => sendJson(res, 200, { sleptMs: ms }), ms);
      res.on('close', () => clearTimeout(timer));
      return;
    }

    if (path === '/echo' && req.method === 'POST') {
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/octet-stream', 'content-length': body.length });
      res.end(body);
      return;
    }

    if (path === '/headers') return sendJson(res, 200, req.headers);

    const m = /^\/status\/(\d{3})$/.exec(path);
    if (m) return sendJson(res, Number(m[1]), { status: Number(m[1]) });

    return sendJson(res, 404, { error: 'not found', path });
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    counters.activeRequests++;
    counters.peakConcurrentRequests = Math.max(counters.peakConcurrentRequests, counters.activeRequests);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      counters.activeRequests--;
    };
    res.on('close', finish);
    handle(req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  };

  const server: Server = opts.tls
    ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert, ca: opts.tls.ca, requestCert: opts.tls.requireClientCert === true, rejectUnauthorized: opts.tls.requireClientCert === true }, listener)
    : createHttpServer(listener);
  // Above undici's default keep-alive so the client, not the server, decides when idle sockets go.
  server.keepAliveTimeout = 65_000;
  const onSocket = (s: Socket) => {
    counters.socketsOpened++;
    counters.openSockets++;
    counters.peakOpenSockets = Math.max(counters.peakOpenSockets, counters.openSockets);
    sockets.add(s);
    s.once('close', () => {
      counters.openSockets--;
      sockets.delete(s);
    });
  };
  // For HTTPS, count TCP connections (before the handshake), so refused handshakes count too.
  server.on('connection', onSocket);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    port,
    host,
    url: `${opts.tls ? 'https' : 'http'}://${urlHost}:${port}`,
    get counters() {
      return counters;
    },
    setToken(t: string) {
      token = t;
    },
    expireSessions() {
      sessions.clear();
    },
    resetCounters() {
      const open = counters.openSockets;
      counters = newCounters();
      counters.openSockets = open;
      counters.peakOpenSockets = open;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
    },
  };
}
