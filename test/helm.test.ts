/**
 * Helm is not installed where this chart was written, so these checks cover what can be checked
 * without rendering: YAML lint of the plain YAML files, every .Values reference resolves in
 * values.yaml, template blocks balance, includes name defined templates, and the example values
 * only use keys the chart knows.
 */
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

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
  for (const name of ['deployment.yaml', 'service.yaml', 'configmap.yaml', 'pdb.yaml', 'servicemonitor.yaml', 'podmonitor.yaml', 'serviceaccount.yaml', '_helpers.tpl', 'NOTES.txt']) {
    t.ok(templates.some((x) => x.f === name), `templates/${name} exists`);
  }
});

t.test('sidecar shape: native sidecar with a startup probe, pod-local gRPC', async (t) => {
  const helpers = templates.find((x) => x.f === '_helpers.tpl')!.text;
  const deployment = templates.find((x) => x.f === 'deployment.yaml')!.text;
  t.match(helpers, /\{\{- if eq \.Values\.mode "sidecar" \}\}\n\s+restartPolicy: Always/);
  t.match(helpers, /startupProbe:/);
  t.match(helpers, /ternary "127\.0\.0\.1" "0\.0\.0\.0" \$sidecar/);
  t.match(deployment, /initContainers:\n\s+\{\{- include "warmpool\.container" \. \| nindent 8 \}\}/);
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
