/**
 * Devices behind a bastion, at the transport layer: a real OpenSSH sshd is the jump host, the
 * devices are simulated (src/sim) on loopback behind it, and each device session is a
 * direct-tcpip channel over the bastion's pooled connection (src/transport/bastion-pool.ts).
 */
import { rawExec } from './kit/raw-exec.js';
import t, { type Test } from 'tap';
import { BastionRegistry } from '../src/app/bastions.js';
import { systemClock, systemRandom } from '../src/core/clock.js';
import { WarmpoolError } from '../src/core/errors.js';
import { silentLogger } from '../src/core/logger.js';
import type { DeviceSpec } from '../src/config/types.js';
import { connectSsh, type SshConnection } from '../src/transport/ssh-connect.js';
import { bastionSpec, loginsOf, startBastionSshd } from './kit/bastion.js';
import { startFaultProxy } from './kit/fault-proxy.js';
import { simDeviceSpec, startSim } from './kit/sim.js';
import type { Sshd } from './kit/sshd.js';

const BREAKER = { failureThreshold: 3, openMs: 2000, maxOpenMs: 4000 };

function registry(t: Test): BastionRegistry {
  const r = new BastionRegistry({ breaker: BREAKER, clock: systemClock, random: systemRandom, logger: silentLogger });
  t.teardown(() => r.closeAll());
  return r;
}

async function withSshd(t: Test, extra: string[] = []): Promise<Sshd> {
  const sshd = await startBastionSshd(extra);
  t.teardown(() => sshd.stop());
  return sshd;
}

const exec = rawExec;

async function rejection(p: Promise<unknown>): Promise<WarmpoolError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof WarmpoolError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

function connectVia(r: BastionRegistry, device: DeviceSpec, via: string): Promise<SshConnection> {
  return connectSsh({ ...device, via }, { connector: r.connector(via) });
}

t.test('24 devices behind one bastion cost one login on the bastion, and each device host key is still checked', async (t) => {
  const sshd = await withSshd(t);
  // The fault proxy in front of the bastion counts TCP connections to it.
  const front = await startFaultProxy({ host: sshd.host, port: sshd.port });
  t.teardown(() => front.close());
  const r = registry(t);
  r.replace([bastionSpec(sshd, { port: front.port })]);

  const sims = await Promise.all(Array.from({ length: 24 }, (_, i) => startSim(t, { platform: 'linux', hostname: `leaf${i}` })));
  const conns = await Promise.all(sims.map((sim, i) => connectVia(r, simDeviceSpec(sim, { id: `leaf${i}` }), 'jump1')));
  t.teardown(() => conns.forEach((c) => c.close()));
  const outs = await Promise.all(conns.map((c) => exec(c.client, 'hostname')));
  outs.forEach((o, i) => t.match(o, new RegExp(`leaf${i}\\b`), `leaf${i} answered through the bastion`));
  conns.forEach((c, i) => t.equal(c.hostKeyFingerprint, sims[i]!.hostKeyFingerprint, `leaf${i}'s own host key was verified`));

  t.equal(front.totalConnections(), 1, 'one TCP connection to the bastion');
  t.equal(loginsOf(sshd), 1, 'one login in the bastion sshd log');
  const [stats] = r.stats();
  t.match(stats, { device: 'jump1', protocol: 'bastion', busy: 1, idle: 0, createdTotal: 1, acquiredTotal: 24, channels: 24, circuit: 'closed' });

  // Sessions ending free their channels; the bastion connection stays for the next ones.
  conns.forEach((c) => c.close());
  await waitUntil(() => r.stats()[0]!.channels === 0);
  t.match(r.stats()[0], { idle: 1, busy: 0, channels: 0 });
});

t.test('a device whose host key does not match is refused behind the bastion, naming the device', async (t) => {
  const sshd = await withSshd(t);
  const r = registry(t);
  r.replace([bastionSpec(sshd)]);
  const sim = await startSim(t, { platform: 'linux' });
  const wrong = 'SHA256:' + 'A'.repeat(43);
  const err = await rejection(connectVia(r, simDeviceSpec(sim, { id: 'leafx', hostKey: { fingerprints: [wrong] } }), 'jump1'));
  t.equal(err.code, 'HOST_KEY_MISMATCH');
  t.match(err.message, /^device leafx: host key verification failed/);
  t.match(err.message, sim.hostKeyFingerprint, 'the presented key is the device\'s, not the bastion\'s');
  t.equal(r.stats()[0]!.circuit, 'closed', 'the bastion itself is fine');
});

