/**
 * The probe behind `platform: autodetect` (src/platforms/autodetect.ts): one SSH connection,
 * one shell driven by the catalogue's probe profile, the bounded detection, then closed. The
 * device's real sessions are opened afterwards as the detected platform.
 *
 * Intended wiring (drivers/ssh-factory.ts, left to the lead while that file is reworked):
 *
 *   const detections = new PlatformDetections(logger);          // one per daemon
 *   async open(signal) {
 *     const spec = device.platform === 'autodetect'
 *       ? withDetectedPlatform(device, (await detections.resolve(device, () => probeDevicePlatform(device, { signal, logger }))).platform)
 *       : device;
 *     ... open the exec or shell session for `spec` as today ...
 *   }
 *
 * and GetDevice reports `detections.detected(id)?.platform` beside `platform: autodetect`.
 */
import type { DeviceSpec } from '../config/types.js';
import type { Logger } from '../core/logger.js';
import { detectPlatform, type Detection } from '../platforms/autodetect.js';
import { connectSsh } from '../transport/ssh-connect.js';
import { ShellSession, type ShellSessionOptions } from './shell-driver.js';

export interface ProbeOptions {
  signal?: AbortSignal;
  logger?: Logger;
  /** Shell driver tuning (tests). */
  shell?: Omit<ShellSessionOptions, 'logger' | 'signal'>;
  /** Per probe command (default min(5000, ssh.commandTimeoutMs)). */
  timeoutMs?: number;
}

export async function probeDevicePlatform(device: DeviceSpec, opts: ProbeOptions = {}): Promise<Detection> {
  const probeSpec: DeviceSpec = { ...device, platform: 'autodetect' };
  const conn = await connectSsh(probeSpec, { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.logger ? { logger: opts.logger } : {}) });
  const session = await ShellSession.open(probeSpec, conn, { ...opts.shell, ...(opts.logger ? { logger: opts.logger } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
  try {
    return await detectPlatform(probeSpec, session, { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}) });
  } finally {
    await session.close();
  }
}
