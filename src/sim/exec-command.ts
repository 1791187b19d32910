/**
 * `ssh device COMMAND` on a simulated device: one command on an exec channel, answered from
 * platforms.ts (execOnce) after the per-command latency, with exit status and stderr. `sleep N`
 * and `hang` (and the hang fault) never answer before their time; dropMidOutput cuts the output.
 */
import type { ServerChannel } from 'ssh2';
import { execOnce, type SimContext } from './platforms.js';
import type { DeviceCtx } from './options.js';

export function handleExec(dev: DeviceCtx, stream: ServerChannel, command: string): void {
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
