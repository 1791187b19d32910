/**
 * DeviceRegistry.replaceFileDevices (an inventory reload) keeps a device whose spec is the same
 * and reports a change when any field, a secret included, differs (src/core/fingerprint.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseInventory } from '../src/config/inventory.js';
import { loadConfig } from '../src/config/load.js';
import type { DeviceSpec } from '../src/config/types.js';
import { DeviceRegistry, type InventoryChange } from '../src/inventory/registry.js';

const defaults = loadConfig({ argv: [], env: {} }).defaults;
const FP = 'SHA256:Ndn2nNQI3C/HRofmkAHuPkHxYutLZVwHJidfQ4IkyLY';

function inventory(devices: Array<Record<string, unknown>>, file = 'devices.yaml'): DeviceSpec[] {
  return parseInventory(JSON.stringify({ devices }), file, defaults);
}

function dev(id: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, host: '192.0.2.10', platform: 'cisco_ios', username: 'netops', password: 'pw-1', hostKey: { fingerprints: [FP] }, ...over };
}

function watch(reg: DeviceRegistry): InventoryChange[] {
  const seen: InventoryChange[] = [];
  reg.on('change', (c: InventoryChange) => seen.push(c));
  return seen;
}

t.test('a reload of the same file changes nothing and keeps the spec objects', async (t) => {
  const reg = new DeviceRegistry();
  t.same(reg.replaceFileDevices(inventory([dev('a'), dev('b')])), { added: 2, changed: 0, removed: 0 });
  const first = reg.get('a');
  const changes = watch(reg);
  t.same(reg.replaceFileDevices(inventory([dev('b'), dev('a')])), { added: 0, changed: 0, removed: 0 });
  t.equal(changes.length, 0, 'no change event');
  t.equal(reg.get('a'), first, 'the old spec object stays');
});

t.test('a changed inline password, label or port is a change; a removed device is removed', async (t) => {
  const reg = new DeviceRegistry();
  reg.replaceFileDevices(inventory([dev('a'), dev('b'), dev('c'), dev('d')]));
  const changes = watch(reg);
  const r = reg.replaceFileDevices(inventory([dev('a', { password: 'pw-2' }), dev('b', { labels: { site: 'x' } }), dev('c', { port: 2222 })]));
  t.same(r, { added: 0, changed: 3, removed: 1 });
  t.same(
    changes.map((c) => `${c.kind}:${c.device.id}`).sort(),
    ['remove:d', 'upsert:a', 'upsert:b', 'upsert:c'],
  );
  t.equal(reg.get('a').password?.reveal(), 'pw-2');
});

t.test('a password file counts by its path: rotating its content is not a change, another path is', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wp-reg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'pw'), 'one\n');
  writeFileSync(join(dir, 'pw2'), 'one\n');
  const file = join(dir, 'devices.yaml');
  const reg = new DeviceRegistry();
  reg.replaceFileDevices(inventory([dev('a', { password: undefined, passwordFile: 'pw' })], file));
  writeFileSync(join(dir, 'pw'), 'two\n');
  t.same(reg.replaceFileDevices(inventory([dev('a', { password: undefined, passwordFile: 'pw' })], file)), { added: 0, changed: 0, removed: 0 });
  t.equal(reg.get('a').password?.reveal(), 'two', 'the kept spec reads the rotated value');
  t.same(reg.replaceFileDevices(inventory([dev('a', { password: undefined, passwordFile: 'pw2' })], file)), { added: 0, changed: 1, removed: 0 });
});
