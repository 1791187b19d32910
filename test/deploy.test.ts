/**
 * The deployment artefacts (deploy/, Dockerfile) are checked against the real tools and schemas
 * available on this machine: Kubernetes OpenAPI schemas (kubernetes-models), promtool, yamllint,
 * and a real scrape of createMetrics() for the dashboard's queries.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join, relative } from 'node:path';
import { parseAllDocuments, parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { fullScrape, parseExposition, promtool } from './kit/metrics-fixtures.js';

const ROOT = join(import.meta.dirname, '..');
const DEPLOY = join(ROOT, 'deploy');

type Obj = Record<string, any>;

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

function walk(dir: string, ext: RegExp): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p, ext));
    else if (ext.test(e.name)) out.push(p);
  }
  return out.sort();
}

/** Multi-document YAML, as kubectl reads it (YAML 1.1 would differ only for octal-looking scalars, which we avoid). */
function loadDocs(file: string): Obj[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  const out: Obj[] = [];
  for (const d of docs) {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    const v = d.toJS() as Obj | null;
    if (v !== null) out.push(v);
  }
  return out;
}

function k8sObjects(sub: string): Array<{ file: string; obj: Obj }> {
  return walk(join(DEPLOY, 'kubernetes', sub), /\.yaml$/).flatMap((file) => loadDocs(file).map((obj) => ({ file, obj })));
}

function findKind(objs: Array<{ obj: Obj }>, kind: string, name?: string): Obj {
  const hit = objs.find((o) => o.obj.kind === kind && (name === undefined || o.obj.metadata?.name === name));
  if (!hit) throw new Error(`no ${kind}${name ? ` ${name}` : ''}`);
  return hit.obj;
}

function assertHardened(t: Test, podSpec: Obj, c: Obj, what: string): void {
  const sc = c.securityContext ?? {};
  const podSc = podSpec.securityContext ?? {};
  t.ok(sc.runAsNonRoot ?? podSc.runAsNonRoot, `${what}: runAsNonRoot`);
  t.not(sc.runAsUser ?? podSc.runAsUser, 0, `${what}: not uid 0`);
  t.equal(sc.readOnlyRootFilesystem, true, `${what}: readOnlyRootFilesystem`);
  t.equal(sc.allowPrivilegeEscalation, false, `${what}: no privilege escalation`);
  t.same(sc.capabilities?.drop, ['ALL'], `${what}: drops ALL capabilities`);
  t.ok(c.resources?.requests && c.resources?.limits?.memory, `${what}: requests and a memory limit`);
}

function warmpoolTmpMounted(t: Test, podSpec: Obj, c: Obj, what: string): void {
  const tmp = (c.volumeMounts ?? []).find((m: Obj) => m.mountPath === '/tmp');
  t.ok(tmp, `${what}: /tmp is mounted (read-only root filesystem)`);
  const vol = (podSpec.volumes ?? []).find((v: Obj) => v.name === tmp?.name);
  t.ok(vol?.emptyDir, `${what}: /tmp is an emptyDir`);
}

t.test('every Kubernetes manifest parses and validates against the Kubernetes schema', async (t) => {
  const files = walk(join(DEPLOY, 'kubernetes'), /\.yaml$/);
  t.ok(files.length >= 8, `found ${files.length} manifests`);
  for (const file of files) {
    const rel = relative(ROOT, file);
    for (const obj of loadDocs(file)) {
      if (obj.kind === 'Kustomization') {
        // A resource is a manifest file here or a directory holding a kustomization (an overlay's base).
        for (const r of obj.resources as string[]) {
          const p = join(file, '..', r);
          t.ok(files.includes(p) || files.includes(join(p, 'kustomization.yaml')), `${rel}: lists existing ${r}`);
        }
        continue;
      }
      const key = `${obj.apiVersion}/${obj.kind}`;
      const Model = MODELS[key];
      t.ok(Model, `${rel}: ${key} has a schema model`);
      if (!Model) continue;
      t.doesNotThrow(() => new Model(obj).validate(), `${rel}: ${key} ${obj.metadata?.name} is valid`);
      t.match(obj.metadata?.labels?.['app.kubernetes.io/name'], /\S/, `${rel}: ${obj.kind} is labelled`);
    }
  }
});

t.test('the schema validation used above rejects a malformed Deployment', async (t) => {
  const d = findKind(k8sObjects('gateway'), 'Deployment');
  const broken = structuredClone(d);
  broken.spec.replicas = 'two';
  t.throws(() => new Deployment(broken).validate());
  const broken2 = structuredClone(d);
  broken2.spec.template.spec.containers[0].ports[0].containerPort = 'grpc';
  t.throws(() => new Deployment(broken2).validate());
});

t.test('secrets in the manifests are placeholders only', async (t) => {
  for (const sub of ['sidecar', 'gateway', 'gateway-statefulset']) {
    for (const { file, obj } of k8sObjects(sub)) {
      if (obj.kind !== 'Secret') continue;
      t.same(obj.stringData ?? {}, {}, `${relative(ROOT, file)}: no stringData values`);
      t.same(obj.data ?? {}, {}, `${relative(ROOT, file)}: no data values`);
    }
  }
});

