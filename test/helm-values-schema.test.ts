import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ROOT } from './kit/proc.js';

/**
 * helm/warmpool/values.schema.json (what `helm install/lint/template` check values against) and
 * the chart's NetworkPolicy and topology spread. Helm is not on this machine (test/helm.test.ts
 * says so), so the schema is checked with ajv (in node_modules through kubernetes-models) the way
 * Helm would apply it, and `helm lint` runs as well when Helm is on the PATH.
 */

const CHART = join(ROOT, 'helm', 'warmpool');
type Obj = Record<string, any>;
const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as Obj;
const values = parseYaml(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Obj;
const validate = new Ajv({ strict: true, strictRequired: false, allowUnionTypes: true, allErrors: true }).compile(schema);
const template = (f: string) => readFileSync(join(CHART, 'templates', f), 'utf8');

/** Helm validates the merged values: the chart defaults with the user's file over them. */
function merged(over: Obj): Obj {
  const merge = (a: Obj, b: Obj): Obj => {
    const out: Obj = { ...a };
    for (const [k, v] of Object.entries(b)) {
      out[k] = v !== null && typeof v === 'object' && !Array.isArray(v) && typeof a[k] === 'object' && a[k] !== null && !Array.isArray(a[k]) ? merge(a[k], v) : v;
    }
    return out;
  };
  return merge(values, over);
}

t.test('values.yaml and every example validate against values.schema.json', async (t) => {
  t.ok(validate(values), JSON.stringify(validate.errors));
  for (const f of readdirSync(join(CHART, 'examples'))) {
    const ex = parseYaml(readFileSync(join(CHART, 'examples', f), 'utf8')) as Obj;
    t.ok(validate(merged(ex)), `${f}: ${JSON.stringify(validate.errors)}`);
  }
});

t.test('every key in values.yaml is described by the schema (none left to additionalProperties)', async (t) => {
  const walk = (v: Obj, s: Obj, path: string): void => {
    for (const [k, child] of Object.entries(v)) {
      const sub = s.properties?.[k];
      t.ok(sub, `${path}${k} is in values.schema.json`);
      if (sub?.properties && child !== null && typeof child === 'object' && !Array.isArray(child)) walk(child, sub, `${path}${k}.`);
    }
  };
  walk(values, schema, '');
});

t.test('mistakes in values are refused with the path named', async (t) => {
  const cases: Array<[Obj, string]> = [
    [{ mode: 'daemonset' }, '/mode'],
    [{ replicaCount: 'two' }, '/replicaCount'],
    [{ grpc: { port: 70000 } }, '/grpc/port'],
    [{ networkPolicy: { enabeld: true } }, '/networkPolicy'],
    [{ topologySpread: { whenUnsatisfiable: 'Sometimes' } }, '/topologySpread/whenUnsatisfiable'],
    [{ topologySpread: { maxSkew: 0 } }, '/topologySpread/maxSkew'],
    [{ probes: { type: 'exec' } }, '/probes/type'],
    [{ inventory: { devices: [{ host: '192.0.2.1' }] } }, '/inventory/devices/0'],
    [{ replicas: 3 }, ''],
    [{ workload: { kind: 'DaemonSet' } }, '/workload/kind'],
    [{ workload: { kind: 'statefulset' } }, '/workload/kind'],
    [{ workload: { kind: ['StatefulSet'] } }, '/workload/kind'],
    [{ workload: { knd: 'StatefulSet' } }, '/workload'],
    [{ workload: 'StatefulSet' }, '/workload'],
    [{ networkPolicy: { balancerPodLabels: { 'warmpool-balancer': true } } }, '/networkPolicy/balancerPodLabels/warmpool-balancer'],
    [{ balancer: { enabeld: true } }, '/balancer'],
    [{ balancer: { enabled: 'yes' } }, '/balancer/enabled'],
    [{ balancer: { replicaCount: 0 } }, '/balancer/replicaCount'],
    [{ balancer: { image: { tag: '' } } }, '/balancer/image/tag'],
    [{ balancer: { image: { digest: 'sha256:0' } } }, '/balancer/image'],
    [{ balancer: { clusterDomain: '.cluster.local' } }, '/balancer/clusterDomain'],
    [{ balancer: { stickExpire: '6 minutes' } }, '/balancer/stickExpire'],
    [{ balancer: { check: { inter: 2 } } }, '/balancer/check/inter'],
    [{ balancer: { check: { fall: 'two' } } }, '/balancer/check/fall'],
    [{ balancer: { tls: { secret: 'x' } } }, '/balancer/tls'],
    [{ balancer: { clientTls: { existingSecret: ['x'] } } }, '/balancer/clientTls/existingSecret'],
  ];
  for (const [over, path] of cases) {
    t.notOk(validate(merged(over)), JSON.stringify(over));
    t.ok(validate.errors?.some((e) => e.instancePath === path), `${JSON.stringify(over)}: error at "${path}"`);
  }
});

t.test('the new workload and balancer keys are accepted with every value they may take', async (t) => {
  for (const over of [
    { workload: { kind: 'Deployment' } },
    { workload: { kind: 'StatefulSet' }, replicaCount: 3 },
    { workload: {} },
    { networkPolicy: { enabled: true, balancerPodLabels: { 'warmpool-balancer': 'true', 'app.kubernetes.io/name': 'haproxy' } } },
    {
      balancer: {
        enabled: true, replicaCount: 1, image: { repository: 'registry.example.com/haproxy', tag: '2.6.18@sha256:' + '0'.repeat(64), pullPolicy: 'Always' },
        clusterDomain: 'k8s.example', stickExpire: '610s', check: { inter: '500ms', fall: 3, rise: 1 },
        tls: { existingSecret: 'lb-tls', requireClientCert: false }, clientTls: { existingSecret: 'lb-client' }, resources: { limits: { memory: '128Mi' } },
      },
    },
  ]) {
    t.ok(validate(merged(over)), `${JSON.stringify(over)}: ${JSON.stringify(validate.errors)}`);
  }
  t.same(schema.properties.workload.properties.kind.enum, ['Deployment', 'StatefulSet'], 'exactly the two kinds');
  t.equal(schema.properties.workload.additionalProperties, false, 'no other key under workload');
  t.same(Object.keys(schema.properties.balancer.properties).sort(), Object.keys(values.balancer).sort(), 'the balancer keys of values.yaml, exactly');
  t.equal(schema.properties.balancer.additionalProperties, false, 'no other key under balancer');
});

t.test('NetworkPolicy template mirrors the kustomize one: gateway only, off by default, clients and scrapers', async (t) => {
  const np = template('networkpolicy.yaml');
  t.match(np, /^\{\{- if and \.Values\.networkPolicy\.enabled \(eq \.Values\.mode "gateway"\) \}\}/, 'rendered only when enabled, and never in sidecar mode');
  t.equal(values.networkPolicy.enabled, false);
  t.match(np, /port: \{\{ \.Values\.grpc\.port \}\}/);
  t.match(np, /port: \{\{ \.Values\.metrics\.port \}\}/);
  t.match(np, /include "warmpool\.selectorLabels"/, 'selects the chart\'s own pods');
  // The kustomize policy's selectors are what the chart's defaults produce.
  const kustomize = parseYaml(readFileSync(join(ROOT, 'deploy', 'kubernetes', 'gateway', 'networkpolicy.yaml'), 'utf8')) as Obj;
  const from = kustomize.spec.ingress[0].from as Obj[];
  t.same(values.networkPolicy.clientPodLabels, from[0]!.podSelector.matchLabels);
  t.same(values.networkPolicy.clientNamespaceLabels, from[1]!.namespaceSelector.matchLabels);
  t.same(values.networkPolicy.metricsNamespaceLabels, kustomize.spec.ingress[1].from[0].namespaceSelector.matchLabels);
  // What the template renders with the defaults (substituted by hand: no Helm here) is a valid NetworkPolicy.
  const rendered: Obj = {
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'warmpool' },
    spec: {
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'warmpool', 'app.kubernetes.io/instance': 'r' } },
      policyTypes: ['Ingress'],
      ingress: [
        { from: [{ podSelector: { matchLabels: values.networkPolicy.clientPodLabels } }, { namespaceSelector: { matchLabels: values.networkPolicy.clientNamespaceLabels } }], ports: [{ port: values.grpc.port, protocol: 'TCP' }] },
        { from: [{ namespaceSelector: { matchLabels: values.networkPolicy.metricsNamespaceLabels } }], ports: [{ port: values.metrics.port, protocol: 'TCP' }] },
      ],
    },
  };
  t.doesNotThrow(() => new NetworkPolicy(rendered).validate());
  // With balancerPodLabels (examples/haproxy-values.yaml) one more rule: the kustomize overlay's
  // warmpool-balancer policy, gRPC and the metrics port for HAProxy's /readyz checks.
  const ex = parseYaml(readFileSync(join(CHART, 'examples', 'haproxy-values.yaml'), 'utf8')) as Obj;
  const overlay = parseYaml(readFileSync(join(ROOT, 'deploy', 'kubernetes', 'gateway-statefulset', 'networkpolicy-balancer.yaml'), 'utf8')) as Obj;
  const balancerRule = { from: [{ podSelector: { matchLabels: ex.networkPolicy.balancerPodLabels } }], ports: [{ port: values.grpc.port, protocol: 'TCP' }, { port: values.metrics.port, protocol: 'TCP' }] };
  t.same(balancerRule, overlay.spec.ingress[0], 'the chart\'s balancer rule is the overlay\'s');
  rendered.spec.ingress.push(balancerRule);
  t.doesNotThrow(() => new NetworkPolicy(rendered).validate());
  t.match(np, /\{\{- with \.Values\.networkPolicy\.balancerPodLabels \}\}\n.*\n {4}- from:\n {8}- podSelector:\n {12}matchLabels:\n {14}\{\{- toYaml \. \| nindent 14 \}\}\n {6}ports:\n {8}- port: \{\{ \$\.Values\.grpc\.port \}\}\n {10}protocol: TCP\n {8}- port: \{\{ \$\.Values\.metrics\.port \}\}\n {10}protocol: TCP\n {4}\{\{- end \}\}/,
    'the template renders that rule from balancerPodLabels');
});

