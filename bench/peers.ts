/**
 * warmpool against the tools people use today, on ONE simulated Cisco IOS device (src/sim, in its
 * own process), same user-level login, same command (`show version`, whole output checked on every
 * call by every side):
 *   warmpool  — gRPC `Run` to an in-process daemon holding the session (held), from this process and
 *               from Python through clients/python (timed like the Netmiko calls), and a connect +
 *               login + paging off + command + close per call through warmpool's own session
 *               factory (cold);
 *   Netmiko   — Debian's python3-netmiko, ConnectHandler(device_type="cisco_ios"): send_command on
 *               a held connection; connect + command + close per call (cold); each with Netmiko's
 *               defaults, its documented fast_cli, and a tuned setting (see netmiko_driver.py), plus
 *               send_command_timing for reference;
 *   Ansible   — Debian's ansible: ansible.netcommon.network_cli + cisco.ios.ios_command, one task
 *               per command over the persistent connection of one playbook run (held, defaults and
 *               ansible_buffer_read_timeout 0), reset_connection before each task (reconnect, same
 *               process), and one `ansible-playbook` process per command (cold).
 * warmpool and Netmiko calls are interleaved round by round so machine noise hits them alike; the
 * Ansible playbooks run after them (a playbook cannot be interleaved with outside calls).
 * Bounded: every count is a flag; the defaults finish in under 3 minutes on the 2-core machine.
 *
 *   node dist/bench/peers.js [--n=200] [--cold=10] [--ansible-rounds=6] [--ansible-reconnects=3]
 *                            [--ansible-cold=3] [--no-netmiko] [--no-ansible] [--netmiko-full-disconnect]
 * Needs python3-netmiko and ansible (scripts/install-bench-deps.sh); not part of `npm test`.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { RunResponse__Output } from '../src/gen/warmpool/v1/RunResponse.js';
import { startAnsible, type AnsibleTask } from './lib/peers-ansible.js';
import { PYTHON, startNetmiko, type NetmikoDriver, type NetmikoOp, type NetmikoVariant } from './lib/peers-netmiko.js';
import { cpuMs } from './lib/proc-stats.js';
import { startSimProcess } from './lib/sim-process.js';
import { summarize, writeResult, type Row } from './lib/stats.js';
import { startWarmDaemon, type WarmDaemon } from './lib/warm-daemon.js';

const { values: flags } = parseArgs({
  options: {
    n: { type: 'string', default: '200' },
    cold: { type: 'string', default: '10' },
    'ansible-rounds': { type: 'string', default: '6' },
    'ansible-reconnects': { type: 'string', default: '3' },
    'ansible-cold': { type: 'string', default: '3' },
    'no-netmiko': { type: 'boolean', default: false },
    'no-ansible': { type: 'boolean', default: false },
    'netmiko-full-disconnect': { type: 'boolean', default: false },
  },
});
function count(name: keyof typeof flags, min: number): number {
  const v = Number(flags[name]);
  if (!Number.isInteger(v) || v < min || v > 100_000) throw new Error(`--${name} must be an integer from ${min} to 100000, got "${String(flags[name])}"`);
  return v;
}
const N = count('n', 10);
const COLD = count('cold', 1);
const ANSIBLE_ROUNDS = count('ansible-rounds', 1);
const ANSIBLE_RECONNECTS = count('ansible-reconnects', 0);
const ANSIBLE_COLD = count('ansible-cold', 0);

const CMD = 'show version';
const MUST_HAVE = ['Cisco IOS XE Software', 'Configuration register is 0x2102'];
const USER = { username: 'admin', password: 'admin-pass' };

interface Case {
  key: string;
  label: string;
  tool: 'warmpool' | 'Netmiko' | 'Ansible';
  kind: 'held' | 'cold';
  /** Samples wanted (spread evenly over the N rounds). */
  want: number;
  /** One timed call: its wall time, and the CPU the caller's side spent on it when known (ms). */
  run: () => Promise<{ ms: number; cpuMs?: number }>;
  samples: number[];
  /** Caller-side CPU per call (warmpool: this process, client and daemon; Netmiko: its Python process). */
  cpu: number[];
  /** The simulator's CPU over this case's calls (from /proc, 10 ms ticks: meaningful as a mean only). */
  simCpuMs: number;
}

