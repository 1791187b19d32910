/**
 * Device validation, shared by the inventory file and the gRPC Inventory API
 * (which turns its proto message into a plain object with the YAML's keys).
 *
 * Every rejection names the device (or its position when the id itself is bad),
 * the field path and the problem, and never contains a secret value.
 */
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { compilePromptPattern, PatternError, type Pattern } from '../core/pattern.js';
import { WarmpoolError } from '../core/errors.js';
import { checkHost, checkPort, hasControlChars, isPlainObject, showKind, showValue, suggest } from './checks.js';
import { allowedKeys, DEVICE_FIELDS, deviceField } from './device-fields.js';
import { parseStructuredText } from './parse.js';
import { formatInfo } from './schema.js';
import { Secret } from './secret.js';
import {
  PLATFORMS,
  SESSION_MODES,
  type AppConfig,
  type DeviceSpec,
  type HostKeyPolicy,
  type HttpAuth,
  type HttpSpec,
  type HttpTls,
  type Platform,
  type PoolSettings,
  type SessionMode,
  type SshSettings,
} from './types.js';
import { resolvePlatformName } from '../platforms/aliases.js';

export type Defaults = AppConfig['defaults'];

export interface ValidateOptions {
  /** Directory relative file paths are resolved against (the inventory file's). Default: the process cwd. */
  baseDir?: string;
  /** Position in the inventory file, used to name a device whose id is unusable. */
  index?: number;
}

const ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
/**
 * Inline credentials where "" reads naturally as "none", and so means "not set", in the
 * inventory file as over the API (where proto3 cannot tell "" from unset anyway). Netmiko users
 * write `secret=""` for "enable has no password", `passphrase=""` for an unencrypted key, and
 * `password=""` beside a key. The HTTP auth password and token are not here: their auth type
 * requires them, so "" there is a mistake and is reported as one.
 */
const OPTIONAL_SECRETS = new Set(['password', 'privateKey', 'passphrase', 'enableSecret']);
const LABEL_KEY_RE = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$/;
const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
// 32 bytes of SHA-256, base64 without padding, as `ssh-keygen -lf` prints it.
const FINGERPRINT_RE = /^SHA256:[A-Za-z0-9+/]{43}$/;
const MAX_LABELS = 64;
const MAX_FINGERPRINTS = 16;
const DEFAULT_MODE: Partial<Record<Platform, SessionMode>> = {
  linux: 'exec',
  cisco_ios: 'shell',
  cisco_nxos: 'shell',
  arista_eos: 'shell',
  juniper_junos: 'shell',
  generic: 'shell',
};

/** Own properties only: a key such as "constructor" in the input must not find Object.prototype's. */
function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

/** null (an empty YAML value, or an unset API field) counts as absent. */
function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}

class DeviceValidator {
  private name: string;
  private id: string | undefined;

  constructor(
    private readonly source: 'file' | 'api',
    private readonly where: string | undefined,
    private readonly opts: ValidateOptions,
  ) {
    this.name = opts.index === undefined ? 'device' : `devices[${opts.index}]`;
  }

  fail(field: string, problem: string): never {
    const prefix = this.where === undefined ? '' : `${this.where}: `;
    const id = this.id;
    throw new WarmpoolError(this.source === 'api' ? 'INVALID_ARGUMENT' : 'CONFIG_INVALID', `${prefix}${this.name}: ${field}: ${problem}`, {
      field,
      ...(id === undefined ? {} : { device: id }),
    });
  }

  named(id: string): void {
    this.id = id;
    this.name = `device "${id}"`;
  }

