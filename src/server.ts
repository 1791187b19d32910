import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { AppConfig, BastionSpec, DeviceSpec } from './config/types.js';
import { loadInventory } from './config/load.js';
import type { Inventory } from './config/inventory.js';
import { BastionRegistry } from './app/bastions.js';
import { registerBastionMetrics } from './observability/bastion-metrics.js';
import { validateDevice } from './config/inventory.js';
import { describeError } from './core/errors.js';
import { DeviceRegistry, type InventoryChange } from './inventory/registry.js';
import { InventoryFileWatch } from './inventory/file-watch.js';
import type { Logger } from './core/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { systemClock, systemRandom, type Clock, type Random } from './core/clock.js';
import { connectionKey, PoolRegistry } from './app/ssh-pools.js';
import type { PoolStats } from './pool/types.js';
import { createSshSessionFactory } from './drivers/ssh-factory.js';
import { PlatformDetections } from './platforms/autodetect.js';
import { HttpClients } from './app/http-clients.js';
import { NetconfPools } from './app/netconf-pools.js';
import { NetconfRunner } from './app/run-netconf.js';
import { createNetconfSessionFactory } from './drivers/netconf/factory.js';
import { loadProto } from './api/proto.js';
import { createReflection } from './api/reflection.js';
import { createAudit } from './app/audit.js';
import { CallTracker, type HandlerDeps } from './api/handler.js';
import { auditedGuard } from './app/guard.js';
import { Runner } from './app/run.js';
import { HttpRunner, type HttpBackend } from './app/run-http.js';
import { FanOut } from './app/run-many.js';
import { deviceProxyHandlers } from './api/device-proxy.js';
import { inventoryHandlers } from './api/inventory-service.js';
import { adminHandlers } from './api/admin-service.js';
import { createAuth, type AuthLayer } from './auth/index.js';
import { parseFileMode, parseUnixListen } from './config/checks.js';
import { bindUnixSocket, prepareUnixSocket } from './api/unix-socket.js';

/** Services reported by grpc.health.v1 ('' is the whole server). */
const HEALTH_SERVICES = ['', 'warmpool.v1.DeviceProxy', 'warmpool.v1.Inventory', 'warmpool.v1.Admin'];

export interface DaemonOptions {
  logger: Logger;
  clock?: Clock;
  random?: Random;
  /** Devices registered in addition to the inventory file (the demo's simulators). */
  extraDevices?: DeviceSpec[];
}

/**
 * The running daemon: gRPC (+ health, reflection), the metrics/health HTTP listener,
 * the device registry, SSH pools and HTTP clients, wired once here.
 */
export class Daemon {
  readonly config: AppConfig;
  readonly logger: Logger;
  readonly devices = new DeviceRegistry();
  readonly pools: PoolRegistry;
  /** `platform: autodetect` results per device (docs/platforms.md "Autodetect"). */
  readonly detections: PlatformDetections;
  /** Jump hosts of the inventory file (docs/operations.md, "Bastions"). */
  readonly bastions: BastionRegistry;
  readonly http: HttpClients;
  readonly netconf: NetconfPools;
  readonly metrics: Metrics;
  readonly runner: Runner;
  readonly tracker = new CallTracker();
  readonly health = new HealthImplementation(Object.fromEntries(HEALTH_SERVICES.map((s) => [s, 'NOT_SERVING' as const])));
  readonly #grpc: grpc.Server;
  readonly #httpServer: HttpServer;
  readonly #auth: AuthLayer;
  #ready = false;
  #stopping: Promise<void> | undefined;
  #inventoryWatch: InventoryFileWatch | undefined;
  grpcAddress = '';
  metricsAddress = '';

