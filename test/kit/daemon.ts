import * as grpc from '@grpc/grpc-js';
import { loadConfig } from '../../src/config/load.js';
import { validateDevice } from '../../src/config/inventory.js';
import type { AppConfig, DeviceSpec } from '../../src/config/types.js';
import { loadProto } from '../../src/api/proto.js';
import { createLogger, silentLogger, type Logger } from '../../src/core/logger.js';
import { Daemon } from '../../src/server.js';
import type { SimDevice } from '../../src/sim/ssh-device.js';
import type { DeviceProxyClient } from '../../src/gen/warmpool/v1/DeviceProxy.js';
import type { InventoryClient } from '../../src/gen/warmpool/v1/Inventory.js';
import type { AdminClient } from '../../src/gen/warmpool/v1/Admin.js';

export interface TestDaemon {
  daemon: Daemon;
  config: AppConfig;
  proxy: DeviceProxyClient;
  inventory: InventoryClient;
  admin: AdminClient;
  /** Promisified unary call: call(client.Run, req, opts). */
  call<Req, Res>(fn: (req: Req, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Res) => void) => unknown, req: Req, opts?: { deadlineMs?: number; metadata?: grpc.Metadata }): Promise<Res>;
  stop(): Promise<void>;
}

/** The inventory entry for a simulated device, pinned to its host key. */
export function simSpec(sim: SimDevice, id: string, extra: Record<string, unknown> = {}, defaults?: AppConfig['defaults']): DeviceSpec {
  const d = defaults ?? loadConfig({ argv: [], env: {} }).defaults;
  return validateDevice({
    id, host: sim.host, port: sim.port, platform: sim.platform, username: sim.username, password: sim.password,
    ...(sim.enableSecret ? { enableSecret: sim.enableSecret } : {}),
    hostKey: { fingerprints: [sim.hostKeyFingerprint] },
    ...extra,
  }, d, 'api', 'test');
}

/** A daemon on loopback port 0 with a real grpc-js client; `argv` are config flags. */
export async function startTestDaemon(opts: { argv?: string[]; devices?: DeviceSpec[]; logger?: Logger } = {}): Promise<TestDaemon> {
  const config = loadConfig({
    argv: ['--grpc.listen', '127.0.0.1:0', '--metrics.listen', '127.0.0.1:0', '--log.level', 'silent', ...(opts.argv ?? [])],
    env: {},
  });
  const logger = opts.logger ?? (process.env.WARMPOOL_TEST_LOG ? createLogger(process.env.WARMPOOL_TEST_LOG) : silentLogger);
  const daemon = new Daemon(config, { logger });
  await daemon.start(opts.devices ?? []);
  const { grpcObj } = loadProto();
  const v1 = grpcObj.warmpool.v1;
  const creds = grpc.credentials.createInsecure();
  const proxy = new v1.DeviceProxy(daemon.grpcAddress, creds);
  const channelOverride = proxy.getChannel();
  const inventory = new v1.Inventory(daemon.grpcAddress, creds, { channelOverride });
  const admin = new v1.Admin(daemon.grpcAddress, creds, { channelOverride });
  return {
    daemon, config, proxy, inventory, admin,
    call(fn, req, o = {}) {
      return new Promise((resolve, reject) => {
        const callOpts: grpc.CallOptions = o.deadlineMs ? { deadline: new Date(Date.now() + o.deadlineMs) } : {};
        fn(req, o.metadata ?? new grpc.Metadata(), callOpts, (e, r) => (e ? reject(e) : resolve(r as never)));
      });
    },
    async stop() {
      proxy.close();
      await daemon.shutdown('test');
    },
  };
}

/** Bind a client method so it can be passed to `call`. */
export function m<C extends object, K extends keyof C>(client: C, name: K): C[K] {
  return (client[name] as unknown as (...a: unknown[]) => unknown).bind(client) as C[K];
}
