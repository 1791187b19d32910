import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Secret } from '../config/secret.js';
import type { DeviceSpec } from '../config/types.js';
import { WarmpoolError } from '../core/errors.js';

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
 * Whether two specs would open identical sessions. Secrets are compared by value
 * (in process only; nothing is printed), so a rotated password retires old sessions.
 */
function sameDevice(a: DeviceSpec, b: DeviceSpec): boolean {
  return fingerprint(a) === fingerprint(b);
}

function fingerprint(d: DeviceSpec): string {
  // A regular function so `this[key]` gives the original value: JSON.stringify has
  // already applied Secret.toJSON ("[REDACTED]") to `value`.
  return JSON.stringify(d, function (this: Record<string, unknown>, key: string, value: unknown) {
    const orig = this[key];
    if (orig instanceof Secret) {
      // File secrets: the path identifies them (the file is re-read on change anyway).
      return orig.file !== undefined ? `file:${orig.file}` : `inline:${digest(orig.reveal())}`;
    }
    return value;
  });
}

function digest(v: string): string {
  // Never leaves the process; a hash keeps the plain value out of the fingerprint string.
  return createHash('sha256').update(v).digest('hex');
}
