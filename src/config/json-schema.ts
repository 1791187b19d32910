/**
 * JSON Schemas (draft-07) for the config file and the inventory file, generated from the same
 * schema (schema.ts) and device field list (device-fields.ts) the loader and validator use.
 * For editors (yaml-language-server: `# yaml-language-server: $schema=...`) and CI; the daemon
 * and `warmpool check` stay the authority (the schemas cannot express cross-field rules such as
 * "exactly one host key policy" or file existence).
 *
 * Published as docs/config.schema.json and docs/inventory.schema.json (`warmpool schema
 * --config|--inventory`); test/config-schema.test.ts fails when they are stale.
 */
import { DEVICE_ID_RE } from '../core/names.js';
import { MAX_BYTES, MAX_TIMER_MS, LOG_LEVELS } from './checks.js';
import { DEVICE_FIELDS, type DeviceField } from './device-fields.js';
import { CONFIG_KEYS, type FormatName } from './schema.js';
import { PLATFORMS, SESSION_MODES } from './types.js';

type JsonSchema = Record<string, unknown>;

const SCHEMA_URI = 'http://json-schema.org/draft-07/schema#';
const DURATION_STRING = '^\\s*\\d+(\\.\\d+)?\\s*([mM][sS]|[sSmMhH])?\\s*$';
const BYTES_STRING = '^\\s*\\d+(\\.\\d+)?\\s*([bB]|[kKmMgG][iI]?[bB])?\\s*$';
const DIGITS = '^\\s*\\d+\\s*$';

const intOrString = (minimum: number, maximum: number, pattern: string): JsonSchema => ({
  anyOf: [{ type: 'integer', minimum, maximum }, { type: 'string', pattern }],
});

const LISTEN_PATTERN = '^(\\[[0-9A-Fa-f:.]+\\]|[^:\\[\\]]+):\\d{1,5}$';

/**
 * JSON Schema per value format, keyed by format name. A format not listed gets no type constraint,
 * only its description. Keyed by string, not FormatName, so entries for formats that other branches
 * add (grpc-listen-address, file-mode: the Unix socket listener) compile before and after they land.
 */
const FORMAT_SCHEMAS: Record<string, JsonSchema> = {
  'listen-address': { type: 'string', pattern: LISTEN_PATTERN },
  'grpc-listen-address': { type: 'string', pattern: '^((\\[[0-9A-Fa-f:.]+\\]|[^:\\[\\]]+):\\d{1,5}|unix:(//)?/\\S*[^/])$' },
  'file-mode': { type: 'string', pattern: '^0?[0-7]{3}$' },
  uint: intOrString(0, Number.MAX_SAFE_INTEGER, DIGITS),
  'positive-int': intOrString(1, Number.MAX_SAFE_INTEGER, DIGITS),
  'duration-ms': intOrString(0, MAX_TIMER_MS, DURATION_STRING),
  'positive-duration-ms': intOrString(1, MAX_TIMER_MS, DURATION_STRING),
  bytes: intOrString(1, MAX_BYTES, BYTES_STRING),
  'strict-boolean': { type: 'boolean' },
  'log-level': { type: 'string', enum: [...LOG_LEVELS] },
  path: { type: 'string' },
};

function formatSchema(format: FormatName, description: string): JsonSchema {
  return { description, ...(FORMAT_SCHEMAS[format] ?? {}) };
}

/** A nested object schema from dotted leaf paths. Groups also accept null ("grpc:" with nothing under it). */
function tree(leaves: Array<{ path: string; schema: JsonSchema }>, nullableGroups: boolean): JsonSchema {
  const root: JsonSchema = { type: 'object', additionalProperties: false, properties: {} };
  for (const { path, schema } of leaves) {
    const segs = path.split('.');
    let node = root;
    for (const seg of segs.slice(0, -1)) {
      const props = node['properties'] as Record<string, JsonSchema>;
      props[seg] ??= { type: nullableGroups ? ['object', 'null'] : 'object', additionalProperties: false, properties: {} };
      node = props[seg] as JsonSchema;
    }
    (node['properties'] as Record<string, JsonSchema>)[segs.at(-1) as string] = schema;
  }
  return root;
}

export function configJsonSchema(): JsonSchema {
  const body = tree(
    CONFIG_KEYS.map((k) => ({ path: k.path, schema: { ...formatSchema(k.format, k.doc), default: k.default } })),
    true,
  );
  return {
    $schema: SCHEMA_URI,
    title: 'warmpool configuration file',
    description: 'Generated from src/config/schema.ts (warmpool schema --config). Reference: docs/configuration.md. Cross-key rules are checked by `warmpool check --config FILE`.',
    ...body,
    type: ['object', 'null'],
  };
}

/** Device fields whose value is not described by a config format. */
function deviceFieldSchema(f: DeviceField): JsonSchema {
  const description = f.doc;
  if (f.format !== undefined) return formatSchema(f.format, description);
  const str = { description, type: 'string' };
  switch (f.path) {
    case 'id':
      return { ...str, pattern: DEVICE_ID_RE.source };
    case 'port':
      return { description, type: 'integer', minimum: 1, maximum: 65535 };
    case 'platform':
      // Not an enum: the daemon also accepts aliases (docs/platforms.md); `examples` still drives editor completion.
      return { ...str, examples: [...PLATFORMS] };
    case 'mode':
      return { ...str, enum: [...SESSION_MODES] };
    case 'hostKey.fingerprints':
      return { description, type: 'array', minItems: 1, maxItems: 16, items: { type: 'string', pattern: '^SHA256:[A-Za-z0-9+/]{43}$' } };
    case 'hostKey.acceptAny':
    case 'http.tls.insecureSkipVerify':
      return { description, type: 'boolean' };
    case 'labels':
      return { description, type: 'object', maxProperties: 64, propertyNames: { pattern: '^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$' }, additionalProperties: { type: 'string', maxLength: 256 } };
    case 'http.baseUrl':
      return { ...str, pattern: '^[hH][tT][tT][pP][sS]?://' };
    case 'http.auth.type':
      return { ...str, enum: ['none', 'basic', 'bearer', 'session'] };
    default:
      // Every other field is a string (names, credentials, file paths); fields added later without a
      // case here are still listed (so they are not "additional"), unconstrained.
      return /(^|\.)(username|password|token|privateKey|passphrase|enableSecret|prompt|pagingCommand|enableCommand|loginPath|tokenField|tokenHeader|serverName)$|File$/.test(f.path)
        ? str
        : { description };
  }
}

export function inventoryJsonSchema(): JsonSchema {
  const device = tree(DEVICE_FIELDS.map((f) => ({ path: f.path, schema: deviceFieldSchema(f) })), false);
  device['required'] = ['id', 'host', 'platform', 'username', 'hostKey'];
  return {
    $schema: SCHEMA_URI,
    title: 'warmpool inventory file',
    description: 'Generated from src/config/device-fields.ts (warmpool schema --inventory). Reference: docs/configuration.md#inventory-devices. Rules across fields (one host key policy, a credential, unique ids, files that exist) are checked by `warmpool check --inventory FILE`.',
    type: 'object',
    additionalProperties: false,
    required: ['devices'],
    properties: {
      devices: { type: 'array', items: { $ref: '#/definitions/device' } },
    },
    definitions: { device },
  };
}

/** The text written to docs/*.schema.json. */
export function renderJsonSchema(which: 'config' | 'inventory'): string {
  return `${JSON.stringify(which === 'config' ? configJsonSchema() : inventoryJsonSchema(), null, 2)}\n`;
}
