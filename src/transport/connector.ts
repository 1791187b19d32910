import net from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * How the SSH layer gets its byte stream to a device, in the manner of undici's
 * `buildConnector`: a function from "where to" to a connected stream. `connectSsh` runs the
 * SSH handshake and login over whatever stream the connector returns, so a way of reaching a
 * device that is not a direct TCP connection (a bastion's `forwardOut` direct-tcpip channel, a
 * fault-injecting proxy in tests) plugs in here without touching the login code.
 */

/** Where a connector should connect to, and when to give up. */
export interface ConnectTarget {
  /** The device's address as configured (`device.host`, `device.port`). */
  host: string;
  port: number;
  /** The device id: for a connector's own error messages (docs/api.md, "Status codes": every message names the device). */
  deviceId: string;
  /**
   * Aborts when the connect attempt gives up (`ssh.connectTimeoutMs` elapsed, or the caller
   * cancelled). The connector must then destroy whatever it opened; its promise may reject
   * or stay pending, the caller no longer listens. A stream resolved after the abort is destroyed
   * by the caller.
   */
  signal: AbortSignal;
}

/**
 * Opens a connected byte stream to `target`. Rejections are translated by the caller:
 * a `WarmpoolError` is passed on as it is; any other error is classified by its errno `code`
 * (ECONNREFUSED → CONNECT_REFUSED, EHOSTUNREACH/ENOTFOUND/... → HOST_UNREACHABLE, ETIMEDOUT →
 * CONNECT_TIMEOUT, ECONNRESET/EPIPE → CONNECTION_LOST, {@link CLOSED_BEFORE_CONNECT} →
 * CONNECTION_LOST); anything else becomes PROTOCOL_ERROR.
 *
 * The stream must be ready to carry bytes when the promise resolves, and must not have been
 * read from: the SSH banner is the first thing the caller reads.
 */
export type Connector = (target: ConnectTarget) => Promise<Duplex>;

/** The errno-style `code` of the error a connector rejects with when its stream closed before it was connected. */
export const CLOSED_BEFORE_CONNECT = 'ERR_WARMPOOL_CLOSED_BEFORE_CONNECT';

export interface TcpConnectorOptions {
  /**
   * Disable Nagle (default true). WHY: with Nagle and the peer's delayed ACK, every round trip
   * on a reused SSH connection waits ~40-90 ms for an ACK (ARCHITECTURE.md, "Pitfalls").
   */
  noDelay?: boolean;
}

/**
 * A connector that opens a plain TCP connection (`net.connect`). The connect timeout is the
 * caller's (`target.signal`), because one timeout covers TCP, handshake and login together.
 */
export function buildTcpConnector(opts: TcpConnectorOptions = {}): Connector {
  const noDelay = opts.noDelay ?? true;
  return ({ host, port, signal }) =>
    new Promise<Duplex>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const sock = net.connect({ host, port, noDelay });
      let settled = false;
      const settle = (err: Error | undefined) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        if (err) {
          sock.destroy();
          reject(err);
        } else {
          resolve(sock);
        }
      };
      const onAbort = () => settle(signal.reason instanceof Error ? signal.reason : new Error('connect aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      // As undici does, the 'error' listener stays after the connect: an error between our
      // resolve and the caller attaching its own handlers must not be an unhandled 'error' event.
      // After settling it does nothing; ssh2 attaches its own listener and sees every later error.
      sock.on('error', (err) => settle(err));
      sock.once('close', () => {
        const err = Object.assign(new Error(`socket to ${host}:${port} closed before it was connected`), { code: CLOSED_BEFORE_CONNECT });
        settle(err);
      });
      sock.once('connect', () => settle(undefined));
    });
}

/** The default connector: direct TCP with noDelay. */
export const tcpConnector: Connector = buildTcpConnector();
