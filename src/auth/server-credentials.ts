/**
 * gRPC server credentials from `grpc.tls`:
 *   - no certFile                 → insecure (plaintext h2c)
 *   - certFile + keyFile          → TLS
 *   - + clientCaFile              → mTLS: client certificates requested and verified against the CA.
 *       Without a tokens file the certificate is REQUIRED (the TLS handshake fails without one).
 *       With a tokens file too it is OPTIONAL at the TLS level, so token callers can connect
 *       without one; authenticate.ts then demands a valid token or a verified certificate.
 *
 * Certificates rotate without a restart: grpc-js's experimental FileWatcherCertificateProvider
 * re-reads the three files every `refreshIntervalMs` and swaps the server's secure context;
 * new connections get the new certificate, established ones keep theirs.
 *
 * Note on the installed grpc-js 1.14.7: `createCertificateProviderServerCredentials`'s first
 * parameter is NAMED caCertificateProvider in its declaration, but the implementation passes it
 * on as the IDENTITY provider and the second as the CA provider (see server-credentials.ts in
 * the package). We hand the same provider to both, which is correct either way.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { WarmpoolError, describeError } from '../core/errors.js';
import type { AppConfig } from '../config/types.js';
import type { Logger } from '../core/logger.js';

export { checkListenSafety, isLoopbackListen } from './listen-safety.js';

export type TransportMode = 'insecure' | 'tls' | 'mtls' | 'mtls-optional';

export interface ServerCredentialsOptions {
  /** How often the certificate files are re-read. Default 60 000 ms. */
  refreshIntervalMs?: number;
}

export interface ServerCredentialsHandle {
  credentials: grpc.ServerCredentials;
  mode: TransportMode;
  /** Stop watching the certificate files. Call after server.tryShutdown/forceShutdown. */
  close(): void;
}

export const DEFAULT_CERT_REFRESH_MS = 60_000;

/** Which transport `grpc.tls` / `grpc.auth` select; throws CONFIG_INVALID on an incomplete TLS block. */
export function transportMode(cfg: AppConfig['grpc']): TransportMode {
  const { certFile, keyFile, clientCaFile } = cfg.tls;
  if (certFile === '' && keyFile === '' && clientCaFile === '') return 'insecure';
  if (certFile === '' || keyFile === '') {
    const missing = certFile === '' ? 'grpc.tls.certFile' : 'grpc.tls.keyFile';
    throw new WarmpoolError(
      'CONFIG_INVALID',
      `${missing} is empty: TLS needs both grpc.tls.certFile and grpc.tls.keyFile` +
        (clientCaFile !== '' ? ' (grpc.tls.clientCaFile only adds client verification on top of TLS)' : ''),
      { field: missing },
    );
  }
  if (clientCaFile === '') return 'tls';
  return cfg.auth.tokensFile === '' ? 'mtls' : 'mtls-optional';
}

