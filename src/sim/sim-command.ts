/**
 * `warmpool sim --platform P --port N ...`: one simulated device in the foreground, so
 * people can point their own automation at the same device the demo and tests use.
 */
import { PLATFORMS as ALL_PLATFORMS } from '../config/types.js';
import { resolvePlatformName } from '../platforms/aliases.js';
import { startSimDevice, type SimFaults, type SimOptions } from './ssh-device.js';
import { HOSTILE_HELP } from './hostile.js';

/** `autodetect` is a way to configure a device, not a CLI to simulate. */
const PLATFORMS = ALL_PLATFORMS.filter((p) => p !== 'autodetect');

const USAGE = `usage: warmpool sim --platform ${PLATFORMS.join('|')} [--port N] [--host 127.0.0.1]
       [--hostname NAME] [--username U] [--password P] [--enable-secret S]
       [--latency-ms N] [--login-delay-ms N] [--run-config-lines N]
       [--fault hang|drop-mid-output|refuse-auth] [--max-sessions N] [--max-channels N] [--idle-close-ms N]
       [--hostile] [--netconf-framing 1.0|1.1] [--login-screen] [--password-expired] [--junos-shell]

Every simulated device also answers NETCONF over SSH (the "netconf" subsystem on the same port:
hello, get-config, get, edit-config in memory, close-session, rpc-error for other operations);
--netconf-framing 1.0 offers base:1.0 only (end-of-message framing), the default also base:1.1.

--login-screen shows the platform's login screen before the first prompt (Comware, FortiOS, Force10,
RouterOS); --password-expired demands a password change instead of the first prompt; --junos-shell
starts juniper_junos logins in the FreeBSD shell (type "cli"), as root's do.

--hostile accepts commands that misbehave on purpose (for testing clients):
${HOSTILE_HELP.replace(/\r\n/g, '\n').replace(/^/gm, '  ')}`;

export class SimUsageError extends Error {}

/** Parses the flags (`--k v` or `--k=v`) into SimOptions; throws SimUsageError with the reason. */
export function parseSimArgs(argv: string[]): SimOptions {
  const flags = new Map<string, string[]>();
  let hostile = false;
  const switches: Pick<SimOptions, 'loginScreen' | 'passwordExpired' | 'junosShell'> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '-h' || a === '--help') throw new SimUsageError(USAGE);
    if (a === '--hostile') {
      hostile = true;
      continue;
    }
    if (a === '--login-screen' || a === '--password-expired' || a === '--junos-shell') {
      switches[a === '--login-screen' ? 'loginScreen' : a === '--password-expired' ? 'passwordExpired' : 'junosShell'] = true;
      continue;
    }
    if (!a.startsWith('--')) throw new SimUsageError(`unexpected argument "${a}"\n${USAGE}`);
    let key = a.slice(2);
    let value: string;
    const eq = key.indexOf('=');
    if (eq >= 0) {
      value = key.slice(eq + 1);
      key = key.slice(0, eq);
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw new SimUsageError(`--${key} needs a value\n${USAGE}`);
      value = next;
      i++;
    }
    flags.set(key, [...(flags.get(key) ?? []), value]);
  }
  const one = (k: string): string | undefined => flags.get(k)?.at(-1);
  const num = (k: string): number | undefined => {
    const v = one(k);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new SimUsageError(`--${k} must be a non-negative integer, got "${v}"`);
    return n;
  };
  // Aliases as the inventory takes them (cisco_xe, juniper, ...: src/platforms/aliases.ts).
  const named = resolvePlatformName(one('platform'));
  const platform = named.ok && named.platform !== 'autodetect' ? named.platform : undefined;
  if (!platform) {
    const hint = !named.ok && /did you mean "[^"]+"\?$/.exec(named.problem)?.[0];
    throw new SimUsageError(`--platform must be one of ${PLATFORMS.join(', ')}${hint ? ` (${hint})` : ''}\n${USAGE}`);
  }
  const faults: SimFaults = {};
  for (const f of flags.get('fault') ?? []) {
    for (const name of f.split(',')) {
      if (name === 'hang') faults.hang = true;
      else if (name === 'drop-mid-output' || name === 'dropMidOutput') faults.dropMidOutput = true;
      else if (name === 'refuse-auth' || name === 'refuseAuth') faults.refuseAuth = true;
      else throw new SimUsageError(`unknown --fault "${name}" (hang, drop-mid-output, refuse-auth)`);
    }
  }
  const maxSessions = num('max-sessions');
  if (maxSessions !== undefined) faults.maxSessions = maxSessions;
  const maxChannels = num('max-channels');
  if (maxChannels !== undefined) faults.maxChannels = maxChannels;
  const idle = num('idle-close-ms');
  if (idle !== undefined) faults.idleCloseMs = idle;
  const opts: SimOptions = { platform, faults, ...(hostile ? { hostile } : {}), ...switches };
  const set = <K extends keyof SimOptions>(k: K, v: SimOptions[K] | undefined): void => {
    if (v !== undefined) opts[k] = v;
  };
  set('host', one('host'));
  set('port', num('port'));
  set('hostname', one('hostname'));
  set('username', one('username'));
  set('password', one('password'));
  set('enableSecret', one('enable-secret'));
  set('perCommandLatencyMs', num('latency-ms'));
  set('loginDelayMs', num('login-delay-ms'));
  set('runConfigLines', num('run-config-lines'));
  const framing = one('netconf-framing');
  if (framing !== undefined) {
    if (framing !== '1.0' && framing !== '1.1') throw new SimUsageError(`--netconf-framing must be 1.0 or 1.1, got "${framing}"`);
    opts.netconfFraming = framing;
  }
  if (opts.host !== undefined && !/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(opts.host)) {
    // The simulator accepts any password it was given; keep it off real networks.
    throw new SimUsageError(`--host must be a loopback address, got "${opts.host}"`);
  }
  return opts;
}

/**
 * Runs one simulated device until SIGINT/SIGTERM. Returns the process exit code
 * (0 clean stop, 2 bad arguments, 1 failure to start).
 */
export async function runSimCommand(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let opts: SimOptions;
  try {
    opts = parseSimArgs(argv);
  } catch (e) {
    if (e instanceof SimUsageError) {
      err.write(e.message + '\n');
      return 2;
    }
    throw e;
  }
  let sim;
  try {
    sim = await startSimDevice(opts);
  } catch (e) {
    err.write(`warmpool sim: cannot listen on ${opts.host ?? '127.0.0.1'}:${opts.port ?? 0}: ${(e as Error).message}\n`);
    return 1;
  }
  // Printing the simulator's own test credentials is the point of this command.
  out.write(
    [
      `simulated ${sim.platform} device listening on ${sim.host}:${sim.port}`,
      `  ssh -p ${sim.port} ${sim.username}@${sim.host}`,
      `  username:        ${sim.username}`,
      `  password:        ${sim.password}`,
      `  enable secret:   ${sim.enableSecret}`,
      `  host key:        ${sim.hostKeyFingerprint}`,
      `  netconf:         ssh -p ${sim.port} ${sim.username}@${sim.host} -s netconf   (base:${opts.netconfFraming === '1.0' ? '1.0' : '1.0 and 1.1'})`,
      ...(opts.hostile ? ['  hostile:         on (type "hostile help" in a shell)'] : []),
      `press Ctrl-C to stop`,
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await sim.close();
  return 0;
}
