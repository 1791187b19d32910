import type { DeviceSpec } from '../config/types.js';
import { WarmpoolError } from '../core/errors.js';
import type { Audit, AuditEvent } from './audit.js';
import type { Caller } from '../auth/caller.js';

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
  privileged?: boolean;
  /** Replies of RunRequest.answers: checked like commands, never quoted or audited by the guard (they may be secret). */
  answerReplies?: string[];
  httpMethod?: string;
  /** The normalised path without query (http/path.ts): exactly what is sent to the device. */
  httpPath?: string;
}

/** An authorization decision; `rule` is 1-based (0: no policy file, or no rule matched). */
export interface GuardDecision {
  allowed: boolean;
  rule: number;
  message?: string;
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
  /** The decision without throwing and without an audit event: for filtering lists (ListDevices). */
  check?(caller: Caller, req: AuthorizeRequest): GuardDecision;
}

export const openGuard: Guard = {
  authenticate: () => ({ name: 'anonymous', via: 'none' }),
  authorize: () => {},
  check: () => ({ allowed: true, rule: 0 }),
};

/** May `caller` do `req`? Without throwing or auditing (a device filtered out of a list is not a denial). */
export function isAllowed(guard: Guard, caller: Caller, req: AuthorizeRequest): boolean {
  if (guard.check) return guard.check(caller, req).allowed;
  try {
    guard.authorize(caller, req);
    return true;
  } catch {
    return false;
  }
}

/**
 * RPCs whose ALLOWED decisions are audited too: those that reach a device or change the inventory
 * or the pools. Read-only metadata calls (GetDevice, ListDevices, GetPoolStats) are audited only
 * when denied, so dashboards polling them do not flood the audit log.
 */
const AUDITED_RPCS: ReadonlySet<string> = new Set(['Run', 'RunStream', 'RunMany', 'Http', 'PutDevice', 'DeleteDevice', 'DrainDevice']);

/**
 * Wraps a guard so that every authorization decision is audited: every denial (outcome `denied`),
 * and the allowed decisions of AUDITED_RPCS (outcome `allowed`), each with the caller, how it
 * authenticated, the device, the deciding rule and the (redacted, see audit.ts) command or path.
 * The denial thrown is the guard's own: PERMISSION_DENIED with the policy's message.
 */
export function auditedGuard(inner: Guard, audit: Audit): Guard {
  const decide = (caller: Caller, req: AuthorizeRequest): GuardDecision => {
    if (inner.check) return inner.check(caller, req);
    try {
      inner.authorize(caller, req);
      return { allowed: true, rule: 0 };
    } catch (err) {
      if (err instanceof WarmpoolError && err.code === 'PERMISSION_DENIED') return { allowed: false, rule: 0, message: err.message };
      throw err;
    }
  };
  return {
    authenticate: (call) => inner.authenticate(call),
    check: (caller, req) => decide(caller, req),
    authorize(caller, req) {
      const d = decide(caller, req);
      if (!d.allowed || AUDITED_RPCS.has(req.rpc)) audit.record(decisionEvent(caller, req, d));
      if (!d.allowed) {
        throw new WarmpoolError('PERMISSION_DENIED', d.message ?? `caller ${caller.name} may not call ${req.rpc}`, req.device ? { device: req.device.id } : {});
      }
    },
  };
}

function decisionEvent(caller: Caller, req: AuthorizeRequest, d: GuardDecision): AuditEvent {
  return {
    caller: caller.name,
    via: caller.via,
    device: req.device?.id ?? '',
    rpc: req.rpc,
    outcome: d.allowed ? 'allowed' : 'denied',
    rule: d.rule,
    ...(req.commands ? { command: req.commands.join(' ; ') } : {}),
    ...(req.configure ? { configure: true } : {}),
    ...(req.privileged ? { privileged: true } : {}),
    ...(req.httpMethod !== undefined ? { method: req.httpMethod } : {}),
    ...(req.httpPath !== undefined ? { path: req.httpPath } : {}),
    ...(d.allowed ? {} : { error: d.message ?? 'denied' }),
  };
}
