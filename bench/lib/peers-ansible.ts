/**
 * Drives Ansible (Debian's ansible + ansible-core: ansible.netcommon.network_cli and
 * cisco.ios.ios_command) against one device for bench/peers.ts. Per-task times come from the
 * callback plugin bench/peers/ansible/callback_plugins/peers_timing.py; a cold call is a whole
 * `ansible-playbook` process, timed here from spawn to exit.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peersDir } from './peers-netmiko.js';
import { reapOnExit } from './sim-process.js';

export interface AnsibleTask {
  name: string;
  ms: number;
  ok: boolean;
  error: string;
}

export interface PlaybookRun {
  /** From spawn to exit of `ansible-playbook`. */
  wallMs: number;
  tasks: AnsibleTask[];
}

export interface AnsibleTarget {
  host: string;
  port: number;
  username: string;
  password: string;
}

export interface AnsibleRunner {
  /**
   * One playbook run over one persistent connection: a warm-up task, then `rounds` × (a task with
   * default settings, a task with ansible_buffer_read_timeout 0), then `reconnects` × (meta:
   * reset_connection, a task), which pays login and terminal set-up again without a new process.
   */
  held(rounds: number, reconnects: number): Promise<PlaybookRun>;
  /** bench/peers/ansible/cold.yml as a new `ansible-playbook` process. */
  cold(): Promise<PlaybookRun>;
  close(): void;
}

const TASK = 'cisco.ios.ios_command: { commands: [show version] }';

export function startAnsible(target: AnsibleTarget, timeoutMs = 120_000): AnsibleRunner {
  const dir = mkdtempSync(join(tmpdir(), 'warmpool-peers-ansible-'));
  const inventory = join(dir, 'inventory.ini');
  writeFileSync(inventory, [
    '[ios]',
    `sim ansible_host=${target.host} ansible_port=${target.port}`,
    '[ios:vars]',
    'ansible_connection=ansible.netcommon.network_cli',
    'ansible_network_os=cisco.ios.ios',
    `ansible_user=${target.username}`,
    `ansible_password=${target.password}`,
    '',
  ].join('\n'), { mode: 0o600 });
  const ansibleDir = join(peersDir(), 'ansible');
  let runs = 0;

  const run = (playbook: string): Promise<PlaybookRun> => {
    const timingFile = join(dir, `timing-${runs++}.json`);
    // Everything Ansible writes (persistent-connection sockets, temp files) stays in this run's directory.
    mkdirSync(join(dir, 'pc'), { recursive: true });
    const env = {
      ...process.env,
      ANSIBLE_CONFIG: join(ansibleDir, 'ansible.cfg'),
      ANSIBLE_HOME: dir,
      ANSIBLE_LOCAL_TEMP: join(dir, 'tmp'),
      ANSIBLE_PERSISTENT_CONTROL_PATH_DIR: join(dir, 'pc'),
      PEERS_TIMING_FILE: timingFile,
    };
    const t0 = performance.now();
    const proc = reapOnExit(spawn('ansible-playbook', ['-i', inventory, playbook], { env, cwd: ansibleDir, stdio: ['ignore', 'pipe', 'pipe'] }));
    let tail = '';
    const keep = (d: Buffer) => (tail = (tail + d.toString()).slice(-6000));
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    return new Promise<PlaybookRun>((resolve, reject) => {
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      proc.once('error', (e) => reject(new Error(`cannot run ansible-playbook (${e.message}): run scripts/install-bench-deps.sh`)));
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        const wallMs = performance.now() - t0;
        if (code !== 0) return reject(new Error(`ansible-playbook ${playbook} ${signal ? `killed by ${signal} after ${timeoutMs} ms` : `exited ${code}`}:\n${tail}`));
        let tasks: AnsibleTask[];
        try {
          tasks = (JSON.parse(readFileSync(timingFile, 'utf8')) as { tasks: AnsibleTask[] }).tasks;
        } catch (e) {
          return reject(new Error(`no task timings from the peers_timing callback (${String(e)}):\n${tail}`));
        }
        const bad = tasks.find((t) => !t.ok);
        if (bad) return reject(new Error(`ansible task "${bad.name}" failed: ${bad.error}`));
        resolve({ wallMs, tasks });
      });
    });
  };

  return {
    held(rounds, reconnects) {
      const lines = ['- name: held', '  hosts: ios', '  gather_facts: false', '  tasks:', '    - name: warm-up', `      ${TASK}`];
      for (let i = 0; i < rounds; i++) {
        // Alternate the two settings so machine noise hits both alike.
        lines.push(`    - name: held-default ${i}`, `      ${TASK}`);
        lines.push(`    - name: held-tuned ${i}`, `      ${TASK}`, '      vars: { ansible_buffer_read_timeout: 0 }');
      }
      for (let i = 0; i < reconnects; i++) {
        lines.push('    - meta: reset_connection', `    - name: reconnect ${i}`, `      ${TASK}`);
      }
      const file = join(dir, 'held.yml');
      writeFileSync(file, `${lines.join('\n')}\n`);
      return run(file);
    },
    cold: () => run(join(ansibleDir, 'cold.yml')),
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