function checkOutput(side: string, out: string): void {
  for (const s of MUST_HAVE) if (!out.includes(s)) throw new Error(`${side}: incomplete output (${out.length} chars, missing "${s}")`);
}

function warmRun(w: WarmDaemon): Promise<void> {
  return new Promise((resolve, reject) => {
    w.client.Run({ device: 'r1', commands: [CMD] }, (e: Error | null, r?: RunResponse__Output) => {
      if (e) return reject(e);
      const x = r?.results?.[0];
      if (!x || x.failed) return reject(new Error(`warmpool Run failed: ${x?.error ?? 'no result'}`));
      try {
        checkOutput('warmpool Run', x.output ?? '');
        resolve();
      } catch (err) {
        reject(err);
      }
    });
  });
}

async function timed(fn: () => Promise<unknown>): Promise<{ ms: number; cpuMs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1000 };
}

function versions(): Record<string, string> {
  const py = (code: string) => execFileSync(PYTHON, ['-c', code], { encoding: 'utf8' }).trim();
  const v: Record<string, string> = { node: process.version };
  try {
    v.python = py('import platform; print(platform.python_version())');
    v.netmiko = py('import netmiko; print(netmiko.__version__)');
    v.paramiko = py('import paramiko; print(paramiko.__version__)');
  } catch {
    /* reported as missing below when Netmiko is wanted */
  }
  try {
    v.ansibleCore = py('import ansible.release; print(ansible.release.__version__)');
    const coll = (ns: string, name: string) => py(`import json; print(json.load(open('/usr/lib/python3/dist-packages/ansible_collections/${ns}/${name}/MANIFEST.json'))['collection_info']['version'])`);
    v.ansibleNetcommon = coll('ansible', 'netcommon');
    v.ciscoIos = coll('cisco', 'ios');
  } catch {
    /* idem */
  }
  return v;
}