t.test('sidecar: warmpool is a native sidecar whose startupProbe gates the app', async (t) => {
  const objs = k8sObjects('sidecar');
  const d = findKind(objs, 'Deployment');
  const pod = d.spec.template.spec;
  const init = (pod.initContainers as Obj[]).find((c) => c.name === 'warmpool');
  t.ok(init, 'warmpool is an init container');
  t.equal(init!.restartPolicy, 'Always', 'restartPolicy: Always makes it a native sidecar');
  t.ok(init!.startupProbe, 'has a startupProbe');
  t.equal(init!.startupProbe.httpGet?.path, '/readyz');
  t.equal(init!.startupProbe.httpGet?.port, 'metrics');
  t.same(init!.args, ['serve', '--config', '/etc/warmpool/warmpool.yaml']);
  t.ok((init!.ports as Obj[]).some((p) => p.name === 'metrics' && p.containerPort === 9464));
  t.notOk((pod.containers as Obj[]).some((c) => c.name === 'warmpool'), 'not also a main container');
  assertHardened(t, pod, init!, 'warmpool sidecar');
  warmpoolTmpMounted(t, pod, init!, 'warmpool sidecar');
  for (const c of pod.containers as Obj[]) assertHardened(t, pod, c, `app container ${c.name}`);
  t.ok(pod.terminationGracePeriodSeconds * 1000 > 20000, 'grace period exceeds shutdown.graceMs');

  const cfg = parseYaml(findKind(objs, 'ConfigMap').data['warmpool.yaml']) as Obj;
  t.equal(cfg.grpc.listen, '127.0.0.1:50051', 'gRPC is pod-local');
  t.equal(cfg.metrics.listen, '0.0.0.0:9464', 'metrics and probes reachable by the kubelet');
  const app = (pod.containers as Obj[])[0]!;
  t.ok((app.env as Obj[]).some((e) => e.value === '127.0.0.1:50051'), 'the app is pointed at the pod-local address');
});

t.test('gateway: auth on, probes, Service ports, PDB and credentials mounted as files', async (t) => {
  const objs = k8sObjects('gateway');
  const d = findKind(objs, 'Deployment');
  const pod = d.spec.template.spec;
  const c = (pod.containers as Obj[]).find((x) => x.name === 'warmpool')!;
  assertHardened(t, pod, c, 'warmpool gateway');
  warmpoolTmpMounted(t, pod, c, 'warmpool gateway');
  for (const p of ['startupProbe', 'readinessProbe', 'livenessProbe']) t.ok(c[p], `has ${p}`);
  t.equal(c.readinessProbe.httpGet.path, '/readyz');
  t.equal(c.livenessProbe.httpGet.path, '/healthz');
  t.equal(pod.serviceAccountName, 'warmpool');
  t.equal(pod.automountServiceAccountToken, false);

  const cfg = parseYaml(findKind(objs, 'ConfigMap').data['warmpool.yaml']) as Obj;
  t.equal(cfg.grpc.listen, '0.0.0.0:50051');
  t.ok(cfg.grpc.tls.certFile && cfg.grpc.tls.keyFile && cfg.grpc.tls.clientCaFile, 'mTLS configured');
  t.not(cfg.grpc.auth?.allowInsecure, true, 'never allowInsecure');

  // Every file the config and inventory name lies under a volume mount of the container.
  const mounts = (c.volumeMounts as Obj[]).map((m) => m.mountPath as string);
  const text = findKind(objs, 'ConfigMap').data['warmpool.yaml'] + findKind(objs, 'ConfigMap').data['devices.yaml'];
  for (const [path] of text.matchAll(/\/etc\/warmpool\/[\w./-]+/g)) {
    t.ok(mounts.some((m) => path.startsWith(`${m}/`)), `${path} is under a mount`);
  }

  const svc = objs.filter((o) => o.obj.kind === 'Service').map((o) => o.obj);
  const main = svc.find((s) => s.metadata.name === 'warmpool')!;
  t.same((main.spec.ports as Obj[]).map((p) => [p.name, p.port]), [['grpc', 50051], ['metrics', 9464]]);
  const headless = svc.find((s) => s.metadata.name === 'warmpool-headless')!;
  t.equal(headless.spec.clusterIP, 'None');
  t.equal(headless.spec.publishNotReadyAddresses, false, 'only ready pods get DNS records');
  t.same((headless.spec.ports as Obj[]).map((p) => [p.name, p.port]), [['grpc', 50051], ['metrics', 9464]]);
  t.same(headless.spec.selector, d.spec.template.metadata.labels, 'headless Service selects the Deployment pods');
  const pdb = findKind(objs, 'PodDisruptionBudget');
  t.same(pdb.spec.selector.matchLabels, d.spec.selector.matchLabels, 'PDB selects the Deployment pods');
  t.same(main.spec.selector, d.spec.template.metadata.labels, 'Service selects the Deployment pods');
});

/**
 * The name suffix kustomize (v5.5, as in kubectl 1.32) gives a generated ConfigMap: the first 10 hex
 * digits of the SHA-256 of Go's json.Marshal of {data, kind, name: ""} (keys sorted, <>& escaped),
 * with 0 1 3 a e replaced by g h k m t. Checked against `kubectl kustomize` output by hand.
 */
function kustomizeHash(data: Record<string, string>): string {
  const json = JSON.stringify({ data, kind: 'ConfigMap', name: '' })
    .replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const hex = createHash('sha256').update(json).digest('hex').slice(0, 10);
  return hex.replace(/[013ae]/g, (c) => ({ 0: 'g', 1: 'h', 3: 'k', a: 'm', e: 't' })[c]!);
}

/** The pod spec of a workload object, if it has one. */
function podSpecOf(o: Obj): Obj | undefined {
  return o.spec?.template?.spec;
}

/**
 * A configMapGenerator entry as kustomize builds it: data from `files` (plain file names in the
 * kustomization's directory), labels from `options.labels`, the name with its content hash; and
 * pod volumes naming the generator renamed to match. Everything else a generator can do throws.
 */
