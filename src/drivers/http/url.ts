/**
 * Request validation for the device HTTP API: method allow-list, safe path join and header hygiene.
 *
 * WHY: the path comes from a remote gRPC caller. It must stay on the device's origin and under the
 * configured base path (baseUrl `https://h/api` confines callers to `/api/...`), so scheme/host
 * smuggling (`http://x`, `//evil.com/x`), dot-segment escapes (also percent-encoded: `%2e%2e`) and
 * header injection (CR/LF) are refused before anything is sent.
 */
import { WarmpoolError } from '../../core/errors.js';
import { normalizeHttpPath } from '../../auth/http-path.js';

export const ALLOWED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof ALLOWED_METHODS)[number];

/** Methods RFC 9110 calls idempotent: safe to send again when the connection died before any reply. */
const IDEMPOTENT = new Set<string>(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

function invalid(device: string, field: string, reason: string): WarmpoolError {
  return new WarmpoolError('INVALID_ARGUMENT', `device ${device}: invalid ${field}: ${reason}`, { device, field });
}

/** Upper-cases and checks the method against the allow-list. */
export function checkMethod(device: string, method: string): HttpMethod {
  const m = String(method ?? '').toUpperCase();
  if (!(ALLOWED_METHODS as readonly string[]).includes(m)) {
    throw invalid(device, 'method', `${JSON.stringify(String(method).slice(0, 32))} is not one of ${ALLOWED_METHODS.join(' ')}`);
  }
  return m as HttpMethod;
}

/** The base URL's path without a trailing slash ('' for the root). */
export function basePathOf(baseUrl: URL): string {
  return baseUrl.pathname.replace(/\/+$/, '');
}

/**
 * Joins the caller's `path` (with optional query) under the base path and returns the
 * request target for the device's origin, e.g. base `/api` + `/v1/x?a=1` → `/api/v1/x?a=1`.
 * The path is first brought to its one normal form (path.ts: dot segments applied, `//`
 * collapsed, unreserved escapes decoded); an already normal path (what the API validated and the
 * policy checked) passes through unchanged, so the device receives exactly that string.
 * Throws INVALID_ARGUMENT (field `path`) for anything that could leave the base path or origin.
 */
export function joinPath(device: string, baseUrl: URL, path: string): string {
  const n = normalizeHttpPath(path, device);
  return `${basePathOf(baseUrl)}${n.target}`;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) and headers the client computes itself. */
const DROPPED_HEADERS = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'content-length', 'expect',
]);

/**
 * Lower-cases header names, drops hop-by-hop and computed headers and any header the device's
 * auth owns (a caller may not replace the device credential), and refuses CR/LF/NUL in names or values.
 */
export function cleanHeaders(device: string, headers: Record<string, string> | undefined, ownedByAuth: ReadonlySet<string>): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [rawName, rawValue] of Object.entries(headers ?? {})) {
    const name = rawName.toLowerCase();
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) throw invalid(device, 'headers', `header name ${JSON.stringify(rawName.slice(0, 64))} is not a valid token`);
    const value = String(rawValue ?? '');
    // eslint-disable-next-line no-control-regex
    if (/[\r\n\u0000]/.test(value)) throw invalid(device, 'headers', `value of header ${name} contains CR, LF or NUL`);
    // WHY: undici refuses any other control or non-Latin-1 character too, but a Pool then marks the
    // connection it picked as busy forever; maxConnections such requests left the device's HTTP pool
    // hung (every later request waited for its deadline). Refuse them here, before undici sees them.
    // eslint-disable-next-line no-control-regex
    if (/[^\t\x20-\x7e\x80-\xff]/.test(value)) throw invalid(device, 'headers', `value of header ${name} contains a control character or a character outside Latin-1`);
    if (DROPPED_HEADERS.has(name) || ownedByAuth.has(name)) continue;
    out[name] = value;
  }
  return out;
}
