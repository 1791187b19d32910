import type { AdminHandlers } from '../gen/warmpool/v1/Admin.js';
import type { GetPoolStatsRequest__Output } from '../gen/warmpool/v1/GetPoolStatsRequest.js';
import type { GetPoolStatsResponse } from '../gen/warmpool/v1/GetPoolStatsResponse.js';
import type { DrainDeviceRequest__Output } from '../gen/warmpool/v1/DrainDeviceRequest.js';
import type { DrainDeviceResponse } from '../gen/warmpool/v1/DrainDeviceResponse.js';
import type { DeviceRegistry } from '../inventory/registry.js';
import type { PoolStats } from '../pool/types.js';
import { poolStatsMsg } from './convert.js';
import { unary, type HandlerDeps } from './handler.js';
import { validateDeviceId } from './validate.js';

export interface AdminDeps extends HandlerDeps {
  devices: DeviceRegistry;
  /** Stats of every pool (ssh and http), optionally for the named devices only. */
  stats: (ids?: string[]) => PoolStats[];
  drainDevice: (id: string) => Promise<{ closedIdle: number; closingBusy: number }>;
  /** A bastion id is a valid GetPoolStats filter too (its pool has protocol "bastion"). */
  bastionExists?: (id: string) => boolean;
}

export function adminHandlers(deps: AdminDeps): AdminHandlers {
  return {
    GetPoolStats: unary<GetPoolStatsRequest__Output, GetPoolStatsResponse>('Admin/GetPoolStats', deps, async (req, ctx) => {
      const ids = (req.devices ?? []).map((d, i) => validateDeviceId(d, `devices[${i}]`));
      for (const id of ids) if (!deps.bastionExists?.(id)) deps.devices.get(id);
      deps.guard.authorize(ctx.caller, { rpc: ctx.rpc });
      return { pools: deps.stats(ids.length ? ids : undefined).map(poolStatsMsg) };
    }),
    DrainDevice: unary<DrainDeviceRequest__Output, DrainDeviceResponse>('Admin/DrainDevice', deps, async (req, ctx) => {
      const device = deps.devices.get(validateDeviceId(req.device));
      deps.guard.authorize(ctx.caller, { rpc: ctx.rpc, device });
      const r = await deps.drainDevice(device.id);
      return { closed_idle: r.closedIdle, closing_busy: r.closingBusy };
    }),
  };
}
