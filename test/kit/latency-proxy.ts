import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback that delays every chunk by `oneWayMs` in each direction,
 * to show how round trips (and so connection set-up) cost more on a real network
 * (bench/ssh-warm-vs-cold.ts). For faults, and latency in tests, use fault-proxy.ts; this one
 * exists for benchmark precision: it times chunks with performance.now() and sends every chunk
 * due within half a millisecond in one write, where the fault proxy works in whole milliseconds
 * (Date.now()) and would add up to 1 ms of jitter to a 5 ms link.
 */
export async function startLatencyProxy(target: { host: string; port: number }, oneWayMs: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  // Each direction is a queue with one timer: every chunk leaves oneWayMs after it arrived, and all
  // chunks that are due leave together. (A timer per chunk would add up to a millisecond between
  // chunks that arrived microseconds apart: Node timers have 1 ms resolution. A real link delays
  // them alike.)
  const pipe = (from: Socket, to: Socket) => {
    const queue: Array<{ due: number; data: Buffer }> = [];
    let timer: NodeJS.Timeout | undefined;
    const flush = (): void => {
      timer = undefined;
      const now = performance.now();
      const out: Buffer[] = [];
      while (queue.length > 0 && (queue[0] as { due: number }).due <= now + 0.5) out.push((queue.shift() as { data: Buffer }).data);
      if (out.length > 0 && to.writable) to.write(out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out));
      if (queue.length > 0) timer = setTimeout(flush, Math.max(0, (queue[0] as { due: number }).due - performance.now()));
    };
    from.on('data', (d: Buffer) => {
      queue.push({ due: performance.now() + oneWayMs, data: d });
      if (!timer) timer = setTimeout(flush, oneWayMs);
    });
    from.on('close', () => setTimeout(() => to.destroy(), oneWayMs + 1));
    from.on('error', () => to.destroy());
  };
  const server: Server = createServer({ noDelay: true }, (client) => {
    const upstream = connect({ host: target.host, port: target.port, noDelay: true });
    sockets.add(client).add(upstream);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}
