/**
 * Devices behind a bastion (a real OpenSSH sshd as jump host, simulated Linux devices on
 * loopback): time to the first command's output
 *   direct cold    — TCP + device login + command (no bastion), for reference
 *   bastion cold   — bastion login + channel + device login + command (nothing held)
 *   bastion warm   — the bastion connection held: channel + device login + command
 *   fully warm     — a pooled device session through the bastion: the command only
 *   (all with the default `interactive: true`; one row with `interactive: false`, where OpenSSH's
 *   Nagle delay shows, and one direct for reference)
 * and how many device sessions one bastion connection carries (200 sessions, one login).
 * Bounded: fixed counts, loopback only. Results: bench/results/bastion.json (+ .md).
 *
 *   npm run build && node dist/bench/bastion.js [N]
 */
import { rawExec } from '../test/kit/raw-exec.js';
import { BastionRegistry } from '../src/app/bastions.js';
import { systemClock, systemRandom } from '../src/core/clock.js';
import { silentLogger } from '../src/core/logger.js';
import type { BastionSpec, DeviceSpec } from '../src/config/types.js';
import { startSimDevice } from '../src/sim/ssh-device.js';
import { connectSsh, type SshConnection } from '../src/transport/ssh-connect.js';
import { bastionSpec, loginsOf, startBastionSshd } from '../test/kit/bastion.js';
import { simDeviceSpec } from '../test/kit/sim.js';
import { summarize, table, writeResult } from './lib/stats.js';

const N = Number(process.argv[2] ?? 30);
const BREAKER = { failureThreshold: 5, openMs: 1000, maxOpenMs: 5000 };

const exec = rawExec;

function registry(spec: BastionSpec): BastionRegistry {
  const r = new BastionRegistry({ breaker: BREAKER, clock: systemClock, random: systemRandom, logger: silentLogger });
  r.replace([spec]);
  return r;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const sshd = await startBastionSshd();
  const sim = await startSimDevice({ platform: 'linux', hostname: 'leaf' });
  const device: DeviceSpec = { ...simDeviceSpec(sim, { id: 'leaf' }), via: 'jump1' };
  const spec = bastionSpec(sshd, { maxChannelsPerConnection: 256, interactive: true });
  const once = async (conn: SshConnection) => {
    await exec(conn.client, 'hostname');
    conn.close();
  };
  const samples = { direct: [] as number[], cold: [] as number[], warm: [] as number[], hot: [] as number[], hotPty: [] as number[], directHot: [] as number[] };
  const held = registry(spec);
  const hot = await connectSsh(device, { connector: held.connector('jump1') });
  const heldPty = registry({ ...spec, interactive: false });
  const hotPty = await connectSsh(device, { connector: heldPty.connector('jump1') });
  const directHot = await connectSsh({ ...device, via: undefined });
  for (let i = 0; i < 3; i++) await Promise.all([exec(hot.client, 'hostname'), exec(hotPty.client, 'hostname'), exec(directHot.client, 'hostname')]); // warm-up
  for (let i = 0; i < N; i++) {
    samples.direct.push(await timed(async () => once(await connectSsh({ ...device, via: undefined }))));
    const fresh = registry(spec);
    samples.cold.push(await timed(async () => once(await connectSsh(device, { connector: fresh.connector('jump1') }))));
    fresh.closeAll();
    samples.warm.push(await timed(async () => once(await connectSsh(device, { connector: held.connector('jump1') }))));
    for (let j = 0; j < 5; j++) samples.hot.push(await timed(() => exec(hot.client, 'hostname')));
    for (let j = 0; j < 5; j++) samples.hotPty.push(await timed(() => exec(hotPty.client, 'hostname')));
    for (let j = 0; j < 5; j++) samples.directHot.push(await timed(() => exec(directHot.client, 'hostname')));
  }
  hot.close();
  hotPty.close();
  directHot.close();
  held.closeAll();
  heldPty.closeAll();

  // Sessions per bastion connection: 200 device sessions at once through one bastion login.
  const loginsBefore = loginsOf(sshd);
  const many = registry(spec);
  const fleet = await Promise.all(Array.from({ length: 10 }, (_, i) => startSimDevice({ platform: 'linux', hostname: `f${i}` })));
  const SESSIONS = 200;
  const t0 = performance.now();
  const conns = await Promise.all(Array.from({ length: SESSIONS }, (_, i) => connectSsh({ ...simDeviceSpec(fleet[i % 10]!, { id: `f${i}` }), via: 'jump1' }, { connector: many.connector('jump1') })));
  const openAllMs = performance.now() - t0;
  const outs = await Promise.all(conns.map((c) => exec(c.client, 'hostname')));
  const manyStats = many.stats()[0]!;
  const fanout = { sessions: SESSIONS, answered: outs.filter((o) => o.trim() !== '').length, bastionLogins: loginsOf(sshd) - loginsBefore, bastionConnections: manyStats.createdTotal, channels: manyStats.channels, openAllMs: Math.round(openAllMs) };
  conns.forEach((c) => c.close());
  many.closeAll();

  const rows = [
    summarize('direct cold (TCP + device login + command)', samples.direct),
    summarize('bastion cold (bastion login + channel + device login + command)', samples.cold),
    summarize('bastion warm (held bastion connection: channel + device login + command)', samples.warm),
    summarize('fully warm (pooled device session through the bastion: command only)', samples.hot),
    summarize('fully warm, bastion interactive: false (sshd keeps Nagle on)', samples.hotPty),
    summarize('fully warm, direct (no bastion): command only', samples.directHot),
  ];
  const md = [
    `# Bastion: time to first command (N=${N}, loopback, OpenSSH ${'sshd'} as jump host, simulated Linux device)`,
    '',
    table(rows, rows[3]!.name),
    '',
    `Sessions per bastion connection: ${fanout.sessions} device sessions opened at once through one bastion (maxChannelsPerConnection 256): ` +
      `${fanout.bastionLogins} bastion login(s), ${fanout.bastionConnections} connection(s), ${fanout.channels} channels open, ${fanout.answered} answered; all opened in ${fanout.openAllMs} ms.`,
    '',
  ].join('\n');
  process.stdout.write(`${md}\n`);
  writeResult('bastion', md, { n: N, rows, fanout });
  for (const f of fleet) await f.close();
  await sim.close();
  await sshd.stop();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench/bastion failed: ${String(err)}\n`);
    process.exit(1);
  },
);