function generateConfigMaps(dir: string, generators: Obj[], objs: Obj[]): Obj[] {
  const out: Obj[] = [];
  for (const g of generators) {
    const extra = Object.keys(g).filter((key) => !['name', 'files', 'options'].includes(key));
    const extraOptions = Object.keys(g.options ?? {}).filter((key) => key !== 'labels');
    if (extra.length > 0 || extraOptions.length > 0) throw new Error(`${dir}: configMapGenerator keys this reading does not model: ${[...extra, ...extraOptions].join(', ')}`);
    const data: Record<string, string> = {};
    for (const f of g.files as string[]) {
      if (!/^[\w.-]+$/.test(f)) throw new Error(`${dir}: configMapGenerator file ${f}: only plain file names of this directory are modelled`);
      data[f] = readFileSync(join(dir, f), 'utf8');
    }
    const name = `${g.name}-${kustomizeHash(data)}`;
    out.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(g.options?.labels ? { labels: g.options.labels } : {}) }, data });
    for (const o of objs) {
      const pod = podSpecOf(o);
      if (!pod) continue;
      for (const v of (pod.volumes ?? []) as Obj[]) if (v.configMap?.name === g.name) v.configMap.name = name;
      const refs = JSON.stringify([...(pod.containers ?? []), ...(pod.initContainers ?? []), ...((pod.volumes ?? []) as Obj[]).map((v) => v.projected ?? null)]);
      if (refs.includes(`"name":"${g.name}"`)) throw new Error(`${dir}: ${o.kind}/${o.metadata.name} refers to ${g.name} other than by a configMap volume, which this reading does not model`);
    }
  }
  return out;
}

/**
 * What `kubectl apply -k DIR` would apply, read without kubectl (not installed in CI): the resources,
 * bases included, minus what a `$patch: delete` removes, plus generated ConfigMaps. Any other kustomize
 * feature makes this throw, so the reading cannot silently differ from kustomize's (checked by hand
 * with `kubectl kustomize`, which printed the same kinds and names).
 */
function kustomizeObjects(dir: string): Obj[] {
  const k = parseYaml(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Obj;
  const unknown = Object.keys(k).filter((key) => !['apiVersion', 'kind', 'resources', 'patches', 'configMapGenerator'].includes(key));
  if (unknown.length > 0) throw new Error(`${dir}: kustomization keys this reading does not model: ${unknown.join(', ')}`);
  let objs: Obj[] = [];
  for (const r of k.resources as string[]) {
    const p = join(dir, r);
    objs.push(...(r.endsWith('.yaml') ? loadDocs(p) : kustomizeObjects(p)));
  }
  objs.push(...generateConfigMaps(dir, (k.configMapGenerator ?? []) as Obj[], objs));
  for (const patch of (k.patches ?? []) as Obj[]) {
    const body = parseYaml(patch.patch as string) as Obj;
    if (body.$patch !== 'delete' || body.kind !== patch.target.kind || body.metadata?.name !== patch.target.name) {
      throw new Error(`${dir}: only "$patch: delete" of the patch's own target is modelled`);
    }
    const before = objs.length;
    objs = objs.filter((o) => !(o.kind === patch.target.kind && o.metadata?.name === patch.target.name));
    if (objs.length !== before - 1) throw new Error(`${dir}: the delete patch matched ${before - objs.length} objects, not 1`);
  }
  return objs;
}

/** Labels a selector's matchLabels pick out of a pod's labels. */
function selects(selector: Obj, labels: Obj): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

t.test('gateway-statefulset overlay: the gateway with a StatefulSet whose pod names are haproxy.cfg\'s replicas', async (t) => {
  const all = kustomizeObjects(join(DEPLOY, 'kubernetes', 'gateway-statefulset'));
  const kinds = all.map((o) => `${o.kind}/${o.metadata.name}`).sort();
  t.same(kinds, [
    'ConfigMap/warmpool', `ConfigMap/warmpool-lb-${kustomizeHash({ 'haproxy.cfg': readFileSync(join(DEPLOY, 'haproxy', 'haproxy.cfg'), 'utf8') })}`,
    'Deployment/warmpool-lb', 'NetworkPolicy/warmpool', 'NetworkPolicy/warmpool-balancer', 'NetworkPolicy/warmpool-lb',
    'PodDisruptionBudget/warmpool', 'PodDisruptionBudget/warmpool-lb',
    'Secret/warmpool-device-credentials', 'Secret/warmpool-lb-client-tls', 'Secret/warmpool-lb-tls', 'Secret/warmpool-tls',
    'Service/warmpool', 'Service/warmpool-headless', 'Service/warmpool-lb', 'ServiceAccount/warmpool', 'StatefulSet/warmpool',
  ], 'the base\'s objects, the Deployment replaced by the StatefulSet, plus the balancer policy and the balancer');
  for (const o of all) {
    t.doesNotThrow(() => new MODELS[`${o.apiVersion}/${o.kind}`]!(o).validate(), `${o.kind}/${o.metadata.name} is valid`);
    t.equal(o.metadata.labels?.['app.kubernetes.io/name'], 'warmpool', `${o.kind}/${o.metadata.name} is labelled`);
  }
  // The balancer's objects are checked in the next test; these are the gateway's.
  const objs = all.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] !== 'balancer');

  const sts = objs.find((o) => o.kind === 'StatefulSet')!;
  const headless = objs.find((o) => o.kind === 'Service' && o.metadata.name === sts.spec.serviceName);
  t.ok(headless, `serviceName ${sts.spec.serviceName} is a Service of the overlay`);
  t.equal(headless?.spec.clusterIP, 'None', 'serviceName is the headless Service (pods get <pod>.<service> names)');
  t.equal(headless?.spec.publishNotReadyAddresses, false);
  t.equal(sts.spec.podManagementPolicy, 'Parallel');
  t.same(sts.spec.updateStrategy, { type: 'RollingUpdate' });
  t.notOk('strategy' in sts.spec, 'no Deployment-only strategy');
  const podLabels = sts.spec.template.metadata.labels as Obj;
  t.ok(selects(sts.spec.selector.matchLabels, podLabels), 'the StatefulSet selects its own pods');
  for (const o of objs) {
    const sel = o.kind === 'Service' ? o.spec.selector : o.kind === 'PodDisruptionBudget' ? o.spec.selector.matchLabels : o.kind === 'NetworkPolicy' ? o.spec.podSelector.matchLabels : undefined;
    if (sel) t.ok(selects(sel, podLabels), `${o.kind}/${o.metadata.name} selects the StatefulSet's pods`);
  }
  const spread = sts.spec.template.spec.topologySpreadConstraints[0];
  t.ok(selects(spread.labelSelector.matchLabels, podLabels), 'topology spread counts the StatefulSet\'s pods');

  // Same pods as the Deployment it replaces: probes, mounts, security, spread (no drift between the two files).
  const deployment = findKind(k8sObjects('gateway'), 'Deployment');
  t.same(sts.spec.template, deployment.spec.template, 'pod template identical to ../gateway/deployment.yaml');
  t.same(sts.spec.selector, deployment.spec.selector);

  // haproxy.cfg's default replica addresses are exactly this StatefulSet's pods on the headless Service.
  const cfg = readFileSync(join(DEPLOY, 'haproxy', 'haproxy.cfg'), 'utf8');
  const defaults = new Map([...cfg.matchAll(/^\s*presetenv\s+(WARMPOOL_\w+)\s+(\S+)/gm)].map((m) => [m[1]!, m[2]!]));
  const servers = [...cfg.matchAll(/^\s*server\s+\S+\s+"\$\{(WARMPOOL_REPLICA_\d+)\}"/gm)].map((m) => m[1]!);
  t.equal(sts.spec.replicas, servers.length, `one replica per server line (${servers.length})`);
  const c = (sts.spec.template.spec.containers as Obj[]).find((x) => x.name === 'warmpool')!;
  const port = (name: string) => (c.ports as Obj[]).find((p) => p.name === name)!.containerPort as number;
  servers.forEach((env, i) => {
    t.equal(defaults.get(env), `${sts.metadata.name}-${i}.${sts.spec.serviceName}:${port('grpc')}`, `${env} is pod ${i}'s gRPC address`);
  });
  t.equal(Number(defaults.get('WARMPOOL_HEALTH_PORT')), port('metrics'), 'HAProxy health-checks the metrics port');
  t.equal(c.readinessProbe.httpGet.path, '/readyz');

  // The balancer may reach gRPC and the metrics port (its /readyz checks), which the base policy keeps for monitoring.
  const np = objs.find((o) => o.metadata.name === 'warmpool-balancer')!;
  t.same(np.spec.ingress[0].from, [{ podSelector: { matchLabels: { 'warmpool-balancer': 'true' } } }]);
  t.same((np.spec.ingress[0].ports as Obj[]).map((p) => p.port).sort(), [port('grpc'), port('metrics')].sort());
});

