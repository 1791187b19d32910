/**
 * The IOS shape most catalogue CLIs share (XR, ASA, AOS-CX, ProCurve, Dell, FastIron, NetIron):
 * `host>` user, `host#` privileged, `host(config)#` and `host(<sub>)#` configuration, errors
 * under a caret. Each vendor file fills in its own words, texts and quirks.
 */
import type { SimContext } from '../platforms.js';
import { caret, configText, linesCommand, out, type CommandDef, type CommitModel, type VendorSpec } from './kit.js';

export interface IosLikeOptions {
  hostname: string;
  start: 'user' | 'priv';
  /** Text before the host name ("RP/0/RP0/CPU0:", "SSH@"). */
  prefix?: string;
  /** Name shown in the prompt at the top of configuration mode: "config" or "conf". */
  configName?: string;
  paging: RegExp;
  pagingNeedsPriv?: boolean;
  setup?: RegExp[];
  enable?: boolean;
  configEnter?: RegExp;
  configEnterText?: string;
  /** Sub-mode name for `interface X` ("config-if", "eth-1", "conf-if-te-1/1"). */
  ifName?: (ifname: string) => string;
  /** Error text for an invalid word (printed under a caret unless `caretless`). */
  invalidText: string;
  caretless?: (word: string) => string;
  version: (h: string) => string;
  /** `show running-config` needs privileged level (IOS, ASA, Dell); free on levelless CLIs. */
  runPriv?: boolean;
  commit?: CommitModel;
  pager: VendorSpec['pager'];
  gate?: string;
  extra?: CommandDef[];
  /** Lines printed before every show output (XR's timestamp line). */
  stamp?: () => string;
  /** A prompt of another shape than `host>` / `host(mode)#` (ArubaOS "(host) #"). */
  promptOf?: (ctx: SimContext) => string;
  /** Write to save (answers differ per vendor). */
  save?: [RegExp, string];
}

export function iosPromptOf(o: Pick<IosLikeOptions, 'prefix' | 'configName'>, ctx: SimContext): string {
  const h = `${o.prefix ?? ''}${ctx.device.hostname}`;
  switch (ctx.mode) {
    case 'user':
      return `${h}>`;
    case 'config':
      return `${h}(${o.configName ?? 'config'})#`;
    case 'config-sub':
      return `${h}(${ctx.sub})#`;
    default:
      return `${h}#`;
  }
}

export function iosRunningConfig(h: string, lines: number, bang = '!'): string {
  return configText(
    `ios${bang}`,
    ['Building configuration...', '', `Current configuration : ${lines * 40} bytes`, bang, `hostname ${h}`, bang],
    (i) => [`interface port${i >> 5}/${i % 32}`, ` description uplink ${i} to rack-${i % 97} # port >${i % 48}`, ` ip address 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} 255.255.255.252`, bang],
    ['end'],
    lines,
  );
}

export function iosLike(o: IosLikeOptions): VendorSpec {
  const stamp = o.stamp ?? (() => '');
  const invalid = (_ctx: SimContext, line: string, idx: number, plen: number): string => {
    if (o.caretless) return o.caretless(line.trim().split(/\s+/)[idx] ?? '') + '\n';
    return `${caret(line, idx, plen)}\n${o.invalidText}\n`;
  };
  const commands: CommandDef[] = [
    { re: /^sh(?:ow?)? ver(?:s(?:i(?:on?)?)?)?$/, run: (ctx) => stamp() + o.version(ctx.device.hostname) },
    { re: /^sh(?:ow?)? clock$/, run: () => out(`${stamp()}*${new Date().toISOString().slice(11, 23)} UTC ${new Date().toUTCString().slice(0, 16)}\n`, false) },
    { re: /^sh(?:ow?)? run(?:ning-config)?$/, priv: o.runPriv !== false, run: (ctx) => stamp() + iosRunningConfig(ctx.device.hostname, ctx.device.runConfigLines) },
    linesCommand('show'),
    ...(o.extra ?? []),
  ];
  if (o.save) commands.push({ re: o.save[0], priv: true, run: () => out((o.save as [RegExp, string])[1], false) });
  return {
    hostname: o.hostname,
    start: o.start,
    ...(o.gate !== undefined ? { gate: o.gate } : {}),
    prompt: (ctx) => (o.promptOf ? o.promptOf(ctx) : iosPromptOf(o, ctx)),
    pager: o.pager,
    paging: { off: o.paging, ...(o.pagingNeedsPriv ? { needsPriv: true } : {}) },
    ...(o.setup ? { setup: o.setup } : {}),
    ...(o.enable ? { enable: { re: /^en(?:a(?:b(?:le?)?)?)?$/, disable: /^disable$/ } } : {}),
    config: {
      enter: o.configEnter ?? /^conf(?:igure)?(?: t(?:erminal)?)?$/,
      ...(o.configEnterText !== undefined ? { enterText: o.configEnterText } : {}),
      end: /^end$/,
      up: /^exit$/,
      sub: [
        [/^int(?:erface)? (\S+(?: \S+)?)$/, (m) => (o.ifName ?? (() => 'config-if'))(m[1] as string)],
        [/^vlan (\d+)$/, (m) => `config-vlan-${m[1]}`],
        [/^router (\S+)(?: \S+)?$/, () => 'config-router'],
        [/^line (\S+)(?: \S+)*$/, () => 'config-line'],
      ],
      accept: /^(?:no )?(?:description|ip|ipv6|shutdown|logging|ntp|snmp-server|username|service|spanning-tree|switchport|mtu|banner|clock|aaa|access-list|network|neighbor|name|speed|duplex|untagged|tagged|enable|domain-name|timezone)(?: .*)?$/,
      hostname: /^(?:hostname|host-name) (\S+)$/,
      ...(o.commit ? { commit: o.commit } : {}),
      escape: /^\s*do\s+/,
    },
    commands,
    invalid,
  };
}
