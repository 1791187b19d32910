import t from 'tap';
import { haproxyVersion, oneReplicaEnv, startHaproxy, w0Up } from './kit/haproxy.js';
import { startTestDaemon, simSpec } from './kit/daemon.js';
import { startSim } from './kit/sim.js';
import { freePort } from './kit/sshd.js';
import { cli } from './kit/cli.js';
import { WarmpoolClient } from '../src/client/index.js';

/**
 * A fan-out through the shipped deploy/haproxy/haproxy.cfg, which refuses RunMany (one replica
 * would open sessions to devices other replicas own): `warmpool many` and WarmpoolClient.runMany
 * run the devices with one Run each, the header set per device, and report the same results
 * RunMany would have. (The Python client's run_many does the same: clients/python/tests.)
 */
t.test('warmpool many and runMany behind the device-affinity balancer run each device with its own Run', async (t) => {
  if (!haproxyVersion()) throw new Error('haproxy is not installed: run scripts/install-test-deps.sh (Debian package haproxy)');
  const [ios, linux] = await Promise.all([startSim(t, { platform: 'cisco_ios' }), startSim(t, { platform: 'linux' })]);
  const td = await startTestDaemon({
    devices: [
      simSpec(ios, 'core1', { labels: { role: 'core' } }),
      simSpec(ios, 'core2', { labels: { role: 'core' } }),
      simSpec(linux, 'core3', { labels: { role: 'core' }, port: await freePort() }),
      simSpec(ios, 'edge1', { labels: { role: 'edge' } }),
    ],
  });
  t.teardown(() => td.stop());
  const lb = await startHaproxy({
    ...(await oneReplicaEnv(td.daemon.grpcAddress, td.daemon.metricsAddress)),
  });
  t.teardown(() => lb.stop());
  await w0Up(lb);
  const addr = ['--addr', lb.address];

  const json = await cli(['many', ...addr, '--labels', 'role=core', '--devices', 'edge1', '--json', '--', 'show version']);
  t.equal(json.code, 1, 'one device is down: exit 1', { output: json.out });
  const results = JSON.parse(json.stdout) as Array<{ device: string; response?: { results: Array<{ output: string }> }; error?: { code: number; message: string } }>;
  t.same(results.map((r) => r.device).sort(), ['core1', 'core2', 'core3', 'edge1'], 'the named device and every device with the label, once each');
  for (const id of ['core1', 'core2', 'edge1']) {
    t.match(results.find((r) => r.device === id)?.response?.results[0]?.output ?? '', /Cisco IOS/, `${id}: its output, as RunMany gives it`);
  }
  const down = results.find((r) => r.device === 'core3');
  t.equal(down?.error?.code, 14, 'a device that is down is its own UNAVAILABLE result; the others still ran');
  t.notMatch(json.stderr, /RunMany is refused/, 'the refusal is handled, not shown');

  const client = new WarmpoolClient(lb.address, { timeoutMs: 20_000 });
  t.teardown(() => client.close());
  const seen = new Map<string, string>();
  for await (const r of client.runMany(['show version'], { labels: { role: 'core' }, devices: ['edge1'], concurrency: 2 })) {
    seen.set(r.device, r.outcome === 'response' ? (r.response?.results[0]?.output ?? '') : `error ${r.error?.code}`);
  }
  t.same([...seen.keys()].sort(), ['core1', 'core2', 'core3', 'edge1'], 'runMany: every device once');
  t.match(seen.get('core1'), /Cisco IOS/, 'runMany: a device\'s output');
  t.equal(seen.get('core3'), 'error 14', 'runMany: the device that is down is an UNAVAILABLE result');

  const text = await cli(['many', ...addr, '--devices', 'core1,edge1', '--', 'show clock']);
  t.equal(text.code, 0, 'every device ok: exit 0', { output: text.out });
  t.match(text.stdout, /### core1: show clock/, 'core1 printed as many prints it');
  t.match(text.stdout, /### edge1: show clock/, 'edge1 printed as many prints it');
});
