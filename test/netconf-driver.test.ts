import t from 'tap';
import { createNetconfSessionFactory } from '../src/drivers/netconf/factory.js';
import { BASE_11, KEEPALIVE_RPC, type NetconfSession } from '../src/drivers/netconf/session.js';
import { silentLogger } from '../src/core/logger.js';
import { isWarmpoolError } from '../src/core/errors.js';
import { startSim, simDeviceSpec, type SimDevice } from './kit/sim.js';
import type { DeviceSpec } from '../src/config/types.js';
import type { Test } from 'tap';
import { startSshd, sshdDevice } from './kit/sshd.js';

const GET_CONFIG = '<get-config><source><running/></source></get-config>';

async function open(t: Test, sim: SimDevice, over: Partial<DeviceSpec> = {}): Promise<NetconfSession> {
  const device = simDeviceSpec(sim, { mode: 'netconf', ...over });
  const s = await createNetconfSessionFactory(device, { logger: silentLogger }).open(new AbortController().signal);
  t.teardown(() => s.close());
  return s;
}

t.test('hello once per session: capabilities kept, chunked framing when both offer base:1.1', async (t) => {
  const sim = await startSim(t, { platform: 'juniper_junos', hostname: 'mx1' });
  const s = await open(t, sim);
  t.equal(s.framing, '1.1');
  t.ok(s.capabilities.includes(BASE_11));
  t.ok(s.capabilities.some((c) => c.includes('ietf-interfaces?module=ietf-interfaces&revision=')), 'entities in capabilities decoded');
  t.ok(s.sessionId > 0, 'session-id kept');
  const r = await s.rpc(GET_CONFIG, { timeoutMs: 5000 });
  t.equal(r.failed, false);
  t.match(r.reply, /^<\?xml[^>]*\?><rpc-reply [^>]*message-id="1"[^>]*><data><system [^>]*><hostname>mx1<\/hostname>/, 'the whole rpc-reply, as sent');
  const r2 = await s.rpc(GET_CONFIG, { timeoutMs: 5000 });
  t.match(r2.reply, /message-id="2"/, 'the daemon numbers its RPCs');
  t.equal(sim.stats.totalConnections, 1);
});

t.test('base:1.0-only server: end-of-message framing', async (t) => {
  const sim = await startSim(t, { platform: 'juniper_junos', netconfFraming: '1.0' });
  const s = await open(t, sim);
  t.equal(s.framing, '1.0');
  t.notOk(s.capabilities.includes(BASE_11));
  const r = await s.rpc(GET_CONFIG, { timeoutMs: 5000 });
  t.match(r.reply, /<interfaces /);
  const bad = await s.rpc('<get><x>]]>]]></x></get>', { timeoutMs: 5000 }).catch((e: unknown) => e);
  t.ok(isWarmpoolError(bad, 'INVALID_ARGUMENT'), 'the 1.0 marker inside an RPC is refused before sending');
  t.equal(s.dirty, false, 'a refused RPC leaves the session clean');
});

t.test('edit-config is kept in memory and seen by get-config on another session', async (t) => {
  const sim = await startSim(t, { platform: 'juniper_junos', hostname: 'mx1' });
  const a = await open(t, sim);
  const w = await a.rpc('<edit-config><target><running/></target><config><system xmlns="urn:example:system"><hostname>mx1-new</hostname></system></config></edit-config>', { timeoutMs: 5000 });
  t.equal(w.failed, false);
  t.match(w.reply, /<ok\/>/);
  const b = await open(t, sim);
  t.match((await b.rpc(GET_CONFIG, { timeoutMs: 5000 })).reply, /<hostname>mx1-new<\/hostname>/);
});

t.test('an rpc-error of severity error is failed with its message; the session stays usable', async (t) => {
  const sim = await startSim(t, { platform: 'juniper_junos' });
  const s = await open(t, sim);
  const r = await s.rpc('<frobnicate/>', { timeoutMs: 5000 });
  t.equal(r.failed, true);
  t.equal(r.error, 'operation frobnicate is not supported by this simulated device');
  t.match(r.reply, /<rpc-error>/);
  t.equal(s.dirty, false);
  t.equal((await s.rpc(GET_CONFIG, { timeoutMs: 5000 })).failed, false);
});

t.test('keepalive: an empty-filter get, answered with an empty <data/>', async (t) => {
  const sim = await startSim(t, { platform: 'juniper_junos' });
  const s = await open(t, sim);
  const r = await s.rpc(KEEPALIVE_RPC, { timeoutMs: 5000 });
  t.match(r.reply, /<data\/><\/rpc-reply>$/);
  await t.resolves(s.keepalive(), 'keepalive resolves');
  t.equal(sim.stats.commandCounts.get('netconf:get'), 2);
});

