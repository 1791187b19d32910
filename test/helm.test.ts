/**
 * Helm is not installed where this chart was written (no registry here has it). Two kinds of checks:
 * - static: YAML lint of the plain YAML files, every .Values reference resolves in values.yaml,
 *   template blocks balance, includes name defined templates, example values only use known keys,
 *   and for the workload kinds a union-of-branches skeleton (a key absent from it never renders);
 * - rendered by test/kit/helm-lite.ts, a subset of Helm's template engine that throws on anything
 *   outside it: both workload kinds and the examples, the manifests validated against the
 *   Kubernetes schemas. That is not Helm (toYaml formatting, no lookup/tpl); `helm lint` and
 *   `helm template` still belong in a pipeline that has Helm.
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ChartFailure, coalesce, renderChart, type Rendered } from './kit/helm-lite.js';

const CHART = join(import.meta.dirname, '..', 'helm', 'warmpool');
type Obj = Record<string, any>;

const values = parseYaml(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Obj;
const templates = readdirSync(join(CHART, 'templates')).map((f) => ({ f, text: readFileSync(join(CHART, 'templates', f), 'utf8') }));

/** Values subtrees whose children are free-form (passed through toYaml), so any key below them is fine. */
const FREE_FORM = new Set(['config', 'inventory.devices', 'app.containers', 'app.volumes', 'podAnnotations', 'podLabels',
  'nodeSelector', 'tolerations', 'affinity', 'resources', 'podSecurityContext', 'securityContext', 'probes.startup',
  'probes.readiness', 'probes.liveness', 'serviceMonitor.labels', 'podMonitor.labels', 'service.annotations',
  'serviceAccount.annotations', 'imagePullSecrets']);

function hasPath(root: Obj, path: string): boolean {
  let cur: unknown = root;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !(seg in (cur as Obj))) return false;
    cur = (cur as Obj)[seg];
  }
  return true;
}

const text = (f: string): string => {
  const hit = templates.find((x) => x.f === f);
  if (!hit) throw new Error(`templates/${f} is missing`);
  return hit.text;
};

/** The body of a `define` in _helpers.tpl, up to its own `end` (nested blocks counted). */
function defineBody(name: string): string {
  const helpers = text('_helpers.tpl');
  const start = helpers.indexOf(`{{- define "${name}" -}}`);
  if (start < 0) throw new Error(`no define "${name}"`);
  let depth = 0;
  for (const m of helpers.slice(start).matchAll(/\{\{-?\s*(if|with|range|define|end)\b[^}]*\}\}/g)) {
    depth += m[1] === 'end' ? -1 : 1;
    if (depth === 0) return helpers.slice(start, start + m.index! + m[0].length);
  }
  throw new Error(`define "${name}" has no end`);
}

/**
 * The YAML a template can produce, every branch at once: lines that hold only an action
 * (if/else/end/include ... nindent) are dropped, other actions become the scalar TPL. A key absent
 * from this skeleton is never rendered, whatever the values (a sound "not rendered" check); a key
 * present may still sit in a branch Helm does not take, and nothing here runs Helm's functions.
 */
function skeleton(tpl: string): Obj {
  const lines = tpl.replace(/\{\{-?\s*\/\*[\s\S]*?\*\/\s*-?\}\}/g, '').split('\n')
    .filter((l) => !/^\s*(\{\{[^}]*\}\}\s*)+$/.test(l))
    .map((l) => l.replace(/\{\{[^}]*\}\}/g, 'TPL'));
  return parseYaml(lines.join('\n'), { uniqueKeys: false }) as Obj;
}

