import t from 'tap';
import { loadConfig } from '../src/config/load.js';
import { validateDevice } from '../src/config/inventory.js';
import type { DeviceRegistry } from '../src/inventory/registry.js';
import { startSimDevice } from '../src/sim/ssh-device.js';
import { startSimHttpDevice } from '../src/sim/http-device.js';
import type { RunResponse__Output } from '../src/gen/warmpool/v1/RunResponse.js';
import type { DeviceRunResult__Output } from '../src/gen/warmpool/v1/DeviceRunResult.js';
import type { RunEvent__Output } from '../src/gen/warmpool/v1/RunEvent.js';
import type { HttpResponse__Output } from '../src/gen/warmpool/v1/HttpResponse.js';
import { startTestDaemon, simSpec, m } from './kit/daemon.js';

/** Counts, per device id, the lookups the daemon makes in its (real) registry. */
function countLookups(registry: DeviceRegistry): { counts: Map<string, number>; reset(): void } {
  const counts = new Map<string, number>();
  const get = registry.get.bind(registry);
  const find = registry.find.bind(registry);
  const bump = (id: string) => counts.set(id, (counts.get(id) ?? 0) + 1);
  registry.get = (id: string) => {
    bump(id);
    return get(id);
  };
  registry.find = (id: string) => {
    bump(id);
    return find(id);
  };
  return { counts, reset: () => counts.clear() };
}

function collect<T>(stream: NodeJS.ReadableStream): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const out: T[] = [];
    stream.on('data', (d: T) => out.push(d));
    stream.on('end', () => resolve(out));
    stream.on('error', reject);
  });
}

t.test('each call resolves its device once in the registry', async (t) => {
  const r1 = await startSimDevice({ platform: 'cisco_ios', hostname: 'r1' });
  t.teardown(() => r1.close());
  const r2 = await startSimDevice({ platform: 'cisco_ios', hostname: 'r2' });
  t.teardown(() => r2.close());
  const api = await startSimHttpDevice({ auth: 'none' });
  t.teardown(() => api.close());
  const defaults = loadConfig({ argv: [], env: {} }).defaults;
  const eapi = validateDevice({
    id: 'eapi', host: '127.0.0.1', platform: 'arista_eos', username: 'x', password: 'unused-pass', hostKey: { acceptAny: true },
    http: { baseUrl: api.url },
  }, defaults, 'api');
  const td = await startTestDaemon({
    devices: [simSpec(r1, 'r1', { labels: { site: 'fra1' } }), simSpec(r2, 'r2', { labels: { site: 'fra1' } }), eapi],
  });
  t.teardown(() => td.stop());
  const lookups = countLookups(td.daemon.devices);

  await t.test('Run', async (t) => {
    lookups.reset();
    const r = await td.call<object, RunResponse__Output>(m(td.proxy, 'Run'), { device: 'r1', commands: ['show version'] });
    t.match(r.results[0]!.output, /Cisco IOS/);
    t.same(Object.fromEntries(lookups.counts), { r1: 1 }, 'one registry lookup per device');
  });

  await t.test('Run served from the cache', async (t) => {
    const req = { device: 'r1', commands: ['show clock'], cache_ttl_ms: 60_000 };
    await td.call(m(td.proxy, 'Run'), req);
    lookups.reset();
    const r = await td.call<object, RunResponse__Output>(m(td.proxy, 'Run'), req);
    t.equal(r.results[0]!.cached, true);
    t.same(Object.fromEntries(lookups.counts), { r1: 1 }, 'one registry lookup per device');
  });

  await t.test('RunStream', async (t) => {
    lookups.reset();
    const events = await collect<RunEvent__Output>(td.proxy.RunStream({ device: 'r1', commands: ['show version'] }));
    t.ok(events.some((e) => e.result), 'the stream ended with a result');
    t.same(Object.fromEntries(lookups.counts), { r1: 1 }, 'one registry lookup per device');
  });

  await t.test('RunMany by ids and labels: once per device', async (t) => {
    lookups.reset();
    const results = await collect<DeviceRunResult__Output>(td.proxy.RunMany({
      template: { commands: ['show version'] }, devices: ['r1'], labels: { site: 'fra1' },
    }));
    t.same(results.map((r) => r.device).sort(), ['r1', 'r2']);
    t.ok(results.every((r) => r.response), 'every device answered');
    t.same(Object.fromEntries(lookups.counts), { r1: 1, r2: 1 }, 'one registry lookup per device');
  });

  await t.test('Http', async (t) => {
    lookups.reset();
    const r = await td.call<object, HttpResponse__Output>(m(td.proxy, 'Http'), { device: 'eapi', method: 'GET', path: '/api/v1/interfaces' });
    t.equal(r.status, 200);
    t.same(Object.fromEntries(lookups.counts), { eapi: 1 }, 'one registry lookup per device');
  });
});
