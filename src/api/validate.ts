import { X509Certificate } from 'node:crypto';
import type { AppConfig, SessionMode } from '../config/types.js';
import { compilePattern, PatternError, type Pattern } from '../core/pattern.js';
import { WarmpoolError } from '../core/errors.js';
import type { ValidHttp, ValidRun, ValidRunMany } from '../app/requests.js';
import { DEVICE_ID_RE, DEVICE_ID_RULE, HEADER_NAME_RE } from '../core/names.js';
import type { RunRequest__Output } from '../gen/warmpool/v1/RunRequest.js';
import type { RunManyRequest__Output } from '../gen/warmpool/v1/RunManyRequest.js';
import type { HttpRequest__Output } from '../gen/warmpool/v1/HttpRequest.js';
import type { Answer__Output } from '../gen/warmpool/v1/Answer.js';
import { answerPattern, MAX_ANSWERS, MAX_REPLY_LENGTH, type Answer } from '../session/answers.js';
import { normalizeHttpPath } from '../auth/http-path.js';
import { fingerprintSha256, hostFieldMatches, knownHostsName, parseKnownHosts } from '../transport/hostkey.js';

/**
 * Request validation: every malformed request becomes INVALID_ARGUMENT naming the
 * field, before anything touches a pool or a device.
 */

export { DEVICE_ID_RE } from '../core/names.js';
/** C0 controls other than TAB, DEL, and C1 controls: none belongs in a CLI command. */
const CONTROL_RE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
export const MAX_RUN_MANY_CONCURRENCY = 256;
export const DEFAULT_RUN_MANY_CONCURRENCY = 16;

export type Limits = AppConfig['limits'];
export type { ValidHttp, ValidRun, ValidRunMany };

function invalid(field: string, problem: string, device?: string): WarmpoolError {
  const where = device ? `device "${device}": ` : '';
  return new WarmpoolError('INVALID_ARGUMENT', `${where}${field}: ${problem}`, { field, device });
}

export function validateDeviceId(id: unknown, field = 'device'): string {
  if (typeof id !== 'string' || id === '') throw invalid(field, 'is required');
  if (!DEVICE_ID_RE.test(id)) {
    throw invalid(field, `"${printable(id)}" is not a valid device id (${DEVICE_ID_RULE})`);
  }
  return id;
}

function printable(s: string): string {
  const cut = s.length > 64 ? `${s.slice(0, 64)}...` : s;
  return JSON.stringify(cut).slice(1, -1);
}

function modeOf(m: unknown): SessionMode | undefined {
  switch (m) {
    case 'SESSION_MODE_SHELL':
    case 1:
      return 'shell';
    case 'SESSION_MODE_EXEC':
    case 2:
      return 'exec';
    case 'SESSION_MODE_NETCONF':
    case 3:
      throw invalid('mode', 'NETCONF is not a Run mode: send NETCONF RPCs with DeviceProxy.Netconf');
    case 'SESSION_MODE_UNSPECIFIED':
    case 0:
    case undefined:
    case null:
      return undefined;
    default:
      throw invalid('mode', `unknown session mode ${String(m)}`);
  }
}

/** `prefix` names the message the fields belong to (e.g. "template." inside RunMany). */
export function validateRun(req: RunRequest__Output, limits: Limits, prefix = '', requireDevice = true): ValidRun {
  const device = requireDevice ? validateDeviceId(req.device, `${prefix}device`) : '';
  const commands = req.commands ?? [];
  if (commands.length === 0) throw invalid(`${prefix}commands`, 'at least one command is required', device);
  if (commands.length > limits.maxCommandsPerRequest) {
    throw invalid(`${prefix}commands`, `${commands.length} commands exceed the limit of ${limits.maxCommandsPerRequest}`, device);
  }
  commands.forEach((c, i) => {
    const f = `${prefix}commands[${i}]`;
    if (c.trim() === '') throw invalid(f, 'is empty', device);
    if (c.length > limits.maxCommandLength) throw invalid(f, `is ${c.length} characters, over the limit of ${limits.maxCommandLength}`, device);
    if (/[\r\n]/.test(c)) throw invalid(f, 'contains a line break; send each command as its own entry', device);
    if (CONTROL_RE.test(c)) throw invalid(f, 'contains a control character', device);
  });
  let expect: Pattern | undefined;
  const expectSource = req.expect ?? '';
  if (expectSource !== '') {
    try {
      expect = compilePattern(expectSource, { field: `${prefix}expect`, kind: 'request', multiline: true });
    } catch (err) {
      throw invalid(`${prefix}expect`, err instanceof PatternError ? err.problem : 'is not a valid pattern', device);
    }
  }
  const answers = validateAnswers(req.answers ?? [], `${prefix}answers`, device);
  return {
    device,
    commands,
    mode: modeOf(req.mode),
    privileged: Boolean(req.privileged),
    configure: Boolean(req.configure),
    stopOnError: Boolean(req.stop_on_error),
    commandTimeoutMs: req.command_timeout_ms ?? 0,
    cacheTtlMs: req.cache_ttl_ms ?? 0,
    expect,
    expectSource,
    answers,
  };
}

