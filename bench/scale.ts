/**
 * Scale: one daemon (`warmpool serve`, a CHILD process so its memory and CPU are measured alone)
 * holding 1 000 and then 10 000 idle pooled SSH shell sessions to simulated Cisco IOS devices
 * (1 000 sessions per device, pool min = max = 1 000; the simulators run in one other process).
 * SSH keepalives and the application keepalive are at their configured defaults. Per stage:
 *   - RSS of the daemon (/proc/<pid>/status VmRSS) above its RSS with no sessions, per session;
 *   - idle CPU (/proc/<pid>/stat utime+stime) over a fixed window after a settle period, as % of one core.
 * The window defaults to one application-keepalive period, so it holds exactly one nudge per session
 * and several SSH keepalives whatever the phase in which the sessions were opened.
 *
 *   node dist/bench/scale.js [WINDOW_SECONDS=appKeepaliveMs/1000] [SESSIONS_PER_DEVICE=1000] [DEVICES=10]
 */
import { loadConfig } from '../src/config/load.js';
import { putScaleDevice, sshPoolStats, startDaemonProcess, waitForIdleSessions, type DaemonClients } from './lib/daemon-process.js';
import { cpuMs, maxOpenFiles, rssKiB } from './lib/proc-stats.js';
import { startSimFleetProcess } from './lib/sim-process.js';
import { writeResult } from './lib/stats.js';

// The daemon child inherits WARMPOOL_* variables; read them too so the figures name the settings in force.
const defaults = loadConfig({ argv: [], env: process.env }).defaults;
const WINDOW_S = Number(process.argv[2] ?? defaults.ssh.appKeepaliveMs / 1000);
const PER_DEVICE = Number(process.argv[3] ?? 1000);
const DEVICES = Number(process.argv[4] ?? 10);
const SETTLE_S = 5;
const MAX_CONNECTS = 64;