/** `presetenv NAME default` lines of an haproxy.cfg: the settings it takes from the environment. */
function presetenvNames(cfg: string): string[] {
  return [...cfg.matchAll(/^\s*presetenv\s+(\w+)\s/gm)].map((m) => m[1]!).sort();
}

t.test('gateway-statefulset overlay: HAProxy runs the shipped haproxy.cfg in front of the StatefulSet\'s pods, behind the Service warmpool-lb', async (t) => {
  const objs = kustomizeObjects(join(DEPLOY, 'kubernetes', 'gateway-statefulset'));
  const shipped = readFileSync(join(DEPLOY, 'haproxy', 'haproxy.cfg'), 'utf8');
  const copy = readFileSync(join(DEPLOY, 'kubernetes', 'gateway-statefulset', 'haproxy.cfg'), 'utf8');
  t.ok(copy === shipped, 'gateway-statefulset/haproxy.cfg is byte-identical to deploy/haproxy/haproxy.cfg (cp deploy/haproxy/haproxy.cfg deploy/kubernetes/gateway-statefulset/)');

  const lb = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'warmpool-lb')!;
  const pod = lb.spec.template.spec;
  const podLabels = lb.spec.template.metadata.labels as Obj;
  t.equal(lb.spec.replicas, 2);
  t.ok(selects(lb.spec.selector.matchLabels, podLabels), 'the Deployment selects its own pods');
  const c = (pod.containers as Obj[]).find((x) => x.name === 'haproxy')!;
  t.match(c.image, /^haproxy:2\.\d+\.\d+(-[a-z0-9]+)?(@sha256:[0-9a-f]{64})?$/, 'the official image, pinned to a 2.x.y release');
  assertHardened(t, pod, c, 'haproxy');
  t.equal(pod.automountServiceAccountToken, false);

  // The ConfigMap is generated from the copy, and the container reads exactly that file.
  const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('warmpool-lb-'))!;
  t.ok(cm.data['haproxy.cfg'] === shipped, 'the generated ConfigMap holds the shipped file');
  const cfgVolume = (pod.volumes as Obj[]).find((v) => v.configMap);
  t.equal(cfgVolume?.configMap.name, cm.metadata.name, 'the pod mounts the generated ConfigMap (its hashed name)');
  const cfgMount = (c.volumeMounts as Obj[]).find((m) => m.name === cfgVolume?.name)!;
  const f = (c.args as string[]).indexOf('-f');
  t.equal(c.args[f + 1], `${cfgMount.mountPath}/haproxy.cfg`, 'haproxy -f names the mounted file');

  // The environment sets exactly the names the file declares with presetenv (no typo goes unnoticed),
  // plus the names those values refer to as $(NAME).
  const env = c.env as Obj[];
  const value = (name: string): string => env.find((e) => e.name === name)?.value as string;
  const names = env.map((e) => e.name as string);
  t.same(names.filter((n) => n.startsWith('WARMPOOL_')).sort(), presetenvNames(shipped), 'every presetenv setting, and nothing else, is set');
  const referred = new Set(env.flatMap((e) => [...String(e.value ?? '').matchAll(/\$\((\w+)\)/g)].map((m) => m[1]!)));
  t.same(names.filter((n) => !n.startsWith('WARMPOOL_')).sort(), [...referred].sort(), 'the other variables are the ones the values refer to');
  for (const r of referred) t.ok(names.indexOf(r) < names.findIndex((n) => String(value(n) ?? '').includes(`$(${r})`)), `${r} is defined before it is used`);
  t.same(env.find((e) => e.name === 'POD_NAMESPACE')?.valueFrom, { fieldRef: { fieldPath: 'metadata.namespace' } });

  // Replicas by complete names (HAProxy's resolvers do not use resolv.conf's search list): StatefulSet pod N on its headless Service.
  const sts = objs.find((o) => o.kind === 'StatefulSet')!;
  const gw = (sts.spec.template.spec.containers as Obj[]).find((x) => x.name === 'warmpool')!;
  const gwPort = (name: string) => (gw.ports as Obj[]).find((p) => p.name === name)!.containerPort as number;
  const servers = [...shipped.matchAll(/^\s*server\s+\S+\s+"\$\{(WARMPOOL_REPLICA_\d+)\}"/gm)].map((m) => m[1]!);
  t.equal(servers.length, sts.spec.replicas);
  servers.forEach((name, i) => {
    t.equal(value(name), `${sts.metadata.name}-${i}.${sts.spec.serviceName}.$(POD_NAMESPACE).svc.$(CLUSTER_DOMAIN):${gwPort('grpc')}`, `${name} is pod ${i}'s complete name`);
  });
  t.equal(Number(value('WARMPOOL_HEALTH_PORT')), gwPort('metrics'), 'health checks go to the replicas\' metrics port');

  // TLS both ways: callers must present a certificate; the replicas (mTLS, ../gateway/configmap.yaml) get HAProxy's.
  t.match(value('WARMPOOL_LB_BIND_OPTIONS'), /^ssl crt \S+ ca-file \S+ verify required alpn h2$/, 'callers: TLS with a required client certificate');
  t.match(value('WARMPOOL_SERVER_OPTIONS'), /^ssl verify required ca-file \S+ crt \S+ alpn h2$/, 'replicas: TLS with HAProxy\'s client certificate');
  const mounts = (c.volumeMounts as Obj[]);
  for (const path of `${value('WARMPOOL_LB_BIND_OPTIONS')} ${value('WARMPOOL_SERVER_OPTIONS')}`.match(/\/\S+/g)!) {
    const m = mounts.find((x) => path.startsWith(`${x.mountPath}/`));
    const vol = (pod.volumes as Obj[]).find((v) => v.name === m?.name);
    const file = path.slice((m?.mountPath.length ?? 0) + 1);
    t.ok(vol?.secret?.items?.some((i: Obj) => i.path === file), `${path} is a file of a mounted Secret`);
    t.ok(vol?.secret?.items?.some((i: Obj) => i.path === `${file}.key`) || !file.endsWith('.pem'), `${path}'s key is beside it as ${file}.key`);
    t.ok(objs.some((o) => o.kind === 'Secret' && o.metadata.name === vol?.secret?.secretName), `Secret ${vol?.secret?.secretName} is in the overlay`);
  }

  // Ports, probes on the stats frontend's /healthz, which the file answers.
  const port = (name: string) => (c.ports as Obj[]).find((p) => p.name === name)!.containerPort as number;
  t.equal(value('WARMPOOL_LB_LISTEN'), `:${port('grpc')}`);
  t.equal(value('WARMPOOL_LB_STATS_LISTEN'), `:${port('stats')}`, 'stats on all addresses: the kubelet probes the pod IP');
  t.match(shipped, /frontend stats\n\s+bind "\$\{WARMPOOL_LB_STATS_LISTEN\}"\n\s+http-request return status 200 .* if \{ path \/healthz \}/, 'the stats frontend answers /healthz');
  for (const p of ['readinessProbe', 'livenessProbe']) t.same([c[p]?.httpGet?.path, c[p]?.httpGet?.port], ['/healthz', 'stats'], `${p} on /healthz`);

  // What callers use, and what keeps one HAProxy up.
  const svc = objs.find((o) => o.kind === 'Service' && o.metadata.name === 'warmpool-lb')!;
  t.equal(svc.spec.type, 'ClusterIP');
  t.same(svc.spec.selector, lb.spec.selector.matchLabels, 'warmpool-lb selects the HAProxy pods');
  t.same((svc.spec.ports as Obj[]).map((p) => [p.name, p.port, p.targetPort]), [['grpc', 50051, 'grpc']]);
  const pdb = objs.find((o) => o.kind === 'PodDisruptionBudget' && o.metadata.name === 'warmpool-lb')!;
  t.same(pdb.spec.selector.matchLabels, lb.spec.selector.matchLabels);
  t.equal(pdb.spec.minAvailable, 1);
  t.notOk(selects(lb.spec.selector.matchLabels, sts.spec.template.metadata.labels), 'HAProxy\'s selectors do not pick the replicas');

  // NetworkPolicies: the replicas admit the HAProxy pods; HAProxy admits the gateway's callers.
  const admits = objs.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'warmpool-balancer')!;
  t.ok(selects(admits.spec.ingress[0].from[0].podSelector.matchLabels, podLabels), 'the HAProxy pods carry the label networkpolicy-balancer.yaml admits');
  const own = objs.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'warmpool-lb')!;
  t.same(own.spec.podSelector.matchLabels, lb.spec.selector.matchLabels);
  const gwPolicy = objs.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'warmpool')!;
  t.same(own.spec.ingress[0].from, gwPolicy.spec.ingress[0].from, 'the same callers as the gateway\'s own policy');
  t.same((own.spec.ingress as Obj[]).map((r) => r.ports[0].port), [port('grpc'), port('stats')]);
});

