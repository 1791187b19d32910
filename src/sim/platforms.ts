/**
 * What each simulated platform says: prompts, pager strings, error texts and command
 * outputs. The SSH plumbing (line discipline, paging, faults) lives in ssh-device.ts;
 * this module is a pure interpreter `interpret(ctx, line) -> Reply`, so the behaviour
 * of a platform can be read in one place and compared with the real thing.
 */
import type { Platform } from '../config/types.js';
import { caret, interpretVendor, renderVendorPrompt } from './platforms/kit.js';
import { VENDOR_HOSTNAMES, vendorSim } from './platforms/index.js';
import { confirmation, type Question } from './confirmations.js';

export type SimPlatform = Platform;

/** Mutable per-shell state the interpreter reads and changes. */
export interface SimContext {
  platform: SimPlatform;
  /** Shared per device (a hostname change is visible to every session, as on a real box). */
  device: { hostname: string; runConfigLines: number; genericPrompts?: GenericPrompts; versionText?: string };
  username: string;
  /** cisco-like: user | priv | config | config-sub; junos: oper | edit; linux: shell. */
  mode: 'user' | 'priv' | 'config' | 'config-sub' | 'oper' | 'edit' | 'shell';
  /** Sub-mode name for config-sub ("config-if", "config-line", ...). */
  sub: string;
  paging: boolean;
  /** Junos: uncommitted candidate changes, and a host-name waiting for commit. */
  uncommitted: boolean;
  pendingHostname: string;
  /** Junos: the candidate fails its commit check (simulator hook, see `commit-error`). */
  commitFails?: boolean;
  /** Generic platform overrides. */
  pagingCommand: string;
  enableCommand: string;
}

export interface GenericPrompts {
  user: string;
  priv: string;
  config: string;
}

export type Reply =
  | { kind: 'output'; text: string; pageable?: boolean; exitStatus?: number }
  | { kind: 'sleep'; ms: number; text: string }
  | { kind: 'hang' }
  | { kind: 'password' }
  | { kind: 'logout' }
  /** `text`, then `question.ask` without a line break; the next line typed is its answer (confirmations.ts). */
  | { kind: 'question'; text: string; question: Question };

export interface PagerStyle {
  /** Shown after a page, without a newline. */
  prompt: string;
  /** Written after the user's key, to erase the prompt (the artefact the cleaner removes). */
  erase: string;
}

const IOS_PAGER: PagerStyle = { prompt: ' --More-- ', erase: '\b'.repeat(10) + ' '.repeat(10) + '\b'.repeat(10) };
const JUNOS_PAGER: PagerStyle = { prompt: '---(more)---', erase: '\r\x1b[K' };

export function pagerStyle(p: SimPlatform): PagerStyle {
  const v = vendorSim(p); // catalogue platforms: src/sim/platforms/
  if (v) return v.pager;
  return p === 'juniper_junos' ? JUNOS_PAGER : IOS_PAGER;
}

export const DEFAULT_HOSTNAMES: Record<SimPlatform, string> = {
  ...VENDOR_HOSTNAMES,
  autodetect: 'gen1', // not a CLI: `warmpool sim` refuses it; a simulator started with it is IOS-like
  cisco_ios: 'Router',
  cisco_nxos: 'switch',
  arista_eos: 'sw1',
  juniper_junos: 'router',
  linux: 'host',
  generic: 'gen1',
};

export function initialMode(p: SimPlatform): SimContext['mode'] {
  const v = vendorSim(p);
  if (v) return v.start;
  if (p === 'linux') return 'shell';
  if (p === 'juniper_junos') return 'oper';
  if (p === 'cisco_nxos') return 'priv';
  return 'user';
}

