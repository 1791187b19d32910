import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigReference } from '../src/config/docgen.js';
import { DEVICE_FIELDS, allowedKeys } from '../src/config/device-fields.js';
import { loadConfig } from '../src/config/load.js';
import { CONFIG_KEYS } from '../src/config/schema.js';

const docPath = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));

function leafPaths(obj: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) => {
    const path = prefix === '' ? k : `${prefix}.${k}`;
    return typeof v === 'object' && v !== null ? leafPaths(v as Record<string, unknown>, path) : [path];
  });
}

t.test('docs/configuration.md is what renderConfigReference() renders (run `npm run gen:docs` after schema changes)', async (t) => {
  t.equal(readFileSync(docPath, 'utf8'), renderConfigReference());
});

t.test('the reference lists every setting with its env variable and flag, and every device field', async (t) => {
  const doc = renderConfigReference();
  for (const key of CONFIG_KEYS) {
    t.ok(doc.includes(`| \`${key.path}\` |`) && doc.includes(`\`${key.env}\``) && doc.includes(`\`--${key.arg}\``), key.path);
  }
  for (const field of DEVICE_FIELDS) t.ok(doc.includes(`| \`${field.path}\` |`), field.path);
});

t.test('the schema covers exactly the keys of a loaded AppConfig', async (t) => {
  const loaded = leafPaths(loadConfig({ argv: [], env: {} }) as unknown as Record<string, unknown>).filter((p) => p !== 'configFile');
  t.same([...loaded].sort(), CONFIG_KEYS.map((k) => k.path).sort());
  t.equal(new Set(CONFIG_KEYS.map((k) => k.env)).size, CONFIG_KEYS.length, 'env names are unique');
});

t.test('the validator accepts exactly the documented device fields at top level', async (t) => {
  t.same(
    allowedKeys('').sort(),
    [...new Set(DEVICE_FIELDS.map((f) => f.path.split('.')[0] as string))].sort(),
  );
  t.ok(allowedKeys('http.auth').includes('tokenHeader'));
});
