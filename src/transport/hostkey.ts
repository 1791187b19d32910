import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { DeviceSpec } from '../config/types.js';

/**
 * Host-key verification for ssh2's `hostVerifier(key: Buffer)`.
 *
 * ssh2 accepts ANY host key unless a verifier is set, and never reads known_hosts,
 * so this module is the only thing between us and a man in the middle. Every path
 * that cannot positively match the presented key rejects: there is no "accept on
 * error" fallback. `acceptAny` is the only way to skip the check and the caller logs it.
 */

/** OpenSSH-style "SHA256:<unpadded base64>" fingerprint of a public key blob. */
export function fingerprintSha256(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

/** The key type name at the start of an SSH public key blob ("ssh-ed25519", ...), '' when malformed. */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return '';
  const len = keyBlob.readUInt32BE(0);
  if (len > 64 || 4 + len > keyBlob.length) return '';
  const name = keyBlob.subarray(4, 4 + len).toString('latin1');
  // Only an algorithm-name shape: this string ends up in error messages.
  return /^[A-Za-z0-9@._+-]+$/.test(name) ? name : '';
}

/**
 * Why a presented host key was refused; the connect layer turns it into HOST_KEY_MISMATCH.
 * WHY only fingerprints: a known_hosts file is read as text, and a message that quoted one of
 * its fields (the key type, say) would print part of any line of any file the daemon can read
 * that happens to have the shape "pattern word word". Fingerprints are hashes of decoded keys.
 */
export interface HostKeyRejection {
  /** SHA256 fingerprint of the key the device presented. */
  presented: string;
  /** Algorithm name inside the presented key ('' when it is not name-shaped). */
  keyType: string;
  /** Fingerprints we would have accepted (may be empty: nothing known for this host). */
  expected: string[];
  reason: string;
}

/** The name OpenSSH looks up in known_hosts: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

interface KnownHostsEntry {
  marker: '' | '@revoked' | '@cert-authority';
  hosts: string;
  keyType: string;
  blob: Buffer;
}

export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const out: KnownHostsEntry[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let marker: KnownHostsEntry['marker'] = '';
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift() as string;
      if (m !== '@revoked' && m !== '@cert-authority') continue; // unknown marker: ignore the line, as OpenSSH does
      marker = m;
    }
    const [hosts, keyType, b64] = fields;
    if (!hosts || !keyType || !b64) continue;
    const blob = Buffer.from(b64, 'base64');
    // A line is a key only if the blob is an SSH public key of the type the line declares;
    // anything else (garbage, another file's text) is skipped as OpenSSH would.
    if (blob.length === 0 || keyTypeOf(blob) !== keyType) continue;
    out.push({ marker, hosts, keyType, blob });
  }
  return out;
}

/**
 * OpenSSH glob: `*` any run, `?` one character; hostnames compare case-insensitively.
 * WHY not a RegExp: inline known_hosts text comes from API callers (PutDevice), and `*a*a*a*...`
 * as a backtracking regex is exponential. This is the classic greedy matcher that only returns to
 * the last `*`: O(pattern × name) at worst.
 */
export function globMatch(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase();
  const n = name.toLowerCase();
  let pi = 0;
  let ni = 0;
  let star = -1;
  let mark = 0;
  while (ni < n.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === n[ni])) {
      pi++;
      ni++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = ni;
    } else if (star !== -1) {
      pi = star + 1;
      ni = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

function hashedMatch(entry: string, name: string): boolean {
  // |1|<base64 salt>|<base64 HMAC-SHA1(salt, name)>
  const parts = entry.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2] as string, 'base64');
  const want = Buffer.from(parts[3] as string, 'base64');
  const got = createHmac('sha1', salt).update(name).digest();
  return want.length === got.length && timingSafeEqual(want, got);
}

/** Does a known_hosts host field (comma list, negations, globs or one hashed entry) match `name`? */
export function hostFieldMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|')) return hashedMatch(hosts, name);
  let matched = false;
  for (const p of hosts.split(',')) {
    if (p === '') continue;
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false; // a negated match vetoes the whole line
    } else if (globMatch(p, name)) {
      matched = true;
    }
  }
  return matched;
}

function normaliseFingerprint(fp: string): string {
  const s = fp.trim().replace(/=+$/, '');
  return s.startsWith('SHA256:') ? s : `SHA256:${s}`;
}

export type HostVerifier = (key: Buffer) => boolean;

/**
 * Build the verifier for one connection attempt. known_hosts is read now (per new
 * connection) so a rotated file takes effect without a restart. `onMismatch` is called
 * once with the details before the verifier returns false.
 */
export function makeHostVerifier(device: DeviceSpec, onMismatch: (r: HostKeyRejection) => void): HostVerifier {
  const policy = device.hostKey;
  const reject = (key: Buffer, expected: string[], reason: string): false => {
    onMismatch({ presented: fingerprintSha256(key), keyType: keyTypeOf(key), expected, reason });
    return false;
  };

  if (policy.fingerprints && policy.fingerprints.length > 0) {
    const pinned = policy.fingerprints.map(normaliseFingerprint);
    return (key) => {
      const fp = fingerprintSha256(key);
      if (pinned.includes(fp)) return true;
      return reject(key, pinned, 'presented host key is not one of the pinned fingerprints');
    };
  }

  if (policy.knownHostsFile) {
    const file = policy.knownHostsFile;
    let entries: KnownHostsEntry[] | undefined;
    let readError = '';
    try {
      entries = parseKnownHosts(readFileSync(file, 'utf8'));
    } catch (err) {
      readError = (err as NodeJS.ErrnoException).code ?? 'read error';
    }
    const name = knownHostsName(device.host, device.port);
    return (key) => {
      if (!entries) return reject(key, [], `known_hosts file ${file} could not be read (${readError})`);
      const type = keyTypeOf(key);
      const forHost = entries.filter((e) => e.marker !== '@cert-authority' && hostFieldMatches(e.hosts, name));
      // @revoked wins over any accepting line, as in OpenSSH.
      if (forHost.some((e) => e.marker === '@revoked' && e.blob.equals(key))) {
        return reject(key, [], `presented host key is marked @revoked in ${file}`);
      }
      const candidates = forHost.filter((e) => e.marker === '');
      if (candidates.some((e) => e.keyType === type && e.blob.equals(key))) return true;
      const expected = candidates.map((e) => fingerprintSha256(e.blob));
      return reject(
        key,
        expected,
        candidates.length === 0
          ? `no entry for ${name} in known_hosts file ${file}`
          : `presented host key does not match the known_hosts entries for ${name} in ${file}`,
      );
    };
  }

  if (policy.acceptAny === true) return () => true;

  // No policy at all: refuse rather than silently trusting (config validation should prevent this).
  return (key) => reject(key, [], 'no host-key policy configured (fingerprints, knownHostsFile or acceptAny)');
}
