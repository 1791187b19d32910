import { createHash } from 'node:crypto';
import t, { type Test } from 'tap';
import { Secret } from '../src/config/secret.js';
import { WarmpoolError } from '../src/core/errors.js';
import { silentLogger } from '../src/core/logger.js';
import type { DeviceSpec } from '../src/config/types.js';
import type { ExecSession, ExecSessionOptions } from '../src/drivers/exec-driver.js';
import { createSshSessionFactory } from '../src/drivers/ssh-factory.js';
import type { BatchRequest } from '../src/drivers/ssh-types.js';
import { FakeClock } from './kit/fake-clock.js';
import { startTestSshServer } from './kit/keys.js';
import { sshdDevice, startSshd, startTcpProxy, testDevice } from './kit/sshd.js';
import { rejectsWith } from './kit/rejects.js';

const sshd = await startSshd();
t.teardown(() => sshd.stop());

function batch(commands: string[], over: Partial<BatchRequest> = {}): BatchRequest {
  return { commands, privileged: false, configure: false, stopOnError: false, timeoutMs: () => 10000, ...over };
}

/** An exec session through the factory the pool uses (it connects, the driver gets the connection). */
async function openExecSession(device: DeviceSpec, exec: ExecSessionOptions = {}): Promise<ExecSession> {
  const factory = createSshSessionFactory({ ...device, mode: 'exec' }, { logger: silentLogger, exec });
  return (await factory.open(new AbortController().signal)) as ExecSession;
}

async function session(t: Test, opts: ExecSessionOptions = {}): Promise<ExecSession> {
  const s = await openExecSession(sshdDevice(sshd), opts);
  t.teardown(() => s.close());
  return s;
}


t.test('exit status is the remote status and failed follows it', async (t) => {
  const s = await session(t);
  const r = await s.runBatch(batch(['true', 'exit 3', 'echo hi']));
  t.same(
    r.map((x) => [x.command, x.exitStatus, x.failed, x.output]),
    [
      ['true', 0, false, ''],
      ['exit 3', 3, true, ''],
      ['echo hi', 0, false, 'hi\n'],
    ],
  );
  t.equal(s.dirty, false);
});

t.test('stderr is kept out of output and reported in error', async (t) => {
  const s = await session(t);
  const [r, q, big] = await s.runBatch(
    batch(['echo out; echo oops >&2; echo out2', 'exit 4', 'head -c 200000 /dev/zero | tr "\\0" e >&2; echo END >&2']),
  );
  t.equal(r?.output, 'out\nout2\n');
  t.equal(r?.error, 'oops');
  t.equal(r?.failed, false, 'stderr alone does not fail a command');
  t.equal(q?.error, 'exit status 4', 'a silent failure still says why');
  t.ok((big?.error.length ?? 0) < 70 * 1024, 'huge stderr is summarised');
  t.match(big?.error, /^\[\d+ earlier bytes of stderr omitted\]\n/);
  t.match(big?.error, /END$/, 'the end of stderr is kept');
});

t.test('a command killed by a signal reports 128+n and names the signal', async (t) => {
  const s = await session(t);
  const [r] = await s.runBatch(batch(['kill -TERM $$']));
  t.equal(r?.exitStatus, 143);
  t.equal(r?.failed, true);
  t.match(r?.error, /SIGTERM/);
});

t.test('10 MB of output arrives byte-exact under a larger cap, and streamed (uncapped, not kept) adds up to the same', async (t) => {
  const s = await openExecSession(sshdDevice(sshd, {}, { maxOutputBytes: 32 * 1024 * 1024 }));
  t.teardown(() => s.close());
  let expected = '';
  for (let i = 1; i <= 1_500_000; i++) expected += `${i}\n`;
  t.ok(expected.length > 10 * 1024 * 1024, `${expected.length} bytes expected`);
  let streamed = '';
  let chunks = 0;
  const [whole] = await s.runBatch(batch(['seq 1 1500000']));
  const [r] = await s.runBatch(
    batch(['seq 1 1500000'], {
      onChunk: (_i, d) => {
        streamed += d;
        chunks++;
      },
    }),
  );
  const sha = (x: string) => createHash('sha256').update(x).digest('hex');
  t.equal(whole?.output.length, expected.length);
  t.equal(sha(whole?.output ?? ''), sha(expected), 'sha256 matches');
  t.equal(sha(streamed), sha(expected), 'streamed output matches');
  t.equal(r?.output, '', 'a streamed command keeps no output: the chunks carried it');
  t.ok(chunks > 10, `${chunks} chunks`);
});

t.test('multi-byte UTF-8 split across packets is decoded intact, in output and stream', async (t) => {
  const s = await session(t);
  const line = 'grüße €uro ✓ 日本\n';
  let streamed = '';
  const [r] = await s.runBatch(batch([`yes 'grüße €uro ✓ 日本' | head -n 100000`]));
  await s.runBatch(batch([`yes 'grüße €uro ✓ 日本' | head -n 100000`], { onChunk: (_i, d) => void (streamed += d) }));
  t.equal(r?.output, line.repeat(100000));
  t.equal(streamed, line.repeat(100000));
});

