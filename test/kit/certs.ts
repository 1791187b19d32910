/**
 * Throw-away PKI made with the system openssl (EC P-256: fast): a CA and certificates it issues
 * (server or client, any SANs, optionally expired). gRPC auth tests use it directly; tls.ts builds
 * the standard HTTPS set from it.
 * Everything is written under a test's own directory (t.testdir()).
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Ca {
  name: string;
  dir: string;
  keyFile: string;
  certFile: string;
}

export interface IssuedCert {
  keyFile: string;
  certFile: string;
  key: Buffer;
  cert: Buffer;
  /** "AB:CD:..." as in tls.PeerCertificate.fingerprint256 */
  fingerprint256: string;
}

export interface IssueOptions {
  /** Subject CN. */
  cn: string;
  /** subjectAltName entries, e.g. ["DNS:localhost", "IP:127.0.0.1", "URI:spiffe://x/y"]. */
  sans?: string[];
  usage: 'server' | 'client';
  /** Validity already over (2020-01-01 .. 2020-02-01). */
  expired?: boolean;
}

function openssl(args: string[], cwd?: string): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], ...(cwd ? { cwd } : {}) });
}

export function makeCa(baseDir: string, name: string): Ca {
  const dir = join(baseDir, name);
  mkdirSync(dir, { recursive: true });
  const keyFile = join(dir, 'ca.key');
  const certFile = join(dir, 'ca.pem');
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile]);
  openssl([
    'req', '-x509', '-new', '-key', keyFile, '-sha256', '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-out', certFile,
  ]);
  return { name, dir, keyFile, certFile };
}

let serial = 1000;

/** Issue a certificate signed by `ca`, written to `<ca.dir>/<file>.pem|.key`. */
export function issueCert(ca: Ca, file: string, opts: IssueOptions): IssuedCert {
  const keyFile = join(ca.dir, `${file}.key`);
  const certFile = join(ca.dir, `${file}.pem`);
  const csr = join(ca.dir, `${file}.csr`);
  const ext = join(ca.dir, `${file}.ext`);
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${keyFile}.sec1`]);
  // PKCS#8, the form grpc-js/Node and most tooling expect.
  openssl(['pkcs8', '-topk8', '-nocrypt', '-in', `${keyFile}.sec1`, '-out', keyFile]);
  openssl(['req', '-new', '-key', keyFile, '-subj', `/CN=${opts.cn}`, '-out', csr]);
  const lines = [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${opts.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
  ];
  if (opts.sans && opts.sans.length > 0) lines.push(`subjectAltName=${opts.sans.join(',')}`);
  writeFileSync(ext, `${lines.join('\n')}\n`);
  if (opts.expired) {
    // `openssl x509 -req` in OpenSSL 3.0 cannot set a past validity; `openssl ca` can.
    const db = join(ca.dir, 'db');
    mkdirSync(join(db, 'new'), { recursive: true });
    writeFileSync(join(db, 'index.txt'), '');
    writeFileSync(join(db, 'serial'), `${(serial++).toString(16).padStart(4, '0')}\n`);
    const conf = join(db, 'ca.cnf');
    writeFileSync(
      conf,
      [
        '[ ca ]', 'default_ca = d', '[ d ]', `database = ${join(db, 'index.txt')}`, `new_certs_dir = ${join(db, 'new')}`,
        `serial = ${join(db, 'serial')}`, 'default_md = sha256', 'policy = p', 'unique_subject = no', '[ p ]', 'commonName = supplied', '',
      ].join('\n'),
    );
    openssl([
      'ca', '-batch', '-notext', '-config', conf, '-cert', ca.certFile, '-keyfile', ca.keyFile, '-in', csr, '-out', certFile,
      '-startdate', '20200101000000Z', '-enddate', '20200201000000Z', '-extfile', ext,
    ]);
  } else {
    openssl([
      'x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', String(serial++),
      '-days', '2', '-sha256', '-extfile', ext, '-out', certFile,
    ]);
  }
  const cert = readFileSync(certFile);
  return { keyFile, certFile, key: readFileSync(keyFile), cert, fingerprint256: new X509Certificate(cert).fingerprint256 };
}
