/**
 * What each step of a warm Run costs the daemon, step by step, with the daemon's own objects
 * (a Daemon with one simulated Cisco IOS device, pool 1/1): request validation, device lookup,
 * authentication and policy (with the audit of the decision), the deadline budget, pool
 * acquire + release, metrics, the audit of a command, the reply check and conversion, and the
 * cache key (built only when cache_ttl_ms > 0). Each step runs in a tight loop (after a warm-up,
 * so V8 has optimised it); the figure is wall time per call, which is CPU time here.
 * bench/ssh-warm-vs-cold.ts measures the whole call; this says where the daemon's share goes.
 *
 *   npm run build && node dist/bench/hot-path-steps.js [iterations]
 */
import * as grpc from '@grpc/grpc-js';
import { startSimProcess } from './lib/sim-process.js';
import { startWarmDaemon } from './lib/warm-daemon.js';
import { writeResult } from './lib/stats.js';
import { validateRun } from '../src/api/validate.js';
import { runResponseMsg } from '../src/api/convert.js';
import { replySizeBound } from '../src/app/reply-size.js';
import { auditedGuard } from '../src/app/guard.js';
import { createAudit } from '../src/app/audit.js';
import { ResultCache } from '../src/app/cache.js';
import { DeadlineBudget } from '../src/app/deadline.js';
import type { RunResult } from '../src/app/context.js';
import { createAuth } from '../src/auth/index.js';
import { systemClock } from '../src/core/clock.js';
import { silentLogger } from '../src/core/logger.js';
import { resolveProfile } from '../src/platforms/profiles.js';
import { isPromptLine, matchPrompt } from '../src/session/prompt.js';

const N = Number(process.argv[2] ?? 200_000);

interface Step { name: string; ns: number }

async function time(name: string, n: number, fn: () => unknown): Promise<Step> {
  for (let i = 0; i < Math.min(n, 20_000); i++) await fn();
  // Three rounds, the fastest kept: the machine is shared, and interruptions only add time.
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const r = fn();
      if (r instanceof Promise) await r;
    }
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / n);
  }
  return { name, ns: best };
}

async function main(): Promise<void> {
  const sim = await startSimProcess();
  const w = await startWarmDaemon(sim.port, sim.fingerprint);
  const d = w.daemon;
  const limits = d.config.limits;
  const req = { device: 'r1', commands: ['show clock'], mode: 'SESSION_MODE_UNSPECIFIED', privileged: false, configure: false, stop_on_error: false, command_timeout_ms: 0, cache_ttl_ms: 0, expect: '' };
  const run = validateRun(req as never, limits);
  const auth = createAuth(d.config.grpc, silentLogger);
  const auditOff = createAudit({ enabled: false, file: '', includeOutput: false, fallback: silentLogger });
  const auditOn = createAudit({ enabled: true, file: '/dev/null', includeOutput: false, fallback: silentLogger });
  const guardOff = auditedGuard(auth, auditOff);
  const guardOn = auditedGuard(auth, auditOn);
  const call = { metadata: new grpc.Metadata(), getPeer: () => '127.0.0.1:5555' };
  const caller = guardOff.authenticate(call);
  const device = d.devices.get('r1');
  const authz = { rpc: 'Run', device, commands: run.commands, configure: false, privileged: false };
  const pool = d.pools.sshPool('r1');
  const lease = await pool.acquire({});
  const result: RunResult = {
    device: 'r1', session: lease.info,
    results: [{ command: 'show clock', output: '*01:20:04.249 UTC Thu Nov 26 2026\n', exitStatus: 0, failed: false, error: '', durationMs: 0.4, cached: false }],
  };
  lease.release();
  const event = { caller: 'anonymous', device: 'r1', rpc: 'Run', command: 'show clock', sessionId: 'r1/shell-1', durationMs: 0.4, outcome: 'ok' as const, exitStatus: 0 };
  const m = d.metrics;

  const steps: Step[] = [];
  steps.push(await time('validate the request (validateRun)', N, () => validateRun(req as never, limits)));
  steps.push(await time('look the device up (registry.get)', N, () => d.devices.get('r1')));
  steps.push(await time('authenticate (no tokens, no mTLS)', N, () => guardOff.authenticate(call)));
  steps.push(await time('authorize, no policy file, audit off', N, () => guardOff.authorize(caller, authz)));
  steps.push(await time('authorize, no policy file, audit on (/dev/null)', N / 10, () => guardOn.authorize(caller, authz)));
  steps.push(await time('deadline budget (DeadlineBudget.of)', N, () => DeadlineBudget.of(Date.now() + 30_000, systemClock)));
  steps.push(await time('pool acquire + release (idle session)', N / 4, async () => (await pool.acquire({})).release()));
  steps.push(await time('metrics: rpc counter', N, () => m.rpc('DeviceProxy/Run', 'OK')));
  steps.push(await time('metrics: command histogram', N, () => m.command('ssh', 'ok', 0.0004)));
  steps.push(await time('metrics: acquire-wait histogram', N, () => m.acquired('r1', 'ssh', 0)));
  steps.push(await time('audit a command, audit off', N, () => auditOff.record(event)));
  steps.push(await time('audit a command, audit on (/dev/null)', N / 10, () => auditOn.record(event)));
  steps.push(await time('reply size check (bound)', N, () => replySizeBound(result, (s) => s.length * 3)));
  steps.push(await time('reply conversion (runResponseMsg)', N, () => runResponseMsg(result)));
  steps.push(await time('cache key (only when cache_ttl_ms > 0)', N, () => ResultCache.keyOf('r1', 'shell', run)));
  steps.push(await time('AbortController per call', N, () => new AbortController()));
  // The end-of-output check on the first end prompt of every command (session/prompt-read.ts):
  // with the prompt's captures (before) and as a learned-prompt compare (now).
  const ios = resolveProfile(w.spec);
  steps.push(await time('end prompt held back: matchPrompt with captures (before)', N / 4, () => matchPrompt(ios, 'R1#')));
  steps.push(await time('end prompt held back: isPromptLine, learned prompt (now)', N, () => isPromptLine(ios, 'R1#', 'R1#')));
  steps.push(await time('a line of output checked: isPromptLine, pattern DFA', N, () => isPromptLine(ios, 'Cisco IOS Software, Version 15.9', 'R1#')));
  await w.close();
  sim.stop();

  const lines = [
    `### The daemon's own steps per warm Run (${new Date().toISOString().slice(0, 10)}, node ${process.version})`,
    '',
    '| step | µs per call |',
    '|---|---:|',
    ...steps.map((s) => `| ${s.name} | ${(s.ns / 1000).toFixed(3)} |`),
  ];
  const md = lines.join('\n');
  process.stdout.write(`${md}\n`);
  writeResult('hot-path-steps', md, { date: new Date().toISOString(), node: process.version, iterations: N, steps: steps.map((s) => ({ name: s.name, us: s.ns / 1000 })) });
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