export function renderPrompt(ctx: SimContext): string {
  const v = vendorSim(ctx.platform);
  if (v) return renderVendorPrompt(v, ctx);
  const h = ctx.device.hostname;
  switch (ctx.platform) {
    case 'linux':
      return `${ctx.username}@${h}:~$ `;
    case 'juniper_junos':
      if (ctx.mode === 'shell') return `${ctx.username}@${h}:RE:0% `;
      return `${ctx.username}@${h}${ctx.mode === 'edit' ? '#' : '>'} `;
    case 'cisco_nxos': {
      const m = ctx.mode === 'config' ? '(config)' : ctx.mode === 'config-sub' ? `(${ctx.sub})` : '';
      return `${h}${m}# `;
    }
    case 'generic': {
      const g = ctx.device.genericPrompts;
      if (g) return ctx.mode === 'user' ? g.user : ctx.mode === 'priv' ? g.priv : g.config;
      return ciscoPrompt(ctx, h);
    }
    default:
      return ciscoPrompt(ctx, h);
  }
}

function ciscoPrompt(ctx: SimContext, h: string): string {
  switch (ctx.mode) {
    case 'user':
      return `${h}>`;
    case 'config':
      return `${h}(config)#`;
    case 'config-sub':
      return `${h}(${ctx.sub})#`;
    default:
      return `${h}#`;
  }
}

// ---------------------------------------------------------------------------
// Outputs

const pad2 = (n: number): string => String(n).padStart(2, '0');
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function clockLine(now = new Date()): string {
  const ms = String(now.getUTCMilliseconds()).padStart(3, '0');
  return `*${pad2(now.getUTCHours())}:${pad2(now.getUTCMinutes())}:${pad2(now.getUTCSeconds())}.${ms} UTC ${DAYS[now.getUTCDay()]} ${MONTHS[now.getUTCMonth()]} ${now.getUTCDate()} ${now.getUTCFullYear()}`;
}

function versionText(p: SimPlatform, h: string): string {
  switch (p) {
    case 'juniper_junos':
      return `Hostname: ${h}\nModel: mx204\nJunos: 23.4R1.9\nJUNOS OS Kernel 64-bit  [20231208.a3f2f1b_builder_stable_13]\nJUNOS OS runtime [20231208.a3f2f1b_builder_stable_13]\n`;
    case 'cisco_nxos':
      return `Cisco Nexus Operating System (NX-OS) Software\nTAC support: http://www.cisco.com/tac\n\nSoftware\n  NXOS: version 10.3(4a) [Maintenance Release]\n\nHardware\n  cisco Nexus9000 C93180YC-FX Chassis\n\n  Device name: ${h}\n  Kernel uptime is 12 day(s), 3 hour(s), 4 minute(s), 5 second(s)\n`;
    case 'arista_eos':
      return `Arista DCS-7050SX3-48YC8\nHardware version: 11.01\nSerial number: JPE21000000\nSystem MAC address: 001c.7300.0001\n\nSoftware image version: 4.31.2F\nArchitecture: x86_64\nUptime: 2 weeks, 3 days, 4 hours and 5 minutes\nTotal memory: 8099732 kB\n`;
    default:
      return `Cisco IOS XE Software, Version 17.09.04a\nCisco IOS Software [Cupertino], Virtual XE Software (X86_64_LINUX_IOSD-UNIVERSALK9-M), Version 17.9.4a, RELEASE SOFTWARE (fc3)\nTechnical Support: http://www.cisco.com/techsupport\nCopyright (c) 1986-2023 by Cisco Systems, Inc.\n\nROM: IOS-XE ROMMON\n\n${h} uptime is 2 weeks, 3 days, 4 hours, 5 minutes\nUptime for this control processor is 2 weeks, 3 days, 4 hours, 7 minutes\nSystem image file is "bootflash:packages.conf"\n\ncisco C8000V (VXE) processor (revision VXE) with 1987231K/3075K bytes of memory.\nProcessor board ID 9ABCDEF0123\n4 Gigabit Ethernet interfaces\n32768K bytes of non-volatile configuration memory.\n\nConfiguration register is 0x2102\n`;
  }
}

