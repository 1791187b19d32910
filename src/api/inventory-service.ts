import type { AppConfig } from '../config/types.js';
import type { DeviceSpec } from '../config/types.js';
import { WarmpoolError } from '../core/errors.js';
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
import { isAllowed } from '../app/guard.js';
import { fingerprintsFromKnownHosts, refuseFileReferences, validateCaPem, validateDeviceId } from './validate.js';
import type { Device__Output } from '../gen/warmpool/v1/Device.js';

export interface InventoryDeps extends HandlerDeps {
  devices: DeviceRegistry;
  defaults: AppConfig['defaults'];
  /** The inventory file's validator (config/inventory.ts), shared so API and file accept the same devices. */
  validateDevice: (raw: unknown, defaults: AppConfig['defaults'], source: 'file' | 'api', where?: string) => DeviceSpec;
  /** Whether the inventory file defines this bastion: a device's `via` must name one. */
  bastionExists?: (id: string) => boolean;
  /** The platform `platform: autodetect` found for the device (undefined until its first connect). */
  detectedPlatform?: (id: string) => string | undefined;
  /** The capabilities of the device's newest NETCONF session (empty until one opened). */
  netconfCapabilities?: (id: string) => readonly string[];
  /** inventory.readOnly: the file is the only source of devices (replicas behind a load balancer). */
  readOnly?: boolean;
}

/**
 * With several replicas behind a balancer an API write would reach one replica only and be lost
 * when that replica restarts, so it is refused (docs/operations.md "Scaling out").
 */
function refuseWhenReadOnly(deps: InventoryDeps, rpc: string, id: string): void {
  if (!deps.readOnly) return;
  throw new WarmpoolError(
    'INVENTORY_READ_ONLY',
    `device "${id}": ${rpc} refused: the inventory is read-only on this daemon (inventory.readOnly: true); ` +
      'change the inventory file (e.g. its ConfigMap) and reload every replica instead',
    { device: id },
  );
}

export function inventoryHandlers(deps: InventoryDeps): InventoryHandlers {
  const { devices, guard } = deps;
  // Device.detected_platform: what autodetect found, beside platform "autodetect" (docs/api.md "Inventory").
  const msg = (d: DeviceSpec): Device => ({ ...deviceMsg(d, deps.netconfCapabilities?.(d.id)), detected_platform: deps.detectedPlatform?.(d.id) ?? '' });
  return {
    PutDevice: unary<PutDeviceRequest__Output, Device>('Inventory/PutDevice', deps, async (req, ctx) => {
      if (!req.device) throw new WarmpoolError('INVALID_ARGUMENT', 'device: is required', { field: 'device' });
      validateDeviceId(req.device.id, 'device.id');
      refuseWhenReadOnly(deps, 'PutDevice', req.device.id);
      const spec = apiDeviceSpec(req.device, deps);
      guard.authorize(ctx.caller, { rpc: ctx.rpc, device: spec });
      devices.put(spec);
      return deviceMsg(spec);
    }),
    GetDevice: unary<GetDeviceRequest__Output, Device>('Inventory/GetDevice', deps, async (req, ctx) => {
      const d = devices.get(validateDeviceId(req.id, 'id'));
      guard.authorize(ctx.caller, { rpc: ctx.rpc, device: d });
      return msg(d);
    }),
    ListDevices: unary<ListDevicesRequest__Output, ListDevicesResponse>('Inventory/ListDevices', deps, async (req, ctx) => {
      // A device filtered out of the list is not a denial: checked without an audit event.
      const visible = devices.list(req.labels ?? {}).filter((d) => isAllowed(guard, ctx.caller, { rpc: ctx.rpc, device: d }));
      return { devices: visible.map(msg) };
    }),
    DeleteDevice: unary<DeleteDeviceRequest__Output, DeleteDeviceResponse>('Inventory/DeleteDevice', deps, async (req, ctx) => {
      const id = validateDeviceId(req.id, 'id');
      refuseWhenReadOnly(deps, 'DeleteDevice', id);
      const d = devices.find(id);
      if (!d) return { deleted: false };
      guard.authorize(ctx.caller, { rpc: ctx.rpc, device: d });
      const deleted = devices.remove(id);
      return { deleted };
    }),
  };
}

function invalidField(field: string, problem: string, device: string): WarmpoolError {
  return new WarmpoolError('INVALID_ARGUMENT', `device "${device}": ${field}: ${problem}`, { field, device });
}

/**
 * A Device message from an API caller → DeviceSpec. File paths are refused first, before anything
 * could stat or read them; the inline forms take their place: host_key.known_hosts (text) becomes
 * pinned fingerprints, http.tls.ca_pem is the CA bundle itself.
 */
function apiDeviceSpec(m: Device__Output, deps: Pick<InventoryDeps, 'validateDevice' | 'defaults' | 'bastionExists'>): DeviceSpec {
  refuseFileReferences(m);
  const raw = deviceToRaw(m);
  const knownHosts = m.host_key?.known_hosts ?? '';
  if (knownHosts !== '') {
    const hk = (raw.hostKey ?? {}) as Record<string, unknown>;
    if (hk.fingerprints !== undefined || hk.acceptAny !== undefined) {
      throw invalidField('device.host_key.known_hosts', 'give exactly one of host_key.fingerprints, host_key.known_hosts or host_key.accept_any', m.id);
    }
    if (!m.host) throw invalidField('device.host', 'is required (host_key.known_hosts is looked up by it)', m.id);
    raw.hostKey = { ...hk, fingerprints: fingerprintsFromKnownHosts(knownHosts, m.host, m.port ?? 0, 'device.host_key.known_hosts', m.id) };
  }
  const spec = deps.validateDevice(raw, deps.defaults, 'api', 'request');
  // Bastions come from the inventory file only (docs/api.md, "Bastions"): an API device may use one, not define one.
  if (spec.via !== undefined && !(deps.bastionExists?.(spec.via) ?? false)) {
    throw invalidField('device.via', `unknown bastion "${spec.via}": bastions are defined in the inventory file's bastions: list`, m.id);
  }
  const caPem = m.http?.tls?.ca_pem ?? '';
  if (caPem !== '') {
    const field = 'device.http.tls.ca_pem';
    if (!spec.http) throw invalidField(field, 'is set but the device has no http.base_url', m.id);
    if (!spec.http.baseUrl.startsWith('https:')) throw invalidField(field, 'is set but http.base_url is not https://', m.id);
    if (spec.http.tls.insecureSkipVerify === true) throw invalidField(field, 'cannot be combined with http.tls.insecure_skip_verify (the CA would be ignored)', m.id);
    spec.http = { ...spec.http, tls: { ...spec.http.tls, ca: validateCaPem(caPem, field, m.id) } };
  }
  return spec;
}
