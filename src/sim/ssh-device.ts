/**
 * Simulated network devices on a real ssh2 Server: used by `warmpool demo`, `warmpool sim`,
 * the tests and the benchmarks. They behave like a PTY shell on the real platform
 * (echo, CRLF, pager with erase artefacts, ANSI colour, banners that look like prompts)
 * and can misbehave on demand (hang, drop mid-output, refuse auth, session limits,
 * idle close, host-key change).
 *
 * Efficiency matters: benchmarks push tens of thousands of commands and ~10 000 idle
 * sessions through one simulator, so per-session state is a small object and no timer
 * exists per session unless idleCloseMs asks for one.
 */
import net from 'node:net';
import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import type { Connection, ServerChannel, AuthContext, Session as Ssh2Session, PseudoTtyInfo } from 'ssh2';
import {
  DEFAULT_HOSTNAMES,
  execOnce,
  initialMode,
  interpret,
  pagerStyle,
  renderPrompt,
  type GenericPrompts,
  type Reply,
  type SimContext,
  type SimPlatform,
} from './platforms.js';
import { isHostileCommand, runHostile } from './hostile.js';

export interface SimFaults {
  /** Every command except empty lines and the paging command echoes and then never returns a prompt. */
  hang?: boolean;
  /** Commands with output close the connection halfway through it. */
  dropMidOutput?: boolean;
  /** Every authentication attempt is refused. */
  refuseAuth?: boolean;
  /** Connections beyond this many at once are closed right after TCP accept (0/undefined: unlimited). */
  maxSessions?: number;
  /** Close a shell that received no input for this long (like IOS exec-timeout). */
  idleCloseMs?: number;
  /** Session channels open at once per connection beyond this are refused (OpenSSH MaxSessions is 10, IOS often 1). */
  maxChannels?: number;
  /** setFault({ changeHostKey: true }) swaps in a fresh host key for new connections (see setHostKey). */
  changeHostKey?: boolean;
  /** Input typed ahead while a command runs is thrown away when it ends (some CLIs flush their input buffer). */
  flushTypeahead?: boolean;
}

export interface SimOptions {
  platform: SimPlatform;
  host?: string;
  port?: number;
  /** OpenSSH private key text; a fresh ed25519 key when absent. */
  hostKey?: string | Buffer;
  hostname?: string;
  username?: string;
  password?: string;
  enableSecret?: string;
  /** Pre-login banner (SSH userauth banner). */
  banner?: string;
  /** Post-login message of the day; the default contains lines that look like prompts. */
  motd?: string;
  /** Pause between the MOTD and the first prompt (default 2 ms). */
  motdPauseMs?: number;
  perCommandLatencyMs?: number;
  /** Delay before authentication succeeds (a slow TACACS server). */
  loginDelayMs?: number;
  /** Lines of `show running-config` / `show configuration`. */
  runConfigLines?: number;
  /** Lines per page while paging is on (default: PTY rows - 1, or 23). */
  pageLines?: number;
  /** generic platform: fixed prompts, paging command and enable command. */
  genericPrompts?: GenericPrompts;
  pagingCommand?: string;
  enableCommand?: string;
  faults?: SimFaults;
  /**
   * Ping each client this often at the SSH level, like OpenSSH's ClientAliveInterval. Default 0:
   * off, as on OpenSSH and IOS out of the box. (ssh2's Server would otherwise ping every client
   * every 15 s, which real devices do not, and which the daemon would pay for in idle CPU.)
   */
  clientAliveIntervalMs?: number;
  /** Accept the `hostile ...` commands of hostile.ts (floods, garbage, fake prompts, drips, closes). */
  hostile?: boolean;
}

/** setInterval's longest delay: ssh2's Server has no "off" for its keepalive, so "never" is this. */
const NEVER_MS = 2 ** 31 - 1;

export interface SimStats {
  /** TCP connections open now. */
  connections: number;
  /** Highest `connections` ever seen. */
  maxConnections: number;
  totalConnections: number;
  /** Connections refused because of maxSessions. */
  rejectedConnections: number;
  /** Authentication requests received (any method): lets tests prove no credential was sent. */
  authAttempts: number;
  commandsRun: number;
  commandCounts: Map<string, number>;
}

