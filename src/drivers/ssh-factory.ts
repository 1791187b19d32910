/**
 * The SessionFactory the pool uses for a device's SSH sessions: connect (connect.ts),
 * then wrap the connection in the exec or the shell driver according to `device.mode`.
 */
import type { DeviceSpec } from '../config/types.js';
import type { SessionFactory } from '../pool/types.js';
import type { Logger } from '../core/logger.js';
import type { DeviceSession } from './ssh-types.js';
import { connectSsh } from '../transport/ssh-connect.js';
import { openExecSession } from './exec-driver.js';
import { ShellSession, type ShellSessionOptions } from './shell-driver.js';

export interface SshSessionFactoryDeps {
  logger: Logger;
  /** Shell driver tuning (tests); defaults suit real devices. */
  shell?: Omit<ShellSessionOptions, 'logger' | 'signal'>;
}

export function createSshSessionFactory(device: DeviceSpec, deps: SshSessionFactoryDeps): SessionFactory<DeviceSession> {
  const logger = deps.logger.child({ device: device.id });
  return {
    async open(signal: AbortSignal): Promise<DeviceSession> {
      if (device.mode === 'exec') return openExecSession(device, { signal, logger });
      const conn = await connectSsh(device, { signal, logger });
      return ShellSession.open(device, conn, { ...deps.shell, logger, signal });
    },
  };
}
