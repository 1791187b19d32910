import type { Algorithms } from 'ssh2';

/**
 * SSH algorithm offers.
 *
 * We start from ssh2's own default lists (which already order curve25519/ecdh/
 * group14-sha256/group16-sha512 kex, AES-GCM/CTR and chacha20-poly1305 by what the
 * CPU and the optional native binding make fast) and use its `{ remove, append }`
 * form rather than exact lists, so an ssh2 upgrade that adds better algorithms
 * reaches us without code changes.
 *
 * Modern (default): SHA-1 based host-key signatures (`ssh-rsa`) and SHA-1 MACs are
 * removed from ssh2's defaults. RSA host keys still work through rsa-sha2-256/512.
 *
 * Legacy (`device.ssh.legacyAlgorithms`): the weak algorithms old network OSes still
 * need are APPENDED, so a modern server still negotiates a modern algorithm and only a
 * server that knows nothing better falls back to them.
 */
const SHA1_MACS = ['hmac-sha1-etm@openssh.com', 'hmac-sha1'];

const LEGACY_KEX = ['diffie-hellman-group14-sha1', 'diffie-hellman-group-exchange-sha1', 'diffie-hellman-group1-sha1'];
const LEGACY_CIPHERS = ['aes128-cbc', 'aes192-cbc', 'aes256-cbc', '3des-cbc'];
const LEGACY_HOST_KEYS = ['ssh-rsa'];
const LEGACY_MACS = SHA1_MACS;

export function sshAlgorithms(legacy: boolean): Algorithms {
  if (!legacy) {
    return {
      serverHostKey: { remove: LEGACY_HOST_KEYS },
      hmac: { remove: SHA1_MACS },
    } as Algorithms;
  }
  // ssh2 applies the object's keys in order: remove then append puts SHA-1 back at the end.
  return {
    kex: { append: LEGACY_KEX },
    cipher: { append: LEGACY_CIPHERS },
    serverHostKey: { remove: LEGACY_HOST_KEYS, append: LEGACY_HOST_KEYS },
    hmac: { remove: LEGACY_MACS, append: LEGACY_MACS },
  } as Algorithms;
}

/** True when a handshake error is an algorithm mismatch that legacyAlgorithms might fix. */
export function isAlgorithmMismatch(message: string): boolean {
  return /no matching (key exchange|host key|C->S cipher|S->C cipher|C->S MAC|S->C MAC|.*compression)/i.test(message);
}
