/**
 * Small pure checks shared by the config schema (convict formats) and the device
 * validator, so a setting means the same thing whether it comes from the config
 * file's `defaults:` block or from one device's override.
 *
 * Each check returns a problem phrase ("must be an integer >= 1") or undefined;
 * callers add the key path, the source and a rendering of the offending value.
 */
import { isIP } from 'node:net';

/**
 * Node timers overflow above 2^31-1 ms: a larger delay fires after 1 ms instead
 * (with a TimeoutOverflowWarning). A timeout configured as "a very long time"
 * would therefore become "immediately", so every *Ms setting is capped here.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** Largest byte count we accept for size limits (1 TiB): far above any sane value, still a safe integer. */
export const MAX_BYTES = 2 ** 40;

/**
 * A size limit on what one reply carries (ssh.maxOutputBytes, http.maxResponseBytes) must stay
 * below grpc.maxSendMessageBytes, or every output near the limit would pass our cap and then be
 * refused by grpc-js with its own, device-less message. Returns a problem phrase or undefined.
 */
export function checkBelowSendLimit(value: number, sendLimit: number): string | undefined {
  if (value < sendLimit) return undefined;
  return `must be below grpc.maxSendMessageBytes (got ${value} >= ${sendLimit}): a reply carrying that much could not be sent; raise grpc.maxSendMessageBytes or lower this limit (RunStream carries outputs of any size)`;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function checkInt(v: unknown, min: number, max: number): string | undefined {
  if (typeof v !== 'number' || !Number.isInteger(v)) return min === 0 ? 'must be a non-negative integer' : `must be an integer >= ${min}`;
  if (v < min) return min === 0 ? 'must be a non-negative integer' : `must be an integer >= ${min}`;
  if (v > max) return `must be at most ${max}`;
  return undefined;
}

export function checkPort(v: unknown, allowZero: boolean): string | undefined {
  const min = allowZero ? 0 : 1;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 65535) return `must be a port number ${min}..65535`;
  return undefined;
}

const HOST_LABEL = /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/** A DNS name (underscores tolerated: they exist in real inventories), an IPv4 or an IPv6 address without brackets. */
export function checkHost(v: unknown): string | undefined {
  if (typeof v !== 'string' || v === '') return 'must be a non-empty host name or IP address';
  if (isIP(v) !== 0) return undefined;
  if (v.startsWith('[') && v.endsWith(']') && isIP(v.slice(1, -1)) === 6) return 'write an IPv6 address without brackets';
  if (v.length > 253) return 'must be at most 253 characters';
  const name = v.endsWith('.') ? v.slice(0, -1) : v;
  // All-numeric dotted names would be a malformed IPv4 address, not a host name.
  if (/^[0-9.]+$/.test(name)) return 'is not a valid IPv4 address';
  if (name.split('.').every((label) => HOST_LABEL.test(label))) return undefined;
  return 'must be a host name, an IPv4 address or an IPv6 address';
}

/**
 * "host:port" or "[v6]:port". Port 0 is allowed (the OS picks one; tests use it).
 * A bare "[::]:port" or "0.0.0.0:port" listens on every interface.
 */
export function parseListen(v: unknown): { host: string; port: number } | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(v);
  if (!m) return undefined;
  const host = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  if (m[1] !== undefined && isIP(host) !== 6) return undefined;
  if (m[2] !== undefined && checkHost(host) !== undefined) return undefined;
  return { host, port };
}

export function checkListen(v: unknown): string | undefined {
  return parseListen(v) ? undefined : 'must be "host:port" or "[ipv6]:port" with a port 0..65535';
}

/**
 * The socket path of a gRPC Unix-domain-socket listen address, in grpc-js's spellings:
 * "unix:///abs/path" or "unix:/abs/path" (absolute) and "unix:rel/path" (relative to the working
 * directory). Undefined when `v` is not a unix: address or its path is empty or has control characters.
 */
export function parseUnixListen(v: unknown): string | undefined {
  if (typeof v !== 'string' || !v.startsWith('unix:')) return undefined;
  const rest = v.slice('unix:'.length);
  // "unix://" needs an empty authority ("unix:///path"); "unix://host/path" names no local file.
  const path = rest.startsWith('//') ? (rest.startsWith('///') ? rest.slice(2) : '') : rest;
  if (path === '' || path.endsWith('/') || hasControlChars(path)) return undefined;
  return path;
}

/** grpc.listen: a TCP address, or a Unix domain socket for the sidecar case (docs/operations.md "Scaling out"). */
export function checkGrpcListen(v: unknown): string | undefined {
  if (parseUnixListen(v) !== undefined || parseListen(v)) return undefined;
  return 'must be "host:port" or "[ipv6]:port" with a port 0..65535, or "unix:///path/to/socket"';
}

/** A file mode written as a string of octal digits ("0660", "600"): YAML would read a bare 0660 as decimal 660. */
export function parseFileMode(v: unknown): number | undefined {
  if (typeof v !== 'string' || !/^0?[0-7]{3}$/.test(v)) return undefined;
  return parseInt(v, 8);
}

/** Control characters (including line breaks) never belong in names, labels or commands. */
export function hasControlChars(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(s);
}

/**
 * Render a rejected value for an error message. Long values are cut so a pasted
 * blob cannot flood a log line; callers never pass secret values here.
 */
export function showValue(v: unknown): string {
  let s: string;
  if (typeof v === 'string') s = JSON.stringify(v);
  else if (typeof v === 'number' || typeof v === 'boolean' || v === null) s = String(v);
  else if (v === undefined) s = 'nothing';
  else if (Array.isArray(v)) s = 'a list';
  else if (typeof v === 'object') s = 'a mapping';
  else s = `a ${typeof v}`;
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Only the kind of a value ("a string"), for places where the value itself might be a credential. */
export function showKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (isPlainObject(v)) return 'a mapping';
  return `a ${typeof v}`;
}

/** Closest candidate by edit distance, for "did you mean" hints on unknown keys. */
export function suggest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  const a = name.toLowerCase();
  for (const c of candidates) {
    const d = editDistance(a, c.toLowerCase());
    if (d < bestDist) {
      bestDist = d;
      best = c;
    }
  }
  return best !== undefined && bestDist <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Infinity;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? Infinity;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}
