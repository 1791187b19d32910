/**
 * The SessionFactory the pool uses for a device's SSH sessions, one shape for every driver:
 * connect (transport/ssh-connect.ts), then hand the connection to the exec or the shell driver
 * according to `device.mode`. A driver that fails to start leaves nothing connected.
 */
import type { DeviceSpec } from '../config/types.js';
import type { SessionFactory } from '../pool/types.js';
import type { Logger } from '../core/logger.js';
import type { DeviceSession } from './ssh-types.js';
import { connectSsh, type Connector } from '../transport/ssh-connect.js';
import { WarmpoolError } from '../core/errors.js';
import { ExecSession, type ExecSessionOptions } from './exec-driver.js';
import { ShellSession, type ShellSessionOptions } from './shell-driver.js';
import type { PlatformDetections } from '../platforms/autodetect.js';
import { autodetectingFactory } from './autodetect-probe.js';

export interface SshSessionFactoryDeps {
  logger: Logger;
  /** Shell driver tuning (tests); defaults suit real devices. */
  shell?: Omit<ShellSessionOptions, 'logger' | 'signal'>;
  /** Exec driver tuning (tests); defaults suit real devices. */
  exec?: Omit<ExecSessionOptions, 'logger'>;
  /** `platform: autodetect` results, one store per daemon (without it such a device runs on the probe profile). */
  detections?: PlatformDetections;
  /** How the device's byte stream is opened (default: direct TCP); a bastion's channel for `via` devices. */
  connector?: Connector;
}

export function createSshSessionFactory(device: DeviceSpec, deps: SshSessionFactoryDeps): SessionFactory<DeviceSession> {
  // platform: autodetect probes once, then opens every session as the detected platform (docs/platforms.md "Autodetect").
  if (device.platform === 'autodetect' && deps.detections) {
    const plain: SshSessionFactoryDeps = { ...deps, detections: undefined };
    return autodetectingFactory(device, deps.detections, (spec, signal) => createSshSessionFactory(spec, plain).open(signal), deps.logger);
  }
  const logger = deps.logger.child({ device: device.id });
  return {
    async open(signal: AbortSignal): Promise<DeviceSession> {
      if (device.mode === 'netconf') {
        // NETCONF-only devices get NETCONF sessions from app/netconf-pools.ts, never a CLI session.
        throw new WarmpoolError('INVALID_ARGUMENT', `device "${device.id}": is NETCONF-only (mode netconf); no CLI session is opened`, { device: device.id, field: 'mode' });
      }
      const conn = await connectSsh(device, { signal, logger, ...(deps.connector ? { connector: deps.connector } : {}) });
      try {
        if (device.mode === 'exec') return new ExecSession(device, conn, { ...deps.exec, logger });
        return await ShellSession.open(device, conn, { ...deps.shell, logger, signal });
      } catch (err) {
        conn.close();
        throw err;
      }
    },
  };
}
