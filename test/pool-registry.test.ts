import t from 'tap';
import type { AppConfig, DeviceSpec } from '../src/config/types.js';
import { Secret } from '../src/config/secret.js';
import { isWarmpoolError } from '../src/core/errors.js';
import { silentLogger } from '../src/core/logger.js';
import { PoolRegistry, connectionKey } from '../src/app/ssh-pools.js';
import type { Lease, SessionFactory } from '../src/pool/types.js';
import type { DeviceSession } from '../src/drivers/ssh-types.js';
import { FakeClock, flush, seededRandom } from './kit/fake-clock.js';
import { FakeFactory, type FakeSession } from './kit/fake-session.js';

// Only the fields the registry reads; the rest of AppConfig is someone else's business.
const config = {
  limits: { maxTotalSessions: 100, maxConcurrentConnects: 4 },
  breaker: { failureThreshold: 3, openMs: 1000, maxOpenMs: 8000 },
} as unknown as AppConfig;

function device(id: string, over: Partial<DeviceSpec> = {}): DeviceSpec {
  return {
    id, host: '127.0.0.1', port: 22, platform: 'linux', mode: 'exec', username: 'netops',
    password: Secret.fromValue('pw1'), hostKey: { acceptAny: true }, labels: {},
    pool: { min: 0, max: 2, idleTimeoutMs: 60_000, maxLifetimeMs: 0, acquireTimeoutMs: 5000, maxWaiting: 10 },
    ssh: { connectTimeoutMs: 1000, keepaliveIntervalMs: 0, keepaliveCountMax: 3, commandTimeoutMs: 1000,
      appKeepaliveMs: 0, healthCheckAfterMs: 30_000, legacyAlgorithms: false, maxOutputBytes: 4 * 1024 * 1024 },
    source: 'api',
    ...over,
  };
}

function setup() {
  const clock = new FakeClock();
  const factories = new Map<string, FakeFactory[]>();
  const registry = new PoolRegistry({
    config, clock, random: seededRandom(3), logger: silentLogger,
    sshFactory: (d) => {
      const f = new FakeFactory(clock, `${d.id}:${d.host}:`);
      factories.set(d.id, [...(factories.get(d.id) ?? []), f]);
      return f as unknown as SessionFactory<DeviceSession>;
    },
  });
  const acquire = async (id: string): Promise<Lease<FakeSession>> => {
    const p = registry.sshPool(id).acquire();
    await clock.tick(0);
    return (await p) as unknown as Lease<FakeSession>;
  };
  return { clock, registry, factories, acquire };
}

t.test('unknown device → DEVICE_NOT_FOUND', async (t) => {
  const { registry } = setup();
  const err = t.throws(() => registry.sshPool('nope'));
  t.ok(isWarmpoolError(err, 'DEVICE_NOT_FOUND'));
  t.match((err as Error).message, /nope/);
});

t.test('unchanged devices keep their pools and warm sessions across inventory reloads', async (t) => {
  const { registry, acquire } = setup();
  t.same([registry.upsert(device('a')), registry.upsert(device('b'))], ['added', 'added']);
  const pool = registry.sshPool('a');
  (await acquire('a')).release();
  t.same([registry.upsert(device('a', { labels: { site: 'x' } })), registry.upsert(device('b'))], ['unchanged', 'unchanged']);
  t.equal(registry.sshPool('a'), pool);
  t.equal(pool.stats().idle, 1, 'the warm session survived');
  await registry.closeAll();
});

t.test('a changed device retires its sessions: idle closed now, busy on release, new ones from the new spec', async (t) => {
  const { registry, acquire, clock, factories } = setup();
  registry.upsert(device('a', { pool: { ...device('a').pool, max: 3 } }));
  const busy = await acquire('a');
  const idle = await acquire('a');
  idle.release();
  t.equal(registry.upsert(device('a', { host: '127.0.0.2', pool: { ...device('a').pool, max: 3 } })), 'changed');
  await clock.tick(0);
  t.equal(idle.session.closed, true);
  t.equal(busy.session.closed, false);
  const fresh = await acquire('a');
  t.match(fresh.session.id, /^a:127\.0\.0\.2:/);
  busy.release();
  await clock.tick(0);
  t.equal(busy.session.closed, true);
  t.equal(factories.get('a')!.length, 2);
  fresh.release();
  await registry.closeAll();
});