  /** Unknown keys anywhere in the entry, checked against DEVICE_FIELDS. */
  checkKeys(obj: Record<string, unknown>, prefix: string): void {
    const allowed = allowedKeys(prefix);
    for (const key of Object.keys(obj)) {
      const path = prefix === '' ? key : `${prefix}.${key}`;
      if (!allowed.includes(key)) {
        const hint = suggest(key, allowed);
        this.fail(path, `unknown field${hint === undefined ? '' : ` (did you mean "${hint}"?)`}`);
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
    if (this.source === 'api' && field?.secretFile) {
      // An API caller could otherwise name any file the daemon can read (a service-account token, say)
      // and have it sent as a password to a host of their choosing.
      this.fail(path, 'file references to credentials are not accepted over the API; send the value inline or define the device in the inventory file');
    }
    const full = isAbsolute(p) ? p : resolve(this.opts.baseDir ?? process.cwd(), p);
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

function last(path: string): string {
  return path.split('.').pop() as string;
}

/**
 * Validate one device entry (inventory file or API) into a DeviceSpec.
 * Throws WarmpoolError CONFIG_INVALID (file) or INVALID_ARGUMENT (api) naming device, field and problem.
 */
export function validateDevice(input: unknown, defaults: Defaults, source: 'file' | 'api', where?: string, opts: ValidateOptions = {}): DeviceSpec {
  const v: DeviceValidator = new DeviceValidator(source, where, opts);
  const raw = source === 'api' ? withoutProtoDefaults(input, '') : input;
  // Only the kind of a malformed entry is shown: it could be a credential pasted one level too high.
  if (!isPlainObject(raw)) v.fail('(entry)', `must be a mapping of device fields (got ${showKind(raw)})`);

  const id = own(raw, 'id');
  if (!present(id)) v.fail('id', 'is required');
  if (typeof id !== 'string' || !ID_RE.test(id)) v.fail('id', `must be 1..128 characters of A-Z a-z 0-9 . _ : - (got ${showValue(id)})`);
  v.named(id);

  v.checkKeys(raw, '');

  const host = own(raw, 'host');
  const hostProblem = checkHost(host);
  if (!present(host)) v.fail('host', 'is required');
  if (hostProblem !== undefined) v.fail('host', `${hostProblem} (got ${showValue(host)})`);

  let port = 22;
  const rawPort = own(raw, 'port');
  if (present(rawPort)) {
    const problem = checkPort(rawPort, false);
    if (problem !== undefined) v.fail('port', `${problem} (got ${showValue(rawPort)})`);
    port = rawPort as number;
  }

  const platform = own(raw, 'platform');
  if (!present(platform)) v.fail('platform', `is required: one of ${PLATFORMS.join(', ')}`);
  // Netmiko and Scrapli names are aliases of a profile (docs/platforms.md); near misses get a "did you mean".
  const named = resolvePlatformName(platform);
  if (!named.ok) v.fail('platform', typeof platform === 'string' ? named.problem : `${named.problem} (got ${showValue(platform)})`);
  const plat = named.ok ? named.platform : (platform as Platform);

  let mode = DEFAULT_MODE[plat] ?? 'shell';
  const rawMode = own(raw, 'mode');
  if (present(rawMode)) {
    if (typeof rawMode !== 'string' || !(SESSION_MODES as readonly string[]).includes(rawMode)) {
      v.fail('mode', `must be one of ${SESSION_MODES.join(', ')} (got ${showValue(rawMode)})`);
    }
    mode = rawMode as SessionMode;
  }

  const username = v.str(raw, 'username', { required: true }) as string;

  const password = v.secret(raw, 'password', 'passwordFile');
  const privateKey = v.secret(raw, 'privateKey', 'privateKeyFile', 65536);
  if (privateKey !== undefined && privateKey.file === undefined && !(own(raw, 'privateKey') as string).includes('-----BEGIN ')) {
    v.fail('privateKey', 'must be a PEM or OpenSSH private key ("-----BEGIN ..."); the value is not shown');
  }
  const passphrase = v.secret(raw, 'passphrase', 'passphraseFile');
  if (passphrase !== undefined && privateKey === undefined) v.fail(present(own(raw, 'passphrase')) ? 'passphrase' : 'passphraseFile', 'is only used with privateKey or privateKeyFile');
  const enableSecret = v.secret(raw, 'enableSecret', 'enableSecretFile');
  if (password === undefined && privateKey === undefined) {
    const empty = own(raw, 'password') === '' ? ' (an empty password counts as not set)' : '';
    v.fail('password', `a credential is required: set password, passwordFile, privateKey or privateKeyFile${empty}`);
  }

  const hostKey = validateHostKey(v, v.group(raw, 'hostKey'));

  const prompt = v.str(raw, 'prompt', { max: 512 });
  if (prompt !== undefined) {
    let re: Pattern;
    try {
      re = compilePromptPattern(prompt, 'prompt');
    } catch (err) {
      v.fail('prompt', err instanceof PatternError ? err.problem : 'is not a valid pattern');
    }
    // A prompt matching "" would end every command at once, before any output arrived.
    if (re.test('')) v.fail('prompt', 'must not match an empty string (it would end every command immediately)');
  } else if (plat === 'generic') {
    v.fail('prompt', 'is required for platform generic: a regular expression matching the device prompt, e.g. \'[\\w.-]+[>#]\\s*$\'');
  }
  const pagingCommand = v.str(raw, 'pagingCommand', { allowEmpty: true });
  const enableCommand = v.str(raw, 'enableCommand', { allowEmpty: true });

  const labels = validateLabels(v, own(raw, 'labels'));
  const pool = v.merged<PoolSettings>(v.group(raw, 'pool'), 'pool', defaults.pool);
  if (pool.min > pool.max) v.fail('pool.min', `must be <= pool.max (got min ${pool.min}, max ${pool.max})`);
  const ssh = v.merged<SshSettings>(v.group(raw, 'ssh'), 'ssh', defaults.ssh);

  const httpRaw = v.group(raw, 'http');
  const http = httpRaw === undefined ? undefined : validateHttp(v, httpRaw, defaults.http);

  const spec: DeviceSpec = { id, host: host as string, port, platform: plat, mode, username, hostKey, labels, pool, ssh, source };
  if (password !== undefined) spec.password = password;
  if (privateKey !== undefined) spec.privateKey = privateKey;
  if (passphrase !== undefined) spec.passphrase = passphrase;
  if (enableSecret !== undefined) spec.enableSecret = enableSecret;
  if (prompt !== undefined) spec.prompt = prompt;
  if (pagingCommand !== undefined) spec.pagingCommand = pagingCommand;
  if (enableCommand !== undefined) spec.enableCommand = enableCommand;
  if (http !== undefined) spec.http = http;
  return spec;
}

/** Fields where "" is a real value ("no paging command"); the proto marks them `optional`. */
const EMPTY_IS_VALUE = new Set(['pagingCommand', 'enableCommand']);

/**
 * proto3 cannot tell an unset scalar from its zero value, so over the API "" (except where it
 * means something), port 0 and empty lists count as "not given", as the proto documents.
 * Booleans are kept: the proto declares the ones whose `false` matters as `optional`.
 */
function withoutProtoDefaults(v: unknown, path: string): unknown {
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(v)) {
    const p = path === '' ? key : `${path}.${key}`;
    const value = v[key];
    if (value === '' && !EMPTY_IS_VALUE.has(p)) continue;
    if (value === 0 && p === 'port') continue;
    if (Array.isArray(value) && value.length === 0) continue;
    if (p === 'http.auth' && isPlainObject(value) && (own(value, 'type') === '' || own(value, 'type') === undefined) && Object.values(value).every((x) => x === '' || x === null || x === undefined || x === false)) continue;
    // defineProperty: a key named "__proto__" must stay an own key (and be rejected as unknown), not set the prototype.
    Object.defineProperty(out, key, { value: p === 'labels' ? value : withoutProtoDefaults(value, p), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

const HOST_KEY_HELP =
  'set exactly one of hostKey.fingerprints (pinned "SHA256:..." keys, see `ssh-keygen -lf`), ' +
  'hostKey.knownHostsFile (an OpenSSH known_hosts file) or hostKey.acceptAny: true (no checking; labs only)';

function validateHostKey(v: DeviceValidator, hk: Record<string, unknown> | undefined): HostKeyPolicy {
  if (hk === undefined) v.fail('hostKey', `is required: ${HOST_KEY_HELP}`);
  const out: HostKeyPolicy = {};
  const chosen: string[] = [];
  const fps = own(hk, 'fingerprints');
  if (present(fps)) {
    if (!Array.isArray(fps) || fps.length === 0) v.fail('hostKey.fingerprints', `must be a non-empty list of "SHA256:..." fingerprints (got ${showValue(fps)})`);
    if (fps.length > MAX_FINGERPRINTS) v.fail('hostKey.fingerprints', `must have at most ${MAX_FINGERPRINTS} entries`);
    out.fingerprints = fps.map((fp: unknown, i: number) => {
      if (typeof fp !== 'string' || !FINGERPRINT_RE.test(fp) || Buffer.from(fp.slice(7), 'base64').toString('base64').slice(0, 43) !== fp.slice(7)) {
        v.fail(`hostKey.fingerprints[${i}]`, `must be "SHA256:" followed by 43 base64 characters without padding, as \`ssh-keygen -lf\` prints (got ${showValue(fp)})`);
      }
      return fp;
    });
    chosen.push('fingerprints');
  }
  const khf = v.file(hk, 'hostKey.knownHostsFile');
  if (khf !== undefined) {
    out.knownHostsFile = khf;
    chosen.push('knownHostsFile');
  }
  const any = v.bool(hk, 'hostKey.acceptAny');
  if (any === true) {
    out.acceptAny = true;
    chosen.push('acceptAny');
  }
  if (chosen.length === 0) v.fail('hostKey', `has no policy: ${HOST_KEY_HELP}`);
  if (chosen.length > 1) v.fail('hostKey', `sets ${chosen.join(' and ')}: ${HOST_KEY_HELP}`);
  return out;
}

function validateLabels(v: DeviceValidator, raw: unknown): Record<string, string> {
  if (!present(raw)) return {};
  if (!isPlainObject(raw)) v.fail('labels', `must be a mapping of string to string (got ${showKind(raw)})`);
  const keys = Object.keys(raw);
  if (keys.length > MAX_LABELS) v.fail('labels', `must have at most ${MAX_LABELS} entries`);
  const out: Record<string, string> = {};
  for (const key of keys) {
    if (!LABEL_KEY_RE.test(key)) v.fail('labels', `key ${showValue(key)} must be 1..63 characters of A-Z a-z 0-9 . _ / - starting and ending with a letter or digit`);
    const value = raw[key];
    if (typeof value !== 'string') v.fail(`labels.${key}`, `must be a string (got ${showValue(value)}; quote it in YAML)`);
    if (value.length > 256) v.fail(`labels.${key}`, 'must be at most 256 characters');
    if (hasControlChars(value) || value.includes(',')) v.fail(`labels.${key}`, 'must not contain control characters or commas');
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function validateHttp(v: DeviceValidator, raw: Record<string, unknown>, defaults: Defaults['http']): HttpSpec {
  const base = v.str(raw, 'http.baseUrl', { required: true, max: 2048 }) as string;
  // A URL may carry credentials ("https://user:pw@host"): show it only when it cannot.
  const shown = base.includes('@') ? 'the value is not shown' : `got ${showValue(base)}`;
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    v.fail('http.baseUrl', `must be an absolute http:// or https:// URL (${shown})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') v.fail('http.baseUrl', `must use http or https (${shown})`);
  if (url.username !== '' || url.password !== '') v.fail('http.baseUrl', 'must not contain credentials; use http.auth (the value is not shown)');
  if (url.search !== '' || url.hash !== '' || base.includes('?') || base.includes('#')) v.fail('http.baseUrl', `must not have a query or fragment (${shown})`);
  // Request paths are appended to this, so it is kept without a trailing slash.
  const baseUrl = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;

  const auth = validateHttpAuth(v, v.group(raw, 'auth'));
  const tls = validateTls(v, v.group(raw, 'tls'), url.protocol === 'https:');
  const limits = v.merged<Defaults['http']>(raw, 'http', defaults);
  return { baseUrl, auth, tls, ...limits };
}

const AUTH_FIELDS: Record<HttpAuth['type'], string[]> = {
  none: ['type'],
  basic: ['type', 'username', 'password', 'passwordFile'],
  bearer: ['type', 'token', 'tokenFile'],
  session: ['type', 'loginPath', 'username', 'password', 'passwordFile', 'tokenField', 'tokenHeader'],
};

function validateHttpAuth(v: DeviceValidator, raw: Record<string, unknown> | undefined): HttpAuth {
  if (raw === undefined) return { type: 'none' };
  const type = own(raw, 'type');
  const types = Object.keys(AUTH_FIELDS);
  if (typeof type !== 'string' || !types.includes(type)) v.fail('http.auth.type', `must be one of ${types.join(', ')} (got ${showValue(type)})`);
  const t = type as HttpAuth['type'];
  for (const key of Object.keys(raw)) {
    if (present(raw[key]) && !AUTH_FIELDS[t].includes(key)) v.fail(`http.auth.${key}`, `is not used by auth type ${t} (it takes ${AUTH_FIELDS[t].join(', ')})`);
  }
  const password = (): Secret => {
    const s = v.secret(raw, 'http.auth.password', 'http.auth.passwordFile');
    if (s === undefined) v.fail('http.auth.password', `is required for auth type ${t}: set password or passwordFile`);
    return s;
  };
  switch (t) {
    case 'none':
      return { type: 'none' };
    case 'basic': {
      const username = v.str(raw, 'http.auth.username', { required: true }) as string;
      if (username.includes(':')) v.fail('http.auth.username', 'must not contain ":" (basic auth cannot carry it)');
      return { type: 'basic', username, password: password() };
    }
    case 'bearer': {
      const token = v.secret(raw, 'http.auth.token', 'http.auth.tokenFile');
      if (token === undefined) v.fail('http.auth.token', 'is required for auth type bearer: set token or tokenFile');
      return { type: 'bearer', token };
    }
    case 'session': {
      const loginPath = v.str(raw, 'http.auth.loginPath', { required: true, max: 1024 }) as string;
      if (!loginPath.startsWith('/')) v.fail('http.auth.loginPath', `must start with "/" (got ${showValue(loginPath)})`);
      const username = v.str(raw, 'http.auth.username', { required: true }) as string;
      const out: HttpAuth = { type: 'session', loginPath, username, password: password() };
      const tokenField = v.str(raw, 'http.auth.tokenField');
      const tokenHeader = v.str(raw, 'http.auth.tokenHeader');
      if (tokenHeader !== undefined && !HEADER_NAME_RE.test(tokenHeader)) v.fail('http.auth.tokenHeader', `must be an HTTP header name (got ${showValue(tokenHeader)})`);
      if (tokenField !== undefined) out.tokenField = tokenField;
      if (tokenHeader !== undefined) out.tokenHeader = tokenHeader;
      return out;
    }
  }
}

function validateTls(v: DeviceValidator, raw: Record<string, unknown> | undefined, https: boolean): HttpTls {
  if (raw === undefined) return {};
  const out: HttpTls = {};
  const caFile = v.file(raw, 'http.tls.caFile');
  const certFile = v.file(raw, 'http.tls.certFile');
  const keyFile = v.file(raw, 'http.tls.keyFile');
  const serverName = v.str(raw, 'http.tls.serverName');
  const insecure = v.bool(raw, 'http.tls.insecureSkipVerify');
  const anySet = [caFile, certFile, keyFile, serverName].some((x) => x !== undefined) || insecure === true;
  if (anySet && !https) v.fail('http.tls', 'is set but http.baseUrl is not https://');
  if ((certFile === undefined) !== (keyFile === undefined)) v.fail(certFile === undefined ? 'http.tls.certFile' : 'http.tls.keyFile', 'certFile and keyFile must be given together');
  if (insecure === true && caFile !== undefined) v.fail('http.tls.insecureSkipVerify', 'cannot be combined with caFile (caFile would be ignored)');
  if (serverName !== undefined) {
    const problem = checkHost(serverName);
    if (problem !== undefined) v.fail('http.tls.serverName', `${problem} (got ${showValue(serverName)})`);
  }
  if (caFile !== undefined) out.caFile = caFile;
  if (certFile !== undefined) out.certFile = certFile;
  if (keyFile !== undefined) out.keyFile = keyFile;
  if (serverName !== undefined) out.serverName = serverName;
  if (insecure !== undefined) out.insecureSkipVerify = insecure;
  return out;
}

/**
 * Parse an inventory document (YAML or JSON) with a top-level `devices:` list.
 * Relative file paths inside it are resolved against the file's directory.
 */
export function parseInventory(text: string, fileName: string, defaults: Defaults): DeviceSpec[] {
  const where = `inventory ${fileName}`;
  const fail: (field: string, problem: string) => never = (field, problem) => {
    throw new WarmpoolError('CONFIG_INVALID', `${where}: ${field}: ${problem}`, { field });
  };
  const doc = parseStructuredText(text, fileName, where);
  // An empty document is refused rather than read as "no devices": a truncated or
  // half-mounted file on SIGHUP would otherwise drop the whole inventory.
  if (doc === undefined || doc === null) fail('devices', 'the file is empty; write `devices: []` for an inventory with no devices');
  if (!isPlainObject(doc)) fail('devices', `the file must be a mapping with a top-level devices: list (got ${showValue(doc)})`);
  for (const key of Object.keys(doc)) {
    if (key !== 'devices') fail(key, `unknown key${suggest(key, ['devices']) ? ' (did you mean "devices"?)' : ''}; the file holds a top-level devices: list`);
  }
  const list = own(doc, 'devices');
  if (!Array.isArray(list)) fail('devices', `must be a list of devices (got ${showValue(list)}); write \`devices: []\` for none`);
  const seen = new Map<string, number>();
  const baseDir = dirname(resolve(fileName));
  return list.map((entry: unknown, index: number) => {
    const spec = validateDevice(entry, defaults, 'file', where, { baseDir, index });
    const first = seen.get(spec.id);
    if (first !== undefined) {
      throw new WarmpoolError('CONFIG_INVALID', `${where}: devices[${index}]: id: duplicate id "${spec.id}" (first used by devices[${first}])`, {
        field: 'id',
        device: spec.id,
      });
    }
    seen.set(spec.id, index);
    return spec;
  });
}

export { DEVICE_FIELDS };
