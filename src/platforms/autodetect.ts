/**
 * `platform: autodetect`: which platform a device is, found once at first connect by a bounded
 * set of read-only show commands, as Netmiko's SSHDetect does (netmiko/ssh_autodetect.py
 * SSH_MAPPER_DICT: "show version" for most, "display version" for VRP/Comware, "get system
 * status" for FortiOS, "show system info" for PAN-OS, "uname -a" for Linux; the signatures
 * below are its search patterns where it has one).
 *
 * The probe session is an ordinary shell session driven by the catalogue's AUTODETECT_PROBE
 * profile (any prompt, every pager answered, no paging command). The prompt it learns orders
 * the probes (a "<host>" prompt asks VRP first), so most devices answer the first command.
 *
 * Wiring: the SSH session factory (drivers/ssh-factory.ts) calls `PlatformDetections.resolve`
 * before opening a device whose platform is `autodetect` and opens the real session with
 * `withDetectedPlatform`; the daemon keeps one PlatformDetections and GetDevice reports
 * `detected(id)` as Device.detected_platform (docs/platforms.md "Autodetect").
 */
import type { DeviceSpec, Platform } from '../config/types.js';
import { WarmpoolError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { ShellSession } from '../drivers/shell-driver.js';

export interface Detection {
  platform: Platform;
  /** The probe command whose output identified it. */
  command: string;
  /** The line that matched (for the log line and GetDevice). */
  evidence: string;
  /** Probe commands sent. */
  probes: number;
}

interface Signature {
  command: string;
  re: RegExp;
  /** The learned prompt must match too (SR OS: the same output from both CLIs, told apart by the prompt). */
  prompt?: RegExp;
  platform: Platform;
}

/** Ordered: more specific first (IOS XR and ASA before IOS; NX-OS before IOS; OS10 before OS9). */
export const SIGNATURES: readonly Signature[] = [
  { command: 'show version', re: /Cisco IOS XR/, platform: 'cisco_xr' },
  { command: 'show version', re: /Cisco Adaptive Security Appliance|Cisco ASA/, platform: 'cisco_asa' },
  { command: 'show version', re: /Cisco Nexus Operating System|NX-OS/, platform: 'cisco_nxos' },
  { command: 'show version', re: /Cisco IOS XE Software|Cisco IOS Software|Cisco Internetwork Operating System Software/, platform: 'cisco_ios' },
  { command: 'show version', re: /Arista|vEOS/, platform: 'arista_eos' },
  { command: 'show version', re: /JUNOS Software Release|JUNOS .+ Software|JUNOS OS Kernel|JUNOS Base Version|^Junos: /m, platform: 'juniper_junos' },
  { command: 'show version', re: /ArubaOS-CX/, platform: 'aruba_aoscx' },
  { command: 'show version', re: /ArubaOS \(MODEL|Aruba Operating System Software/, platform: 'aruba_os' },
  { command: 'show version', re: /Image stamp.*\/code\/build/, platform: 'hp_procurve' },
  { command: 'show version', re: /Dell EMC Networking OS10.Enterprise|Dell SmartFabric OS10[\s-]Enterprise/, platform: 'dell_os10' },
  { command: 'show version', re: /Real Time Operating System Software|Dell (?:EMC )?Networking OS Version\s*:\s*9|Dell Application Software Version:\s*9/, platform: 'dell_force10' },
  { command: 'show version', re: /PowerConnect|Dell EMC Networking N\d{4}|Dell Networking N\d{4}/, platform: 'dell_os6' },
  { command: 'show version', re: /ExtremeXOS|\bEXOS\b/, platform: 'extreme_exos' },
  { command: 'show version', re: /NetIron|\bMLX\b/, platform: 'brocade_netiron' },
  { command: 'show version', re: /\bICX\d{4}|FastIron|Ruckus/, platform: 'brocade_fastiron' },
  // The MD-CLI's prompt line names the user ("A:admin@pe1#"), the classic one does not ("A:pe1#"): Netmiko's test.
  { command: 'show version', re: /TiMOS|Nokia \d{4}|Alcatel-Lucent/, prompt: /^\*?[ABCD]:[\w.-]+@[\w.-]+#$/, platform: 'nokia_sros_mdcli' },
  { command: 'show version', re: /TiMOS|Nokia \d{4}|Alcatel-Lucent/, platform: 'nokia_sros' },
  { command: 'show version', re: /\bVyOS\b/, platform: 'vyos' },
  { command: 'display version', re: /HPE Comware|HP Comware|H3C Comware/, platform: 'hp_comware' },
  { command: 'display version', re: /VRP \(R\) software, Version 8\./, platform: 'huawei_vrpv8' },
  { command: 'display version', re: /Huawei Versatile Routing Platform|Huawei Technologies/, platform: 'huawei' },
  { command: 'get system status', re: /FortiOS|FortiGate/, platform: 'fortinet' },
  { command: 'show system info', re: /model:\s+PA/, platform: 'paloalto_panos' },
  { command: '/system resource print', re: /MikroTik|RouterOS|board-name: CHR/, platform: 'mikrotik_routeros' },
  // Junos root logins land in the FreeBSD shell ("root@r1:RE:0%"); its kernel is Juniper's.
  { command: 'uname -a', re: /^FreeBSD .*\bJNPR-/m, platform: 'juniper_junos' },
  { command: 'uname -a', re: /^Linux /m, platform: 'linux' },
];

/** Every probe command, in the default order (the most platforms answer the first). */
export const PROBE_COMMANDS: readonly string[] = ['show version', 'display version', 'get system status', 'show system info', '/system resource print', 'uname -a'];

/** The probe order for a learned prompt: the command its shape suggests first, then the rest. */
export function probeOrder(prompt: string): string[] {
  const first: string[] = [];
  if (/^\[.+@.+\].*>$/.test(prompt)) first.push('/system resource print');
  else if (/^(?:HRP_\w|RBM_\w)?[<[].*[>\]]$/.test(prompt)) first.push('display version');
  else if (/^[\w.-]+@[\w.-]+:.*[$#%]$/.test(prompt)) first.push('uname -a', 'show version');
  else if (/^[\w.-]+@[\w.-]+(?:\(\w+\))?>$/.test(prompt)) first.push('show version', 'show system info');
  else if (/^[\w.-]+(?: \([\w.-]+\))? [#$]$/.test(prompt)) first.push('get system status', 'show version');
  return [...new Set([...first, ...PROBE_COMMANDS])];
}

/** The platform a probe output identifies (at the learned `prompt`), or undefined. */
export function classifyProbe(command: string, output: string, prompt = ''): { platform: Platform; evidence: string } | undefined {
  for (const s of SIGNATURES) {
    if (s.command !== command || (s.prompt && !s.prompt.test(prompt))) continue;
    const m = s.re.exec(output);
    if (!m) continue;
    const start = output.lastIndexOf('\n', m.index) + 1;
    const end = output.indexOf('\n', m.index);
    return { platform: s.platform, evidence: output.slice(start, end < 0 ? undefined : end).trim().slice(0, 200) };
  }
  return undefined;
}

export interface DetectOptions {
  /** Per probe command; default min(5000, device.ssh.commandTimeoutMs). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Identify the platform behind an open probe session (a ShellSession opened for a device whose
 * platform is `autodetect`). At most PROBE_COMMANDS.length commands are sent, one per batch,
 * and only until one identifies the device. A device none of them identifies is PLATFORM_UNKNOWN
 * (gRPC FAILED_PRECONDITION: the request was fine, the device's inventory entry must name its
 * platform), naming the prompt and what was tried.
 */
export async function detectPlatform(device: DeviceSpec, session: ShellSession, opts: DetectOptions = {}): Promise<Detection> {
  const timeoutMs = opts.timeoutMs ?? Math.min(5000, device.ssh.commandTimeoutMs);
  const order = probeOrder(session.prompt);
  let probes = 0;
  for (const command of order) {
    probes++;
    const [r] = await session.runBatch({
      commands: [command],
      privileged: false,
      configure: false,
      stopOnError: false,
      timeoutMs: () => timeoutMs,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const hit = r ? classifyProbe(command, r.output, session.prompt) : undefined;
    if (hit) return { ...hit, command, probes };
  }
  throw new WarmpoolError(
    'PLATFORM_UNKNOWN',
    `device ${device.id}: platform autodetect could not identify the device (prompt "${session.prompt}", tried ${order.join(', ')}); set platform explicitly (docs/platforms.md)`,
    { device: device.id, field: 'platform' },
  );
}

/** The device as the detected platform drives it (its mode follows the platform unless it was set). */
export function withDetectedPlatform(device: DeviceSpec, platform: Platform): DeviceSpec {
  return { ...device, platform };
}

/**
 * Detections per device, each probed once: concurrent first connects share one probe, and a
 * failed probe is not remembered (the next connect tries again). Forget a device when its
 * spec changes (PutDevice, reload).
 */
export class PlatformDetections {
  readonly #done = new Map<string, Detection>();
  readonly #inFlight = new Map<string, Promise<Detection>>();
  readonly #log: Logger;

  constructor(logger: Logger = silentLogger) {
    this.#log = logger;
  }

  detected(deviceId: string): Detection | undefined {
    return this.#done.get(deviceId);
  }

  /** The device's spec changed or it left: detect again at its next connect (a probe still running is not kept). */
  forget(deviceId: string): void {
    this.#done.delete(deviceId);
    this.#inFlight.delete(deviceId);
  }

  /** The detection for `device`, running `probe` only when there is none yet. */
  async resolve(device: DeviceSpec, probe: () => Promise<Detection>): Promise<Detection> {
    const known = this.#done.get(device.id);
    if (known) return known;
    let p = this.#inFlight.get(device.id);
    if (!p) {
      const mine: Promise<Detection> = probe().then(
        (d) => {
          // Forgotten meanwhile (the device changed): answer this caller, remember nothing.
          if (this.#inFlight.get(device.id) !== mine) return d;
          this.#done.set(device.id, d);
          this.#inFlight.delete(device.id);
          this.#log.info({ device: device.id, platform: d.platform, command: d.command, evidence: d.evidence, probes: d.probes }, 'platform detected');
          return d;
        },
        (err: unknown) => {
          if (this.#inFlight.get(device.id) === mine) this.#inFlight.delete(device.id);
          throw err;
        },
      );
      p = mine;
      this.#inFlight.set(device.id, p);
    }
    return p;
  }
}
