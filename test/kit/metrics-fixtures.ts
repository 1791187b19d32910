/**
 * Shared by test/metrics*.test.ts and test/deploy*.test.ts: fake pool stats, a metrics instance
 * driven through every observer method, and a small Prometheus text-format parser.
 */
import { registerBastionMetrics } from '../../src/observability/bastion-metrics.js';
import { spawnSync } from 'node:child_process';
import type { PoolStats } from '../../src/pool/types.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';

export function poolStats(over: Partial<PoolStats> & Pick<PoolStats, 'device'>): PoolStats {
  return {
    protocol: 'ssh',
    idle: 0,
    busy: 0,
    connecting: 0,
    waiting: 0,
    createdTotal: 0,
    closedTotal: 0,
    acquiredTotal: 0,
    failedConnectsTotal: 0,
    circuit: 'closed',
    min: 0,
    max: 2,
    circuitOpenUntil: 0,
    lastError: '',
    ...over,
  };
}

/** Two devices, one healthy and busy, one with its breaker open; sw1 also has an HTTP pool. */
export function twoDeviceStats(): PoolStats[] {
  return [
    poolStats({ device: 'sw1', protocol: 'ssh', idle: 1, busy: 2, connecting: 1, waiting: 3, max: 4 }),
    poolStats({ device: 'sw1', protocol: 'http', idle: 2, busy: 1, max: 4 }),
    poolStats({ device: 'sw2', protocol: 'ssh', circuit: 'open', max: 2, failedConnectsTotal: 5, circuitOpenUntil: 1 }),
  ];
}

/** Calls every recording method at least once so every series family has samples. */
export function driveAll(m: Metrics): void {
  m.sessionOpened('sw1', 'ssh', 'success', 0.02);
  m.sessionOpened('sw1', 'http', 'success', 0.005);
  m.sessionOpened('sw2', 'ssh', 'failure', 10);
  m.acquired('sw1', 'ssh', 0.0003);
  m.acquired('sw1', 'ssh', 1.5);
  m.sessionClosed('sw1', 'ssh', 'idle_timeout');
  m.circuitChanged('sw2', 'ssh', 'open');
  m.rpc('DeviceProxy/Run', 'OK', { seconds: 0.0012, type: 'unary' });
  m.rpc('DeviceProxy/Run', 'NOT_FOUND', { seconds: 0.0001, type: 'unary' });
  m.command('ssh', 'ok', 0.0004, 'sw1');
  m.command('ssh', 'failed', 0.002, 'sw1');
  m.commandFinished('sw1', 'http', 'ok', 0.03);
  m.cache('hit');
  m.cache('miss');
  m.cache('coalesced');
}

export async function fullScrape(perDeviceLabels = true): Promise<string> {
  const m = createMetrics({ perDeviceLabels, statsSource: twoDeviceStats, version: '0.0.0-test' });
  // The daemon registers the bastion gauges beside the pool metrics (server.ts): one bastion here.
  registerBastionMetrics(m.registry, () => [{ device: 'jump1', channels: 2, circuit: 'closed' }]);
  driveAll(m);
  return m.scrape();
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses sample lines of the Prometheus text format (comments skipped). Enough for our own output. */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
  const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (const raw of text.split('\n')) {
    if (raw === '' || raw.startsWith('#')) continue;
    const m = line.exec(raw);
    if (!m) throw new Error(`unparseable exposition line: ${raw}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(label)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

export function sampleValue(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  const hit = samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
      && Object.keys(s.labels).length === Object.keys(labels).length,
  );
  return hit?.value;
}

/**
 * Runs promtool with a bounded time. Fails with a readable message when promtool is missing
 * (CI installs the Debian `prometheus` package, which ships it).
 */
export function promtool(args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('promtool', args, { input, encoding: 'utf8', timeout: 30_000 });
  if (r.error) {
    throw new Error(`promtool could not be run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); `
      + 'install it (Debian/Ubuntu: apt-get install prometheus) so metrics and rules can be linted');
  }
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
