/**
 * The TCP listener in front of a simulated SSH server (device or bastion): accepts with
 * TCP_NODELAY, swallows socket errors (a client that resets is not the simulator's failure),
 * tracks the open sockets, and hands each to `onSocket` (which injects it into the ssh2 Server,
 * or refuses it). `kill` drops every connection as a host going down would; `close` also stops listening.
 */
import net from 'node:net';

export interface SimListener {
  port: number;
  kill(): void;
  close(): Promise<void>;
}

export async function listenSim(host: string, port: number, onSocket: (sock: net.Socket) => void, backlog?: number): Promise<SimListener> {
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((sock) => {
    sock.setNoDelay(true);
    sockets.add(sock);
    sock.once('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    onSocket(sock);
  });
  tcp.maxConnections = 1_000_000;
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen({ host, port, ...(backlog === undefined ? {} : { backlog }) }, () => {
      tcp.off('error', reject);
      resolve();
    });
  });
  const kill = (): void => {
    for (const s of sockets) s.destroy();
  };
  return {
    port: (tcp.address() as net.AddressInfo).port,
    kill,
    close: () => new Promise<void>((resolve) => {
      tcp.close(() => resolve());
      kill();
    }),
  };
}