/** `show interfaces`: statuses coloured with ANSI, as some platforms do on a colour terminal. */
function interfacesText(): string {
  const green = (s: string): string => `\x1b[32m${s}\x1b[0m`;
  const out: string[] = [];
  for (let i = 0; i < 4; i++) {
    out.push(`GigabitEthernet0/${i} is ${green('up')}, line protocol is ${green('up')}`);
    out.push(`  Hardware is CSR vNIC, address is 5254.00${pad2(i)}.0001 (bia 5254.00${pad2(i)}.0001)`);
    out.push(`  Internet address is 10.0.${i}.1/24`);
    out.push('  MTU 1500 bytes, BW 1000000 Kbit/sec, DLY 10 usec,');
    out.push(`     ${1000 + i} packets input, ${64000 + i} bytes, 0 no buffer`);
    out.push(`     ${2000 + i} packets output, ${128000 + i} bytes, 0 underruns`);
  }
  return out.join('\n') + '\n';
}

function briefText(): string {
  return [
    'Interface              IP-Address      OK? Method Status                Protocol',
    'GigabitEthernet0/0     10.0.0.1        YES NVRAM  up                    up',
    'GigabitEthernet0/1     10.0.1.1        YES NVRAM  up                    up',
    'GigabitEthernet0/2     unassigned      YES unset  administratively down down',
    'Loopback0              192.0.2.1       YES NVRAM  up                    up',
  ].join('\n') + '\n';
}

const configCache = new Map<string, string>();

/**
 * A deterministic running configuration of exactly `lines` lines (each ending in "\n").
 * Exported so tests can compare what they received byte for byte.
 */
export function runningConfigText(p: SimPlatform, hostname: string, lines: number): string {
  const key = `${p}|${hostname}|${lines}`;
  const hit = configCache.get(key);
  if (hit !== undefined) return hit;
  const out: string[] = [];
  if (p === 'juniper_junos') {
    out.push('## Last commit: 2026-11-20 10:00:00 UTC by admin', 'version 23.4R1.9;', 'system {', `    host-name ${hostname};`);
    let i = 0;
    while (out.length < lines - 1) {
      out.push(`    /* unit ${i} */ interfaces ge-0/0/${i % 48} unit ${i} family inet address 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32;`);
      i++;
    }
    out.push('}');
  } else {
    out.push('Building configuration...', '', `Current configuration : ${lines * 40} bytes`, '!', `hostname ${hostname}`, '!');
    let i = 0;
    while (out.length < lines - 1) {
      const k = i % 4;
      if (k === 0) out.push(`interface GigabitEthernet${(i >> 2) % 8}/${i >> 5}`);
      else if (k === 1) out.push(` description uplink ${i >> 2} to rack-${(i >> 2) % 97} # port >${i % 48}`);
      else if (k === 2) out.push(` ip address 10.${(i >> 18) & 255}.${(i >> 10) & 255}.${(i >> 2) & 255} 255.255.255.252`);
      else out.push('!');
      i++;
    }
    out.push('end');
  }
  const text = out.slice(0, lines).join('\n') + '\n';
  if (configCache.size > 16) configCache.clear();
  configCache.set(key, text);
  return text;
}

/** `show lines N` (a simulator extension): N numbered lines, handy for size and paging tests. */
export function numberedLinesText(n: number): string {
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = `line ${String(i + 1).padStart(6, '0')} the quick brown fox jumps over the lazy dog`;
  return n === 0 ? '' : out.join('\n') + '\n';
}

// ---------------------------------------------------------------------------
// Interpreter

/** Parses "sleep N" (seconds, fractions allowed); the simulator's tool for timeout tests. */
function sleepMs(words: string[]): number | undefined {
  if (words[0] !== 'sleep' || words.length !== 2) return undefined;
  const s = Number(words[1]);
  return Number.isFinite(s) && s >= 0 ? Math.min(s, 3600) * 1000 : undefined;
}

/** Does the typed word abbreviate `full` (IOS-style: "sh" for "show")? */
const abbrev = (typed: string | undefined, full: string): boolean => typed !== undefined && typed.length > 0 && full.startsWith(typed.toLowerCase());

