/**
 * `warmpool serve` in a child process (from dist/), so a benchmark can measure the daemon's CPU and
 * memory alone and keep its own client work off the daemon's event loop. Config and inventory are
 * written as JSON files in a temporary directory; gRPC and /metrics listen on loopback port 0 and the
 * addresses are read from the "warmpool serving" log line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadProto } from '../../src/api/proto.js';
import { reapOnExit, stopChild } from './sim-process.js';
import { freePort } from '../../test/kit/sshd.js';

export interface DaemonProcess {
  proc: ChildProcess;
  pid: number;
  grpcAddress: string;
  metricsAddress: string;
  configFile: string;
  /** Clients on the daemon's gRPC address (one HTTP/2 connection each). */
  clients(): DaemonClients;
  stop(): Promise<void>;
}

/** Loosely typed clients: benchmarks call them through the promise helpers below. */
export interface DaemonClients {
  proxy: grpc.Client & Record<string, unknown>;
  admin: grpc.Client & Record<string, unknown>;
  inventory: grpc.Client & Record<string, unknown>;
  close(): void;
}

export interface StartDaemonOptions {
  /** Inventory devices as they would be written in devices.yaml. */
  devices: unknown[];
  /** Extra config file keys (merged at the top level over the loopback/log defaults set here). */
  config?: Record<string, unknown>;
  /** Extra node flags for the daemon process (e.g. --max-old-space-size). */
  nodeArgs?: string[];
  /** grpc.listen instead of a free loopback port, e.g. unix:///tmp/x/grpc.sock (bench/uds-vs-tcp.ts). */
  grpcListen?: string;
  /** Another build's dist/src/main.js, to run an older daemon beside this one (bench/idle-ab.ts). */
  main?: string;
}

export async function startDaemonProcess(opts: StartDaemonOptions): Promise<DaemonProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'warmpool-bench-daemon-'));
  const inventoryFile = join(dir, 'devices.json');
  writeFileSync(inventoryFile, JSON.stringify({ devices: opts.devices }), { mode: 0o600 });
  const main = opts.main ?? fileURLToPath(new URL('../../src/main.js', import.meta.url));
  let lastErr: unknown;
  // A port that was free a moment ago can be taken meanwhile: retry a few times with new ports.
  for (let attempt = 0; attempt < 3; attempt++) {
    const grpcAddress = opts.grpcListen ?? `127.0.0.1:${await freePort()}`;
    const metricsAddress = `127.0.0.1:${await freePort()}`;
    const config = {
      grpc: { listen: grpcAddress },
      metrics: { listen: metricsAddress },
      log: { level: 'warn', audit: { enabled: false } },
      inventory: { file: inventoryFile },
      ...(opts.config ?? {}),
    };
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
    const proc = reapOnExit(spawn(process.execPath, [...(opts.nodeArgs ?? []), main, 'serve', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] }));
    // Keep draining both pipes (a full pipe would block the daemon); keep the tail for error messages.
    let tail = '';
    const keep = (d: Buffer) => {
      tail = (tail + d.toString()).slice(-8000);
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    const exited = new Promise<never>((_, reject) => proc.once('exit', (code) => reject(new Error(`daemon exited (${code}) before serving:\n${tail}`))));
    exited.catch(() => {});
    const probe = new (loadProto().grpcObj.warmpool.v1.Admin)(grpcAddress, grpc.credentials.createInsecure());
    try {
      await Promise.race([
        exited,
        new Promise<void>((resolve, reject) => probe.waitForReady(Date.now() + 30_000, (e) => (e ? reject(new Error(`daemon not ready within 30 s: ${e.message}\n${tail}`)) : resolve()))),
      ]);
      probe.close();
      return daemonHandle(proc, grpcAddress, metricsAddress, configFile, dir);
    } catch (err) {
      probe.close();
      lastErr = err;
      await stopChild(proc);
      if (!/EADDRINUSE|address already in use/i.test(String(err))) break;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastErr;
}

function daemonHandle(proc: ChildProcess, grpcAddress: string, metricsAddress: string, configFile: string, dir: string): DaemonProcess {
  const addrs = { grpc: grpcAddress, metrics: metricsAddress };
  return {
    proc,
    pid: proc.pid as number,
    grpcAddress: addrs.grpc,
    metricsAddress: addrs.metrics,
    configFile,
    clients: () => {
      const v1 = loadProto().grpcObj.warmpool.v1;
      const creds = grpc.credentials.createInsecure();
      // Same channel options for all three so they share one HTTP/2 connection per client set.
      const proxy = new v1.DeviceProxy(addrs.grpc, creds) as unknown as DaemonClients['proxy'];
      const admin = new v1.Admin(addrs.grpc, creds) as unknown as DaemonClients['admin'];
      const inventory = new v1.Inventory(addrs.grpc, creds) as unknown as DaemonClients['inventory'];
      return { proxy, admin, inventory, close: () => [proxy, admin, inventory].forEach((c) => c.close()) };
    },
    stop: async () => {
      await stopChild(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One unary call as a promise. */
export function call<Res>(client: grpc.Client & Record<string, unknown>, method: string, req: unknown, deadlineMs = 30_000): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = client[method] as (r: unknown, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v: Res) => void) => void;
    fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (e, v) => (e ? reject(e) : resolve(v)));
  });
}

export interface PoolStatsRow {
  device: string;
  protocol: string;
  idle: number;
  busy: number;
  connecting: number;
  waiting: number;
  created_total: string;
  closed_total: string;
  failed_connects_total: string;
}

/** Admin.GetPoolStats, SSH pools only. */
export async function sshPoolStats(clients: DaemonClients): Promise<PoolStatsRow[]> {
  const r = await call<{ pools: PoolStatsRow[] }>(clients.admin, 'GetPoolStats', { devices: [] });
  return r.pools.filter((p) => p.protocol === 'ssh');
}

/**
 * The scale benchmarks' device number `index` (0-based, id `scale-N`): a simulated IOS of a
 * fleet process, holding `perDevice` sessions (pool min = max), added over the Inventory API.
 */
export async function putScaleDevice(clients: DaemonClients, index: number, sim: { port: number; fingerprint: string }, perDevice: number): Promise<void> {
  await call(clients.inventory, 'PutDevice', {
    device: {
      id: `scale-${index + 1}`, host: '127.0.0.1', port: sim.port, platform: 'cisco_ios', username: 'admin', password: 'admin-pass',
      enable_secret: 'enable-pass', host_key: { fingerprints: [sim.fingerprint] }, pool: { min: perDevice, max: perDevice },
    },
  });
}

/** Polls until `sessions` SSH sessions are idle across the daemon's pools (bounded by timeoutMs). */
export async function waitForIdleSessions(clients: DaemonClients, sessions: number, timeoutMs: number, onProgress?: (idle: number) => void): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  for (;;) {
    const pools = await sshPoolStats(clients);
    const idle = pools.reduce((a, p) => a + p.idle, 0);
    if (idle !== last) onProgress?.(idle);
    last = idle;
    if (idle >= sessions) return Date.now();
    if (Date.now() > deadline) {
      const failed = pools.reduce((a, p) => a + Number(p.failed_connects_total), 0);
      throw new Error(`only ${idle} of ${sessions} sessions idle after ${timeoutMs} ms (failed connects: ${failed})`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
