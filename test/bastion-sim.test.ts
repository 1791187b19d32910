/**
 * The simulated jump host (src/sim/bastion.ts, used by the demo): password login, direct-tcpip
 * to loopback targets only, and warmpool's bastion pool over it.
 */
import t from 'tap';
import { BastionRegistry } from '../src/app/bastions.js';
import { Secret } from '../src/config/secret.js';
import { systemClock, systemRandom } from '../src/core/clock.js';
import { WarmpoolError } from '../src/core/errors.js';
import { silentLogger } from '../src/core/logger.js';
import { startSimBastion } from '../src/sim/bastion.js';
import { connectSsh } from '../src/transport/ssh-connect.js';
import { simDeviceSpec, startSim, testSshSettings } from './kit/sim.js';

t.test('devices behind the simulated bastion share one login; non-loopback targets are refused; kill() ends the sessions', async (t) => {
  const jump = await startSimBastion();
  t.teardown(() => jump.close());
  const r = new BastionRegistry({ breaker: { failureThreshold: 3, openMs: 1000, maxOpenMs: 2000 }, clock: systemClock, random: systemRandom, logger: silentLogger });
  t.teardown(() => r.closeAll());
  r.replace([{
    id: 'simjump', host: jump.host, port: jump.port, username: jump.username, password: Secret.fromValue(jump.password),
    hostKey: { fingerprints: [jump.hostKeyFingerprint] }, maxConnections: 1, maxChannelsPerConnection: 64, idleTimeoutMs: 60_000, interactive: false,
    ssh: { ...testSshSettings },
  }]);
  const sims = await Promise.all([0, 1, 2].map(() => startSim(t, { platform: 'cisco_ios' })));
  const conns = await Promise.all(sims.map((s, i) => connectSsh({ ...simDeviceSpec(s, { id: `ios${i}` }), via: 'simjump' }, { connector: r.connector('simjump') })));
  t.equal(jump.stats.logins, 1);
  t.equal(jump.stats.channels, 3);

  const far = simDeviceSpec(sims[0]!, { id: 'far', host: '192.0.2.1' });
  const err = await connectSsh({ ...far, via: 'simjump' }, { connector: r.connector('simjump') }).catch((e: unknown) => e);
  t.type(err, WarmpoolError);
  t.match((err as Error).message, /^device far: via bastion simjump: the bastion could not connect to 192\.0\.2\.1/);

  const ended = Promise.all(conns.map((c) => new Promise<Error | undefined>((res) => c.onEnd(res))));
  jump.kill();
  for (const e of await ended) t.match(e?.message, /via bastion simjump: connection to the bastion lost/);
});