export function interpret(ctx: SimContext, line: string, promptLen: number): Reply {
  const v = vendorSim(ctx.platform);
  if (v) return interpretVendor(v, ctx, line, promptLen);
  const trimmed = line.trim();
  if (trimmed === '') return { kind: 'output', text: '' };
  const words = trimmed.split(/\s+/);
  if (words[0] === 'hang') return { kind: 'hang' };
  const sl = sleepMs(words);
  if (sl !== undefined) return { kind: 'sleep', ms: sl, text: '' };
  const asked = confirmation(ctx, words, linux);
  if (asked) return asked;
  switch (ctx.platform) {
    case 'juniper_junos':
      return junos(ctx, line, words, promptLen);
    case 'linux':
      return linux(ctx, words).reply;
    default:
      return cisco(ctx, line, words, promptLen);
  }
}

const out = (text: string, pageable = true): Reply => ({ kind: 'output', text, pageable });

// -- Cisco-like (IOS, NX-OS, EOS, generic)

function ciscoInvalid(ctx: SimContext, line: string, badWord: number, promptLen: number): Reply {
  if (ctx.platform === 'arista_eos') return out('% Invalid input\n');
  const msg = ctx.platform === 'cisco_nxos' ? "% Invalid command at '^' marker." : "% Invalid input detected at '^' marker.";
  return out(`${caret(line, badWord, promptLen)}\n${msg}\n\n`);
}

const incomplete = (): Reply => out('% Incomplete command.\n\n');

function ciscoShow(ctx: SimContext, line: string, words: string[], promptLen: number, wordOffset: number): Reply {
  const w = words.slice(wordOffset);
  const priv = ctx.mode !== 'user';
  if (w.length === 1) return incomplete();
  const what = w[1] as string;
  if (abbrev(what, 'version') && what.length >= 3) return out(ctx.device.versionText ?? versionText(ctx.platform, ctx.device.hostname));
  if (abbrev(what, 'clock') && what.length >= 2) return out(clockLine() + '\n', false);
  // Ansible's cisco.ios terminal plugin asks this before and after `enable` (become: enable).
  if (abbrev(what, 'privilege') && what.length >= 4) return out(`Current privilege level is ${priv ? 15 : 1}\n`, false);
  if (abbrev(what, 'interfaces') && what.length >= 3) return out(interfacesText());
  if (what === 'ip' && abbrev(w[2], 'interface') && abbrev(w[3], 'brief')) return out(briefText());
  if (what === 'lines' && w[2] !== undefined && /^\d+$/.test(w[2])) return out(numberedLinesText(Math.min(Number(w[2]), 5_000_000)));
  if (priv && (abbrev(what, 'running-config') && what.length >= 3)) {
    return out(runningConfigText(ctx.platform, ctx.device.hostname, ctx.device.runConfigLines));
  }
  if (priv && abbrev(what, 'startup-config') && what.length >= 3) return out(runningConfigText(ctx.platform, ctx.device.hostname, 20));
  return ciscoInvalid(ctx, line, wordOffset + 1, promptLen);
}

function isPagingCommand(ctx: SimContext, trimmed: string): boolean {
  if (ctx.platform === 'generic' && ctx.pagingCommand) return trimmed === ctx.pagingCommand;
  return /^term(?:inal)?\s+len(?:gth)?\s+0$/i.test(trimmed);
}

