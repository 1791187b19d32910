/**
 * Catalogue platforms through the whole daemon: a device put over the gRPC Inventory API under a
 * Netmiko name, then Run (plain, privileged, configure) against its simulator.
 */
import t from 'tap';
import { status, type ServiceError } from '@grpc/grpc-js';
import { startSimDevice } from '../src/sim/ssh-device.js';
import { m, startTestDaemon } from './kit/daemon.js';
import type { Platform } from '../src/config/types.js';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

t.test('devices put under Netmiko names run as their platform over gRPC', async (t) => {
  const td = await startTestDaemon();
  t.teardown(() => td.stop());
  const cases: Array<{ sim: Platform; name: string; show: string; showRe: RegExp; config: string[] }> = [
    { sim: 'huawei', name: 'huawei_vrp', show: 'display version', showRe: /^Huawei Versatile Routing Platform/, config: ['interface GigabitEthernet0/0/1', 'description uplink'] },
    { sim: 'cisco_xr', name: 'cisco_xr', show: 'show version', showRe: /Cisco IOS XR Software, Version 7\.9\.2/, config: ['interface Gi0/0/0/1', 'description uplink'] },
    { sim: 'brocade_fastiron', name: 'ruckus_fastiron', show: 'show version', showRe: /SW: Version 08\.0\.95/, config: ['interface ethernet 1/1/1', 'name uplink'] },
    { sim: 'dell_force10', name: 'dell_os9', show: 'show version', showRe: /^Dell Real Time Operating System Software/, config: ['interface TenGigabitEthernet 1/1', 'description uplink'] },
  ];
  for (const c of cases) {
    const sim = await startSimDevice({ platform: c.sim });
    t.teardown(() => sim.close());
    const id = `api-${c.sim}`;
    const device = { id, host: sim.host, port: sim.port, platform: c.name, username: sim.username, password: sim.password, enable_secret: sim.enableSecret, host_key: { fingerprints: [sim.hostKeyFingerprint] } };
    const put: Any = await td.call(m(td.inventory, 'PutDevice'), { device });
    t.equal(put.platform, c.sim, `${c.name} is stored as ${c.sim}`);
    const run: Any = await td.call(m(td.proxy, 'Run'), { device: id, commands: [c.show, 'frobnicate-nothing'] });
    t.match(run.results[0].output, c.showRe, `${c.name}: clean output`);
    t.notMatch(run.results[0].output, /[\r\x1b\b]/);
    t.equal(run.results[1].failed, true, `${c.name}: the error line is recognised`);
    const priv: Any = await td.call(m(td.proxy, 'Run'), { device: id, commands: [c.show], privileged: true });
    t.equal(priv.results[0].failed, false);
    const cfg: Any = await td.call(m(td.proxy, 'Run'), { device: id, commands: c.config, configure: true });
    t.ok(cfg.results.every((r: Any) => !r.failed), `${c.name}: ${JSON.stringify(cfg.results)}`);
    t.equal(cfg.session.reused, true, `${c.name}: one session served every call`);
  }
});

t.test('a mistyped platform over the API is INVALID_ARGUMENT with a suggestion', async (t) => {
  const td = await startTestDaemon();
  t.teardown(() => td.stop());
  const device = { id: 'x1', host: '127.0.0.1', port: 22, platform: 'cisco_xrr', username: 'u', password: 'p', host_key: { accept_any: true } };
  const err = (await td.call(m(td.inventory, 'PutDevice'), { device }).catch((e: unknown) => e)) as ServiceError;
  t.equal(err.code, status.INVALID_ARGUMENT);
  t.match(err.details, /platform: must be one of .*did you mean "cisco_xr"\?/);
});