export interface SimDevice {
  readonly host: string;
  readonly port: number;
  readonly platform: SimPlatform;
  /** "SHA256:..." of the current host key. */
  readonly hostKeyFingerprint: string;
  readonly username: string;
  readonly password: string;
  readonly enableSecret: string;
  readonly hostname: string;
  readonly stats: SimStats;
  /** Swap the host key for connections made from now on (a fresh ed25519 key when none is given). */
  setHostKey(privateKey?: string | Buffer): string;
  setFault(f: Partial<SimFaults>): void;
  /** Print an asynchronous message (e.g. a syslog line) on every open shell. */
  notify(text: string): void;
  /** Destroy every client socket now (the device "reboots"); the listener stays. */
  kill(): void;
  close(): Promise<void>;
}

export const DEFAULT_BANNER = '### AUTHORIZED ACCESS ONLY ###\n>>> Unauthorized access to this device is prohibited <<<\n';
/** Lines that match loose prompt patterns on purpose: prompt learning must not be fooled by them. */
export const DEFAULT_MOTD =
  '##################################################\n# maintenance window: Sat 02:00-04:00 UTC #\n>>> all sessions are logged >>>\nnoc-hotline#\nchange-freeze>\n##################################################\n';

const DEFAULT_RUN_CONFIG_LINES = 400;

export function fingerprintOfPrivateKey(key: string | Buffer): string {
  const parsed = ssh2.utils.parseKey(key);
  if (parsed instanceof Error) throw parsed;
  const k = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!k) throw new Error('no key found');
  return 'SHA256:' + createHash('sha256').update(k.getPublicSSH()).digest('base64').replace(/=+$/, '');
}

/**
 * A fresh ed25519 key pair that ssh2 can parse back: ssh2's own generator yields an
 * unparseable key about 3 times in 1 000, so check and retry.
 */
export function generateKeyPair(): { private: string; public: string } {
  for (let i = 0; ; i++) {
    const kp = ssh2.utils.generateKeyPairSync('ed25519');
    if (!(ssh2.utils.parseKey(kp.private) instanceof Error) || i >= 50) return kp;
  }
}

export function generateHostKey(): string {
  return generateKeyPair().private;
}

const crlf = (s: string): string => (s.indexOf('\n') < 0 ? s : s.replace(/\r?\n/g, '\r\n'));

/** Cache of CRLF-converted large outputs (show run is the same text for every session). */
const crlfCache = new Map<string, string>();
function crlfCached(s: string): string {
  if (s.length < 16384) return crlf(s);
  const hit = crlfCache.get(s);
  if (hit !== undefined) return hit;
  const v = crlf(s);
  if (crlfCache.size > 8) crlfCache.clear();
  crlfCache.set(s, v);
  return v;
}

interface DeviceCtx {
  opts: SimOptions;
  platform: SimPlatform;
  shared: SimContext['device'];
  username: string;
  password: string;
  enableSecret: string;
  faults: SimFaults;
  stats: SimStats;
  latency: number;
  motd: string;
  shells: Set<SimShell>;
}