t.test('\\r\\n becomes \\n (also across chunk boundaries when streaming), a lone \\r stays', async (t) => {
  const s = await session(t);
  let streamed = '';
  const commands = [`printf 'a\\r\\nb\\r\\n'`, `printf 'x\\ry'; for i in $(seq 1 20000); do printf 'line\\r\\n'; done`];
  const [a, b] = await s.runBatch(batch(commands));
  await s.runBatch(batch(commands, { onChunk: (i, d) => void (i === 1 ? (streamed += d) : undefined) }));
  t.equal(a?.output, 'a\nb\n');
  t.equal(b?.output, 'x\ry' + 'line\n'.repeat(20000));
  t.equal(streamed, b?.output);
});

t.test('onChunk promises pause the channel until they settle (backpressure)', async (t) => {
  const s = await session(t);
  let pending = false;
  let overlapped = false;
  let calls = 0;
  let streamed = '';
  const [r] = await s.runBatch(
    batch(['seq 1 300000'], {
      onChunk: async (_i, d) => {
        if (pending) overlapped = true;
        pending = true;
        calls++;
        streamed += d;
        if (calls <= 5) await new Promise((res) => setTimeout(res, 30));
        pending = false;
      },
    }),
  );
  t.equal(overlapped, false, 'no chunk delivered while the previous promise was pending');
  t.equal(r?.output, '');
  t.equal(streamed, Array.from({ length: 300000 }, (_, i) => `${i + 1}\n`).join(''));
  t.ok(calls > 5);
});

t.test('a per-command timeout rejects COMMAND_TIMEOUT quickly, naming device, index and timeout; session dirty', async (t) => {
  const s = await session(t);
  const started = Date.now();
  const err = await rejectsWith(t, s.runBatch(batch(['true', 'sleep 5'], { timeoutMs: (i) => (i === 1 ? 300 : 5000) })), 'COMMAND_TIMEOUT');
  const elapsed = Date.now() - started;
  t.ok(elapsed < 1500, `after ${elapsed} ms`);
  t.match(err.message, /device test-dev/);
  t.match(err.message, /command 1/);
  t.match(err.message, /300 ms/);
  t.equal(s.dirty, true);
});

t.test('an abort signal rejects CANCELLED and marks the session dirty', async (t) => {
  const s = await session(t);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 150);
  const started = Date.now();
  await rejectsWith(t, s.runBatch(batch(['sleep 5'], { signal: ac.signal })), 'CANCELLED');
  t.ok(Date.now() - started < 1500);
  t.equal(s.dirty, true);
});

t.test('stopOnError stops after the first failed command; onResult sees each outcome', async (t) => {
  const s = await session(t);
  const seen: number[] = [];
  const r = await s.runBatch(batch(['true', 'exit 2', 'echo never'], { stopOnError: true, onResult: (i) => void seen.push(i) }));
  t.equal(r.length, 2);
  t.same(seen, [0, 1]);
});

t.test('configure on an exec session is INVALID_ARGUMENT and leaves the session clean', async (t) => {
  const s = await session(t);
  const err = await rejectsWith(t, s.runBatch(batch(['conf t'], { configure: true })), 'INVALID_ARGUMENT');
  t.match(err.message, /device test-dev is in exec mode; configure requires shell mode/);
  t.equal(s.dirty, false);
  const [r] = await s.runBatch(batch(['echo still-fine'], { privileged: true }));
  t.equal(r?.output, 'still-fine\n', 'privileged is ignored in exec mode');
});

t.test('many commands reuse one SSH connection', async (t) => {
  const proxy = await startTcpProxy(sshd.port);
  t.teardown(() => proxy.close());
  const s = await openExecSession(sshdDevice(sshd, { port: proxy.port }));
  t.teardown(() => s.close());
  const seen = new Set<string>();
  for (let i = 0; i < 5; i++) {
    const r = await s.runBatch(batch(['echo $SSH_CONNECTION', 'echo $SSH_CONNECTION', 'echo $SSH_CONNECTION', 'echo $SSH_CONNECTION']));
    for (const x of r) seen.add(x.output);
  }
  await s.probe();
  t.equal(proxy.accepted, 1, 'one TCP connection for 20 commands and a probe');
  t.equal(seen.size, 1, `one client address:port seen by sshd: ${[...seen][0]?.trim()}`);
});

