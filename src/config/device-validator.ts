/**
 * The field readers behind device validation (inventory.ts): one DeviceValidator per entry.
 */
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { WarmpoolError } from '../core/errors.js';
import { hasControlChars, isPlainObject, showKind, showValue, suggest } from './checks.js';
import { allowedKeys, deviceField } from './device-fields.js';
import { foreignKeyHint } from './foreign-keys.js';
import { formatInfo } from './schema.js';
import { Secret } from './secret.js';

export interface ValidateOptions {
  /** Directory relative file paths are resolved against (the inventory file's). Default: the process cwd. */
  baseDir?: string;
  /** Position in the inventory file, used to name a device whose id is unusable. */
  index?: number;
  /** What the entry is, for messages: `devices[3]` / `device "x"` (default) or `bastions[3]` / `bastion "x"`. */
  kind?: 'device' | 'bastion';
}

/**
 * Inline credentials where "" reads naturally as "none", and so means "not set", in the
 * inventory file as over the API (where proto3 cannot tell "" from unset anyway). Netmiko users
 * write `secret=""` for "enable has no password", `passphrase=""` for an unencrypted key, and
 * `password=""` beside a key. The HTTP auth password and token are not here: their auth type
 * requires them, so "" there is a mistake and is reported as one.
 */
const OPTIONAL_SECRETS = new Set(['password', 'privateKey', 'passphrase', 'enableSecret']);

/** Own properties only: a key such as "constructor" in the input must not find Object.prototype's. */
export function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

/** null (an empty YAML value, or an unset API field) counts as absent. */
export function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/**
 * Reads one device entry field by field: each reader checks the type and limits of one field
 * and fails naming the device (or its position), the field path and the problem, never a
 * secret value. CONFIG_INVALID for the inventory file, INVALID_ARGUMENT for the API.
 */
export class DeviceValidator {
  #name: string;
  #id: string | undefined;
  readonly #source: 'file' | 'api';
  readonly #where: string | undefined;
  readonly #opts: ValidateOptions;

  constructor(source: 'file' | 'api', where: string | undefined, opts: ValidateOptions) {
    this.#source = source;
    this.#where = where;
    this.#opts = opts;
    const kind = opts.kind ?? 'device';
    this.#name = opts.index === undefined ? kind : `${kind}s[${opts.index}]`;
  }