t.test('a changed secret counts as a change; the key never contains the secret', async (t) => {
  const a1 = device('a');
  const a2 = device('a', { password: Secret.fromValue('pw2') });
  t.not(connectionKey(a1), connectionKey(a2));
  t.equal(connectionKey(a1), connectionKey(device('a')));
  t.notMatch(connectionKey(a1), /pw1/);
  const { registry } = setup();
  registry.upsert(a1);
  t.equal(registry.upsert(a2), 'changed');
  await registry.closeAll();
});

t.test('pool-size-only changes are applied in place without reconnecting', async (t) => {
  const { registry, acquire } = setup();
  registry.upsert(device('a'));
  (await acquire('a')).release();
  t.equal(registry.upsert(device('a', { pool: { ...device('a').pool, max: 5 } })), 'resized');
  t.match(registry.sshPool('a').stats(), { idle: 1, max: 5 });
  await registry.closeAll();
});

t.test('a deleted device drains: new acquires fail, busy sessions finish, then its pool is gone', async (t) => {
  const { registry, acquire, clock } = setup();
  registry.upsert(device('a'));
  registry.upsert(device('b'));
  const pool = registry.sshPool('a');
  const lease = await acquire('a');
  t.equal(registry.remove('a'), true);
  t.equal(registry.remove('a'), false, 'a second delete finds nothing');
  t.throws(() => registry.sshPool('a'), { code: 'DEVICE_NOT_FOUND' });
  t.ok(isWarmpoolError(await pool.acquire().catch((e: unknown) => e), 'DRAINING'));
  t.equal(lease.session.closed, false, 'the running request is not cut off');
  lease.release();
  await clock.tick(0);
  t.equal(lease.session.closed, true);
  await pool.whenEmpty();
  t.equal(registry.sshPool('b').stats().device, 'b', 'the other device keeps its pool');
  await registry.closeAll();
});

t.test('drainDevice recycles the device sessions: idle now, busy on release, later requests get fresh ones', async (t) => {
  const { registry, acquire, clock } = setup();
  registry.upsert(device('a'));
  const busy = await acquire('a');
  const idle = await acquire('a');
  idle.release();
  t.same(await registry.drainDevice('a'), { closedIdle: 1, closingBusy: 1 });
  await clock.tick(0);
  t.equal(idle.session.closed, true);
  const fresh = await acquire('a');
  t.not(fresh.session.id, idle.session.id);
  busy.release();
  fresh.release();
  await clock.tick(0);
  t.equal(busy.session.closed, true);
  t.equal(registry.sshPool('a').stats().max, 2);
  t.ok(registry.sshPool('a').stats().busy + registry.sshPool('a').stats().idle <= 2, 'same pool: max still holds');
  await t.rejects(registry.drainDevice('zz'), { code: 'DEVICE_NOT_FOUND' });
  await registry.closeAll();
});

t.test('stats covers every pool and filters by device', async (t) => {
  const { registry } = setup();
  registry.upsert(device('a'));
  registry.upsert(device('b'));
  t.same(registry.stats().map((s) => `${s.device}/${s.protocol}`), ['a/ssh', 'b/ssh']);
  t.same(registry.stats(['b']).map((s) => `${s.device}/${s.protocol}`), ['b/ssh']);
  t.same(registry.stats(['zz']), [], 'an unknown device has no stats');
  await registry.closeAll();
});

t.test('closeAll closes busy sessions too (the grace for calls in flight is the server\'s shutdown.graceMs, spent before)', async (t) => {
  const { registry, acquire, clock } = setup();
  registry.upsert(device('a', { pool: { ...device('a').pool, min: 1 } }));
  await clock.tick(0);
  const lease = await acquire('a');
  t.equal(lease.session.closed, false);
  await registry.closeAll();
  t.equal(lease.session.closed, true, 'the busy session is closed without waiting on the clock');
  t.equal(registry.sessionBudget.used, 0);
  t.equal(clock.pending, 0);
  t.equal(registry.upsert(device('c')), 'unchanged', 'changes racing shutdown are ignored, not thrown');
  t.throws(() => registry.sshPool('c'), { code: 'DEVICE_NOT_FOUND' }, 'and build no pool');
  await flush();
});
