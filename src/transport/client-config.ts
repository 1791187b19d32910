import type { Duplex } from 'node:stream';
import type { ConnectConfig } from 'ssh2';
import type { DeviceSpec } from '../config/types.js';
import { sshAlgorithms } from './algorithms.js';

/**
 * The ssh2 client settings for one device: keepalive, algorithms, and the hooks (host-key
 * verifier, auth handler) the connect attempt supplies.
 */

/**
 * SSH-level keepalive (ssh2's is off by default, and a silent peer would then hang an exec
 * forever): a global request every `keepaliveIntervalMs`, the connection ends with
 * CONNECTION_LOST after `keepaliveCountMax` unanswered ones. ssh2's own keepalive (a timer per
 * connection, re-created on every reply) stays OFF here: connectSsh puts each connection on the
 * process's one keepalive timer instead (keepalive-wheel.ts), with the same rule.
 */
const SSH2_KEEPALIVE_OFF: Pick<ConnectConfig, 'keepaliveInterval'> = { keepaliveInterval: 0 };

export interface ClientHooks {
  hostVerifier: (key: Buffer) => boolean;
  authHandler: ConnectConfig['authHandler'];
}

/** The ConnectConfig for ssh2's `Client.connect`, over a stream the connector already opened. */
export function clientConfig(device: DeviceSpec, sock: Duplex, hooks: ClientHooks): ConnectConfig {
  return {
    sock,
    username: device.username,
    readyTimeout: 0, // our own timer covers connector + handshake + auth
    ...SSH2_KEEPALIVE_OFF,
    algorithms: sshAlgorithms(device.ssh.legacyAlgorithms),
    tryKeyboard: true,
    hostVerifier: hooks.hostVerifier,
    authHandler: hooks.authHandler,
  };
}
