/**
 * The typed, validated configuration handed down from config/ to every other layer.
 * Nothing below config/ reads files or the environment for settings; it gets these objects.
 */
import type { Secret } from './secret.js';

export const PLATFORMS = [
  'linux', 'cisco_ios', 'cisco_nxos', 'arista_eos', 'juniper_junos', 'generic',
  // Added for Netmiko parity (src/platforms/catalog, docs/platforms.md); Netmiko's other names are aliases (src/platforms/aliases.ts).
  'cisco_xr', 'cisco_asa', 'huawei', 'huawei_vrpv8', 'hp_comware', 'hp_procurve', 'aruba_os', 'aruba_aoscx', 'nokia_sros', 'nokia_sros_mdcli',
  'fortinet', 'paloalto_panos', 'mikrotik_routeros', 'dell_os10', 'dell_force10', 'dell_os6', 'brocade_fastiron',
  'brocade_netiron', 'extreme_exos', 'vyos',
  // Probed once at first connect (src/platforms/autodetect.ts).
  'autodetect',
] as const;
export type Platform = (typeof PLATFORMS)[number];

/** `netconf`: the device speaks NETCONF only (DeviceProxy.Netconf); Run is refused for it. */
export const SESSION_MODES = ['shell', 'exec', 'netconf'] as const;
export type SessionMode = (typeof SESSION_MODES)[number];

/** `bastion`: a jump host's own connection pool (docs/api.md, "Bastions"). */
export type Protocol = 'ssh' | 'http' | 'netconf' | 'bastion';

export interface PoolSettings {
  min: number;
  max: number;
  idleTimeoutMs: number;
  maxLifetimeMs: number;
  acquireTimeoutMs: number;
  maxWaiting: number;
}

export interface SshSettings {
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  commandTimeoutMs: number;
  /** Application-level nudge for idle shells (devices close quiet vty lines). 0 disables. */
  appKeepaliveMs: number;
  /** Probe a session on borrow when it has been idle longer than this. */
  healthCheckAfterMs: number;
  /** Opt in to CBC ciphers, group14-sha1 / group1-sha1 kex and ssh-rsa for old devices. */
  legacyAlgorithms: boolean;
  /**
   * Largest output one command may return in a Run/RunMany reply (exec stdout, or stderr, or the
   * cleaned shell output), bytes. Past it the command fails with OUTPUT_TOO_LARGE and the session
   * is discarded. Streaming (RunStream) is not capped.
   */
  maxOutputBytes: number;
}

export interface HostKeyPolicy {
  /** Pinned "SHA256:<base64>" fingerprints (OpenSSH format). */
  fingerprints?: string[];
  /** OpenSSH known_hosts file (plain and hashed entries). */
  knownHostsFile?: string;
  /** Explicit opt-out of host-key checking; logged as a warning. */
  acceptAny?: boolean;
}

export type HttpAuth =
  | { type: 'none' }
  | { type: 'basic'; username: string; password: Secret }
  | { type: 'bearer'; token: Secret }
  | {
      /** POST credentials once, keep the cookie or token, renew once on 401. */
      type: 'session';
      loginPath: string;
      username: string;
      password: Secret;
      /** JSON field of the login reply holding a token; when absent the Set-Cookie header is kept. */
      tokenField?: string;
      /** Header the token goes in (default "Authorization: Bearer <token>"). */
      tokenHeader?: string;
    };

export interface HttpTls {
  caFile?: string;
  /** Inline PEM CA bundle (devices added over the API, which may not name files). */
  ca?: string;
  certFile?: string;
  keyFile?: string;
  serverName?: string;
  insecureSkipVerify?: boolean;
}

export interface HttpSpec {
  baseUrl: string;
  auth: HttpAuth;
  tls: HttpTls;
  maxConnections: number;
  /** Largest response body accepted, bytes. */
  maxResponseBytes: number;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
}

export interface NetconfSpec {
  /** TCP port of the NETCONF SSH server (RFC 6242: usually 830); absent: the device's SSH port. */
  port?: number;
}

