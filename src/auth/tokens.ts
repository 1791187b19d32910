/**
 * Named bearer tokens for gRPC callers, read from a file (YAML or JSON):
 *
 *   callers:
 *     - name: billing-svc
 *       tokenSha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
 *     - name: dev-laptop
 *       token: "plaintext-token"        # accepted for convenience; prefer tokenSha256
 *
 * Only SHA-256 digests are kept in memory: a plaintext `token:` is hashed at load time.
 * A presented token is hashed and compared against EVERY stored digest with
 * crypto.timingSafeEqual (equal-length digests, no early exit), so neither the position of
 * a match nor a common prefix leaks through timing. No token or digest is ever logged or
 * put in an error message.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { WarmpoolError } from '../core/errors.js';
import { ReloadingFile, type ReloadingFileOptions } from './reloading-file.js';

interface TokenEntry {
  name: string;
  digest: Buffer;
}

const HEX64 = /^[0-9a-fA-F]{64}$/;
/** Caller names end up in logs, metrics labels and policy globs: keep them plain. */
const CALLER_NAME = /^[A-Za-z0-9._:@\/-]{1,200}$/;

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Parse a tokens file's text. Errors name the file and entry index, never a token value. */
export function parseTokensFile(text: string, file: string): TokenEntry[] {
  const bad = (msg: string, field = 'grpc.auth.tokensFile'): WarmpoolError =>
    new WarmpoolError('CONFIG_INVALID', `tokens file ${file}: ${msg}`, { field });
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    // The YAML parser's message can quote the offending line, which may hold a token.
    const line = (err as { linePos?: Array<{ line: number }> }).linePos?.[0]?.line;
    throw bad(`not valid YAML or JSON${line === undefined ? '' : ` (line ${line})`}`);
  }
  if (doc === null || typeof doc !== 'object' || !Array.isArray((doc as { callers?: unknown }).callers)) {
    throw bad('expected a top-level "callers:" list');
  }
  const entries: TokenEntry[] = [];
  const names = new Set<string>();
  const digests = new Set<string>();
  (doc as { callers: unknown[] }).callers.forEach((raw, i) => {
    const where = `callers[${i}]`;
    if (raw === null || typeof raw !== 'object') throw bad(`${where} must be a mapping with name and tokenSha256`);
    const e = raw as Record<string, unknown>;
    const name = e['name'];
    if (typeof name !== 'string' || !CALLER_NAME.test(name)) {
      throw bad(`${where}.name must be 1..200 characters of [A-Za-z0-9._:@/-]`);
    }
    if (names.has(name)) throw bad(`${where}: caller name "${name}" appears twice`);
    names.add(name);
    const hasHash = e['tokenSha256'] !== undefined;
    const hasPlain = e['token'] !== undefined;
    if (hasHash === hasPlain) throw bad(`${where} (${name}) needs exactly one of tokenSha256 or token`);
    let digest: Buffer;
    if (hasHash) {
      const hex = e['tokenSha256'];
      if (typeof hex !== 'string' || !HEX64.test(hex)) {
        throw bad(`${where} (${name}).tokenSha256 must be 64 hexadecimal characters (sha256 of the token)`);
      }
      digest = Buffer.from(hex, 'hex');
    } else {
      const token = e['token'];
      if (typeof token !== 'string' || token.length < 16) {
        throw bad(`${where} (${name}).token must be a string of at least 16 characters`);
      }
      digest = sha256(token);
    }
    const key = digest.toString('hex');
    // Two callers sharing a token could not be told apart; refuse rather than pick one.
    if (digests.has(key)) throw bad(`${where} (${name}) has the same token as another caller`);
    digests.add(key);
    entries.push({ name, digest });
  });
  return entries;
}

export class TokenStore {
  readonly #file: ReloadingFile<TokenEntry[]>;

  /** Reads the file now; throws WarmpoolError CONFIG_INVALID (naming the file) when it is bad. */
  constructor(file: string, opts: ReloadingFileOptions = {}) {
    this.#file = new ReloadingFile('tokens file', file, parseTokensFile, { field: 'grpc.auth.tokensFile', ...opts });
  }

  get path(): string {
    return this.#file.path;
  }

  /** Number of callers currently configured (for a start-up log line). */
  get size(): number {
    return this.#file.get().length;
  }

  /** The caller name the token belongs to, or undefined. Constant time in the token's content. */
  identify(presented: string): string | undefined {
    const entries = this.#file.get();
    const digest = sha256(presented);
    let found = -1;
    for (let i = 0; i < entries.length; i++) {
      // Every entry is compared, match or not; the branch-free select keeps the loop uniform.
      const eq = timingSafeEqual(digest, entries[i]!.digest);
      found = eq && found < 0 ? i : found;
    }
    return found < 0 ? undefined : entries[found]!.name;
  }

  /** Re-read the file now (SIGHUP). Returns true when it changed; keeps the old tokens on error. */
  reload(): boolean {
    return this.#file.reload();
  }
}
