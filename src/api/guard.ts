import type { DeviceSpec } from '../config/types.js';
import type { Caller } from './context.js';

/** The shape of a call as authentication sees it (any grpc-js server call). */
export interface CallLike {
  metadata: import('@grpc/grpc-js').Metadata;
  getPeer(): string;
  getAuthContext?(): unknown;
}

export interface AuthorizeRequest {
  rpc: string;
  device?: DeviceSpec;
  commands?: string[];
  configure?: boolean;
  httpMethod?: string;
  httpPath?: string;
}

/**
 * Caller authentication and authorization, as the API layer sees them. auth/ provides
 * the real implementation; `openGuard` is the sidecar default (the pod is the boundary).
 */
export interface Guard {
  /** Throws WarmpoolError UNAUTHENTICATED. */
  authenticate(call: CallLike): Caller;
  /** Throws WarmpoolError PERMISSION_DENIED naming the rule. */
  authorize(caller: Caller, req: AuthorizeRequest): void;
}

export const openGuard: Guard = {
  authenticate: () => ({ name: 'anonymous', via: 'none' }),
  authorize: () => {},
};
