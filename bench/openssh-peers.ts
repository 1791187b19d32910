/**
 * warmpool against what people already use, on ONE real OpenSSH sshd, same user, same command:
 *   OpenSSH ControlMaster — `ssh -o ControlMaster=auto -o ControlPath=… -o ControlPersist=60 host CMD`,
 *                           one process per command over a master opened once and warmed;
 *   warmpool exec mode    — gRPC Run to `warmpool serve` (a child process) with the device in
 *                           `mode: exec`: one exec channel per command on a pooled connection;
 *   cold ssh              — `ssh host CMD`, a new connection per command (reference, every COLD_EVERY-th turn).
 * Turns are interleaved so machine noise hits every side alike.
 *
 * The remote command must cost the same small amount on both sides. Running as root, root's
 * ~/.bashrc here loads pyenv (~110 ms per exec), which would drown the comparison, so the bench logs
 * in as a dedicated user `warmpool-bench` whose login shell is /bin/sh (dash reads no rc file for
 * `-c`), created if missing. Not running as root: the current user, whose shell is reported.
 *
 *   node dist/bench/openssh-peers.js [N=300]
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { startSshd, type Sshd } from '../test/kit/sshd.js';
import { call, startDaemonProcess, waitForIdleSessions, type DaemonClients, type DaemonProcess } from './lib/daemon-process.js';
import { summarize, table, writeResult } from './lib/stats.js';

const N = Number(process.argv[2] ?? 300);
const COLD_EVERY = 10;
const CMD = 'echo hi';
const BENCH_USER = 'warmpool-bench';

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The login user for both sides, and how it was obtained. */
function benchUser(): { name: string; note: string } {
  if (process.getuid?.() !== 0) return { name: userInfo().username, note: `not root: logged in as the current user ${userInfo().username}` };
  let existed = true;
  try {
    sh('getent', ['passwd', BENCH_USER]);
  } catch {
    existed = false;
    // No home directory to create; "/" so sshd's chdir succeeds without a warning on every command.
    sh('useradd', ['--system', '-M', '-d', '/', '-s', '/bin/sh', BENCH_USER]);
  }
  // useradd leaves the password field "!" (locked); with UsePAM no, sshd refuses a locked account even
  // for key authentication. "*" = no password can match, but the account is not locked.
  sh('usermod', ['-p', '*', BENCH_USER]);
  return { name: BENCH_USER, note: `running as root: logged in as ${BENCH_USER} (${existed ? 'existing' : 'created with useradd --system -M -d / -s /bin/sh'})` };
}

/** Runs one ssh client process; resolves with its stdout, rejects on a non-zero exit. */
function ssh(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('ssh', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.once('error', reject);
    p.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`ssh ${args.slice(-2).join(' ')} exited ${code}: ${err.trim()}`))));
  });
}

