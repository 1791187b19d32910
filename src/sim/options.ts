/**
 * What a simulated SSH device is told (SimOptions, SimFaults), what it reports (SimStats,
 * SimDevice), and the per-device state its shells and exec channels share (DeviceCtx).
 */
import type { GenericPrompts, SimContext, SimPlatform } from './platforms.js';

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
  /** NETCONF subsystem: '1.1' (default) offers base:1.0 and base:1.1 (chunked framing); '1.0' offers base:1.0 only. */
  netconfFraming?: '1.0' | '1.1';
  /** Show the platform's login screen (login-screens.ts: Comware, FortiOS, Force10, RouterOS) before the first prompt. */
  loginScreen?: boolean;
  /** The account's password has expired: a change prompt stands instead of the first prompt, for ever. */
  passwordExpired?: boolean;
  /** juniper_junos: the login lands in the FreeBSD shell ("root@host:RE:0% "), as root's does; `cli` starts the CLI. */
  junosShell?: boolean;
  /** generic and IOS-like simulators: what `show version` prints instead (an unknown vendor, for autodetect tests). */
  versionText?: string;
}

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

export const DEFAULT_RUN_CONFIG_LINES = 400;

/** State shared by every connection, shell and exec channel of one simulated device. */
export interface DeviceCtx {
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
  /** Open interactive shells, for notify(). */
  shells: Set<{ notify(text: string): void }>;
}
