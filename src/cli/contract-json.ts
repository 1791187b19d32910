/**
 * `--json` output: a message as the contract names it, and nothing else. proto-loader's objects
 * carry extras (with `oneofs: true`, a virtual field per oneof, e.g. `outcome: "response"` and
 * `_min: "min"` for proto3 `optional`), so the fields are copied by walking the message
 * descriptor rather than by dropping what looks internal. Names stay snake_case as in proto/;
 * 64-bit integers are strings and bytes base64, as in the protobuf JSON mapping; unset message
 * and optional fields are left out.
 */
import { loadProto } from '../api/proto.js';

interface FieldDescriptor {
  name: string;
  label: string;
  type: string;
  typeName: string;
}

interface MessageDescriptor {
  name: string;
  field: FieldDescriptor[];
  nestedType: MessageDescriptor[];
  options: { mapEntry?: boolean } | null;
}

const PACKAGE = 'warmpool.v1';

function descriptor(fullName: string): MessageDescriptor | undefined {
  const entry = loadProto().def[fullName] as { type?: MessageDescriptor } | undefined;
  return entry?.type && Array.isArray(entry.type.field) ? entry.type : undefined;
}

/** proto-loader's type names are as written in the .proto file: nested, same package, or qualified. */
function resolve(typeName: string, scope: MessageDescriptor): MessageDescriptor {
  const name = typeName.replace(/^\./, '');
  const found = scope.nestedType.find((n) => n.name === name) ?? descriptor(`${PACKAGE}.${name}`) ?? descriptor(name);
  if (!found) throw new Error(`--json: no descriptor for message type ${typeName}`);
  return found;
}

function scalar(v: unknown): unknown {
  return Buffer.isBuffer(v) || v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v;
}

function fieldValue(f: FieldDescriptor, v: unknown, scope: MessageDescriptor): unknown {
  if (f.type !== 'TYPE_MESSAGE') return f.label === 'LABEL_REPEATED' && Array.isArray(v) ? v.map(scalar) : scalar(v);
  const t = resolve(f.typeName, scope);
  if (t.options?.mapEntry) {
    // proto-loader gives maps as plain objects; only their values can be messages.
    const valueField = t.field.find((x) => x.name === 'value');
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, valueField ? fieldValue(valueField, x, t) : x]));
  }
  if (f.label === 'LABEL_REPEATED' && Array.isArray(v)) return v.map((x) => message(t, x));
  return message(t, v);
}

function message(desc: MessageDescriptor, value: unknown): Record<string, unknown> {
  const src = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const f of desc.field) {
    const v = src[f.name];
    if (v === undefined || v === null) continue;
    out[f.name] = fieldValue(f, v, desc);
  }
  return out;
}

/** `value` (a message of type warmpool.v1.`type`) with only the contract's field names. */
export function contractJson(type: string, value: object): Record<string, unknown> {
  const desc = descriptor(`${PACKAGE}.${type}`);
  if (!desc) throw new Error(`--json: unknown message type ${type}`);
  return message(desc, value);
}
