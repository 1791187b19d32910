/** Host keys for simulated devices: fresh ed25519 pairs and the fingerprint clients pin. */
import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';

export function fingerprintOfPrivateKey(key: string | Buffer): string {
  const parsed = ssh2.utils.parseKey(key);
  if (parsed instanceof Error) throw parsed;
  const k = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!k) throw new Error('no key found');
  return 'SHA256:' + createHash('sha256').update(k.getPublicSSH()).digest('base64').replace(/=+$/, '');
}

/**
 * A fresh ed25519 key pair that ssh2 can parse back: ssh2's own generator yields an
 * unparseable key about 3 times in 1 000, so check and retry.
 */
export function generateKeyPair(): { private: string; public: string } {
  for (let i = 0; ; i++) {
    const kp = ssh2.utils.generateKeyPairSync('ed25519');
    if (!(ssh2.utils.parseKey(kp.private) instanceof Error) || i >= 50) return kp;
  }
}

export function generateHostKey(): string {
  return generateKeyPair().private;
}
