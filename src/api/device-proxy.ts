import type * as grpc from '@grpc/grpc-js';
import type { AppConfig } from '../config/types.js';
import type { DeviceProxyHandlers } from '../gen/warmpool/v1/DeviceProxy.js';
import type { DeviceRunResult } from '../gen/warmpool/v1/DeviceRunResult.js';
import type { HttpRequest__Output } from '../gen/warmpool/v1/HttpRequest.js';
import type { HttpResponse } from '../gen/warmpool/v1/HttpResponse.js';
import type { RunEvent } from '../gen/warmpool/v1/RunEvent.js';
import type { RunManyRequest__Output } from '../gen/warmpool/v1/RunManyRequest.js';
import type { RunRequest__Output } from '../gen/warmpool/v1/RunRequest.js';
import type { RunResponse } from '../gen/warmpool/v1/RunResponse.js';
import type { Runner } from '../app/run.js';
import type { HttpRunner } from '../app/run-http.js';
import type { FanOut } from '../app/run-many.js';
import type { NetconfRunner } from '../app/run-netconf.js';
import type { NetconfRequest__Output } from '../gen/warmpool/v1/NetconfRequest.js';
import type { NetconfResponse } from '../gen/warmpool/v1/NetconfResponse.js';
import { validateNetconf } from './validate-netconf.js';
import { commandResultMsg, runResponseMsg, sessionInfoMsg } from './convert.js';
import { serverStream, unary, writeWithBackpressure, type HandlerDeps } from './handler.js';
import { toErrorMessage } from './status.js';
import { WarmpoolError } from '../core/errors.js';
import { validateHttpRequest, validateRun, validateRunMany } from './validate.js';

export interface DeviceProxyDeps extends HandlerDeps {
  runner: Runner;
  fanOut: FanOut;
  http: HttpRunner;
  /** Absent: Netconf answers UNIMPLEMENTED-like INTERNAL (tests that wire only SSH). */
  netconf?: NetconfRunner;
  limits: AppConfig['limits'];
}

/**
 * The DeviceProxy service: each handler validates the request, calls its use case (app/run.ts,
 * app/run-many.ts, app/run-http.ts) and converts the result; failures are mapped to a status by
 * handler.ts through status.ts.
 */
export function deviceProxyHandlers(deps: DeviceProxyDeps): DeviceProxyHandlers {
  const { runner, fanOut, http, limits } = deps;

  return {
    Run: unary<RunRequest__Output, RunResponse>('DeviceProxy/Run', deps, async (req, ctx) =>
      runResponseMsg(await runner.run(validateRun(req, limits), ctx))),

    RunStream: serverStream<RunRequest__Output, RunEvent>('DeviceProxy/RunStream', deps, async (req, ctx, call) => {
      const run = validateRun(req, limits);
      const write = (ev: RunEvent) => writeWithBackpressure(call, ev, ctx.signal);
      await runner.run(run, ctx, {
        onSession: (s) => void write({ session: sessionInfoMsg(s) }),
        onChunk: (i, data) => write({ chunk: { command_index: i, data } }),
        // The chunks carried the output: the result does not send it again (it could be any size).
        onResult: (_i, o) => void write({ result: { ...commandResultMsg(o), output: '' } }),
      });
    }),

    RunMany: serverStream<RunManyRequest__Output, DeviceRunResult>('DeviceProxy/RunMany', deps, async (req, ctx, call) => {
      await fanOut.run(validateRunMany(req, limits), ctx, (o) => writeWithBackpressure(call, 'result' in o
        ? { device: o.device, response: runResponseMsg(o.result) }
        : { device: o.device, error: toErrorMessage(o.error) }, ctx.signal));
    }),

    Http: unary<HttpRequest__Output, HttpResponse>('DeviceProxy/Http', deps, async (req, ctx) => {
      const res = await http.run(validateHttpRequest(req, limits), ctx);
      return { status: res.status, headers: res.headers, body: res.body, duration_ms: res.durationMs, session: sessionInfoMsg(res.session) };
    }),

    Netconf: unary<NetconfRequest__Output, NetconfResponse>('DeviceProxy/Netconf', deps, async (req, ctx) => {
      const valid = validateNetconf(req, limits);
      if (!deps.netconf) throw new WarmpoolError('INTERNAL', 'NETCONF sessions are not available in this build');
      const r = await deps.netconf.run(valid, ctx);
      return { device: r.device, reply: r.reply, failed: r.failed, error: r.error, duration_ms: r.durationMs, session: sessionInfoMsg(r.session) };
    }),
  } satisfies Record<string, grpc.UntypedHandleCall>;
}
