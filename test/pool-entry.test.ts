import t, { type Test } from 'tap';
import { Entries, Entry, whyUnusable, type EntryState } from '../src/pool/entry.js';
import { FakeClock, flush, seededRandom } from './kit/fake-clock.js';
import { FakeSession } from './kit/fake-session.js';

const STATES: EntryState[] = ['idle', 'checking', 'busy', 'keepalive', 'closing', 'closed'];

function make() {
  const clock = new FakeClock();
  const events: string[] = [];
  const entries = new Entries<FakeSession>({
    closing: (reason) => events.push(`closing:${reason}`),
    closed: () => events.push('closed'),
    peerClosed: (id, _err, idle) => events.push(`peer:${id}:${idle ? 'idle' : 'out'}`),
    onBug: (err) => events.push(`bug:${String(err)}`),
  });
  let n = 0;
  const add = (): Entry<FakeSession> => {
    const e = new Entry(new FakeSession(`s${++n}`, clock), 0, Infinity, 5, clock.now());
    entries.add(e);
    return e;
  };
  return { clock, entries, events, add };
}

/** The counters must equal a recount of the entries' states, and the idle list hold exactly the idle ones. */
function checkCounts(t: Test, entries: Entries<FakeSession>, all: Entry<FakeSession>[]): void {
  const by = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<EntryState, number>;
  for (const e of all) by[e.state]++;
  const idleList: Entry<FakeSession>[] = [];
  for (let e = entries.hottest; e; e = e.next) idleList.push(e);
  t.same({
    idle: entries.idle, busy: entries.busy, keepalive: entries.keepalive, closing: entries.closing,
    established: entries.established, live: [...entries.live()].length, idleList: idleList.length,
  }, {
    idle: by.idle, busy: by.busy + by.checking, keepalive: by.keepalive, closing: by.closing,
    established: by.idle + by.checking + by.busy + by.keepalive, live: all.length - by.closing - by.closed, idleList: by.idle,
  }, 'counters match the states');
}

t.test('every legal move keeps every counter equal to a recount of the states', async (t) => {
  const { entries, add } = make();
  const all = [add(), add(), add()];
  const [a, b, c] = all as [Entry<FakeSession>, Entry<FakeSession>, Entry<FakeSession>];
  checkCounts(t, entries, all);
  const moves: [Entry<FakeSession>, EntryState][] = [
    [a, 'busy'], [b, 'checking'], [c, 'keepalive'], [b, 'busy'], [a, 'idle'], [c, 'idle'],
    [a, 'checking'], [a, 'idle'], [b, 'closing'], [c, 'closing'], [c, 'closed'], [a, 'keepalive'], [a, 'closing'],
  ];
  for (const [e, to] of moves) {
    entries.transition(e, to);
    checkCounts(t, entries, all);
  }
  t.equal(entries.established, 0);
  t.equal(entries.closing, 2);
});

t.test('a released session goes to the hot end of the idle list, one back from a keepalive to the cold end', async (t) => {
  const { entries, add } = make();
  const a = add();
  const b = add();
  t.equal(entries.hottest, b, 'the newest session is the hottest');
  entries.transition(a, 'busy');
  entries.transition(a, 'idle');
  t.equal(entries.hottest, a, 'released: most recently used');
  entries.transition(a, 'keepalive');
  entries.transition(a, 'idle');
  t.equal(entries.coldest, a, 'a keepalive is not use: back at the cold end');
  t.equal(entries.hottest, b);
});

t.test('an illegal move throws and changes no counter', async (t) => {
  const { entries, add } = make();
  const a = add();
  const b = add();
  entries.transition(b, 'busy');
  const illegal: [Entry<FakeSession>, EntryState][] = [[a, 'idle'], [a, 'closed'], [b, 'keepalive'], [b, 'checking']];
  for (const [e, to] of illegal) {
    t.throws(() => entries.transition(e, to), new RegExp(`illegal transition ${e.state} → ${to}`));
    checkCounts(t, entries, [a, b]);
  }
  entries.transition(a, 'closing');
  t.throws(() => entries.transition(a, 'idle'), /illegal transition closing → idle/, 'a closing session never comes back');
  checkCounts(t, entries, [a, b]);
});

