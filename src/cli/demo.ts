import { loadConfig } from '../config/load.js';
import { validateDevice } from '../config/inventory.js';
import type { AppConfig, BastionSpec, DeviceSpec } from '../config/types.js';
import { createLogger } from '../core/logger.js';
import { startSimHttpDevice, type SimHttpDevice } from '../sim/http-device.js';
import { startSimBastion, type SimBastion } from '../sim/bastion.js';
import { startSimDevice } from '../sim/ssh-device.js';
import { validateBastion } from '../config/bastion.js';
import { startSimFleet, type SimDevice, type SimFleetSpec } from '../sim/ssh-device.js';
import { Daemon } from '../server.js';
import { checkDaemonArgv } from './daemon-args.js';
import { portsInUse, isAddressInUse, portInUseMessage } from './ports.js';
import { runUntilSignalled } from './serve.js';
import { watchTerminal } from './terminal-watch.js';

export const DEMO_HELP = `usage: warmpool demo [--<config.key> VALUE ...]

Starts simulated devices (Cisco IOS, Arista EOS with an eAPI-style HTTP API, Junos, Linux, and
a Cisco IOS device behind a simulated jump host) on loopback and the daemon with them registered, then prints what to try. Config flags work as for "serve"
(for example --grpc.listen 127.0.0.1:50052 --metrics.listen 127.0.0.1:9465).

Stops (and frees its ports) on Ctrl-C, SIGTERM, SIGHUP, or when its terminal closes.
Exit status: 0 clean stop, 2 invalid configuration or usage, 1 any other failure (a port in use).`;

const FLEET: SimFleetSpec[] = [
  { id: 'demo-ios', platform: 'cisco_ios', hostname: 'demo-ios', perCommandLatencyMs: 0 },
  { id: 'demo-eos', platform: 'arista_eos', hostname: 'demo-eos' },
  { id: 'demo-junos', platform: 'juniper_junos', hostname: 'demo-junos' },
  { id: 'demo-linux', platform: 'linux', hostname: 'demo-linux' },
];

/** The demo's jump host and the device behind it (docs/operations.md, "Bastions"). */
const DEMO_BASTION = 'demo-jump';
const DEMO_BEHIND = 'demo-edge';

/** The demo's HTTP API credentials (the simulator's; nothing real). */
const DEMO_API_USER = 'demo-api';
const DEMO_API_PASSWORD = 'demo-api-pass';

/**
 * The demo device entries, exactly as a user would write them in devices.yaml. `api` is the
 * eAPI-style HTTP endpoint given to demo-eos, so the demo shows both protocols.
 */
export function demoDevices(devices: Map<string, SimDevice>, defaults: AppConfig['defaults'], api?: SimHttpDevice): DeviceSpec[] {
  return [...devices].map(([id, sim]) =>
    validateDevice({
      id, host: sim.host, port: sim.port, platform: sim.platform, username: sim.username, password: sim.password,
      ...(sim.enableSecret ? { enableSecret: sim.enableSecret } : {}),
      hostKey: { fingerprints: [sim.hostKeyFingerprint] },
      labels: { site: 'demo', platform: sim.platform, role: sim.platform === 'linux' ? 'server' : 'network' },
      pool: { min: 1, max: 2 },
      // demo-junos also speaks NETCONF over SSH (its simulator answers the netconf subsystem).
      ...(id === 'demo-junos' ? { netconf: {} } : {}),
      ...(api && id === 'demo-eos'
        ? { http: { baseUrl: api.url, auth: { type: 'basic', username: DEMO_API_USER, password: DEMO_API_PASSWORD } } }
        : {}),
    }, defaults, 'api', 'demo'),
  );
}

/** The demo's bastion entry and the device reached through it, as a user would write them. */
export function demoBastion(jump: SimBastion, edge: SimDevice, defaults: AppConfig['defaults']): { bastion: BastionSpec; device: DeviceSpec } {
  const bastion = validateBastion({
    id: DEMO_BASTION, host: jump.host, port: jump.port, username: jump.username, password: jump.password,
    hostKey: { fingerprints: [jump.hostKeyFingerprint] },
  }, defaults, 'demo');
  const device = validateDevice({
    id: DEMO_BEHIND, host: edge.host, port: edge.port, platform: edge.platform, username: edge.username, password: edge.password,
    enableSecret: edge.enableSecret, hostKey: { fingerprints: [edge.hostKeyFingerprint] }, via: DEMO_BASTION,
    labels: { site: 'demo', platform: edge.platform, role: 'network' }, pool: { min: 1, max: 2 },
  }, defaults, 'api', 'demo');
  return { bastion, device };
}

