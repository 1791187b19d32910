/**
 * NETCONF get-config: warm through warmpool (DeviceProxy/Netconf over gRPC, one pooled NETCONF
 * session) vs a new ncclient session per call (Debian's python3-ncclient: TCP + SSH handshake +
 * login + hello + get-config + close-session each time), against the same simulated device on
 * loopback. Also, for reference, ncclient keeping one session open (what a client-side warm
 * session costs without a daemon in between).
 *
 *   node --import=@tapjs/typescript/import bench/netconf.ts [N_WARM] [N_COLD]   (or dist/bench/netconf.js)
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startSimDevice } from '../src/sim/ssh-device.js';
import { startTestDaemon, simSpec, m } from '../test/kit/daemon.js';
import type { NetconfResponse__Output } from '../src/gen/warmpool/v1/NetconfResponse.js';
import { summarize, table, writeResult } from './lib/stats.js';

const N_WARM = Math.min(2000, Number(process.argv[2] ?? 300));
const N_COLD = Math.min(100, Number(process.argv[3] ?? 30));
const GET_CONFIG = '<get-config><source><running/></source></get-config>';
const run = promisify(execFile);

/** Runs in python3: `cold` new sessions (one get-config each), then `warm` get-configs on one session; times in ms. */
const NCCLIENT = String.raw`
import json, sys, time
from ncclient import manager
host, port, user, pw, cold, warm = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
kw = dict(host=host, port=port, username=user, password=pw, hostkey_verify=False, look_for_keys=False, allow_agent=False, timeout=30)
cold_ms, warm_ms = [], []
for _ in range(cold):
    t0 = time.perf_counter()
    with manager.connect(**kw) as m:
        m.get_config(source="running")
    cold_ms.append((time.perf_counter() - t0) * 1000)
with manager.connect(**kw) as m:
    for _ in range(warm):
        t0 = time.perf_counter()
        m.get_config(source="running")
        warm_ms.append((time.perf_counter() - t0) * 1000)
print(json.dumps({"cold": cold_ms, "warm": warm_ms}))
`;

async function main(): Promise<void> {
  const sim = await startSimDevice({ platform: 'juniper_junos', hostname: 'bench-mx' });
  const td = await startTestDaemon({ devices: [simSpec(sim, 'bench-mx', { mode: 'netconf', pool: { min: 1, max: 1 } })] });
  try {
    const nc = m(td.proxy, 'Netconf');
    let replyBytes = 0;
    for (let i = 0; i < 20; i++) replyBytes = (await td.call<object, NetconfResponse__Output>(nc, { device: 'bench-mx', rpc: GET_CONFIG })).reply.length; // warm-up
    const connsBefore = sim.stats.totalConnections;
    const warm: number[] = [];
    for (let i = 0; i < N_WARM; i++) {
      const t0 = performance.now();
      const r = await td.call<object, NetconfResponse__Output>(nc, { device: 'bench-mx', rpc: GET_CONFIG });
      warm.push(performance.now() - t0);
      if (r.failed) throw new Error(`get-config failed: ${r.error}`);
    }
    const warmConns = sim.stats.totalConnections - connsBefore;
    const { stdout } = await run('/usr/bin/python3', ['-c', NCCLIENT, sim.host, String(sim.port), sim.username, sim.password, String(N_COLD), String(N_WARM)], { timeout: 600_000, maxBuffer: 16 << 20 });
    const py = JSON.parse(stdout.trim().split('\n').at(-1) as string) as { cold: number[]; warm: number[] };
    const rows = [
      summarize('warmpool Netconf (gRPC, pooled session)', warm),
      summarize('ncclient, new session per call', py.cold),
      summarize('ncclient, one session kept open', py.warm),
    ];
    const ratio = rows[1]!.p50 / rows[0]!.p50;
    const md = [
      `### NETCONF get-config: warm through warmpool vs a new ncclient session per call (${new Date().toISOString().slice(0, 10)}, node ${process.version})`,
      '',
      `get-config of the running datastore (${replyBytes} characters of reply) from the simulated Junos device on loopback, sequential;`,
      `warmpool: ${N_WARM} calls through DeviceProxy/Netconf (gRPC client in the same process as the daemon), one pooled NETCONF session;`,
      `ncclient (python3-ncclient, Debian): ${N_COLD} calls each opening a new session (TCP, SSH, login, hello, get-config, close-session),`,
      `then ${N_WARM} calls on one session it keeps open.`,
      '',
      table(rows, rows[0]!.name),
      '',
      `A new ncclient session per call takes ${ratio.toFixed(1)}× the median time of a warm call through warmpool.`,
      `New connections the device saw during the warm run: ${warmConns}.`,
    ].join('\n');
    process.stdout.write(`${md}\n`);
    writeResult('netconf', md, { date: new Date().toISOString(), node: process.version, nWarm: N_WARM, nCold: N_COLD, replyBytes, rows, warmConns, ratioP50: ratio });
  } finally {
    await td.stop();
    await sim.close();
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
