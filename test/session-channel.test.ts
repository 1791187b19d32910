/**
 * The shell channel alone (session/channel.ts), on a fake clock and a node:stream Duplex standing
 * in for the SSH channel: reads until the prompt, timeouts and settle periods without wall time,
 * the end reported once (also to a listener that comes late), backpressure, the output cap.
 */
import t from 'tap';
import { WarmpoolError } from '../src/core/errors.js';
import { FakeClock, flush } from './kit/fake-clock.js';
import { streamChannel } from './kit/stream-channel.js';

function setup(opts: { maxOutputBytes?: number } = {}) {
  const clock = new FakeClock();
  const { ch, stream, dirt, typed, print, transportClosed } = streamChannel({ clock, maxOutputBytes: opts.maxOutputBytes });
  ch.prompt = 'R1#';
  return { clock, dirt, typed, stream, ch, print, transportClosed };
}

interface State<T> {
  value?: T;
  err?: WarmpoolError;
  pending: boolean;
}

/** Follows `p` from now on (so a rejection is never unhandled); `now()` is its state after queued callbacks ran. */
function track<T>(p: Promise<T>): { now: () => Promise<State<T>> } {
  let state: State<T> = { pending: true };
  p.then((value) => (state = { value, pending: false }), (err: WarmpoolError) => (state = { err, pending: false }));
  return {
    now: async () => {
      await flush();
      return state;
    },
  };
}

t.test('a command reads until the known prompt: output without echo or prompt', async (t) => {
  const { ch, typed, print } = setup();
  const p = ch.command({ command: 'show clock', timeoutMs: 5000 });
  t.same(typed, ['show clock\n']);
  await print('show clock\r\n*10:00:00.000 UTC\r\nR1#');
  const r = await p;
  t.same(r, { output: '*10:00:00.000 UTC\n', ended: 'prompt', line: 'R1#', error: '' });
  t.equal(ch.prompt, 'R1#');
});

t.test('no prompt within the timeout: COMMAND_TIMEOUT at exactly the timeout on the clock, session dirty', async (t) => {
  const { ch, clock, dirt, print } = setup();
  const p = track(ch.command({ command: 'show tech', timeoutMs: 5000 }));
  await print('show tech\r\nstill going\r\n');
  clock.advance(4999);
  t.equal((await p.now()).pending, true, 'still waiting 1 ms before the timeout');
  t.equal(dirt.dirty, false);
  clock.advance(1);
  const after = await p.now();
  t.equal(after.err?.code, 'COMMAND_TIMEOUT');
  t.match(after.err?.message, /^device r1: no prompt within 5000 ms waiting for the prompt after "show tech"$/);
  t.equal(dirt.dirty, true, 'a timed-out read leaves the device state unknown');
  t.equal(clock.pending, 0, 'no timer left behind');
});

t.test('a prompt-like line that is not the known prompt ends the read only after settleMs of quiet', async (t) => {
  const { ch, clock, print } = setup();
  const p = track(ch.command({ command: 'hostname R2', timeoutMs: 5000 }));
  await print('hostname R2\r\nR2#');
  t.equal((await p.now()).pending, true);
  clock.advance(59);
  t.equal((await p.now()).pending, true, 'not before the settle period');
  clock.advance(1);
  t.equal((await p.now()).value?.line, 'R2#');
  t.equal(ch.prompt, 'R2#', 'the new prompt is the known one from now on');
});

t.test('the end is reported once, also to a listener that registers after it; never after close() by us', async (t) => {
  const a = setup();
  const early: Array<Error | undefined> = [];
  a.ch.onClose((e) => early.push(e));
  const reading = track(a.ch.read({ command: '', timeoutMs: 5000 }));
  a.ch.lost('connection closed');
  a.ch.lost('again');
  const late = await new Promise<Error | undefined>((resolve) => a.ch.onClose(resolve));
  t.equal(early.length, 1);
  t.equal((early[0] as WarmpoolError).code, 'CONNECTION_LOST');
  t.equal(late, early[0], 'the late listener hears the same end');
  t.equal((await reading.now()).err?.code, 'CONNECTION_LOST', 'the read in progress fails');
  t.equal(a.clock.pending, 0);

  const b = setup();
  let calls = 0;
  b.ch.onClose(() => calls++);
  b.ch.close();
  b.ch.lost('device went away afterwards');
  b.ch.onClose(() => calls++);
  await flush();
  t.equal(calls, 0, 'an end we asked for is nobody else’s news');
  t.equal(b.transportClosed(), 1);
});

t.test('backpressure: the stream is paused while the consumer is busy, and the result waits for the last chunk', async (t) => {
  const { ch, stream, print } = setup();
  const taken: string[] = [];
  let release: () => void = () => undefined;
  const p = track(ch.command({
    command: 'show lines 2',
    timeoutMs: 5000,
    index: 3,
    onChunk: (i, d) => {
      taken.push(`${i}:${d}`);
      return new Promise<void>((r) => (release = r));
    },
  }));
  await print('show lines 2\r\n1\r\n2\r\nR1#');
  t.equal(stream.isPaused(), true, 'paused while the consumer holds a chunk');
  t.equal((await p.now()).pending, true, 'no result before the consumer took the output');
  release();
  const r = (await p.now()).value;
  t.same(taken, ['3:1\n2\n']);
  t.equal(r?.output, '', 'streamed output is not kept');
  t.equal(stream.isPaused(), false, 'resumed once the chunk was taken');
});

t.test('a consumer that throws or rejects fails the read with CANCELLED and the session is dirty', async (t) => {
  for (const how of ['throws', 'rejects'] as const) {
    const { ch, dirt, print } = setup();
    const p = track(ch.command({
      command: 'show lines 1',
      timeoutMs: 5000,
      onChunk: () => {
        if (how === 'throws') throw new Error('client went away');
        return Promise.reject(new Error('client went away'));
      },
    }));
    await print('show lines 1\r\n1\r\nR1#');
    const { err } = await p.now();
    t.equal(err?.code, 'CANCELLED', how);
    t.equal(err?.message, 'device r1: output consumer failed: client went away', how);
    t.equal(dirt.dirty, true, how);
  }
});

t.test('output past the cap fails OUTPUT_TOO_LARGE and closes the channel and its transport', async (t) => {
  const { ch, print, transportClosed } = setup({ maxOutputBytes: 10 });
  const p = track(ch.command({ command: 'show big', timeoutMs: 5000 }));
  await print('show big\r\n0123456789abc\r\nR1#');
  const { err } = await p.now();
  t.equal(err?.code, 'OUTPUT_TOO_LARGE');
  t.equal(ch.closed, true);
  t.equal(transportClosed(), 1);
});

t.test('a read on a closed channel rejects with the reason it ended', async (t) => {
  const { ch } = setup();
  ch.lost('shell channel closed by the device');
  await t.rejects(ch.read({ command: '', timeoutMs: 10 }), { code: 'CONNECTION_LOST', message: 'device r1: shell channel closed by the device' });
});

t.test('an already aborted signal fails the read at once with CANCELLED, no timer armed', async (t) => {
  const { ch, clock } = setup();
  const ac = new AbortController();
  ac.abort();
  await t.rejects(ch.read({ command: '', timeoutMs: 10, signal: ac.signal }), { code: 'CANCELLED' });
  t.equal(clock.pending, 0);
});
