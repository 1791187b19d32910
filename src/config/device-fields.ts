/**
 * The fields of one inventory device. The validator (inventory.ts) takes its
 * allowed keys from this list — a key not listed here is rejected as unknown —
 * and docgen.ts renders the same list, so the documentation cannot name a field
 * the validator refuses or miss one it accepts.
 *
 * pool.*, ssh.* and the http limits are taken from the config schema's
 * `defaults.*` keys: a device override means exactly what the default means.
 */
import { CONFIG_KEYS, formatInfo, type FormatName } from './schema.js';
import { PLATFORMS, SESSION_MODES } from './types.js';

export interface DeviceField {
  /** Dotted path inside one device entry. */
  path: string;
  /** Accepted value, phrased for the reference table. */
  type: string;
  /** Default, as Markdown for the reference table ('' when required or absent). */
  default: string;
  doc: string;
  /** For fields overriding a `defaults.*` setting: the schema format that checks it. */
  format?: FormatName;
  /** Holds a credential: never echoed in messages; a file variant is refused over the API. */
  secret?: boolean;
  /** A file whose contents are a credential: refused when the device comes over the gRPC API. */
  secretFile?: boolean;
  /** A free-form map (labels): its keys are data, not field names. */
  map?: boolean;
}

const f = (path: string, type: string, def: string, doc: string, extra: Partial<DeviceField> = {}): DeviceField => ({
  path,
  type,
  default: def,
  doc,
  ...extra,
});

function fromDefaults(group: 'pool' | 'ssh' | 'http'): DeviceField[] {
  const prefix = `defaults.${group}.`;
  return CONFIG_KEYS.filter((k) => k.path.startsWith(prefix)).map((k) =>
    f(`${group}.${k.path.slice(prefix.length)}`, formatInfo(k.format).describe, `\`${k.path}\``, k.doc, { format: k.format }),
  );
}