t.test('2 000 random legal moves over 20 sessions never let a counter drift', async (t) => {
  const { entries, add } = make();
  const all = Array.from({ length: 20 }, () => add());
  const random = seededRandom(7);
  let checked = 0;
  for (let i = 0; i < 2000; i++) {
    const e = all[Math.floor(random() * all.length)] as Entry<FakeSession>;
    const to = STATES[Math.floor(random() * STATES.length)] as EntryState;
    try {
      entries.transition(e, to);
    } catch {
      continue; // an illegal move: refused, which the test above checks changes nothing
    }
    if (e.state === 'closed') {
      // Replace a closed session, so the walk keeps going over live ones.
      all[all.indexOf(e)] = add();
    }
    const by = { idle: 0, busy: 0, keepalive: 0, closing: 0 };
    for (const x of all) {
      if (x.state === 'idle') by.idle++;
      else if (x.state === 'busy' || x.state === 'checking') by.busy++;
      else if (x.state === 'keepalive') by.keepalive++;
      else if (x.state === 'closing') by.closing++;
    }
    if (by.idle !== entries.idle || by.busy !== entries.busy || by.keepalive !== entries.keepalive) {
      t.fail(`counters drifted after move ${i}`);
      break;
    }
    checked++;
  }
  t.ok(checked > 500, `${checked} legal moves checked`);
  checkCounts(t, entries, all);
});

t.test('destroy: the session counts as closing until its close() resolves, then the slot is free; twice is once', async (t) => {
  const { clock, entries, add, events } = make();
  const a = add();
  a.session.closeDelayMs = 50;
  entries.destroy(a, 'idle_timeout');
  entries.destroy(a, 'retired');
  t.equal(a.state, 'closing');
  t.same({ established: entries.established, closing: entries.closing, closedTotal: entries.closedTotal }, { established: 0, closing: 1, closedTotal: 0 });
  await clock.tick(50);
  t.equal(a.state, 'closed');
  t.same({ closing: entries.closing, closedTotal: entries.closedTotal }, { closing: 0, closedTotal: 1 });
  t.equal(a.session.closeCalls, 1, 'closed once');
  t.same(events, ['closing:idle_timeout', 'closed']);
  await flush();
});

t.test('destroyIdle closes every idle session and reports those still out', async (t) => {
  const { clock, entries, add } = make();
  const [a, b, c] = [add(), add(), add()];
  entries.transition(a, 'busy');
  entries.transition(b, 'keepalive');
  t.same(entries.destroyIdle('draining'), { closedIdle: 1, closingBusy: 2 });
  t.equal(c.state, 'closing');
  t.equal(entries.idle, 0);
  await clock.tick(0);
  t.equal(entries.closedTotal, 1);
});

t.test('a session its peer ends is closed at once when idle, and only marked dead while out', async (t) => {
  const { clock, entries, add, events } = make();
  const a = add();
  const b = add();
  entries.transition(b, 'busy');
  a.session.kill();
  b.session.kill(new Error('reset'));
  t.equal(a.state, 'closing', 'idle: out of service at once');
  t.equal(b.state, 'busy', 'leased: left to its holder');
  t.equal(b.dead, true, 'and marked, so it is closed when it comes back');
  t.same(events, ['closing:closed_by_peer', 'peer:s1:idle', 'peer:s2:out']);
  await clock.tick(0);
  t.equal(entries.closedTotal, 1);
});

t.test('whyUnusable names the first reason in a fixed order, or nothing for a usable session', async (t) => {
  const { add, clock } = make();
  const e = add();
  t.equal(whyUnusable(e, clock.now(), 0, false), undefined);
  t.equal(whyUnusable(e, clock.now(), 1, false), 'retired');
  e.session.dirty = true;
  t.equal(whyUnusable(e, clock.now(), 1, false), 'dirty');
  e.dead = true;
  t.equal(whyUnusable(e, clock.now(), 1, false), 'closed_by_peer');
  t.equal(whyUnusable(e, clock.now(), 1, true), 'draining');
  const old = new Entry(new FakeSession('old', clock), 0, 10, 0, 0);
  t.equal(whyUnusable(old, 9, 0, false), undefined);
  t.equal(whyUnusable(old, 10, 0, false), 'max_lifetime');
});
