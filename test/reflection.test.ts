/**
 * Server reflection serves the descriptors buf builds from proto/: real file names, their
 * imports, correctly named map entries, health and reflection listed. Checked with a third-party
 * client (`buf curl`) and with a raw reflection stream, against a real daemon.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import t from 'tap';
import { descriptorSetFiles } from '../src/api/reflection.js';
import { startSim } from './kit/sim.js';
import { simSpec, startTestDaemon } from './kit/daemon.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const BUF = join(ROOT, 'node_modules/.bin/buf');

async function bufCurl(addr: string, args: string[]): Promise<string> {
  const { stdout } = await run(BUF, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', ...args, `http://${addr}`], { cwd: ROOT, timeout: 30_000 });
  return stdout;
}

interface FileDescriptorProtoShape {
  name: string;
  dependency: string[];
  messageType: Array<{ name: string; field: Array<{ name: string }>; nestedType: Array<{ name: string; options?: { mapEntry?: boolean } }> }>;
  service: Array<{ name: string }>;
}

t.test('reflection, from the descriptor set built by buf', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios' });
  const d = await startTestDaemon({ devices: [simSpec(sim, 'r1')] });
  t.teardown(() => d.stop());
  const addr = d.daemon.grpcAddress;

  t.test('buf curl lists every service, health and reflection included', async (t) => {
    const out = (await bufCurl(addr, ['--list-services'])).trim().split('\n');
    for (const s of ['warmpool.v1.DeviceProxy', 'warmpool.v1.Inventory', 'warmpool.v1.Admin', 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection']) {
      t.ok(out.includes(s), `${s} listed`);
    }
  });

  t.test('buf curl lists the methods of a service by name', async (t) => {
    const out = (await bufCurl(addr, ['--list-methods'])).trim().split('\n');
    for (const m of ['warmpool.v1.Admin/GetPoolStats', 'warmpool.v1.Admin/DrainDevice', 'warmpool.v1.DeviceProxy/Run', 'warmpool.v1.Inventory/ListDevices']) {
      t.ok(out.includes(m), `${m} listed`);
    }
  });

  t.test('buf curl calls methods with no local schema', async (t) => {
    const { stdout: run1 } = await run(BUF, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', '-d', '{"device":"r1","commands":["show clock"]}', `http://${addr}/warmpool.v1.DeviceProxy/Run`], { cwd: ROOT, timeout: 30_000 });
    const reply = JSON.parse(run1) as { device: string; results: Array<{ command: string; output: string }> };
    t.equal(reply.device, 'r1');
    t.equal(reply.results[0]?.command, 'show clock');
    t.match(reply.results[0]?.output, /UTC/);
    const { stdout: health } = await run(BUF, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', '-d', '{}', `http://${addr}/grpc.health.v1.Health/Check`], { cwd: ROOT, timeout: 30_000 });
    t.same(JSON.parse(health), { status: 'SERVING' });
  });

  t.test('files come under their real names, with imports, and map entries as protoc names them', async (t) => {
    const rdef = protoLoader.loadSync(join(ROOT, 'node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto'), { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const Refl = (grpc.loadPackageDefinition(rdef) as any).grpc.reflection.v1.ServerReflection;
    const client = new Refl(addr, grpc.credentials.createInsecure());
    t.teardown(() => client.close());
    const ask = (req: Record<string, unknown>): Promise<{ fileDescriptorResponse?: { fileDescriptorProto: Buffer[] }; errorResponse?: { errorMessage: string } }> =>
      new Promise((resolve, reject) => {
        const stream = client.ServerReflectionInfo();
        stream.on('data', (m: never) => {
          resolve(m);
          stream.end();
        });
        stream.on('error', reject);
        stream.write(req);
      });
    const byName = await ask({ fileByFilename: 'warmpool/v1/device_proxy.proto' });
    t.notOk(byName.errorResponse, byName.errorResponse?.errorMessage ?? "no error");
    const files = (byName.fileDescriptorResponse?.fileDescriptorProto ?? []).map((b) => descriptor.FileDescriptorProto.decode(b) as unknown as FileDescriptorProtoShape);
    const names = files.map((f) => f.name);
    t.ok(names.includes('warmpool/v1/device_proxy.proto'), 'the file itself');
    t.ok(names.includes('warmpool/v1/common.proto'), 'with the file it imports');
    const proxyFile = files.find((f) => f.name === 'warmpool/v1/device_proxy.proto') as FileDescriptorProtoShape;
    t.same(proxyFile.dependency, ['warmpool/v1/common.proto']);
    const runMany = proxyFile.messageType.find((m) => m.name === 'RunManyRequest');
    const entry = runMany?.nestedType.find((n) => n.name === 'LabelsEntry');
    t.ok(entry, 'map<string,string> labels has its LabelsEntry');
    t.equal(entry?.options?.mapEntry, true);

    const bySymbol = await ask({ fileContainingSymbol: 'warmpool.v1.Admin' });
    const adminFiles = (bySymbol.fileDescriptorResponse?.fileDescriptorProto ?? []).map((b) => (descriptor.FileDescriptorProto.decode(b) as unknown as FileDescriptorProtoShape).name);
    t.same(adminFiles, ['warmpool/v1/admin.proto']);
    const unknown = await ask({ fileByFilename: 'warmpool_v1.proto' });
    t.ok(unknown.errorResponse, 'no made-up file names');
  });
});

t.test('a descriptor set is split into its files; a damaged one is refused', async (t) => {
  const a = Buffer.from([0x0a, 0x02, 0x0a, 0x00]);
  const b = Buffer.from([0x0a, 0x01, 0x12]);
  const files = descriptorSetFiles(Buffer.concat([a, b]));
  t.same(files.map((f) => [...f]), [[0x0a, 0x00], [0x12]]);
  t.throws(() => descriptorSetFiles(Buffer.from([0x0a, 0x05, 0x01])), /truncated/);
  t.throws(() => descriptorSetFiles(Buffer.from([0x12, 0x00])), /unexpected field key/);
});
