/**
 * Server reflection from the descriptor set that `buf` builds from proto/ (proto/descriptors.binpb,
 * made by scripts/gen-descriptors.mjs): every file under its real name with its imports and
 * comments, plus grpc.health.v1 and grpc.reflection.v1. proto-loader's runtime descriptors are
 * not usable for this (one synthetic file per package, map entries misnamed), which is why
 * grpcurl and `buf curl` could not describe our services before.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { protoDir } from './proto.js';

/**
 * The FileDescriptorProto messages of a serialized FileDescriptorSet (`repeated
 * FileDescriptorProto file = 1`), each still encoded: the reflection service wants them so.
 */
export function descriptorSetFiles(set: Buffer): Buffer[] {
  const files: Buffer[] = [];
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= set.length) throw new Error('truncated descriptor set');
      const b = set[pos++] as number;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
    throw new Error('malformed varint in descriptor set');
  };
  while (pos < set.length) {
    const key = varint();
    if (key !== 0x0a) throw new Error(`unexpected field key ${key} in descriptor set`);
    const len = varint();
    if (pos + len > set.length) throw new Error('truncated descriptor set');
    files.push(set.subarray(pos, pos + len));
    pos += len;
  }
  return files;
}

/** The reflection service (v1 and v1alpha) over proto/descriptors.binpb. */
export function createReflection(): ReflectionService {
  const files = descriptorSetFiles(readFileSync(join(protoDir(), 'descriptors.binpb')));
  // ReflectionService only reads `fileDescriptorProtos` from the package definition's entries.
  const pkg = { 'warmpool.descriptors': { fileDescriptorProtos: files } } as unknown as PackageDefinition;
  return new ReflectionService(pkg);
}