function cisco(ctx: SimContext, line: string, words: string[], promptLen: number): Reply {
  const trimmed = words.join(' ');
  const w0 = words[0] as string;
  const inConfig = ctx.mode === 'config' || ctx.mode === 'config-sub';
  if (inConfig) {
    if (w0 === 'end' || (w0 === 'exit' && ctx.mode === 'config')) {
      ctx.mode = 'priv';
      return out('');
    }
    if (w0 === 'exit') {
      ctx.mode = 'config';
      return out('');
    }
    if (w0 === 'do' && words.length > 1) {
      const saved = ctx.mode;
      ctx.mode = 'priv';
      const r = cisco(ctx, line.replace(/^\s*do\s+/, ''), words.slice(1), promptLen + line.indexOf(words[1] as string));
      ctx.mode = saved;
      return r;
    }
    if (w0 === 'hostname') {
      if (words.length < 2) return incomplete();
      if (ctx.platform !== 'generic') ctx.device.hostname = words[1] as string;
      return out('');
    }
    if (abbrev(w0, 'interface') && w0.length >= 3) {
      if (words.length < 2) return incomplete();
      ctx.mode = 'config-sub';
      ctx.sub = 'config-if';
      return out('');
    }
    if (w0 === 'line' || w0 === 'router' || w0 === 'vlan') {
      if (words.length < 2) return incomplete();
      ctx.mode = 'config-sub';
      ctx.sub = w0 === 'line' ? 'config-line' : w0 === 'router' ? 'config-router' : 'config-vlan';
      return out('');
    }
    const accepted = ['description', 'ip', 'ipv6', 'no', 'shutdown', 'logging', 'ntp', 'snmp-server', 'username', 'service', 'spanning-tree', 'switchport', 'mtu', 'banner', 'clock', 'aaa', 'access-list', 'network', 'neighbor', 'name', 'exec-timeout', 'transport', 'speed', 'duplex'];
    if (accepted.includes(w0)) {
      if (words.length < 2 && w0 !== 'shutdown') return incomplete();
      return out('');
    }
    return ciscoInvalid(ctx, line, 0, promptLen);
  }

  // exec modes
  if (isPagingCommand(ctx, trimmed)) {
    ctx.paging = false;
    return out('');
  }
  if (/^term(?:inal)?\s+(?:len(?:gth)?|width)\s+\d+$/i.test(trimmed)) {
    if (/len/i.test(trimmed)) ctx.paging = true;
    return out('');
  }
  if (abbrev(w0, 'show') && w0.length >= 2) return ciscoShow(ctx, line, words, promptLen, 0);
  if (w0 === 'exit' || w0 === 'logout' || w0 === 'quit') return { kind: 'logout' };
  const enableCmd = ctx.platform === 'generic' && ctx.enableCommand ? ctx.enableCommand : 'enable';
  if (trimmed === enableCmd || (ctx.platform !== 'generic' && abbrev(w0, 'enable') && w0.length >= 2 && words.length === 1)) {
    if (ctx.mode === 'priv') return out('');
    return { kind: 'password' };
  }
  if (ctx.mode === 'user') return ciscoInvalid(ctx, line, 0, promptLen);
  // privileged
  if (abbrev(w0, 'disable') && w0.length >= 4) {
    if (ctx.platform !== 'cisco_nxos') ctx.mode = 'user';
    return out('');
  }
  if (abbrev(w0, 'configure') && w0.length >= 4) {
    if (words.length === 1 && ctx.platform === 'cisco_ios') return incomplete();
    if (words.length === 1 || abbrev(words[1], 'terminal')) {
      ctx.mode = 'config';
      return out(ctx.platform === 'cisco_ios' || ctx.platform === 'generic' ? 'Enter configuration commands, one per line.  End with CNTL/Z.\n' : ctx.platform === 'cisco_nxos' ? 'Enter configuration commands, one per line. End with CNTL/Z.\n' : '', false);
    }
    return ciscoInvalid(ctx, line, 1, promptLen);
  }
  if (trimmed === 'write memory' || trimmed === 'wr' || trimmed === 'write') return out('Building configuration...\n[OK]\n', false);
  if (/^copy\s+run(?:ning-config)?\s+start(?:up-config)?$/.test(trimmed)) {
    // Real IOS asks and waits; the simulator asks and carries on (answering with Enter is harmless).
    return out('Destination filename [startup-config]? \nBuilding configuration...\n[OK]\n', false);
  }
  return ciscoInvalid(ctx, line, 0, promptLen);
}

// -- Junos

function junosError(line: string, wordIdx: number, promptLen: number, msg: string): Reply {
  return out(`${caret(line, wordIdx, promptLen)}\n${msg}\n`);
}

/** The FreeBSD shell (csh) a Junos root login lands in: `cli` starts the CLI. */
function junosFreeBsdShell(ctx: SimContext, trimmed: string, w0: string): Reply {
  if (trimmed === 'cli') {
    ctx.mode = 'oper';
    return out('', false);
  }
  if (w0 === 'exit' || w0 === 'logout') return { kind: 'logout' };
  if (trimmed === 'uname -a') {
    const k = 'JNPR-12.1-20231208.a3f2f1b_buil';
    return out(`FreeBSD ${ctx.device.hostname} ${k} FreeBSD ${k} #0 r1234567: Fri Dec  8 02:13:11 UTC 2023     builder@host:/src/obj/kernel amd64\n`, false);
  }
  if (w0 === 'set') return out('', false);
  return out(`${w0}: Command not found.\n`, false);
}

