import t from 'tap';
import { KeepaliveWheel, type KeepaliveTarget } from '../src/transport/keepalive-wheel.js';
import { FakeClock } from './kit/fake-clock.js';

/** A connection as the wheel sees it: records pings (with the time) and a timeout. */
class Peer implements KeepaliveTarget {
  pings: number[] = [];
  timedOutAt: number | undefined;
  writable = true;
  constructor(readonly clock: FakeClock) {}
  ping(): boolean {
    if (!this.writable) return false;
    this.pings.push(this.clock.now());
    return true;
  }
  timedOut(): void {
    this.timedOutAt = this.clock.now();
  }
}

t.test('a silent peer is pinged every interval and ends after countMax unanswered checks, on one timer', async (t) => {
  const clock = new FakeClock();
  const wheel = new KeepaliveWheel(clock);
  const start = clock.now();
  const p = new Peer(clock);
  wheel.add(p, 1000, 3);
  t.equal(clock.pending, 1, 'one timer');
  clock.advance(10_000);
  t.same(p.pings.map((x) => x - start), [1000, 2000, 3000], 'countMax pings, one interval apart');
  t.equal((p.timedOutAt as number) - start, 4000, 'the check after countMax misses ends it (as ssh2: interval × (countMax + 1))');
  t.equal(clock.pending, 0, 'nothing left armed');
});

t.test('a peer that answers keeps being pinged and is never timed out', async (t) => {
  const clock = new FakeClock();
  const wheel = new KeepaliveWheel(clock);
  const p = new Peer(clock);
  const h = wheel.add(p, 1000, 2);
  for (let i = 0; i < 20; i++) {
    clock.advance(1000);
    clock.advance(5);
    h.received(); // the reply, 5 ms later
  }
  t.equal(p.timedOutAt, undefined);
  t.equal(p.pings.length, 20, 'one ping per interval');
});

t.test('traffic within the interval skips the ping: a busy connection is not pinged at all', async (t) => {
  const clock = new FakeClock();
  const wheel = new KeepaliveWheel(clock);
  const start = clock.now();
  const p = new Peer(clock);
  const h = wheel.add(p, 1000, 3);
  for (let i = 0; i < 50; i++) {
    clock.advance(300);
    h.received();
  }
  t.equal(p.pings.length, 0, 'data every 300 ms: no ping in 15 s');
  // Traffic stops: the first ping comes one interval after the last data, then the usual count.
  const last = clock.now();
  clock.advance(10_000);
  t.equal((p.pings[0] as number) - last, 1000, 'first ping an interval after the last data');
  t.equal((p.timedOutAt as number) - last, 4000, 'dead-peer bound unchanged: interval × (countMax + 1) after the last data');
  t.ok((p.timedOutAt as number) - start > 15_000);
});

t.test('checks falling due close together share one wake-up, none before its due; spread ones stay spread (stagger)', async (t) => {
  const clock = new FakeClock();
  let wakeups = 0;
  const real = clock.setTimeout.bind(clock);
  clock.setTimeout = (fn, ms) => real(() => { wakeups++; fn(); }, ms);
  const wheel = new KeepaliveWheel(clock);
  const peers: Peer[] = [];
  // 100 connections opened 1 ms apart, interval 15 s: window 250 ms, so they are served by few wake-ups.
  for (let i = 0; i < 100; i++) {
    const p = new Peer(clock);
    wheel.add(p, 15_000, 3);
    peers.push(p);
    clock.advance(1);
  }
  clock.advance(15_000 + 250);
  t.equal(peers.filter((p) => p.pings.length === 1).length, 100, 'every connection pinged once');
  t.ok(wakeups >= 1 && wakeups <= 2, `100 pings in ${wakeups} wake-up(s)`);
  // Never before its due (interval after its connection opened), at most a window after it.
  t.ok(peers.every((p, i) => (p.pings[0] as number) >= i + 15_000 && (p.pings[0] as number) <= i + 15_000 + 250));
  // Connections opened a second apart are pinged a second apart.
  const clock2 = new FakeClock();
  const wheel2 = new KeepaliveWheel(clock2);
  const a = new Peer(clock2);
  const b = new Peer(clock2);
  wheel2.add(a, 15_000, 3);
  clock2.advance(1000);
  wheel2.add(b, 15_000, 3);
  clock2.advance(20_000);
  t.equal((b.pings[0] as number) - (a.pings[0] as number), 1000);
});

