import t from 'tap';
import { Backoff } from '../src/pool/backoff.js';
import { seededRandom } from './kit/fake-clock.js';

t.test('delay upper bound grows exponentially by factor and is capped at maxMs', async (t) => {
  const b = new Backoff({ baseMs: 100, maxMs: 5000, random: () => 0.999999 });
  const seen = Array.from({ length: 6 }, () => b.next());
  t.same(seen, [300, 900, 2700, 5000, 5000, 5000]);
  t.equal(b.attempts, 6);
});

t.test('delays never drop below baseMs nor exceed maxMs, whatever the random draws', async (t) => {
  const b = new Backoff({ baseMs: 50, maxMs: 2000, random: seededRandom(7) });
  for (let i = 0; i < 200; i++) {
    const d = b.next();
    t.ok(d >= 50 && d <= 2000, `attempt ${i}: ${d}`);
  }
});

t.test('jitter spreads the delays of pools failing at the same time', async (t) => {
  const delays = new Set<number>();
  for (let seed = 1; seed <= 20; seed++) {
    const b = new Backoff({ baseMs: 100, maxMs: 60000, random: seededRandom(seed) });
    b.next();
    delays.add(b.next());
  }
  t.ok(delays.size >= 15, `distinct second delays: ${delays.size}`);
});

t.test('reset starts again from baseMs', async (t) => {
  const b = new Backoff({ baseMs: 100, maxMs: 10000, random: () => 0.999999, factor: 2 });
  b.next();
  b.next();
  t.equal(b.next(), 800);
  b.reset();
  t.equal(b.attempts, 0);
  t.equal(b.next(), 200);
});

t.test('rejects nonsensical bounds', async (t) => {
  t.throws(() => new Backoff({ baseMs: 0, maxMs: 10, random: Math.random }));
  t.throws(() => new Backoff({ baseMs: 100, maxMs: 10, random: Math.random }));
});
