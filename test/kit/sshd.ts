/**
 * A real OpenSSH sshd on 127.0.0.1 for tests: fresh host key, own config, key auth only
 * (tests run as root, whose password we do not know; password auth is tested against the
 * ssh2 Server helper in keys.ts). Fails loudly, never skips, when sshd is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { DeviceSpec, SshSettings } from '../../src/config/types.js';
import { Secret } from '../../src/config/secret.js';
import { startFaultProxy } from './fault-proxy.js';
import { sshKeygen } from './keys.js';
import { testPoolSettings, testSshSettings } from './settings.js';

export const SSHD_PATH = '/usr/sbin/sshd';

export interface Sshd {
  host: string;
  port: number;
  dir: string;
  hostKeyFingerprint: string;
  /** "ssh-ed25519 AAAA..." (type and base64 blob, no host field). */
  hostKeyPublic: string;
  /** A ready known_hosts line: "[127.0.0.1]:PORT ssh-ed25519 AAAA...". */
  knownHostsLine: string;
  clientKeyPath: string;
  clientKeyPem: string;
  /** An RSA key encrypted with `passphrase`, also authorized. */
  encryptedKeyPath: string;
  encryptedKeyPem: string;
  passphrase: string;
  username: string;
  /** stderr of the running sshd (`-e`): with `LogLevel VERBOSE` in extraConfig it has one "Accepted publickey" line per login. */
  log(): string;
  /** Stop sshd and every connection it serves, as a host going down would; the port is closed until restart(). */
  halt(): Promise<void>;
  /** Start it again on the same port with the same keys and config (after halt(), or as a restart). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** A port that was free a moment ago (listen on 0, close). The caller retries if it is taken meanwhile. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * The processes below `pid` (sshd's per-connection processes), read from /proc. WHY: they call
 * setsid(), so killing sshd's process group leaves established connections up — as on a real
 * host, where `systemctl restart ssh` keeps sessions. A bastion that goes down for real (reboot,
 * crash) takes them along; halt() does that by ending these by their ids.
 */
