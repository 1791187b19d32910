import { createServer } from 'node:net';

export interface Listener { what: string; listen: string }

function hostPort(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(listen.slice(i + 1)) };
}

/** Whether host:port can be bound right now (false only for EADDRINUSE; other errors are left to the real bind). */
function canBind(listen: string): Promise<boolean> {
  const { host, port } = hostPort(listen);
  if (!Number.isInteger(port) || port === 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err.code !== 'EADDRINUSE'));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export function isAddressInUse(err: unknown): boolean {
  return /EADDRINUSE|address already in use/i.test(String((err as Error | null)?.message ?? err));
}

export function portInUseMessage(...addresses: string[]): string {
  return `port in use: ${addresses.join(', ')}: another warmpool demo is running? ` +
    'Stop it (Ctrl-C in its terminal), or start this one on free ports: ' +
    'warmpool demo --grpc.listen 127.0.0.1:0 --metrics.listen 127.0.0.1:0';
}

/** The "port in use" message when any listener's port is taken, else undefined. */
export async function portsInUse(listeners: Listener[]): Promise<string | undefined> {
  const taken: string[] = [];
  for (const l of listeners) if (!(await canBind(l.listen))) taken.push(`${l.listen} (${l.what})`);
  return taken.length > 0 ? portInUseMessage(...taken) : undefined;
}
