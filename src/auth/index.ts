/**
 * The gRPC port's security in one object, built from `AppConfig['grpc']`:
 *
 *   const auth = createAuth(cfg.grpc, logger);          // throws CONFIG_INVALID (exit 2)
 *   server.bindAsync(cfg.grpc.listen, auth.credentials, ...);
 *   // in each handler, before touching the pool:
 *   const caller = auth.guard(call, { rpc: 'Run', device, commands, configure, privileged });
 *   process.on('SIGHUP', () => auth.reload());
 *   // after server shutdown:
 *   auth.close();
 */
import type * as grpc from '@grpc/grpc-js';
import type { AppConfig } from '../config/types.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { createAuthenticator, type AuthenticatableCall, type Authenticator } from './authenticate.js';
import type { Caller } from './caller.js';
import { checkListenSafety } from './listen-safety.js';
import { PolicyStore, type AuthzRequest, type Decision } from './policy.js';
import { createServerCredentials, type TransportMode } from './server-credentials.js';
import { TokenStore } from './tokens.js';

export type { Caller } from './caller.js';
export { ANONYMOUS } from './caller.js';
export type { AuthenticatableCall, Authenticator } from './authenticate.js';
export { createAuthenticator } from './authenticate.js';
export type { AuthzRequest, Decision, PolicyDevice } from './policy.js';
export { Policy, PolicyStore, loadPolicy, KNOWN_RPCS } from './policy.js';
export { TokenStore, sha256 } from './tokens.js';
export { createServerCredentials, transportMode, DEFAULT_CERT_REFRESH_MS, type TransportMode, type ServerCredentialsHandle } from './server-credentials.js';
export { checkListenSafety, isLoopbackListen } from './listen-safety.js';

export interface AuthLayer {
  credentials: grpc.ServerCredentials;
  mode: TransportMode;
  /** Who is calling; throws WarmpoolError UNAUTHENTICATED. */
  authenticate: Authenticator;
  /** Throws WarmpoolError PERMISSION_DENIED. */
  authorize(caller: Caller, req: AuthzRequest): void;
  /** Non-throwing decision, for filtering lists (ListDevices, GetPoolStats). */
  check(caller: Caller, req: AuthzRequest): Decision;
  /** authenticate + authorize: the first line of every handler. Returns the caller for audit logs. */
  guard(call: AuthenticatableCall, req: AuthzRequest): Caller;
  /** Re-read tokens and policy files now (SIGHUP). Certificates follow their files by themselves. */
  reload(): void;
  /** Stop watching certificate files; call after the gRPC server has shut down. */
  close(): void;
}

export interface AuthOptions {
  /** Certificate file re-read interval (default 60 s). */
  certRefreshMs?: number;
  /** Minimum interval between stat() of the tokens/policy files on the request path (default 1 s). */
  fileRecheckMs?: number;
  clock?: Clock;
}

export function createAuth(cfg: AppConfig['grpc'], logger: Logger, opts: AuthOptions = {}): AuthLayer {
  checkListenSafety(cfg, logger);
  const fileOpts = { logger, ...(opts.fileRecheckMs === undefined ? {} : { recheckMs: opts.fileRecheckMs }), ...(opts.clock ? { clock: opts.clock } : {}) };
  const tokens = cfg.auth.tokensFile === '' ? undefined : new TokenStore(cfg.auth.tokensFile, fileOpts);
  const policy = new PolicyStore(cfg.auth.policyFile, fileOpts);
  // Credentials last: they start a file-watch timer that must not leak when the above throw.
  const creds = createServerCredentials(cfg, logger, opts.certRefreshMs === undefined ? {} : { refreshIntervalMs: opts.certRefreshMs });
  const authenticate = createAuthenticator({ tokens, mtls: cfg.tls.clientCaFile !== '' });
  logger.info(
    {
      listen: cfg.listen,
      transport: creds.mode,
      tokenCallers: tokens?.size ?? 0,
      policyRules: cfg.auth.policyFile === '' ? 'none (all authenticated callers allowed)' : policy.current().ruleCount,
    },
    'gRPC caller authentication configured',
  );
  return {
    credentials: creds.credentials,
    mode: creds.mode,
    authenticate,
    authorize: (caller, req) => policy.authorize(caller, req),
    check: (caller, req) => policy.check(caller, req),
    guard(call, req) {
      const caller = authenticate(call);
      policy.authorize(caller, req);
      return caller;
    },
    reload() {
      tokens?.reload();
      policy.reload();
    },
    close: () => creds.close(),
  };
}