t.test('topology spread: on by default like the kustomize gateway, with the pod\'s own selector', async (t) => {
  // The pod template both workload kinds include (templates/_helpers.tpl, warmpool.podTemplate).
  const d = template('_helpers.tpl').slice(template('_helpers.tpl').indexOf('{{- define "warmpool.podTemplate" -}}'));
  t.match(d, /topologySpreadConstraints:\n\s+\{\{- if \.Values\.topologySpread\.enabled \}\}\n\s+- maxSkew: \{\{ \.Values\.topologySpread\.maxSkew \}\}/);
  t.match(d, /labelSelector:\n\s+matchLabels:\n\s+\{\{- include "warmpool\.selectorLabels" \. \| nindent 10 \}\}/);
  for (const f of ['deployment.yaml', 'statefulset.yaml']) t.match(template(f), /include "warmpool\.podTemplate"/, `${f} uses that pod template`);
  const kustomize = parseYaml(readFileSync(join(ROOT, 'deploy', 'kubernetes', 'gateway', 'deployment.yaml'), 'utf8')) as Obj;
  const c = kustomize.spec.template.spec.topologySpreadConstraints[0];
  t.equal(values.topologySpread.enabled, true);
  t.equal(values.topologySpread.maxSkew, c.maxSkew);
  t.equal(values.topologySpread.topologyKey, c.topologyKey);
  t.equal(values.topologySpread.whenUnsatisfiable, c.whenUnsatisfiable);
});

t.test('helm lint accepts the chart and every example (where Helm is installed)', async (t) => {
  const probe = spawnSync('helm', ['version', '--short'], { encoding: 'utf8', timeout: 10_000 });
  if (probe.error) {
    // Helm is not installed here (nor in CI today): the schema checks above stand in for it.
    t.comment('helm not on PATH: helm lint not run');
    t.ok(true, 'values.schema.json checked with ajv above');
    return;
  }
  for (const args of [[], ...readdirSync(join(CHART, 'examples')).map((f) => ['-f', join(CHART, 'examples', f)])]) {
    const r = spawnSync('helm', ['lint', '--strict', CHART, ...args], { encoding: 'utf8', timeout: 60_000 });
    t.equal(r.status, 0, r.stdout + r.stderr);
  }
});