function junos(ctx: SimContext, line: string, words: string[], promptLen: number): Reply {
  const trimmed = words.join(' ');
  const w0 = words[0] as string;
  if (ctx.mode === 'shell') return junosFreeBsdShell(ctx, trimmed, w0);
  if (ctx.mode === 'edit') {
    const edit = '\n[edit]\n';
    if (ctx.commitFails && (trimmed === 'commit and-quit' || trimmed === 'commit')) {
      return out(`[edit system]\n  'commit-error'\n    Simulated commit check failure\nerror: configuration check-out failed\n${edit}`, false);
    }
    if (trimmed === 'commit and-quit') {
      const text = commitApply(ctx);
      ctx.mode = 'oper';
      return out(`${text}commit complete\nExiting configuration mode\n\n`, false);
    }
    if (trimmed === 'commit' || trimmed === 'commit check') {
      const text = trimmed === 'commit' ? commitApply(ctx) : '';
      return out(`${text}${trimmed === 'commit' ? 'commit complete' : 'configuration check succeeds'}\n${edit}`, false);
    }
    if (trimmed === 'exit configuration-mode' || trimmed === 'exit' || trimmed === 'quit') {
      const warn = ctx.uncommitted ? 'The configuration has been changed but not committed\n' : '';
      ctx.mode = 'oper';
      return out(`${warn}Exiting configuration mode\n\n`, false);
    }
    if (trimmed === 'rollback' || trimmed === 'rollback 0') {
      ctx.uncommitted = false;
      ctx.commitFails = false;
      ctx.pendingHostname = '';
      return out(`load complete\n${edit}`, false);
    }
    if (w0 === 'set' || w0 === 'delete') {
      const known = ['system', 'interfaces', 'protocols', 'routing-options', 'policy-options', 'firewall', 'snmp', 'vlans', 'security', 'chassis'];
      if (words.length < 2 || !known.includes(words[1] as string)) return junosError(line, 1, promptLen, 'syntax error.');
      if (w0 === 'set' && words[1] === 'system' && words[2] === 'host-name' && words[3]) ctx.pendingHostname = words[3];
      // Simulator hook: a candidate containing "commit-error" fails its commit check.
      if (words.includes('commit-error')) ctx.commitFails = true;
      ctx.uncommitted = true;
      return out(edit, false);
    }
    if (w0 === 'show') return out(`${ctx.uncommitted ? '## candidate has changes\n' : ''}${edit}`, false);
    if (w0 === 'run' && words.length > 1) {
      ctx.mode = 'oper';
      const r = junos(ctx, line.replace(/^\s*run\s+/, ''), words.slice(1), promptLen + 4);
      ctx.mode = 'edit';
      if (r.kind === 'output') return { ...r, text: r.text + edit };
      return r;
    }
    return junosError(line, 0, promptLen, 'unknown command.');
  }
  // operational mode
  if (trimmed === 'set cli screen-length 0') {
    ctx.paging = false;
    return out('Screen length set to 0\n', false);
  }
  if (/^set cli screen-length \d+$/.test(trimmed)) {
    ctx.paging = true;
    return out(`Screen length set to ${words[3]}\n`, false);
  }
  if (trimmed === 'configure' || trimmed === 'configure private' || trimmed === 'edit') {
    ctx.mode = 'edit';
    return out('Entering configuration mode\n\n[edit]\n', false);
  }
  if (w0 === 'exit' || w0 === 'quit') return { kind: 'logout' };
  if (w0 === 'show') {
    const what = words[1];
    if (what === undefined) return junosError(line, 1, promptLen, 'syntax error, expecting <command>.');
    if (what === 'version') return out(versionText('juniper_junos', ctx.device.hostname));
    if (what === 'configuration') return out(runningConfigText('juniper_junos', ctx.device.hostname, ctx.device.runConfigLines));
    if (what === 'system' && words[2] === 'uptime') {
      return out(`Current time: ${new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}\nTime Source:  NTP CLOCK\nSystem booted: 2026-11-01 00:00:00 UTC (3w1d 00:00 ago)\n`, false);
    }
    if (what === 'interfaces') {
      return out('Interface               Admin Link Proto    Local                 Remote\nge-0/0/0                up    up\nge-0/0/0.0              up    up   inet     10.0.0.1/24\nlo0.0                   up    up   inet     192.0.2.1/32\n');
    }
    if (what === 'lines' && words[2] !== undefined && /^\d+$/.test(words[2])) return out(numberedLinesText(Math.min(Number(words[2]), 5_000_000)));
    return junosError(line, 1, promptLen, 'syntax error, expecting <command>.');
  }
  return junosError(line, 0, promptLen, 'unknown command.');
}

