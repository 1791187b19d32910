import { createHash, createHmac, randomBytes } from 'node:crypto';

/**
 * Spec fingerprints: "is this device spec (or this part of it) the same as before, so the
 * sessions built from the old one can be kept?" One answer for every caller (the inventory
 * registry at reload, the SSH pools, the HTTP clients), so they cannot disagree about whether a
 * change happened.
 *
 * The value is a stable hash of a canonical form:
 * - plain objects count by their keys in sorted order, so two specs built in a different field
 *   order are the same; a key whose value is `undefined` counts as absent (as in JSON), so an
 *   optional field left out and one set to `undefined` are the same;
 * - arrays count in order; strings, finite numbers, booleans and null by value; `NaN`,
 *   `Infinity` and `-0` are told apart from `null` and `0`;
 * - anything else (a function, a Map, a class instance other than a Secret, a cycle) is a
 *   TypeError: a fingerprint that silently skipped a field would call two different specs the same.
 *
 * Secret policy (a Secret never appears in a fingerprint in clear, and is never read from disk
 * for one):
 * - an inline secret counts by HMAC-SHA256 of its value under a key drawn at random when the
 *   process starts and never stored or printed. So a changed password is a change, an equal one
 *   (a reload or PutDevice re-sending it) is not, and a fingerprint that leaked into a log or a
 *   heap dump could not be tested offline against a list of likely passwords. The price:
 *   fingerprints compare only within one process, which is the only place they are used.
 * - a file secret counts by its path only. Its content is re-read by `Secret.reveal()` when the
 *   file changes, so the next connection uses a rotated value without any spec change; sessions
 *   already logged in stay valid (a device does not log out a session when its password
 *   changes). Not reading the file also keeps fingerprinting free of I/O and of read errors,
 *   and makes the fingerprint a function of the spec alone.
 */

/**
 * A secret as the fingerprint sees it: config/secret.ts's `Secret` has this shape. Recognised by
 * shape so that core/ imports nothing above it; an object of another class is refused, never
 * silently walked, so a change of Secret's shape fails loudly here.
 */
export interface SecretLike {
  readonly file: string | undefined;
  reveal(): string;
}

function isSecretLike(o: object): o is SecretLike {
  return typeof (o as { reveal?: unknown }).reveal === 'function' && 'file' in o;
}

/** Never leaves this module; regenerated per process on purpose (see above). */
const SECRET_KEY = randomBytes(32);

/** A stable hash (64 hex characters) of `value` under the rules above. */
export function specFingerprint(value: unknown): string {
  return createHash('sha256').update(canonical(value, new Set())).digest('hex');
}

/** Whether two values have the same fingerprint. */
export function sameSpec(a: unknown, b: unknown): boolean {
  return specFingerprint(a) === specFingerprint(b);
}

function secretToken(s: SecretLike): string {
  // Outside JSON's grammar (no quotes around the tag), so no string value can produce it.
  if (s.file !== undefined) return `secret:file:${JSON.stringify(s.file)}`;
  return `secret:inline:${createHmac('sha256', SECRET_KEY).update(s.reveal(), 'utf8').digest('hex')}`;
}

function canonical(v: unknown, seen: Set<object>): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      // String() keeps NaN/Infinity apart from null (JSON would print null); -0 is its own value.
      return Object.is(v, -0) ? '-0' : String(v);
    case 'undefined':
      return 'undefined'; // only reached in arrays (object keys with undefined are skipped)
    case 'object':
      break;
    default:
      throw new TypeError(`specFingerprint: a ${typeof v} cannot be fingerprinted`);
  }
  const obj = v as object;
  if (isSecretLike(obj)) return secretToken(obj);
  if (seen.has(obj)) throw new TypeError('specFingerprint: the value contains a cycle');
  seen.add(obj);
  try {
    if (Array.isArray(obj)) return `[${obj.map((x) => canonical(x, seen)).join(',')}]`;
    const proto = Object.getPrototypeOf(obj) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError(`specFingerprint: a ${obj.constructor?.name ?? 'non-plain'} object cannot be fingerprinted`);
    }
    const rec = obj as Record<string, unknown>;
    const parts: string[] = [];
    for (const k of Object.keys(rec).sort()) {
      if (rec[k] === undefined) continue;
      parts.push(`${JSON.stringify(k)}:${canonical(rec[k], seen)}`);
    }
    return `{${parts.join(',')}}`;
  } finally {
    seen.delete(obj);
  }
}
