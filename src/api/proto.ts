import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as DeviceProxyProto } from '../gen/device_proxy.js';
import type { ProtoGrpcType as InventoryProto } from '../gen/inventory.js';
import type { ProtoGrpcType as AdminProto } from '../gen/admin.js';

export const PROTO_FILES = [
  'warmpool/v1/common.proto',
  'warmpool/v1/device_proxy.proto',
  'warmpool/v1/inventory.proto',
  'warmpool/v1/admin.proto',
];

/** Options shared by server and clients; they match the generated types in src/gen/. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** The proto/ directory, found from this module whether it runs from src/ (tests) or dist/src/. */
export function protoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, 'warmpool/v1/device_proxy.proto'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('cannot find the proto/ directory next to the warmpool installation');
}

export type WarmpoolProto = DeviceProxyProto & InventoryProto & AdminProto;

let cached: { def: protoLoader.PackageDefinition; grpcObj: WarmpoolProto } | undefined;

export function loadProto(): { def: protoLoader.PackageDefinition; grpcObj: WarmpoolProto } {
  if (!cached) {
    const def = protoLoader.loadSync(PROTO_FILES, { ...LOADER_OPTIONS, includeDirs: [protoDir()] });
    cached = { def, grpcObj: grpc.loadPackageDefinition(def) as unknown as WarmpoolProto };
  }
  return cached;
}
