/**
 * Every catalogue platform against its simulator, through the real shell driver over real SSH:
 * login past banner and MOTD (and ProCurve's "Press any key"), clean output, paging off (or the
 * pager answered when it cannot be), privilege, configuration mode (commit where the platform
 * has one), error lines. One table, the same checks for every platform.
 */
import t from 'tap';
import type { Platform } from '../src/config/types.js';
import { resolvePlatformName } from '../src/platforms/aliases.js';
import { runningConfigText } from '../src/sim/platforms.js';
import { LONG_COMMAND, vendorSim, type VendorSimPlatform } from '../src/sim/platforms/index.js';
import { batch, openSimShell, startSim } from './kit/sim.js';

interface Row {
  /** A platform name as a user writes it (canonical or an alias). */
  platform: string;
  /** The prompt after login, as the driver learns it. */
  prompt: string;
  version: string;
  versionRe: RegExp;
  /** Prompt while a privileged batch runs ('' when the platform has no separate level). */
  privPrompt: string;
  bad: string;
  badError: RegExp;
  /** undefined: no configuration mode (configure: true is refused). */
  config?: { lines: string[]; promptRe: RegExp; committed?: string; contextRe?: RegExp };
  /** Two-line prompts (SR OS MD-CLI): the context line above the prompt at login and after every batch. */
  context?: string;
  /** The prompt after a configuration batch, when it differs from `prompt` (unsaved markers). */
  afterConfig?: string;
  /** A line the platform prints before every show output (XR's time stamp), removed before comparing. */
  stamp?: RegExp;
  /** The pager is answered when paging is not disabled (false: the platform's pager is not answered). */
  pager: boolean;
}

