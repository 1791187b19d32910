/**
 * Idle CPU of two daemon builds side by side, in the same windows: this build ("new") and another
 * build's dist ("old", e.g. the commit before a change), each holding the same number of idle
 * pooled SSH shell sessions to its own simulator fleet, as bench/scale.ts does for one. WHY side by
 * side: on a shared machine the load of other processes moves idle CPU by ±50 % between runs
 * minutes apart (0.8 % and 1.5 % at 1 000 sessions for the same build); in the same windows both
 * builds see the same load, so their ratio holds even when the absolute figures wander.
 *   node dist/bench/idle-ab.js OLD_DIST_MAIN [WINDOW_SECONDS=60] [WINDOWS=2] [SESSIONS_PER_DEVICE=1000] [DEVICES=10] [SETTLE_SECONDS=5] [STAGES=1,DEVICES]
 * OLD_DIST_MAIN is the old build's dist/src/main.js. Stages: device counts per side (default 1, then DEVICES).
 */
import { putScaleDevice, startDaemonProcess, waitForIdleSessions, type DaemonClients, type DaemonProcess } from './lib/daemon-process.js';
import { cpuMs } from './lib/proc-stats.js';
import { startSimFleetProcess, type SimFleetProcess } from './lib/sim-process.js';
import { writeResult } from './lib/stats.js';
import { loadConfig } from '../src/config/load.js';

const OLD_MAIN = process.argv[2];
const WINDOW_S = Number(process.argv[3] ?? 60);
const WINDOWS = Number(process.argv[4] ?? 2);
const PER_DEVICE = Number(process.argv[5] ?? 1000);
const DEVICES = Number(process.argv[6] ?? 10);
const SETTLE_S = Number(process.argv[7] ?? 5);
const STAGES = process.argv[8] ? process.argv[8].split(',').map(Number) : [...new Set([1, DEVICES])];
const defaults = loadConfig({ argv: [], env: process.env }).defaults;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

interface Side {
  name: 'new' | 'old';
  sim: SimFleetProcess;
  daemon: DaemonProcess;
  clients: DaemonClients;
  added: number;
}

async function addDevices(side: Side, upTo: number): Promise<void> {
  for (; side.added < upTo; side.added++) {
    const d = side.sim.devices[side.added]!;
    await putScaleDevice(side.clients, side.added, d, PER_DEVICE);
  }
  await waitForIdleSessions(side.clients, upTo * PER_DEVICE, 600_000);
}

async function main(): Promise<void> {
  if (!OLD_MAIN) throw new Error('usage: idle-ab.js OLD_DIST_MAIN [WINDOW_SECONDS] [WINDOWS] [SESSIONS_PER_DEVICE] [DEVICES]');
  const sides: Side[] = [];
  try {
    for (const name of ['new', 'old'] as const) {
      const sim = await startSimFleetProcess(DEVICES);
      const daemon = await startDaemonProcess({ devices: [], config: { limits: { maxConcurrentConnects: 64 } }, ...(name === 'old' ? { main: OLD_MAIN } : {}) });
      sides.push({ name, sim, daemon, clients: daemon.clients(), added: 0 });
    }
    const stages: { sessions: number; windows: { new: number; old: number }[]; medianNew: number; medianOld: number }[] = [];
    for (const devices of STAGES) {
      // One side at a time, so neither opens its sessions during the other's window.
      for (const side of sides) await addDevices(side, devices);
      await sleep(SETTLE_S * 1000);
      const windows: { new: number; old: number }[] = [];
      for (let w = 0; w < WINDOWS; w++) {
        const c0 = sides.map((s) => cpuMs(s.daemon.pid));
        const t0 = performance.now();
        await sleep(WINDOW_S * 1000);
        const wall = performance.now() - t0;
        const pct = sides.map((s, i) => ((cpuMs(s.daemon.pid) - (c0[i] as number)) * 100) / wall);
        windows.push({ new: pct[0] as number, old: pct[1] as number });
        process.stdout.write(`${devices * PER_DEVICE} sessions, window ${w + 1}: new ${pct[0]!.toFixed(2)} %, old ${pct[1]!.toFixed(2)} % of a core\n`);
      }
      stages.push({ sessions: devices * PER_DEVICE, windows, medianNew: median(windows.map((x) => x.new)), medianOld: median(windows.map((x) => x.old)) });
    }
    const md = [
      `### Idle CPU, two builds side by side (${new Date().toISOString().slice(0, 10)}, node ${process.version})`,
      '',
      `Each build: \`warmpool serve\` in its own process holding idle pooled SSH shell sessions to its own simulated Cisco IOS fleet (${PER_DEVICE} per device),`,
      `defaults in force (SSH keepalive every ${defaults.ssh.keepaliveIntervalMs / 1000} s, application keepalive every ${defaults.ssh.appKeepaliveMs / 1000} s). CPU of both daemons over the same ${WINDOW_S} s windows (${WINDOWS} per stage, the first ${SETTLE_S} s after both sides' sessions are idle), /proc utime+stime.`,
      `old = ${OLD_MAIN}`,
      '',
      '| sessions | new: idle CPU (median) | old: idle CPU (median) | new / old | windows (new / old) |',
      '|---:|---:|---:|---:|---|',
      ...stages.map((s) => `| ${s.sessions} | ${s.medianNew.toFixed(2)} % | ${s.medianOld.toFixed(2)} % | ${(s.medianNew / s.medianOld).toFixed(2)} | ${s.windows.map((w) => `${w.new.toFixed(2)} / ${w.old.toFixed(2)}`).join(', ')} |`),
    ].join('\n');
    process.stdout.write(`${md}\n`);
    writeResult('idle-ab', md, { date: new Date().toISOString(), node: process.version, old: OLD_MAIN, windowSeconds: WINDOW_S, windowsPerStage: WINDOWS, settleSeconds: SETTLE_S, perDevice: PER_DEVICE, stages });
  } finally {
    for (const s of sides) {
      s.clients.close();
      await s.daemon.stop();
      await s.sim.stop();
    }
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
