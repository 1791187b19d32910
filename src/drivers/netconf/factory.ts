/**
 * The SessionFactory of a device's NETCONF pool: connect (transport/ssh-connect.ts) to the
 * device's NETCONF port (`netconf.port`, default the SSH port) with the device's own host-key
 * policy and credentials, then open the `netconf` subsystem and exchange hellos
 * (netconf/session.ts). A session that fails to start leaves nothing connected.
 */
import type { DeviceSpec } from '../../config/types.js';
import type { Logger } from '../../core/logger.js';
import type { SessionFactory } from '../../pool/types.js';
import { connectSsh, type Connector } from '../../transport/ssh-connect.js';
import { NetconfSession, type NetconfSessionOptions } from './session.js';

export interface NetconfSessionFactoryDeps {
  logger: Logger;
  /** How the byte stream is opened (default: direct TCP). */
  connector?: Connector;
  session?: Omit<NetconfSessionOptions, 'logger' | 'signal'>;
}

/** The device as the NETCONF connection sees it: its NETCONF port instead of its SSH port. */
export function netconfTarget(device: DeviceSpec): DeviceSpec {
  const port = device.netconf?.port;
  return port && port !== device.port ? { ...device, port } : device;
}

export function createNetconfSessionFactory(device: DeviceSpec, deps: NetconfSessionFactoryDeps): SessionFactory<NetconfSession> {
  const logger = deps.logger.child({ device: device.id, protocol: 'netconf' });
  const target = netconfTarget(device);
  return {
    async open(signal: AbortSignal): Promise<NetconfSession> {
      const conn = await connectSsh(target, { signal, logger, ...(deps.connector ? { connector: deps.connector } : {}) });
      try {
        return await NetconfSession.open(target, conn, { ...deps.session, logger, signal });
      } catch (err) {
        conn.close();
        throw err;
      }
    },
  };
}
