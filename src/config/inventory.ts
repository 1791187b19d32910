/**
 * Device validation, shared by the inventory file and the gRPC Inventory API
 * (which turns its proto message into a plain object with the YAML's keys).
 *
 * Every rejection names the device (or its position when the id itself is bad),
 * the field path and the problem, and never contains a secret value.
 */
import { dirname, resolve } from 'node:path';
import { compilePromptPattern, PatternError, type Pattern } from '../core/pattern.js';
import { WarmpoolError } from '../core/errors.js';
import { DEVICE_ID_RE } from '../core/names.js';
import { checkHost, checkPort, hasControlChars, isPlainObject, showKind, showValue, suggest } from './checks.js';
import { DEVICE_FIELDS } from './device-fields.js';
import { parseStructuredText } from './parse.js';
import { validateHttpSpec } from './device-http.js';
import { parseBastions } from './bastion.js';
import { DeviceValidator, own, present, type ValidateOptions } from './device-validator.js';
import {
  PLATFORMS,
  SESSION_MODES,
  type AppConfig,
  type BastionSpec,
  type DeviceSpec,
  type HostKeyPolicy,
  type NetconfSpec,
  type Platform,
  type PoolSettings,
  type SessionMode,
  type SshSettings,
} from './types.js';
import { resolvePlatformName } from '../platforms/aliases.js';
import { defaultModeFor } from '../platforms/profiles.js';

export type Defaults = AppConfig['defaults'];

export type { ValidateOptions };

const LABEL_KEY_RE = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$/;
// 32 bytes of SHA-256, base64 without padding, as `ssh-keygen -lf` prints it.
const FINGERPRINT_RE = /^SHA256:[A-Za-z0-9+/]{43}$/;
const MAX_LABELS = 64;
const MAX_FINGERPRINTS = 16;

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
  if (typeof id !== 'string' || !DEVICE_ID_RE.test(id)) v.fail('id', `must be 1..128 characters of A-Z a-z 0-9 . _ : - (got ${showValue(id)})`);
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

  // An unknown platform was refused above; 'shell' only keeps the checks below going.
  let mode = named.ok ? defaultModeFor(plat) : 'shell';
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

  const via = v.str(raw, 'via', { max: 128 });
  if (via !== undefined && !DEVICE_ID_RE.test(via)) v.fail('via', `must be a bastion id: 1..128 characters of A-Z a-z 0-9 . _ : - (got ${showValue(via)})`);

  const labels = validateLabels(v, own(raw, 'labels'));
  const pool = v.merged<PoolSettings>(v.group(raw, 'pool'), 'pool', defaults.pool);
  if (pool.min > pool.max) v.fail('pool.min', `must be <= pool.max (got min ${pool.min}, max ${pool.max})`);
  const ssh = v.merged<SshSettings>(v.group(raw, 'ssh'), 'ssh', defaults.ssh);

  const httpRaw = v.group(raw, 'http');
  const http = httpRaw === undefined ? undefined : validateHttpSpec(v, httpRaw, defaults.http);

  const netconf = validateNetconf(v, v.group(raw, 'netconf'));

  const spec: DeviceSpec = { id, host: host as string, port, platform: plat, mode, username, hostKey, labels, pool, ssh, source };
  if (password !== undefined) spec.password = password;
  if (privateKey !== undefined) spec.privateKey = privateKey;
  if (passphrase !== undefined) spec.passphrase = passphrase;
  if (enableSecret !== undefined) spec.enableSecret = enableSecret;
  if (prompt !== undefined) spec.prompt = prompt;
  if (pagingCommand !== undefined) spec.pagingCommand = pagingCommand;
  if (enableCommand !== undefined) spec.enableCommand = enableCommand;
  if (http !== undefined) spec.http = http;
  if (netconf !== undefined) spec.netconf = netconf;
  if (via !== undefined) spec.via = via;
  return spec;
}

/** `netconf: { port }`: the NETCONF-over-SSH endpoint (`netconf: {}` uses the SSH port). */
function validateNetconf(v: DeviceValidator, raw: Record<string, unknown> | undefined): NetconfSpec | undefined {
  if (raw === undefined) return undefined;
  const port = own(raw, 'port');
  if (!present(port)) return {};
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) v.fail('netconf.port', `must be a port 1..65535 (got ${showValue(port)})`);
  return { port };
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
    if (value === 0 && (p === 'port' || p === 'netconf.port')) continue;
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

export function validateHostKey(v: DeviceValidator, hk: Record<string, unknown> | undefined): HostKeyPolicy {
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

/** A parsed inventory file: its devices and its bastions (jump hosts). */
export interface Inventory {
  devices: DeviceSpec[];
  bastions: BastionSpec[];
}

/**
 * Parse an inventory document (YAML or JSON) with a top-level `devices:` list (and an optional
 * `bastions:` list). Relative file paths inside it are resolved against the file's directory.
 */
export function parseInventory(text: string, fileName: string, defaults: Defaults): DeviceSpec[] {
  return parseInventoryDocument(text, fileName, defaults).devices;
}

/** parseInventory with the bastions too; every device's `via` names one of them. */
export function parseInventoryDocument(text: string, fileName: string, defaults: Defaults): Inventory {
  return inventoryFromDocument(parseStructuredText(text, fileName, `inventory ${fileName}`), fileName, defaults);
}

/** The rules of parseInventoryDocument on an already-parsed document (`warmpool check` parses with positions). */
export function inventoryFromDocument(doc: unknown, fileName: string, defaults: Defaults): Inventory {
  const where = `inventory ${fileName}`;
  const fail: (field: string, problem: string) => never = (field, problem) => {
    throw new WarmpoolError('CONFIG_INVALID', `${where}: ${field}: ${problem}`, { field });
  };
  // An empty document is refused rather than read as "no devices": a truncated or
  // half-mounted file on SIGHUP would otherwise drop the whole inventory.
  if (doc === undefined || doc === null) fail('devices', 'the file is empty; write `devices: []` for an inventory with no devices');
  if (!isPlainObject(doc)) fail('devices', `the file must be a mapping with a top-level devices: list (got ${showValue(doc)})`);
  for (const key of Object.keys(doc)) {
    if (key !== 'devices' && key !== 'bastions') {
      const hint = suggest(key, ['devices', 'bastions']);
      fail(key, `unknown key${hint ? ` (did you mean "${hint}"?)` : ''}; the file holds a top-level devices: list (and optionally bastions:)`);
    }
  }
  const list = own(doc, 'devices');
  if (!Array.isArray(list)) fail('devices', `must be a list of devices (got ${showValue(list)}); write \`devices: []\` for none`);
  const seen = new Map<string, number>();
  const baseDir = dirname(resolve(fileName));
  const devices = list.map((entry: unknown, index: number) => {
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
  const bastions = parseBastions(own(doc, 'bastions'), devices, defaults, where, baseDir);
  return { devices, bastions };
}

export { DEVICE_FIELDS };
