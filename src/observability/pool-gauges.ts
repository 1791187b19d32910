/**
 * The state series (sessions by state, waiting, max, breaker, device count), computed AT SCRAPE
 * TIME from the pools' own stats in collect() callbacks, so they can never drift from the pools'
 * truth (docs/operations.md, "Metrics").
 */
import { Gauge, type Registry } from 'prom-client';
import type { Protocol } from '../config/types.js';
import { CIRCUIT_STATES, type CircuitState, type PoolStats } from '../core/pool-stats.js';
import { ALL_DEVICES } from './metric-catalog.js';

const STATES = ['idle', 'busy', 'connecting'] as const;

/** One device label's sums (several pools when device labels are folded into ALL_DEVICES). */
type DeviceAgg = Pick<PoolStats, 'device' | 'protocol' | 'idle' | 'busy' | 'connecting' | 'waiting' | 'max'>;

export interface PoolGaugeSources {
  registers: Registry[];
  /** One snapshot of every pool's stats per scrape. */
  stats: () => PoolStats[];
  perDevice: boolean;
  deviceLabel: (device: string) => string;
}

export function registerPoolGauges({ registers, stats, perDevice, deviceLabel }: PoolGaugeSources): void {
  /** Pools keyed by (device label, protocol), summed when per-device labels are off. */
  const aggregate = (): DeviceAgg[] => {
    const byKey = new Map<string, DeviceAgg>();
    for (const s of stats()) {
      const device = deviceLabel(s.device);
      const key = `${device}\u0000${s.protocol}`;
      let a = byKey.get(key);
      if (!a) {
        a = { device, protocol: s.protocol, idle: 0, busy: 0, connecting: 0, waiting: 0, max: 0 };
        byKey.set(key, a);
      }
      a.idle += s.idle;
      a.busy += s.busy;
      a.connecting += s.connecting;
      a.waiting += s.waiting;
      a.max += s.max;
    }
    return [...byKey.values()];
  };

  // ---- state gauges (computed at scrape time) ----

  new Gauge({
    name: 'warmpool_sessions',
    help: 'Sessions per pool by state (idle, busy, connecting), read from the pool at scrape time. '
      + 'busy / warmpool_pool_max_sessions is pool utilisation; idle near 0 with waiting > 0 means raise pool.max (within the device vty limit).',
    labelNames: ['device', 'protocol', 'state'] as const,
    registers,
    collect() {
      this.reset();
      for (const a of aggregate()) {
        for (const state of STATES) this.set({ device: a.device, protocol: a.protocol, state }, a[state]);
      }
    },
  });

  new Gauge({
    name: 'warmpool_pool_waiting',
    help: 'Requests queued for a session of this pool right now. Sustained > 0 means the pool is too small '
      + 'for the load (raise pool.max) or sessions are held too long (slow commands).',
    labelNames: ['device', 'protocol'] as const,
    registers,
    collect() {
      this.reset();
      for (const a of aggregate()) this.set({ device: a.device, protocol: a.protocol }, a.waiting);
    },
  });

  new Gauge({
    name: 'warmpool_pool_max_sessions',
    help: 'Configured pool.max for this pool (summed when per-device labels are off). Denominator of pool utilisation.',
    labelNames: ['device', 'protocol'] as const,
    registers,
    collect() {
      this.reset();
      for (const a of aggregate()) this.set({ device: a.device, protocol: a.protocol }, a.max);
    },
  });

  // docs/api.md "Metrics": circuit_open is 1 only while requests fail fast (open); the trial
  // connect in between (half_open) shows in warmpool_circuit_state, which alerts use so that a
  // scrape landing on a half-open moment does not restart their `for:` clock.
  new Gauge({
    name: 'warmpool_circuit_open',
    help: 'Circuit breaker open for this device (1: requests fail fast with UNAVAILABLE; 0 when closed or half-open, '
      + 'see warmpool_circuit_state). With per-device labels off, the number of such devices. Check reachability and credentials of the device.',
    labelNames: ['device'] as const,
    registers,
    collect() {
      this.reset();
      const open = new Map<string, boolean>();
      for (const s of stats()) open.set(s.device, (open.get(s.device) ?? false) || s.circuit === 'open');
      if (perDevice) {
        for (const [device, isOpen] of open) this.set({ device }, isOpen ? 1 : 0);
      } else {
        let n = 0;
        for (const isOpen of open.values()) if (isOpen) n++;
        this.set({ device: ALL_DEVICES }, n);
      }
    },
  });

  new Gauge({
    name: 'warmpool_circuit_state',
    help: 'Circuit breaker state of each pool: 1 for the current state (closed, open: failing fast, half_open: the open '
      + 'period is over and the next connect is the trial), 0 for the others. With per-device labels off, the number of pools in each state.',
    labelNames: ['device', 'protocol', 'state'] as const,
    registers,
    collect() {
      this.reset();
      const counts = new Map<string, { device: string; protocol: Protocol; n: Record<CircuitState, number> }>();
      for (const s of stats()) {
        const device = deviceLabel(s.device);
        const key = `${device}\u0000${s.protocol}`;
        let c = counts.get(key);
        if (!c) counts.set(key, (c = { device, protocol: s.protocol, n: { closed: 0, open: 0, half_open: 0 } }));
        c.n[s.circuit]++;
      }
      for (const c of counts.values()) {
        for (const state of CIRCUIT_STATES) this.set({ device: c.device, protocol: c.protocol, state }, c.n[state]);
      }
    },
  });

  new Gauge({
    name: 'warmpool_devices',
    help: 'Devices that currently have a session pool. A sudden drop means the inventory was reloaded or devices were deleted.',
    registers,
    collect() {
      this.set(new Set(stats().map((s) => s.device)).size);
    },
  });
}
