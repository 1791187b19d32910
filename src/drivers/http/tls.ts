/**
 * TLS settings of a device's HTTP API → options for undici's connector (node:tls).
 * Files are read once, when the client is created: a rotated CA or client certificate is
 * picked up when the device's client is re-created (inventory change or restart).
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { HttpTls } from '../../config/types.js';
import { WarmpoolError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';

export type TlsConnectOptions = Pick<ConnectionOptions, 'ca' | 'cert' | 'key' | 'servername' | 'rejectUnauthorized'>;

function readPem(device: string, field: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'read error';
    // Only the path and errno code: never the content (the key file holds a private key).
    throw new WarmpoolError('CONFIG_INVALID', `device ${device}: cannot read ${field} ${file}: ${code}`, { device, field, cause: err });
  }
}

export function buildTlsOptions(device: string, tls: HttpTls, logger: Logger): TlsConnectOptions {
  const out: TlsConnectOptions = { rejectUnauthorized: tls.insecureSkipVerify !== true };
  if (tls.caFile) out.ca = readPem(device, 'http.tls.caFile', tls.caFile);
  else if (tls.ca) out.ca = tls.ca;
  if ((tls.certFile && !tls.keyFile) || (!tls.certFile && tls.keyFile)) {
    throw new WarmpoolError('CONFIG_INVALID', `device ${device}: http.tls.certFile and http.tls.keyFile must be set together`, {
      device,
      field: tls.certFile ? 'http.tls.keyFile' : 'http.tls.certFile',
    });
  }
  if (tls.certFile && tls.keyFile) {
    out.cert = readPem(device, 'http.tls.certFile', tls.certFile);
    out.key = readPem(device, 'http.tls.keyFile', tls.keyFile);
  }
  if (tls.serverName) out.servername = tls.serverName;
  if (tls.insecureSkipVerify === true) {
    logger.warn({ device }, `device ${device}: TLS certificate verification is disabled (http.tls.insecureSkipVerify); the connection can be intercepted`);
  }
  return out;
}

/** Node/OpenSSL verification codes that mean "no trusted CA vouches for this certificate". */
const UNKNOWN_AUTHORITY = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_SIGNATURE_FAILURE',
]);

const OTHER_TLS_CODES: Record<string, string> = {
  CERT_NOT_YET_VALID: 'certificate not yet valid',
  CERT_REVOKED: 'certificate revoked',
  CERT_UNTRUSTED: 'certificate not trusted',
  CERT_REJECTED: 'certificate rejected',
  INVALID_CA: 'invalid CA certificate',
  INVALID_PURPOSE: 'certificate not valid for TLS server authentication',
  HOSTNAME_MISMATCH: 'certificate name does not match',
};

/**
 * A human reason for a TLS failure, or undefined when `err` is not a TLS error.
 * `servername` is what the certificate was checked against.
 */
export function tlsReason(err: unknown, servername: string): string | undefined {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  if (UNKNOWN_AUTHORITY.has(code)) return 'certificate signed by unknown authority';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `certificate name does not match ${servername}`;
  if (code === 'CERT_HAS_EXPIRED') return 'certificate expired';
  if (code in OTHER_TLS_CODES) return OTHER_TLS_CODES[code];
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || /\bSSL routines\b|alert/i.test(message)) {
    // Handshake alerts (e.g. the device demanded a client certificate): OpenSSL's text is secret-free.
    return `TLS handshake failed: ${message.split('\n')[0] || code}`;
  }
  return undefined;
}
