/**
 * The soak's verdict (bench/soak.ts): the checks, each with its detail, and the markdown and JSON
 * written to bench/results/soak.md and soak.json.
 */
import { CALLERS, CHAOS_MEAN_INTERVAL_MS, FD_TOLERANCE, HANDLE_TOLERANCE, HEAP_GROWTH_MAX_BYTES, HEAP_GROWTH_MAX_RATIO, MINUTES, SEED, WARMUP_MS } from './soak-options.js';
import { HOSTILE_CALLS, type Chaos } from './soak-chaos.js';
import type { SoakDevice } from './soak-fleet.js';
import type { CallLedger } from './soak-ledger.js';
import type { SoakLoad } from './soak-load.js';
import { mb, mean, type HealthzSummary } from './soak-probes.js';
import { table, writeResult } from './stats.js';

/** fds, handles, timers and memory of this process in the quiet state (see quiesceAndMeasure in soak.ts). */
export interface QuietMeasure {
  fds: number;
  handles: number;
  timers: number;
  heapUsed: number;
  rss: number;
}

export interface MemorySample {
  t: number;
  heapUsed: number;
  rss: number;
  fds: number;
  inFlight: number;
}

export interface SoakOutcome {
  devices: SoakDevice[];
  ledger: CallLedger;
  load: SoakLoad;
  chaos: Chaos;
  /** Harness failures (simulators that did not come back, waits that timed out). */
  failures: string[];
  poolViolations: string[];
  maxSeen: Map<string, number>;
  settled: { pools: Array<Record<string, unknown>> };
  inFlightInDaemon: number;
  finalPools: Array<{ device: string; protocol: string; busy: number; waiting: number }>;
  recovered: Record<string, string>;
  health: HealthzSummary;
  aliveAtEnd: { code: number };
  baseline: QuietMeasure;
  end: QuietMeasure;
  memory: MemorySample[];
}

