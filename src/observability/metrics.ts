/**
 * Prometheus metrics for warmpool (names and labels: docs/operations.md, "Metrics").
 *
 * Two kinds of series live here:
 *  - event series (counters, histograms) fed by the pool through PoolObserver and by the API layer
 *    through rpc()/command()/cache();
 *  - state series (sessions by state, waiting, max, breaker, device count) computed AT SCRAPE TIME
 *    from `statsSource()` in collect() callbacks, so they can never drift from the pool's own truth
 *    (no inc/dec bookkeeping that a missed event would skew forever).
 *
 * Labels never carry commands, output, hosts or credentials: only device ids (already validated
 * to [A-Za-z0-9._:-]), protocols, small fixed enums and the gRPC method name.
 */
import { readFileSync } from 'node:fs';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Protocol } from '../config/types.js';
import { CLOSE_REASONS, type CircuitState, type CloseReason, type CommandResult, type PoolObserver, type PoolStats } from '../core/pool-stats.js';
import { EVENT_LOOP_DELAY_METRICS, registerEventLoopDelay } from './event-loop.js';
import { registerPoolGauges } from './pool-gauges.js';
import {
  ACQUIRE_WAIT_BUCKETS, ALL_DEVICES, COMMAND_BUCKETS, DEVICE_ACQUIRE_WAIT_BUCKETS, DEVICE_COMMAND_BUCKETS,
  EVENT_LOOP_RESOLUTION_MS, GRPC_CODE_NAMES, GRPC_HANDLING_BUCKETS, GRPC_PACKAGE, SESSION_OPEN_BUCKETS, UNREAD_EVENT_LOOP_PRECISION_MS,
  type CacheResultLabel, type CommandResultLabel,
} from './metric-catalog.js';

export * from './metric-catalog.js';

export interface MetricsOptions {
  /** false: every `device` label is "_all" and values are summed (for very large inventories). */
  perDeviceLabels: boolean;
  /** The pools' current state; called at scrape time. */
  statsSource: () => PoolStats[];
  /** Defaults to a fresh Registry (never the prom-client global one, so several instances can coexist). */
  registry?: Registry;
  /** Default process_* / nodejs_* metrics (default true). Turn off when the registry already has them. */
  defaultMetrics?: boolean;
  /** Value of warmpool_build_info{version}; defaults to package.json's version. */
  version?: string;
}

export interface Metrics extends Required<PoolObserver> {
  /**
   * One finished RPC. `method` is the short gRPC method path (e.g. "DeviceProxy/Run"), `code` the
   * status name ("OK", "NOT_FOUND"); `timing` also records warmpool_grpc_server_handling_seconds.
   */
  rpc(method: string, code: string, timing?: { seconds: number; type: 'unary' | 'server_stream' }): void;
  /** One command run over a warm session; with `device`, also per device (when per-device labels are on). */
  command(protocol: Protocol, result: CommandResultLabel, seconds: number, device?: string): void;
  /** One lookup in the result cache (`coalesced`: joined an identical request already in flight). */
  cache(result: CacheResultLabel): void;
  /** One (re)load of the inventory file (start, SIGHUP or file watch): whether it was applied. */
  inventoryReloaded(ok: boolean): void;
  readonly registry: Registry;
  /** Content-Type header value for the /metrics response. */
  readonly contentType: string;
  /** The exposition text, with state gauges freshly computed from statsSource(). */
  scrape(): Promise<string>;
}

// Guards against label-value explosions from values we do not fully control.
const MAX_RPC_METHODS = 64;
const METHOD_RE = /^[A-Za-z0-9_.]{1,64}\/[A-Za-z0-9_]{1,64}$|^[A-Za-z0-9_.]{1,64}$/;
const GRPC_CODES = new Set<string>(GRPC_CODE_NAMES);
const LINT_FAILING_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

function packageVersion(): string {
  // src/observability/metrics.ts runs from src/ (tap) or dist/src/ (built); try both depths.
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'warmpool' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not at this depth; try the next
    }
  }
  return 'unknown';
}

/** "DeviceProxy/Run" → grpc_service "warmpool.v1.DeviceProxy", grpc_method "Run" (a full "pkg.Svc/M" is kept as is). */
function grpcNames(method: string): { grpc_service: string; grpc_method: string } {
  const slash = method.indexOf('/');
  if (slash < 0) return { grpc_service: '_other', grpc_method: method };
  const service = method.slice(0, slash);
  return { grpc_service: service.includes('.') ? service : `${GRPC_PACKAGE}.${service}`, grpc_method: method.slice(slash + 1) };
}

