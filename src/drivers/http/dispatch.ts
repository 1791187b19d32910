/**
 * One HTTP exchange over an undici dispatcher, with the response body collected up to a cap.
 *
 * WHY a handler instead of `pool.request()`: it tells us exactly when the request got a socket
 * (queue wait), whether any response byte arrived (only then is a retry unsafe), and lets us stop
 * reading — and drop the connection — the moment the body passes the cap.
 */
import type { Dispatcher } from 'undici';
import { WarmpoolError } from '../../core/errors.js';

export interface OnceRequest {
  method: string;
  /** Request target (path + query) on the dispatcher's origin. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** undici headersTimeout / bodyTimeout, ms. */
  timeoutMs: number;
  maxResponseBytes: number;
  signal: AbortSignal;
  device: string;
}

export interface OnceResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Ms (performance.now) when the request was put on a socket. */
  startedAt: number;
}

/** Thrown (wrapped) when the failure happened after the response started: never retried. */
export class AfterResponseError extends Error {
  constructor(readonly inner: unknown) {
    super('error after response start');
  }
}

function tooLarge(device: string, limit: number): WarmpoolError {
  return new WarmpoolError('HTTP_BODY_TOO_LARGE', `device "${device}": HTTP response body exceeded http.maxResponseBytes (${limit} bytes)`, { device });
}

export function dispatchOnce(dispatcher: Dispatcher, req: OnceRequest): Promise<OnceResponse> {
  return new Promise<OnceResponse>((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let settled = false;
    let responded = false;
    let status = 0;
    let headers: Record<string, string | string[] | undefined> = {};
    let startedAt = 0;
    const chunks: Buffer[] = [];
    let size = 0;

    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      req.signal.removeEventListener('abort', onAbort);
      reject(responded ? new AfterResponseError(err) : err);
    };
    const abortWith = (err: Error) => {
      // Aborting a running request makes undici destroy the socket: it is never reused half-read.
      if (controller && !controller.aborted) controller.abort(err);
      fail(err);
    };
    const onAbort = () => abortWith(req.signal.reason instanceof Error ? req.signal.reason : new Error('aborted'));
    if (req.signal.aborted) {
      onAbort();
      return;
    }
    req.signal.addEventListener('abort', onAbort, { once: true });

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        startedAt = performance.now();
        // Aborted while queued: undici calls us when a socket is free; cancel before writing.
        if (settled) c.abort(new Error('aborted before start'));
      },
      onResponseStart(c, statusCode, h) {
        if (statusCode < 200) return; // 1xx informational: the real response follows
        responded = true;
        status = statusCode;
        headers = h as Record<string, string | string[] | undefined>;
        const len = Number(h['content-length']);
        if (Number.isFinite(len) && len > req.maxResponseBytes) {
          controller = c;
          abortWith(tooLarge(req.device, req.maxResponseBytes));
        }
      },
      onResponseData(c, chunk) {
        if (settled) return;
        size += chunk.length;
        if (size > req.maxResponseBytes) {
          controller = c;
          abortWith(tooLarge(req.device, req.maxResponseBytes));
          return;
        }
        chunks.push(chunk);
      },
      onResponseEnd() {
        if (settled) return;
        settled = true;
        req.signal.removeEventListener('abort', onAbort);
        const out = { status, headers, body: Buffer.concat(chunks, size), startedAt };
        // WHY two turns: with pipelining 1 undici frees the socket only one event-loop turn after
        // the response ends (setImmediate, scheduled after this callback). A caller that sends its
        // next request as soon as we resolve would find no free socket and open a second
        // connection. Resolving after undici's turn keeps sequential callers on one socket.
        setImmediate(() => setImmediate(() => resolve(out)));
      },
      onResponseError(_c, err) {
        fail(err);
      },
    };

    try {
      dispatcher.dispatch(
        {
          path: req.path,
          method: req.method as Dispatcher.HttpMethod,
          headers: req.headers,
          body: req.body ?? null,
          headersTimeout: req.timeoutMs,
          bodyTimeout: req.timeoutMs,
        },
        handler,
      );
    } catch (err) {
      fail(err);
    }
  });
}
