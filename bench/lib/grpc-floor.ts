/**
 * A gRPC floor: the cheapest possible unary call with grpc-js (bytes in, fixed bytes out, no protobuf,
 * no work) served from a CHILD process, to separate what any gRPC hop costs on this machine from what
 * the daemon adds. Run as a script it is the server: prints its port, serves until SIGTERM.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { reapOnExit, stopChild } from './sim-process.js';

const identity = (b: Buffer): Buffer => b;
export const FLOOR_SERVICE: grpc.ServiceDefinition = {
  Echo: {
    path: '/bench.Floor/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

/** Roughly the size of a Run reply for `show clock`. */
const REPLY = Buffer.alloc(160, 0x61);

export interface GrpcFloor {
  pid: number;
  /** One empty unary call (resolves when the reply arrives). */
  echo(): Promise<void>;
  stop(): Promise<void>;
}

export async function startGrpcFloorProcess(): Promise<GrpcFloor> {
  const proc = reapOnExit(spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve'], { stdio: ['ignore', 'pipe', 'inherit'] }));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /port (\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`gRPC floor server exited (${code})`)));
  });
  const Client = grpc.makeGenericClientConstructor(FLOOR_SERVICE, 'Floor');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & { Echo: (req: Buffer, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null) => void) => void };
  const req = Buffer.from('{"device":"r1","commands":["show clock"]}');
  return {
    pid: proc.pid as number,
    // Same call shape as the daemon side: fresh metadata and a deadline per call.
    echo: () => new Promise<void>((resolve, reject) => client.Echo(req, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (e) => (e ? reject(e) : resolve()))),
    stop: async () => {
      client.close();
      await stopChild(proc);
    },
  };
}

if (process.argv[2] === '--serve') {
  const server = new grpc.Server();
  server.addService(FLOOR_SERVICE, { Echo: (_call: unknown, cb: grpc.sendUnaryData<Buffer>) => cb(null, REPLY) });
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    process.stdout.write(`port ${port}\n`);
  });
  process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
}
