/**
 * Child-process entry for startSimFleetProcess: several simulated devices in ONE process (each on its
 * own loopback port), so a benchmark can put many devices' CPU outside the process it measures.
 * argv: <count> <platform>. Prints one JSON line {"devices":[{"port":..,"fingerprint":..}]} and runs
 * until SIGINT/SIGTERM.
 */
import type { SimPlatform } from '../../src/sim/platforms.js';
import { startSimDevice, type SimDevice } from '../../src/sim/ssh-device.js';

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 1);
  const platform = (process.argv[3] ?? 'cisco_ios') as SimPlatform;
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw new Error(`bad device count "${process.argv[2]}"`);
  const devices: SimDevice[] = [];
  for (let i = 0; i < count; i++) devices.push(await startSimDevice({ platform, host: '127.0.0.1', port: 0 }));
  process.stdout.write(`${JSON.stringify({ devices: devices.map((d) => ({ port: d.port, fingerprint: d.hostKeyFingerprint })) })}\n`);
  const stop = (): void => {
    void Promise.all(devices.map((d) => d.close())).finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`sim fleet: ${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
