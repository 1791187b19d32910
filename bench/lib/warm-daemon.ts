import * as grpc from '@grpc/grpc-js';
import { loadConfig } from '../../src/config/load.js';
import { validateDevice } from '../../src/config/inventory.js';
import type { DeviceSpec } from '../../src/config/types.js';
import { loadProto } from '../../src/api/proto.js';
import { silentLogger } from '../../src/core/logger.js';
import { createSshSessionFactory } from '../../src/drivers/ssh-factory.js';
import type { BatchRequest, DeviceSession } from '../../src/drivers/ssh-types.js';
import type { SessionFactory } from '../../src/pool/types.js';
import type { DeviceProxyClient } from '../../src/gen/warmpool/v1/DeviceProxy.js';
import { Daemon } from '../../src/server.js';
import { batch } from '../../test/kit/sim.js';

/** One command as a batch (10 s timeout), for driving a raw held session directly. */
export function batchOf(cmd: string): BatchRequest {
  return batch([cmd], { timeoutMs: () => 10_000 });
}

export interface WarmDaemon {
  spec: DeviceSpec;
  /** Opens sessions exactly as the daemon's pool does (for raw held and cold cases). */
  factory: SessionFactory<DeviceSession>;
  /** A raw ssh2 shell held by the benchmark itself: the physical limit. */
  raw: DeviceSession;
  /** The same without the end-of-output marker (prompt-only detection): what the marker costs. */
  rawNoMarker: DeviceSession;
  daemon: Daemon;
  client: DeviceProxyClient;
  /** One warm Run of `cmd` through the daemon's gRPC API. */
  run(cmd: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * An in-process daemon with one simulated Cisco IOS device (pool 1/1, audit off) and, beside it,
 * a raw shell session to the same device: the common setup of the latency benchmarks.
 */
export async function startWarmDaemon(port: number, fingerprint: string): Promise<WarmDaemon> {
  const config = loadConfig({ argv: ['--grpc.listen', '127.0.0.1:0', '--metrics.listen', '127.0.0.1:0', '--log.audit.enabled', 'false'], env: {} });
  const spec = validateDevice({
    id: 'r1', host: '127.0.0.1', port, platform: 'cisco_ios', username: 'admin', password: 'admin-pass', enableSecret: 'enable-pass',
    hostKey: { fingerprints: [fingerprint] }, pool: { min: 1, max: 1 },
  }, config.defaults, 'api');
  const factory = createSshSessionFactory(spec, { logger: silentLogger });
  const raw = await factory.open(new AbortController().signal);
  const rawNoMarker = await createSshSessionFactory(spec, { logger: silentLogger, shell: { endMarker: false } }).open(new AbortController().signal);
  const daemon = new Daemon(config, { logger: silentLogger });
  await daemon.start([spec]);
  const client = new (loadProto().grpcObj.warmpool.v1.DeviceProxy)(daemon.grpcAddress, grpc.credentials.createInsecure());
  return {
    spec, factory, raw, rawNoMarker, daemon, client,
    run: (cmd) => new Promise<void>((res, rej) => client.Run({ device: 'r1', commands: [cmd] }, (e) => (e ? rej(e) : res()))),
    async close() {
      client.close();
      await raw.close();
      await rawNoMarker.close();
      await daemon.shutdown('bench');
    },
  };
}
