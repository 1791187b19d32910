/**
 * `warmpool many` behind a balancer that routes on x-warmpool-device (deploy/haproxy): the
 * balancer refuses RunMany (one replica would open sessions to devices other replicas own) and
 * says so with `warmpool-error-code: RUN_MANY_AT_BALANCER`. The CLI then does what the refusal
 * asks: one Run per device, each with its own header, `concurrency` at a time, and reports each
 * device as RunMany would have (a device's failure is its result; the rest go on).
 */
import * as grpc from '@grpc/grpc-js';
import type { RunRequest } from '../gen/warmpool/v1/RunRequest.js';
import type { RunResponse__Output } from '../gen/warmpool/v1/RunResponse.js';
import type { DeviceRunResult__Output } from '../gen/warmpool/v1/DeviceRunResult.js';
import type { ListDevicesResponse__Output } from '../gen/warmpool/v1/ListDevicesResponse.js';
import { BALANCER_REFUSAL } from '../client/errors.js';
import { settledInTurn } from '../client/fan-out.js';
import { unaryCall, type Clients } from './client.js';

/** RunMany's default when `concurrency` is 0 (docs/api.md, RunMany). */
const DEFAULT_CONCURRENCY = 16;

export function isBalancerRefusal(err: unknown): boolean {
  const e = err as Partial<grpc.ServiceError> | null;
  return e?.code === grpc.status.FAILED_PRECONDITION && e.metadata?.get('warmpool-error-code')[0] === BALANCER_REFUSAL;
}

export interface ManyRequest {
  template: RunRequest;
  devices: string[];
  labels: Record<string, string>;
  concurrency: number | undefined;
}

/**
 * The devices of `req` (named ones, then those matching the labels, each once), and one Run per
 * device. A header-less ListDevices goes to any replica: they all load the same inventory.
 */
export async function runEach(c: Clients, req: ManyRequest, deadline: Date, onResult: (r: DeviceRunResult__Output) => void): Promise<void> {
  const ids = new Set(req.devices);
  if (Object.keys(req.labels).length > 0) {
    const listed = await unaryCall<object, ListDevicesResponse__Output>(c.inventory.ListDevices.bind(c.inventory) as never, { labels: req.labels }, c.metadata(), deadline);
    for (const d of listed.devices) ids.add(d.id);
  }
  const run = (device: string): Promise<DeviceRunResult__Output> =>
    unaryCall<object, RunResponse__Output>(c.proxy.Run.bind(c.proxy) as never, { ...req.template, device }, c.metadata(device), deadline).then(
      (response): DeviceRunResult__Output => ({ device, response, error: null, outcome: 'response' }),
      (err: unknown): DeviceRunResult__Output => {
        const e = err as Partial<grpc.ServiceError>;
        return { device, response: null, error: { code: e.code ?? grpc.status.UNKNOWN, message: e.details ?? String(err) }, outcome: 'error' };
      },
    );
  for await (const r of settledInTurn([...ids], req.concurrency || DEFAULT_CONCURRENCY, run)) onResult(r);
}