export async function demo(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${DEMO_HELP}\n`);
    return 0;
  }
  // The demo is for a laptop: keep metrics on loopback unless told otherwise.
  checkDaemonArgv(argv);
  const config = loadConfig({ argv: ['--metrics.listen', '127.0.0.1:9464', ...argv], env: process.env });
  // Before anything starts: a second demo would otherwise fail half-way with grpc-js's own noise.
  const busy = await portsInUse([{ what: 'gRPC', listen: config.grpc.listen }, { what: 'metrics', listen: config.metrics.listen }]);
  if (busy) {
    process.stderr.write(`warmpool demo: ${busy}\n`);
    return 1;
  }
  const fleet = await startSimFleet(FLEET);
  const api = await startSimHttpDevice({ auth: 'basic', username: DEMO_API_USER, password: DEMO_API_PASSWORD, hostname: 'demo-eos' });
  const jump = await startSimBastion();
  const edge = await startSimDevice({ platform: 'cisco_ios', hostname: DEMO_BEHIND });
  const stopSims = async () => {
    await fleet.close();
    await api.close();
    await jump.close();
    await edge.close();
  };
  const behind = demoBastion(jump, edge, config.defaults);
  const logger = createLogger(config.log.level === 'info' ? 'warn' : config.log.level);
  const daemon = new Daemon(config, { logger });
  try {
    await daemon.start([...demoDevices(fleet.devices, config.defaults, api), behind.device], [behind.bastion]);
  } catch (err) {
    await stopSims();
    // Taken between the check above and the bind (a race with another demo).
    if (isAddressInUse(err)) {
      daemon.forceStop();
      process.stderr.write(`warmpool demo: ${portInUseMessage(config.grpc.listen, config.metrics.listen)}\n`);
      return 1;
    }
    throw err;
  }
  const addr = daemon.grpcAddress;
  const addrFlag = addr === '127.0.0.1:50051' ? '' : ` --addr ${addr}`;
  process.stdout.write(`
warmpool demo is running: gRPC on ${addr}, metrics on http://${daemon.metricsAddress}/metrics
Simulated devices: ${[...fleet.devices.keys()].join(', ')} (each with 1 warm session, max 2);
demo-eos also has an HTTP API (eAPI-style) at ${api.url}; demo-junos also speaks NETCONF (DeviceProxy/Netconf)
${DEMO_BEHIND} is reached through the jump host ${DEMO_BASTION} (ssh ${jump.host}:${jump.port}): its sessions are channels over one pooled bastion login

Try, in another terminal:
  npx warmpool exec${addrFlag} demo-ios "show version"
  npx warmpool exec${addrFlag} demo-ios --privileged "show running-config"
  npx warmpool exec${addrFlag} demo-linux "uname -a"
  npx warmpool exec${addrFlag} ${DEMO_BEHIND} "show version"          # through the bastion ${DEMO_BASTION}
  npx warmpool many${addrFlag} --labels role=network -- "show version"
  npx warmpool http${addrFlag} demo-eos POST /command-api --body '{"jsonrpc":"2.0","method":"runCmds","params":{"version":1,"cmds":["show version"]},"id":1}'
  npx warmpool http${addrFlag} demo-eos GET /restconf/data/interfaces
  npx warmpool devices${addrFlag}
  npx warmpool stats${addrFlag}
  grpcurl -plaintext -d '{"device":"demo-eos","commands":["show version"]}' ${addr} warmpool.v1.DeviceProxy/Run
  grpcurl -plaintext -d '{"device":"demo-junos","rpc":"<get-config><source><running/></source></get-config>"}' ${addr} warmpool.v1.DeviceProxy/Netconf

Ctrl-C to stop.
`);
  let unwatch = (): void => {};
  const code = await runUntilSignalled(daemon, { hangup: 'stop', watch: (stop) => (unwatch = watchTerminal(stop)) });
  unwatch();
  await stopSims();
  return code;
}
