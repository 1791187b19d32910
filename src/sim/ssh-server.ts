/**
 * The SSH side of a simulated device: an ssh2 Server (host key, pre-login banner, no keepalive
 * unless asked) whose connections authenticate by password or keyboard-interactive and open
 * session channels: a PTY shell (shell-session.ts), one exec command (exec-command.ts), or the
 * `netconf` subsystem (netconf-device.ts).
 * The TCP listener in front of it is in tcp-listener.ts (started by ssh-device.ts).
 */
import ssh2 from 'ssh2';
import type { AuthContext, Connection, PseudoTtyInfo, Session as Ssh2Session } from 'ssh2';
import { crlf } from './crlf.js';
import { handleExec } from './exec-command.js';
import { DEFAULT_BANNER, type DeviceCtx } from './options.js';
import { SimShell } from './shell-session.js';
import { handleNetconfSubsystem } from './netconf-device.js';

/** setInterval's longest delay: ssh2's Server has no "off" for its keepalive, so "never" is this. */
const NEVER_MS = 2 ** 31 - 1;

/** A server for `hostKey`; a host-key change makes a new one (connections open on the old one stay). */
export function createSimSshServer(dev: DeviceCtx, hostKey: string | Buffer): ssh2.Server {
  const opts = dev.opts;
  return new ssh2.Server({
    hostKeys: [hostKey], banner: crlf(opts.banner ?? DEFAULT_BANNER),
    keepaliveInterval: (opts.clientAliveIntervalMs ?? 0) > 0 ? opts.clientAliveIntervalMs : NEVER_MS,
  }, (conn) => onClient(dev, conn));
}

function onClient(dev: DeviceCtx, conn: Connection): void {
  const { opts, stats } = dev;
  let gone = false;
  conn.on('error', () => undefined);
  conn.on('close', () => (gone = true));
  conn.on('end', () => (gone = true));
  conn.on('authentication', (actx: AuthContext) => {
    stats.authAttempts++;
    if (dev.faults.refuseAuth) return actx.reject(['password', 'keyboard-interactive']);
    const accept = (): void => {
      const d = opts.loginDelayMs ?? 0;
      // Accepting after the client left would start ssh2's per-client keepalive
      // interval with nothing to stop it (it keeps the process alive for a minute).
      if (d > 0) setTimeout(() => !gone && actx.accept(), d);
      else actx.accept();
    };
    if (actx.method === 'password') {
      if (actx.username === dev.username && actx.password === dev.password) return accept();
      return actx.reject(['password', 'keyboard-interactive']);
    }
    if (actx.method === 'keyboard-interactive') {
      if (actx.username !== dev.username) return actx.reject(['password', 'keyboard-interactive']);
      actx.prompt([{ prompt: 'Password: ', echo: false }], (answers) => {
        if (answers[0] === dev.password) accept();
        else actx.reject(['password', 'keyboard-interactive']);
      });
      return;
    }
    actx.reject(['password', 'keyboard-interactive']);
  });
  conn.on('ready', () => {
    let channels = 0;
    conn.on('session', (acceptSession, rejectSession) => {
      const maxCh = dev.faults.maxChannels;
      if (maxCh !== undefined && maxCh > 0 && channels >= maxCh) {
        rejectSession();
        return;
      }
      channels++;
      const session: Ssh2Session = acceptSession();
      session.once('close', () => channels--);
      let rows = opts.pageLines !== undefined ? opts.pageLines + 1 : 24;
      session.on('pty', (accept, _reject, info: PseudoTtyInfo) => {
        if (opts.pageLines === undefined && info.rows > 1) rows = info.rows;
        accept?.();
      });
      session.on('window-change', (accept, _reject, info) => {
        if (opts.pageLines === undefined && info.rows > 1) rows = info.rows;
        accept?.();
      });
      session.on('env', (accept) => accept?.());
      session.on('shell', (accept) => {
        const stream = accept();
        new SimShell(dev, stream, conn, rows);
      });
      session.on('subsystem', (accept, reject, info) => {
        if (info.name !== 'netconf') return reject();
        handleNetconfSubsystem(dev, accept());
      });
      session.on('exec', (accept, _reject, info) => {
        const stream = accept();
        handleExec(dev, stream, info.command);
      });
    });
  });
}
