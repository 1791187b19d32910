/**
 * CPU profile of `warmpool serve` holding idle pooled SSH shell sessions (the bench/scale.ts case),
 * for finding where idle CPU goes (keepalives, upkeep sweeps, timers):
 *   node dist/bench/profile-idle.js [SESSIONS_PER_DEVICE=1000] [DEVICES=10] [WINDOW_SECONDS=60] [profileDir]
 * The daemon runs with --cpu-prof; the profile covers its whole life, so only the samples taken in
 * the idle window (timestamps on the same monotonic clock as process.hrtime) are summed: self time
 * per function and the share of the window's samples, printed top first. The .cpuprofile stays in
 * profileDir for Chrome DevTools. The profiler's own sampling adds CPU: use bench/scale.ts for figures.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { putScaleDevice, startDaemonProcess, waitForIdleSessions } from './lib/daemon-process.js';
import { cpuMs } from './lib/proc-stats.js';
import { startSimFleetProcess } from './lib/sim-process.js';

const PER_DEVICE = Number(process.argv[2] ?? 1000);
const DEVICES = Number(process.argv[3] ?? 10);
const WINDOW_S = Number(process.argv[4] ?? 60);
const DIR = process.argv[5] ?? `/tmp/warmpool-idle-profile-${process.pid}`;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const monoUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** Self and inclusive sample counts per function within [fromUs, toUs]. */
function summarise(p: CpuProfile, fromUs: number, toUs: number): void {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (n: ProfileNode): string => {
    const f = n.callFrame;
    const file = f.url.replace(/^.*\/(node_modules\/|dist\/)/, '$1');
    return `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`;
  };
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  let t = p.startTime;
  let total = 0;
  let idle = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (t < fromUs || t > toUs) continue;
    const leaf = byId.get(p.samples[i] as number);
    if (!leaf) continue;
    total++;
    if (leaf.callFrame.functionName === '(idle)') {
      idle++;
      continue;
    }
    self.set(name(leaf), (self.get(name(leaf)) ?? 0) + 1);
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const k = name(byId.get(id) as ProfileNode);
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + 1);
    }
  }
  const busy = total - idle;
  process.stdout.write(`window samples: ${total}, busy (not idle): ${busy}\n`);
  const top = (m: Map<string, number>, label: string) => {
    process.stdout.write(`\n${label} (share of busy samples)\n`);
    for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, 45)) {
      process.stdout.write(`${((v * 100) / busy).toFixed(1).padStart(5)} %  ${k}\n`);
    }
  };
  top(self, 'self');
  top(incl, 'inclusive');
}

async function main(): Promise<void> {
  const sim = await startSimFleetProcess(DEVICES);
  const daemon = await startDaemonProcess({
    devices: [], config: { limits: { maxConcurrentConnects: 64 } },
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${DIR}`],
  });
  const c = daemon.clients();
  let window: [number, number] = [0, 0];
  try {
    for (let i = 0; i < DEVICES; i++) {
      const d = sim.devices[i]!;
      await putScaleDevice(c, i, d, PER_DEVICE);
    }
    const sessions = PER_DEVICE * DEVICES;
    await waitForIdleSessions(c, sessions, 300_000, () => {});
    await sleep(5000);
    const cpu0 = cpuMs(daemon.pid);
    const t0 = monoUs();
    await sleep(WINDOW_S * 1000);
    window = [t0, monoUs()];
    const cpu = cpuMs(daemon.pid) - cpu0;
    process.stdout.write(`${sessions} idle sessions, ${WINDOW_S} s window: daemon CPU ${((cpu * 100) / (WINDOW_S * 1000)).toFixed(2)} % of a core (profiler on)\n`);
  } finally {
    c.close();
    // --cpu-prof writes on a clean exit only: give the graceful shutdown of every session time
    // (stop() would SIGKILL after 3 s).
    const exited = new Promise<void>((r) => daemon.proc.once('exit', () => r()));
    daemon.proc.kill('SIGTERM');
    await Promise.race([exited, sleep(60_000)]);
    await daemon.stop();
    await sim.stop();
  }
  const file = readdirSync(DIR).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(DIR, f)).at(-1);
  if (!file) throw new Error(`no .cpuprofile in ${DIR} (the daemon must exit cleanly to write it)`);
  process.stdout.write(`profile: ${file}\n`);
  summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, window[0], window[1]);
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
