/**
 * inventory.readOnly: replicas behind a load balancer take their devices from the file only;
 * PutDevice/DeleteDevice are refused with FAILED_PRECONDITION and a message that says what to do,
 * while reads keep working.
 */
import t from 'tap';
import { status, type ServiceError } from '@grpc/grpc-js';
import { startTestDaemon, simSpec, m } from './kit/daemon.js';
import { startSim } from './kit/sim.js';
import type { Device__Output } from '../src/gen/warmpool/v1/Device.js';

t.test('a read-only inventory refuses API writes and still serves reads', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios' });
  const td = await startTestDaemon({ argv: ['--inventory.readOnly', 'true'], devices: [simSpec(sim, 'r1')] });
  t.teardown(() => td.stop());
  const put = td.call(m(td.inventory, 'PutDevice'), { device: { id: 'r2', host: '127.0.0.1', port: 22, platform: 'linux', username: 'x', password: 'p', host_key: { accept_any: true } } });
  await t.rejects(put, {
    code: status.FAILED_PRECONDITION,
    details: 'device "r2": PutDevice refused: the inventory is read-only on this daemon (inventory.readOnly: true); change the inventory file (e.g. its ConfigMap) and reload every replica instead',
  });
  const del = td.call(m(td.inventory, 'DeleteDevice'), { id: 'r1' });
  await t.rejects(del, { code: status.FAILED_PRECONDITION, details: /device "r1": DeleteDevice refused: the inventory is read-only/ });
  const got = await td.call<object, Device__Output>(m(td.inventory, 'GetDevice'), { id: 'r1' });
  t.equal(got.id, 'r1', 'the device is still there and readable');
  const err = await td.call(m(td.inventory, 'GetDevice'), { id: 'r2' }).catch((e: ServiceError) => e);
  t.equal((err as ServiceError).code, status.NOT_FOUND, 'the refused PutDevice added nothing');
});

t.test('without inventory.readOnly the API still adds devices (the single-replica default)', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios' });
  const td = await startTestDaemon();
  t.teardown(() => td.stop());
  const spec = simSpec(sim, 'r9');
  const d = await td.call<object, Device__Output>(m(td.inventory, 'PutDevice'), {
    device: { id: 'r9', host: spec.host, port: spec.port, platform: 'cisco_ios', username: sim.username, password: sim.password, host_key: { fingerprints: [sim.hostKeyFingerprint] } },
  });
  t.equal(d.id, 'r9');
});
