import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { WarmpoolError } from '../src/core/errors.js';
import { CallTracker, unary, type HandlerDeps } from '../src/api/handler.js';
import { openGuard } from '../src/app/guard.js';
import { silentLogger } from '../src/core/logger.js';

/**
 * A reply grpc-js refuses to send (here: an error whose code is not a legal metadata value, as a
 * future bug might produce) must cost one call an INTERNAL status, not leave it unanswered and
 * take the daemon down with an unhandled rejection. Real grpc-js server and client on loopback.
 */
const identity = (b: Buffer): Buffer => b;
const SERVICE: grpc.ServiceDefinition = {
  Call: { path: '/test.Reply/Call', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
};

t.test('a reply that grpc-js cannot send becomes INTERNAL and the server keeps serving', async (t) => {
  const codes: string[] = [];
  const deps: HandlerDeps = {
    guard: openGuard, tracker: new CallTracker(), logger: silentLogger,
    metrics: { rpc: (_m, code) => void codes.push(code), command() {}, cache() {} },
  };
  const handler = unary<Buffer, Buffer>('Reply/Call', deps, async (req) => {
    if (req.toString() === 'bad') {
      // A code that is not one of ours, with a line break: Metadata.set throws on it.
      throw Object.assign(new WarmpoolError('INTERNAL', 'broken'), { code: 'NOT\nA_CODE' });
    }
    return Buffer.from('ok');
  });
  const server = new grpc.Server();
  server.addService(SERVICE, { Call: handler });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  t.teardown(() => server.forceShutdown());
  const Client = grpc.makeGenericClientConstructor(SERVICE, 'Reply');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as {
    Call(req: Buffer, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Buffer) => void): void; close(): void;
  };
  t.teardown(() => client.close());
  const call = (body: string) => new Promise<{ err: grpc.ServiceError | null; res?: Buffer }>((resolve) =>
    client.Call(Buffer.from(body), { deadline: Date.now() + 5000 }, (err, res) => resolve({ err, res })));

  const bad = await call('bad');
  t.equal(bad.err?.code, grpc.status.INTERNAL, `INTERNAL, not a hang or DEADLINE_EXCEEDED (${bad.err?.details})`);
  t.match(bad.err?.details, /internal error while sending the reply/);
  t.same(codes, ['INTERNAL'], 'counted once, as INTERNAL');
  t.equal(deps.tracker.active, 0, 'the call is no longer tracked as in flight');
  const good = await call('fine');
  t.equal(good.err, null);
  t.equal(good.res?.toString(), 'ok', 'the next call is served');
});
