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

function redactLine(line: string): string {
  // Words and the whitespace between them, alternating; separators are kept as they were.
  const parts = line.split(/(\s+)/);
  const words: number[] = [];
  for (let i = 0; i < parts.length; i++) if (parts[i] !== '' && !/^\s+$/.test(parts[i] as string)) words.push(i);
  let changed = false;
  for (let w = 0; w < words.length; w++) {
    const idx = words[w] as number;
    const word = parts[idx] as string;
    const lower = word.toLowerCase();
    const pairs = maskPairs(word);
    if (pairs !== word) {
      parts[idx] = pairs;
      changed = true;
      continue;
    }
    let isKeyword = KEYWORDS.has(lower) || hasSecretSuffix(lower);
    if (lower === 'basic') isKeyword = w > 0 && AUTH_HEADERS.has((parts[words[w - 1] as number] as string).toLowerCase());
    if (lower === 'key' && w + 1 < words.length && KEY_SUBCOMMANDS.has((parts[words[w + 1] as number] as string).toLowerCase())) isKeyword = false;
    if (!isKeyword) continue;
    // Skip modifiers; `level` takes its number with it; a cipher may be followed by a key size.
    let v = w + 1;
    while (v < words.length && v < w + 6 && isModifier((parts[words[v] as number] as string).toLowerCase())) v++;
    if (v >= words.length) {
      // Nothing but modifiers followed: the last of them was the value (`password 7` masks nothing useful,
      // but `secret 12345` is a 5-digit secret and `secret 123` could be one too).
      if (v > w + 1) v = words.length - 1;
      else continue;
    }
    const vIdx = words[v] as number;
    const value = parts[vIdx] as string;
    if (value === MASK) continue;
    if (value.startsWith('"') && !(value.length > 1 && value.endsWith('"'))) {
      // A quoted value with spaces: mask through the closing quote (or the end of the line).
      let end = v;
      while (end + 1 < words.length) {
        end++;
        if ((parts[words[end] as number] as string).endsWith('"')) break;
      }
      parts[vIdx] = MASK;
      for (let k = vIdx + 1; k <= (words[end] as number); k++) parts[k] = '';
      w = end;
    } else {
      parts[vIdx] = MASK;
      w = v;
    }
    changed = true;
  }
  return changed ? parts.join('') : line;
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
  return masked.length > max ? `${masked.slice(0, max - 3)}...` : masked;
}

/**
 * Mask secrets inside the quoted parts ("..." or '...') of a message, where messages quote
 * commands; the prose around them is left alone ("host key mismatch" stays readable).
 */
export function redactQuoted(message: string): string {
  let out = '';
  let i = 0;
  while (i < message.length) {
    const c = message[i] as string;
    if (c !== '"' && c !== "'") {
      out += c;
      i++;
      continue;
    }
    const end = message.indexOf(c, i + 1);
    if (end === -1) {
      out += redactSecrets(message.slice(i));
      break;
    }
    out += c + redactSecrets(message.slice(i + 1, end)) + c;
    i = end + 1;
  }
  return out;
}
