/**
 * Test certificates made with the openssl CLI (EC P-256 keys, so generation takes milliseconds):
 * a CA, a server certificate for 127.0.0.1 / localhost / ::1 (SAN IP + DNS) signed by it, an expired
 * server certificate from the same CA, a server certificate from another CA, a certificate whose
 * names do not include 127.0.0.1, and a client certificate for mTLS.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function ecKey(dir: string, name: string): string {
  const file = join(dir, `${name}.key`);
  openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]);
  return file;
}

function selfSignedCa(dir: string, name: string): { keyFile: string; certFile: string } {
  const keyFile = ecKey(dir, name);
  const certFile = join(dir, `${name}.pem`);
  openssl(dir, ['req', '-x509', '-new', '-key', keyFile, '-sha256', '-days', '30', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-out', certFile]);
  return { keyFile, certFile };
}

function pair(keyFile: string, certFile: string): CertPair {
  return { keyFile, certFile, key: readFileSync(keyFile), cert: readFileSync(certFile) };
}

/** A leaf certificate signed by `ca` via `openssl x509 -req` (valid 30 days from now). */
function leaf(dir: string, name: string, ca: { keyFile: string; certFile: string }, ext: string): CertPair {
  const keyFile = ecKey(dir, name);
  const csr = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  const certFile = join(dir, `${name}.pem`);
  writeFileSync(extFile, ext);
  openssl(dir, ['req', '-new', '-key', keyFile, '-subj', `/CN=${name}`, '-out', csr]);
  openssl(dir, ['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial',
    '-days', '30', '-sha256', '-extfile', extFile, '-out', certFile]);
  return pair(keyFile, certFile);
}

/** OpenSSL 3.0's `x509 -req` cannot back-date; `openssl ca` with explicit dates can. */
function expiredLeaf(dir: string, name: string, ca: { keyFile: string; certFile: string }, ext: string): CertPair {
  const caDir = join(dir, 'ca-db');
  mkdirSync(caDir, { recursive: true });
  writeFileSync(join(caDir, 'index.txt'), '');
  writeFileSync(join(caDir, 'serial'), '1000\n');
  const conf = join(caDir, 'ca.cnf');
  writeFileSync(conf, [
    '[ ca ]', 'default_ca = testca', '[ testca ]', `dir = ${caDir}`, 'database = $dir/index.txt',
    'serial = $dir/serial', 'new_certs_dir = $dir', 'default_md = sha256', 'policy = anything',
    'unique_subject = no', 'copy_extensions = none', '[ anything ]', 'commonName = supplied', '',
  ].join('\n'));
  const keyFile = ecKey(dir, name);
  const csr = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  const certFile = join(dir, `${name}.pem`);
  writeFileSync(extFile, ext);
  openssl(dir, ['req', '-new', '-key', keyFile, '-subj', `/CN=${name}`, '-out', csr]);
  openssl(dir, ['ca', '-batch', '-config', conf, '-cert', ca.certFile, '-keyfile', ca.keyFile, '-in', csr,
    '-startdate', '20200101000000Z', '-enddate', '20200201000000Z', '-extfile', extFile, '-notext',
    '-out', certFile]);
  return pair(keyFile, certFile);
}

const SERVER_EXT = [
  'basicConstraints=CA:FALSE',
  'keyUsage=critical,digitalSignature',
  'extendedKeyUsage=serverAuth',
  'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost',
  '',
].join('\n');

/** Creates every certificate under `dir` (use t.testdir()). Takes ~0.2 s. */
export function makeTestPki(dir: string): TestPki {
  mkdirSync(dir, { recursive: true });
  const ca = selfSignedCa(dir, 'test-ca');
  const other = selfSignedCa(dir, 'other-ca');
  const server = leaf(dir, 'server', ca, SERVER_EXT);
  const expired = expiredLeaf(dir, 'expired', ca, SERVER_EXT);
  const otherCa = leaf(dir, 'other-server', other, SERVER_EXT);
  const wrongName = leaf(dir, 'wrong-name', ca, SERVER_EXT.replace(/subjectAltName=.*/, 'subjectAltName=DNS:device.example'));
  const client = leaf(dir, 'client', ca, 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
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
