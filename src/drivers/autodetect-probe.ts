/**
 * The probe behind `platform: autodetect` (src/platforms/autodetect.ts): one SSH connection,
 * one shell driven by the catalogue's probe profile, the bounded detection, then closed. The
 * device's real sessions are opened afterwards as the detected platform, on new connections
 * (as Netmiko's SSHDetect is followed by a fresh ConnectHandler): the probe shell has answered
 * pagers and typed show commands, and a device may allow one shell per connection.
 */
import type { DeviceSpec } from '../config/types.js';
import { WarmpoolError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { SessionFactory } from '../pool/types.js';
import { detectPlatform, withDetectedPlatform, type Detection, type PlatformDetections } from '../platforms/autodetect.js';
import { connectSsh } from '../transport/ssh-connect.js';
import { ShellSession, type ShellSessionOptions } from './shell-driver.js';
import type { DeviceSession } from './ssh-types.js';

export interface ProbeOptions {
  signal?: AbortSignal;
  logger?: Logger;
  /** Shell driver tuning (tests). */
  shell?: Omit<ShellSessionOptions, 'logger' | 'signal'>;
  /** Per probe command (default min(5000, ssh.commandTimeoutMs)). */
  timeoutMs?: number;
  /**
   * Opens the probe's shell session for `spec` (platform autodetect, mode shell). Default: a
   * direct connection; the session factory passes its own opener so the probe connects the way
   * the device's sessions do.
   */
  open?: (spec: DeviceSpec) => Promise<DeviceSession>;
}

export async function probeDevicePlatform(device: DeviceSpec, opts: ProbeOptions = {}): Promise<Detection> {
  const probeSpec: DeviceSpec = { ...device, platform: 'autodetect', mode: 'shell' };
  const signal = opts.signal ? { signal: opts.signal } : {};
  const logger = opts.logger ? { logger: opts.logger } : {};
  const opened = opts.open
    ? await opts.open(probeSpec)
    : await ShellSession.open(probeSpec, await connectSsh(probeSpec, { ...signal, ...logger }), { ...opts.shell, ...logger, ...signal });
  if (!(opened instanceof ShellSession)) {
    await opened.close();
    throw new WarmpoolError('INTERNAL', `device ${device.id}: the autodetect probe needs a shell session`, { device: device.id });
  }
  try {
    return await detectPlatform(probeSpec, opened, { ...signal, ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}) });
  } finally {
    await opened.close();
  }
}

/**
 * The session factory of a `platform: autodetect` device: the first open probes (concurrent
 * first opens share the probe, `detections` keeps the result and logs it once), then every
 * session is opened by `openAs` as the detected platform, privilege and configuration included.
 * A probe that fails (unreachable, timed out) is tried again at the next open; a device nothing
 * recognises fails with PLATFORM_UNKNOWN, which the pool treats as permanent.
 */
export function autodetectingFactory(
  device: DeviceSpec,
  detections: PlatformDetections,
  openAs: (spec: DeviceSpec, signal: AbortSignal) => Promise<DeviceSession>,
  logger: Logger,
): SessionFactory<DeviceSession> {
  const log = logger.child({ device: device.id });
  return {
    async open(signal: AbortSignal): Promise<DeviceSession> {
      const d = await detections.resolve(device, () => probeDevicePlatform(device, { signal, logger: log, open: (spec) => openAs(spec, signal) }));
      return openAs(withDetectedPlatform(device, d.platform), signal);
    },
  };
}