t.test('yamllint passes on Chart.yaml, values.yaml and the examples', async (t) => {
  const files = ['Chart.yaml', 'values.yaml', ...readdirSync(join(CHART, 'examples')).map((f) => join('examples', f))];
  const r = spawnSync('yamllint', ['-f', 'parsable', '-c', '.yamllint', ...files], { cwd: CHART, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new Error(`yamllint could not be run (${r.error.message}); install it (apt-get install yamllint)`);
  t.equal(r.status, 0, r.stdout + r.stderr);
  t.equal(r.stdout.trim(), '', 'no warnings either');
});

t.test('yamllint really flags a broken file (the lint step can fail)', async (t) => {
  const r = spawnSync('yamllint', ['-c', join(CHART, '.yamllint'), '-'], { input: 'a: 1\na: 2\n', encoding: 'utf8', timeout: 30_000 });
  t.not(r.status, 0);
});

t.test('Chart.yaml is a v2 application chart at the package version', async (t) => {
  const chart = parseYaml(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as Obj;
  const pkg = JSON.parse(readFileSync(join(CHART, '..', '..', 'package.json'), 'utf8')) as { version: string };
  t.equal(chart.apiVersion, 'v2');
  t.equal(chart.name, 'warmpool');
  t.equal(chart.type, 'application');
  t.equal(chart.appVersion, pkg.version);
  t.match(chart.version, /^\d+\.\d+\.\d+/);
});

t.test('every .Values reference in the templates exists in values.yaml', async (t) => {
  let refs = 0;
  for (const { f, text } of templates) {
    for (const m of text.matchAll(/\.Values\.([A-Za-z0-9_.]+)/g)) {
      const path = m[1]!.replace(/\.$/, '');
      refs++;
      t.ok(hasPath(values, path), `${f}: .Values.${path}`);
    }
  }
  t.ok(refs > 40, `${refs} references checked`);
});

t.test('template actions balance and includes name defined templates', async (t) => {
  const defined = new Set<string>();
  for (const { text } of templates) for (const m of text.matchAll(/\{\{-?\s*define\s+"([^"]+)"/g)) defined.add(m[1]!);
  for (const { f, text } of templates) {
    const opens = [...text.matchAll(/\{\{-?\s*(if|with|range|define)\b/g)].length;
    const ends = [...text.matchAll(/\{\{-?\s*end\s*-?\}\}/g)].length;
    t.equal(opens, ends, `${f}: ${opens} blocks opened, ${ends} closed`);
    t.equal([...text.matchAll(/\{\{/g)].length, [...text.matchAll(/\}\}/g)].length, `${f}: delimiters pair up`);
    for (const m of text.matchAll(/include\s+"([^"]+)"/g)) t.ok(defined.has(m[1]!), `${f}: include "${m[1]}" is defined`);
  }
  for (const name of ['deployment.yaml', 'statefulset.yaml', 'service.yaml', 'configmap.yaml', 'pdb.yaml', 'servicemonitor.yaml', 'podmonitor.yaml', 'serviceaccount.yaml', '_helpers.tpl', 'NOTES.txt']) {
    t.ok(templates.some((x) => x.f === name), `templates/${name} exists`);
  }
});

t.test('sidecar shape: native sidecar with a startup probe, pod-local gRPC', async (t) => {
  const helpers = templates.find((x) => x.f === '_helpers.tpl')!.text;
  t.match(helpers, /\{\{- if eq \.Values\.mode "sidecar" \}\}\n\s+restartPolicy: Always/);
  t.match(helpers, /startupProbe:/);
  t.match(helpers, /ternary "127\.0\.0\.1" "0\.0\.0\.0" \$sidecar/);
  t.match(defineBody('warmpool.podTemplate'), /initContainers:\n\s+\{\{- include "warmpool\.container" \. \| nindent 4 \}\}/);
  t.match(helpers, /fail "gateway mode listens on 0\.0\.0\.0/, 'gateway without auth refuses to render');
});

t.test('secure defaults in values.yaml', async (t) => {
  t.equal(values.mode, 'gateway');
  t.equal(values.auth.tls.enabled, true);
  t.equal(values.securityContext.readOnlyRootFilesystem, true);
  t.equal(values.securityContext.runAsNonRoot, true);
  t.equal(values.securityContext.allowPrivilegeEscalation, false);
  t.same(values.securityContext.capabilities.drop, ['ALL']);
  t.not(values.podSecurityContext.runAsUser, 0);
  t.equal(values.probes.type, 'httpGet');
  t.ok(values.terminationGracePeriodSeconds * 1000 > values.config.shutdown.graceMs);
});

t.test('examples/sidecar-values.yaml only sets keys the chart knows', async (t) => {
  const ex = parseYaml(readFileSync(join(CHART, 'examples', 'sidecar-values.yaml'), 'utf8')) as Obj;
  t.equal(ex.mode, 'sidecar');
  t.ok(ex.app.containers.length >= 1);
  const check = (o: Obj, prefix: string): void => {
    for (const [k, v] of Object.entries(o)) {
      const path = `${prefix}${k}`;
      t.ok(hasPath(values, path), `${path} exists in values.yaml`);
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && !FREE_FORM.has(path)) check(v, `${path}.`);
    }
  };
  check(ex, '');
});

t.test('workload.kind: values, schema and templates agree on the two kinds, Deployment by default', async (t) => {
  t.equal(values.workload.kind, 'Deployment', 'existing installs keep their Deployment');
  const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as Obj;
  const kinds = schema.properties.workload.properties.kind.enum as string[];
  t.same(kinds, ['Deployment', 'StatefulSet']);
  const kindHelper = defineBody('warmpool.workloadKind');
  t.match(kindHelper, /has \$kind \(list "Deployment" "StatefulSet"\)/, 'the helper accepts exactly the schema\'s kinds');
  t.match(kindHelper, /fail \(printf "workload\.kind must be Deployment or StatefulSet/);
  t.match(kindHelper, /if and \(eq \$kind "StatefulSet"\) \(eq \.Values\.mode "sidecar"\) \}\}\n\{\{- fail "workload\.kind: StatefulSet is for mode: gateway/,
    'a sidecar StatefulSet refuses to render (sidecar users keep their Deployment)');
  // Each workload template is one block guarded by the checked kind, so exactly one renders.
  for (const [f, kind] of [['deployment.yaml', 'Deployment'], ['statefulset.yaml', 'StatefulSet']] as const) {
    const body = text(f);
    t.ok(body.startsWith(`{{- if eq (include "warmpool.workloadKind" .) "${kind}" }}\n`), `${f}: rendered only for ${kind}`);
    t.ok(body.trimEnd().endsWith('{{- end }}'), `${f}: the guard closes at the end of the file`);
    const opens = [...body.matchAll(/\{\{-?\s*(if|with|range)\b/g)].map((m) => m.index!);
    const ends = [...body.matchAll(/\{\{-?\s*end\s*-?\}\}/g)].map((m) => m.index!);
    // The guard's `end` is the last one; every other block closes before it.
    t.equal(ends.at(-1), body.trimEnd().length - '{{- end }}'.length, `${f}: the outer guard spans the file`);
    t.equal(opens.length, ends.length);
    t.equal(skeleton(body).kind, kind, `${f}: kind ${kind}`);
    t.match(body, /\n {2}template:\n {4}\{\{- include "warmpool\.podTemplate" \. \| nindent 4 \}\}\n/, `${f}: the shared pod template`);
  }
});

t.test('StatefulSet: serviceName is the headless Service, which always renders with that kind', async (t) => {
  const sts = text('statefulset.yaml');
  const svc = text('service.yaml');
  t.match(sts, /\n {2}serviceName: \{\{ include "warmpool\.headlessName" \. \}\}\n/);
  const docs = svc.split(/^---$/m);
  t.equal(docs.length, 2, 'service.yaml: the main and the headless Service');
  const headless = docs[1]!;
  t.match(svc, /\{\{- if and \(eq \.Values\.mode "gateway"\) \(or \.Values\.service\.headless \(eq \.Values\.workload\.kind "StatefulSet"\)\) \}\}\n---/,
    'rendered for every gateway StatefulSet, even with service.headless: false');
  t.match(headless, /\n {2}name: \{\{ include "warmpool\.headlessName" \. \}\}\n/, 'named by the same template as serviceName');
  t.match(defineBody('warmpool.headlessName'), /printf "%s-headless" \(include "warmpool\.fullname" \. \| trunc 54 \| trimSuffix "-"\)/,
    '<fullname>-headless, kept within the 63 characters of a Service name');
  const h = skeleton(headless);
  t.equal(h.kind, 'Service');
  t.equal(h.spec.clusterIP, 'None');
  t.equal(h.spec.publishNotReadyAddresses, false, 'only ready pods get DNS records');
  t.same((h.spec.ports as Obj[]).map((p) => [p.name, p.targetPort]), [['grpc', 'grpc'], ['metrics', 'metrics']]);
  t.match(headless, /selector:\n\s+\{\{- include "warmpool\.selectorLabels" \. \| nindent 4 \}\}/, 'selects the workload\'s pods');
  t.match(sts, /selector:\n\s+matchLabels:\n\s+\{\{- include "warmpool\.selectorLabels" \. \| nindent 6 \}\}/);
  t.match(defineBody('warmpool.podTemplate'), / -\}\}\nmetadata:\n {2}labels:\n {4}\{\{- include "warmpool\.selectorLabels" \. \| nindent 4 \}\}/,
    'the pods carry the selector labels');
  // Pod names <fullname>-N: the StatefulSet is named by fullname, and the name is bounded for its revision label.
  t.match(sts, /\nmetadata:\n {2}name: \{\{ include "warmpool\.fullname" \. \}\}\n/);
  t.match(sts, /if gt \(len \(include "warmpool\.fullname" \.\)\) 52 \}\}\n\{\{- fail /);
});

t.test('Deployment-only keys are never rendered for a StatefulSet, nor StatefulSet keys for a Deployment', async (t) => {
  const sts = skeleton(text('statefulset.yaml'));
  const dep = skeleton(text('deployment.yaml'));
  t.notOk('strategy' in sts.spec, 'statefulset.yaml has no strategy in any branch');
  t.equal(sts.spec.podManagementPolicy, 'Parallel');
  t.same(sts.spec.updateStrategy, { type: 'RollingUpdate' });
  t.same(Object.keys(sts.spec).sort(), ['podManagementPolicy', 'replicas', 'selector', 'serviceName', 'template', 'updateStrategy']);
  for (const k of ['serviceName', 'podManagementPolicy', 'updateStrategy']) t.notOk(k in dep.spec, `deployment.yaml has no ${k}`);
  t.same(Object.keys(dep.spec).sort(), ['replicas', 'selector', 'strategy', 'template']);
  t.same(dep.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
  // The pod spec lives in the helper only, so probes, volumes and spread cannot differ between kinds.
  for (const f of ['deployment.yaml', 'statefulset.yaml']) {
    t.notMatch(text(f), /containers:|volumes:|Probe:|topologySpreadConstraints:/, `${f} has no pod spec of its own`);
  }
  const pod = skeleton(defineBody('warmpool.podTemplate').replace(/^.*define.*$/m, '').replace(/\{\{- end \}\}\s*$/, ''));
  for (const k of ['containers', 'initContainers', 'volumes', 'topologySpreadConstraints', 'securityContext', 'serviceAccountName']) {
    t.ok(k in pod.spec, `pod template: spec.${k}`);
  }
  t.match(defineBody('warmpool.container'), /startupProbe:[\s\S]*readinessProbe:[\s\S]*livenessProbe:/, 'the shared container has the three probes');
});

t.test('PDB, NetworkPolicy, topology spread and monitors select pods by the shared selector labels, whatever the kind', async (t) => {
  for (const f of ['pdb.yaml', 'networkpolicy.yaml', 'servicemonitor.yaml', 'podmonitor.yaml']) {
    t.match(text(f), /matchLabels:\n\s+\{\{- include "warmpool\.selectorLabels" \. \| nindent 6 \}\}/, `${f}: selects by warmpool.selectorLabels`);
    t.notMatch(text(f), /workload\.kind|Deployment|StatefulSet/, `${f}: does not depend on the kind`);
  }
  t.match(defineBody('warmpool.podTemplate'), /labelSelector:\n\s+matchLabels:\n\s+\{\{- include "warmpool\.selectorLabels" \. \| nindent 10 \}\}/);
  // The ServiceMonitor skips the headless Service (same pods, same metrics port) so no pod is scraped twice.
  const label = /\n {4}(warmpool\/service): (headless)\n/.exec(text('service.yaml').split(/^---$/m)[1]!);
  t.ok(label, 'the headless Service carries warmpool/service: headless');
  t.notMatch(text('service.yaml').split(/^---$/m)[0]!, /warmpool\/service/, 'the main Service does not');
  const sm = skeleton(text('servicemonitor.yaml'));
  t.same(sm.spec.selector.matchExpressions, [{ key: label?.[1], operator: 'NotIn', values: [label?.[2]] }]);
});

t.test('NOTES print the StatefulSet replicas as haproxy.cfg addresses', async (t) => {
  const notes = text('NOTES.txt');
  t.match(notes, /\{\{- range \$i, \$_ := until \(int \.Values\.replicaCount\) \}\}\n {2}WARMPOOL_REPLICA_\{\{ \$i \}\}=\{\{ include "warmpool\.fullname" \$ \}\}-\{\{ \$i \}\}\.\{\{ include "warmpool\.headlessName" \$ \}\}\.\{\{ \$\.Release\.Namespace \}\}\.svc\.\{\{ \$\.Values\.balancer\.clusterDomain \}\}:\{\{ \$\.Values\.grpc\.port \}\}\n/);
  const cfg = readFileSync(join(CHART, '..', '..', 'deploy', 'haproxy', 'haproxy.cfg'), 'utf8');
  t.match(cfg, /presetenv WARMPOOL_REPLICA_0 /, 'the variable the NOTES name is haproxy.cfg\'s');
  t.match(cfg, /presetenv WARMPOOL_HEALTH_PORT /);
  t.match(notes, /port-forward \{\{ lower \.Values\.workload\.kind \}\}\//, 'port-forward names the kind that runs');
});

t.test('examples/haproxy-values.yaml: a StatefulSet named as haproxy.cfg expects, reachable by the balancer', async (t) => {
  const ex = parseYaml(readFileSync(join(CHART, 'examples', 'haproxy-values.yaml'), 'utf8')) as Obj;
  t.equal(ex.mode, 'gateway');
  t.equal(ex.workload.kind, 'StatefulSet');
  const cfg = readFileSync(join(CHART, '..', '..', 'deploy', 'haproxy', 'haproxy.cfg'), 'utf8');
  const servers = [...cfg.matchAll(/^\s*server\s+\S+\s+"\$\{(WARMPOOL_REPLICA_\d+)\}"/gm)].map((m) => m[1]!);
  t.equal(ex.replicaCount, servers.length, 'one replica per server line');
  // fullnameOverride fixes <fullname>; the headless name template appends -headless.
  for (const [i, env] of servers.entries()) {
    const dflt = new RegExp(`presetenv ${env}\\s+(\\S+)`).exec(cfg)?.[1];
    t.equal(dflt, `${ex.fullnameOverride}-${i}.${ex.fullnameOverride}-headless:${values.grpc.port}`, `${env} default is pod ${i}`);
  }
  t.notMatch(cfg, /^\s*server .* ssl\b/m, 'haproxy.cfg speaks h2c to the replicas ...');
  t.equal(ex.auth.tls.enabled, false, '... so the example has no TLS on the replicas');
  t.equal(ex.auth.tokens.enabled, true, 'and callers still authenticate (tokens pass through HAProxy)');
  t.equal(ex.config.inventory.readOnly, true, 'the inventory file is the one source of devices');
  t.equal(ex.config.defaults.pool.min, 0, 'no replicas x min logins per device');
  t.ok(ex.networkPolicy.enabled && Object.keys(ex.networkPolicy.balancerPodLabels).length > 0, 'the balancer is let through the policy');
  const np = text('networkpolicy.yaml');
  t.match(np, /\{\{- with \.Values\.networkPolicy\.balancerPodLabels \}\}[\s\S]*- port: \{\{ \$\.Values\.grpc\.port \}\}[\s\S]*- port: \{\{ \$\.Values\.metrics\.port \}\}[\s\S]*?\{\{- end \}\}/,
    'balancer pods reach gRPC and the metrics port (/readyz)');
  t.same(values.networkPolicy.balancerPodLabels, {}, 'no balancer rule unless asked');
});

// ---- Rendered with test/kit/helm-lite.ts (a subset of Helm's template engine; see its header) ----

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment, 'apps/v1/StatefulSet': StatefulSet, 'v1/Service': Service, 'v1/ConfigMap': ConfigMap,
  'v1/ServiceAccount': ServiceAccount, 'policy/v1/PodDisruptionBudget': PodDisruptionBudget, 'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};
/** Everything the gateway can switch on, so every optional template renders too. */
const ALL_ON: Obj = {
  secrets: { existingSecret: 'creds' }, auth: { tokens: { enabled: true, existingSecret: 'tokens' } },
  networkPolicy: { enabled: true, balancerPodLabels: { 'warmpool-balancer': 'true' } }, serviceMonitor: { enabled: true },
};
const byKind = (r: Rendered, kind: string): Obj[] => r.manifests.filter((m) => m.kind === kind);
const one = (r: Rendered, kind: string): Obj => {
  const all = byKind(r, kind);
  if (all.length !== 1) throw new Error(`${all.length} ${kind} rendered`);
  return all[0]!;
};
const selects = (sel: Obj, labels: Obj): boolean => Object.entries(sel).every(([k, v]) => labels?.[k] === v);
const failure = (values: Obj, opts: { release?: string } = {}): string => {
  try {
    renderChart(CHART, { ...opts, values });
  } catch (e) {
    if (e instanceof ChartFailure) return e.message;
    throw e;
  }
  return '(rendered)';
};

t.test('the renderer follows Go template and Sprig semantics on the constructs the chart uses, and refuses others', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'helm-lite-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'templates'));
  writeFileSync(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: c\nversion: 1.0.0\nappVersion: "2"\n');
  writeFileSync(join(dir, 'values.yaml'), 'a: { b: "" , n: 3 }\nl: []\nm: { x: 1 }\n');
  const tpl = (text: string, values: Obj = {}): string => {
    writeFileSync(join(dir, 'templates', 'x.yaml'), text);
    return renderChart(dir, { values }).files.get('x.yaml')!;
  };
  t.equal(tpl('a\n  {{- if true }}\nb{{ end -}}\n  c'), 'a\nbc', 'trim markers eat whitespace and newlines on their side only');
  t.equal(tpl('{{ with .Values.l }}x{{ else }}empty{{ end }}|{{ with .Values.m }}{{ .x }}{{ end }}'), 'empty|1', 'with: empty list is false, dot moves');
  t.equal(tpl('{{ range $i, $v := until 3 }}{{ $i }}{{ end }}|{{ range .Values.l }}x{{ else }}none{{ end }}'), '012|none');
  t.equal(tpl('{{- define "d" -}}\nk: {{ .v }}\n{{- end }}x:{{- include "d" (dict "v" 1) | nindent 2 }}'), 'x:\n  k: 1', 'include with dict, nindent');
  t.equal(tpl('{{ $m := mergeOverwrite (dict "k" "keep" "j" 1) (dict "k" "" "j" 2) }}{{ $m.k }}{{ $m.j }}'), 'keep2', 'mergeOverwrite: an empty value never overwrites (mergo)');
  t.equal(tpl('{{ .Values.a.b | default "d" }} {{ printf "%s-%d" "x" 7 | trunc 3 }} {{ ternary 1 2 false }} {{ dig "a" "z" "no" .Values }}'), 'd x-7 2 no');
  t.equal(tpl('{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}'), '2', 'assignment reaches the outer variable');
  t.equal(tpl('{{ and 1 0 }} {{ or 0 "" "y" }} {{ eq "a" "b" "a" }} {{ not .Values.l }}'), '0 y true true');
  t.throws(() => tpl('{{ tpl "x" . }}'), /tpl is outside the subset/);
  t.throws(() => tpl('{{ template "x" . }}'), /outside the subset/);
  t.throws(() => tpl('{{ fail "no" }}'), { name: 'ChartFailure', message: 'no' });
  t.throws(() => tpl('{{ .Values.m }}'), /printing a map/);
  writeFileSync(join(dir, 'f.txt'), 'line 1\nline 2\n');
  t.equal(tpl('k: |\n  {{- .Files.Get "f.txt" | nindent 2 }}'), 'k: |\n  line 1\n  line 2\n  ', '.Files.Get reads a chart file');
  t.throws(() => tpl('{{ .Files.Get "nope.txt" }}'), /ENOENT/, 'a missing file throws (Helm would render "")');
  t.throws(() => tpl('{{ .Files.Get "../Chart.yaml" }}'), /not a chart file/);
});

t.test('rendered: default values give a Deployment and no StatefulSet, every object valid for Kubernetes', async (t) => {
  for (const values of [{}, ALL_ON]) {
    const r = renderChart(CHART, { values });
    t.equal(byKind(r, 'StatefulSet').length, 0);
    const d = one(r, 'Deployment');
    t.same(d.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    for (const k of ['serviceName', 'podManagementPolicy', 'updateStrategy']) t.notOk(k in d.spec, `no ${k}`);
    for (const m of r.manifests) {
      const Model = MODELS[`${m.apiVersion}/${m.kind}`];
      if (Model) t.doesNotThrow(() => new Model(m).validate(), `${m.kind}/${m.metadata.name} is valid`);
      else t.equal(m.apiVersion, 'monitoring.coreos.com/v1', `${m.kind} is a prometheus-operator object`);
    }
  }
});

t.test('rendered: workload.kind StatefulSet, serviceName is the rendered headless Service, same pods as the Deployment', async (t) => {
  for (const [values, release] of [[{}, 'warmpool'], [ALL_ON, 'netops'], [{ service: { headless: false } }, 'x']] as const) {
    const dep = renderChart(CHART, { release, values });
    const r = renderChart(CHART, { release, values: coalesce(values, { workload: { kind: 'StatefulSet' } }) });
    t.equal(byKind(r, 'Deployment').length, 0, 'no Deployment beside it');
    const sts = one(r, 'StatefulSet');
    t.doesNotThrow(() => new StatefulSet(sts).validate());
    const fullname = release.includes('warmpool') ? release : `${release}-warmpool`;
    t.equal(sts.metadata.name, fullname, 'pods are <fullname>-N');
    const headless = byKind(r, 'Service').find((s) => s.metadata.name === sts.spec.serviceName);
    t.ok(headless, `serviceName ${sts.spec.serviceName} is rendered (service.headless: ${(values as Obj).service?.headless ?? true})`);
    t.equal(headless?.spec.clusterIP, 'None');
    t.equal(headless?.spec.publishNotReadyAddresses, false);
    t.same((headless?.spec.ports as Obj[]).map((p) => p.name), ['grpc', 'metrics']);
    t.equal(sts.spec.podManagementPolicy, 'Parallel');
    t.same(sts.spec.updateStrategy, { type: 'RollingUpdate' });
    t.notOk('strategy' in sts.spec, 'no Deployment strategy');
    const podLabels = sts.spec.template.metadata.labels as Obj;
    t.ok(selects(headless?.spec.selector, podLabels), 'the headless Service selects the pods');
    t.ok(selects(sts.spec.selector.matchLabels, podLabels));
    const d = one(dep, 'Deployment');
    t.same(sts.spec.template, d.spec.template, 'pod template identical to the Deployment\'s (probes, volumes, spread)');
    t.same(sts.spec.selector, d.spec.selector);
    const others = (x: Rendered) => x.manifests.filter((m) => !['Deployment', 'StatefulSet', 'Service'].includes(m.kind));
    t.same(others(r), others(dep), 'PDB, NetworkPolicy, monitors, ConfigMaps do not change with the kind');
    for (const m of r.manifests) {
      const sel = m.kind === 'PodDisruptionBudget' || m.kind === 'PodMonitor' ? m.spec.selector.matchLabels : m.kind === 'NetworkPolicy' ? m.spec.podSelector.matchLabels : undefined;
      if (sel) t.ok(selects(sel, podLabels), `${m.kind} selects the StatefulSet's pods`);
    }
  }
});

t.test('rendered: the ServiceMonitor picks the main Service and skips the headless one', async (t) => {
  const r = renderChart(CHART, { values: { workload: { kind: 'StatefulSet' }, serviceMonitor: { enabled: true } } });
  const sm = one(r, 'ServiceMonitor');
  const picked = byKind(r, 'Service').filter((s) => selects(sm.spec.selector.matchLabels, s.metadata.labels)
    && (sm.spec.selector.matchExpressions as Obj[]).every((e) => e.operator === 'NotIn' && !(e.values as string[]).includes(s.metadata.labels[e.key])));
  t.same(picked.map((s) => s.metadata.name), ['warmpool'], 'each pod is scraped once');
});

t.test('rendered: what refuses to render, with the reason', async (t) => {
  t.match(failure({ mode: 'sidecar', workload: { kind: 'StatefulSet' }, app: { containers: [{ name: 'a', image: 'a' }] } }), /StatefulSet is for mode: gateway/);
  t.match(failure({ workload: { kind: 'DaemonSet' } }), /workload\.kind must be Deployment or StatefulSet, not DaemonSet/);
  t.match(failure({ workload: { kind: 'StatefulSet' }, fullnameOverride: 'w'.repeat(53) }), /at most 52 characters/);
  t.equal(failure({ workload: { kind: 'StatefulSet' }, fullnameOverride: 'w'.repeat(52) }), '(rendered)');
  t.equal(failure({ workload: { kind: 'Deployment' }, fullnameOverride: 'w'.repeat(60) }), '(rendered)', 'the bound is the StatefulSet\'s only');
});

t.test('rendered: examples/haproxy-values.yaml gives haproxy.cfg\'s default replicas, and the NOTES print them', async (t) => {
  const ex = parseYaml(readFileSync(join(CHART, 'examples', 'haproxy-values.yaml'), 'utf8')) as Obj;
  const r = renderChart(CHART, { release: 'anything', namespace: 'netops', values: ex });
  const sts = one(r, 'StatefulSet');
  const grpc = (sts.spec.template.spec.containers[0].ports as Obj[]).find((p) => p.name === 'grpc')!.containerPort as number;
  const cfg = readFileSync(join(CHART, '..', '..', 'deploy', 'haproxy', 'haproxy.cfg'), 'utf8');
  const defaults = [...cfg.matchAll(/^\s*presetenv\s+WARMPOOL_REPLICA_(\d+)\s+(\S+)/gm)].map((m) => [Number(m[1]), m[2]] as const);
  t.equal(defaults.length, sts.spec.replicas);
  for (const [i, addr] of defaults) t.equal(addr, `${sts.metadata.name}-${i}.${sts.spec.serviceName}:${grpc}`, `WARMPOOL_REPLICA_${i} is pod ${i}`);
  const printed = [...r.notes.matchAll(/^\s+WARMPOOL_REPLICA_(\d+)=(\S+)$/gm)].map((m) => [Number(m[1]), m[2]] as const);
  t.same(printed, defaults.map(([i, a]) => [i, a.replace(':', '.netops.svc.cluster.local:')]), 'NOTES: the same pods, by complete names (HAProxy\'s resolver ignores the search list)');
  t.match(r.notes, /^Callers: warmpool-lb\.netops\.svc:50051 /m, 'NOTES: what callers point at');
  t.match(r.notes, /WARMPOOL_HEALTH_PORT=9464/);
  t.notMatch(r.notes, /inventory\.readOnly/, 'no readOnly hint: the example sets it');
  t.match(r.notes, /port-forward statefulset\/warmpool /);
  const np = byKind(r, 'NetworkPolicy').find((x) => x.metadata.name === 'warmpool')!;
  const balancer = (np.spec.ingress as Obj[]).find((i) => i.from[0].podSelector?.matchLabels?.['warmpool-balancer'] === 'true');
  t.same((balancer?.ports as Obj[]).map((p) => p.port), [grpc, 9464], 'the balancer reaches gRPC and /readyz');
  const cm = parseYaml(byKind(r, 'ConfigMap').find((c) => c.metadata.name === 'warmpool')!.data['warmpool.yaml']) as Obj;
  t.equal(cm.inventory.readOnly, true);
  t.equal(cm.grpc.auth.tokensFile, '/etc/warmpool/tokens/tokens.yaml');
  t.notOk(cm.grpc.tls, 'h2c from HAProxy: no TLS on the replicas');
  for (const m of r.manifests) {
    const Model = MODELS[`${m.apiVersion}/${m.kind}`];
    if (Model) t.doesNotThrow(() => new Model(m).validate(), `${m.kind}/${m.metadata.name} is valid`);
  }
});

const SHIPPED_CFG = readFileSync(join(CHART, '..', '..', 'deploy', 'haproxy', 'haproxy.cfg'), 'utf8');
const presetenvNames = (cfg: string): string[] => [...cfg.matchAll(/^\s*presetenv\s+(\w+)\s/gm)].map((m) => m[1]!).sort();
const balancerOf = (r: Rendered): { d: Obj; c: Obj; env: Map<string, string> } => {
  const d = byKind(r, 'Deployment').find((x) => x.spec.template.spec.containers[0].name === 'haproxy')!;
  const c = d.spec.template.spec.containers[0] as Obj;
  return { d, c, env: new Map((c.env as Obj[]).map((e) => [e.name as string, e.value as string])) };
};

t.test('balancer: the chart\'s files/haproxy.cfg is byte-identical to deploy/haproxy/haproxy.cfg', async (t) => {
  const copy = readFileSync(join(CHART, 'files', 'haproxy.cfg'), 'utf8');
  t.ok(copy === SHIPPED_CFG, 'identical (after editing deploy/haproxy/haproxy.cfg: cp deploy/haproxy/haproxy.cfg helm/warmpool/files/)');
});

t.test('rendered: balancer.enabled with examples/haproxy-values.yaml runs the shipped haproxy.cfg in front of the release\'s replicas', async (t) => {
  const ex = parseYaml(readFileSync(join(CHART, 'examples', 'haproxy-values.yaml'), 'utf8')) as Obj;
  t.equal(ex.balancer.enabled, true, 'the example enables the balancer');
  // The example's fullnameOverride, then names computed from the release alone.
  for (const [values, release, fullname] of [[ex, 'anything', 'warmpool'], [coalesce(ex, { fullnameOverride: null }), 'netops', 'netops-warmpool']] as const) {
    const r = renderChart(CHART, { release, namespace: 'ops', values });
    for (const m of r.manifests) {
      const Model = MODELS[`${m.apiVersion}/${m.kind}`];
      t.ok(Model, `${m.kind} has a schema model`);
      if (Model) t.doesNotThrow(() => new Model(m).validate(), `${m.kind}/${m.metadata.name} is valid`);
    }
    const sts = one(r, 'StatefulSet');
    const { d, c, env } = balancerOf(r);
    t.equal(d.metadata.name, `${fullname}-lb`);
    t.equal(d.spec.replicas, 2);
    t.match(c.image, /^haproxy:2\.\d+\.\d+$/, 'the official image, a pinned 2.x.y tag');
    const pod = d.spec.template.spec;
    for (const [k, v] of Object.entries({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false })) t.equal(c.securityContext[k], v, `haproxy: ${k}`);
    t.same(c.securityContext.capabilities.drop, ['ALL']);
    t.ok(c.resources.requests && c.resources.limits.memory, 'requests and a memory limit');
    for (const p of ['readinessProbe', 'livenessProbe']) t.same([c[p].httpGet.path, c[p].httpGet.port], ['/healthz', 'stats'], `${p} on the stats frontend's /healthz`);
    t.match(SHIPPED_CFG, /if \{ path \/healthz \}/, 'which the file answers');

    // The ConfigMap holds the shipped file byte for byte; the pod reads it, and rolls when it changes.
    const cm = byKind(r, 'ConfigMap').find((x) => x.metadata.name === `${fullname}-lb`)!;
    t.ok(cm.data['haproxy.cfg'] === SHIPPED_CFG, 'the rendered ConfigMap holds deploy/haproxy/haproxy.cfg');
    const vol = (pod.volumes as Obj[]).find((v) => v.configMap)!;
    t.equal(vol.configMap.name, cm.metadata.name);
    const mount = (c.volumeMounts as Obj[]).find((m) => m.name === vol.name)!;
    t.equal(c.args[c.args.indexOf('-f') + 1], `${mount.mountPath}/haproxy.cfg`);
    t.equal(d.spec.template.metadata.annotations['checksum/haproxy-cfg'], createHash('sha256').update(SHIPPED_CFG).digest('hex'));

    // Exactly the file's presetenv names; the replicas' complete names computed from the release.
    t.same([...env.keys()].sort(), presetenvNames(SHIPPED_CFG), 'every presetenv setting, and nothing else');
    const servers = [...SHIPPED_CFG.matchAll(/^\s*server\s+\S+\s+"\$\{(WARMPOOL_REPLICA_\d+)\}"/gm)].map((m) => m[1]!);
    t.equal(servers.length, sts.spec.replicas);
    servers.forEach((name, i) => t.equal(env.get(name), `${sts.metadata.name}-${i}.${sts.spec.serviceName}.ops.svc.cluster.local:50051`, `${name} is pod ${i}`));
    t.equal(env.get('WARMPOOL_HEALTH_PORT'), '9464');
    t.equal(env.get('WARMPOOL_LB_LISTEN'), ':50051');
    t.equal(env.get('WARMPOOL_LB_STATS_LISTEN'), `:${(c.ports as Obj[]).find((p) => p.name === 'stats')?.containerPort}`);
    t.equal(env.get('WARMPOOL_SERVER_OPTIONS'), 'weight 1', 'h2c to the replicas (auth.tls off, tokens pass through)');
    t.equal(env.get('WARMPOOL_LB_BIND_OPTIONS'), 'name grpc', 'h2c from callers (no balancer.tls)');
    t.equal(env.get('WARMPOOL_STICK_EXPIRE'), '6m');

    // Selection: the Service, PDB and policy pick the HAProxy pods, never the replicas, and the other way round.
    const podLabels = d.spec.template.metadata.labels as Obj;
    const replicaLabels = sts.spec.template.metadata.labels as Obj;
    t.ok(selects(d.spec.selector.matchLabels, podLabels));
    const svc = byKind(r, 'Service').find((x) => x.metadata.name === `${fullname}-lb`)!;
    t.same((svc.spec.ports as Obj[]).map((p) => [p.name, p.port, p.targetPort]), [['grpc', 50051, 'grpc']]);
    t.equal(svc.spec.type, 'ClusterIP');
    for (const m of r.manifests) {
      const sel = m.kind === 'Service' ? m.spec.selector : m.kind === 'PodDisruptionBudget' ? m.spec.selector.matchLabels : m.kind === 'NetworkPolicy' ? m.spec.podSelector.matchLabels : undefined;
      if (!sel) continue;
      const mine = m.metadata.name === `${fullname}-lb`;
      t.equal(selects(sel, podLabels), mine, `${m.kind}/${m.metadata.name} ${mine ? 'selects' : 'does not select'} the HAProxy pods`);
      t.equal(selects(sel, replicaLabels), !mine, `${m.kind}/${m.metadata.name} ${mine ? 'does not select' : 'selects'} the replicas`);
    }
    t.equal(byKind(r, 'PodDisruptionBudget').find((x) => x.metadata.name === `${fullname}-lb`)?.spec.minAvailable, 1);
    // The replicas' policy admits the HAProxy pods (networkPolicy.balancerPodLabels) to gRPC and the metrics port.
    const replicaPolicy = byKind(r, 'NetworkPolicy').find((x) => x.metadata.name === fullname)!;
    const rule = (replicaPolicy.spec.ingress as Obj[]).find((i) => (i.from as Obj[]).some((f) => f.podSelector && selects(f.podSelector.matchLabels, podLabels)));
    t.same((rule?.ports as Obj[]).map((p) => p.port), [50051, 9464], 'the replicas admit the HAProxy pods to gRPC and /readyz');
    const own = byKind(r, 'NetworkPolicy').find((x) => x.metadata.name === `${fullname}-lb`)!;
    t.same(own.spec.ingress[0].from, replicaPolicy.spec.ingress[0].from, 'HAProxy admits the replicas\' callers');
  }
});

t.test('rendered: balancer TLS both ways when the replicas require client certificates', async (t) => {
  const ex = parseYaml(readFileSync(join(CHART, 'examples', 'haproxy-values.yaml'), 'utf8')) as Obj;
  const values = coalesce(ex, { auth: { tls: { enabled: true }, tokens: { enabled: false } }, balancer: { tls: { existingSecret: 'lb-tls' }, clientTls: { existingSecret: 'lb-client' } } });
  const r = renderChart(CHART, { values });
  const { d, c, env } = balancerOf(r);
  t.equal(env.get('WARMPOOL_LB_BIND_OPTIONS'), 'ssl crt /etc/haproxy/tls/callers/cert.pem ca-file /etc/haproxy/tls/callers/ca.crt verify required alpn h2');
  t.equal(env.get('WARMPOOL_SERVER_OPTIONS'), 'ssl verify required ca-file /etc/haproxy/tls/replicas/ca.crt crt /etc/haproxy/tls/replicas/cert.pem alpn h2');
  // The same words as the kustomize overlay's manifest, which test/haproxy-tls.test.ts runs against the real HAProxy.
  const overlay = parseYaml(readFileSync(join(CHART, '..', '..', 'deploy', 'kubernetes', 'gateway-statefulset', 'balancer.yaml'), 'utf8').split(/^---$/m)[0]!) as Obj;
  const overlayEnv = new Map((overlay.spec.template.spec.containers[0].env as Obj[]).map((e) => [e.name as string, e.value as string]));
  for (const k of ['WARMPOOL_LB_BIND_OPTIONS', 'WARMPOOL_SERVER_OPTIONS']) t.equal(env.get(k), overlayEnv.get(k), `${k} as in the overlay`);
  t.same(d.spec.template.spec.volumes.filter((v: Obj) => v.secret).map((v: Obj) => [v.secret.secretName, v.secret.items.map((i: Obj) => i.path)]),
    [['lb-tls', ['cert.pem', 'cert.pem.key', 'ca.crt']], ['lb-client', ['cert.pem', 'cert.pem.key', 'ca.crt']]]);
  t.same((c.volumeMounts as Obj[]).map((m) => m.mountPath), ['/usr/local/etc/haproxy', '/etc/haproxy/tls/callers', '/etc/haproxy/tls/replicas']);
  t.match(r.notes, /^Callers: warmpool-lb\.default\.svc:50051 \(HAProxy, device affinity on x-warmpool-device; TLS, client certificate required\)$/m);
  const noClientCert = renderChart(CHART, { values: coalesce(ex, { balancer: { tls: { existingSecret: 'lb-tls', requireClientCert: false } } }) });
  t.equal(balancerOf(noClientCert).env.get('WARMPOOL_LB_BIND_OPTIONS'), 'ssl crt /etc/haproxy/tls/callers/cert.pem alpn h2', 'TLS without client certificates (callers send tokens)');
});

t.test('rendered: what the balancer refuses, with the reason', async (t) => {
  const ex = parseYaml(readFileSync(join(CHART, 'examples', 'haproxy-values.yaml'), 'utf8')) as Obj;
  t.match(failure(coalesce(ex, { workload: { kind: 'Deployment' } })), /balancer\.enabled needs workload\.kind: StatefulSet/);
  t.match(failure(coalesce(ex, { replicaCount: 4 })), /three server lines, so replicaCount must be 3, not 4/);
  t.match(failure(coalesce(ex, { auth: { tls: { enabled: true } } })), /set balancer\.clientTls\.existingSecret/);
  t.match(failure(coalesce(ex, { auth: { tls: { enabled: true } }, balancer: { clientTls: { existingSecret: 'c' } } })), /or whoever reaches HAProxy calls the replicas as HAProxy/);
  t.match(failure(coalesce(ex, { auth: { tls: { enabled: true } }, balancer: { clientTls: { existingSecret: 'c' }, tls: { existingSecret: 't', requireClientCert: false } } })), /requireClientCert: true/);
  t.match(failure(coalesce(ex, { networkPolicy: { balancerPodLabels: null } })), /needs networkPolicy\.balancerPodLabels/);
  t.equal(failure(coalesce(ex, { networkPolicy: { enabled: false, balancerPodLabels: null } })), '(rendered)', 'no labels needed without the policy');
  t.equal(byKind(renderChart(CHART, { values: coalesce(ex, { balancer: { enabled: false } }) }), 'Deployment').length, 0, 'balancer.enabled: false renders no HAProxy');
});

t.test('rendered: sidecar users keep their Deployment with warmpool as a native sidecar', async (t) => {
  const ex = parseYaml(readFileSync(join(CHART, 'examples', 'sidecar-values.yaml'), 'utf8')) as Obj;
  const r = renderChart(CHART, { release: 'netbot', values: ex });
  const d = one(r, 'Deployment');
  t.equal(byKind(r, 'StatefulSet').length, 0);
  t.notOk('strategy' in d.spec, 'no gateway rolling strategy in sidecar mode');
  t.equal(d.spec.template.spec.initContainers[0].restartPolicy, 'Always');
  t.same(d.spec.template.spec.containers.map((c: Obj) => c.name), ['netbot']);
  t.same(byKind(r, 'Service').map((s) => s.metadata.name), ['netbot-warmpool'], 'no headless Service');
  t.doesNotThrow(() => new Deployment(d).validate());
  t.match(r.notes, /port-forward deployment\/netbot-warmpool /);
});