t.test('a reply that does not come in time: COMMAND_TIMEOUT and the session is dirty (a late reply would be the next caller\'s)', async (t) => {
  const sim = await startSim(t, { platform: 'juniper_junos' });
  const s = await open(t, sim);
  sim.setFault({ hang: true });
  const err = await s.rpc(GET_CONFIG, { timeoutMs: 200 }).catch((e: unknown) => e);
  t.ok(isWarmpoolError(err, 'COMMAND_TIMEOUT'), String(err));
  t.match((err as Error).message, /no complete NETCONF reply to message-id 1 within 200 ms/);
  t.equal(s.dirty, true);
});

t.test('cancelled while waiting: CANCELLED, session dirty', async (t) => {
  const sim = await startSim(t, { platform: 'juniper_junos' });
  const s = await open(t, sim);
  sim.setFault({ hang: true });
  const ac = new AbortController();
  const p = s.rpc(GET_CONFIG, { timeoutMs: 5000, signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  t.ok(isWarmpoolError(await p.catch((e: unknown) => e), 'CANCELLED'));
  t.equal(s.dirty, true);
});

t.test('a reply over ssh.maxOutputBytes fails OUTPUT_TOO_LARGE and the session is discarded', async (t) => {
  const sim = await startSim(t, { platform: 'juniper_junos', runConfigLines: 4000 });
  const base = simDeviceSpec(sim);
  const s = await open(t, sim, { ssh: { ...base.ssh, maxOutputBytes: 16 * 1024 } });
  const err = await s.rpc(GET_CONFIG, { timeoutMs: 5000 }).catch((e: unknown) => e);
  t.ok(isWarmpoolError(err, 'OUTPUT_TOO_LARGE'), String(err));
  t.match((err as Error).message, /16384 bytes \(ssh.maxOutputBytes\)/);
  t.equal(s.dirty, true);
});

t.test('hostile server: garbage framing and a 4 GB chunk header are PROTOCOL_ERROR / OUTPUT_TOO_LARGE, never a crash', async (t) => {
  const sim = await startSim(t, { platform: 'juniper_junos', hostile: true });
  const a = await open(t, sim);
  const e1 = await a.rpc('<sim-garbage/>', { timeoutMs: 5000 }).catch((e: unknown) => e);
  t.ok(isWarmpoolError(e1, 'PROTOCOL_ERROR'), String(e1));
  t.match((e1 as Error).message, /bad NETCONF 1.1 chunk header/);
  t.equal(a.dirty, true);
  const b = await open(t, sim);
  const e2 = await b.rpc('<sim-huge-chunk/>', { timeoutMs: 5000 }).catch((e: unknown) => e);
  t.ok(isWarmpoolError(e2, 'OUTPUT_TOO_LARGE'), String(e2));
  t.equal(b.dirty, true);
});

t.test('a server without a netconf subsystem (real OpenSSH): CHANNEL_OPEN_FAILED naming the device, nothing left connected', async (t) => {
  const sshd = await startSshd();
  t.teardown(() => sshd.stop());
  const device = sshdDevice(sshd, { id: 'plain-sshd', mode: 'netconf' });
  const err = await createNetconfSessionFactory(device, { logger: silentLogger }).open(new AbortController().signal).catch((e: unknown) => e);
  t.ok(isWarmpoolError(err, 'CHANNEL_OPEN_FAILED'), String(err));
  t.match((err as Error).message, /device "plain-sshd": the NETCONF subsystem was refused/);
});

t.test('close() ends the session politely with close-session and leaves it dirty', async (t) => {
  const sim = await startSim(t, { platform: 'juniper_junos' });
  const s = await open(t, sim);
  await s.close();
  t.equal(s.dirty, true, 'a closed session is never handed out');
  t.equal(sim.stats.commandCounts.get('netconf:close-session'), 1);
});

t.test('warmpool sim: --netconf-framing picks what the NETCONF side offers, anything else is a usage error', async (t) => {
  const { parseSimArgs } = await import('../src/sim/sim-command.js');
  t.equal(parseSimArgs(['--platform', 'juniper_junos', '--netconf-framing', '1.0']).netconfFraming, '1.0');
  t.equal(parseSimArgs(['--platform', 'juniper_junos']).netconfFraming, undefined, 'default: base:1.0 and 1.1');
  t.throws(() => parseSimArgs(['--platform', 'juniper_junos', '--netconf-framing', '2.0']), /--netconf-framing must be 1.0 or 1.1, got "2.0"/);
});

t.test('an unsolicited reply on an idle session: the session ends and the pool is told (onClose)', async (t) => {
  const sim = await startSim(t, { platform: 'juniper_junos' });
  const s = await open(t, sim);
  const closed = new Promise<Error | undefined>((resolve) => s.onClose(resolve));
  // A keepalive the caller gives up on at once: its reply then arrives while nothing is pending.
  const ac = new AbortController();
  const p = s.rpc(KEEPALIVE_RPC, { timeoutMs: 5000, signal: ac.signal });
  ac.abort();
  t.ok(isWarmpoolError(await p.catch((e: unknown) => e), 'CANCELLED'));
  const err = await closed;
  t.ok(isWarmpoolError(err, 'CONNECTION_LOST'), String(err));
  t.equal(s.dirty, true);
});