/** One interactive shell channel. */
class SimShell {
  private readonly ctx: SimContext;
  private inbuf = '';
  private line = '';
  private lastWasCR = false;
  private busy = false;
  private closed = false;
  private passwordTries = -1;
  private pager: { text: string; pos: number } | undefined;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dev: DeviceCtx,
    private readonly stream: ServerChannel,
    private readonly conn: Connection,
    private readonly rows: number,
  ) {
    this.ctx = {
      platform: dev.platform,
      device: dev.shared,
      username: dev.username,
      mode: initialMode(dev.platform),
      sub: '',
      paging: dev.platform !== 'linux',
      uncommitted: false,
      pendingHostname: '',
      pagingCommand: dev.opts.pagingCommand ?? '',
      enableCommand: dev.opts.enableCommand ?? '',
    };
    dev.shells.add(this);
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => this.onData(d));
    stream.on('close', () => this.dispose());
    stream.on('error', () => this.dispose());
    const idle = dev.faults.idleCloseMs;
    if (idle && idle > 0) {
      this.idleTimer = setTimeout(() => this.idleClose(), idle);
    }
    this.start();
  }

  private start(): void {
    // MOTD first, then the prompt a moment later in a separate write: a client that
    // takes the first prompt-looking line ("change-freeze>") as the prompt is caught out.
    const motd = this.dev.motd;
    if (motd) this.write('\r\n' + crlf(motd));
    setTimeout(() => {
      if (!this.closed) this.write('\r\n' + this.prompt());
    }, motd ? (this.dev.opts.motdPauseMs ?? 2) : 0);
  }

  private prompt(): string {
    return renderPrompt(this.ctx);
  }

  /** Echo and replies produced while consuming input, written as one packet. */
  private out = '';

  private flushOut(): void {
    const o = this.out;
    this.out = '';
    this.write(o);
  }

  private write(s: string): boolean {
    if (this.closed || s.length === 0) return true;
    return this.stream.write(s);
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.dev.shells.delete(this);
    if (this.idleTimer) clearTimeout(this.idleTimer);
  }

  /** An asynchronous message (syslog to the terminal): printed, then the prompt and typed text again, as IOS does. */
  notify(text: string): void {
    if (this.closed) return;
    const atPrompt = !this.busy && !this.pager && this.passwordTries < 0;
    this.write('\r\n' + crlf(text) + '\r\n' + (atPrompt ? this.prompt() + this.line : ''));
  }

  private idleClose(): void {
    if (this.closed) return;
    this.write('\r\n\r\n');
    this.dispose();
    this.conn.end();
  }

  private onData(d: string): void {
    if (this.closed) return;
    this.idleTimer?.refresh();
    this.inbuf += d;
    this.pump();
  }

  /** Consume typed input while no command is running. */
  private pump(): void {
    while (!this.busy && !this.closed && this.inbuf.length > 0) {
      if (this.pager) {
        const key = this.inbuf[0] as string;
        this.inbuf = this.inbuf.slice(1);
        if (key === '\n' && this.lastWasCR) {
          this.lastWasCR = false;
          continue;
        }
        this.lastWasCR = key === '\r';
        this.out += this.pagerKey(key);
        continue;
      }
      const text = this.inbuf;
      let i = 0;
      let enterAt = -1;
      for (; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c === 10 || c === 13) {
          enterAt = i;
          break;
        }
      }
      const part = enterAt < 0 ? text : text.slice(0, enterAt);
      if (part.length > 0) {
        this.lastWasCR = false;
        this.out += this.addTyped(part);
      }
      if (enterAt < 0) {
        this.inbuf = '';
        break;
      }
      const enter = text.charCodeAt(enterAt);
      let rest = enterAt + 1;
      if (enter === 10 && this.lastWasCR && part.length === 0) {
        // the \n of a \r\n pair: already handled
        this.lastWasCR = false;
        this.inbuf = text.slice(rest);
        continue;
      }
      if (enter === 13 && text.charCodeAt(rest) === 10) rest++;
      else this.lastWasCR = enter === 13;
      this.inbuf = text.slice(rest);
      const line = this.line;
      this.line = '';
      if (this.passwordTries >= 0) {
        this.out += '\r\n';
        this.out += this.password(line);
      } else {
        this.out += '\r\n';
        this.out += this.execLine(line);
      }
    }
    this.flushOut();
  }

  /** Typed characters: echo them (unless a password is being typed), with line editing. */
  private addTyped(part: string): string {
    const silent = this.passwordTries >= 0;
    // Fast path: no control characters.
    if (!/[\x00-\x1f\x7f]/.test(part)) {
      this.line += part;
      return silent ? '' : part;
    }
    let echo = '';
    for (const ch of part) {
      const c = ch.charCodeAt(0);
      if (c === 0x7f || c === 0x08) {
        if (this.line.length > 0) {
          this.line = this.line.slice(0, -1);
          if (!silent) echo += '\b \b';
        }
      } else if (c === 0x03) {
        this.line = '';
        echo += '^C\r\n' + this.prompt();
      } else if (c >= 0x20 || c === 9) {
        this.line += ch;
        if (!silent) echo += ch;
      }
    }
    return echo;
  }

  private password(pw: string): string {
    if (pw === this.dev.enableSecret) {
      this.passwordTries = -1;
      this.ctx.mode = 'priv';
      return this.prompt();
    }
    this.passwordTries++;
    if (this.passwordTries >= 3) {
      this.passwordTries = -1;
      return '% Bad secrets\r\n\r\n' + this.prompt();
    }
    return 'Password: ';
  }

  /** Run one typed line; returns what to write now (output may follow later). */
  private execLine(line: string): string {
    const trimmed = line.trim();
    if (this.dev.faults.flushTypeahead && trimmed.length > 0) this.inbuf = '';
    if (trimmed.length > 0) {
      const st = this.dev.stats;
      st.commandsRun++;
      st.commandCounts.set(trimmed, (st.commandCounts.get(trimmed) ?? 0) + 1);
    }
    if (this.dev.opts.hostile && isHostileCommand(trimmed)) return this.hostile(trimmed);
    const promptLen = this.prompt().length;
    const reply = interpret(this.ctx, line, promptLen);
    const f = this.dev.faults;
    if (f.hang && trimmed.length > 0 && reply.kind === 'output' && !this.isPagingCommand(trimmed)) {
      this.busy = true;
      return '';
    }
    if (reply.kind === 'hang') {
      this.busy = true;
      return '';
    }
    if (reply.kind === 'password') {
      this.passwordTries = 0;
      return 'Password: ';
    }
    if (reply.kind === 'logout') {
      setImmediate(() => {
        this.dispose();
        this.stream.exit(0);
        this.stream.end();
        this.conn.end();
      });
      return '';
    }
    const delay = reply.kind === 'sleep' ? reply.ms : this.dev.latency;
    if (trimmed.length > 0 && delay > 0) {
      this.busy = true;
      setTimeout(() => {
        if (this.closed) return;
        this.busy = false;
        // Output, prompt and the answers to input typed ahead meanwhile go out together, as a
        // device that reads its buffered input at once does (pump flushes).
        this.out += this.emit(reply);
        this.pump();
      }, delay);
      return '';
    }
    return this.emit(reply);
  }

  /** A hostile.ts command owns the shell until it calls end() (typed-ahead input waits meanwhile). */
  private hostile(line: string): string {
    this.busy = true;
    runHostile(line, {
      write: (d) => this.closed || this.stream.write(d),
      onDrain: (cb) => this.stream.once('drain', cb),
      closed: () => this.closed,
      prompt: () => this.prompt(),
      end: () => {
        if (this.closed) return;
        this.busy = false;
        this.write(this.prompt());
        this.pump();
      },
      closeChannel: () => {
        this.dispose();
        this.stream.close();
      },
      closeConnection: () => {
        this.dispose();
        this.conn.end();
      },
    });
    return '';
  }

  private isPagingCommand(trimmed: string): boolean {
    return /^(term(inal)? len(gth)? 0|set cli screen-length 0)$/.test(trimmed) || trimmed === this.ctx.pagingCommand;
  }

  /** Output of a finished command (paged when paging is on), then the prompt. */
  private emit(reply: Reply): string {
    const text = reply.kind === 'output' ? crlfCached(reply.text) : reply.kind === 'sleep' ? reply.text : '';
    if (text.length > 0 && this.dev.faults.dropMidOutput) {
      this.flushOut();
      this.write(text.slice(0, Math.max(1, text.length >> 1)));
      this.busy = true;
      setImmediate(() => this.conn.end());
      this.dispose();
      return '';
    }
    const pageable = reply.kind === 'output' && reply.pageable !== false;
    if (this.ctx.paging && pageable && text.length > 0) {
      this.pager = { text, pos: 0 };
      return this.nextPage(this.rows - 1);
    }
    if (text.length > 1 << 16) {
      this.writeLarge(text + this.prompt());
      return '';
    }
    return text + this.prompt();
  }

  /** Write a multi-megabyte output honouring the channel's flow control. */
  private writeLarge(s: string): void {
    this.busy = true;
    // The echo of the command (still buffered) must go out before its output.
    s = this.out + s;
    this.out = '';
    const CHUNK = 1 << 16;
    let pos = 0;
    const step = (): void => {
      while (pos < s.length && !this.closed) {
        const ok = this.stream.write(s.slice(pos, pos + CHUNK));
        pos += CHUNK;
        if (!ok) {
          this.stream.once('drain', step);
          return;
        }
      }
      this.busy = false;
      if (!this.closed) this.pump();
    };
    step();
  }

  private nextPage(lines: number): string {
    const p = this.pager as { text: string; pos: number };
    let end = p.pos;
    for (let n = 0; n < lines; n++) {
      const nl = p.text.indexOf('\n', end);
      if (nl < 0) {
        end = p.text.length;
        break;
      }
      end = nl + 1;
    }
    const chunk = p.text.slice(p.pos, end);
    p.pos = end;
    if (p.pos >= p.text.length) {
      this.pager = undefined;
      return chunk + this.prompt();
    }
    return chunk + pagerStyle(this.ctx.platform).prompt;
  }

  private pagerKey(key: string): string {
    const style = pagerStyle(this.ctx.platform);
    if (key === 'q' || key === 'Q' || key === '\x03') {
      this.pager = undefined;
      return style.erase + this.prompt();
    }
    if (key === ' ') return style.erase + this.nextPage(this.rows - 1);
    if (key === '\r' || key === '\n') return style.erase + this.nextPage(1);
    return ''; // other keys are ignored at a pager, as on IOS
  }
}