export function createServerCredentials(
  cfg: AppConfig['grpc'],
  logger: Logger,
  opts: ServerCredentialsOptions = {},
): ServerCredentialsHandle {
  const mode = transportMode(cfg);
  if (mode === 'insecure') {
    return { credentials: grpc.ServerCredentials.createInsecure(), mode, close() {} };
  }
  const { certFile, keyFile, clientCaFile } = cfg.tls;
  // Fail at start-up with a clear message; the provider alone would silently refuse every connection.
  const certPem = readConfigFile(certFile, 'grpc.tls.certFile');
  const keyPem = readConfigFile(keyFile, 'grpc.tls.keyFile');
  const caPem = clientCaFile === '' ? undefined : readConfigFile(clientCaFile, 'grpc.tls.clientCaFile');
  const initial = { ...validateIdentity(certPem, keyPem, certFile, keyFile), certPem, keyPem, caPem };
  if (caPem) validateCa(caPem, clientCaFile);
  logger.info(
    { mode, subject: initial.subject, fingerprint256: initial.fingerprint256, validTo: initial.validTo },
    'gRPC TLS certificate loaded',
  );
  warnIfExpiring(initial, logger);

  const refreshIntervalMs = opts.refreshIntervalMs ?? DEFAULT_CERT_REFRESH_MS;
  const watcher = new grpc.experimental.FileWatcherCertificateProvider({
    certificateFile: certFile,
    privateKeyFile: keyFile,
    caCertificateFile: clientCaFile === '' ? undefined : clientCaFile,
    refreshIntervalMs,
  });
  const provider = new SeededCertificateProvider(
    watcher,
    { certificate: initial.certPem, privateKey: initial.keyPem },
    clientCaFile === '' ? null : { caCertificate: initial.caPem! },
    clientCaFile !== '',
  );

  // Vet every new pair before grpc-js sees it: a half-replaced (cert and key not matching),
  // unreadable or garbled pair is logged and NOT installed, so the server keeps serving the
  // last good certificate instead of refusing every new connection (grpc-js's own behaviour).
  let lastFingerprint = initial.fingerprint256;
  let lastProblem = '';
  const problem = (p: string, msg: string): false => {
    if (p !== lastProblem) {
      lastProblem = p;
      logger.error({ certFile, keyFile, err: p }, msg);
    }
    return false;
  };
  provider.acceptIdentity = (update) => {
    if (update === null) return problem('unreadable', 'gRPC TLS certificate or key cannot be read; still serving the previous certificate');
    try {
      const info = validateIdentity(update.certificate, update.privateKey, certFile, keyFile);
      lastProblem = '';
      if (info.fingerprint256 !== lastFingerprint) {
        lastFingerprint = info.fingerprint256;
        logger.info({ subject: info.subject, fingerprint256: info.fingerprint256, validTo: info.validTo }, 'gRPC TLS certificate rotated');
        warnIfExpiring(info, logger);
      }
      return true;
    } catch (err) {
      return problem(describeError(err), 'gRPC TLS certificate on disk is not usable; still serving the previous certificate');
    }
  };
  provider.acceptCa = (update) => {
    if (update === null) return problem('ca unreadable', 'gRPC client CA file cannot be read; still using the previous CA');
    try {
      validateCa(update.caCertificate, clientCaFile);
      logger.info({ clientCaFile }, 'gRPC client CA reloaded');
      return true;
    } catch (err) {
      return problem(describeError(err), 'gRPC client CA file is not usable; still using the previous CA');
    }
  };

  const credentials = grpc.experimental.createCertificateProviderServerCredentials(
    provider, // identity (see the note at the top of this file)
    clientCaFile === '' ? null : provider, // CA for client verification
    mode === 'mtls', // require a client certificate only when there is no other way in
  );
  return { credentials, mode, close: () => provider.close() };
}

type IdentityUpdate = grpc.experimental.IdentityCertificateUpdate;
type CaUpdate = grpc.experimental.CaCertificateUpdate;

/**
 * Wraps the FileWatcherCertificateProvider so the certificates read (and validated) at start-up
 * are available AT ONCE: on its own the watcher reads asynchronously, and grpc-js drops every
 * connection that arrives before the first read completes (a race with bindAsync we measured:
 * the first call after start failed with "socket disconnected before secure TLS connection").
 * It also forwards only real changes that pass `acceptIdentity`/`acceptCa`, so an unchanged
 * file does not rebuild the TLS context on every refresh and a broken one is never installed.
 */
class SeededCertificateProvider implements grpc.experimental.CertificateProvider {
  #identity: IdentityUpdate | null;
  #ca: CaUpdate | null;
  readonly #identityListeners = new Set<grpc.experimental.IdentityCertificateUpdateListener>();
  readonly #caListeners = new Set<grpc.experimental.CaCertificateUpdateListener>();
  readonly #inner: grpc.experimental.FileWatcherCertificateProvider;
  readonly #watchCa: boolean;
  /** Decides whether a changed identity is installed (false: keep the previous one). */
  acceptIdentity: (update: IdentityUpdate | null) => boolean = () => true;
  acceptCa: (update: CaUpdate | null) => boolean = () => true;

  readonly #onInnerIdentity = (update: IdentityUpdate | null): void => {
    const prev = this.#identity;
    const same =
      prev === update ||
      (prev !== null && update !== null && prev.certificate.equals(update.certificate) && prev.privateKey.equals(update.privateKey));
    if (same || !this.acceptIdentity(update)) return;
    this.#identity = update;
    for (const l of this.#identityListeners) l(update);
  };