t.test('a bastion that is down fails its devices at once with UNAVAILABLE-class errors naming the bastion, then recovers', async (t) => {
  const sshd = await withSshd(t);
  const r = registry(t);
  r.replace([bastionSpec(sshd)]);
  const sim = await startSim(t, { platform: 'linux' });
  const device = simDeviceSpec(sim, { id: 'leafd' });
  await sshd.halt();

  const started = performance.now();
  const err = await rejection(connectVia(r, device, 'jump1'));
  t.equal(err.code, 'CONNECT_REFUSED');
  t.match(err.message, /^device leafd: via bastion jump1: connection to 127\.0\.0\.1:\d+ refused/);
  t.equal(err.device, 'leafd');
  // During the backoff the next device is told the same, without another connect.
  const again = await rejection(connectVia(r, { ...device, id: 'leafe' }, 'jump1'));
  t.match(again.message, /^device leafe: via bastion jump1: connection to .* refused \(next attempt in \d+ ms\)/);
  t.ok(performance.now() - started < 1000, 'both failed fast');
  t.equal(r.stats()[0]!.failedConnectsTotal, 1, 'one connect tried');

  await sshd.restart();
  // Backoff is 250 ms .. (first delay); bounded wait for the retry to be allowed.
  const conn = await retry(() => connectVia(r, device, 'jump1'), 5000);
  t.teardown(() => conn.close());
  t.match(await exec(conn.client, 'hostname'), /\S/);
  t.match(r.stats()[0], { circuit: 'closed', createdTotal: 1, lastError: '' });
});

t.test('a chain: device via jump2, jump2 reached via jump1 (two sshds)', async (t) => {
  const outer = await withSshd(t);
  const inner = await withSshd(t);
  const r = registry(t);
  r.replace([bastionSpec(outer, { id: 'jump1' }), bastionSpec(inner, { id: 'jump2', via: 'jump1' })]);
  const sim = await startSim(t, { platform: 'linux', hostname: 'deep1' });
  const conn = await connectVia(r, simDeviceSpec(sim, { id: 'deep1' }), 'jump2');
  t.teardown(() => conn.close());
  t.match(await exec(conn.client, 'hostname'), /deep1/);
  t.equal(loginsOf(outer), 1);
  t.equal(loginsOf(inner), 1);
  const byId = Object.fromEntries(r.stats().map((s) => [s.device, s]));
  t.equal(byId.jump1!.channels, 1, 'jump1 carries the channel to jump2');
  t.equal(byId.jump2!.channels, 1, 'jump2 carries the channel to the device');
});

t.test('past maxChannelsPerConnection another connection is opened, up to maxConnections; then connects wait for a free channel', async (t) => {
  const sshd = await withSshd(t);
  const r = registry(t);
  r.replace([bastionSpec(sshd, { maxConnections: 2, maxChannelsPerConnection: 2 })]);
  const sims = await Promise.all(Array.from({ length: 5 }, () => startSim(t, { platform: 'linux' })));
  const conns = await Promise.all(sims.slice(0, 4).map((s, i) => connectVia(r, simDeviceSpec(s, { id: `c${i}` }), 'jump1')));
  t.teardown(() => conns.forEach((c) => c.close()));
  t.match(r.stats()[0], { createdTotal: 2, busy: 2, channels: 4 });
  t.equal(loginsOf(sshd), 2);

  // The fifth waits (within its connect timeout) until a channel is free.
  let fifthDone = false;
  const fifth = connectVia(r, simDeviceSpec(sims[4]!, { id: 'c4' }), 'jump1').then((c) => ((fifthDone = true), c));
  await waitUntil(() => r.stats()[0]!.waiting === 1);
  t.notOk(fifthDone, 'still waiting');
  conns[0]!.close();
  const c4 = await fifth;
  t.teardown(() => c4.close());
  t.match(r.stats()[0], { createdTotal: 2, channels: 4, waiting: 0 });
});

