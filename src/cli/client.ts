import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { loadProto } from '../api/proto.js';
import { UsageError } from './args.js';
import type { DeviceProxyClient } from '../gen/warmpool/v1/DeviceProxy.js';
import type { InventoryClient } from '../gen/warmpool/v1/Inventory.js';
import type { AdminClient } from '../gen/warmpool/v1/Admin.js';

/** Options every client subcommand accepts. */
export interface ClientOptions {
  addr: string;
  json: boolean;
  token?: string;
  ca?: string;
  cert?: string;
  key?: string;
  timeoutMs: number;
}

export const CLIENT_OPTION_HELP = `Connection options:
  --addr HOST:PORT     daemon address (default: WARMPOOL_ADDR, else WARMPOOL_GRPC_LISTEN, else 127.0.0.1:50051)
  --token-file FILE    bearer token for a daemon with token auth (or WARMPOOL_TOKEN)
  --ca FILE            CA certificate: connect with TLS
  --cert FILE --key FILE  client certificate for mTLS
  --timeout MS         call deadline (default 120000)
  --json               machine-readable output`;

export const CLIENT_PARSE_OPTIONS = {
  addr: { type: 'string' },
  'token-file': { type: 'string' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** A file named by an option, with a message that says which option and why it cannot be read. */
function readOptionFile(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`--${flag}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export function clientOptions(v: Record<string, unknown>, env: NodeJS.ProcessEnv): ClientOptions {
  const tokenFile = v['token-file'] as string | undefined;
  const token = tokenFile ? readOptionFile('token-file', tokenFile).toString('utf8').trim() : env.WARMPOOL_TOKEN || undefined;
  const timeoutMs = v.timeout ? Number(v.timeout) : 120_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UsageError(`--timeout: "${String(v.timeout)}" is not a positive number of milliseconds`);
  // grpc-js would quietly take port 443 for a bare host name.
  if (v.addr !== undefined && !String(v.addr).includes(':')) throw new UsageError(`--addr: "${String(v.addr)}" has no port (HOST:PORT, e.g. 127.0.0.1:50051)`);
  return {
    addr: (v.addr as string | undefined) ?? env.WARMPOOL_ADDR ?? env.WARMPOOL_GRPC_LISTEN ?? '127.0.0.1:50051',
    json: Boolean(v.json),
    ...(token ? { token } : {}),
    ...(v.ca ? { ca: v.ca as string } : {}),
    ...(v.cert ? { cert: v.cert as string } : {}),
    ...(v.key ? { key: v.key as string } : {}),
    timeoutMs,
  };
}

export interface Clients {
  proxy: DeviceProxyClient;
  inventory: InventoryClient;
  admin: AdminClient;
  /** Metadata for a call: auth token and, when given, the device header used for consistent-hash routing. */
  metadata(device?: string): grpc.Metadata;
  deadline(): Date;
  close(): void;
}

export function connect(o: ClientOptions): Clients {
  const creds = o.ca
    ? grpc.credentials.createSsl(readOptionFile('ca', o.ca), o.key ? readOptionFile('key', o.key) : null, o.cert ? readOptionFile('cert', o.cert) : null)
    : grpc.credentials.createInsecure();
  const { grpcObj } = loadProto();
  const v1 = grpcObj.warmpool.v1;
  const proxy = new v1.DeviceProxy(o.addr, creds);
  const channelOverride = proxy.getChannel();
  const inventory = new v1.Inventory(o.addr, creds, { channelOverride });
  const admin = new v1.Admin(o.addr, creds, { channelOverride });
  return {
    proxy,
    inventory,
    admin,
    metadata(device) {
      const md = new grpc.Metadata();
      if (o.token) md.set('authorization', `Bearer ${o.token}`);
      // Lets a gateway (Envoy/Istio) hash each device to one replica, keeping its sessions warm there.
      if (device) md.set('x-warmpool-device', device);
      return md;
    },
    deadline: () => new Date(Date.now() + o.timeoutMs),
    close: () => proxy.close(),
  };
}

export function unaryCall<Req, Res>(
  fn: (req: Req, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => unknown,
  req: Req,
  md: grpc.Metadata,
  deadline: Date,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn(req, md, { deadline }, (err, res) => (err ? reject(err) : resolve(res as Res)));
  });
}
