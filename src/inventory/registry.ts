import { EventEmitter } from 'node:events';
import type { DeviceSpec } from '../config/types.js';
import { WarmpoolError } from '../core/errors.js';
import { sameSpec } from '../core/fingerprint.js';

export type InventoryChange =
  | { kind: 'upsert'; device: DeviceSpec; previous: DeviceSpec | undefined }
  | { kind: 'remove'; device: DeviceSpec };

/**
 * The set of known devices, from the inventory file and from the Inventory API.
 * Both sources coexist: a file reload replaces only file devices, never API ones;
 * an API put of an id that the file also defines overrides it until the next
 * reload that still lists it (the file wins at reload, and the log says so).
 */
export class DeviceRegistry extends EventEmitter {
  readonly #devices = new Map<string, DeviceSpec>();

  get(id: string): DeviceSpec {
    const d = this.#devices.get(id);
    if (!d) throw new WarmpoolError('DEVICE_NOT_FOUND', `device "${id}" is not in the inventory`, { device: id });
    return d;
  }

  find(id: string): DeviceSpec | undefined {
    return this.#devices.get(id);
  }

  list(labels?: Record<string, string>): DeviceSpec[] {
    const all = [...this.#devices.values()];
    const sel = labels ? Object.entries(labels) : [];
    const out = sel.length === 0 ? all : all.filter((d) => sel.every(([k, v]) => d.labels[k] === v));
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get size(): number {
    return this.#devices.size;
  }

  put(device: DeviceSpec): void {
    const previous = this.#devices.get(device.id);
    this.#devices.set(device.id, device);
    this.emit('change', { kind: 'upsert', device, previous } satisfies InventoryChange);
  }

  remove(id: string): boolean {
    const d = this.#devices.get(id);
    if (!d) return false;
    this.#devices.delete(id);
    this.emit('change', { kind: 'remove', device: d } satisfies InventoryChange);
    return true;
  }

  /** Replace the file-sourced devices with `devices`; API-sourced ones are kept. */
  replaceFileDevices(devices: DeviceSpec[]): { added: number; changed: number; removed: number } {
    const incoming = new Map(devices.map((d) => [d.id, d]));
    let removed = 0;
    for (const d of [...this.#devices.values()]) {
      if (d.source === 'file' && !incoming.has(d.id)) {
        this.remove(d.id);
        removed++;
      }
    }
    let added = 0;
    let changed = 0;
    for (const d of devices) {
      const prev = this.#devices.get(d.id);
      if (prev && sameDevice(prev, d)) continue;
      if (prev) changed++;
      else added++;
      this.put(d);
    }
    return { added, changed, removed };
  }
}

/**
 * Whether two specs are the same in every field, so a reload can keep the device (no change
 * event, its sessions stay). Secrets compare as src/core/fingerprint.ts says: inline ones by a
 * keyed hash of the value (a rotated inline password is a change), file ones by path.
 */
function sameDevice(a: DeviceSpec, b: DeviceSpec): boolean {
  return sameSpec(a, b);
}