interface Stage {
  devices: number;
  sessions: number;
  openSeconds: number;
  rssKiB: number;
  rssPerSessionKiB: number;
  sessionsPerGiB: number;
  wholeProcessSessionsPerGiB: number;
  windowSeconds: number;
  daemonCpuMs: number;
  daemonIdleCpuPercent: number;
  simCpuPercent: number;
  sessionsClosedDuringWindow: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  if (!Number.isFinite(WINDOW_S) || WINDOW_S <= 0) throw new Error(`bad window "${process.argv[2]}"`);
  const total = PER_DEVICE * DEVICES;
  // Each side holds one socket per session plus a few hundred of its own.
  const need = total + 256;
  if (maxOpenFiles(process.pid) < need) {
    throw new Error(`open-file limit ${maxOpenFiles(process.pid)} is below the ${need} needed for ${total} sessions: raise it (ulimit -n ${need}) and rerun`);
  }
  const sim = await startSimFleetProcess(DEVICES);
  const daemon = await startDaemonProcess({ devices: [], config: { limits: { maxConcurrentConnects: MAX_CONNECTS } } });
  let clients: DaemonClients | undefined;
  try {
    for (const [name, pid] of [['simulator', sim.pid], ['daemon', daemon.pid]] as const) {
      if (maxOpenFiles(pid) < need) throw new Error(`${name} open-file limit ${maxOpenFiles(pid)} < ${need}`);
    }
    clients = daemon.clients();
    const c = clients;
    await sleep(2000);
    const baseRss = rssKiB(daemon.pid);
    process.stdout.write(`daemon RSS with no sessions: ${(baseRss / 1024).toFixed(1)} MiB\n`);

    const stages: Stage[] = [];
    let added = 0;
    for (const devicesNow of [...new Set([1, DEVICES])]) {
      const t0 = performance.now();
      for (; added < devicesNow; added++) {
        const d = sim.devices[added]!;
        await putScaleDevice(c, added, d, PER_DEVICE);
      }
      const sessions = devicesNow * PER_DEVICE;
      let lastPrint = 0;
      await waitForIdleSessions(c, sessions, 300_000, (idle) => {
        if (performance.now() - lastPrint > 5000) {
          lastPrint = performance.now();
          process.stdout.write(`  ${idle}/${sessions} sessions idle\n`);
        }
      });
      const openSeconds = (performance.now() - t0) / 1000;
      await sleep(SETTLE_S * 1000);
      const closedBefore = (await sshPoolStats(c)).reduce((a, p) => a + Number(p.closed_total), 0);
      // The idle window: nothing but the daemon's own timers (keepalives) runs; no RPC from here.
      const cpu0 = { d: cpuMs(daemon.pid), s: cpuMs(sim.pid), t: performance.now() };
      await sleep(WINDOW_S * 1000);
      const wallMs = performance.now() - cpu0.t;
      const daemonCpu = cpuMs(daemon.pid) - cpu0.d;
      const simCpu = cpuMs(sim.pid) - cpu0.s;
      const rss = rssKiB(daemon.pid);
      const after = await sshPoolStats(c);
      const idleAfter = after.reduce((a, p) => a + p.idle, 0);
      const closedAfter = after.reduce((a, p) => a + Number(p.closed_total), 0);
      if (idleAfter < sessions) throw new Error(`sessions were lost during the idle window: ${idleAfter} of ${sessions} idle`);
      const perSession = (rss - baseRss) / sessions;
      const stage: Stage = {
        devices: devicesNow, sessions, openSeconds, rssKiB: rss, rssPerSessionKiB: perSession,
        sessionsPerGiB: Math.floor((1024 * 1024) / perSession), wholeProcessSessionsPerGiB: Math.floor((sessions * 1024 * 1024) / rss),
        windowSeconds: wallMs / 1000, daemonCpuMs: daemonCpu, daemonIdleCpuPercent: (daemonCpu * 100) / wallMs, simCpuPercent: (simCpu * 100) / wallMs,
        sessionsClosedDuringWindow: closedAfter - closedBefore,
      };
      stages.push(stage);
      process.stdout.write(`${sessions} sessions: RSS ${(rss / 1024).toFixed(0)} MiB, ${perSession.toFixed(1)} KiB/session, idle CPU ${stage.daemonIdleCpuPercent.toFixed(2)} % of a core\n`);
    }

    const last = stages.at(-1)!;
    const first = stages[0]!;
    // Derived, not measured on its own: the CPU each keepalive round trip costs, from how idle CPU
    // grows between the two stages, so operators can size a gateway for other intervals.
    const perSessionEvents = (defaults.ssh.keepaliveIntervalMs > 0 ? 1000 / defaults.ssh.keepaliveIntervalMs : 0)
      + (defaults.ssh.appKeepaliveMs > 0 ? 1000 / defaults.ssh.appKeepaliveMs : 0);
    const eventsPerS = (last.sessions - first.sessions) * perSessionEvents;
    const usPerKeepalive = eventsPerS > 0 ? ((last.daemonIdleCpuPercent - first.daemonIdleCpuPercent) * 10_000) / eventsPerS : NaN;
    const memOk = last.sessionsPerGiB >= 10_000;
    const cpuOk = last.daemonIdleCpuPercent <= 3;
    const md = [
      `### Scale: idle pooled SSH shell sessions in one daemon (${new Date().toISOString().slice(0, 10)}, node ${process.version})`,
      '',
      `\`warmpool serve\` in a child process, measured alone via /proc; simulated Cisco IOS devices (${PER_DEVICE} sessions each, pool min = max = ${PER_DEVICE}) in one other process.`,
      `Defaults in force: SSH keepalive every ${defaults.ssh.keepaliveIntervalMs / 1000} s (ssh.keepaliveIntervalMs), application keepalive every ${defaults.ssh.appKeepaliveMs / 1000} s on idle shells`,
      `(ssh.appKeepaliveMs), health check after ${defaults.ssh.healthCheckAfterMs / 1000} s idle. limits.maxConcurrentConnects = ${MAX_CONNECTS} (only speeds up the opening). Audit log off, log level warn.`,
      `Idle CPU window: ${WINDOW_S} s${WINDOW_S * 1000 === defaults.ssh.appKeepaliveMs ? ' (one application-keepalive period)' : ''}, starting ${SETTLE_S} s after the last session opened; no RPC during the window.`,
      `Daemon RSS with no devices: ${(baseRss / 1024).toFixed(1)} MiB (subtracted for the per-session figure). Machine: 2 cores, shared with the simulator.`,
      '',
      '| sessions | devices | opened in | daemon RSS | RSS per session | sessions per GiB (per-session RSS) | sessions per GiB (whole process) | daemon idle CPU (% of one core) | simulator CPU | sessions closed in window |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...stages.map((s) =>
        `| ${s.sessions} | ${s.devices} | ${s.openSeconds.toFixed(1)} s | ${(s.rssKiB / 1024).toFixed(0)} MiB | ${s.rssPerSessionKiB.toFixed(1)} KiB | ${s.sessionsPerGiB} | ${s.wholeProcessSessionsPerGiB} | ${s.daemonIdleCpuPercent.toFixed(2)} % | ${s.simCpuPercent.toFixed(2)} % | ${s.sessionsClosedDuringWindow} |`),
      '',
      `Targets at ${last.sessions} sessions: ≥ 10 000 sessions per GiB — ${memOk ? 'met' : 'missed'} (${last.sessionsPerGiB} per GiB from per-session RSS, ${last.wholeProcessSessionsPerGiB} counting the whole process);`,
      `idle CPU ≤ 3 % of a core — ${cpuOk ? 'met' : 'missed'} (${last.daemonIdleCpuPercent.toFixed(2)} %).`,
      '',
      `Idle CPU grows by ${(last.daemonIdleCpuPercent - first.daemonIdleCpuPercent).toFixed(2)} % of a core for ${last.sessions - first.sessions} more sessions, which at these intervals send`,
      `${eventsPerS.toFixed(0)} keepalives/s: about ${usPerKeepalive.toFixed(0)} µs of daemon CPU per keepalive round trip. Idle CPU ≈ sessions × (1/ssh.keepaliveIntervalMs + 1/ssh.appKeepaliveMs) × that cost.`,
    ].join('\n');
    process.stdout.write(`${md}\n`);
    writeResult('scale', md, {
      date: new Date().toISOString(), node: process.version, perDevice: PER_DEVICE, windowSeconds: WINDOW_S, settleSeconds: SETTLE_S,
      keepaliveIntervalMs: defaults.ssh.keepaliveIntervalMs, appKeepaliveMs: defaults.ssh.appKeepaliveMs, healthCheckAfterMs: defaults.ssh.healthCheckAfterMs,
      baseRssKiB: baseRss, stages, usPerKeepalive, targets: { sessionsPerGiB: memOk, idleCpu: cpuOk },
    });
  } finally {
    clients?.close();
    await daemon.stop();
    await sim.stop();
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