async function main(): Promise<void> {
  const ver = versions();
  if (!flags['no-netmiko'] && !ver.netmiko) throw new Error(`Netmiko is not importable by ${PYTHON}: run scripts/install-bench-deps.sh (or pass --no-netmiko)`);
  if (!flags['no-ansible'] && !ver.ciscoIos) throw new Error('ansible-core with the cisco.ios collection is not installed: run scripts/install-bench-deps.sh (or pass --no-ansible)');
  const load0 = loadavg()[0]!;
  const started = performance.now();
  const sim = await startSimProcess('cisco_ios');
  const target = { host: '127.0.0.1', port: sim.port, ...USER };
  const simPid = sim.proc.pid as number;
  let w: WarmDaemon | undefined;
  let nm: NetmikoDriver | undefined;
  const cases: Case[] = [];
  const notes: string[] = [];
  const floorErrors: string[] = [];
  let floorConnectAttempts = 0;
  const ansibleColdTaskMs: number[] = [];
  try {
    w = await startWarmDaemon(sim.port, sim.fingerprint);
    const wd = w;
    const cold = async () => {
      const s = await wd.factory.open(new AbortController().signal);
      const [o] = await s.runBatch({ commands: [CMD], privileged: false, configure: false, stopOnError: false, timeoutMs: () => 10_000 });
      checkOutput('warmpool cold', o?.output ?? '');
      await s.close();
    };
    const add = (c: Omit<Case, 'samples' | 'cpu' | 'simCpuMs'>) => cases.push({ ...c, samples: [], cpu: [], simCpuMs: 0 });
    add({ key: 'warmpool-held', label: 'warmpool: `Run` over gRPC, pooled session', tool: 'warmpool', kind: 'held', want: N, run: () => timed(() => warmRun(wd)) });
    add({ key: 'warmpool-cold', label: 'warmpool: connect + login + paging off + command + close', tool: 'warmpool', kind: 'cold', want: COLD * 2, run: () => timed(cold) });

    if (!flags['no-netmiko']) {
      nm = await startNetmiko(target, { fullDisconnect: flags['netmiko-full-disconnect'], warmpoolAddress: wd.daemon.grpcAddress });
      const d = nm;
      const op = (o: NetmikoOp, v: NetmikoVariant) => () => d.op(o, v);
      add({ key: 'warmpool-held-python', label: 'warmpool: `Run` from Python (clients/python `Client.run`), pooled session', tool: 'warmpool', kind: 'held', want: Math.ceil(N / 2), run: () => d.op('warmpool') });
      add({ key: 'netmiko-held-tuned', label: 'Netmiko: held, `send_command`, tuned (fast_cli=True, expect_string)', tool: 'Netmiko', kind: 'held', want: Math.ceil(N / 2), run: op('held', 'tuned') });
      add({
        key: 'netmiko-held-floor', label: 'Netmiko: held, tuned + global_delay_factor 0.01 (loopback floor, not robust)', tool: 'Netmiko', kind: 'held', want: Math.ceil(N / 2),
        run: async () => {
          try {
            return await d.op('held', 'floor');
          } catch (err) {
            // At this setting Netmiko gives up on slow answers: counted, not fatal (see netmiko_driver.py).
            floorErrors.push(String((err as Error).message));
            return { ms: NaN };
          }
        },
      });
      add({ key: 'netmiko-held-fast', label: 'Netmiko: held, `send_command`, fast_cli=True', tool: 'Netmiko', kind: 'held', want: Math.max(10, Math.ceil(N / 5)), run: op('held', 'fast_cli') });
      add({ key: 'netmiko-held-default', label: 'Netmiko: held, `send_command`, defaults', tool: 'Netmiko', kind: 'held', want: Math.max(5, Math.ceil(N / 20)), run: op('held', 'defaults') });
      add({ key: 'netmiko-held-timing', label: 'Netmiko: held, `send_command_timing`, fast_cli=True', tool: 'Netmiko', kind: 'held', want: Math.max(5, Math.ceil(N / 25)), run: op('timing', 'fast_cli') });
      add({ key: 'netmiko-cold-tuned', label: 'Netmiko: connect + command + close, tuned', tool: 'Netmiko', kind: 'cold', want: COLD, run: op('cold', 'tuned') });
      add({ key: 'netmiko-cold-fast', label: 'Netmiko: connect + command + close, fast_cli=True', tool: 'Netmiko', kind: 'cold', want: COLD, run: op('cold', 'fast_cli') });
      add({ key: 'netmiko-cold-default', label: 'Netmiko: connect + command + close, defaults', tool: 'Netmiko', kind: 'cold', want: Math.max(2, Math.ceil(COLD / 4)), run: op('cold', 'defaults') });
    }

    // Warm-up (not timed): daemon pool and gRPC channel, one held Netmiko connection per variant.
    for (let i = 0; i < 20; i++) await warmRun(wd);
    await cold();
    if (nm) {
      for (const v of ['defaults', 'fast_cli', 'tuned', 'floor'] as const) {
        const o = await nm.op('open', v);
        if (v === 'floor') floorConnectAttempts = o.attempts;
        for (let i = 0; i < 3; i++) await nm.op('held', v).catch((err: unknown) => (v === 'floor' ? undefined : Promise.reject(err)));
      }
      await nm.op('cold', 'tuned');
      for (let i = 0; i < 20; i++) await nm.op('warmpool');
    }

    // Interleaved rounds: case c runs in round r when its share floor(r * want / N) steps up.
    const t0 = performance.now();
    for (let r = 0; r < N; r++) {
      const order = r % 2 === 0 ? cases : [...cases].reverse();
      for (const c of order) {
        if (Math.floor(((r + 1) * c.want) / N) <= Math.floor((r * c.want) / N)) continue;
        const s0 = cpuMs(simPid);
        const x = await c.run();
        c.simCpuMs += cpuMs(simPid) - s0;
        if (Number.isNaN(x.ms)) continue;
        c.samples.push(x.ms);
        if (x.cpuMs !== undefined) c.cpu.push(x.cpuMs);
      }
    }
    const interleavedS = (performance.now() - t0) / 1000;
    process.stdout.write(`warmpool + Netmiko rounds: ${interleavedS.toFixed(1)} s\n`);
    if (nm) await nm.op('close');

    if (!flags['no-ansible']) {
      const a = startAnsible(target);
      try {
        const t1 = performance.now();
        const held = await a.held(ANSIBLE_ROUNDS, ANSIBLE_RECONNECTS);
        const pick = (prefix: string) => held.tasks.filter((t: AnsibleTask) => t.name.startsWith(prefix)).map((t) => t.ms);
        const coldWall: number[] = [];
        for (let i = 0; i < ANSIBLE_COLD; i++) {
          const r = await a.cold();
          coldWall.push(r.wallMs);
          ansibleColdTaskMs.push(...r.tasks.map((t) => t.ms));
        }
        process.stdout.write(`Ansible: ${((performance.now() - t1) / 1000).toFixed(1)} s\n`);
        const addDone = (key: string, label: string, kind: Case['kind'], samples: number[]) =>
          cases.push({ key, label, tool: 'Ansible', kind, want: samples.length, run: async () => ({ ms: NaN }), samples, cpu: [], simCpuMs: NaN });
        addDone('ansible-held-default', 'Ansible: held (persistent connection), one `ios_command` task per command, defaults', 'held', pick('held-default'));
        addDone('ansible-held-tuned', 'Ansible: held, one task per command, `ansible_buffer_read_timeout: 0`', 'held', pick('held-tuned'));
        if (ANSIBLE_RECONNECTS > 0) addDone('ansible-reconnect', 'Ansible: `meta: reset_connection` + task (new SSH login, same process)', 'cold', pick('reconnect'));
        if (ANSIBLE_COLD > 0) addDone('ansible-cold', 'Ansible: `ansible-playbook` process per command (cold)', 'cold', coldWall);
      } finally {
        a.close();
      }
    }
  } finally {
    await nm?.stop().catch(() => {});
    await w?.close().catch(() => {});
    sim.stop();
  }

  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  const rows = cases.map((c) => ({
    key: c.key, tool: c.tool, kind: c.kind, ...summarize(c.label, c.samples),
    callerCpuMsMean: mean(c.cpu), deviceCpuMsMean: c.samples.length ? c.simCpuMs / c.samples.length : NaN,
  }));
  const by = (k: string) => rows.find((r) => r.key === k);
  const base = by('warmpool-held')!;
  const ratio = (r: Row | undefined, to: Row = base) => (r ? r.p50 / to.p50 : NaN);
  const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  const load1 = loadavg()[0]!;
  const totalS = (performance.now() - started) / 1000;
  const headline: string[] = [];
  const say = (what: string, r: Row | undefined, to: Row | undefined = base) => {
    if (r && to) headline.push(`${what}: ${fmt(ratio(r, to))}×`);
  };
  say('Netmiko held (tuned) / warmpool held', by('netmiko-held-tuned'));
  say('Netmiko held (tuned) / warmpool held from Python', by('netmiko-held-tuned'), by('warmpool-held-python'));
  say('Netmiko held (defaults) / warmpool held from Python', by('netmiko-held-default'), by('warmpool-held-python'));
  say('Netmiko held (fast_cli) / warmpool held', by('netmiko-held-fast'));
  say('Netmiko held (defaults) / warmpool held', by('netmiko-held-default'));
  say('Ansible held (buffer_read_timeout 0) / warmpool held', by('ansible-held-tuned'));
  say('Ansible held (defaults) / warmpool held', by('ansible-held-default'));
  const wpCold = by('warmpool-cold')!;
  say('Netmiko cold (tuned) / warmpool cold', by('netmiko-cold-tuned'), wpCold);
  say('Ansible cold (process per command) / warmpool cold', by('ansible-cold'), wpCold);

  const cpuCell = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '—');
  const table = [
    '| case | n | p50 ms | p99 ms | p50 / warmpool held | p50 / warmpool cold | caller CPU ms/call | device CPU ms/call |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.name} | ${r.n} | ${r.p50.toFixed(r.p50 >= 100 ? 0 : 2)} | ${r.p99.toFixed(r.p99 >= 100 ? 0 : 2)} | ${fmt(ratio(r))}× | ${fmt(ratio(r, wpCold))}× | ${cpuCell(r.callerCpuMsMean)} | ${cpuCell(r.deviceCpuMsMean)} |`),
  ].join('\n');
  if (!flags['no-netmiko']) {
    notes.push(`Netmiko "floor" (global_delay_factor 0.01): ${floorErrors.length} of ${Math.ceil(N / 2)} calls failed${floorErrors[0] ? ` (first: ${floorErrors[0].slice(0, 160)})` : ''}; its held connection took ${floorConnectAttempts} attempt(s) to open. Shown as Netmiko's polling floor, not as a usable setting.`);
  }
  if (!flags['netmiko-full-disconnect'] && !flags['no-netmiko']) {
    notes.push('Netmiko cold calls close with "exit" + paramiko_cleanup() (what disconnect() does, minus its config-mode check, which in Netmiko 2.4.2 waits ~8 s for a "#" prompt that a user-level ">" session never shows); --netmiko-full-disconnect measures disconnect() itself.');
  }
  const md = [
    `### warmpool vs Netmiko vs Ansible network_cli, one simulated Cisco IOS device (${new Date().toISOString().slice(0, 10)}, node ${process.version})`,
    '',
    `Same device (\`warmpool sim --platform cisco_ios\` in its own process, loopback), same user-level login (admin, password), same command \`${CMD}\`,`,
    'whole output checked on every call on every side. warmpool: in-process daemon, pool min = max = 1, called over gRPC (held); its session factory',
    'without the pool (cold). Netmiko ' + (ver.netmiko ?? '—') + ` (paramiko ${ver.paramiko ?? '—'}, Python ${ver.python ?? '—'}): one Python process, times taken around the Netmiko call.`,
    `Ansible: ansible-core ${ver.ansibleCore ?? '—'}, ansible.netcommon ${ver.ansibleNetcommon ?? '—'}, cisco.ios ${ver.ciscoIos ?? '—'} (Debian's \`ansible\`), network_cli over paramiko`,
    '(ansible-pylibssh is not packaged by Debian); per-task times from a callback plugin, cold = whole `ansible-playbook` process.',
    `warmpool and Netmiko calls interleaved over ${N} rounds; Ansible after them. p99 of a small n is its maximum.`,
    'CPU columns are means: caller = the benchmark process for warmpool (gRPC client and daemon together), the Python process for Netmiko;',
    'device = the simulator process (/proc, 10 ms ticks). Not measured for Ansible (—): its work is spread over short-lived processes.',
    `Machine: 2 cores shared with other work (1-min load average ${load0.toFixed(1)} at start, ${load1.toFixed(1)} at end); whole run ${totalS.toFixed(0)} s.`,
    '',
    table,
    '',
    ...(headline.length ? [`Ratios at p50: ${headline.join('; ')}.`] : []),
    ...(ansibleColdTaskMs.length ? [`Ansible cold: the task itself (connect, log in, terminal set-up, command) took ${summarize('', ansibleColdTaskMs).p50.toFixed(0)} ms at p50 of each process's run; the rest is Python and Ansible starting.`] : []),
    ...notes,
  ].join('\n');
  process.stdout.write(`${md}\n`);
  writeResult('peers', md, {
    date: new Date().toISOString(), versions: ver, command: CMD, n: N, cold: COLD,
    ansible: { rounds: ANSIBLE_ROUNDS, reconnects: ANSIBLE_RECONNECTS, cold: ANSIBLE_COLD, coldTaskMs: ansibleColdTaskMs },
    loadAverage: { start: load0, end: load1 }, totalSeconds: totalS,
    rows: rows.map((r) => ({ ...r, ratioToWarmpoolHeld: ratio(r), ratioToWarmpoolCold: ratio(r, wpCold) })),
    notes,
  });
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
