import t from 'tap';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { startTestDaemon, m, type TestDaemon } from './kit/daemon.js';
import { captureLogger } from './kit/http-fixtures.js';
import { parseExposition, sampleValue } from './kit/metrics-fixtures.js';
import { waitFor } from './kit/wait.js';

/**
 * The inventory file is followed on disk (docs/operations.md "Inventory reloads"): a real daemon
 * with its inventory in a directory laid out as the kubelet lays out a mounted ConfigMap
 * (devices.yaml → ..data/devices.yaml, ..data → ..<timestamp>), updated as the kubelet does it
 * (a new directory, a ..data_tmp symlink renamed over ..data), seen through the gRPC Inventory
 * API and the /metrics endpoint.
 */

const device = (id: string) => `  - id: ${id}
    host: 192.0.2.1
    platform: linux
    username: u
    password: not-a-real-one
    hostKey: { acceptAny: true }
`;

/** A ConfigMap volume: the file is a symlink through ..data to a timestamped directory. */
class ConfigMapDir {
  readonly root: string;
  #gen = 0;
  constructor(root: string, text: string) {
    this.root = root;
    const first = this.#writeGeneration(text);
    symlinkSync(first, join(root, '..data'));
    symlinkSync(join('..data', 'devices.yaml'), join(root, 'devices.yaml'));
  }

  get file(): string {
    return join(this.root, 'devices.yaml');
  }

  /** What the kubelet does on a ConfigMap change: new directory, atomic rename of the ..data symlink, old directory removed. */
  swap(text: string): void {
    const previous = `..gen_${this.#gen}`;
    const next = this.#writeGeneration(text);
    symlinkSync(next, join(this.root, '..data_tmp'));
    renameSync(join(this.root, '..data_tmp'), join(this.root, '..data'));
    rmSync(join(this.root, previous), { recursive: true, force: true });
  }

  #writeGeneration(text: string): string {
    const name = `..gen_${++this.#gen}`;
    mkdirSync(join(this.root, name));
    writeFileSync(join(this.root, name, 'devices.yaml'), text);
    return name;
  }
}

async function scrape(td: TestDaemon): Promise<ReturnType<typeof parseExposition>> {
  const res = await fetch(`http://${td.daemon.metricsAddress}/metrics`);
  return parseExposition(await res.text());
}

async function hasDevice(td: TestDaemon, id: string): Promise<boolean> {
  try {
    await td.call(m(td.inventory, 'GetDevice'), { id });
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === status.NOT_FOUND) return false;
    throw err;
  }
}

t.test('a ConfigMap swap is picked up; a bad file keeps the old devices and raises the metric', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'warmpool-watch-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const cm = new ConfigMapDir(root, `devices:\n${device('r1')}`);
  const { logger, lines } = captureLogger('info');
  const td = await startTestDaemon({ argv: ['--inventory.file', cm.file, '--inventory.watchDebounceMs', '100'], logger });
  t.teardown(() => td.stop());
  t.ok(await hasDevice(td, 'r1'));
  t.notOk(await hasDevice(td, 'r2'));
  let samples = await scrape(td);
  t.equal(sampleValue(samples, 'warmpool_inventory_last_reload_success', {}), 1, 'the start-up load counts as good');
  t.equal(sampleValue(samples, 'warmpool_inventory_reload_failures_total', {}), 0);

  cm.swap(`devices:\n${device('r1')}${device('r2')}`);
  await waitFor(() => hasDevice(td, 'r2'), 'r2 to appear after the ConfigMap swap', 15_000, 50);
  t.ok(await hasDevice(td, 'r1'), 'r1 stays');
  const reloads = lines.filter((l) => l.includes('"inventory reloaded"'));
  t.equal(reloads.length, 1, 'one swap (several directory events) is one reload');
  t.match(reloads[0], '"trigger":"file change"');
  t.match(reloads[0], '"added":1');

  // A broken file: the daemon keeps serving r1 and r2, logs why, and says so in /metrics.
  cm.swap(`devices:\n${device('r1')}  - id: r3\n    device_type: linux\n`);
  await waitFor(async () => sampleValue(await scrape(td), 'warmpool_inventory_last_reload_success', {}) === 0, 'the failure to show in /metrics', 15_000, 50);
  samples = await scrape(td);
  t.equal(sampleValue(samples, 'warmpool_inventory_reload_failures_total', {}), 1);
  t.ok(await hasDevice(td, 'r2'), 'the last good inventory stays in force');
  t.notOk(await hasDevice(td, 'r3'));
  const failure = lines.find((l) => l.includes('"inventory reload failed; keeping the current inventory"'));
  t.match(failure, /device_type is Netmiko's name/, 'the log names the problem');

  // Fixed again: applied, and the gauge goes back to 1.
  cm.swap(`devices:\n${device('r3')}`);
  await waitFor(() => hasDevice(td, 'r3'), 'r3 after the fix', 15_000, 50);
  t.notOk(await hasDevice(td, 'r1'), 'devices gone from the file are removed');
  samples = await scrape(td);
  t.equal(sampleValue(samples, 'warmpool_inventory_last_reload_success', {}), 1);
  t.equal(sampleValue(samples, 'warmpool_inventory_reload_failures_total', {}), 1, 'the counter keeps its count');
});

t.test('an edit in place is picked up after the debounce; unrelated files in the directory cause no reload', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'warmpool-watch-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const file = join(root, 'devices.yaml');
  writeFileSync(file, `devices:\n${device('a1')}`);
  const { logger, lines } = captureLogger('info');
  const td = await startTestDaemon({ argv: ['--inventory.file', file, '--inventory.watchDebounceMs', '300'], logger });
  t.teardown(() => td.stop());

  writeFileSync(join(root, 'notes.txt'), 'not the inventory');
  // Several writes in a burst, as an editor does: one reload, of the last content.
  writeFileSync(file, `devices:\n${device('a1')}${device('a2')}`);
  writeFileSync(file, `devices:\n${device('a1')}${device('a2')}${device('a3')}`);
  await waitFor(() => hasDevice(td, 'a3'), 'a3 after the edit', 15_000, 50);
  t.ok(await hasDevice(td, 'a2'));
  await new Promise((r) => setTimeout(r, 600)); // two debounce periods: nothing else may follow
  t.equal(lines.filter((l) => l.includes('"inventory reloaded"')).length, 1, 'one reload for the burst; the other file changed nothing');
});

t.test('inventory.watch: false leaves reloading to SIGHUP', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'warmpool-watch-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const file = join(root, 'devices.yaml');
  writeFileSync(file, `devices:\n${device('b1')}`);
  const td = await startTestDaemon({ argv: ['--inventory.file', file, '--inventory.watch', 'false', '--inventory.watchDebounceMs', '50'] });
  t.teardown(() => td.stop());
  writeFileSync(file, `devices:\n${device('b1')}${device('b2')}`);
  await new Promise((r) => setTimeout(r, 500)); // ten debounce periods
  t.notOk(await hasDevice(td, 'b2'), 'not picked up without the watch');
  td.daemon.reloadInventory(); // what SIGHUP does
  t.ok(await hasDevice(td, 'b2'));
});
