/**
 * A simulated jump host: an ssh2 Server that logs users in by password and forwards
 * `direct-tcpip` channels (what `ssh -J` and warmpool's bastions ask for) to loopback targets
 * only, so the demo can show a device behind a bastion without a real sshd. It opens no shell.
 *
 * WHY loopback only: a simulator listening on a laptop must not become an open proxy to the
 * network; any other target is refused.
 */
import net from 'node:net';
import ssh2 from 'ssh2';
import type { AuthContext, Connection } from 'ssh2';
import { fingerprintOfPrivateKey, generateHostKey } from './host-keys.js';
import { listenSim } from './tcp-listener.js';

export interface SimBastionOptions {
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  hostKey?: string;
}

export interface SimBastion {
  host: string;
  port: number;
  username: string;
  password: string;
  hostKeyFingerprint: string;
  /** Logins accepted so far, and channels forwarded. */
  readonly stats: { logins: number; channels: number; refused: number };
  /** Drop every connection (a bastion going down); the listener stays. */
  kill(): void;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function startSimBastion(opts: SimBastionOptions = {}): Promise<SimBastion> {
  const username = opts.username ?? 'jump';
  const password = opts.password ?? 'jump-pass';
  const hostKey = opts.hostKey ?? generateHostKey();
  const stats = { logins: 0, channels: 0, refused: 0 };
  const server = new ssh2.Server({ hostKeys: [hostKey] }, (conn: Connection) => {
    conn.on('error', () => undefined);
    conn.on('authentication', (ctx: AuthContext) => {
      if (ctx.method === 'password' && ctx.username === username && ctx.password === password) {
        stats.logins++;
        ctx.accept();
      } else {
        ctx.reject(['password']);
      }
    });
    conn.on('ready', () => {
      conn.on('session', (_accept, reject) => reject());
      conn.on('tcpip', (accept, reject, info) => {
        if (!LOOPBACK.has(info.destIP)) {
          stats.refused++;
          reject(); // ssh2 sends "connect failed"; it has no way to say "prohibited" here
          return;
        }
        const target = net.connect({ host: info.destIP, port: info.destPort, noDelay: true });
        target.once('error', () => {
          stats.refused++;
          reject();
        });
        target.once('connect', () => {
          target.removeAllListeners('error');
          const ch = accept();
          stats.channels++;
          ch.pipe(target).pipe(ch);
          const done = (): void => {
            target.destroy();
            ch.destroy();
          };
          target.on('error', done).on('close', done);
          ch.on('error', done).on('close', done);
        });
      });
    });
  });
  const host = opts.host ?? '127.0.0.1';
  const { port, kill, close } = await listenSim(host, opts.port ?? 0, (sock) => server.injectSocket(sock));
  return {
    host, port, username, password, hostKeyFingerprint: fingerprintOfPrivateKey(hostKey), stats,
    kill,
    close,
  };
}