  fail(field: string, problem: string): never {
    const prefix = this.#where === undefined ? '' : `${this.#where}: `;
    const id = this.#id;
    throw new WarmpoolError(this.#source === 'api' ? 'INVALID_ARGUMENT' : 'CONFIG_INVALID', `${prefix}${this.#name}: ${field}: ${problem}`, {
      field,
      ...(id === undefined ? {} : { device: id }),
    });
  }

  named(id: string): void {
    this.#id = id;
    this.#name = `${this.#opts.kind ?? 'device'} "${id}"`;
  }

  /** Unknown keys anywhere in the entry, checked against DEVICE_FIELDS. */
  checkKeys(obj: Record<string, unknown>, prefix: string): void {
    const allowed = allowedKeys(prefix);
    for (const key of Object.keys(obj)) {
      const path = prefix === '' ? key : `${prefix}.${key}`;
      if (!allowed.includes(key)) {
        // Netmiko / Ansible / Nornir / Scrapli names first: edit distance cannot guess device_type → platform.
        const foreign = prefix === '' ? foreignKeyHint(key) : undefined;
        const hint = suggest(key, allowed);
        this.fail(path, `unknown field${foreign !== undefined ? ` (${foreign})` : hint === undefined ? '' : ` (did you mean "${hint}"?)`}`);
      }
      const value = obj[key];
      const field = deviceField(path);
      if (field === undefined && present(value)) {
        // A group (hostKey, pool, http, http.auth, ...): must be a mapping, then check inside it.
        // Only the kind is shown: `auth: "Bearer ..."` is an easy mistake to make with a real token.
        if (!isPlainObject(value)) this.fail(path, `must be a mapping (got ${showKind(value)})`);
        this.checkKeys(value, path);
      }
    }
  }

  group(obj: Record<string, unknown>, path: string): Record<string, unknown> | undefined {
    const v = own(obj, path.split('.').pop() as string);
    return present(v) ? (v as Record<string, unknown>) : undefined; // shape checked by checkKeys
  }

  str(obj: Record<string, unknown> | undefined, path: string, o: { required?: boolean; max?: number; allowEmpty?: boolean; line?: boolean } = {}): string | undefined {
    const v = obj === undefined ? undefined : own(obj, path.split('.').pop() as string);
    if (!present(v)) {
      if (o.required) this.fail(path, 'is required');
      return undefined;
    }
    if (typeof v !== 'string') this.fail(path, `must be a string (got ${showValue(v)})`);
    if (v === '' && !o.allowEmpty) this.fail(path, 'must not be empty');
    const max = o.max ?? 256;
    if (v.length > max) this.fail(path, `must be at most ${max} characters`);
    if (o.line !== false && hasControlChars(v)) this.fail(path, 'must not contain control characters or line breaks');
    return v;
  }

  bool(obj: Record<string, unknown> | undefined, path: string): boolean | undefined {
    const v = obj === undefined ? undefined : own(obj, path.split('.').pop() as string);
    if (!present(v)) return undefined;
    if (typeof v !== 'boolean') this.fail(path, `must be true or false (got ${showValue(v)})`);
    return v;
  }

  /**
   * A credential: the value is never shown, whatever its type. With `emptyIsUnset`, "" means
   * "not set" (see OPTIONAL_SECRETS) instead of being an error.
   */
  secretValue(obj: Record<string, unknown>, path: string, max: number, emptyIsUnset = false): Secret | undefined {
    const v = own(obj, path.split('.').pop() as string);
    if (!present(v)) return undefined;
    if (typeof v !== 'string') this.fail(path, `must be a string (got a value of type ${Array.isArray(v) ? 'list' : typeof v}; the value is not shown; quote it in YAML)`);
    if (v === '' && emptyIsUnset) return undefined;
    if (v === '') this.fail(path, 'must not be empty');
    if (v.length > max) this.fail(path, `must be at most ${max} characters (the value is not shown)`);
    return Secret.fromValue(v);
  }

  /** A path to a file that must exist and be readable now; its contents are read later, at use. */
  file(obj: Record<string, unknown> | undefined, path: string): string | undefined {
    const p = this.str(obj, path, { max: 4096 });
    if (p === undefined) return undefined;
    const field = deviceField(path);
    if (this.#source === 'api' && field?.secretFile) {
      // An API caller could otherwise name any file the daemon can read (a service-account token, say)
      // and have it sent as a password to a host of their choosing.
      this.fail(path, 'file references to credentials are not accepted over the API; send the value inline or define the device in the inventory file');
    }
    const full = isAbsolute(p) ? p : resolve(this.#opts.baseDir ?? process.cwd(), p);
    let problem: string | undefined;
    try {
      if (!statSync(full).isFile()) problem = 'is not a regular file';
      else accessSync(full, fsConstants.R_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problem = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable by the daemon' : `cannot be read (${code ?? 'error'})`;
    }
    if (problem !== undefined) this.fail(path, `file ${JSON.stringify(full)} ${problem}`);
    return full;
  }

  /** Exactly one of an inline value or a file, as a Secret. */
  secret(obj: Record<string, unknown>, inlinePath: string, filePath: string, max = 4096): Secret | undefined {
    const inline = this.secretValue(obj, inlinePath, max, OPTIONAL_SECRETS.has(inlinePath));
    const file = this.file(obj, filePath);
    if (inline !== undefined && file !== undefined) this.fail(filePath, `give either ${last(inlinePath)} or ${last(filePath)}, not both`);
    if (file !== undefined) return Secret.fromFile(file);
    return inline;
  }

  /** A `defaults.*` override, checked with the same format as the config key. */
  setting(obj: Record<string, unknown>, path: string): unknown {
    let v = own(obj, path.split('.').pop() as string);
    if (!present(v)) return undefined;
    const info = formatInfo(deviceField(path)?.format ?? 'uint');
    if (typeof v === 'string' && info.coerce) v = info.coerce(v);
    const problem = info.check(v);
    if (problem !== undefined) this.fail(path, `${problem} (got ${showValue(v)})`);
    return v;
  }

  merged<T extends object>(obj: Record<string, unknown> | undefined, group: string, base: T): T {
    const out = { ...base } as Record<string, unknown>;
    if (obj === undefined) return out as T;
    for (const key of Object.keys(base)) {
      const v = this.setting(obj, `${group}.${key}`);
      if (v !== undefined) out[key] = v;
    }
    return out as T;
  }
}

export function last(path: string): string {
  return path.split('.').pop() as string;
}