/**
 * RunRequest.answers (docs/api.md "Interactive answers"): at most MAX_ANSWERS; each pattern under
 * the same RE2 caps as `expect`; each reply bounded, and free of line breaks and control characters
 * (the daemon sends the reply and one line break; a second line would be a second command).
 * Messages name the answer's index and never quote a reply (it may be secret).
 */
function validateAnswers(list: readonly Answer__Output[], field: string, device: string): Answer[] {
  if (list.length > MAX_ANSWERS) throw invalid(field, `${list.length} answers exceed the limit of ${MAX_ANSWERS}`, device);
  return list.map((a, i) => {
    const f = `${field}[${i}]`;
    const source = a.pattern ?? '';
    if (source === '') throw invalid(`${f}.pattern`, 'is required (the end of the question to answer, e.g. "\\[confirm\\]")', device);
    let pattern: Pattern;
    try {
      pattern = answerPattern(source, `${f}.pattern`);
    } catch (err) {
      throw invalid(`${f}.pattern`, err instanceof PatternError ? err.problem : 'is not a valid pattern', device);
    }
    // ".*" or "y?" would answer any line of output that pauses before its line break.
    if (pattern.test('')) throw invalid(`${f}.pattern`, 'matches an empty line, so it would answer any output; name the end of the question', device);
    const reply = a.reply ?? '';
    if (reply.length > MAX_REPLY_LENGTH) throw invalid(`${f}.reply`, `is ${reply.length} characters, over the limit of ${MAX_REPLY_LENGTH}`, device);
    if (/[\r\n]/.test(reply)) throw invalid(`${f}.reply`, 'contains a line break; the daemon sends one after the reply (use "" to answer with Enter alone)', device);
    if (CONTROL_RE.test(reply)) throw invalid(`${f}.reply`, 'contains a control character', device);
    return { source, pattern, reply, secret: Boolean(a.secret) };
  });
}

export function validateRunMany(req: RunManyRequest__Output, limits: Limits): ValidRunMany {
  if (!req.template) throw invalid('template', 'is required');
  const template = validateRun(req.template, limits, 'template.', false);
  const devices = (req.devices ?? []).map((d, i) => validateDeviceId(d, `devices[${i}]`));
  const labels = req.labels ?? {};
  if (devices.length === 0 && Object.keys(labels).length === 0) {
    throw invalid('devices', 'name at least one device or a label selector');
  }
  const concurrency = req.concurrency ?? 0;
  if (concurrency > MAX_RUN_MANY_CONCURRENCY) {
    throw invalid('concurrency', `${concurrency} is over the limit of ${MAX_RUN_MANY_CONCURRENCY}`);
  }
  return { template, devices: [...new Set(devices)], labels, concurrency: concurrency || DEFAULT_RUN_MANY_CONCURRENCY };
}

export function validateHttpRequest(req: HttpRequest__Output, limits: Limits): ValidHttp {
  const device = validateDeviceId(req.device);
  const method = (req.method ?? '').toUpperCase();
  if (!HTTP_METHODS.has(method)) {
    throw invalid('method', `"${printable(req.method ?? '')}" is not one of ${[...HTTP_METHODS].join(', ')}`, device);
  }
  // One normal form (http/path.ts): the policy checks it and the HTTP client sends it unchanged.
  const normal = normalizeHttpPath(req.path ?? '', device);
  // No prototype: a header named "__proto__" is a header, not a way to reach Object.prototype.
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(req.headers ?? {})) {
    if (!HEADER_NAME_RE.test(k)) throw invalid(`headers["${printable(k)}"]`, 'is not a valid header name', device);
    if (/[\r\n\u0000]/.test(v)) throw invalid(`headers["${k}"]`, 'value contains a control character', device);
    headers[k.toLowerCase()] = v;
  }
  const body = req.body && req.body.length > 0 ? Buffer.from(req.body) : undefined;
  if (body && body.length > limits.maxHttpBodyBytes) {
    throw invalid('body', `${body.length} bytes exceed the limit of ${limits.maxHttpBodyBytes}`, device);
  }
  return { device, method, path: normal.target, policyPath: normal.path, headers, body, timeoutMs: req.timeout_ms ?? 0 };
}

