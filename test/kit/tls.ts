/**
 * The standard set of test certificates for HTTPS device tests, issued with certs.ts (openssl,
 * EC P-256, so generation takes milliseconds): a CA, a server certificate for 127.0.0.1 /
 * localhost / ::1 (SAN IP + DNS) signed by it, an expired server certificate from the same CA,
 * a server certificate from another CA, a certificate whose names do not include 127.0.0.1, and
 * a client certificate for mTLS.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { issueCert, makeCa } from './certs.js';

export interface CertPair {
  keyFile: string;
  certFile: string;
  key: Buffer;
  cert: Buffer;
}

export interface TestPki {
  dir: string;
  caFile: string;
  ca: Buffer;
  /** Valid for 127.0.0.1, ::1 and localhost, signed by `ca`. */
  server: CertPair;
  /** Signed by `ca` but expired in 2020. */
  expired: CertPair;
  /** Valid names, signed by a different CA that nobody trusts. */
  otherCa: CertPair;
  otherCaFile: string;
  /** Signed by `ca`, but only for device.example (no 127.0.0.1 / localhost). */
  wrongName: CertPair;
  /** Client certificate (extendedKeyUsage clientAuth) signed by `ca`. */
  client: CertPair;
}

const LOOPBACK_NAMES = ['IP:127.0.0.1', 'IP:::1', 'DNS:localhost'];

/** Creates every certificate under `dir` (use t.testdir()). */
export function makeTestPki(dir: string): TestPki {
  mkdirSync(dir, { recursive: true });
  const ca = makeCa(dir, 'test-ca');
  const other = makeCa(dir, 'other-ca');
  const server = issueCert(ca, 'server', { cn: 'server', sans: LOOPBACK_NAMES, usage: 'server' });
  const expired = issueCert(ca, 'expired', { cn: 'expired', sans: LOOPBACK_NAMES, usage: 'server', expired: true });
  const otherCa = issueCert(other, 'other-server', { cn: 'other-server', sans: LOOPBACK_NAMES, usage: 'server' });
  const wrongName = issueCert(ca, 'wrong-name', { cn: 'wrong-name', sans: ['DNS:device.example'], usage: 'server' });
  const client = issueCert(ca, 'client', { cn: 'client', usage: 'client' });
  return {
    dir,
    caFile: ca.certFile,
    ca: readFileSync(ca.certFile),
    server,
    expired,
    otherCa,
    otherCaFile: other.certFile,
    wrongName,
    client,
  };
}
