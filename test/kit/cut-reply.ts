/**
 * An HTTP/2 server that does to every call what HAProxy 2.6 does when a warmpool replica dies
 * while its reply is on the way: it sends the reply's headers, then ends the stream with
 * RST_STREAM(NO_ERROR) and no gRPC status. Used by the TypeScript and the Python client tests
 * (run as a program it prints `PORT <n>` and serves until killed).
 */
import { constants, createServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

export interface CutReplyServer {
  port: number;
  /** How many calls reached it (a client must not repeat a cut call). */
  calls(): number;
  close(): Promise<void>;
}

export async function startCutReplyServer(host = '127.0.0.1'): Promise<CutReplyServer> {
  let calls = 0;
  const server = createServer();
  server.on('stream', (stream) => {
    calls++;
    stream.on('data', () => {});
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    stream.close(constants.NGHTTP2_NO_ERROR);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    calls: () => calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const s = await startCutReplyServer();
  process.stdout.write(`PORT ${s.port}\n`);
}
