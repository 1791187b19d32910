/**
 * Start simulated devices and describe them as DeviceSpecs (host key pinned to the
 * simulator's key), so every test file can talk to a realistic device in two lines:
 *
 *   const sim = await startSim(t, { platform: 'cisco_ios' });
 *   const device = simDeviceSpec(sim, { pool: { ...defaultPool, max: 4 } });
 */
import type { Test } from 'tap';
import { Secret } from '../../src/config/secret.js';
import type { DeviceSpec } from '../../src/config/types.js';
import { testPoolSettings, testSshSettings } from './settings.js';
import { startSimDevice, type SimDevice, type SimOptions } from '../../src/sim/ssh-device.js';
import { connectSsh } from '../../src/transport/ssh-connect.js';
import { ShellSession, type ShellSessionOptions } from '../../src/drivers/shell-driver.js';
import type { BatchRequest } from '../../src/drivers/ssh-types.js';

export type { SimDevice, SimOptions };

export { testPoolSettings, testSshSettings } from './settings.js';

/** Starts a simulator and closes it in the test's teardown. */
export async function startSim(t: Test, opts: SimOptions): Promise<SimDevice> {
  const sim = await startSimDevice(opts);
  t.teardown(() => sim.close());
  return sim;
}

/** A DeviceSpec for `sim`: its address, credentials, platform, and its host key pinned. */
export function simDeviceSpec(sim: SimDevice, overrides: Partial<DeviceSpec> = {}): DeviceSpec {
  return {
    id: `sim-${sim.platform}-${sim.port}`,
    host: sim.host,
    port: sim.port,
    platform: sim.platform,
    mode: sim.platform === 'linux' ? 'exec' : 'shell',
    username: sim.username,
    password: Secret.fromValue(sim.password),
    enableSecret: Secret.fromValue(sim.enableSecret),
    hostKey: { fingerprints: [sim.hostKeyFingerprint] },
    labels: { sim: 'true', platform: sim.platform },
    pool: { ...testPoolSettings },
    ssh: { ...testSshSettings },
    source: 'file',
    ...overrides,
  };
}

/** A request with the usual defaults; override what the test is about. */
export function batch(commands: string[], over: Partial<BatchRequest> = {}): BatchRequest {
  return { commands, privileged: false, configure: false, stopOnError: false, timeoutMs: () => 5000, ...over };
}

/** A logged-in shell session on `sim` (real connection via connectSsh), closed in teardown. */
export async function openSimShell(
  t: Test,
  sim: SimDevice,
  overrides: Partial<DeviceSpec> = {},
  opts: ShellSessionOptions = {},
): Promise<ShellSession> {
  const device = simDeviceSpec(sim, { mode: 'shell', ...overrides });
  const conn = await connectSsh(device);
  const s = await ShellSession.open(device, conn, opts);
  t.teardown(() => s.close());
  return s;
}
