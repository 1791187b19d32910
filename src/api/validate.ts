import type { AppConfig, SessionMode } from '../config/types.js';
import { compilePattern, PatternError, type Pattern } from '../core/pattern.js';
import { WarmpoolError } from '../errors.js';
import type { RunRequest__Output } from '../gen/warmpool/v1/RunRequest.js';
import type { RunManyRequest__Output } from '../gen/warmpool/v1/RunManyRequest.js';
import type { HttpRequest__Output } from '../gen/warmpool/v1/HttpRequest.js';

/**
 * Request validation: every malformed request becomes INVALID_ARGUMENT naming the
 * field, before anything touches a pool or a device.
 */

export const DEVICE_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
/** C0 controls other than TAB, DEL, and C1 controls: none belongs in a CLI command. */
const CONTROL_RE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
export const MAX_RUN_MANY_CONCURRENCY = 256;
export const DEFAULT_RUN_MANY_CONCURRENCY = 16;

export type Limits = AppConfig['limits'];

export interface ValidRun {
  device: string;
  commands: string[];
  /** undefined: the device's own mode. */
  mode: SessionMode | undefined;
  privileged: boolean;
  configure: boolean;
  stopOnError: boolean;
  commandTimeoutMs: number;
  cacheTtlMs: number;
  /** RE2 syntax, matched in linear time (core/pattern.ts); `^`/`$` match at line ends. */
  expect: Pattern | undefined;
  expectSource: string;
}

function invalid(field: string, problem: string, device?: string): WarmpoolError {
  const where = device ? `device "${device}": ` : '';
  return new WarmpoolError('INVALID_ARGUMENT', `${where}${field}: ${problem}`, { field, device });
}

export function validateDeviceId(id: unknown, field = 'device'): string {
  if (typeof id !== 'string' || id === '') throw invalid(field, 'is required');
  if (!DEVICE_ID_RE.test(id)) {
    throw invalid(field, `"${printable(id)}" is not a valid device id (1..128 of A-Z a-z 0-9 . _ : -)`);
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
  };
}

export interface ValidRunMany {
  template: ValidRun;
  devices: string[];
  labels: Record<string, string>;
  concurrency: number;
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

export interface ValidHttp {
  device: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  timeoutMs: number;
}

export function validateHttp(req: HttpRequest__Output, limits: Limits): ValidHttp {
  const device = validateDeviceId(req.device);
  const method = (req.method ?? '').toUpperCase();
  if (!HTTP_METHODS.has(method)) {
    throw invalid('method', `"${printable(req.method ?? '')}" is not one of ${[...HTTP_METHODS].join(', ')}`, device);
  }
  const path = req.path ?? '';
  if (!path.startsWith('/')) throw invalid('path', 'must start with "/"', device);
  if (/[\r\n\u0000]/.test(path)) throw invalid('path', 'contains a control character', device);
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
  return { device, method, path, headers, body, timeoutMs: req.timeout_ms ?? 0 };
}
