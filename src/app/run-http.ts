import type { DeviceSpec } from '../config/types.js';
import type { Clock } from '../core/clock.js';
import { WarmpoolError } from '../core/errors.js';
import type { DeviceRegistry } from '../inventory/registry.js';
import type { SessionInfo } from '../pool/types.js';
import type { CallContext } from './context.js';
import type { Guard } from './guard.js';
import type { ValidHttp } from './requests.js';
import { DeadlineBudget } from './deadline.js';

/** One HTTP request over a device's pooled connections (implemented by drivers/http through app/http-clients.ts). */
export interface HttpBackend {
  request(device: DeviceSpec, req: {
    method: string; path: string; headers: Record<string, string>; body?: Buffer; timeoutMs: number; signal?: AbortSignal;
  }): Promise<HttpResult>;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  durationMs: number;
  session: SessionInfo;
}

export interface HttpRunnerDeps {
  devices: DeviceRegistry;
  /** Absent: this build has no HTTP sessions (the call fails INTERNAL). */
  http: HttpBackend | undefined;
  guard: Pick<Guard, 'authorize'>;
  clock: Clock;
}

/**
 * The "run over HTTP" use case: resolve the device once, check it has an HTTP API, authorize
 * the normalised path, and send the request within the call's deadline budget.
 */
export class HttpRunner {
  readonly #deps: HttpRunnerDeps;

  constructor(deps: HttpRunnerDeps) {
    this.#deps = deps;
  }

  async run(r: ValidHttp, ctx: CallContext): Promise<HttpResult> {
    const device = this.#deps.devices.get(r.device);
    if (!device.http) {
      throw new WarmpoolError('INVALID_ARGUMENT', `device "${device.id}": has no http block in the inventory`, { device: device.id, field: 'device' });
    }
    const backend = this.#deps.http;
    if (!backend) throw new WarmpoolError('INTERNAL', 'HTTP sessions are not available in this build');
    this.#deps.guard.authorize(ctx.caller, { rpc: ctx.rpc, device, httpMethod: r.method, httpPath: r.policyPath });
    const budget = DeadlineBudget.of(ctx.deadline, this.#deps.clock);
    budget.check(device.id, 'before the request was sent');
    const timeoutMs = budget.cap(r.timeoutMs > 0 ? r.timeoutMs : device.http.requestTimeoutMs);
    return backend.request(device, {
      method: r.method, path: r.path, headers: r.headers, ...(r.body ? { body: r.body } : {}), timeoutMs, signal: ctx.signal,
    });
  }
}
