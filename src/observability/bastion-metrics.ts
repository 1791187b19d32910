/**
 * What only bastions have, beside the standard pool series they share with `protocol="bastion"`
 * (metrics.ts): the device channels each one carries and whether it is up (docs/operations.md, "Bastions"). Computed
 * at scrape time from the bastion pools, like the other state gauges. Label: the bastion id
 * (validated like a device id; bastions are few, so it is kept even with per-device labels off).
 */
import { Gauge, type Registry } from 'prom-client';

export interface BastionChannelStats {
  device: string;
  channels: number;
  circuit: 'closed' | 'open' | 'half_open';
}

export function registerBastionMetrics(registry: Registry, source: () => BastionChannelStats[]): void {
  new Gauge({
    name: 'warmpool_bastion_channels',
    help: 'Device sessions (direct-tcpip channels) open through this bastion now, over all its connections. '
      + 'Compare with maxConnections x maxChannelsPerConnection: at that sum new device sessions wait.',
    labelNames: ['bastion'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of source()) this.set({ bastion: s.device }, s.channels);
    },
  });
  // The WarmpoolBastionDown alert's input: 0 while the bastion's breaker is open (its logins keep
  // failing and every device behind it fails fast), 1 otherwise, including before first use.
  new Gauge({
    name: 'warmpool_bastion_up',
    help: 'Whether devices can be reached through this bastion: 0 while its circuit breaker is open (logins failing, '
      + 'its devices fail fast with UNAVAILABLE), 1 otherwise (also before its first connection).',
    labelNames: ['bastion'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of source()) this.set({ bastion: s.device }, s.circuit === 'open' ? 0 : 1);
    },
  });
}
