/**
 * The real HAProxy (Debian package `haproxy`, scripts/install-test-deps.sh) running the shipped
 * deploy/haproxy/haproxy.cfg unchanged: its settings come from environment variables, which the
 * file defaults with `presetenv`, so a test sets addresses and timings and nothing else.
 */
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { ROOT } from './proc.js';
import { freePort } from './sshd.js';

// ROOT is dist/ when this runs compiled (bench/): the config is not copied there.
export const HAPROXY_CFG = join(ROOT.replace(/\/dist\/?$/, '/'), 'deploy/haproxy/haproxy.cfg');

export interface ServerState {
  /** w0, w1, ... as in the config. */
  name: string;
  /** UP, DOWN, "UP 1/2" (rising), ... */
  status: string;
}

export interface Haproxy {
  /** host:port of the gRPC frontend. */
  address: string;
  /** Backend servers and their health, from the stats page's CSV. */
  servers(): Promise<ServerState[]>;
  /** What HAProxy printed (its log goes to stdout): for failure messages. */
  out(): string;
  stop(): Promise<void>;
}

/** The haproxy binary's version line, or undefined when it is not installed. */
export function haproxyVersion(): string | undefined {
  const r = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0] : undefined;
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Start `haproxy -db -f deploy/haproxy/haproxy.cfg` (or `cfg`, a shipped copy of it) with `env`
 * (WARMPOOL_LB_LISTEN, WARMPOOL_LB_STATS_LISTEN and the rest of the file's presetenv names) and
 * wait until both listeners accept connections (bounded: 10 s).
 */
export async function startHaproxy(env: Record<string, string>, cfg: string = HAPROXY_CFG): Promise<Haproxy> {
  const listen = env.WARMPOOL_LB_LISTEN;
  const stats = env.WARMPOOL_LB_STATS_LISTEN;
  if (!listen || !stats) throw new Error('startHaproxy: WARMPOOL_LB_LISTEN and WARMPOOL_LB_STATS_LISTEN are required');
  const child = spawn('haproxy', ['-db', '-f', cfg], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer): void => {
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((r) => child.once('exit', (code) => {
    exitCode = code;
    r();
  }));
  const [host, port] = splitHostPort(listen);
  const [shost, sport] = splitHostPort(stats);
  const end = Date.now() + 10_000;
  while (!((await accepts(host, port)) && (await accepts(shost, sport)))) {
    if (exitCode !== undefined) throw new Error(`haproxy exited (${exitCode}) before listening:\n${out}`);
    if (Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`haproxy did not listen on ${listen} within 10 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    address: listen,
    async servers() {
      const res = await fetch(`http://${stats}/stats;csv`);
      const lines = (await res.text()).split('\n');
      const header = (lines[0] ?? '').replace(/^# /, '').split(',');
      const col = (name: string): number => header.indexOf(name);
      return lines
        .slice(1)
        .map((l) => l.split(','))
        .filter((c) => c[col('pxname')] === 'warmpool' && c[col('svname')] !== 'BACKEND' && c[col('svname')] !== 'FRONTEND')
        .map((c) => ({ name: c[col('svname')] ?? '', status: c[col('status')] ?? '' }));
    },
    out: () => out,
    async stop() {
      if (exitCode !== undefined) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

function splitHostPort(a: string): [string, number] {
  const i = a.lastIndexOf(':');
  return [a.slice(0, i) || '127.0.0.1', Number(a.slice(i + 1))];
}

/**
 * The environment for haproxy.cfg in front of ONE replica (w0, `grpcAddress`, health on the
 * port of `metricsAddress`); w1 and w2 point at loopback addresses where nothing listens, so
 * they stay DOWN and every call goes to w0.
 */
export async function oneReplicaEnv(grpcAddress: string, metricsAddress: string): Promise<Record<string, string>> {
  return {
    WARMPOOL_LB_LISTEN: `127.0.0.1:${await freePort()}`,
    WARMPOOL_LB_STATS_LISTEN: `127.0.0.1:${await freePort()}`,
    WARMPOOL_HEALTH_PORT: metricsAddress.split(':').pop() as string,
    WARMPOOL_CHECK_INTER: '200ms',
    WARMPOOL_REPLICA_0: grpcAddress,
    WARMPOOL_REPLICA_1: `127.0.0.2:${await freePort()}`,
    WARMPOOL_REPLICA_2: `127.0.0.3:${await freePort()}`,
  };
}

/** Wait (bounded: 10 s) until HAProxy's health checks see w0 UP; the error carries HAProxy's output. */
export async function w0Up(h: Haproxy): Promise<void> {
  const end = Date.now() + 10_000;
  while ((await h.servers()).find((s) => s.name === 'w0')?.status !== 'UP') {
    if (Date.now() > end) throw new Error(`HAProxy did not see w0 UP within 10 s\n${h.out()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