  constructor(config: AppConfig, opts: DaemonOptions) {
    this.config = config;
    this.logger = opts.logger;
    const clock = opts.clock ?? systemClock;
    const random = opts.random ?? systemRandom;
    this.metrics = createMetrics({ perDeviceLabels: config.metrics.perDeviceLabels, statsSource: () => this.stats() });
    this.detections = new PlatformDetections(this.logger);
    this.bastions = new BastionRegistry({ breaker: config.breaker, clock, random, observer: this.metrics, logger: this.logger });
    registerBastionMetrics(this.metrics.registry, () => this.bastions.stats());
    this.pools = new PoolRegistry({
      config, clock, random, observer: this.metrics, logger: this.logger,
      sshFactory: (d) => createSshSessionFactory(d, {
        logger: this.logger, detections: this.detections,
        ...(d.via !== undefined ? { connector: this.bastions.connector(d.via) } : {}),
      }),
    });
    this.http = new HttpClients({ clock, random, config, observer: this.metrics, logger: this.logger });
    this.netconf = new NetconfPools({
      config, clock, random, observer: this.metrics, logger: this.logger,
      connectLimiter: this.pools.connectLimiter, sessionBudget: this.pools.sessionBudget,
      factory: (d) => createNetconfSessionFactory(d, { logger: this.logger }),
    });
    const audit = createAudit({ ...config.log.audit, fallback: this.logger });
    // Validates TLS/token/policy settings and refuses an unauthenticated non-loopback listener.
    this.#auth = createAuth(config.grpc, this.logger);
    // Every authorization decision is audited (denials included): app/guard.ts auditedGuard.
    const guard = auditedGuard(this.#auth, audit);
    this.runner = new Runner({
      devices: this.devices, pools: this.pools, clock, metrics: this.metrics, audit, guard, cache: config.cache,
      maxSendMessageBytes: config.grpc.maxSendMessageBytes, logger: this.logger,
    });

    this.devices.on('change', (c: InventoryChange) => this.#onInventoryChange(c));

    this.#grpc = new grpc.Server({
      'grpc.max_receive_message_length': config.grpc.maxReceiveMessageBytes,
      'grpc.max_send_message_length': config.grpc.maxSendMessageBytes,
      'grpc.max_concurrent_streams': config.grpc.maxConcurrentStreams,
      'grpc.keepalive_time_ms': config.grpc.keepaliveTimeMs,
      'grpc.keepalive_timeout_ms': config.grpc.keepaliveTimeoutMs,
      // 0 means "off" in our config; grpc-js wants the option absent for that.
      ...(config.grpc.maxConnectionIdleMs > 0 ? { 'grpc.max_connection_idle_ms': config.grpc.maxConnectionIdleMs } : {}),
      ...(config.grpc.maxConnectionAgeMs > 0
        ? { 'grpc.max_connection_age_ms': config.grpc.maxConnectionAgeMs, 'grpc.max_connection_age_grace_ms': config.grpc.maxConnectionAgeGraceMs }
        : {}),
      // Bound HTTP/2 session memory (grpc-js leaves it effectively unbounded otherwise).
      'grpc-node.max_session_memory': 64,
      // We serve no channelz service, and its per-call bookkeeping costs about 10 % of a unary
      // call's time in grpc-js (measured with an echo server: p50 0.46 -> 0.40 ms).
      'grpc.enable_channelz': 0,
    });
    const { grpcObj } = loadProto();
    const deps: HandlerDeps = { guard, metrics: this.metrics, tracker: this.tracker, logger: this.logger };
    const v1 = grpcObj.warmpool.v1;
    this.#grpc.addService(v1.DeviceProxy.service, deviceProxyHandlers({
      ...deps, runner: this.runner, fanOut: new FanOut({ runner: this.runner, devices: this.devices }),
      http: new HttpRunner({ devices: this.devices, http: this.#httpBackend(), guard, clock }), limits: config.limits,
      netconf: new NetconfRunner({
        devices: this.devices, guard, clock, metrics: this.metrics, audit,
        netconf: { acquire: (device, o) => this.netconf.pool(device).acquire(o) },
      }),
    }));
    this.#grpc.addService(v1.Inventory.service, inventoryHandlers({
      ...deps, devices: this.devices, defaults: config.defaults, validateDevice, readOnly: config.inventory.readOnly,
      netconfCapabilities: (id) => this.netconf.capabilities(id),
      detectedPlatform: (id) => this.detections.detected(id)?.platform,
      bastionExists: (id) => this.bastions.has(id),
    }));
    this.#grpc.addService(v1.Admin.service, adminHandlers({
      ...deps, devices: this.devices, stats: (ids) => this.stats(ids), drainDevice: (id) => this.#drainDevice(id),
      bastionExists: (id) => this.bastions.has(id),
    }));
    this.health.addToServer(this.#grpc);
    createReflection().addToServer(this.#grpc);

    this.#httpServer = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
      } else if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      } else if (path === '/readyz') {
        const ready = this.#ready && !this.tracker.draining;
        res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : 'not ready\n');
      } else if (path === '/metrics') {
        this.metrics.scrape().then(
          (text) => res.writeHead(200, { 'content-type': this.metrics.contentType }).end(text),
          (err: unknown) => {
            this.logger.error({ err }, 'metrics scrape failed');
            res.writeHead(500).end();
          },
        );
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n');
      }
    });
    // The metrics port must never be a way to hang the process on shutdown.
    this.#httpServer.keepAliveTimeout = 5000;
  }

  /** Load the inventory, bind both listeners, prewarm pools, report SERVING. */
  async start(extraDevices: DeviceSpec[] = [], extraBastions: BastionSpec[] = []): Promise<void> {
    const inventory = this.#readInventory();
    // Bastions first: a device's pool may prewarm through its bastion as soon as it is added.
    this.bastions.replace([...inventory.bastions, ...extraBastions]);
    for (const d of inventory.devices) this.devices.put(d);
    for (const d of extraDevices) this.devices.put(d);
    // A Unix domain socket: stale file from a crash removed, file mode from grpc.socketMode (unix-socket.ts).
    const socketPath = parseUnixListen(this.config.grpc.listen);
    const bind = () => new Promise<string>((resolve, reject) => {
      this.#grpc.bindAsync(this.config.grpc.listen, this.#auth.credentials, (err, port) => {
        if (err) reject(new Error(`cannot listen for gRPC on ${this.config.grpc.listen}: ${err.message}`));
        else resolve(socketPath === undefined ? withPort(this.config.grpc.listen, port) : this.config.grpc.listen);
      });
    });
    if (socketPath !== undefined) await prepareUnixSocket(socketPath);
    this.grpcAddress = socketPath === undefined ? await bind() : await bindUnixSocket(socketPath, parseFileMode(this.config.grpc.socketMode) ?? 0o660, bind);
    this.metricsAddress = await listenHttp(this.#httpServer, this.config.metrics.listen);
    if (this.config.inventory.file && this.config.inventory.watch) {
      this.#inventoryWatch = new InventoryFileWatch({
        file: this.config.inventory.file, debounceMs: this.config.inventory.watchDebounceMs, logger: this.logger,
        onChange: () => this.#reloadInventoryFile('file change'),
      });
      this.#inventoryWatch.start();
    }
    this.#ready = true;
    for (const s of HEALTH_SERVICES) this.health.setStatus(s, 'SERVING');
    this.logger.info({ grpc: this.grpcAddress, metrics: this.metricsAddress, devices: this.devices.size }, 'warmpool serving');
  }

  stats(ids?: string[]): PoolStats[] {
    return [...this.pools.stats(ids), ...this.http.stats(ids), ...this.netconf.stats(ids), ...this.bastions.stats(ids)];
  }

  /** SIGHUP: re-read the inventory file (and the auth files); API-added devices stay. Invalid files change nothing. */
  reloadInventory(): void {
    this.#auth.reload();
    if (!this.config.inventory.file) {
      this.logger.info('SIGHUP: no inventory file configured; nothing to reload');
      return;
    }
    this.#reloadInventoryFile('SIGHUP');
    this.#inventoryWatch?.noteLoaded();
  }

  /** Apply the inventory file again; a bad file keeps the current devices, is logged and counted (warmpool_inventory_*). */
  #reloadInventoryFile(trigger: 'SIGHUP' | 'file change'): void {
    try {
      const inventory = this.#readInventory();
      const changedBastions = this.bastions.replace(inventory.bastions);
      const r = this.devices.replaceFileDevices(inventory.devices);
      // Devices behind a changed bastion keep their own spec, but their sessions ride on the old
      // bastion connection: retire them so they reconnect through the new one.
      const retired = changedBastions.size === 0 ? 0 : this.pools.retireDevices((d) => d.via !== undefined && changedBastions.has(d.via));
      const orphans = this.devices.list().filter((d) => d.via !== undefined && !this.bastions.has(d.via)).map((d) => d.id);
      if (orphans.length > 0) this.logger.warn({ devices: orphans.slice(0, 20), count: orphans.length }, 'devices name a bastion the inventory file no longer has; their connects fail until it is back');
      this.metrics.inventoryReloaded(true);
      this.logger.info({ ...r, file: this.config.inventory.file, trigger, bastions: this.bastions.ids.length, changedBastions: changedBastions.size, retiredBehindBastions: retired }, 'inventory reloaded');
    } catch (err) {
      this.metrics.inventoryReloaded(false);
      this.logger.error({ err: describeError(err), file: this.config.inventory.file, trigger }, 'inventory reload failed; keeping the current inventory');
    }
  }

  /**
   * Drain: readiness false and health NOT_SERVING first, new calls UNAVAILABLE,
   * in-flight calls get up to shutdown.graceMs, then sessions close.
   */
  shutdown(reason: string): Promise<void> {
    this.#stopping ??= this.#shutdown(reason);
    return this.#stopping;
  }

  async #shutdown(reason: string): Promise<void> {
    this.logger.info({ reason, inFlight: this.tracker.active, graceMs: this.config.shutdown.graceMs }, 'draining');
    this.#ready = false;
    this.#inventoryWatch?.close();
    for (const s of HEALTH_SERVICES) this.health.setStatus(s, 'NOT_SERVING');
    this.tracker.startDraining();
    const grace = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), this.config.shutdown.graceMs).unref());
    if ((await Promise.race([this.tracker.idle().then(() => 'idle' as const), grace])) === 'timeout') {
      this.logger.warn({ inFlight: this.tracker.active }, 'grace period over; cancelling in-flight calls');
      this.tracker.abortAll('warmpool is shutting down; the grace period is over');
      await Promise.race([this.tracker.idle(), new Promise((r) => setTimeout(r, 1000).unref())]);
    }
    await new Promise<void>((resolve) => this.#grpc.tryShutdown(() => resolve()));
    this.#auth.close();
    await Promise.allSettled([this.pools.closeAll(), this.http.closeAll(), this.netconf.closeAll()]);
    this.bastions.closeAll();
    this.#httpServer.closeAllConnections();
    await new Promise<void>((resolve) => this.#httpServer.close(() => resolve()));
    this.logger.info('stopped');
  }

  /** Stop at once (second signal, tests). */
  forceStop(): void {
    this.#inventoryWatch?.close();
    this.#grpc.forceShutdown();
    this.#httpServer.closeAllConnections();
    this.#httpServer.close();
  }

  #readInventory(): Inventory {
    return this.config.inventory.file ? loadInventory(this.config.inventory.file, this.config) : { devices: [], bastions: [] };
  }

  #onInventoryChange(c: InventoryChange): void {
    this.runner.cache.invalidateDevice(c.device.id);
    // Detected again at its next connect when how it is reached changed (it may be another box
    // now); a reload that leaves it as it was keeps the detection, as its pool keeps its sessions.
    if (c.kind === 'remove' || !c.previous || connectionKey(c.previous) !== connectionKey(c.device)) this.detections.forget(c.device.id);
    if (c.kind === 'remove') {
      this.pools.remove(c.device.id);
      this.http.remove(c.device.id);
      this.netconf.remove(c.device.id);
    } else {
      // A NETCONF-only device keeps an SSH pool entry (Run refuses it) that never prewarms CLI sessions.
      this.pools.upsert(c.device.mode === 'netconf' ? { ...c.device, pool: { ...c.device.pool, min: 0 } } : c.device);
      this.netconf.upsert(c.device);
    }
    if (c.device.hostKey.acceptAny && c.kind === 'upsert') {
      this.logger.warn({ device: c.device.id }, 'host-key checking is off for this device (hostKey.acceptAny)');
    }
  }

  /** Admin DrainDevice: the device's SSH and NETCONF sessions both (counts added). */
  async #drainDevice(id: string): Promise<{ closedIdle: number; closingBusy: number }> {
    const ssh = await this.pools.drainDevice(id);
    const nc = this.netconf.drainDevice(id);
    return { closedIdle: ssh.closedIdle + nc.closedIdle, closingBusy: ssh.closingBusy + nc.closingBusy };
  }

  #httpBackend(): HttpBackend {
    return { request: (device, req) => this.http.get(device).request(req) };
  }
}

function withPort(listen: string, port: number): string {
  const i = listen.lastIndexOf(':');
  return i === -1 ? `${listen}:${port}` : `${listen.slice(0, i)}:${port}`;
}

function listenHttp(server: HttpServer, listen: string): Promise<string> {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(i + 1));
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot listen for metrics on ${listen}: ${err.message}`)));
    server.listen(port, host, () => {
      const a = server.address() as AddressInfo;
      resolve(`${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
    });
  });
}