/**
 * Idle shell sessions as the daemon runs them: SSH keepalive every 15 s (countMax 3), an
 * application keepalive every 60 s (pool/upkeep.ts: due 60 s after the previous one started),
 * every round trip answered 5 ms later; 50 sessions opened 10 ms apart, so checks share wake-ups.
 */
function idleShells(clock: FakeClock, wheel: KeepaliveWheel, silentAfterMs = Infinity) {
  const sessions = Array.from({ length: 50 }, () => ({ peer: new Peer(clock), nudges: [] as number[], lastRx: 0 }));
  const start = clock.now();
  for (const s of sessions) {
    const alive = () => clock.now() - start < silentAfterMs;
    const answer = () => clock.setTimeout(() => {
      if (!alive()) return;
      s.lastRx = clock.now();
      h.received();
    }, 5);
    const peer = s.peer;
    const ping = peer.ping.bind(peer);
    peer.ping = () => {
      const ok = ping();
      answer();
      return ok;
    };
    const h = wheel.add(peer, 15_000, 3);
    const nudge = () => {
      if (peer.timedOutAt !== undefined) return;
      s.nudges.push(clock.now());
      answer();
      clock.setTimeout(nudge, 60_000);
    };
    clock.setTimeout(nudge, 60_000);
    clock.advance(10);
  }
  return sessions;
}

t.test('an answered application keepalive spares the SSH ping of its interval: three pings a minute, not four', async (t) => {
  const clock = new FakeClock();
  const wheel = new KeepaliveWheel(clock);
  const sessions = idleShells(clock, wheel);
  clock.advance(10 * 60_000);
  for (const [i, s] of sessions.entries()) {
    t.ok(s.nudges.length >= 9, `session ${i}: ${s.nudges.length} application keepalives`);
    // Between two application keepalives a minute apart: exactly the three SSH pings at 15, 30 and 45 s.
    const perMinute = s.nudges.slice(1).map((at, k) => s.peer.pings.filter((p) => p > (s.nudges[k] as number) && p < at).length);
    if (!perMinute.every((n) => n === 3)) {
      t.fail(`session ${i}: SSH pings between application keepalives ${JSON.stringify(perMinute)}`);
      return;
    }
    t.equal(s.peer.timedOutAt, undefined);
  }
});

t.test('a peer that goes silent among busy neighbours is declared dead countMax + 1 intervals after it last answered, within one window', async (t) => {
  const clock = new FakeClock();
  const wheel = new KeepaliveWheel(clock);
  // Everyone answers for 100 s, then every peer goes silent (pings and application keepalives alike).
  const sessions = idleShells(clock, wheel, 100_000);
  clock.advance(5 * 60_000);
  for (const [i, s] of sessions.entries()) {
    const dead = s.peer.timedOutAt;
    if (dead === undefined) {
      t.fail(`session ${i} never declared dead`);
      return;
    }
    const after = dead - s.lastRx;
    if (after < 4 * 15_000 - 250 || after > 4 * 15_000 + 250) {
      t.fail(`session ${i}: declared dead ${after} ms after its last answer`);
      return;
    }
  }
  t.pass('every silent peer declared dead 60 s ± 250 ms after its last answer');
});

t.test('a removed connection is never pinged again; an unwritable one drops off', async (t) => {
  const clock = new FakeClock();
  const wheel = new KeepaliveWheel(clock);
  const a = new Peer(clock);
  const b = new Peer(clock);
  const ha = wheel.add(a, 1000, 3);
  wheel.add(b, 1000, 3);
  ha.remove();
  b.writable = false;
  clock.advance(10_000);
  t.same(a.pings, []);
  t.equal(a.timedOutAt, undefined);
  t.same(b.pings, []);
  t.equal(b.timedOutAt, undefined);
  t.equal(wheel.size, 0);
  t.equal(clock.pending, 0);
});

t.test('different intervals on one wheel each keep their own period', async (t) => {
  const clock = new FakeClock();
  const wheel = new KeepaliveWheel(clock);
  const start = clock.now();
  const fast = new Peer(clock);
  const slow = new Peer(clock);
  const hf = wheel.add(fast, 200, 100);
  const hs = wheel.add(slow, 1000, 100);
  for (let i = 0; i < 30; i++) {
    clock.advance(100);
    if (fast.pings.length && fast.pings.at(-1) === clock.now()) hf.received();
    if (slow.pings.length && slow.pings.at(-1) === clock.now()) hs.received();
  }
  t.same(fast.pings.map((x) => x - start), [200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800, 2000, 2200, 2400, 2600, 2800, 3000]);
  t.same(slow.pings.map((x) => x - start), [1000, 2000, 3000]);
});
