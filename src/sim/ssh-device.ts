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
 *
 * This module is the TCP listener (connection limits, stats, kill/close) and the public face;
 * options.ts holds the option and stats types, host-keys.ts the keys, ssh-server.ts the SSH
 * login and channels, shell-session.ts the interactive shell, exec-command.ts exec requests;
 * what a platform prints is in platforms.ts, hostile outputs in hostile.ts.
 */
import { DEFAULT_HOSTNAMES } from './platforms.js';
import { fingerprintOfPrivateKey, generateHostKey } from './host-keys.js';
import { DEFAULT_MOTD, DEFAULT_RUN_CONFIG_LINES, type DeviceCtx, type SimDevice, type SimOptions, type SimStats } from './options.js';
import { createSimSshServer } from './ssh-server.js';
import { listenSim } from './tcp-listener.js';

// The module layout (options, host keys, SSH server, shell, exec) is internal: callers import from here.
export { DEFAULT_BANNER, DEFAULT_MOTD, type SimDevice, type SimFaults, type SimOptions, type SimStats } from './options.js';
export { fingerprintOfPrivateKey, generateHostKey, generateKeyPair } from './host-keys.js';

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
      ...(opts.versionText !== undefined ? { versionText: opts.versionText } : {}),
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
  let sshServer = createSimSshServer(dev, hostKey);

  const listener = await listenSim(host, opts.port ?? 0, (sock) => {
    const max = dev.faults.maxSessions;
    if (max !== undefined && max > 0 && stats.connections >= max) {
      stats.rejectedConnections++;
      sock.destroy();
      return;
    }
    stats.connections++;
    stats.totalConnections++;
    if (stats.connections > stats.maxConnections) stats.maxConnections = stats.connections;
    sock.once('close', () => void stats.connections--);
    sshServer.injectSocket(sock);
  }, 4096);
  const port = listener.port;

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
      sshServer = createSimSshServer(dev, hostKey);
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
    kill: listener.kill,
    close: listener.close,
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
