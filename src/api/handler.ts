import { status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import type * as grpc from '@grpc/grpc-js';
import { WarmpoolError, isWarmpoolError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { ApiMetrics, CallContext, RpcTiming } from '../app/context.js';
import type { Guard } from '../app/guard.js';
import { statusName, toServiceError } from './status.js';

/**
 * Tracks in-flight calls and refuses new ones while draining: new RPCs get UNAVAILABLE, in-flight
 * ones finish within shutdown.graceMs (docs/api.md, "Process, signals and exit status").
 */
export class CallTracker {
  #draining = false;
  #active = new Set<AbortController>();
  #idleWaiters: Array<() => void> = [];

  get draining(): boolean {
    return this.#draining;
  }

  get active(): number {
    return this.#active.size;
  }

  startDraining(): void {
    this.#draining = true;
  }

  enter(ac: AbortController): void {
    this.#active.add(ac);
  }

  isActive(ac: AbortController): boolean {
    return this.#active.has(ac);
  }

  leave(ac: AbortController): void {
    this.#active.delete(ac);
    if (this.#active.size === 0) for (const w of this.#idleWaiters.splice(0)) w();
  }

  /** Resolves when no call is in flight. */
  idle(): Promise<void> {
    if (this.#active.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Abort every in-flight call (grace period over). */
  abortAll(reason: string): void {
    for (const ac of this.#active) ac.abort(new WarmpoolError('SHUTDOWN', reason));
  }
}

export interface HandlerDeps {
  guard: Guard;
  metrics: ApiMetrics;
  tracker: CallTracker;
  logger: Logger;
}

type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;

function deadlineOf(call: AnyCall): number {
  const d = call.getDeadline();
  const ms = d instanceof Date ? d.getTime() : Number(d);
  return Number.isFinite(ms) ? ms : Infinity;
}

/** Common entry of every call: drain check, authentication, cancellation, deadline. */
function begin(method: string, call: AnyCall, deps: HandlerDeps): { ctx: CallContext; ac: AbortController } {
  if (deps.tracker.draining) throw new WarmpoolError('DRAINING', 'warmpool is shutting down and accepts no new calls; retry on another instance');
  const caller = deps.guard.authenticate(call);
  const ac = new AbortController();
  // grpc-js emits 'cancelled' when the stream closes, also after a normal finish: build the
  // error (and its stack) only for a call that is still running, as it is on the hot path.
  call.on('cancelled', () => {
    if (deps.tracker.isActive(ac)) ac.abort(new WarmpoolError('CANCELLED', 'the caller cancelled the call'));
  });
  return { ac, ctx: { caller, rpc: method.slice(method.indexOf('/') + 1), signal: ac.signal, deadline: deadlineOf(call) } };
}

/**
 * The error a call ends with. A call we aborted ourselves (the drain grace ran out) fails with
 * the reason we aborted it for — DRAINING, i.e. UNAVAILABLE, which clients retry elsewhere —
 * not with the CANCELLED the layers below build from the bare abort ("cancelled while waiting
 * for the prompt"), which would blame the caller. Their message is kept: it names the device
 * and what was interrupted.
 */
function callError(err: unknown, signal: AbortSignal | undefined): unknown {
  const reason: unknown = signal?.aborted ? signal.reason : undefined;
  if (!(reason instanceof WarmpoolError) || reason.code === 'CANCELLED' || !isWarmpoolError(err, 'CANCELLED')) return err;
  return new WarmpoolError(reason.code, `${err.message}: ${reason.message}`, { device: err.device ?? reason.device, cause: err });
}

/** Seconds since `t0` (performance.now()) for warmpool_grpc_server_handling_seconds. */
function timing(t0: number, type: RpcTiming['type']): RpcTiming {
  return { seconds: (performance.now() - t0) / 1000, type };
}

function logFailure(deps: HandlerDeps, method: string, err: unknown, code: number, t: RpcTiming): void {
  // Internal errors are logged with their stack; expected ones at debug to keep logs quiet under load.
  if (!(err instanceof WarmpoolError)) deps.logger.error({ err, method }, 'unexpected error in handler');
  else deps.logger.debug({ method, code: err.code, device: err.device, msg: err.message }, 'call failed');
  deps.metrics.rpc(method, statusName(code), t);
}

/**
 * Send a call's reply; if grpc-js throws while doing so (a reply it cannot encode, metadata it
 * refuses), answer INTERNAL instead. Without this the call would never be answered and the
 * rejection would take the daemon down: a bad reply must cost one call, not the process.
 */
function replySafely(deps: HandlerDeps, method: string, t: RpcTiming, reply: () => void, fallback: (se: grpc.ServiceError) => void): void {
  try {
    reply();
  } catch (err) {
    deps.logger.error({ err, method }, 'could not send the reply; answering INTERNAL');
    deps.metrics.rpc(method, 'INTERNAL', t);
    try {
      fallback(Object.assign(new Error('internal error while sending the reply (see the daemon log)'), {
        code: grpcStatus.INTERNAL, details: 'internal error while sending the reply (see the daemon log)',
      }) as ServiceError);
    } catch (again) {
      deps.logger.error({ err: again, method }, 'could not send the INTERNAL reply either');
    }
  }
}

export function unary<Req, Res>(
  method: string,
  deps: HandlerDeps,
  impl: (req: Req, ctx: CallContext, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const t0 = performance.now();
    let ac: AbortController | undefined;
    const finish = (err: unknown, res?: Res) => {
      if (ac) deps.tracker.leave(ac);
      const t = timing(t0, 'unary');
      replySafely(deps, method, t, () => {
        if (err !== null) {
          err = callError(err, ac?.signal);
          const se = toServiceError(err);
          logFailure(deps, method, err, se.code ?? 13, t);
          callback(se as grpc.ServiceError);
        } else {
          deps.metrics.rpc(method, 'OK', t);
          callback(null, res);
        }
      }, (se) => callback(se));
    };
    try {
      const b = begin(method, call as AnyCall, deps);
      ac = b.ac;
      deps.tracker.enter(ac);
      impl(call.request, b.ctx, call).then((res) => finish(null, res), (err: unknown) => finish(err));
    } catch (err) {
      finish(err);
    }
  };
}

export function serverStream<Req, Res>(
  method: string,
  deps: HandlerDeps,
  impl: (req: Req, ctx: CallContext, call: grpc.ServerWritableStream<Req, Res>) => Promise<void>,
): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    const t0 = performance.now();
    let ac: AbortController | undefined;
    const finish = (err: unknown) => {
      if (ac) deps.tracker.leave(ac);
      const t = timing(t0, 'server_stream');
      replySafely(deps, method, t, () => {
        if (err !== null) {
          err = callError(err, ac?.signal);
          const se = toServiceError(err);
          logFailure(deps, method, err, se.code ?? 13, t);
          // A cancelled call has no one to tell.
          if (!call.cancelled) call.emit('error', se);
          else call.end();
        } else {
          deps.metrics.rpc(method, 'OK', t);
          call.end();
        }
      }, (se) => call.emit('error', se));
    };
    try {
      const b = begin(method, call as AnyCall, deps);
      ac = b.ac;
      deps.tracker.enter(ac);
      impl(call.request, b.ctx, call).then(() => finish(null), (err: unknown) => finish(err));
    } catch (err) {
      finish(err);
    }
  };
}

/**
 * Write to a server stream and wait for 'drain' when its buffer is full, so a slow
 * reader slows the device reads down instead of growing memory without bound.
 */
export function writeWithBackpressure<T>(call: grpc.ServerWritableStream<unknown, T>, msg: T, signal: AbortSignal): void | Promise<void> {
  if (call.write(msg)) return;
  return new Promise<void>((resolve, reject) => {
    const onDrain = () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    };
    const onAbort = () => {
      call.removeListener('drain', onDrain);
      reject(signal.reason instanceof Error ? signal.reason : new WarmpoolError('CANCELLED', 'the call was cancelled'));
    };
    call.once('drain', onDrain);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
