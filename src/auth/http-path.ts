/**
 * The one normal form of an HTTP request path from an API caller.
 *
 * WHY: the authorization policy matches `httpPaths` regexes against a path, and the device routes
 * on the path it receives. If the two see different strings, a caller can talk the policy around:
 * `/restconf/data/../../admin/reboot`, `/restconf/data/%73ecret`, `/x/..;/admin` (Tomcat drops
 * `;...`), `/x/%2e%2e/admin` all name a resource the policy never saw. So the path is normalised
 * ONCE, here; the policy checks that string and exactly that string is sent (under the base path).
 *
 * Normal form (RFC 3986 §6.2.2 plus refusals for what servers disagree on):
 *   - percent-escapes of unreserved characters (A-Z a-z 0-9 - . _ ~) are decoded (`%73` → `s`),
 *     every other escape is kept with upper-case hex (`%3a` → `%3A`);
 *   - empty segments are dropped (`//` → `/`), `.` segments removed and `..` segments applied
 *     (§5.2.4 remove_dot_segments); a path ending in a dot segment keeps its trailing `/`;
 *   - refused (INVALID_ARGUMENT, field `path`): a leading `//` (protocol-relative URL); encoded `/` (%2F), `\` (%5C), NUL and other
 *     control characters (%00-%1F, %7F); an encoded `.` that forms a dot segment (`%2e%2e`);
 *     a segment of three or more dots (`...`); `..` above the root; a double-encoded escape
 *     (`%252e`: a server that decodes twice would see `%2e`); invalid UTF-8 in escapes (overlong
 *     `%c0%ae` is a `.` to a sloppy decoder); an encoded character whose compatibility form is a
 *     dot segment, `/` or `\` (fullwidth `．．`, `／`); raw backslashes, `;` path parameters, spaces,
 *     control and non-ASCII characters, `#` and anything else RFC 3986 does not allow in a path;
 *     a malformed escape (`%zz`).
 *   - The query (`?...`) is kept verbatim and never affects path matching. It may hold any visible
 *     ASCII character except `#`; its escapes must be well formed.
 * Normalising an already normal path returns it unchanged (idempotent): the HTTP client normalises
 * again before sending, so direct users of the client get the same guarantees.
 */
import { WarmpoolError } from '../core/errors.js';

const MAX_PATH_LENGTH = 8192;

export interface NormalPath {
  /** The normalised path, starting with "/" (no query). What the policy matches. */
  path: string;
  /** The query including its "?", or ''. Forwarded unchanged. */
  query: string;
  /** path + query: the request target under the device's base path. */
  target: string;
}

/** Characters RFC 3986 allows raw in a path segment, minus `;` (path parameters, refused). */
const SEGMENT_CHAR = /^[A-Za-z0-9\-._~!$&'()*+,=:@%]*$/;
/** Visible ASCII except `#` (fragment). */
const QUERY_CHAR = /^[\x21-\x22\x24-\x7e]*$/;
const UNRESERVED = /[A-Za-z0-9\-._~]/;
const HEX2 = /^[0-9A-Fa-f]{2}$/;

function refuse(reason: string, device?: string): WarmpoolError {
  const where = device ? `device "${device}": ` : '';
  return new WarmpoolError('INVALID_ARGUMENT', `${where}path: ${reason}`, { field: 'path', ...(device ? { device } : {}) });
}

/** Normalise a caller's path (with optional query). Throws INVALID_ARGUMENT naming `path`. */
export function normalizeHttpPath(input: string, device?: string): NormalPath {
  if (typeof input !== 'string' || input === '') throw refuse('must not be empty', device);
  if (input.length > MAX_PATH_LENGTH) throw refuse(`is longer than ${MAX_PATH_LENGTH} characters`, device);
  if (!input.startsWith('/')) throw refuse('must start with "/" (no scheme or host)', device);
  // Collapsing would make it safe here, but "//host/x" is a protocol-relative URL to every URL
  // parser a device might put it through: refuse the shape rather than guess.
  if (input.startsWith('//')) throw refuse('must not start with "//" (protocol-relative URL)', device);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(input)) throw refuse('contains a control character', device);
  if (/[^\u0000-\u007f]/.test(input)) throw refuse('contains a non-ASCII character; percent-encode it as UTF-8', device);
  if (input.includes('#')) throw refuse('must not contain a fragment ("#")', device);

  const q = input.indexOf('?');
  const rawPath = q === -1 ? input : input.slice(0, q);
  const query = q === -1 ? '' : input.slice(q);
  if (!QUERY_CHAR.test(query.slice(1))) throw refuse('the query contains a space or a character not allowed in a URL', device);
  checkEscapes(query, device, 'the query');

  if (rawPath.includes('\\')) throw refuse('must not contain a backslash', device);
  if (rawPath.includes(';')) throw refuse('must not contain ";" (path parameters: servers disagree on them, so the policy could not know what the device routes)', device);

  const out: string[] = [];
  const segments = rawPath.split('/');
  for (let i = 1; i < segments.length; i++) {
    const raw = segments[i] as string;
    const last = i === segments.length - 1;
    if (raw === '') {
      // `//` collapses; a trailing "/" is kept.
      if (last && out.length > 0) out.push('');
      continue;
    }
    if (!SEGMENT_CHAR.test(raw)) throw refuse(`segment "${raw.slice(0, 64)}" contains a character not allowed in a URL path (quote it with %XX)`, device);
    const seg = normalizeSegment(raw, device);
    if (seg === '.') {
      if (last) out.push('');
      continue;
    }
    if (seg === '..') {
      // The previous real segment goes; a pending trailing '' can only be at the end, so none here.
      if (out.length === 0) throw refuse('must not climb above "/" ("..")', device);
      out.pop();
      if (last) out.push('');
      continue;
    }
    out.push(seg);
  }
  const path = `/${out.join('/')}`;
  return { path, query, target: path + query };
}