  readonly #onInnerCa = (update: CaUpdate | null): void => {
    const prev = this.#ca;
    if (prev === update || (prev !== null && update !== null && prev.caCertificate.equals(update.caCertificate))) return;
    if (!this.acceptCa(update)) return;
    this.#ca = update;
    for (const l of this.#caListeners) l(update);
  };

  constructor(inner: grpc.experimental.FileWatcherCertificateProvider, identity: IdentityUpdate, ca: CaUpdate | null, watchCa: boolean) {
    this.#inner = inner;
    this.#identity = identity;
    this.#ca = ca;
    this.#watchCa = watchCa;
    // Subscribing starts the watcher's refresh timer; close() stops it.
    inner.addIdentityCertificateListener(this.#onInnerIdentity);
    if (watchCa) inner.addCaCertificateListener(this.#onInnerCa);
  }

  // grpc-js registers its listener before its context watcher, so the first value must arrive
  // on a later tick (as the FileWatcher does), or the server would never see it.
  addIdentityCertificateListener(listener: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.#identityListeners.add(listener);
    process.nextTick(() => {
      if (this.#identityListeners.has(listener)) listener(this.#identity);
    });
  }
  removeIdentityCertificateListener(listener: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.#identityListeners.delete(listener);
  }
  addCaCertificateListener(listener: grpc.experimental.CaCertificateUpdateListener): void {
    this.#caListeners.add(listener);
    process.nextTick(() => {
      if (this.#caListeners.has(listener)) listener(this.#ca);
    });
  }
  removeCaCertificateListener(listener: grpc.experimental.CaCertificateUpdateListener): void {
    this.#caListeners.delete(listener);
  }

  close(): void {
    this.#inner.removeIdentityCertificateListener(this.#onInnerIdentity);
    if (this.#watchCa) this.#inner.removeCaCertificateListener(this.#onInnerCa);
  }
}

interface CertInfo {
  subject: string;
  fingerprint256: string;
  validTo: string;
  validToMs: number;
}

function readConfigFile(path: string, field: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new WarmpoolError('CONFIG_INVALID', `${field}: cannot read ${path}: ${describeError(err)}`, { field, cause: err });
  }
}

function validateIdentity(certPem: Buffer, keyPem: Buffer, certFile: string, keyFile: string): CertInfo {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (err) {
    throw new WarmpoolError('CONFIG_INVALID', `grpc.tls.certFile: ${certFile} is not a PEM certificate (${describeError(err)})`, {
      field: 'grpc.tls.certFile',
    });
  }
  let matches: boolean;
  try {
    matches = cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    // Never include the key parser's message: it could quote key material.
    throw new WarmpoolError('CONFIG_INVALID', `grpc.tls.keyFile: ${keyFile} is not a readable, unencrypted PEM private key`, {
      field: 'grpc.tls.keyFile',
    });
  }
  if (!matches) {
    throw new WarmpoolError('CONFIG_INVALID', `grpc.tls.keyFile: ${keyFile} does not belong to the certificate in ${certFile}`, {
      field: 'grpc.tls.keyFile',
    });
  }
  return { subject: cert.subject, fingerprint256: cert.fingerprint256, validTo: cert.validTo, validToMs: Date.parse(cert.validTo) };
}

function validateCa(pem: Buffer, file: string): void {
  try {
    new X509Certificate(pem);
  } catch (err) {
    throw new WarmpoolError('CONFIG_INVALID', `grpc.tls.clientCaFile: ${file} is not a PEM certificate (${describeError(err)})`, {
      field: 'grpc.tls.clientCaFile',
    });
  }
}

function warnIfExpiring(info: CertInfo, logger: Logger): void {
  const left = info.validToMs - Date.now();
  if (left < 0) logger.error({ validTo: info.validTo }, 'gRPC TLS certificate has expired: clients will refuse to connect');
  else if (left < 7 * 86_400_000) logger.warn({ validTo: info.validTo }, 'gRPC TLS certificate expires within 7 days');
}