function handleExec(dev: DeviceCtx, stream: ServerChannel, command: string): void {
  const st = dev.stats;
  st.commandsRun++;
  st.commandCounts.set(command.trim(), (st.commandCounts.get(command.trim()) ?? 0) + 1);
  const ctx: SimContext = {
    platform: dev.platform,
    device: dev.shared,
    username: dev.username,
    mode: dev.platform === 'linux' ? 'shell' : dev.platform === 'juniper_junos' ? 'oper' : 'priv',
    sub: '',
    paging: false,
    uncommitted: false,
    pendingHostname: '',
    pagingCommand: dev.opts.pagingCommand ?? '',
    enableCommand: dev.opts.enableCommand ?? '',
  };
  const words = command.trim().split(/\s+/);
  let delay = dev.latency;
  let hang = dev.faults.hang === true || words[0] === 'hang';
  if (words[0] === 'sleep' && words.length === 2) {
    const s = Number(words[1]);
    if (Number.isFinite(s) && s >= 0) delay = Math.min(s, 3600) * 1000;
    else hang = false;
  }
  if (hang) return; // never answers; the client must time out
  const finish = (): void => {
    const r = words[0] === 'sleep' ? { stdout: '', stderr: '', code: 0 } : execOnce(ctx, command);
    if (dev.faults.dropMidOutput && r.stdout.length > 0) {
      stream.write(r.stdout.slice(0, Math.max(1, r.stdout.length >> 1)));
      setImmediate(() => stream.destroy());
      return;
    }
    if (r.stdout) stream.write(r.stdout);
    if (r.stderr) stream.stderr.write(r.stderr);
    stream.exit(r.code);
    stream.end();
  };
  if (delay > 0) setTimeout(finish, delay);
  else finish();
}