t.test('a bastion restart ends the device sessions over it with an error naming the bastion; new sessions go through a new connection', async (t) => {
  const sshd = await withSshd(t);
  const r = registry(t);
  r.replace([bastionSpec(sshd)]);
  const sim = await startSim(t, { platform: 'linux' });
  const device = simDeviceSpec(sim, { id: 'leafr' });
  const conn = await connectVia(r, device, 'jump1');
  const ended = new Promise<Error | undefined>((resolve) => conn.onEnd(resolve));
  await sshd.restart();
  const err = await ended;
  t.type(err, WarmpoolError);
  t.equal((err as WarmpoolError).code, 'CONNECTION_LOST');
  t.match(err!.message, /device leafr: connection to .* lost: .*bastion jump1/);
  t.match(r.stats()[0], { idle: 0, busy: 0, channels: 0, closedTotal: 1 });

  const again = await retry(() => connectVia(r, device, 'jump1'), 5000);
  t.teardown(() => again.close());
  t.match(await exec(again.client, 'hostname'), /\S/);
  t.match(r.stats()[0], { createdTotal: 2, channels: 1 });
});

t.test('a bastion with a wrong host key is FAILED_PRECONDITION naming the bastion; forwarding refused by the bastion is named too', async (t) => {
  const sshd = await withSshd(t);
  const noFwd = await withSshd(t, ['AllowTcpForwarding no']);
  const r = registry(t);
  r.replace([
    bastionSpec(sshd, { id: 'badkey', hostKey: { fingerprints: ['SHA256:' + 'B'.repeat(43)] } }),
    bastionSpec(noFwd, { id: 'nofwd' }),
  ]);
  const sim = await startSim(t, { platform: 'linux' });
  const e1 = await rejection(connectVia(r, simDeviceSpec(sim, { id: 'k1' }), 'badkey'));
  t.equal(e1.code, 'HOST_KEY_MISMATCH');
  t.match(e1.message, /^device k1: via bastion badkey: host key verification failed for 127\.0\.0\.1:\d+/);
  t.equal(r.stats(['badkey'])[0]!.circuit, 'open', 'a wrong bastion key opens its breaker at once');
  const e2 = await rejection(connectVia(r, simDeviceSpec(sim, { id: 'k2' }), 'nofwd'));
  t.equal(e2.code, 'CHANNEL_OPEN_FAILED');
  t.match(e2.message, /^device k2: via bastion nofwd: the bastion refused to forward to 127\.0\.0\.1:\d+ \(administratively prohibited: .*AllowTcpForwarding/);
  const e3 = await rejection(connectSsh({ ...simDeviceSpec(sim, { id: 'k3' }), via: 'gone' }, { connector: r.connector('gone') }));
  t.match(e3.message, /^device k3: via bastion gone: no such bastion/);
});

t.test('a device port closed behind the bastion is CONNECT_REFUSED naming device, bastion and target', async (t) => {
  const sshd = await withSshd(t);
  const r = registry(t);
  r.replace([bastionSpec(sshd)]);
  const sim = await startSim(t, { platform: 'linux' });
  const port = sim.port;
  await sim.close();
  const err = await rejection(connectVia(r, simDeviceSpec(sim, { id: 'closed1', port }), 'jump1'));
  t.equal(err.code, 'CONNECT_REFUSED');
  t.match(err.message, new RegExp(`^device closed1: via bastion jump1: the bastion could not connect to 127\\.0\\.0\\.1:${port}`));
  t.equal(r.stats()[0]!.circuit, 'closed', 'a device refusing is not the bastion\'s failure');
});

t.test('a bastion connection that carries no device session closes after idleTimeoutMs; the next device opens a new one', async (t) => {
  const sshd = await withSshd(t);
  const r = registry(t);
  r.replace([bastionSpec(sshd, { idleTimeoutMs: 300 })]);
  const sim = await startSim(t, { platform: 'linux' });
  const device = simDeviceSpec(sim, { id: 'idle1' });
  const c1 = await connectVia(r, device, 'jump1');
  c1.close();
  await waitUntil(() => r.stats()[0]!.closedTotal === 1);
  t.match(r.stats()[0], { idle: 0, busy: 0, createdTotal: 1 }, 'closed once idle');
  const c2 = await connectVia(r, device, 'jump1');
  t.teardown(() => c2.close());
  t.match(await exec(c2.client, 'hostname'), /\S/);
  t.match(r.stats()[0], { createdTotal: 2, busy: 1 });
  t.equal(loginsOf(sshd), 2);
});

async function waitUntil(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function retry<T>(fn: () => Promise<T>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
