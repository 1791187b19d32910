/**
 * The inventory file's top-level `bastions:` list (jump hosts) and the devices' `via:` references.
 *
 * A bastion entry uses the device's names for what it shares with a device (id, host, port,
 * username, credentials, hostKey, ssh.*) and the same readers (device-validator.ts), so a
 * credential or host-key policy means the same thing in both lists. Bastions come only from the
 * inventory file: the Inventory API can point a device at one (`via`) but not define one
 * (docs/api.md, "Bastions").
 *
 * Every rejection names the bastion (or its position), the field and the problem, never a secret.
 */
import { WarmpoolError } from '../core/errors.js';
import { DEVICE_ID_RE } from '../core/names.js';
import { checkHost, checkInt, checkPort, isPlainObject, showKind, showValue, suggest, MAX_TIMER_MS } from './checks.js';
import { DeviceValidator, own, present, type ValidateOptions } from './device-validator.js';
import { validateHostKey, type Defaults } from './inventory.js';
import type { BastionSpec, DeviceSpec, SshSettings } from './types.js';

/** One bastion connection carries at most this many device channels unless configured otherwise. */
export const DEFAULT_CHANNELS_PER_CONNECTION = 64;
/** Longest chain of bastions (a device via b1 via b2 ...): deeper is more likely a mistake than a network. */
export const MAX_CHAIN = 8;

export interface BastionField {
  path: string;
  type: string;
  default: string;
  doc: string;
}

const SSH_KEYS = ['connectTimeoutMs', 'keepaliveIntervalMs', 'keepaliveCountMax', 'legacyAlgorithms'] as const;

/** The fields of one bastion entry (rendered in docs/configuration.md by docgen.ts). */
export const BASTION_FIELDS: readonly BastionField[] = [
  { path: 'id', type: '1..128 of `A-Z a-z 0-9 . _ : -`', default: '', doc: 'Unique bastion name; devices name it in `via:`. It is the `device` of the bastion\'s PoolStats entry and metrics (protocol `bastion`).' },
  { path: 'host', type: 'host name, IPv4 or IPv6 (no brackets)', default: '', doc: 'Address of the jump host.' },
  { path: 'port', type: 'port 1..65535', default: '`22`', doc: 'SSH port.' },
  { path: 'username', type: 'string', default: '', doc: 'Login name on the jump host. Required.' },
  { path: 'password', type: 'string', default: '', doc: 'Password, inline. Prefer passwordFile.' },
  { path: 'passwordFile', type: 'file path', default: '', doc: 'File holding the password.' },
  { path: 'privateKey', type: 'PEM / OpenSSH private key', default: '', doc: 'Private key, inline. Prefer privateKeyFile.' },
  { path: 'privateKeyFile', type: 'file path', default: '', doc: 'File holding the private key. At least one of password(File) / privateKey(File) is required.' },
  { path: 'passphrase', type: 'string', default: '', doc: 'Passphrase of an encrypted private key, inline.' },
  { path: 'passphraseFile', type: 'file path', default: '', doc: 'File holding the key passphrase.' },
  { path: 'hostKey.fingerprints', type: 'list of `SHA256:<43 base64 chars>`', default: '', doc: 'The jump host\'s pinned host keys; exactly one of fingerprints / knownHostsFile / acceptAny, as for devices.' },
  { path: 'hostKey.knownHostsFile', type: 'file path', default: '', doc: 'OpenSSH known_hosts file.' },
  { path: 'hostKey.acceptAny', type: 'true', default: '', doc: 'Skip host key checking (labs only; logged as a warning).' },
  { path: 'via', type: 'bastion id', default: '', doc: `Reach this bastion through another one (a chain, at most ${MAX_CHAIN} deep; cycles are refused).` },
  { path: 'maxConnections', type: 'integer 1..64', default: '`1`', doc: 'SSH connections (logins) to the jump host at most. One carries every device session up to maxChannelsPerConnection.' },
  { path: 'maxChannelsPerConnection', type: 'integer 1..1024', default: `\`${DEFAULT_CHANNELS_PER_CONNECTION}\``, doc: 'Device sessions (direct-tcpip channels) one connection carries before another is opened; past maxConnections × this, new device sessions wait (up to their connect timeout). See docs/operations.md#bastions.' },
  { path: 'interactive', type: 'true \\| false', default: '`true`', doc: 'Hold a PTY shell on each connection to the jump host, so that an OpenSSH sshd treats the connection as interactive and sets TCP_NODELAY on it. Without it, sshd\'s Nagle delay adds about 40 ms to every round trip of every device session behind it (bench/bastion.ts). Costs one session channel and a shell process on the jump host; where shells are refused the connection works without it (logged). Set false to hold no shell.' },
  { path: 'idleTimeoutMs', type: 'integer ms', default: '`defaults.pool.idleTimeoutMs`', doc: 'A bastion connection carrying no device session is closed after this long.' },
  ...SSH_KEYS.map((k) => ({ path: `ssh.${k}`, type: k === 'legacyAlgorithms' ? 'true \\| false' : 'integer', default: `\`defaults.ssh.${k}\``, doc: 'As for devices; applies to the connection to the jump host.' })),
];

