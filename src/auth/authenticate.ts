/**
 * Establish who is calling, from the call's metadata and its TLS connection.
 *
 * Rules (docs/security.md "Caller authentication"):
 *   - tokens configured: `authorization: Bearer <token>` names the caller. A token that is
 *     present but unknown is rejected even when a valid client certificate is also presented
 *     (a wrong credential is an error, not something to fall back from).
 *   - mTLS configured: with no token, the verified client certificate names the caller
 *     (URI SAN, else DNS SAN, else CN). grpc-js only exposes the certificate when the TLS
 *     layer verified it against the client CA (`socket.authorized`), so an unverified, expired
 *     or foreign-CA certificate never names anyone.
 *   - neither configured: every call is { name: 'anonymous', via: 'none' }.
 * Failures throw WarmpoolError UNAUTHENTICATED; messages say what is missing and never echo
 * a presented token.
 */
import type { Metadata } from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import { WarmpoolError } from '../core/errors.js';
import { ANONYMOUS, type Caller } from './caller.js';
import { certificateIdentity } from './peer-identity.js';
import type { TokenStore } from './tokens.js';

/** grpc-js's AuthContext (not exported from the package root in 1.14). */
export interface PeerAuthContext {
  transportSecurityType?: string;
  sslPeerCertificate?: PeerCertificate;
}

/** What the authenticator needs from a grpc-js server call (every call type has these). */
export interface AuthenticatableCall {
  metadata: Metadata;
  getPeer(): string;
  getAuthContext?(): PeerAuthContext | null;
}

export interface AuthenticatorOptions {
  tokens?: TokenStore | undefined;
  /** A client CA is configured: verified client certificates identify callers. */
  mtls: boolean;
}

export type Authenticator = (call: AuthenticatableCall) => Caller;

const BEARER = /^Bearer[ ]+(\S+)\s*$/i;

export function createAuthenticator(opts: AuthenticatorOptions): Authenticator {
  const { tokens, mtls } = opts;
  if (!tokens && !mtls) return () => ANONYMOUS;

  const missing =
    tokens && mtls
      ? "send metadata 'authorization: Bearer <token>' or a client certificate signed by the configured client CA"
      : tokens
        ? "send metadata 'authorization: Bearer <token>'"
        : 'connect with a client certificate signed by the configured client CA';

  return (call) => {
    if (tokens) {
      const values = call.metadata.get('authorization');
      if (values.length > 1) {
        throw new WarmpoolError('UNAUTHENTICATED', 'more than one authorization metadata entry; send exactly one');
      }
      if (values.length === 1) {
        const raw = values[0];
        const m = typeof raw === 'string' ? BEARER.exec(raw) : null;
        if (!m) {
          throw new WarmpoolError('UNAUTHENTICATED', "authorization metadata is not of the form 'Bearer <token>'");
        }
        const name = tokens.identify(m[1]!);
        if (name === undefined) {
          throw new WarmpoolError('UNAUTHENTICATED', 'bearer token not recognised (unknown or revoked)');
        }
        return { name, via: 'token' };
      }
    }
    if (mtls) {
      const cert = call.getAuthContext?.()?.sslPeerCertificate;
      if (cert) {
        const name = certificateIdentity(cert);
        if (name === undefined) {
          throw new WarmpoolError('UNAUTHENTICATED', 'client certificate has no URI SAN, DNS SAN or subject CN to identify the caller');
        }
        return { name, via: 'mtls' };
      }
    }
    throw new WarmpoolError('UNAUTHENTICATED', `no caller credentials: ${missing}`);
  };
}
