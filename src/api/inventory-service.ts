import type { AppConfig } from '../config/types.js';
import type { DeviceSpec } from '../config/types.js';
import { WarmpoolError } from '../errors.js';
import type { InventoryHandlers } from '../gen/warmpool/v1/Inventory.js';
import type { Device } from '../gen/warmpool/v1/Device.js';
import type { PutDeviceRequest__Output } from '../gen/warmpool/v1/PutDeviceRequest.js';
import type { GetDeviceRequest__Output } from '../gen/warmpool/v1/GetDeviceRequest.js';
import type { ListDevicesRequest__Output } from '../gen/warmpool/v1/ListDevicesRequest.js';
import type { ListDevicesResponse } from '../gen/warmpool/v1/ListDevicesResponse.js';
import type { DeleteDeviceRequest__Output } from '../gen/warmpool/v1/DeleteDeviceRequest.js';
import type { DeleteDeviceResponse } from '../gen/warmpool/v1/DeleteDeviceResponse.js';
import type { DeviceRegistry } from '../inventory/registry.js';
import { deviceMsg, deviceToRaw } from './convert.js';
import { unary, type HandlerDeps } from './handler.js';
import { validateDeviceId } from './validate.js';

export interface InventoryDeps extends HandlerDeps {
  devices: DeviceRegistry;
  defaults: AppConfig['defaults'];
  /** The inventory file's validator (config/inventory.ts), shared so API and file accept the same devices. */
  validateDevice: (raw: unknown, defaults: AppConfig['defaults'], source: 'file' | 'api', where?: string) => DeviceSpec;
  /** Called after a device was removed or replaced (drain pools, drop cached results). */
  onRemoved?: (id: string) => void;
}

export function inventoryHandlers(deps: InventoryDeps): InventoryHandlers {
  const { devices, guard } = deps;
  return {
    PutDevice: unary<PutDeviceRequest__Output, Device>('Inventory/PutDevice', deps, async (req, ctx) => {
      if (!req.device) throw new WarmpoolError('INVALID_ARGUMENT', 'device: is required', { field: 'device' });
      validateDeviceId(req.device.id, 'device.id');
      const spec = deps.validateDevice(deviceToRaw(req.device), deps.defaults, 'api', 'request');
      guard.authorize(ctx.caller, { rpc: ctx.rpc, device: spec });
      devices.put(spec);
      return deviceMsg(spec);
    }),
    GetDevice: unary<GetDeviceRequest__Output, Device>('Inventory/GetDevice', deps, async (req, ctx) => {
      const d = devices.get(validateDeviceId(req.id, 'id'));
      guard.authorize(ctx.caller, { rpc: ctx.rpc, device: d });
      return deviceMsg(d);
    }),
    ListDevices: unary<ListDevicesRequest__Output, ListDevicesResponse>('Inventory/ListDevices', deps, async (req, ctx) => {
      const visible = devices.list(req.labels ?? {}).filter((d) => {
        try {
          guard.authorize(ctx.caller, { rpc: ctx.rpc, device: d });
          return true;
        } catch {
          return false;
        }
      });
      return { devices: visible.map(deviceMsg) };
    }),
    DeleteDevice: unary<DeleteDeviceRequest__Output, DeleteDeviceResponse>('Inventory/DeleteDevice', deps, async (req, ctx) => {
      const id = validateDeviceId(req.id, 'id');
      const d = devices.find(id);
      if (!d) return { deleted: false };
      guard.authorize(ctx.caller, { rpc: ctx.rpc, device: d });
      const deleted = devices.remove(id);
      if (deleted) deps.onRemoved?.(id);
      return { deleted };
    }),
  };
}