const TOP_KEYS = [...new Set(BASTION_FIELDS.map((f) => f.path.split('.')[0] as string))];

function fail(v: DeviceValidator, field: string, problem: string): never {
  return v.fail(field, problem);
}

/** Validate one `bastions:` entry. Throws CONFIG_INVALID naming the bastion, the field and the problem. */
export function validateBastion(input: unknown, defaults: Defaults, where: string, opts: ValidateOptions = {}): BastionSpec {
  const v = new DeviceValidator('file', where, { ...opts, kind: 'bastion' });
  if (!isPlainObject(input)) fail(v, '(entry)', `must be a mapping of bastion fields (got ${showKind(input)})`);
  const raw = input;
  const id = own(raw, 'id');
  if (!present(id)) fail(v, 'id', 'is required');
  if (typeof id !== 'string' || !DEVICE_ID_RE.test(id)) fail(v, 'id', `must be 1..128 characters of A-Z a-z 0-9 . _ : - (got ${showValue(id)})`);
  v.named(id);

  for (const key of Object.keys(raw)) {
    if (!TOP_KEYS.includes(key)) {
      const hint = suggest(key, TOP_KEYS);
      fail(v, key, `unknown field${hint === undefined ? '' : ` (did you mean "${hint}"?)`}`);
    }
  }
  for (const group of ['hostKey', 'ssh'] as const) {
    const g = own(raw, group);
    if (!present(g)) continue;
    if (!isPlainObject(g)) fail(v, group, `must be a mapping (got ${showKind(g)})`);
    const allowed = BASTION_FIELDS.filter((f) => f.path.startsWith(`${group}.`)).map((f) => f.path.slice(group.length + 1));
    for (const key of Object.keys(g)) {
      if (!allowed.includes(key)) {
        const hint = suggest(key, allowed);
        fail(v, `${group}.${key}`, `unknown field${hint === undefined ? '' : ` (did you mean "${hint}"?)`}${group === 'ssh' ? `; a bastion takes ssh.${allowed.join(', ssh.')}` : ''}`);
      }
    }
  }

  const host = own(raw, 'host');
  if (!present(host)) fail(v, 'host', 'is required');
  const hostProblem = checkHost(host);
  if (hostProblem !== undefined) fail(v, 'host', `${hostProblem} (got ${showValue(host)})`);
  let port = 22;
  const rawPort = own(raw, 'port');
  if (present(rawPort)) {
    const problem = checkPort(rawPort, false);
    if (problem !== undefined) fail(v, 'port', `${problem} (got ${showValue(rawPort)})`);
    port = rawPort as number;
  }
  const username = v.str(raw, 'username', { required: true }) as string;
  const password = v.secret(raw, 'password', 'passwordFile');
  const privateKey = v.secret(raw, 'privateKey', 'privateKeyFile', 65536);
  if (privateKey !== undefined && privateKey.file === undefined && !(own(raw, 'privateKey') as string).includes('-----BEGIN ')) {
    fail(v, 'privateKey', 'must be a PEM or OpenSSH private key ("-----BEGIN ..."); the value is not shown');
  }
  const passphrase = v.secret(raw, 'passphrase', 'passphraseFile');
  if (passphrase !== undefined && privateKey === undefined) fail(v, present(own(raw, 'passphrase')) ? 'passphrase' : 'passphraseFile', 'is only used with privateKey or privateKeyFile');
  if (password === undefined && privateKey === undefined) {
    fail(v, 'password', 'a credential is required: set password, passwordFile, privateKey or privateKeyFile');
  }
  const hostKey = validateHostKey(v, v.group(raw, 'hostKey'));

  const via = v.str(raw, 'via', { max: 128 });
  if (via !== undefined && !DEVICE_ID_RE.test(via)) fail(v, 'via', `must be a bastion id (got ${showValue(via)})`);
  if (via === id) fail(v, 'via', `names the bastion itself ("${id}"): a bastion cannot be reached through itself`);

  const int = (key: string, min: number, max: number, def: number): number => {
    const value = own(raw, key);
    if (!present(value)) return def;
    const problem = checkInt(value, min, max);
    if (problem !== undefined) fail(v, key, `${problem} (got ${showValue(value)})`);
    return value as number;
  };
  const maxConnections = int('maxConnections', 1, 64, 1);
  const maxChannelsPerConnection = int('maxChannelsPerConnection', 1, 1024, DEFAULT_CHANNELS_PER_CONNECTION);
  const idleTimeoutMs = int('idleTimeoutMs', 0, MAX_TIMER_MS, defaults.pool.idleTimeoutMs);
  const interactive = v.bool(raw, 'interactive') ?? true;

  const sshRaw = v.group(raw, 'ssh');
  const ssh: SshSettings = { ...defaults.ssh };
  if (sshRaw !== undefined) {
    for (const k of SSH_KEYS) {
      const value = v.setting(sshRaw, `ssh.${k}`);
      if (value !== undefined) (ssh as unknown as Record<string, unknown>)[k] = value;
    }
  }

  const spec: BastionSpec = { id, host: host as string, port, username, hostKey, maxConnections, maxChannelsPerConnection, idleTimeoutMs, interactive, ssh };
  if (password !== undefined) spec.password = password;
  if (privateKey !== undefined) spec.privateKey = privateKey;
  if (passphrase !== undefined) spec.passphrase = passphrase;
  if (via !== undefined) spec.via = via;
  return spec;
}

