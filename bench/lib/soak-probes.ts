/**
 * Small measuring tools of the soak (bench/soak.ts): this process's fds, handles and timers, a
 * bounded wait that records a failure instead of throwing, a unary gRPC call as a promise, and
 * GETs on the daemon's metrics listener (/healthz sampled for the whole run).
 */
import { readdirSync } from 'node:fs';
import http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { waitFor } from '../../test/kit/wait.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const openFds = () => readdirSync('/proc/self/fd').length;
export const activeHandles = () => process.getActiveResourcesInfo().filter((r) => r !== 'Timeout' && r !== 'Immediate').length;
export const activeTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
export const mb = (b: number) => (b / 1024 / 1024).toFixed(1);

export function unary<Res>(fn: (req: unknown, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Res) => void) => unknown, req: unknown, deadlineMs: number): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (e, r) => (e ? reject(e) : resolve(r as Res))));
}

/** Polls `cond` every 200 ms for up to `ms`; on time-out adds a line to `failures` and answers false. */
export async function waitUntil(failures: string[], what: string, ms: number, cond: () => boolean | Promise<boolean>): Promise<boolean> {
  try {
    // A condition that throws (a gRPC call failing mid-chaos) counts as not yet.
    await waitFor(() => Promise.resolve().then(cond).catch(() => false), what, ms, 200);
    return true;
  } catch {
    failures.push(`timed out after ${ms} ms waiting for ${what}`);
    return false;
  }
}

/** GET on the daemon's metrics listener: status code (0 when it failed) and latency. */
export function httpGet(agent: http.Agent, address: string, path: string, timeoutMs = 5000): Promise<{ code: number; ms: number }> {
  const colon = address.lastIndexOf(':');
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.get({ host: address.slice(0, colon), port: Number(address.slice(colon + 1)), path, agent, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve({ code: res.statusCode ?? 0, ms: performance.now() - t0 }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ code: 0, ms: performance.now() - t0 }));
  });
}

export interface HealthzSummary {
  samples: number;
  failures: number;
  maxMs: number;
  p99Ms: number;
}

/**
 * /healthz every `everyMs` for the whole run. The daemon shares this process's event loop, so
 * each sample is timed from when it was due: a stall that delays the sampler's own timer counts.
 */
export function sampleHealthz(agent: http.Agent, address: string, everyMs: number): { stop(): Promise<HealthzSummary> } {
  const lat: number[] = [];
  let failures = 0;
  let stopped = false;
  const loop = (async () => {
    let due = performance.now();
    while (!stopped) {
      const r = await httpGet(agent, address, '/healthz');
      const done = performance.now();
      if (r.code !== 200) failures++;
      lat.push(done - due);
      due = Math.max(done, due + everyMs);
      await sleep(due - done);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      const sorted = [...lat].sort((a, b) => a - b);
      return { samples: lat.length, failures, maxMs: sorted.at(-1) ?? 0, p99Ms: sorted[Math.floor(sorted.length * 0.99)] ?? 0 };
    },
  };
}