t.test('the overlay reading above refuses what it does not model, so it cannot pass by ignoring it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warmpool-kustomize-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'a.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n');
  writeFileSync(join(dir, 'kustomization.yaml'), 'resources: [a.yaml]\nnamePrefix: x-\n');
  t.throws(() => kustomizeObjects(dir), /namePrefix/);
  writeFileSync(join(dir, 'kustomization.yaml'), 'resources: [a.yaml]\npatches:\n  - target: { kind: ConfigMap, name: b }\n    patch: "$patch: delete\\nkind: ConfigMap\\nmetadata: { name: b }"\n');
  t.throws(() => kustomizeObjects(dir), /matched 0 objects/);
  writeFileSync(join(dir, 'kustomization.yaml'), 'resources: [a.yaml]\npatches:\n  - target: { kind: ConfigMap, name: a }\n    patch: "kind: ConfigMap\\nmetadata: { name: a }\\ndata: { k: v }"\n');
  t.throws(() => kustomizeObjects(dir), /only "\$patch: delete"/);
  writeFileSync(join(dir, 'kustomization.yaml'), 'resources: [a.yaml]\nconfigMapGenerator:\n  - name: g\n    literals: [k=v]\n');
  t.throws(() => kustomizeObjects(dir), /configMapGenerator keys .*literals/);
  writeFileSync(join(dir, 'kustomization.yaml'), 'resources: [a.yaml]\nconfigMapGenerator:\n  - name: g\n    files: [k=a.yaml]\n');
  t.throws(() => kustomizeObjects(dir), /only plain file names/);
  writeFileSync(join(dir, 'kustomization.yaml'), 'resources: [a.yaml]\nconfigMapGenerator:\n  - name: g\n    files: [a.yaml]\n    options: { disableNameSuffixHash: true }\n');
  t.throws(() => kustomizeObjects(dir), /disableNameSuffixHash/);
  writeFileSync(join(dir, 'p.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n  template:\n    spec:\n      containers: [{ name: c, envFrom: [{ configMapRef: { name: g } }] }]\n');
  writeFileSync(join(dir, 'kustomization.yaml'), 'resources: [p.yaml]\nconfigMapGenerator:\n  - name: g\n    files: [a.yaml]\n');
  t.throws(() => kustomizeObjects(dir), /refers to g other than by a configMap volume/);
});