export const DEVICE_FIELDS: readonly DeviceField[] = [
  f('id', '1..128 of `A-Z a-z 0-9 . _ : -`', '', 'Unique device name used in every API call and metric.'),
  f('host', 'host name, IPv4 or IPv6 (no brackets)', '', 'Address of the device.'),
  f('port', 'port 1..65535', '`22`', 'SSH port.'),
  f('platform', PLATFORMS.join(' \\| '), '', 'Selects prompt, paging and error patterns. Required (guessing wrong corrupts output parsing). Netmiko `device_type` and Scrapli names are accepted as aliases, and `autodetect` probes the device once; see docs/platforms.md.'),
  f('mode', SESSION_MODES.join(' \\| '), 'linux: exec, others: shell', 'Default session mode; a request can ask for the other. `netconf`: NETCONF only (Run is refused; use the Netconf RPC).'),
  f('username', 'string', '', 'SSH login name. Required.'),
  f('password', 'string', '', 'SSH password, inline. Prefer passwordFile.', { secret: true }),
  f('passwordFile', 'file path', '', 'File holding the SSH password (a mounted Secret; re-read when it changes).', { secretFile: true }),
  f('privateKey', 'PEM / OpenSSH private key', '', 'Private key, inline. Prefer privateKeyFile.', { secret: true }),
  f('privateKeyFile', 'file path', '', 'File holding the private key. At least one of password(File) / privateKey(File) is required.', { secretFile: true }),
  f('passphrase', 'string', '', 'Passphrase of an encrypted private key, inline.', { secret: true }),
  f('passphraseFile', 'file path', '', 'File holding the key passphrase.', { secretFile: true }),
  f('enableSecret', 'string', '', 'Enable secret for privileged mode (Cisco-like platforms), inline.', { secret: true }),
  f('enableSecretFile', 'file path', '', 'File holding the enable secret.', { secretFile: true }),
  f('hostKey.fingerprints', 'list of `SHA256:<43 base64 chars>`', '', 'Pinned host key fingerprints (as printed by `ssh-keygen -lf`). Exactly one of fingerprints / knownHostsFile / acceptAny is required.'),
  f('hostKey.knownHostsFile', 'file path', '', 'OpenSSH known_hosts file (plain or hashed entries).'),
  f('hostKey.acceptAny', 'true', '', 'Explicitly skip host key checking (labs and simulators only; logged as a warning).'),
  f('prompt', 'RE2 regular expression (see docs/operations.md#patterns)', 'platform profile', 'Pattern that matches the prompt ending a command\'s output, tested on the last line only. Required for `generic`; must not match an empty string; at most 1000 instructions once compiled.'),
  f('pagingCommand', 'string ("" for none)', 'platform profile', 'Command that disables paging, sent once per shell session; "" sends none. Set it for `generic` devices that page.'),
  f('enableCommand', 'string', 'platform profile', 'Command that enters privileged mode.'),
  f('via', 'bastion id', '', 'Reach the device through this bastion (jump host) of the inventory file\'s `bastions:` list: its sessions are direct-tcpip channels over the bastion\'s pooled connection. The device\'s own host key is still checked.'),
  f('labels', 'map of string to string', '`{}`', 'Labels for selecting devices (RunMany, `many --labels`). Keys 1..63 of `A-Z a-z 0-9 . _ / -`; values up to 256 characters without control characters or commas.', { map: true }),
  ...fromDefaults('pool'),
  ...fromDefaults('ssh'),
  f('netconf.port', 'port 1..65535', 'the SSH `port`', 'NETCONF-over-SSH port (RFC 6242; usually 830). Setting `netconf` (even `netconf: {}`) keeps a NETCONF pool for the device; `mode: netconf` makes the device NETCONF-only.'),
  f('http.baseUrl', 'http(s) URL without query, fragment or credentials', '', 'Base URL of the device HTTP API; request paths are appended to it. Setting `http` enables the Http RPC for the device.'),
  f('http.auth.type', 'none \\| basic \\| bearer \\| session', '`none`', 'How requests authenticate.'),
  f('http.auth.username', 'string', '', 'basic, session: user name.'),
  f('http.auth.password', 'string', '', 'basic, session: password, inline.', { secret: true }),
  f('http.auth.passwordFile', 'file path', '', 'basic, session: file holding the password.', { secretFile: true }),
  f('http.auth.token', 'string', '', 'bearer: token, inline.', { secret: true }),
  f('http.auth.tokenFile', 'file path', '', 'bearer: file holding the token.', { secretFile: true }),
  f('http.auth.loginPath', 'path starting with /', '', 'session: where credentials are POSTed once; the session is renewed once on 401.'),
  f('http.auth.tokenField', 'string', '', 'session: JSON field of the login reply holding a token (absent: the Set-Cookie header is kept).'),
  f('http.auth.tokenHeader', 'HTTP header name', 'Authorization (Bearer)', 'session: header the token is sent in.'),
  f('http.tls.caFile', 'file path', 'system CAs', 'PEM CA bundle that signs the device certificate.'),
  f('http.tls.certFile', 'file path', '', 'Client certificate (PEM), with keyFile.'),
  f('http.tls.keyFile', 'file path', '', 'Client private key (PEM), with certFile.', { secretFile: true }),
  f('http.tls.serverName', 'host name', 'host of baseUrl', 'Name checked against the device certificate (and sent as SNI).'),
  f('http.tls.insecureSkipVerify', 'true \\| false', '`false`', 'Skip certificate verification (labs only; cannot be combined with caFile).'),
  ...fromDefaults('http'),
];

/** Keys allowed in the mapping at `prefix` ('' for the device itself). */
export function allowedKeys(prefix: string): string[] {
  const p = prefix === '' ? '' : `${prefix}.`;
  const keys = new Set<string>();
  for (const field of DEVICE_FIELDS) {
    if (field.path.startsWith(p)) keys.add(field.path.slice(p.length).split('.')[0] as string);
  }
  return [...keys];
}

export function deviceField(path: string): DeviceField | undefined {
  return DEVICE_FIELDS.find((fd) => fd.path === path);
}