// ---------------------------------------------------------------------------------------------
// PutDevice: no file paths from API callers, and the inline forms that replace them.

/** What to send instead of each *_file field (proto names under `device.`). */
const INLINE_INSTEAD: Record<string, string> = {
  password_file: 'password',
  private_key_file: 'private_key',
  passphrase_file: 'passphrase',
  enable_secret_file: 'enable_secret',
  'host_key.known_hosts_file': 'host_key.fingerprints or host_key.known_hosts (the text)',
  'http.auth.password_file': 'http.auth.password',
  'http.auth.token_file': 'http.auth.token',
  'http.tls.ca_file': 'http.tls.ca_pem',
};

/**
 * Refuses every `*_file` field of a Device message, before anything looks at the filesystem.
 * WHY: a path from a remote caller is a question to the daemon's host. Even when the file is only
 * stat()ed, the reply says whether it exists; when it is read (a known_hosts file, a CA bundle,
 * a password file sent to a host the caller picked) its content can leak. The inventory FILE is
 * the operator's and may still name files. Walks the whole message, so a `*_file` field added to
 * the proto later is refused too.
 */
export function refuseFileReferences(msg: object, prefix = 'device.', id = (msg as { id?: unknown }).id): void {
  for (const [key, value] of Object.entries(msg)) {
    const path = `${prefix}${key}`;
    if (path === 'device.labels') continue; // a map: its keys are data, not field names
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value)) {
      refuseFileReferences(value as object, `${path}.`, id);
    } else if (key.endsWith('_file') && typeof value === 'string' && value !== '') {
      const local = path.slice('device.'.length);
      const instead = INLINE_INSTEAD[local];
      const device = typeof id === 'string' && id !== '' ? id : undefined;
      throw new WarmpoolError(
        'INVALID_ARGUMENT',
        `${device ? `device "${device}": ` : ''}${path}: file paths are not accepted over the API (they would let a caller probe or read the daemon's files); ` +
          `${instead ? `send ${instead} inline, or define the device in the inventory file` : 'it has no inline form: define this device in the inventory file'}`,
        { field: path, ...(device ? { device } : {}) },
      );
    }
  }
}

const MAX_KNOWN_HOSTS_CHARS = 64 * 1024;
const MAX_CA_PEM_CHARS = 256 * 1024;

/**
 * Inline known_hosts text → the fingerprints of the keys it lists for this device's host name
 * (OpenSSH's lookup name: `host`, or `[host]:port` off port 22; hashed entries included; a key
 * also marked @revoked is dropped; @cert-authority lines are not supported and ignored).
 */
export function fingerprintsFromKnownHosts(text: string, host: string, port: number, field = 'device.host_key.known_hosts', device?: string): string[] {
  if (text.length > MAX_KNOWN_HOSTS_CHARS) throw invalid(field, `is longer than ${MAX_KNOWN_HOSTS_CHARS} characters`, device);
  const name = knownHostsName(host, port || 22);
  const entries = parseKnownHosts(text).filter((e) => e.marker !== '@cert-authority' && hostFieldMatches(e.hosts, name));
  const revoked = new Set(entries.filter((e) => e.marker === '@revoked').map((e) => fingerprintSha256(e.blob)));
  const out = [...new Set(entries.filter((e) => e.marker === '').map((e) => fingerprintSha256(e.blob)))].filter((fp) => !revoked.has(fp));
  if (out.length === 0) {
    throw invalid(field, `has no usable key for ${name} (expected lines "HOSTS KEYTYPE BASE64-KEY" as ssh-keyscan prints them; hashed host names are matched against ${name})`, device);
  }
  return out;
}

/**
 * Inline PEM CA bundle: one or more certificates, each of which must parse. Returns the text
 * as given. The message never quotes the PEM.
 */
export function validateCaPem(pem: string, field = 'device.http.tls.ca_pem', device?: string): string {
  if (pem.length > MAX_CA_PEM_CHARS) throw invalid(field, `is longer than ${MAX_CA_PEM_CHARS} characters`, device);
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw invalid(field, 'must hold at least one PEM certificate ("-----BEGIN CERTIFICATE-----")', device);
  blocks.forEach((b, i) => {
    try {
      new X509Certificate(b);
    } catch {
      throw invalid(field, `certificate ${i + 1} of ${blocks.length} is not a valid X.509 certificate`, device);
    }
  });
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) throw invalid(field, 'contains a private key; send only CA certificates (the value is not shown)', device);
  return pem;
}