/** Decode unreserved escapes, upper-case the rest, refuse what servers would read differently. */
function normalizeSegment(raw: string, device: string | undefined): string {
  let s = '';
  let encodedDot = false;
  let nonAscii = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c !== '%') {
      s += c;
      continue;
    }
    const hex = raw.slice(i + 1, i + 3);
    if (!HEX2.test(hex)) throw refuse(`malformed percent-escape "${raw.slice(i, i + 3)}"`, device);
    const byte = parseInt(hex, 16);
    i += 2;
    if (byte === 0x2f) throw refuse('must not contain an encoded "/" (%2F)', device);
    if (byte === 0x5c) throw refuse('must not contain an encoded backslash (%5C)', device);
    if (byte === 0x00) throw refuse('must not contain an encoded NUL (%00)', device);
    if (byte < 0x20 || byte === 0x7f) throw refuse(`must not contain an encoded control character (%${hex.toUpperCase()})`, device);
    if (byte === 0x25 && HEX2.test(raw.slice(i + 1, i + 3))) {
      throw refuse(`must not contain a double-encoded escape ("%25${raw.slice(i + 1, i + 3)}")`, device);
    }
    const ch = String.fromCharCode(byte);
    if (byte < 0x80 && UNRESERVED.test(ch)) {
      if (ch === '.') encodedDot = true;
      s += ch;
    } else {
      if (byte >= 0x80) nonAscii = true;
      s += `%${hex.toUpperCase()}`;
    }
  }
  if (/^\.+$/.test(s)) {
    if (s.length > 2) throw refuse(`segment "${s.slice(0, 16)}" is only dots`, device);
    if (encodedDot) throw refuse('an encoded "." (%2E) must not form a "." or ".." segment', device);
  }
  if (nonAscii) checkUtf8(s, device);
  return s;
}

/** Escaped bytes ≥ 0x80 must be valid UTF-8 whose compatibility form is not a dot segment, "/" or "\". */
function checkUtf8(seg: string, device: string | undefined): void {
  let text: string;
  try {
    text = decodeURIComponent(seg); // throws URIError on invalid UTF-8, overlong forms included
  } catch {
    throw refuse('contains percent-escapes that are not valid UTF-8 (e.g. an overlong "%C0%AE")', device);
  }
  const compat = text.normalize('NFKC');
  if (/[/\\]/.test(compat) || /^\.+$/.test(compat)) {
    throw refuse(`segment "${seg.slice(0, 64)}" decodes to a character that servers may read as ".", "/" or "\\"`, device);
  }
}

function checkEscapes(s: string, device: string | undefined, what: string): void {
  for (let i = s.indexOf('%'); i !== -1; i = s.indexOf('%', i + 1)) {
    if (!HEX2.test(s.slice(i + 1, i + 3))) throw refuse(`${what} has a malformed percent-escape "${s.slice(i, i + 3)}"`, device);
  }
}

/** True when `p` (path without query) is already in normal form. */
export function isNormalPath(p: string): boolean {
  try {
    const n = normalizeHttpPath(p);
    return n.query === '' && n.path === p;
  } catch {
    return false;
  }
}
