/**
 * The soak's devices (bench/soak.ts): simulators of several platforms and pool sizes, one of them
 * hostile, each behind a fault proxy from test/kit; a reboot closes a simulator and starts it
 * again on the same port with the same host key.
 */
import type { Platform } from '../../src/config/types.js';
import { generateHostKey, startSimDevice, type SimDevice } from '../../src/sim/ssh-device.js';
import { startFaultProxy, type FaultProxy } from '../../test/kit/fault-proxy.js';
import { sleep } from './soak-probes.js';

export interface SoakDevice {
  id: string;
  platform: Platform;
  max: number;
  maxWaiting: number;
  hostile?: boolean;
  hostKey: string;
  sim: SimDevice;
  proxy: FaultProxy;
  reboots: number;
}

export const FLEET: Array<{ id: string; platform: Platform; max: number; maxWaiting: number; hostile?: boolean }> = [
  { id: 'ios-1', platform: 'cisco_ios', max: 2, maxWaiting: 16 },
  { id: 'ios-2', platform: 'cisco_ios', max: 4, maxWaiting: 32 },
  { id: 'junos-1', platform: 'juniper_junos', max: 2, maxWaiting: 16 },
  { id: 'eos-1', platform: 'arista_eos', max: 3, maxWaiting: 16 },
  { id: 'linux-1', platform: 'linux', max: 4, maxWaiting: 32 },
  // One session and a short queue: RESOURCE_EXHAUSTED and queue time are part of the mix.
  { id: 'linux-2', platform: 'linux', max: 1, maxWaiting: 3 },
  // Answers `hostile ...` commands (floods, giant lines, garbage, fake prompts, drips, closes).
  { id: 'hostile-1', platform: 'cisco_ios', max: 2, maxWaiting: 8, hostile: true },
];

const simOptions = (d: { platform: Platform; hostKey: string; hostile?: boolean }, port?: number) => ({
  platform: d.platform, hostKey: d.hostKey, perCommandLatencyMs: 2, runConfigLines: 200, ...(port ? { port } : {}), ...(d.hostile ? { hostile: true } : {}),
});

/** Every FLEET device started, each behind its own fault proxy. */
export async function startFleet(): Promise<SoakDevice[]> {
  const devices: SoakDevice[] = [];
  for (const f of FLEET) {
    const hostKey = generateHostKey();
    const sim = await startSimDevice(simOptions({ platform: f.platform, hostKey, hostile: f.hostile === true }));
    const proxy = await startFaultProxy({ host: sim.host, port: sim.port });
    devices.push({ ...f, hostKey, sim, proxy, reboots: 0 });
  }
  return devices;
}

async function startSimOnPort(d: SoakDevice, port: number): Promise<SimDevice> {
  // The old listener has just closed; retry briefly in case the port is not free yet.
  for (let i = 0; ; i++) {
    try {
      return await startSimDevice(simOptions(d, port));
    } catch (err) {
      if (i >= 20) throw err;
      await sleep(100);
    }
  }
}

/** Device down for `downMs`, then back on the same port; a simulator that does not come back is a harness failure. */
export async function reboot(d: SoakDevice, downMs: number, failures: string[]): Promise<void> {
  const port = d.sim.port;
  await d.sim.close();
  await sleep(downMs);
  try {
    d.sim = await startSimOnPort(d, port);
    d.reboots++;
  } catch (err) {
    failures.push(`${d.id}: simulator did not come back on port ${port}: ${String(err)}`);
  }
}