const ROWS: Row[] = [
  { platform: 'cisco_xr', prompt: 'RP/0/RP0/CPU0:ios#', version: 'show version', versionRe: /^\w{3} \w{3} \d+ [\d:.]+ UTC\nCisco IOS XR Software/, privPrompt: 'RP/0/RP0/CPU0:ios#', bad: 'show foo', badError: /^% Invalid input detected at '\^' marker\.$/, config: { lines: ['interface Gi0/0/0/1', 'description uplink', 'exit', 'logging host 192.0.2.9'], promptRe: /^RP\/0\/RP0\/CPU0:ios\(config(-if)?\)#$/, committed: 'commit' }, stamp: /^\w{3} \w{3} \d+ [\d:.]+ UTC\n/, pager: true },
  { platform: 'cisco_asa', prompt: 'ciscoasa>', version: 'show version', versionRe: /^\nCisco Adaptive Security Appliance Software Version/, privPrompt: 'ciscoasa#', bad: 'show foo', badError: /^ERROR: % Invalid input detected at '\^' marker\.$/, config: { lines: ['interface Gi0/1', 'description uplink', 'exit', 'logging host inside 192.0.2.9'], promptRe: /^ciscoasa\(config(-if)?\)#$/ }, pager: true },
  { platform: 'huawei', prompt: '<HUAWEI>', version: 'display version', versionRe: /^Huawei Versatile Routing Platform Software\n/, privPrompt: '', bad: 'display foo', badError: /^Error: Unrecognized command found at '\^' position\.$/, config: { lines: ['interface GigabitEthernet0/0/1', 'description uplink', 'quit', 'info-center loghost 192.0.2.9'], promptRe: /^\[HUAWEI(-GigabitEthernet0\/0\/1)?\]$/ }, pager: true },
  { platform: 'huawei_vrpv8', prompt: '<HUAWEI>', version: 'display version', versionRe: /^Huawei Versatile Routing Platform Software\nVRP \(R\) software, Version 8\./, privPrompt: '', bad: 'display foo', badError: /^Error: Unrecognized command found at '\^' position\.$/, config: { lines: ['interface GigabitEthernet0/0/1', 'description uplink', 'quit', 'info-center loghost 192.0.2.9'], promptRe: /^\[[~*]HUAWEI(-GigabitEthernet0\/0\/1)?\]$/, committed: 'commit' }, pager: true },
  { platform: 'hp_comware', prompt: '<HPE>', version: 'display version', versionRe: /^HPE Comware Software, Version 7/, privPrompt: '', bad: 'display foo', badError: /^% Unrecognized command found at '\^' position\.$/, config: { lines: ['interface GigabitEthernet1/0/1', 'description uplink', 'quit', 'info-center loghost 192.0.2.9'], promptRe: /^\[HPE(-GigabitEthernet1\/0\/1)?\]$/ }, pager: true },
  { platform: 'hp_procurve', prompt: 'HP-2920-24G>', version: 'show version', versionRe: /^Image stamp: +\/ws\/swbuildm\/.*\/code\/build\//, privPrompt: 'HP-2920-24G#', bad: 'show foo', badError: /^Invalid input: foo$/, config: { lines: ['interface 1', 'name uplink', 'exit', 'logging 192.0.2.9'], promptRe: /^HP-2920-24G\((config|eth-1)\)#$/ }, pager: true },
  { platform: 'aruba_os', prompt: '(Aruba7210) >', version: 'show version', versionRe: /^Aruba Operating System Software\.\nArubaOS \(MODEL: Aruba7210\)/, privPrompt: '(Aruba7210) #', bad: 'show foo', badError: /^% Invalid input detected at '\^' marker\.$/, config: { lines: ['interface gigabitethernet 0/0/1', 'description uplink', 'exit', 'logging 192.0.2.9'], promptRe: /^\(Aruba7210\) \((config|config-subif)\) ?#$/ }, pager: true },
  { platform: 'aruba_aoscx', prompt: 'switch#', version: 'show version', versionRe: /^-+\nArubaOS-CX\n/, privPrompt: 'switch#', bad: 'show foo', badError: /^Invalid input: foo$/, config: { lines: ['interface 1/1/1', 'description uplink', 'exit', 'logging 192.0.2.9'], promptRe: /^switch\(config(-if)?\)#$/ }, pager: true },
  { platform: 'nokia_sros', prompt: 'A:pe1#', version: 'show version', versionRe: /^TiMOS-C-23\.10\.R1 /, privPrompt: 'A:pe1#', bad: 'show foo', badError: /^Error: Bad command\.$/, config: { lines: ['port 1/1/1', 'description "uplink"', 'exit', 'system', 'location "fra1"'], promptRe: /^\*?A:pe1>config(>port|>system)?#$/ }, afterConfig: '*A:pe1#', pager: true },
  { platform: 'nokia_sros_mdcli', prompt: 'A:admin@pe1#', context: '[/]', version: 'show version', versionRe: /^TiMOS-B-23\.10\.R1 /, privPrompt: 'A:admin@pe1#', bad: 'show foo', badError: /^MINOR: CLI #2001: Unknown element - 'foo'$/, config: { lines: ['configure port 1/1/1', 'description "uplink"', 'admin-state enable', 'exit all', 'configure system location "fra1"'], promptRe: /^A:admin@pe1#$/, contextRe: /^\*?\(pr\)\[\/(?:configure port 1\/1\/1)?\]$/, committed: 'commit' }, pager: true },
  { platform: 'fortinet', prompt: 'FGT-1 #', version: 'get system status', versionRe: /^Version: FortiGate-VM64 v7\.4\.2/, privPrompt: 'FGT-1 #', bad: 'show foo', badError: /^Command fail\. Return code -61$/, pager: true },
  { platform: 'paloalto_panos', prompt: 'admin@PA-VM>', version: 'show system info', versionRe: /\nmodel: PA-VM\n/, privPrompt: 'admin@PA-VM>', bad: 'frobnicate', badError: /^Unknown command: frobnicate$/, config: { lines: ['set network interface ethernet ethernet1/1 comment uplink', 'set deviceconfig system timezone UTC'], promptRe: /^admin@PA-VM#$/, committed: 'commit' }, pager: true },
  { platform: 'mikrotik_routeros', prompt: '[admin@MikroTik] >', version: '/system resource print', versionRe: /version: 7\.12\.1 \(stable\)/, privPrompt: '[admin@MikroTik] >', bad: 'frobnicate', badError: /^bad command name frobnicate \(line 1 column 1\)$/, pager: true },
  { platform: 'dell_os10', prompt: 'OS10#', version: 'show version', versionRe: /^Dell SmartFabric OS10 Enterprise\n/, privPrompt: 'OS10#', bad: 'show foo', badError: /^% Error: Unrecognized command\.$/, config: { lines: ['interface ethernet1/1/1', 'description uplink', 'exit', 'logging server 192.0.2.9'], promptRe: /^OS10\(conf(ig|-if-eth1\/1\/1)\)#$/ }, pager: true },
  { platform: 'dell_force10', prompt: 'Dell>', version: 'show version', versionRe: /^Dell Real Time Operating System Software\n/, privPrompt: 'Dell#', bad: 'show foo', badError: /^% Error: Invalid input at "\^" marker\.$/, config: { lines: ['interface TenGigabitEthernet 1/1', 'description uplink', 'exit', 'logging 192.0.2.9'], promptRe: /^Dell\(conf(-if-te-1\/1)?\)#$/ }, pager: true },
  { platform: 'dell_os6', prompt: 'console>', version: 'show version', versionRe: /Dell EMC Networking N3048EP-ON/, privPrompt: 'console#', bad: 'show foo', badError: /^% Invalid input detected at '\^' marker\.$/, config: { lines: ['interface Gi1/0/1', 'description uplink', 'exit', 'logging 192.0.2.9'], promptRe: /^console\(config(-if-Gi1\/0\/1)?\)#$/ }, pager: true },
  { platform: 'brocade_fastiron', prompt: 'SSH@ICX7150-48P Router>', version: 'show version', versionRe: /SW: Version 08\.0\.95/, privPrompt: 'SSH@ICX7150-48P Router#', bad: 'show foo', badError: /^Invalid input -> foo$/, config: { lines: ['interface ethernet 1/1/1', 'port-name uplink', 'exit', 'logging host 192.0.2.9'].map((l) => l.replace('port-name', 'name')), promptRe: /^SSH@ICX7150-48P Router\(config(-if-e1000-1\/1\/1)?\)#$/ }, pager: true },
  { platform: 'brocade_netiron', prompt: 'SSH@MLX-4>', version: 'show version', versionRe: /^System: NetIron MLX/, privPrompt: 'SSH@MLX-4#', bad: 'show foo', badError: /^Invalid input -> foo$/, config: { lines: ['interface ethernet 1/1', 'name uplink', 'exit', 'logging host 192.0.2.9'], promptRe: /^SSH@MLX-4\(config(-if-e10000-1\/1)?\)#$/ }, pager: true },
  { platform: 'extreme_exos', prompt: 'X460-48t.2 #', version: 'show version', versionRe: /\nImage {3}: ExtremeXOS version 32\.5/, privPrompt: '', bad: 'show foo', badError: /^%% Invalid input detected at '\^' marker\.$/, pager: true },
  { platform: 'vyos', prompt: 'admin@vyos:~$', version: 'show version', versionRe: /^Version: {10}VyOS 1\.4\.0\n/, privPrompt: 'admin@vyos:~$', bad: 'frobnicate', badError: /^Invalid command: \[frobnicate\]$/, config: { lines: ['set interfaces ethernet eth1 description uplink', 'set protocols static route 0.0.0.0/0 next-hop 192.0.2.1'], promptRe: /^admin@vyos#$/, committed: 'commit' }, pager: false },
  // The platforms whose profiles predate the catalogue, and an alias, through the same checks.
  { platform: 'cisco_ios', prompt: 'Router>', version: 'show version', versionRe: /^Cisco IOS XE Software/, privPrompt: 'Router#', bad: 'show foo', badError: /^% Invalid input detected at '\^' marker\.$/, config: { lines: ['interface Gi0/1', 'description uplink', 'exit', 'logging host 192.0.2.9'], promptRe: /^Router\(config(-if)?\)#$/ }, pager: true },
  { platform: 'cisco_xe', prompt: 'Router>', version: 'show version', versionRe: /^Cisco IOS XE Software/, privPrompt: 'Router#', bad: 'show foo', badError: /^% Invalid input detected at '\^' marker\.$/, config: { lines: ['interface Gi0/1', 'description uplink'], promptRe: /^Router\(config(-if)?\)#$/ }, pager: true },
  { platform: 'cisco_nxos', prompt: 'switch#', version: 'show version', versionRe: /^Cisco Nexus Operating System/, privPrompt: 'switch#', bad: 'show foo', badError: /^% Invalid command at '\^' marker\.$/, config: { lines: ['interface Eth1/1', 'description uplink'], promptRe: /^switch\(config(-if)?\)#$/ }, pager: true },
  { platform: 'arista_eos', prompt: 'sw1>', version: 'show version', versionRe: /^Arista DCS-7050SX3/, privPrompt: 'sw1#', bad: 'show foo', badError: /^% Invalid input$/, config: { lines: ['interface Ethernet1', 'description uplink'], promptRe: /^sw1\(config(-if)?\)#$/ }, pager: true },
  { platform: 'juniper', prompt: 'admin@router>', version: 'show version', versionRe: /^Hostname: router\nModel: mx204\n/, privPrompt: '', bad: 'frobnicate', badError: /^unknown command\.$/, config: { lines: ['set interfaces ge-0/0/1 description uplink', 'set system ntp server 192.0.2.1'], promptRe: /^admin@router#$/, committed: 'commit and-quit' }, pager: true },
  { platform: 'linux', prompt: 'admin@host:~$', version: 'uname -a', versionRe: /^Linux host 6\.8\.0/, privPrompt: '', bad: 'nosuchcmd', badError: /^bash: nosuchcmd: command not found$/, pager: false },
];

const LINES = 300;

/** The command that prints a long output on each simulator, and exactly what it prints. */
function longCommand(p: Platform): { command: string; text: (hostname: string, lines: number) => string } {
  if (vendorSim(p)) return LONG_COMMAND[p as VendorSimPlatform];
  if (p === 'linux') return { command: `seq ${LINES}`, text: (_h, n) => Array.from({ length: n }, (_, i) => `${i + 1}\n`).join('') };
  return { command: p === 'juniper_junos' ? 'show configuration' : 'show running-config', text: (h, n) => runningConfigText(p, h, n) };
}
/** EXOS numbers its prompts ("X460-48t.7 #"): compare without the counter. */
const counterless = (p: string): string => p.replace(/\.\d+ #$/, '.N #');

for (const row of ROWS) {
  t.test(row.platform, async (t) => {
    const named = resolvePlatformName(row.platform);
    if (!named.ok) throw new Error(named.problem);
    const sim = await startSim(t, { platform: named.platform, runConfigLines: LINES });
    const long = longCommand(named.platform);
    const expected = long.text(sim.hostname, LINES);

    t.test('logs in past banner and MOTD, learns the prompt, runs a command cleanly', async (t) => {
      const s = await openSimShell(t, sim);
      t.equal(s.prompt, row.prompt);
      t.equal(s.promptContext, row.context ?? '', 'the context line above the prompt');
      const [r] = await s.runBatch(batch([row.version]));
      t.equal(r?.failed, false, r?.error);
      t.match(r?.output, row.versionRe);
      t.notMatch(r?.output, /[\r\x1b\b]/, 'no control characters');
      t.notOk(r?.output.includes(row.version), 'no echo');
    });

    t.test('paging is off: a long output arrives whole and clean', async (t) => {
      const s = await openSimShell(t, sim);
      const [r] = await s.runBatch(batch([long.command], { privileged: row.privPrompt !== '' && row.privPrompt !== row.prompt }));
      t.equal(r?.failed, false, r?.error);
      t.equal(r?.output.replace(row.stamp ?? /^$/, ''), expected);
    });

    if (row.pager) {
      t.test('the pager is answered when paging is not disabled', async (t) => {
        const s = await openSimShell(t, sim, { pagingCommand: '' });
        const [r] = await s.runBatch(batch([long.command], { privileged: row.privPrompt !== '' && row.privPrompt !== row.prompt }));
        t.equal(r?.output.replace(row.stamp ?? /^$/, ''), expected);
      });
    }

    t.test('an invalid command is flagged with its error line and the next one runs', async (t) => {
      const s = await openSimShell(t, sim);
      const rs = await s.runBatch(batch([row.bad, row.version]));
      t.equal(rs[0]?.failed, true);
      t.match(rs[0]?.error, row.badError);
      t.equal(rs[1]?.failed, false, rs[1]?.error);
      t.match(rs[1]?.output, row.versionRe);
      const stopped = await s.runBatch(batch([row.bad, row.version], { stopOnError: true }));
      t.equal(stopped.length, 1, 'stopOnError stops after the failing command');
      t.equal(s.dirty, false);
    });

    t.test('a privileged batch runs at privileged level and leaves the session as it was', async (t) => {
      const s = await openSimShell(t, sim);
      const seen: string[] = [];
      const rs = await s.runBatch(batch([row.version], { privileged: true, onResult: () => seen.push(s.prompt) }));
      t.equal(rs[0]?.failed, false, rs[0]?.error);
      if (row.privPrompt !== '') t.same(seen, [row.privPrompt]);
      t.equal(counterless(s.prompt), counterless(row.prompt), 'back at the normal prompt');
      t.equal(s.dirty, false);
    });

    if (row.config) {
      const cfg = row.config;
      t.test('a configuration batch enters config mode, follows sub-modes, commits where needed and returns', async (t) => {
        const s = await openSimShell(t, sim);
        const seen: string[] = [];
        const contexts: string[] = [];
        const rs = await s.runBatch(batch(cfg.lines, { configure: true, privileged: true, onResult: () => (seen.push(s.prompt), contexts.push(s.promptContext)) }));
        t.equal(rs.length, cfg.lines.length);
        t.ok(rs.every((r) => !r.failed), JSON.stringify(rs.filter((r) => r.failed)));
        for (const p of seen) t.match(p, cfg.promptRe);
        if (cfg.contextRe) for (const c of contexts) t.match(c, cfg.contextRe);
        t.equal(s.promptContext, row.context ?? '', 'back at the operational context');
        t.equal(counterless(s.prompt), counterless(row.afterConfig ?? row.prompt), 'normal state restored');
        t.equal(s.dirty, false);
        if (cfg.committed) t.ok((sim.stats.commandCounts.get(cfg.committed) ?? 0) >= 1, `changes committed with "${cfg.committed}"`);
      });
    } else {
      t.test('no configuration mode: configure is refused and the session stays usable', async (t) => {
        const s = await openSimShell(t, sim);
        await t.rejects(s.runBatch(batch([row.version], { configure: true })), { code: 'INVALID_ARGUMENT' });
        t.equal(s.dirty, false);
        const [r] = await s.runBatch(batch([row.version]));
        t.match(r?.output, row.versionRe);
      });
    }

    t.test('50 commands in a row on one session are all clean', async (t) => {
      const s = await openSimShell(t, sim);
      const rs = await s.runBatch(batch(Array.from({ length: 50 }, () => row.version)));
      const bad = rs.filter((r) => r.failed || !row.versionRe.test(r.output) || /[\r\x1b\b]/.test(r.output) || r.output.includes(row.version));
      t.equal(bad.length, 0, JSON.stringify(bad.slice(0, 2)));
    });
  });
}