const RULES = join(DEPLOY, 'prometheus', 'warmpool-rules.yaml');
const RULE_TESTS = join(DEPLOY, 'prometheus', 'tests');

function alertRules(): Obj[] {
  const rules = parseYaml(readFileSync(RULES, 'utf8')) as Obj;
  return (rules.groups as Obj[]).flatMap((g) => g.rules as Obj[]).filter((r) => r.alert);
}

/** WarmpoolCircuitOpen → warmpool-circuit-open.test.yaml */
function ruleTestFile(alert: string): string {
  return join(RULE_TESTS, `${alert.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}.test.yaml`);
}

t.test('promtool accepts the alerting rules', async (t) => {
  const check = promtool(['check', 'rules', RULES]);
  t.equal(check.status, 0, check.stdout + check.stderr);
  t.match(check.stdout, /SUCCESS/);
});

t.test('every alert has its own promtool unit test, firing and not firing, and every rule test passes', async (t) => {
  const files = readdirSync(RULE_TESTS).filter((f) => f.endsWith('.test.yaml')).map((f) => join(RULE_TESTS, f));
  for (const a of alertRules()) {
    const file = ruleTestFile(a.alert as string);
    t.ok(files.includes(file), `${a.alert}: ${relative(ROOT, file)} exists`);
    if (!files.includes(file)) continue;
    const cases = ((parseYaml(readFileSync(file, 'utf8')) as Obj).tests as Obj[])
      .flatMap((x) => (x.alert_rule_test ?? []) as Obj[]).filter((c) => c.alertname === a.alert);
    t.ok(cases.some((c) => (c.exp_alerts as Obj[]).length > 0), `${a.alert}: a case where it fires`);
    t.ok(cases.some((c) => (c.exp_alerts as Obj[]).length === 0), `${a.alert}: a case where it does not (yet) fire`);
  }
  t.ok(files.some((f) => f.endsWith('recording-rules.test.yaml')), 'the recording rules have a test too');
  for (const file of files) {
    const unit = promtool(['test', 'rules', file]);
    t.equal(unit.status, 0, `${relative(ROOT, file)}: ${unit.stdout}${unit.stderr}`);
  }
});

t.test('a rule test that expects the wrong thing fails, so the tests above can fail', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warmpool-rules-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'wrong.test.yaml');
  const test = parseYaml(readFileSync(ruleTestFile('WarmpoolRpcErrorRate'), 'utf8')) as Obj;
  test.rule_files = [RULES];
  // The early case expects silence; claim the alert fires there instead.
  const cases = (test.tests as Obj[])[0]!.alert_rule_test as Obj[];
  cases[0]!.exp_alerts = cases[1]!.exp_alerts;
  writeFileSync(file, stringifyYaml(test));
  t.not(promtool(['test', 'rules', file]).status, 0);
});