function descendants(pid: number): number[] {
  const parent = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = parent.get(ppid) ?? [];
      list.push(Number(entry));
      parent.set(ppid, list);
    } catch {
      /* exited meanwhile */
    }
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0 && out.length < 10_000) {
    for (const c of parent.get(queue.shift() as number) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

/** Stop sshd and every connection it serves (a host going down). */
async function haltTree(child: ChildProcess): Promise<void> {
  const below = child.pid === undefined ? [] : descendants(child.pid);
  await stopProcess(child);
  for (const pid of below) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killGroup = (sig: NodeJS.Signals) => {
    // sshd runs in its own process group (detached), so per-connection children die too.
    try {
      process.kill(-(child.pid as number), sig);
    } catch {
      try {
        child.kill(sig);
      } catch {
        /* gone */
      }
    }
  };
  killGroup('SIGTERM');
  const t = setTimeout(() => killGroup('SIGKILL'), 2000);
  await exited;
  clearTimeout(t);
}

/**
 * `extraConfig` lines come first in sshd_config, so they override the defaults below (sshd keeps
 * the first value of a keyword), e.g. `LogLevel VERBOSE` or `AllowTcpForwarding yes`.
 */
export async function startSshd(extraConfig: string[] = []): Promise<Sshd> {
  if (!existsSync(SSHD_PATH)) {
    throw new Error(`OpenSSH sshd not found at ${SSHD_PATH}: these tests need a real sshd (apt-get install openssh-server)`);
  }
  // Privilege-separation directory OpenSSH insists on.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const dir = mkdtempSync(join(tmpdir(), 'warmpool-sshd-'));
  const hostKey = sshKeygen(dir, 'host_ed25519', 'ed25519');
  const client = sshKeygen(dir, 'client_ed25519', 'ed25519');
  const passphrase = 'correct horse battery staple';
  const encrypted = sshKeygen(dir, 'client_rsa_enc', 'rsa', passphrase);
  const authorized = join(dir, 'authorized_keys');
  writeFileSync(authorized, `${client.publicLine}\n${encrypted.publicLine}\n`, { mode: 0o600 });
  const username = userInfo().username;
  // The shell sshd starts for each command reads ~/.bashrc (bash does when run by sshd). On this
  // kind of machine root's runs `pyenv init`, which costs tens of ms per command and, with a stale
  // pyenv lock left behind, waits 60 s: an empty HOME makes every command independent of rc files.
  const home = join(dir, 'home');
  mkdirSync(home, { mode: 0o700 });

  let lastErr = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const config = join(dir, 'sshd_config');
    writeFileSync(
      config,
      [
        ...extraConfig,
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey.path}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${authorized}`,
        'UsePAM no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        'PermitRootLogin yes',
        'StrictModes no',
        'MaxSessions 10',
        'MaxStartups 100:30:200',
        'LogLevel ERROR',
        'UseDNS no',
        'PrintMotd no',
        'PrintLastLog no',
        `SetEnv HOME=${home}`,
        '',
      ].join('\n'),
    );
    let stderr = '';
    const launch = async (): Promise<{ child: ChildProcess; up: boolean; exited: () => boolean }> => {
      const child = spawn(SSHD_PATH, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.length > 200000) stderr = stderr.slice(-100000);
      });
      let exited = false;
      child.once('exit', () => {
        exited = true;
      });
      child.once('error', (err) => {
        stderr += String(err);
        exited = true;
      });
      const deadline = Date.now() + 5000;
      let up = false;
      while (!exited && Date.now() < deadline) {
        if (await canConnect(port)) {
          up = true;
          break;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      return { child, up: up && !exited, exited: () => exited };
    };
    let { child, up } = await launch();
    if (up) {
      const pub = readFileSync(`${hostKey.path}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
      return {
        host: '127.0.0.1',
        port,
        dir,
        hostKeyFingerprint: hostKey.fingerprint,
        hostKeyPublic: pub,
        knownHostsLine: `[127.0.0.1]:${port} ${pub}`,
        clientKeyPath: client.path,
        clientKeyPem: client.privatePem,
        encryptedKeyPath: encrypted.path,
        encryptedKeyPem: encrypted.privatePem,
        passphrase,
        username,
        log: () => stderr,
        halt: () => haltTree(child),
        async restart() {
          await haltTree(child);
          // The old listener's port can linger a moment after the process died: bounded retries.
          for (let i = 0; i < 20; i++) {
            ({ child, up } = await launch());
            if (up) return;
            await stopProcess(child);
            await new Promise((r) => setTimeout(r, 100));
          }
          throw new Error(`could not restart sshd on port ${port}: ${stderr.slice(-500)}`);
        },
        async stop() {
          await haltTree(child);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await stopProcess(child);
    lastErr = stderr.trim() || (child.exitCode !== null ? `sshd exited with ${child.exitCode}` : 'sshd did not accept connections within 5 s');
    if (!/address already in use|bind/i.test(lastErr)) break; // only a port race is worth retrying
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`could not start OpenSSH sshd for tests: ${lastErr}`);
}

/** A complete DeviceSpec for SSH tests; pass what the test is about. */
export function testDevice(over: Partial<DeviceSpec> & { host: string; port: number }, ssh: Partial<SshSettings> = {}): DeviceSpec {
  return {
    id: 'test-dev',
    platform: 'linux',
    mode: 'exec',
    username: userInfo().username,
    hostKey: { acceptAny: true },
    labels: {},
    pool: { ...testPoolSettings },
    ssh: { ...testSshSettings, connectTimeoutMs: 5000, healthCheckAfterMs: 30000, ...ssh },
    source: 'file',
    ...over,
  };
}

/** The device for this sshd with the unencrypted ed25519 client key and the host key pinned. */
export function sshdDevice(sshd: Sshd, over: Partial<DeviceSpec> = {}, ssh: Partial<SshSettings> = {}): DeviceSpec {
  return testDevice(
    {
      host: sshd.host,
      port: sshd.port,
      username: sshd.username,
      privateKey: Secret.fromValue(sshd.clientKeyPem),
      hostKey: { fingerprints: [sshd.hostKeyFingerprint] },
      ...over,
    },
    ssh,
  );
}

export interface TcpProxy {
  port: number;
  /** TCP connections accepted so far. */
  readonly accepted: number;
  /** Stop forwarding in both directions without closing anything: a silent, half-dead peer. */
  freeze(): void;
  close(): Promise<void>;
}

/**
 * A loopback TCP proxy in front of `targetPort`: counts connections and can go silent. The fault
 * proxy under a narrower name (freeze is its blackhole, for open and new connections), kept for the sshd tests that use it.
 */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const proxy = await startFaultProxy({ host: '127.0.0.1', port: targetPort });
  return {
    port: proxy.port,
    get accepted() {
      return proxy.totalConnections();
    },
    freeze: () => proxy.set({ blackhole: true }),
    close: () => proxy.close(),
  };
}
