import t from 'tap';
import { ChannelLimiter } from '../src/transport/channel-limiter.js';

t.test('grants up to max at once, queues the rest FIFO, releases are idempotent', async (t) => {
  const l = new ChannelLimiter(2);
  const a = await l.acquire();
  const b = await l.acquire();
  const order: string[] = [];
  const c = l.acquire().then((r) => (order.push('c'), r));
  const d = l.acquire().then((r) => (order.push('d'), r));
  t.equal(l.active, 2);
  t.equal(l.waiting, 2);
  a();
  a();
  const rc = await c;
  t.equal(l.active, 2, 'double release freed one slot only');
  b();
  const rd = await d;
  t.same(order, ['c', 'd']);
  rc();
  rd();
  t.equal(l.active, 0);
});

t.test('an aborted waiter leaves the queue and rejects with the reason', async (t) => {
  const l = new ChannelLimiter(1);
  const a = await l.acquire();
  const ac = new AbortController();
  const p = l.acquire(ac.signal);
  ac.abort(new Error('gave up'));
  await t.rejects(p, { message: 'gave up' });
  t.equal(l.waiting, 0);
  a();
  const b = await l.acquire();
  t.equal(l.active, 1);
  b();
});

t.test('rejects a non-positive limit', async (t) => {
  t.throws(() => new ChannelLimiter(0), RangeError);
});
