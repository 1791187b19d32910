import type * as grpc from '@grpc/grpc-js';
import type { AppConfig, DeviceSpec } from '../config/types.js';
import { WarmpoolError } from '../core/errors.js';
import type { DeviceProxyHandlers } from '../gen/warmpool/v1/DeviceProxy.js';
import type { DeviceRunResult } from '../gen/warmpool/v1/DeviceRunResult.js';
import type { HttpRequest__Output } from '../gen/warmpool/v1/HttpRequest.js';
import type { HttpResponse } from '../gen/warmpool/v1/HttpResponse.js';
import type { RunEvent } from '../gen/warmpool/v1/RunEvent.js';
import type { RunManyRequest__Output } from '../gen/warmpool/v1/RunManyRequest.js';
import type { RunRequest__Output } from '../gen/warmpool/v1/RunRequest.js';
import type { RunResponse } from '../gen/warmpool/v1/RunResponse.js';
import type { DeviceRegistry } from '../inventory/registry.js';
import type { SessionInfo } from '../pool/types.js';
import type { CallContext } from './context.js';
import { commandResultMsg, runResponseMsg, sessionInfoMsg } from './convert.js';
import { serverStream, unary, writeWithBackpressure, type HandlerDeps } from './handler.js';
import type { Runner } from '../app/run.js';
import { toErrorMessage } from './status.js';
import { validateHttp, validateRun, validateRunMany, type ValidRun } from './validate.js';

/** One HTTP request over a device's pooled connections (implemented by http/). */
export interface HttpBackend {
  request(device: DeviceSpec, req: {
    method: string; path: string; headers: Record<string, string>; body?: Buffer; timeoutMs: number; signal?: AbortSignal;
  }): Promise<{ status: number; headers: Record<string, string>; body: Buffer; durationMs: number; session: SessionInfo }>;
}

export interface DeviceProxyDeps extends HandlerDeps {
  runner: Runner;
  devices: DeviceRegistry;
  http: HttpBackend | undefined;
  limits: AppConfig['limits'];
}

export function deviceProxyHandlers(deps: DeviceProxyDeps): DeviceProxyHandlers {
  const { runner, guard, limits } = deps;

  const authorizeRun = (run: ValidRun, ctx: CallContext, device: DeviceSpec) =>
    guard.authorize(ctx.caller, { rpc: ctx.rpc, device, commands: run.commands, configure: run.configure, privileged: run.privileged });

  return {
    Run: unary<RunRequest__Output, RunResponse>('DeviceProxy/Run', deps, async (req, ctx) => {
      const run = validateRun(req, limits);
      authorizeRun(run, ctx, runner.device(run));
      return runResponseMsg(await runner.run(run, ctx));
    }),

    RunStream: serverStream<RunRequest__Output, RunEvent>('DeviceProxy/RunStream', deps, async (req, ctx, call) => {
      const run = validateRun(req, limits);
      authorizeRun(run, ctx, runner.device(run));
      const write = (ev: RunEvent) => writeWithBackpressure(call, ev, ctx.signal);
      await runner.run(run, ctx, {
        onSession: (s) => void write({ session: sessionInfoMsg(s) }),
        onChunk: (i, data) => write({ chunk: { command_index: i, data } }),
        // The chunks carried the output: the result does not send it again (it could be any size).
        onResult: (_i, o) => void write({ result: { ...commandResultMsg(o), output: '' } }),
      });
    }),

    RunMany: serverStream<RunManyRequest__Output, DeviceRunResult>('DeviceProxy/RunMany', deps, async (req, ctx, call) => {
      const many = validateRunMany(req, limits);
      const ids = new Set(many.devices);
      if (Object.keys(many.labels).length > 0) for (const d of deps.devices.list(many.labels)) ids.add(d.id);
      if (ids.size === 0) {
        const sel = Object.entries(many.labels).map(([k, v]) => `${k}=${v}`).join(',');
        throw new WarmpoolError('DEVICE_NOT_FOUND', `no device matches the label selector ${sel}`);
      }
      const queue = [...ids];
      const worker = async () => {
        for (let id = queue.shift(); id !== undefined && !ctx.signal.aborted; id = queue.shift()) {
          let msg: DeviceRunResult;
          try {
            const run = { ...many.template, device: id };
            authorizeRun(run, ctx, runner.device(run));
            msg = { device: id, response: runResponseMsg(await runner.run(run, ctx)) };
          } catch (err) {
            if (ctx.signal.aborted) return;
            msg = { device: id, error: toErrorMessage(err) };
          }
          await writeWithBackpressure(call, msg, ctx.signal);
        }
      };
      const n = Math.min(many.concurrency, queue.length);
      await Promise.all(Array.from({ length: n }, worker));
      if (ctx.signal.aborted) throw ctx.signal.reason;
    }),

    Http: unary<HttpRequest__Output, HttpResponse>('DeviceProxy/Http', deps, async (req, ctx) => {
      const r = validateHttp(req, limits);
      const device = deps.devices.get(r.device);
      if (!device.http) {
        throw new WarmpoolError('INVALID_ARGUMENT', `device "${device.id}": has no http block in the inventory`, { device: device.id, field: 'device' });
      }
      if (!deps.http) throw new WarmpoolError('INTERNAL', 'HTTP sessions are not available in this build');
      guard.authorize(ctx.caller, { rpc: ctx.rpc, device, httpMethod: r.method, httpPath: r.policyPath });
      const left = ctx.deadline - Date.now();
      if (left <= 0) throw new WarmpoolError('DEADLINE_EXCEEDED', `device "${device.id}": the call's deadline passed before the request was sent`, { device: device.id });
      const timeoutMs = Math.min(r.timeoutMs > 0 ? r.timeoutMs : device.http.requestTimeoutMs, left);
      const res = await deps.http.request(device, {
        method: r.method, path: r.path, headers: r.headers, ...(r.body ? { body: r.body } : {}), timeoutMs, signal: ctx.signal,
      });
      return { status: res.status, headers: res.headers, body: res.body, duration_ms: res.durationMs, session: sessionInfoMsg(res.session) };
    }),
  } satisfies Record<string, grpc.UntypedHandleCall>;
}
