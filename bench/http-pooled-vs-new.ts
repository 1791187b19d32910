/**
 * Pooled keep-alive HTTPS vs a new HTTPS connection per request, against the simulated device,
 * in one run. Both sides use DeviceHttpClient (same request path, auth, TLS checks); the
 * "new connection" side creates a client per request, so every request pays TCP + a full TLS
 * handshake (no session resumption: the session cache lives in the client's connector).
 *
 *   node --import=@tapjs/typescript/import bench/http-pooled-vs-new.ts [N]     (or the compiled dist/bench/…js)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Secret } from '../src/config/secret.js';
import type { DeviceSpec } from '../src/config/types.js';
import { DeviceHttpClient } from '../src/drivers/http/client.js';
import { silentLogger } from '../src/core/logger.js';
import { systemClock } from '../src/core/clock.js';
import { startSimHttpDevice } from '../src/sim/http-device.js';
import { makeTestPki } from '../test/kit/tls.js';
import { summarize, table, writeResult } from './lib/stats.js';

const N = Number(process.argv[2] ?? 500);

function device(url: string, caFile: string): DeviceSpec {
  return {
    id: 'bench-eos1', host: '127.0.0.1', port: 22, platform: 'arista_eos', mode: 'shell', username: 'u',
    hostKey: { acceptAny: true }, labels: {}, source: 'api',
    pool: { min: 0, max: 1, idleTimeoutMs: 300_000, maxLifetimeMs: 3_600_000, acquireTimeoutMs: 10_000, maxWaiting: 64 },
    ssh: { connectTimeoutMs: 10_000, keepaliveIntervalMs: 15_000, keepaliveCountMax: 3, commandTimeoutMs: 30_000, appKeepaliveMs: 0, healthCheckAfterMs: 0, legacyAlgorithms: false, maxOutputBytes: 4 * 1024 * 1024 },
    http: {
      baseUrl: url, auth: { type: 'bearer', token: Secret.fromValue('bench-token') }, tls: { caFile },
      maxConnections: 1, maxResponseBytes: 1 << 20, connectTimeoutMs: 5_000, requestTimeoutMs: 10_000,
    },
  };
}

const newClient = (d: DeviceSpec) =>
  new DeviceHttpClient({ device: d, clock: systemClock, random: Math.random, breaker: { failureThreshold: 5, openMs: 1000, maxOpenMs: 1000 }, logger: silentLogger });

const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', method: 'runCmds', params: { version: 1, cmds: ['show version'], format: 'json' }, id: '1' }));
const req = { method: 'POST', path: '/command-api', headers: { 'content-type': 'application/json' }, body, timeoutMs: 10_000 };

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'warmpool-bench-'));
  const pki = makeTestPki(dir);
  const sim = await startSimHttpDevice({ auth: 'bearer', token: 'bench-token', tls: { key: pki.server.key, cert: pki.server.cert } });
  const d = device(sim.url, pki.caFile);
  try {
    const pooled = newClient(d);
    for (let i = 0; i < 20; i++) await pooled.request(req); // warm-up (JIT, first connection)
    const fresh: number[] = [];
    const kept: number[] = [];
    const socketsBefore = sim.counters.socketsOpened;
    // Interleave the two so that machine noise hits both alike.
    for (let i = 0; i < N; i++) {
      let t0 = performance.now();
      const r1 = await pooled.request(req);
      kept.push(performance.now() - t0);
      t0 = performance.now();
      const c = newClient(d);
      const r2 = await c.request(req);
      fresh.push(performance.now() - t0);
      await c.destroy();
      if (r1.status !== 200 || r2.status !== 200) throw new Error(`unexpected status ${r1.status}/${r2.status}`);
    }
    const newSockets = sim.counters.socketsOpened - socketsBefore;
    await pooled.close();
    kept.sort((a, b) => a - b);
    fresh.sort((a, b) => a - b);
    const rows = [summarize('pooled keep-alive', kept), summarize('new connection per request', fresh)];
    const md = [
      `### HTTPS: pooled keep-alive vs new connection per request (${new Date().toISOString().slice(0, 10)}, node ${process.version})`,
      '',
      `eAPI runCmds "show version" to the simulated device over HTTPS on loopback, ${N} requests each, sequential, interleaved;`,
      'both sides use DeviceHttpClient (same request path, auth and TLS checks); the new-connection side pays TCP + a full TLS handshake.',
      '',
      table(rows, rows[0]!.name),
      '',
      `Ratio (new / pooled): median ${(pct(fresh, 50) / pct(kept, 50)).toFixed(1)}×, p99 ${(pct(fresh, 99) / pct(kept, 99)).toFixed(1)}×.`,
      `Sockets opened at the server during the run: ${newSockets} (expected ${N} for the new-connection side, 0 for pooled).`,
    ].join('\n');
    process.stdout.write(`${md}\n`);
    writeResult('http-pooled-vs-new', md, { date: new Date().toISOString(), node: process.version, n: N, rows, newSockets });
  } finally {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