t.test('a silent peer: the command timeout fires, and SSH keepalive ends the connection', async (t) => {
  const proxy = await startTcpProxy(sshd.port);
  t.teardown(() => proxy.close());
  const dev = sshdDevice(sshd, { port: proxy.port }, { keepaliveIntervalMs: 100, keepaliveCountMax: 2, connectTimeoutMs: 3000 });
  const s = await openExecSession(dev);
  t.teardown(() => s.close());
  const closed = new Promise<Error | undefined>((r) => s.onClose(r));
  proxy.freeze();
  await rejectsWith(t, s.runBatch(batch(['echo lost'], { timeoutMs: () => 200 })), 'COMMAND_TIMEOUT');
  await rejectsWith(t, s.probe(), 'CONNECTION_LOST');
  const started = Date.now();
  const err = await closed;
  t.ok(Date.now() - started < 2000, 'keepalive noticed within a few intervals');
  t.equal((err as WarmpoolError).code, 'CONNECTION_LOST');
  t.match((err as Error).message, /device test-dev/);
});

t.test('12 concurrent channel users on one session all succeed: the cap queues them below MaxSessions', async (t) => {
  const s = await session(t);
  let maxActive = 0;
  const poll = setInterval(() => (maxActive = Math.max(maxActive, s.activeChannels)), 5);
  t.teardown(() => clearInterval(poll));
  const results = await Promise.all(
    Array.from({ length: 12 }, (_, i) => s.runBatch(batch([`sleep 0.3; echo ${i}`]))),
  );
  clearInterval(poll);
  t.same(results.map((r) => r[0]?.output), Array.from({ length: 12 }, (_, i) => `${i}\n`));
  t.ok(maxActive <= 8, `at most 8 channels open (saw ${maxActive})`);
  t.equal(s.dirty, false);
  await t.resolves(Promise.all(Array.from({ length: 12 }, () => s.probe())), '12 concurrent probes succeed');
});

t.test('without the cap OpenSSH refuses channels: CHANNEL_OPEN_FAILED, and the session stays clean', async (t) => {
  const s = await session(t, { maxChannels: 12 });
  const settled = await Promise.allSettled(Array.from({ length: 12 }, () => s.runBatch(batch(['sleep 0.3']))));
  const codes = settled.map((x) => (x.status === 'fulfilled' ? 'ok' : (x.reason as WarmpoolError).code));
  t.ok(codes.includes('CHANNEL_OPEN_FAILED'), `codes: ${codes.join(',')}`);
  t.ok(codes.every((c) => c === 'ok' || c === 'CHANNEL_OPEN_FAILED'), 'no other failure');
  t.equal(s.dirty, false, 'a refused channel is a capacity signal, not a broken session');
});

t.test('probe answers on a live session and rejects CONNECTION_LOST after close', async (t) => {
  const s = await session(t);
  await s.probe();
  await s.keepalive();
  let closeCalls = 0;
  s.onClose(() => closeCalls++);
  await s.close();
  await s.close();
  await rejectsWith(t, s.probe(), 'CONNECTION_LOST');
  await rejectsWith(t, s.runBatch(batch(['true'])), 'CONNECTION_LOST');
  t.equal(closeCalls, 0, 'onClose is only for ends we did not ask for');
  t.equal(s.dirty, true);
});

t.test('a server closing the connection mid-command: CONNECTION_LOST, dirty, onClose fires once', async (t) => {
  const srv = await startTestSshServer({
    password: 'pw',
    onCommand: ({ command, stream, connection }) => {
      if (command !== 'slow-then-drop') return false;
      stream.write('partial\n');
      setTimeout(() => connection.end(), 100);
      return true;
    },
  });
  t.teardown(() => srv.stop());
  const s = await openExecSession(
    testDevice({ host: srv.host, port: srv.port, username: 'tester', password: Secret.fromValue('pw'), hostKey: { fingerprints: [srv.hostKeyFingerprint] } }),
  );
  t.teardown(() => s.close());
  const closed: Array<Error | undefined> = [];
  s.onClose((e) => closed.push(e));
  const [ok] = await s.runBatch(batch(['echo fine']));
  t.equal(ok?.output, 'fine\n');
  const err = await rejectsWith(t, s.runBatch(batch(['slow-then-drop'])), 'CONNECTION_LOST');
  t.match(err.message, /command 0/);
  t.equal(s.dirty, true);
  await new Promise((r) => setTimeout(r, 20));
  t.equal(closed.length, 1);
  t.equal((closed[0] as WarmpoolError).code, 'CONNECTION_LOST');
  const late = await new Promise<Error | undefined>((resolve) => s.onClose(resolve));
  t.equal(late, closed[0], 'a listener registered after the end hears the same end');
});

t.test('command timeouts run on the injected clock: advancing it fails a running command at once', async (t) => {
  const clock = new FakeClock();
  const s = await session(t, { clock });
  const p = s.runBatch(batch(['sleep 5'], { timeoutMs: () => 60_000 }));
  const failed = p.then(
    () => undefined,
    (err: WarmpoolError) => err,
  );
  await new Promise((r) => setTimeout(r, 100));
  clock.advance(60_000);
  const err = await failed;
  t.equal(err?.code, 'COMMAND_TIMEOUT');
  t.match(err?.message, /did not finish within 60000 ms/);
  t.equal(s.dirty, true);
  t.equal(clock.pending, 0, 'no timer left behind');
});
