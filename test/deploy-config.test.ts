/**
 * The warmpool configs and inventories shipped in deploy/ and helm/ load with the daemon's own
 * config loader, so a renamed or misspelt key in a manifest fails here rather than in a cluster.
 * /etc/warmpool paths are rewritten into a temp dir where the referenced files exist (placeholders).
 */
import t, { type Test } from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseAllDocuments, parse as parseYaml, stringify } from 'yaml';
import { loadConfig, loadInventoryFile } from '../src/config/load.js';
import { CONFIG_KEYS } from '../src/config/schema.js';

const ROOT = join(import.meta.dirname, '..');

type Obj = Record<string, any>;

function configMapData(file: string): Record<string, string> {
  for (const d of parseAllDocuments(readFileSync(join(ROOT, file), 'utf8'))) {
    const o = d.toJS() as Obj;
    if (o?.kind === 'ConfigMap') return o.data;
  }
  throw new Error(`${file}: no ConfigMap`);
}

/** Writes the files into a fresh /etc/warmpool stand-in, creating every other file they reference. */
function materialise(t: Test, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'warmpool-deploy-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const rewrite = (s: string): string => s.replaceAll('/etc/warmpool/', `${dir}/`);
  const all = Object.values(files).join('\n');
  for (const [ref] of all.matchAll(/\/etc\/warmpool\/[\w./-]+/g)) {
    const p = rewrite(ref);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, 'placeholder\n', { mode: 0o600 });
  }
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), rewrite(text));
  }
  return dir;
}

for (const [name, file] of [['sidecar', 'deploy/kubernetes/sidecar/configmap.yaml'], ['gateway', 'deploy/kubernetes/gateway/configmap.yaml']] as const) {
  t.test(`${name} manifest: config and inventory load with the daemon's loader`, async (t) => {
    const data = configMapData(file);
    const dir = materialise(t, data);
    const cfg = loadConfig({ argv: [], env: {}, configFile: join(dir, 'warmpool.yaml') });
    t.equal(cfg.metrics.listen, '0.0.0.0:9464');
    t.equal(cfg.inventory.file, join(dir, 'devices.yaml'));
    const devices = loadInventoryFile(cfg.inventory.file, cfg);
    t.ok(devices.length >= 2, `${devices.length} devices`);
    for (const d of devices) {
      t.ok(d.password, `${d.id}: password read from a mounted file`);
      t.match(d.host, /^192\.0\.2\./, `${d.id}: documentation address only`);
    }
  });
}

t.test('a misspelt key in a manifest config would be caught by the same loader', async (t) => {
  const data = configMapData('deploy/kubernetes/sidecar/configmap.yaml');
  const cfg = parseYaml(data['warmpool.yaml']!) as Obj;
  cfg.metrics.perDeviceLabel = true;
  const dir = materialise(t, { ...data, 'warmpool.yaml': stringify(cfg) });
  t.throws(() => loadConfig({ argv: [], env: {}, configFile: join(dir, 'warmpool.yaml') }), /perDeviceLabel/);
});

t.test('helm values: every key under config is a warmpool config key', async (t) => {
  const values = parseYaml(readFileSync(join(ROOT, 'helm/warmpool/values.yaml'), 'utf8')) as Obj;
  const known = new Set(CONFIG_KEYS.map((k) => k.path));
  const leaves = (o: Obj, prefix: string): string[] =>
    Object.entries(o).flatMap(([k, v]) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? leaves(v, `${prefix}${k}.`) : [`${prefix}${k}`]));
  const paths = leaves(values.config, '');
  t.ok(paths.length > 5);
  for (const p of paths) t.ok(known.has(p), `config.${p} is a warmpool key`);
  // The keys the chart itself sets (templates/_helpers.tpl) are real too.
  for (const p of ['grpc.listen', 'grpc.tls.certFile', 'grpc.tls.keyFile', 'grpc.tls.clientCaFile', 'grpc.auth.tokensFile', 'metrics.listen', 'inventory.file']) {
    t.ok(known.has(p), `${p} is a warmpool key`);
  }
});

/** Deep merge as Helm's mergeOverwrite: b's keys over a's, maps merged, everything else replaced. */
function mergeOverwrite(a: Obj, b: Obj): Obj {
  const out: Obj = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const both = v !== null && typeof v === 'object' && !Array.isArray(v) && a[k] !== null && typeof a[k] === 'object' && !Array.isArray(a[k]);
    out[k] = both ? mergeOverwrite(a[k], v) : v;
  }
  return out;
}

/**
 * The config file templates/_helpers.tpl (warmpool.config) writes for these values, transcribed
 * (Helm is not installed here): the chart's keys (listen addresses, TLS and token files, inventory
 * path) merged over .Values.config.
 */
function chartConfig(v: Obj): Obj {
  const sidecar = v.mode === 'sidecar';
  const grpc: Obj = { listen: `${sidecar ? '127.0.0.1' : '0.0.0.0'}:${v.grpc.port}` };
  if (!sidecar && v.auth.tls.enabled) {
    grpc.tls = { certFile: '/etc/warmpool/tls/tls.crt', keyFile: '/etc/warmpool/tls/tls.key', ...(v.auth.tls.requireClientCert ? { clientCaFile: '/etc/warmpool/tls/ca.crt' } : {}) };
  }
  if (!sidecar && v.auth.tokens.enabled) grpc.auth = { tokensFile: '/etc/warmpool/tokens/tokens.yaml' };
  return mergeOverwrite(structuredClone(v.config), { grpc, metrics: { listen: `0.0.0.0:${v.metrics.port}` }, inventory: { file: '/etc/warmpool/inventory/devices.yaml' } });
}

for (const example of readdirSync(join(ROOT, 'helm/warmpool/examples'))) {
  t.test(`helm examples/${example}: the config the chart writes and the inventory load with the daemon loader`, async (t) => {
    const ex = parseYaml(readFileSync(join(ROOT, 'helm/warmpool/examples', example), 'utf8')) as Obj;
    const values = mergeOverwrite(parseYaml(readFileSync(join(ROOT, 'helm/warmpool/values.yaml'), 'utf8')) as Obj, ex);
    const dir = materialise(t, {
      'warmpool.yaml': stringify(chartConfig(values)),
      'inventory/devices.yaml': stringify({ devices: values.inventory.devices }),
      'inventory/known_hosts': values.inventory.knownHosts,
    });
    const cfg = loadConfig({ argv: [], env: {}, configFile: join(dir, 'warmpool.yaml') });
    const devices = loadInventoryFile(cfg.inventory.file, cfg);
    t.equal(devices[0]?.id, 'core-sw1');
    if (values.workload?.kind === 'StatefulSet') {
      // Replicas behind a balancer: the file is the only source of devices, no warm minimum per replica.
      t.equal(cfg.inventory.readOnly, true, 'inventory.readOnly');
      t.equal(cfg.defaults.pool.min, 0, 'defaults.pool.min');
      t.ok(devices.every((d) => d.pool.min === 0), 'no device keeps sessions warm on every replica');
      t.equal(cfg.grpc.auth.tokensFile, join(dir, 'tokens/tokens.yaml'), 'callers authenticate with tokens through HAProxy');
      t.equal(cfg.grpc.tls.certFile, '', 'no TLS on the replicas (haproxy.cfg speaks h2c to them)');
    }
  });
}