async function main(): Promise<void> {
  const user = benchUser();
  let sshd: Sshd | undefined;
  let daemon: DaemonProcess | undefined;
  let clients: DaemonClients | undefined;
  const work = mkdtempSync(join(tmpdir(), 'wpb-'));
  const controlPath = join(work, 'cm');
  let base: string[] = [];
  try {
    sshd = await startSshd();
    // sshd reads authorized_keys as the logging-in user: let a non-root user reach the file.
    chmodSync(sshd.dir, 0o711);
    chmodSync(join(sshd.dir, 'authorized_keys'), 0o644);
    const knownHosts = join(work, 'known_hosts');
    writeFileSync(knownHosts, `${sshd.knownHostsLine}\n`);
    base = [
      '-F', '/dev/null', '-p', String(sshd.port), '-i', sshd.clientKeyPath, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
      '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'LogLevel=ERROR',
    ];
    const target = `${user.name}@127.0.0.1`;
    const mux = [...base, '-o', 'ControlMaster=auto', '-o', `ControlPath=${controlPath}`, '-o', 'ControlPersist=60'];
    const cold = [...base, '-o', 'ControlMaster=no', '-o', 'ControlPath=none'];

    daemon = await startDaemonProcess({
      devices: [{
        id: 'sshd', host: '127.0.0.1', port: sshd.port, platform: 'linux', mode: 'exec', username: user.name,
        privateKeyFile: sshd.clientKeyPath, hostKey: { fingerprints: [sshd.hostKeyFingerprint] }, pool: { min: 1, max: 1 },
      }],
    });
    clients = daemon.clients();
    const c = clients;
    await waitForIdleSessions(c, 1, 30_000);
    const run = async (cmd: string): Promise<string> => {
      const r = await call<{ results: { output: string; exit_status: number; failed: boolean; error: string }[] }>(c.proxy, 'Run', { device: 'sshd', commands: [cmd] }, 10_000);
      const x = r.results[0]!;
      if (x.failed) throw new Error(`warmpool Run failed: ${x.error}`);
      return x.output;
    };

    // Who runs the command, on each side: must be the same user and shell.
    const probe = 'id -un; readlink /proc/$$/exe';
    const viaMux = (await ssh([...mux, target, probe])).trim(); // also opens the master
    const viaDaemon = (await run(probe)).trim();
    if (viaMux !== viaDaemon) throw new Error(`the sides do not run as the same user/shell: ssh "${viaMux}" vs warmpool "${viaDaemon}"`);
    const [who, shell] = viaMux.split('\n');

    const check = (side: string, out: string) => {
      if (out.trim() !== 'hi') throw new Error(`${side}: unexpected output ${JSON.stringify(out)}`);
    };
    for (let i = 0; i < 20; i++) {
      check('ControlMaster', await ssh([...mux, target, CMD]));
      check('warmpool', await run(CMD));
    }
    check('cold ssh', await ssh([...cold, target, CMD]));

    const t = { mux: [] as number[], warm: [] as number[], cold: [] as number[] };
    for (let i = 0; i < N; i++) {
      // Alternate which side goes first.
      const sides: Array<'mux' | 'warm'> = i % 2 === 0 ? ['mux', 'warm'] : ['warm', 'mux'];
      for (const s of sides) {
        const t0 = performance.now();
        check(s, s === 'mux' ? await ssh([...mux, target, CMD]) : await run(CMD));
        t[s].push(performance.now() - t0);
      }
      if (i % COLD_EVERY === 0) {
        const t0 = performance.now();
        check('cold', await ssh([...cold, target, CMD]));
        t.cold.push(performance.now() - t0);
      }
    }
    const rows = [
      summarize('warmpool exec mode: gRPC Run', t.warm),
      summarize('OpenSSH ControlMaster (warm master, ssh process per command)', t.mux),
      summarize('cold `ssh host cmd` (new connection per command)', t.cold),
    ];
    const md = [
      `### warmpool exec mode vs OpenSSH ControlMaster vs cold ssh, same sshd (${new Date().toISOString().slice(0, 10)}, node ${process.version})`,
      '',
      `One OpenSSH sshd on 127.0.0.1 (${sshVersion()}), key authentication; command \`${CMD}\`, output checked on every call; ${N} interleaved turns,`,
      `cold every ${COLD_EVERY}th. Both sides logged in as \`${who}\` and the command ran in \`${shell}\` (${user.note}; checked on both sides).`,
      'warmpool: `warmpool serve` in a child process, device `mode: exec` (pool min = max = 1), called over gRPC from the benchmark process.',
      `OpenSSH: \`ssh -o ControlMaster=auto -o ControlPath=… -o ControlPersist=60 ${who}@127.0.0.1 '${CMD}'\`, master opened once and warmed with 20 commands;`,
      'each command is a new ssh client process (fork+exec+mux handshake), which is how scripts use ControlMaster.',
      'Machine: 2 cores shared by sshd, the daemon and the benchmark.',
      '',
      table(rows, rows[0]!.name),
      '',
      `ControlMaster / warmpool at p50: ${(rows[1]!.p50 / rows[0]!.p50).toFixed(2)}×; cold / warmpool at p50: ${(rows[2]!.p50 / rows[0]!.p50).toFixed(1)}×.`,
    ].join('\n');
    process.stdout.write(`${md}\n`);
    writeResult('openssh-peers', md, { date: new Date().toISOString(), node: process.version, sshd: sshVersion(), user: who, shell, command: CMD, n: N, rows });
  } finally {
    if (sshd) await ssh([...base, '-o', `ControlPath=${controlPath}`, '-O', 'exit', `${user.name}@127.0.0.1`]).catch(() => {});
    clients?.close();
    await daemon?.stop();
    await sshd?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

function sshVersion(): string {
  // `ssh -V` prints to stderr.
  const r = execFileSync('sh', ['-c', 'ssh -V 2>&1'], { encoding: 'utf8' });
  return r.trim();
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