function commitApply(ctx: SimContext): string {
  ctx.uncommitted = false;
  if (ctx.pendingHostname) {
    ctx.device.hostname = ctx.pendingHostname;
    ctx.pendingHostname = '';
  }
  return '';
}

// -- Linux (shell and exec)

export interface LinuxResult {
  stdout: string;
  stderr: string;
  code: number;
  reply: Reply;
}

/** A handful of shell commands, enough for exec and shell tests. */
export function linux(ctx: SimContext, words: string[]): LinuxResult {
  const ok = (stdout: string): LinuxResult => ({ stdout, stderr: '', code: 0, reply: out(stdout, false) });
  const w0 = words[0] as string;
  switch (w0) {
    case 'echo':
      return ok(words.slice(1).join(' ') + '\n');
    case 'true':
      return ok('');
    case 'false':
      return { stdout: '', stderr: '', code: 1, reply: out('', false) };
    case 'exit': {
      const code = Number(words[1] ?? 0) | 0;
      return { stdout: '', stderr: '', code, reply: { kind: 'logout' } };
    }
    case 'hostname':
      return ok(ctx.device.hostname + '\n');
    case 'whoami':
      return ok(ctx.username + '\n');
    case 'date':
      return ok(new Date().toUTCString() + '\n');
    case 'uname':
      return ok(words[1] === '-a' ? `Linux ${ctx.device.hostname} 6.8.0-45-generic #45-Ubuntu SMP x86_64 GNU/Linux\n` : 'Linux\n');
    case 'uptime':
      return ok(' 12:00:00 up 21 days,  3:04,  1 user,  load average: 0.08, 0.03, 0.01\n');
    case 'ls':
      return ok(words.includes('--color') ? '\x1b[0m\x1b[01;34mbin\x1b[0m  \x1b[01;34metc\x1b[0m  notes.txt\n' : 'bin  etc  notes.txt\n');
    case 'seq': {
      const n = Math.min(Number(words[1] ?? 0) | 0, 5_000_000);
      let s = '';
      const parts: string[] = [];
      for (let i = 1; i <= n; i++) parts.push(String(i));
      s = n > 0 ? parts.join('\n') + '\n' : '';
      return ok(s);
    }
    case 'cat':
      if (words[1] === '/etc/os-release') return ok('PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\n');
      return { stdout: '', stderr: `cat: ${words[1] ?? ''}: No such file or directory\n`, code: 1, reply: out(`cat: ${words[1] ?? ''}: No such file or directory\n`, false) };
    default: {
      const msg = `bash: ${w0}: command not found\n`;
      return { stdout: '', stderr: msg, code: 127, reply: out(msg, false) };
    }
  }
}

/** Exec channel on a non-Linux platform: run one command in privileged mode, as IOS `ssh host cmd` does. */
export function execOnce(ctx: SimContext, command: string): { stdout: string; stderr: string; code: number } {
  const words = command.trim().split(/\s+/);
  if (ctx.platform === 'linux') {
    const r = linux(ctx, words);
    return { stdout: r.stdout, stderr: r.stderr, code: r.code };
  }
  const r = interpret(ctx, command, 0);
  if (r.kind === 'output') return { stdout: r.text, stderr: '', code: 0 };
  return { stdout: '', stderr: 'command not supported over exec\n', code: 1 };
}
