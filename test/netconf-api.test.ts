import t from 'tap';
import { createHash } from 'node:crypto';
import { Metadata, status } from '@grpc/grpc-js';
import { startSimDevice } from '../src/sim/ssh-device.js';
import { startTestDaemon, simSpec, m } from './kit/daemon.js';
import type { NetconfResponse__Output } from '../src/gen/warmpool/v1/NetconfResponse.js';
import type { GetPoolStatsResponse__Output } from '../src/gen/warmpool/v1/GetPoolStatsResponse.js';
import type { Device__Output } from '../src/gen/warmpool/v1/Device.js';

type Err = { code: number; details: string };
const GET_CONFIG = '<get-config><source><running/></source></get-config>';

t.test('DeviceProxy.Netconf over the daemon', async (t) => {
  const mx = await startSimDevice({ platform: 'juniper_junos', hostname: 'mx1' });
  t.teardown(() => mx.close());
  const td = await startTestDaemon({
    devices: [
      simSpec(mx, 'mx1', { mode: 'netconf', pool: { min: 0, max: 2 } }),
      // A CLI device that also speaks NETCONF (here on the same port): both pools, side by side.
      simSpec(mx, 'mx1-cli', { netconf: { port: mx.port }, pool: { min: 0, max: 1 } }),
    ],
  });
  t.teardown(() => td.stop());
  const nc = m(td.proxy, 'Netconf');

  await t.test('get-config: the whole rpc-reply, the session reused on the next call', async (t) => {
    const a = await td.call<object, NetconfResponse__Output>(nc, { device: 'mx1', rpc: GET_CONFIG });
    t.equal(a.device, 'mx1');
    t.equal(a.failed, false);
    t.equal(a.error, '');
    t.match(a.reply, /<rpc-reply [^>]*message-id="1"[^>]*><data>.*<hostname>mx1<\/hostname>/s);
    t.ok(a.duration_ms > 0);
    t.equal(a.session?.reused, false);
    t.match(a.session?.id, /^mx1\/netconf\//);
    const b = await td.call<object, NetconfResponse__Output>(nc, { device: 'mx1', rpc: GET_CONFIG });
    t.equal(b.session?.reused, true);
    t.equal(b.session?.id, a.session?.id);
    t.match(b.reply, /message-id="2"/);
  });

  await t.test('an rpc-error of severity error is failed: true with its message, call status OK', async (t) => {
    const r = await td.call<object, NetconfResponse__Output>(nc, { device: 'mx1', rpc: '<frobnicate/>' });
    t.equal(r.failed, true);
    t.equal(r.error, 'operation frobnicate is not supported by this simulated device');
    t.match(r.reply, /<rpc-error>/);
  });

  await t.test('pools report protocol "netconf"; GetDevice shows mode NETCONF and the hello capabilities', async (t) => {
    const s = await td.call<object, GetPoolStatsResponse__Output>(m(td.admin, 'GetPoolStats'), { devices: ['mx1'] });
    const pool = s.pools.find((p) => p.protocol === 'netconf');
    t.ok(pool, 'a netconf pool');
    t.equal(pool?.idle, 1);
    const d = await td.call<object, Device__Output>(m(td.inventory, 'GetDevice'), { id: 'mx1' });
    t.equal(d.mode, 'SESSION_MODE_NETCONF');
    t.ok(d.netconf?.capabilities.includes('urn:ietf:params:netconf:base:1.1'), 'capabilities of the session\'s hello');
  });

  await t.test('a CLI device with a netconf block serves Run and Netconf from two pools', async (t) => {
    const run = await td.call<object, { results: Array<{ output: string }> }>(m(td.proxy, 'Run'), { device: 'mx1-cli', commands: ['show version'] });
    t.match(run.results[0]?.output, /JUNOS|Junos/);
    const r = await td.call<object, NetconfResponse__Output>(nc, { device: 'mx1-cli', rpc: GET_CONFIG });
    t.equal(r.failed, false);
    const s = await td.call<object, GetPoolStatsResponse__Output>(m(td.admin, 'GetPoolStats'), { devices: ['mx1-cli'] });
    t.same(s.pools.map((p) => p.protocol).sort(), ['netconf', 'ssh']);
  });

  await t.test('Run on a NETCONF-only device, and a NETCONF mode in Run, are INVALID_ARGUMENT', async (t) => {
    const e = (await td.call(m(td.proxy, 'Run'), { device: 'mx1', commands: ['show version'] }).catch((x: unknown) => x)) as Err;
    t.equal(e.code, status.INVALID_ARGUMENT);
    t.match(e.details, /device "mx1": mode: the device is NETCONF-only/);
    const e2 = (await td.call(m(td.proxy, 'Run'), { device: 'mx1-cli', commands: ['x'], mode: 'SESSION_MODE_NETCONF' }).catch((x: unknown) => x)) as Err;
    t.equal(e2.code, status.INVALID_ARGUMENT);
    t.match(e2.details, /mode: NETCONF is not a Run mode: send NETCONF RPCs with DeviceProxy.Netconf/);
  });

  await t.test('malformed requests: INVALID_ARGUMENT naming the field', async (t) => {
    const cases: Array<[object, RegExp]> = [
      [{ device: 'mx1', rpc: '' }, /rpc: is required/],
      [{ device: 'mx1', rpc: '<get/><edit-config/>' }, /exactly one operation element, found 2/],
      [{ device: 'mx1', rpc: '<get/></rpc><rpc message-id="7"><edit-config/>' }, /not well-formed XML: "<\/rpc>" closes nothing/],
      [{ device: 'mx1', rpc: '<rpc><get/></rpc>' }, /<rpc> is not accepted: send only what goes inside <rpc>/],
      [{ device: 'mx1', rpc: '<close-session/>' }, /the daemon owns the session/],
      [{ device: 'mx1', rpc: '<!DOCTYPE a [<!ENTITY x "y">]><get/>' }, /DOCTYPE/],
      [{ device: 'mx1', rpc: '<get>\u0001</get>' }, /control character/],
      [{ device: 'mx1', rpc: '<get>]]>]]></get>' }, /end-of-message marker/],
      [{ device: 'bad id!', rpc: GET_CONFIG }, /device:/],
    ];
    for (const [req, re] of cases) {
      const e = (await td.call(nc, req).catch((x: unknown) => x)) as Err;
      t.equal(e.code, status.INVALID_ARGUMENT, JSON.stringify(req));
      t.match(e.details, re);
    }
    const nf = (await td.call(nc, { device: 'nope', rpc: GET_CONFIG }).catch((x: unknown) => x)) as Err;
    t.equal(nf.code, status.NOT_FOUND);
  });

  await t.test('timeout_ms passed mid-reply: DEADLINE_EXCEEDED, the session is replaced', async (t) => {
    const before = await td.call<object, NetconfResponse__Output>(nc, { device: 'mx1', rpc: GET_CONFIG });
    mx.setFault({ hang: true });
    const e = (await td.call(nc, { device: 'mx1', rpc: GET_CONFIG, timeout_ms: 300 }).catch((x: unknown) => x)) as Err;
    mx.setFault({ hang: false });
    t.equal(e.code, status.DEADLINE_EXCEEDED);
    t.match(e.details, /device "mx1": no complete NETCONF reply/);
    const after = await td.call<object, NetconfResponse__Output>(nc, { device: 'mx1', rpc: GET_CONFIG });
    t.not(after.session?.id, before.session?.id, 'the timed-out session was not handed out again');
    t.equal(after.session?.reused, false);
    t.match(after.reply, /message-id="1"/, 'a fresh session numbers from 1');
  });

  await t.test('the call\'s own deadline: DEADLINE_EXCEEDED naming the NETCONF wait', async (t) => {
    mx.setFault({ hang: true });
    const e = (await td.call(nc, { device: 'mx1', rpc: GET_CONFIG }, { deadlineMs: 300 }).catch((x: unknown) => x)) as Err;
    mx.setFault({ hang: false });
    t.equal(e.code, status.DEADLINE_EXCEEDED);
  });

  await t.test('DrainDevice recycles the NETCONF sessions too', async (t) => {
    await td.call<object, NetconfResponse__Output>(nc, { device: 'mx1', rpc: GET_CONFIG });
    const r = await td.call<object, { closed_idle: number }>(m(td.admin, 'DrainDevice'), { device: 'mx1' });
    t.ok(r.closed_idle >= 1, `closed ${r.closed_idle}`);
  });
});

t.test('policy: a read-only caller may read over NETCONF but not write', async (t) => {
  const mx = await startSimDevice({ platform: 'juniper_junos', hostname: 'mx2' });
  t.teardown(() => mx.close());
  const token = 'netconf-reader-token-0123456789';
  const dir = t.testdir({
    'tokens.yaml': `callers:\n  - name: reader\n    tokenSha256: "${createHash('sha256').update(token).digest('hex')}"\n`,
    'policy.yaml': 'rules:\n  - callers: ["reader"]\n    rpcs: ["Netconf", "GetDevice"]\n    configure: false\n',
  });
  const td = await startTestDaemon({
    devices: [simSpec(mx, 'mx2', { mode: 'netconf' })],
    argv: ['--grpc.auth.tokensFile', `${dir}/tokens.yaml`, '--grpc.auth.policyFile', `${dir}/policy.yaml`],
  });
  t.teardown(() => td.stop());
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  const nc = m(td.proxy, 'Netconf');
  for (const rpc of [GET_CONFIG, '<get><filter type="subtree"/></get>', '<get-interface-information/>']) {
    const r = await td.call<object, NetconfResponse__Output>(nc, { device: 'mx2', rpc }, { metadata: md });
    t.type(r.reply, 'string', `${rpc} allowed`);
  }
  for (const rpc of ['<edit-config><target><running/></target><config/></edit-config>', '<lock><target><running/></target></lock>', '<commit/>']) {
    const e = (await td.call(nc, { device: 'mx2', rpc }, { metadata: md }).catch((x: unknown) => x)) as Err;
    t.equal(e.code, status.PERMISSION_DENIED, `${rpc} denied`);
    t.match(e.details, /configure/);
  }
  t.equal(mx.stats.commandCounts.get('netconf:edit-config') ?? 0, 0, 'no write reached the device');
});

t.test('inventory: netconf block and mode netconf through PutDevice and the file validator', async (t) => {
  const { validateDevice } = await import('../src/config/inventory.js');
  const { loadConfig } = await import('../src/config/load.js');
  const defaults = loadConfig({ argv: [], env: {} }).defaults;
  const base = { id: 'mx9', host: '127.0.0.1', platform: 'juniper_junos', username: 'u', password: 'p-secret', hostKey: { acceptAny: true } };
  const spec = validateDevice({ ...base, mode: 'netconf', netconf: { port: 830 } }, defaults, 'file', 'devices.yaml');
  t.equal(spec.mode, 'netconf');
  t.same(spec.netconf, { port: 830 });
  t.same(validateDevice({ ...base, netconf: {} }, defaults, 'file').netconf, {}, 'netconf: {} uses the SSH port');
  t.throws(() => validateDevice({ ...base, netconf: { port: 70000 } }, defaults, 'file', 'devices.yaml'),
    { code: 'CONFIG_INVALID', message: /devices.yaml: device "mx9": netconf.port: must be a port 1..65535 \(got 70000\)/ });
  t.throws(() => validateDevice({ ...base, netconf: { prot: 830 } }, defaults, 'file'), { message: /netconf.prot: unknown field \(did you mean "port"\?\)/ });
  t.throws(() => validateDevice({ ...base, mode: 'yang' }, defaults, 'file'), { message: /mode: must be one of shell, exec, netconf/ });

  const td = await startTestDaemon();
  t.teardown(() => td.stop());
  const put = await td.call<object, Device__Output>(m(td.inventory, 'PutDevice'), {
    device: { id: 'mx9', host: '127.0.0.1', platform: 'juniper_junos', username: 'u', password: 'p-secret', host_key: { accept_any: true }, mode: 'SESSION_MODE_NETCONF', netconf: { port: 830 } },
  });
  t.equal(put.mode, 'SESSION_MODE_NETCONF');
  t.equal(put.netconf?.port, 830);
  t.same(put.netconf?.capabilities, [], 'no session yet: no capabilities');
  // A Device read back and sent again is accepted (capabilities are output only).
  const again = await td.call<object, Device__Output>(m(td.inventory, 'PutDevice'), { device: { ...put, password: 'p-secret', netconf: { port: 830, capabilities: ['urn:x'] } } });
  t.equal(again.netconf?.port, 830);
  const bad = (await td.call(m(td.inventory, 'PutDevice'), {
    device: { id: 'mx10', host: '127.0.0.1', platform: 'juniper_junos', username: 'u', password: 'p', host_key: { accept_any: true }, netconf: { port: 70000 } },
  }).catch((x: unknown) => x)) as Err;
  t.equal(bad.code, status.INVALID_ARGUMENT);
  t.match(bad.details, /netconf.port: must be a port 1..65535/);
});

t.test('idle NETCONF sessions are kept alive with the empty-filter <get>, and stay the same session', async (t) => {
  const { waitFor } = await import('./kit/wait.js');
  const mx = await startSimDevice({ platform: 'juniper_junos', hostname: 'mx3' });
  t.teardown(() => mx.close());
  const td = await startTestDaemon({ devices: [simSpec(mx, 'mx3', { mode: 'netconf', pool: { min: 1, max: 1 }, ssh: { appKeepaliveMs: 150 } })] });
  t.teardown(() => td.stop());
  await waitFor(() => (mx.stats.commandCounts.get('netconf:get') ?? 0) >= 2, 'two keepalives', 15_000);
  const r = await td.call<object, NetconfResponse__Output>(m(td.proxy, 'Netconf'), { device: 'mx3', rpc: GET_CONFIG });
  t.equal(r.session?.reused, true, 'the prewarmed, kept-alive session served the call');
  t.equal(mx.stats.totalConnections, 1, 'one connection for the keepalives and the call');
  t.equal(mx.stats.commandCounts.get('netconf:get-config'), 1, 'keepalives never read the configuration');
});