export interface DeviceSpec {
  id: string;
  host: string;
  port: number;
  platform: Platform;
  mode: SessionMode;
  username: string;
  password?: Secret;
  privateKey?: Secret;
  passphrase?: Secret;
  enableSecret?: Secret;
  hostKey: HostKeyPolicy;
  /** Overrides of the platform profile (required for `generic`). */
  prompt?: string;
  pagingCommand?: string;
  enableCommand?: string;
  labels: Record<string, string>;
  pool: PoolSettings;
  ssh: SshSettings;
  http?: HttpSpec;
  /** NETCONF over SSH (docs/operations.md, "NETCONF"): present, or mode netconf, keeps a NETCONF pool. */
  netconf?: NetconfSpec;
  /** Id of the bastion (jump host) the device is reached through; absent: direct TCP. */
  via?: string;
  /** Where the device came from: the inventory file or the gRPC Inventory API. */
  source: 'file' | 'api';
}

/**
 * A jump host (inventory file, top-level `bastions:`). Device sessions behind it are
 * direct-tcpip channels over its pooled, logged-in connections (docs/operations.md, "Bastions").
 */
export interface BastionSpec {
  id: string;
  host: string;
  port: number;
  username: string;
  password?: Secret;
  privateKey?: Secret;
  passphrase?: Secret;
  hostKey: HostKeyPolicy;
  /** Another bastion this one is reached through (chains); resolved and cycle-checked at parse time. */
  via?: string;
  /** SSH connections to the bastion at most (default 1). */
  maxConnections: number;
  /** direct-tcpip channels (device sessions) one connection carries at most before another is opened (default 64). */
  maxChannelsPerConnection: number;
  /** A connection carrying no channel is closed after this long (ms). */
  idleTimeoutMs: number;
  /**
   * Hold a PTY shell on each bastion connection so OpenSSH's sshd marks it interactive and sets
   * TCP_NODELAY on it; without, sshd's Nagle adds ~40 ms to every device round trip (measured).
   * Default true; best effort (a bastion refusing shells works without it).
   */
  interactive: boolean;
  /** connectTimeoutMs, keepalive and legacyAlgorithms apply; the rest is unused. */
  ssh: SshSettings;
}

export interface TlsServerConfig {
  certFile: string;
  keyFile: string;
  /** When set, callers must present a certificate signed by this CA (mTLS). */
  clientCaFile: string;
}

export interface AppConfig {
  grpc: {
    /** host:port, [v6]:port, or unix:PATH (a Unix domain socket). */
    listen: string;
    /** Octal mode string for a unix: listener's socket file, e.g. "0660". */
    socketMode: string;
    maxReceiveMessageBytes: number;
    maxSendMessageBytes: number;
    maxConcurrentStreams: number;
    keepaliveTimeMs: number;
    keepaliveTimeoutMs: number;
    maxConnectionIdleMs: number;
    maxConnectionAgeMs: number;
    maxConnectionAgeGraceMs: number;
    tls: TlsServerConfig;
    auth: {
      /** File of named caller tokens (see docs/security.md). Empty: no token auth. */
      tokensFile: string;
      /** Allow a non-loopback listen address without any caller authentication. */
      allowInsecure: boolean;
      /** Authorization policy file. Empty: every authenticated caller may do everything. */
      policyFile: string;
    };
  };
  metrics: { listen: string; perDeviceLabels: boolean };
  log: { level: string; audit: { enabled: boolean; file: string; includeOutput: boolean } };
  shutdown: { graceMs: number };
  defaults: { pool: PoolSettings; ssh: SshSettings; http: { maxConnections: number; maxResponseBytes: number; connectTimeoutMs: number; requestTimeoutMs: number } };
  limits: {
    /** Sessions across all devices. */
    maxTotalSessions: number;
    /** Concurrent connection attempts across all devices (connect storms, login rate limits). */
    maxConcurrentConnects: number;
    maxCommandsPerRequest: number;
    maxCommandLength: number;
    maxHttpBodyBytes: number;
  };
  breaker: { failureThreshold: number; openMs: number; maxOpenMs: number };
  cache: { maxEntries: number; maxBytes: number };
  inventory: { file: string; readOnly: boolean; watch: boolean; watchDebounceMs: number };
  /** The file the config was read from ('' when none), for messages and SIGHUP. */
  configFile: string;
}