export function createMetrics(opts: MetricsOptions): Metrics {
  const registry = opts.registry ?? new Registry();
  const registers = [registry];
  const perDevice = opts.perDeviceLabels;
  const deviceLabel = (device: string): string => (perDevice ? device : ALL_DEVICES);

  // One statsSource() call per scrape keeps busy and max (etc.) consistent with each other.
  // scrape() invalidates explicitly; a direct registry.metrics() caller gets it cleared on the next macrotask.
  let snapshot: PoolStats[] | undefined;
  const stats = (): PoolStats[] => {
    if (!snapshot) {
      snapshot = opts.statsSource();
      setImmediate(() => { snapshot = undefined; }).unref();
    }
    return snapshot;
  };

  registerPoolGauges({ registers, stats, perDevice, deviceLabel });

  const buildInfo = new Gauge({
    name: 'warmpool_build_info',
    help: 'Always 1; the version label tells which warmpool build is running (join on it to see rollouts).',
    labelNames: ['version'] as const,
    registers,
  });
  buildInfo.set({ version: opts.version ?? packageVersion() }, 1);

  if (opts.defaultMetrics ?? true) {
    // Standard names (process_*, nodejs_*) so stock Node.js dashboards work unchanged.
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: UNREAD_EVENT_LOOP_PRECISION_MS });
    // These three are gauges named *_total, which promtool's linter (and OpenMetrics) rejects.
    // Their per-type twins (nodejs_active_handles{type}, ...) stay: sum() over them gives the same number.
    for (const name of LINT_FAILING_DEFAULT_METRICS) registry.removeSingleMetric(name);
    // prom-client's event-loop-delay gauges read NaN when a scrape finds no new sample: ours
    // (same names) never do. Sampled every 100 ms instead of prom-client's 10 ms: the 10 ms timer
    // alone kept an idle daemon at 1 % of a core (measured: 1.00 % -> 0.25 % on the main thread).
    for (const name of Object.values(EVENT_LOOP_DELAY_METRICS)) registry.removeSingleMetric(name);
    registerEventLoopDelay(registry, EVENT_LOOP_RESOLUTION_MS);
  }

  // ---- event series ----

  // Series carrying a device label forget the devices that no longer have a pool (checked at
  // scrape time), otherwise an inventory that churns grows the exposition forever. A device
  // added again starts from 0, which rate() treats as an ordinary counter reset.
  const deviceSeries = (): { note(labels: Record<string, string>): void; prune(remove: (labels: Record<string, string>) => void): void } => {
    const byDevice = new Map<string, Map<string, Record<string, string>>>();
    return {
      note(labels) {
        if (!perDevice) return;
        const device = labels.device!;
        let series = byDevice.get(device);
        if (!series) byDevice.set(device, (series = new Map()));
        const key = Object.values(labels).join('\u0000');
        if (!series.has(key)) series.set(key, labels);
      },
      prune(remove) {
        if (!perDevice || byDevice.size === 0) return;
        const live = new Set(stats().map((s) => s.device));
        for (const [device, series] of byDevice) {
          if (live.has(device)) continue;
          for (const labels of series.values()) remove(labels);
          byDevice.delete(device);
        }
      },
    };
  };

  const deviceCounter = (name: string, help: string, extra: string): { counter: Counter<string>; inc(labels: Record<string, string>): void } => {
    const tracked = deviceSeries();
    const counter = new Counter({
      name,
      help,
      labelNames: ['device', 'protocol', extra],
      registers,
      collect() {
        tracked.prune((labels) => this.remove(labels));
      },
    });
    return {
      counter,
      inc(labels) {
        counter.inc(labels);
        tracked.note(labels);
      },
    };
  };

  /** Per-device histogram; absent (undefined) when per-device labels are off. */
  const deviceHistogram = (name: string, help: string, labelNames: string[], buckets: number[]): ((labels: Record<string, string>, v: number) => void) | undefined => {
    if (!perDevice) return undefined;
    const tracked = deviceSeries();
    const h = new Histogram({
      name,
      help,
      labelNames: ['device', ...labelNames],
      buckets,
      registers,
      collect() {
        tracked.prune((labels) => this.remove(labels));
      },
    });
    return (labels, v) => {
      h.observe(labels, v);
      tracked.note(labels);
    };
  };

  const opens = deviceCounter(
    'warmpool_session_opens_total',
    'Session open attempts (connect + login) by result. A rising failure share means the device is '
      + 'unreachable, refuses the login, or its host key changed; see the logs for the device.',
    'result',
  );
  const closes = deviceCounter(
    'warmpool_session_closes_total',
    'Sessions closed, by reason (a fixed set: idle_timeout, max_lifetime, closed_by_peer, keepalive_failed, probe_failed, '
      + 'dirty, discarded, retired, resized, budget, draining, pool_closed, error; docs/operations.md). Many closed_by_peer or '
      + 'keepalive_failed closes with few idle_timeout ones means sessions die under use: check device exec-timeout and NAT idle timers against keepalives.',
    'reason',
  );
  const breakerTransitions = deviceCounter(
    'warmpool_circuit_transitions_total',
    'Circuit breaker state changes, by the state entered. A high rate of "open" means a flapping device.',
    'state',
  );
  const openDuration = new Histogram({
    name: 'warmpool_session_open_duration_seconds',
    help: 'Time to open and log in a session (successful opens only). Slow logins (AAA/TACACS) here are the '
      + 'cost the pool saves per request; if p99 nears ssh.connectTimeoutMs, raise it or fix AAA.',
    labelNames: ['protocol'] as const,
    buckets: SESSION_OPEN_BUCKETS,
    registers,
  });
  const acquireWait = new Histogram({
    name: 'warmpool_acquire_wait_seconds',
    help: 'Time a request waited for a session from the pool (0 when one was idle). A high p99 means the pool '
      + 'is saturated: raise pool.max or spread load.',
    labelNames: ['protocol'] as const,
    buckets: ACQUIRE_WAIT_BUCKETS,
    registers,
  });
  const commandDuration = new Histogram({
    name: 'warmpool_command_duration_seconds',
    help: 'Duration of one command over a warm session, by result (ok, failed: the device reported an error, '
      + 'error: timeout or lost session). Warm commands normally take about a millisecond plus device time.',
    labelNames: ['protocol', 'result'] as const,
    buckets: COMMAND_BUCKETS,
    registers,
  });
  const deviceAcquireWait = deviceHistogram(
    'warmpool_device_acquire_wait_seconds',
    'Time a request waited for a session from this device\'s pool (coarse buckets; per-device labels on only). '
      + 'Find which device\'s pool is saturated when warmpool_acquire_wait_seconds rises.',
    ['protocol'],
    DEVICE_ACQUIRE_WAIT_BUCKETS,
  );
  const deviceCommandDuration = deviceHistogram(
    'warmpool_device_command_duration_seconds',
    'Duration of one command or HTTP request on this device, by result (coarse buckets; per-device labels on only). '
      + 'Find which device is slow when warmpool_command_duration_seconds rises.',
    ['protocol', 'result'],
    DEVICE_COMMAND_BUCKETS,
  );
  const grpcHandling = new Histogram({
    name: 'warmpool_grpc_server_handling_seconds',
    help: 'Time from a call reaching its handler to its status being sent, by service, method, type and status code '
      + '(grpc-ecosystem label names). For streams, the whole stream. Compare with warmpool_command_duration_seconds to see time spent waiting or queued.',
    labelNames: ['grpc_type', 'grpc_service', 'grpc_method', 'grpc_code'] as const,
    buckets: GRPC_HANDLING_BUCKETS,
    registers,
  });
  const rpcs = new Counter({
    name: 'warmpool_rpc_requests_total',
    help: 'Finished gRPC calls by method and status code. Watch UNAVAILABLE (device down, breaker open, draining), '
      + 'RESOURCE_EXHAUSTED (wait queue full) and DEADLINE_EXCEEDED (timeouts).',
    labelNames: ['method', 'code'] as const,
    registers,
  });
  const cacheRequests = new Counter({
    name: 'warmpool_cache_requests_total',
    help: 'Result cache lookups for requests with cache_ttl_ms > 0: hit, miss, or coalesced onto an identical '
      + 'request in flight. A low hit rate means the TTL is shorter than the callers\' repeat interval.',
    labelNames: ['result'] as const,
    registers,
  });

  // Series that exist from the start, so rate() and ratios work before the first event.
  for (const result of ['hit', 'miss', 'coalesced'] as const) cacheRequests.inc({ result }, 0);
  for (const protocol of ['ssh', 'http'] as const) {
    openDuration.zero({ protocol });
    acquireWait.zero({ protocol });
    for (const result of ['ok', 'failed', 'error'] as const) commandDuration.zero({ protocol, result });
  }

  // ---- inventory file reloads (issue 18 item 4: SIGHUP and the file watch; src/inventory/file-watch.ts) ----
  const inventoryReloadFailures = new Counter({
    name: 'warmpool_inventory_reload_failures_total',
    help: 'Inventory file reloads (SIGHUP or file change) refused because the new file is invalid or unreadable; '
      + 'the previous inventory stays in force. The log says what is wrong; `warmpool check --inventory FILE` lists every problem.',
    registers,
  });
  const inventoryLastReloadOk = new Gauge({
    name: 'warmpool_inventory_last_reload_success',
    help: '1 when the last load of the inventory file was applied, 0 when it was refused (the devices from the last good file are still served).',
    registers,
  });
  inventoryReloadFailures.inc(0);
  inventoryLastReloadOk.set(1);
  // ---- end inventory file reloads ----

  // The type already says CloseReason; this guards the label against a caller that casts.
  const knownReasons = new Set<string>(CLOSE_REASONS);
  const reasonLabel = (reason: string): string => (knownReasons.has(reason) ? reason : 'other');
  const methods = new Set<string>();
  const methodLabel = (method: string): string => {
    const m = method.startsWith('/') ? method.slice(1) : method;
    if (!METHOD_RE.test(m)) return '_other';
    if (methods.has(m)) return m;
    if (methods.size >= MAX_RPC_METHODS) return '_other';
    methods.add(m);
    return m;
  };

  const seconds = (s: number): number => (Number.isFinite(s) && s > 0 ? s : 0);
  // Label objects of the handling histogram, built once per (type, method, code): bounded by
  // MAX_RPC_METHODS × 17 codes × 2 types, and off the per-call allocation path.
  const grpcLabelCache = new Map<string, Record<string, string>>();
  const grpcLabels = (type: string, method: string, code: string): Record<string, string> => {
    const key = `${type}\u0000${method}\u0000${code}`;
    let labels = grpcLabelCache.get(key);
    if (!labels) grpcLabelCache.set(key, (labels = { grpc_type: type, ...grpcNames(method), grpc_code: code }));
    return labels;
  };
  const command = (protocol: Protocol, result: CommandResultLabel, secs: number, device?: string): void => {
    commandDuration.observe({ protocol, result }, seconds(secs));
    // Per device only under its own name: the device's pool label, never "_all" (off: not registered).
    if (device !== undefined) deviceCommandDuration?.({ device, protocol, result }, seconds(secs));
  };

  return {
    registry,
    get contentType() {
      return registry.contentType;
    },

    sessionOpened(device: string, protocol: Protocol, result: 'success' | 'failure', secs: number): void {
      opens.inc({ device: deviceLabel(device), protocol, result });
      if (result === 'success') openDuration.observe({ protocol }, seconds(secs));
    },
    acquired(device: string, protocol: Protocol, waitSeconds: number): void {
      acquireWait.observe({ protocol }, seconds(waitSeconds));
      deviceAcquireWait?.({ device, protocol }, seconds(waitSeconds));
    },
    sessionClosed(device: string, protocol: Protocol, reason: CloseReason): void {
      closes.inc({ device: deviceLabel(device), protocol, reason: reasonLabel(reason) });
    },
    circuitChanged(device: string, protocol: Protocol, state: CircuitState): void {
      breakerTransitions.inc({ device: deviceLabel(device), protocol, state });
    },

    rpc(method: string, code: string, timing?: { seconds: number; type: 'unary' | 'server_stream' }): void {
      const m = methodLabel(method);
      const c = GRPC_CODES.has(code) ? code : 'UNKNOWN';
      rpcs.inc({ method: m, code: c });
      if (timing) grpcHandling.observe(grpcLabels(timing.type, m, c), seconds(timing.seconds));
    },
    command,
    commandFinished(device: string, protocol: Protocol, result: CommandResult, secs: number): void {
      command(protocol, result, secs, device);
    },
    cache(result: CacheResultLabel): void {
      cacheRequests.inc({ result });
    },
    inventoryReloaded(ok: boolean): void {
      inventoryLastReloadOk.set(ok ? 1 : 0);
      if (!ok) inventoryReloadFailures.inc();
    },

    async scrape(): Promise<string> {
      snapshot = undefined;
      return registry.metrics();
    },
  } satisfies Metrics;
}
