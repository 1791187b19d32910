import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { renderJsonSchema } from '../src/config/json-schema.js';
import { CONFIG_KEYS } from '../src/config/schema.js';
import { DEVICE_FIELDS } from '../src/config/device-fields.js';
import { ROOT } from './kit/proc.js';

/**
 * The published JSON Schemas (docs/config.schema.json, docs/inventory.schema.json) are what
 * `warmpool schema` generates from the loader's own schema, and they accept and refuse what the
 * daemon does for the shapes a schema can express. ajv is already in node_modules (through
 * kubernetes-models, the Kubernetes manifest validator), so no dependency is added for this.
 */

const ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true });
const published = (which: 'config' | 'inventory') => readFileSync(join(ROOT, 'docs', `${which}.schema.json`), 'utf8');
const validator = (which: 'config' | 'inventory') => ajv.compile(JSON.parse(published(which)) as object);
const yamlFile = (p: string) => parseYaml(readFileSync(join(ROOT, p), 'utf8')) as unknown;

t.test('docs/config.schema.json and docs/inventory.schema.json are up to date (npm run gen:schema)', async (t) => {
  t.equal(published('config'), renderJsonSchema('config'), 'docs/config.schema.json');
  t.equal(published('inventory'), renderJsonSchema('inventory'), 'docs/inventory.schema.json');
});

t.test('every config key and every device field is in the schemas', async (t) => {
  const config = JSON.parse(published('config')) as Record<string, any>;
  for (const k of CONFIG_KEYS) {
    let node = config;
    for (const seg of k.path.split('.')) node = node?.properties?.[seg];
    t.ok(node, k.path);
  }
  const device = (JSON.parse(published('inventory')) as Record<string, any>).definitions.device;
  for (const f of DEVICE_FIELDS) {
    let node = device;
    for (const seg of f.path.split('.')) node = node?.properties?.[seg];
    t.ok(node, f.path);
  }
});

t.test('the shipped examples validate', async (t) => {
  const config = validator('config');
  t.ok(config(yamlFile('examples/warmpool.yaml')), JSON.stringify(config.errors));
  t.ok(config(null), 'an empty config file (all defaults)');
  t.ok(config({ grpc: null, defaults: { pool: { max: '4' }, ssh: { commandTimeoutMs: '90s' } }, cache: { maxBytes: '64MiB' } }), 'null groups, unit strings');
  const inventory = validator('inventory');
  t.ok(inventory(yamlFile('examples/devices.yaml')), JSON.stringify(inventory.errors));
  t.ok(inventory({ devices: [] }));
});

t.test('invalid config samples are refused, at the right path', async (t) => {
  const config = validator('config');
  const cases: Array<[unknown, string]> = [
    [{ grpc: { listn: '127.0.0.1:1' } }, '/grpc'],
    [{ grpc: { listen: 'nowhere' } }, '/grpc/listen'],
    [{ metrics: { perDeviceLabels: 'maybe' } }, '/metrics/perDeviceLabels'],
    [{ defaults: { pool: { max: 0 } } }, '/defaults/pool/max'],
    [{ defaults: { ssh: { commandTimeoutMs: '30 parsecs' } } }, '/defaults/ssh/commandTimeoutMs'],
    [{ log: { level: 'loud' } }, '/log/level'],
    [[1, 2], ''],
  ];
  for (const [doc, path] of cases) {
    t.notOk(config(doc), JSON.stringify(doc));
    t.ok(config.errors?.some((e) => e.instancePath === path), `${JSON.stringify(doc)}: an error at "${path}"`);
  }
});

t.test('invalid inventory samples are refused, at the right path', async (t) => {
  const inventory = validator('inventory');
  const good = { id: 'r1', host: '192.0.2.1', platform: 'cisco_ios', username: 'u', password: 'p', hostKey: { acceptAny: true } };
  const cases: Array<[unknown, string]> = [
    [{ devices: [{ ...good, device_type: 'cisco_ios' }] }, '/devices/0'],
    [{ devices: [{ ...good, id: 'has space' }] }, '/devices/0/id'],
    [{ devices: [{ ...good, port: 70000 }] }, '/devices/0/port'],
    [{ devices: [{ ...good, mode: 'telnet' }] }, '/devices/0/mode'],
    [{ devices: [{ ...good, hostKey: { fingerprints: ['SHA256:short'] } }] }, '/devices/0/hostKey/fingerprints/0'],
    [{ devices: [{ ...good, labels: { site: 1 } }] }, '/devices/0/labels/site'],
    [{ devices: [{ ...good, pool: { max: -1 } }] }, '/devices/0/pool/max'],
    [{ devices: [{ ...good, http: { baseUrl: 'ftp://x' } }] }, '/devices/0/http/baseUrl'],
    [{ devices: [{ id: 'r1' }] }, '/devices/0'],
    [{ hosts: [] }, ''],
  ];
  for (const [doc, path] of cases) {
    t.notOk(inventory(doc), JSON.stringify(doc));
    t.ok(inventory.errors?.some((e) => e.instancePath === path), `${JSON.stringify(doc)}: an error at "${path}": ${JSON.stringify(inventory.errors)}`);
  }
});
