// Builds proto/descriptors.binpb, the FileDescriptorSet that server reflection serves: our
// files under their real names (with comments), plus grpc.health.v1 and grpc.reflection.v1,
// so grpcurl and `buf curl` can list, describe and call every service without a local schema.
// The file is committed (the runtime needs no buf); `--check` fails when it is stale.
//   node scripts/gen-descriptors.mjs [--check]
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const buf = join(root, 'node_modules/.bin/buf');
const out = join(root, 'proto/descriptors.binpb');
const tmp = mkdtempSync(join(tmpdir(), 'warmpool-desc-'));

/** `buf build` in `dir` (so a directory outside our workspace is its own module). */
function build(dir, name, args = []) {
  const file = join(tmp, name);
  execFileSync(buf, ['build', ...args, '-o', file], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  return readFileSync(file);
}

try {
  // Serialized FileDescriptorSets concatenate into one: `file` is a repeated field.
  const set = Buffer.concat([
    build(root, 'warmpool.binpb'),
    build(join(root, 'node_modules/grpc-health-check/proto'), 'health.binpb'),
    build(join(root, 'node_modules/@grpc/reflection/build/proto'), 'reflection.binpb', ['--path', 'grpc/reflection/v1/reflection.proto']),
  ]);
  if (process.argv.includes('--check')) {
    const current = readFileSync(out);
    if (!current.equals(set)) {
      console.error('proto/descriptors.binpb is stale: run `npm run gen:descriptors` and commit it');
      process.exit(1);
    }
  } else {
    writeFileSync(out, set);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