/**
 * Parse the `bastions:` list (absent or null: none), then check every `via` of the bastions and of
 * the devices: an unknown id, a cycle and a chain deeper than MAX_CHAIN are refused, each naming
 * the entry and the key.
 */
export function parseBastions(list: unknown, devices: DeviceSpec[], defaults: Defaults, where: string, baseDir: string): BastionSpec[] {
  const failTop: (field: string, problem: string) => never = (field, problem) => {
    throw new WarmpoolError('CONFIG_INVALID', `${where}: ${field}: ${problem}`, { field });
  };
  const bastions: BastionSpec[] = [];
  if (present(list)) {
    if (!Array.isArray(list)) failTop('bastions', `must be a list of bastions (got ${showValue(list)})`);
    const seen = new Map<string, number>();
    list.forEach((entry: unknown, index: number) => {
      const b = validateBastion(entry, defaults, where, { baseDir, index });
      const first = seen.get(b.id);
      if (first !== undefined) failTop(`bastions[${index}].id`, `duplicate id "${b.id}" (first used by bastions[${first}])`);
      seen.set(b.id, index);
      bastions.push(b);
    });
  }
  const byId = new Map(bastions.map((b) => [b.id, b]));
  const known = (): string => (bastions.length === 0 ? 'the file defines no bastions: add a top-level bastions: list' : `known bastions: ${[...byId.keys()].join(', ')}`);
  for (const b of bastions) {
    // Walk the chain from b: every hop must exist, and b must not come round again.
    const path = [b.id];
    for (let cur = b; cur.via !== undefined; ) {
      const next = byId.get(cur.via);
      if (!next) {
        const hint = suggest(cur.via, [...byId.keys()]);
        failTop(`bastion "${cur.id}": via`, `unknown bastion "${cur.via}"${hint ? ` (did you mean "${hint}"?)` : ''}; ${known()}`);
      }
      if (path.includes(next.id)) failTop(`bastion "${b.id}": via`, `bastions form a cycle: ${[...path, next.id].join(' -> ')}`);
      path.push(next.id);
      if (path.length > MAX_CHAIN) failTop(`bastion "${b.id}": via`, `chain is longer than ${MAX_CHAIN} bastions: ${path.join(' -> ')}`);
      cur = next;
    }
  }
  devices.forEach((d) => {
    if (d.via !== undefined && !byId.has(d.via)) {
      const hint = suggest(d.via, [...byId.keys()]);
      throw new WarmpoolError('CONFIG_INVALID', `${where}: device "${d.id}": via: unknown bastion "${d.via}"${hint ? ` (did you mean "${hint}"?)` : ''}; ${known()}`, {
        field: 'via',
        device: d.id,
      });
    }
  });
  return bastions;
}