t.test('every alert has summary, description and a runbook anchor in this repository\'s docs/operations.md', async (t) => {
  const alerts = alertRules();
  t.same(alerts.map((a) => a.alert).sort(), [
    'WarmpoolAcquireWaitHigh', 'WarmpoolBastionDown', 'WarmpoolCircuitOpen', 'WarmpoolDeadlineExceeded', 'WarmpoolInventoryReloadFailing', 'WarmpoolNotReady',
    'WarmpoolPoolSaturated', 'WarmpoolResourceExhausted', 'WarmpoolRpcErrorRate', 'WarmpoolSessionOpenFailures',
  ]);
  // The project's repository, as the chart declares it: one place to change.
  const home = (parseYaml(readFileSync(join(ROOT, 'helm', 'warmpool', 'Chart.yaml'), 'utf8')) as Obj).home as string;
  const base = `${home}/blob/main/docs/operations.md#`;
  const doc = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');
  const anchors = new Set([...doc.matchAll(/^#+ (.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')));
  for (const a of alerts) {
    t.match(a.annotations.summary, /\S/, `${a.alert} summary`);
    t.match(a.annotations.description, /\S{20}|\s.{40,}/, `${a.alert} description`);
    const url = a.annotations.runbook_url as string;
    t.ok(url.startsWith(base), `${a.alert}: runbook_url ${url} starts with ${base}`);
    const anchor = url.slice(base.length);
    t.equal(anchor, (a.alert as string).toLowerCase(), `${a.alert}: the anchor is the alert's own section`);
    t.ok(anchors.has(anchor), `${a.alert}: anchor #${anchor} is a heading in docs/operations.md`);
  }
});

t.test('every metric the dashboard and the rules query exists in a real scrape', async (t) => {
  const scrape = await fullScrape();
  const samples = parseExposition(scrape);
  const families = new Set(samples.map((s) => s.name.replace(/_(bucket|sum|count)$/, '')));
  const names = new Set(samples.map((s) => s.name));
  const dash = JSON.parse(readFileSync(join(DEPLOY, 'grafana', 'warmpool-dashboard.json'), 'utf8')) as Obj;
  const exprs: string[] = [];
  for (const p of dash.panels as Obj[]) for (const target of (p.targets ?? []) as Obj[]) exprs.push(target.expr);
  for (const v of dash.templating.list as Obj[]) if (v.type === 'query') exprs.push(v.query.query);
  const rulesText = readFileSync(join(DEPLOY, 'prometheus', 'warmpool-rules.yaml'), 'utf8');
  const queried = new Set<string>();
  for (const text of [...exprs, rulesText]) {
    // Skip recording-rule names (level:metric:ops); real metric names have no colon.
    for (const m of text.matchAll(/(?<![:\w])((?:warmpool|process|nodejs)_[a-z0-9_]+)(?![:\w])/g)) queried.add(m[1]!);
  }
  t.ok(queried.size >= 12, `the dashboard and rules query ${queried.size} metrics`);
  for (const name of queried) {
    t.ok(names.has(name) || families.has(name.replace(/_(bucket|sum|count)$/, '')), `${name} is exposed`);
  }
});

t.test('every dashboard query is valid PromQL (checked by promtool as recording rules)', async (t) => {
  const dash = JSON.parse(readFileSync(join(DEPLOY, 'grafana', 'warmpool-dashboard.json'), 'utf8')) as Obj;
  const exprs = (dash.panels as Obj[]).flatMap((p) => ((p.targets ?? []) as Obj[]).map((x) => x.expr as string));
  t.ok(exprs.length >= 15, `${exprs.length} queries`);
  // Grafana variables become what they expand to with "All" selected.
  const rules = exprs.map((e, i) => ({ record: `dashboard:query_${i}`, expr: e.replaceAll('$__rate_interval', '5m').replaceAll('$device', '.*').replaceAll('$job', '.*') }));
  const dir = mkdtempSync(join(tmpdir(), 'warmpool-dash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'dashboard-rules.yaml');
  writeFileSync(file, stringifyYaml({ groups: [{ name: 'dashboard', rules }] }));
  const r = promtool(['check', 'rules', file]);
  t.equal(r.status, 0, r.stdout + r.stderr);
  t.match(r.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
  // ... and promtool does reject a broken query, so the check above can fail.
  writeFileSync(file, stringifyYaml({ groups: [{ name: 'dashboard', rules: [{ record: 'x:y', expr: 'sum by (device (warmpool_sessions)' }] }] }));
  t.not(promtool(['check', 'rules', file]).status, 0);
});

t.test('dashboard: datasource and device variables, panels cover the operator questions', async (t) => {
  const dash = JSON.parse(readFileSync(join(DEPLOY, 'grafana', 'warmpool-dashboard.json'), 'utf8')) as Obj;
  const vars = dash.templating.list as Obj[];
  t.equal(vars.find((v) => v.name === 'datasource')?.type, 'datasource');
  t.equal(vars.find((v) => v.name === 'datasource')?.query, 'prometheus');
  t.equal(vars.find((v) => v.name === 'device')?.type, 'query');
  const panels = (dash.panels as Obj[]).filter((p) => p.type !== 'row');
  const ids = new Set<number>();
  for (const p of panels) {
    t.equal(p.datasource?.uid, '${datasource}', `${p.title}: uses the datasource variable`);
    t.notOk(ids.has(p.id), `${p.title}: unique id`);
    ids.add(p.id);
    for (const target of p.targets as Obj[]) t.equal(target.datasource?.uid, '${datasource}');
  }
  const all = JSON.stringify(dash.panels);
  for (const needle of [
    'state=\\"busy\\"', 'warmpool_pool_max_sessions', 'warmpool_pool_waiting', 'histogram_quantile(0.99, sum by (le, protocol) (rate(warmpool_acquire_wait_seconds_bucket',
    'histogram_quantile(0.5, sum by (le, protocol) (rate(warmpool_command_duration_seconds_bucket', 'warmpool_session_opens_total',
    'warmpool_circuit_open', 'warmpool_cache_requests_total', 'sum by (code) (rate(warmpool_rpc_requests_total', 'process_resident_memory_bytes',
    'process_cpu_seconds_total', 'device=~\\"$device\\"',
  ]) {
    t.ok(all.includes(needle), `a panel queries ${needle}`);
  }
  // Per-device latency and wait panels follow the $device picker.
  for (const metric of ['warmpool_device_command_duration_seconds_bucket', 'warmpool_device_acquire_wait_seconds_bucket']) {
    const perDevice = panels.filter((p) => (p.targets as Obj[]).some((x) => (x.expr as string).includes(metric)
      && (x.expr as string).includes('device=~"$device"') && /sum by \(le, device\b/.test(x.expr as string)));
    t.ok(perDevice.length >= 1, `a per-device panel (by device, filtered by $device) reads ${metric}`);
  }
  t.ok(all.includes('warmpool_circuit_state'), 'a panel shows the breaker state (open / half_open)');
  t.ok(all.includes('warmpool_grpc_server_handling_seconds_bucket'), 'a panel shows gRPC handling time');
});

t.test('yamllint passes on every YAML file under deploy/', async (t) => {
  const files = walk(DEPLOY, /\.ya?ml(\.example)?$/);
  const r = spawnSync('yamllint', ['-f', 'parsable', '-c', join(DEPLOY, '.yamllint'), ...files], { encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new Error(`yamllint could not be run (${r.error.message}); install it (apt-get install yamllint)`);
  t.equal(r.status, 0, r.stdout + r.stderr);
  t.equal(r.stdout.trim(), '', 'no warnings either');
});

t.test('Dockerfile: multi-stage, non-root, exec-form entrypoint of the built daemon', async (t) => {
  const lines = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const from = lines.filter((l) => /^FROM\s/i.test(l));
  t.ok(from.length >= 2, `${from.length} stages`);
  for (const f of from) t.match(f, /^FROM \$\{NODE_IMAGE\} AS [a-z-]+$/);
  t.match(lines.find((l) => l.startsWith('ARG NODE_IMAGE=')), /node:\d+-bookworm-slim@sha256:[0-9a-f]{64}$/, 'pinned by digest (Node major: test/dockerfile-node.test.ts)');
  const lastFrom = lines.lastIndexOf(from.at(-1)!);
  const runtime = lines.slice(lastFrom);
  const user = runtime.filter((l) => l.startsWith('USER ')).at(-1);
  t.ok(user, 'runtime stage sets USER');
  t.notMatch(user!, /^USER (root|0)(:|$)/, 'USER is not root');
  const entry = runtime.find((l) => l.startsWith('ENTRYPOINT '))!;
  const entryArgs = JSON.parse(entry.slice('ENTRYPOINT '.length)) as string[];
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  t.same(entryArgs, ['node', `/app/${pkg.bin.warmpool}`], 'exec form, node runs the package bin as PID 1');
  t.same(JSON.parse(runtime.find((l) => l.startsWith('CMD '))!.slice(4)), ['serve', '--config', '/etc/warmpool/warmpool.yaml']);
  t.ok(runtime.some((l) => /^EXPOSE 50051 9464$/.test(l)));
  t.ok(lines.some((l) => /npm ci --omit=dev/.test(l)), 'production dependencies only in the runtime image');
  t.ok(lines.some((l) => /npm run build/.test(l)));
  t.notOk(runtime.some((l) => /^RUN .*(apt-get|npm)/.test(l)), 'no package managers run in the runtime stage');
  const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
  for (const p of ['node_modules', 'dist', '.git', 'test']) t.ok(ignore.includes(p), `.dockerignore excludes ${p}`);
});

t.test('Envoy routes gRPC to the replicas with a consistent hash on x-warmpool-device', async (t) => {
  const envoy = parseYaml(readFileSync(join(DEPLOY, 'envoy', 'envoy.yaml'), 'utf8')) as Obj;
  const clusters = new Map((envoy.static_resources.clusters as Obj[]).map((c) => [c.name as string, c]));
  let routes = 0;
  for (const l of envoy.static_resources.listeners as Obj[]) {
    for (const fc of l.filter_chains as Obj[]) {
      for (const f of fc.filters as Obj[]) {
        for (const vh of f.typed_config.route_config.virtual_hosts as Obj[]) {
          for (const r of vh.routes as Obj[]) {
            routes++;
            const cluster = clusters.get(r.route.cluster);
            t.ok(cluster, `route targets existing cluster ${r.route.cluster}`);
            t.same(r.route.hash_policy.map((h: Obj) => h.header?.header_name), ['x-warmpool-device']);
            t.match(cluster?.lb_policy, /^(RING_HASH|MAGLEV)$/);
            t.ok(cluster?.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].explicit_http_config.http2_protocol_options, 'HTTP/2 upstream (gRPC)');
            t.match(JSON.stringify(cluster?.load_assignment), /warmpool-headless/, 'resolves every pod through the headless Service');
          }
        }
      }
    }
  }
  t.ok(routes >= 1);
  const dr = parseYaml(readFileSync(join(DEPLOY, 'envoy', 'istio-destinationrule.yaml'), 'utf8')) as Obj;
  t.equal(dr.spec.trafficPolicy.loadBalancer.consistentHash.httpHeaderName, 'x-warmpool-device');
});