export async function startSimDevice(opts: SimOptions): Promise<SimDevice> {
  const platform = opts.platform;
  const host = opts.host ?? '127.0.0.1';
  let hostKey: string | Buffer = opts.hostKey ?? generateHostKey();
  let fingerprint = fingerprintOfPrivateKey(hostKey);
  const stats: SimStats = {
    connections: 0,
    maxConnections: 0,
    totalConnections: 0,
    rejectedConnections: 0,
    authAttempts: 0,
    commandsRun: 0,
    commandCounts: new Map(),
  };
  const dev: DeviceCtx = {
    opts,
    platform,
    shared: {
      hostname: opts.hostname ?? DEFAULT_HOSTNAMES[platform],
      runConfigLines: opts.runConfigLines ?? DEFAULT_RUN_CONFIG_LINES,
      ...(opts.genericPrompts ? { genericPrompts: opts.genericPrompts } : {}),
    },
    username: opts.username ?? 'admin',
    password: opts.password ?? 'admin-pass',
    enableSecret: opts.enableSecret ?? 'enable-pass',
    faults: { ...(opts.faults ?? {}) },
    stats,
    latency: opts.perCommandLatencyMs ?? 0,
    motd: opts.motd ?? DEFAULT_MOTD,
    shells: new Set(),
  };
  const sockets = new Set<net.Socket>();

  const onClient = (conn: Connection): void => {
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
        session.on('exec', (accept, _reject, info) => {
          const stream = accept();
          handleExec(dev, stream, info.command);
        });
      });
    });
  };

  const makeSsh = (key: string | Buffer): ssh2.Server =>
    new ssh2.Server({
      hostKeys: [key], banner: crlf(opts.banner ?? DEFAULT_BANNER),
      keepaliveInterval: (opts.clientAliveIntervalMs ?? 0) > 0 ? opts.clientAliveIntervalMs : NEVER_MS,
    }, onClient);
  let sshServer = makeSsh(hostKey);

  const tcp = net.createServer((sock) => {
    const max = dev.faults.maxSessions;
    if (max !== undefined && max > 0 && stats.connections >= max) {
      stats.rejectedConnections++;
      sock.destroy();
      return;
    }
    sock.setNoDelay(true);
    sockets.add(sock);
    stats.connections++;
    stats.totalConnections++;
    if (stats.connections > stats.maxConnections) stats.maxConnections = stats.connections;
    sock.once('close', () => {
      sockets.delete(sock);
      stats.connections--;
    });
    sock.on('error', () => undefined);
    sshServer.injectSocket(sock);
  });
  tcp.maxConnections = 1_000_000;
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen({ host, port: opts.port ?? 0, backlog: 4096 }, () => {
      tcp.off('error', reject);
      resolve();
    });
  });
  const port = (tcp.address() as net.AddressInfo).port;

  const device: SimDevice = {
    host,
    port,
    platform,
    get hostKeyFingerprint() {
      return fingerprint;
    },
    username: dev.username,
    password: dev.password,
    enableSecret: dev.enableSecret,
    get hostname() {
      return dev.shared.hostname;
    },
    stats,
    setHostKey(privateKey) {
      hostKey = privateKey ?? generateHostKey();
      fingerprint = fingerprintOfPrivateKey(hostKey);
      sshServer = makeSsh(hostKey);
      return fingerprint;
    },
    setFault(f) {
      const { changeHostKey, ...rest } = f;
      Object.assign(dev.faults, rest);
      if (changeHostKey) device.setHostKey();
    },
    notify(text) {
      for (const sh of dev.shells) sh.notify(text);
    },
    kill() {
      for (const s of sockets) s.destroy();
    },
    close() {
      return new Promise<void>((resolve) => {
        tcp.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
  return device;
}

export interface SimFleetSpec extends SimOptions {
  /** Name for the demo's inventory. */
  id: string;
}

export interface SimFleet {
  devices: Map<string, SimDevice>;
  close(): Promise<void>;
}

/** Several simulated devices at once (the demo). Closes what started when one fails. */
export async function startSimFleet(specs: SimFleetSpec[]): Promise<SimFleet> {
  const devices = new Map<string, SimDevice>();
  try {
    for (const s of specs) devices.set(s.id, await startSimDevice(s));
  } catch (err) {
    await Promise.all([...devices.values()].map((d) => d.close()));
    throw err;
  }
  return {
    devices,
    close: async () => {
      await Promise.all([...devices.values()].map((d) => d.close()));
    },
  };
}
