/**
 * Secrets in command text, masked as `***`: the one redaction shared by the audit log, the
 * operational log and error messages that quote a command.
 *
 * WHY a scanner and not a list of regexes: this runs on every audited command (and on command
 * output when `log.audit.includeOutput` is on), on text that callers and devices control. A
 * backtracking RegExp with alternations and optional groups is easy to get super-linear; this is
 * one left-to-right pass over whitespace-separated words with a constant amount of look-ahead per
 * word (Set lookups), so it is O(length of the text) by construction.
 *
 * Default rules (a "word" is a run of non-whitespace; matching is case-insensitive; a value never
 * extends past the end of its line):
 *   1. After a SECRET KEYWORD, the next value word is masked. Between the keyword and the value,
 *      MODIFIER words are skipped: an encryption type (`0`..`9`), `level N`, hash / cipher names
 *      (`md5`, `sha`, `aes 128`, ...), Junos `ascii-text`, and short key ids (`1`..`999`), so `password 7 X`,
 *      `secret 5 X`, `enable secret level 15 5 X`, `ntp authentication-key 1 md5 X`,
 *      `snmp-server user u g v3 auth sha X priv aes 128 Y` all mask the value.
 *      Keywords: password passwd secret community passphrase pre-shared-key psk key-string
 *      authentication-key md5 encrypted-password plain-text-password-value auth priv token
 *      bearer api-key apikey x-api-key cookie set-cookie and `key` (below).
 *      So is any word ending in `-password`, `-secret`, `-key`, `-passphrase`, `-community`,
 *      `-token` (or `_...`): `plain-text-password X`, `message-digest-key 1 md5 X`.
 *      This covers `enable secret X`, `username X password Y`, `snmp-server community X`,
 *      `set system login user x authentication plain-text-password-value X`,
 *      `tacacs-server key X`, `radius-server host h key 7 X`, `ppp chap password X`,
 *      `crypto isakmp key X address ...`, `Authorization: Bearer X`.
 *   2. `key` is a keyword unless the next word is a sub-command (`generate`, `chain`, `zeroize`,
 *      `import`, `export`, `mypubkey`, ...): `crypto key generate rsa` stays readable.
 *   3. `Authorization: Basic X` (and `Proxy-Authorization:`): the word after `Basic` is masked.
 *   4. `name=value` words whose name is a keyword (or ends in `password`, `secret`, `token`, `key`):
 *      the value is masked (`password=***`, `access_token=***`), also inside a URL query (`&`).
 *   5. A value starting with a double quote is masked through its closing quote on the same line
 *      (Junos `plain-text-password-value "two words"`).
 * Over-masking a harmless word is accepted; letting a secret through is not.
 */

const KEYWORDS: ReadonlySet<string> = new Set([
  'password', 'passwd', 'secret', 'community', 'passphrase', 'pre-shared-key', 'psk', 'key-string',
  'authentication-key', 'md5', 'encrypted-password', 'plain-text-password-value', 'auth', 'priv',
  'token', 'bearer', 'api-key', 'apikey', 'x-api-key', 'x-auth-token', 'cookie', 'set-cookie', 'key',
  'password:', 'secret:', 'token:', 'api-key:', 'x-api-key:', 'x-auth-token:', 'cookie:', 'set-cookie:',
]);

/** Words between a keyword and its value that are not the value. */
const MODIFIERS: ReadonlySet<string> = new Set([
  'level', 'encrypted', 'hidden', 'unencrypted', 'cleartext', 'md5', 'sha', 'sha1', 'sha-1', 'sha224', 'sha256', 'sha384',
  'sha512', 'sha-256', 'sha-512', 'des', '3des', 'aes', 'aes128', 'aes192', 'aes256', 'aes-128', 'aes-192', 'aes-256',
  'ascii-text', 'ascii', 'hexadecimal', 'hex',
]);

/** Words after `key` that make it a sub-command rather than a secret. */
const KEY_SUBCOMMANDS: ReadonlySet<string> = new Set([
  'generate', 'chain', 'zeroize', 'import', 'export', 'mypubkey', 'pubkey-chain', 'config-key', 'storage', 'decrypt',
  'encrypt', 'rsa', 'ec', 'dsa', 'ed25519', 'string', 'id',
]);

const AUTH_HEADERS: ReadonlySet<string> = new Set(['authorization:', 'proxy-authorization:']);
const NAME_SUFFIXES = ['password', 'passwd', 'secret', 'token', 'key', 'community', 'passphrase'];

export const MASK = '***';

function isModifier(word: string): boolean {
  // Encryption types and key ids: 1-3 digits.
  if (word.length <= 3 && /^[0-9]+$/.test(word)) return true;
  return MODIFIERS.has(word);
}

/** `plain-text-password`, `message-digest-key`, `tacacs_secret`, `auth-token:` ... */
const KEYWORD_SUFFIXES = ['password', 'passwd', 'secret', 'key', 'passphrase', 'community', 'token'];
function hasSecretSuffix(word: string): boolean {
  const w = word.endsWith(':') ? word.slice(0, -1) : word;
  for (const s of KEYWORD_SUFFIXES) {
    if (w.length > s.length + 1 && w.endsWith(s) && (w[w.length - s.length - 1] === '-' || w[w.length - s.length - 1] === '_')) return true;
  }
  return false;
}