/** Judges the run, prints and writes the report; true when every check passed. */
export function reportSoak(o: SoakOutcome): boolean {
  const { devices, ledger, load, chaos, failures, poolViolations, maxSeen, settled, inFlightInDaemon, finalPools, recovered, health, aliveAtEnd, baseline, end, memory } = o;
  const { hostileDevice, hostileSeen, hostileWrong, hostileWrongTotal } = load;
  const leaked = finalPools.filter((p) => Number(p.busy) !== 0 || Number(p.waiting) !== 0);

  // Memory flat: first third vs last third of the samples taken during the chaos phase.
  const third = Math.max(1, Math.floor(memory.length / 3));
  const firstHeap = mean(memory.slice(0, third).map((m) => m.heapUsed));
  const lastHeap = mean(memory.slice(-third).map((m) => m.heapUsed));
  const firstRss = mean(memory.slice(0, third).map((m) => m.rss));
  const lastRss = mean(memory.slice(-third).map((m) => m.rss));
  const heapGrowth = lastHeap - firstHeap;
  const heapFlat = memory.length >= 3 && (heapGrowth < HEAP_GROWTH_MAX_BYTES || heapGrowth / firstHeap < HEAP_GROWTH_MAX_RATIO);

  const checks: Array<{ name: string; ok: boolean; detail: string }> = [
    { name: 'every call returned before its watchdog (deadline + 5 s)', ok: ledger.hung.length === 0 && ledger.completed === ledger.started, detail: `${ledger.completed}/${ledger.started} returned, ${ledger.hung.length} hung` },
    { name: 'only expected statuses (OK, CANCELLED, DEADLINE_EXCEEDED, UNAVAILABLE, RESOURCE_EXHAUSTED)', ok: ledger.unexpectedTotal() === 0, detail: `${ledger.unexpectedTotal()} unexpected` },
    { name: 'sessions never above pool.max (sampled every 1 s)', ok: poolViolations.length === 0, detail: devices.map((d) => `${d.id} ${maxSeen.get(d.id) ?? 0}/${d.max}`).join(', ') },
    { name: 'after settling: nothing busy, waiting or connecting', ok: settled.pools.every((p) => Number(p.busy) === 0 && Number(p.waiting) === 0 && Number(p.connecting) === 0), detail: settled.pools.map((p) => `${String(p.device)}/${String(p.protocol)} idle ${String(p.idle)} busy ${String(p.busy)} waiting ${String(p.waiting)} connecting ${String(p.connecting)} circuit ${String(p.circuit)}`).join('; ') },
    { name: 'no call still in flight inside the daemon', ok: inFlightInDaemon === 0, detail: `${inFlightInDaemon} active` },
    { name: 'no leaked slot: at the very end every pool has busy 0 and waiting 0', ok: leaked.length === 0, detail: leaked.length ? leaked.map((p) => `${p.device}/${p.protocol} busy ${p.busy} waiting ${p.waiting}`).join('; ') : `${finalPools.length} pools clean` },
    { name: 'daemon alive: /healthz answered 200 throughout (every 250 ms) and at the end', ok: health.failures === 0 && aliveAtEnd.code === 200, detail: `${health.samples} samples, ${health.failures} failed, slowest ${health.maxMs.toFixed(0)} ms, p99 ${health.p99Ms.toFixed(0)} ms; at the end ${aliveAtEnd.code}` },
    { name: 'hostile calls answered OK carried their whole, clean output (fake prompts did not cut it)', ok: hostileWrongTotal === 0, detail: hostileWrongTotal ? `${hostileWrongTotal} wrong; ${hostileWrong.slice(0, 3).join('; ')}` : 'all right' },
    { name: 'the hostile device was exercised', ok: [...hostileSeen.values()].reduce((n, m) => n + [...m.values()].reduce((a, b) => a + b, 0), 0) > 0, detail: `${HOSTILE_CALLS.length} kinds of hostile call` },
    { name: 'every device serves a Run again after chaos', ok: Object.values(recovered).every((r) => r === 'ok'), detail: Object.entries(recovered).map(([k, v]) => `${k} ${v}`).join(', ') },
    { name: `open fds back to baseline (±${FD_TOLERANCE})`, ok: Math.abs(end.fds - baseline.fds) <= FD_TOLERANCE, detail: `${baseline.fds} → ${end.fds}` },
    { name: `active handles back to baseline (±${HANDLE_TOLERANCE}, timers not counted)`, ok: Math.abs(end.handles - baseline.handles) <= HANDLE_TOLERANCE, detail: `${baseline.handles} → ${end.handles} (timers ${baseline.timers} → ${end.timers})` },
    { name: `heap flat: last-third mean − first-third mean < ${mb(HEAP_GROWTH_MAX_BYTES)} MB or < ${HEAP_GROWTH_MAX_RATIO * 100} %`, ok: heapFlat, detail: `${mb(firstHeap)} → ${mb(lastHeap)} MB (${heapGrowth >= 0 ? '+' : ''}${mb(heapGrowth)} MB, ${((heapGrowth / firstHeap) * 100).toFixed(1)} %) over ${memory.length} samples` },
    { name: 'harness: simulators and proxies behaved', ok: failures.length === 0, detail: failures.length ? failures.join('; ') : 'ok' },
  ];
  const pass = checks.every((c) => c.ok);

  // The report.

  const statusCols = ['OK', 'CANCELLED', 'DEADLINE_EXCEEDED', 'UNAVAILABLE', 'RESOURCE_EXHAUSTED'];
  const rpcs = [...ledger.counts.keys()].sort();
  const statusTable = [
    `| RPC | ${statusCols.join(' | ')} | other |`,
    `|---|${statusCols.map(() => '---:').join('|')}|---|`,
    ...rpcs.map((rpc) => {
      const c = ledger.counts.get(rpc) as Map<string, number>;
      const other = [...c].filter(([k]) => !statusCols.includes(k)).map(([k, v]) => `${k} ${v}`).join(', ');
      return `| ${rpc} | ${statusCols.map((s) => c.get(s) ?? 0).join(' | ')} | ${other} |`;
    }),
  ].join('\n');
  const hostileTable = [
    '| hostile call | expected without chaos | seen |',
    '|---|---|---|',
    ...HOSTILE_CALLS.map((h) => `| ${h.label}: \`${h.commands.join('; ')}\`, command_timeout_ms ${h.commandTimeoutMs} | ${h.expect} | ${[...(hostileSeen.get(h.label) ?? new Map<string, number>())].map(([k, v]) => `${k} ${v}`).join(', ') || '—'} |`),
  ].join('\n');
  const chaosTable = ['| chaos event | count |', '|---|---:|', ...[...chaos.events].sort().map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
  const resourceTable = [
    '| resource | baseline (after warm-up) | end | judged by |',
    '|---|---:|---:|---|',
    `| open fds | ${baseline.fds} | ${end.fds} | ±${FD_TOLERANCE} |`,
    `| active handles (no timers) | ${baseline.handles} | ${end.handles} | ±${HANDLE_TOLERANCE} |`,
    `| heapUsed after gc, MB | ${mb(baseline.heapUsed)} | ${mb(end.heapUsed)} | see heap flat |`,
    `| heapUsed mean, first → last third, MB | ${mb(firstHeap)} | ${mb(lastHeap)} | < ${mb(HEAP_GROWTH_MAX_BYTES)} MB or < ${HEAP_GROWTH_MAX_RATIO * 100} % |`,
    `| rss mean, first → last third, MB | ${mb(firstRss)} | ${mb(lastRss)} | reported only |`,
  ].join('\n');
  const checkList = checks.map((c) => `- ${c.ok ? 'PASS' : '**FAIL**'} ${c.name}: ${c.detail}`).join('\n');
  const md = [
    `### Soak: ${MINUTES} min, seed ${SEED} (${new Date().toISOString().slice(0, 16)}Z, node ${process.version}) — **${pass ? 'PASS' : 'FAIL'}**`,
    '',
    `In-process daemon; ${devices.length} simulated devices (${devices.map((d) => `${d.id} ${d.platform}${d.hostile ? ' (hostile)' : ''} max ${d.max}`).join(', ')}), each behind a fault proxy;`,
    `${CALLERS} concurrent gRPC callers; warm-up ${WARMUP_MS / 1000} s without chaos, then chaos every ~${CHAOS_MEAN_INTERVAL_MS / 1000} s; ssh keepalive 1 s × 3.`,
    `Calls: ${ledger.started} started, ${ledger.completed} completed, ${ledger.hung.length} hung; simulator reboots ${devices.reduce((n, d) => n + d.reboots, 0)} (incl. 2 per device for the quiet measurements).`,
    '',
    statusTable,
    '',
    `Hostile calls on ${hostileDevice.id} (src/sim/hostile.ts); chaos on its link may turn any of them into UNAVAILABLE or DEADLINE_EXCEEDED:`,
    '',
    hostileTable,
    '',
    'Latency of every completed call (any status):',
    '',
    table(ledger.rows()),
    '',
    chaosTable,
    '',
    resourceTable,
    '',
    checkList,
    ...(hostileWrong.length ? ['', 'Hostile calls answered OK with a wrong output (first 20):', ...hostileWrong.map((w) => `- ${w.replace(/\s+/g, ' ').slice(0, 300)}`)] : []),
    ...(ledger.hung.length ? ['', 'Hung calls:', ...ledger.hung.slice(0, 20).map((h) => `- ${h}`)] : []),
    ...(ledger.unexpected.length ? ['', 'Unexpected statuses (first 50):', ...ledger.unexpected.map((u) => `- ${u.replace(/\s+/g, ' ').slice(0, 300)}`)] : []),
  ].join('\n');
  process.stdout.write(`\n${md}\n`);
  writeResult('soak', md, {
    date: new Date().toISOString(), node: process.version, minutes: MINUTES, seed: SEED, warmupMs: WARMUP_MS, callers: CALLERS, pass,
    checks, calls: { started: ledger.started, completed: ledger.completed, hung: ledger.hung, unexpected: ledger.unexpected },
    statuses: Object.fromEntries([...ledger.counts].map(([k, v]) => [k, Object.fromEntries(v)])), latency: ledger.rows(),
    hostile: Object.fromEntries([...hostileSeen].map(([k, v]) => [k, Object.fromEntries(v)])), healthz: health,
    chaos: Object.fromEntries(chaos.events), chaosLog: chaos.log, baseline, end, memory, maxSessions: Object.fromEntries(maxSeen),
  });
  return pass;
}