function secretName(name: string): boolean {
  const n = name.toLowerCase();
  if (KEYWORDS.has(n) && n !== 'auth' && n !== 'priv' && n !== 'md5') return true;
  return NAME_SUFFIXES.some((s) => n.endsWith(s));
}

/** `a=b&password=c` → `a=b&password=***` (each `&`/`;`-separated pair checked). */
function maskPairs(word: string): string {
  if (!word.includes('=')) return word;
  let changed = false;
  const out = word.split(/([&;?])/).map((part) => {
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) return part;
    if (!secretName(part.slice(0, eq).replace(/^[-"']+/, ''))) return part;
    changed = true;
    return `${part.slice(0, eq + 1)}${MASK}`;
  });
  return changed ? out.join('') : word;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 11 || c === 12 || c === 0xa0;
}

function redactLine(line: string): string {
  // Word boundaries in one pass over the character codes (no split, no RegExp).
  const starts: number[] = [];
  const ends: number[] = [];
  const n = line.length;
  for (let i = 0; i < n; ) {
    while (i < n && isSpace(line.charCodeAt(i))) i++;
    if (i >= n) break;
    starts.push(i);
    while (i < n && !isSpace(line.charCodeAt(i))) i++;
    ends.push(i);
  }
  const word = (k: number): string => line.slice(starts[k], ends[k]);
  /** [from, to, replacement], in order and not overlapping. */
  const reps: Array<[number, number, string]> = [];
  for (let w = 0; w < starts.length; w++) {
    const wd = word(w);
    const pairs = maskPairs(wd);
    if (pairs !== wd) {
      reps.push([starts[w] as number, ends[w] as number, pairs]);
      continue;
    }
    const lower = wd.toLowerCase();
    let isKeyword = KEYWORDS.has(lower) || hasSecretSuffix(lower);
    if (lower === 'basic') isKeyword = w > 0 && AUTH_HEADERS.has(word(w - 1).toLowerCase());
    if (lower === 'key' && w + 1 < starts.length && KEY_SUBCOMMANDS.has(word(w + 1).toLowerCase())) isKeyword = false;
    if (!isKeyword) continue;
    // Skip modifiers (at most 5); a cipher may be followed by a key size, `level` by its number.
    let v = w + 1;
    while (v < starts.length && v < w + 6 && isModifier(word(v).toLowerCase())) v++;
    if (v >= starts.length) {
      // Nothing but modifiers followed: the last of them is the value (`secret 123` may be a secret).
      if (v > w + 1) v = starts.length - 1;
      else continue;
    }
    const value = word(v);
    if (value === MASK) continue;
    let end = v;
    if (value.startsWith('"') && !(value.length > 1 && value.endsWith('"'))) {
      // A quoted value with spaces: mask through the closing quote (or the end of the line).
      while (end + 1 < starts.length) {
        end++;
        if (word(end).endsWith('"')) break;
      }
    }
    reps.push([starts[v] as number, ends[end] as number, MASK]);
    w = end;
  }
  if (reps.length === 0) return line;
  let out = '';
  let pos = 0;
  for (const [from, to, text] of reps) {
    out += line.slice(pos, from) + text;
    pos = to;
  }
  return out + line.slice(pos);
}

/** Mask secret values in command text (any number of lines). O(text length). */
export function redactSecrets(text: string): string {
  if (text === '') return text;
  if (!text.includes('\n')) return redactLine(text);
  return text.split('\n').map(redactLine).join('\n');
}

/** A command as quoted in a message: whitespace collapsed, secrets masked, at most `max` characters. */
export function redactCommand(cmd: string, max = 120): string {
  const masked = redactSecrets(cmd.trim().replace(/\s+/g, ' '));
  // Control characters would reach logs and terminals raw (ESC sequences): show them as \uXXXX.
  const printable = masked.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return printable.length > max ? `${printable.slice(0, max - 3)}...` : printable;
}

/**
 * Mask secrets inside the quoted parts ("..." or '...') of a message, where messages quote
 * commands; the prose around them is left alone ("host key mismatch" stays readable).
 */
export function redactQuoted(message: string): string {
  let out = '';
  let i = 0;
  // The next position of each quote, searched again only once passed: without this, a text with
  // many '"' and no "'" would rescan to its end for every pair (quadratic).
  let dq = -2;
  let sq = -2;
  while (i < message.length) {
    if (dq !== -1 && dq < i) dq = message.indexOf('"', i);
    if (sq !== -1 && sq < i) sq = message.indexOf("'", i);
    const open = dq === -1 ? sq : sq === -1 ? dq : Math.min(dq, sq);
    if (open === -1) return out + message.slice(i);
    const q = message[open] as string;
    const close = message.indexOf(q, open + 1);
    if (close === -1) return out + message.slice(i, open) + redactSecrets(message.slice(open));
    out += message.slice(i, open + 1) + redactSecrets(message.slice(open + 1, close)) + q;
    i = close + 1;
  }
  return out;
}
