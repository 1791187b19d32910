/**
 * Simulated Huawei VRP (V5 one-stage, V8 two-stage) and HPE Comware (facts as in
 * src/platforms/catalog/vrp.ts).
 */
import type { PagerStyle, SimContext } from '../platforms.js';
import { caret, configText, linesCommand, out, type VendorSpec } from './kit.js';

const VRP_PAGER: PagerStyle = { prompt: '  ---- More ----', erase: '\x1b[16D                \x1b[16D' };

function viewPrompt(ctx: SimContext, twoStage = false): string {
  const h = ctx.device.hostname;
  // Two-stage (VRP V8): "~" while the candidate equals the running configuration, "*" once it differs.
  const mark = twoStage ? (ctx.uncommitted ? '*' : '~') : '';
  if (ctx.mode === 'config') return `[${mark}${h}]`;
  if (ctx.mode === 'config-sub') return `[${mark}${h}-${ctx.sub}]`;
  return `<${h}>`;
}

export function vrpConfig(h: string, lines: number, comware: boolean): string {
  return configText(
    comware ? 'comware' : 'vrp',
    comware ? ['#', ' version 7.1.070, Release 6635P07', '#', ` sysname ${h}`, '#'] : ['!Software Version V800R021C10SPC100', '#', `sysname ${h}`, '#'],
    (i) => [`interface GigabitEthernet1/0/${i}`, ` description uplink ${i} to rack-${i % 97}`, ` ip address 10.${(i >> 8) & 255}.${i & 255}.1 255.255.255.252`, '#'],
    ['return'],
    lines,
  );
}

function vrpLike(comware: boolean, twoStage = false): VendorSpec {
  const errText = comware ? "% Unrecognized command found at '^' position." : "Error: Unrecognized command found at '^' position.";
  return {
    hostname: comware ? 'HPE' : 'HUAWEI',
    start: 'priv',
    prompt: (ctx) => viewPrompt(ctx, twoStage),
    pager: VRP_PAGER,
    paging: { off: comware ? /^screen-length disable$/ : /^screen-length 0 temporary$/, reply: comware ? '' : 'Info: The configuration takes effect on the current user terminal interface only.\n' },
    config: {
      enter: /^sys(?:tem-view)?$/,
      enterText: 'Enter system view, return user view with Ctrl+Z.\n',
      end: /^return$/,
      up: /^quit$/,
      sub: [
        [/^interface (\S+)$/, (m) => m[1] as string],
        [/^vlan (\d+)$/, (m) => `vlan${m[1]}`],
      ],
      accept: /^(?:undo )?(?:description|ip|ipv6|shutdown|info-center|ntp-service|snmp-agent|local-user|port|stp|mtu|header|clock|aaa|acl|rule|user-interface)(?: .*)?$/,
      hostname: /^sysname (\S+)$/,
      ...(twoStage
        ? {
            commit: {
              commit: /^commit$/,
              ok: () => '',
              fail: 'Error: Failed to generate committed config.\n',
              revert: { re: /^clear configuration candidate$/, text: '' },
              exitBlocked: 'Warning: Uncommitted configurations found. Are you sure to commit them before exiting? [Y(yes)/N(no)/C(cancel)]:\n',
            },
          }
        : {}),
    },
    commands: [
      {
        re: /^dis(?:play)? ver(?:sion)?$/,
        run: (ctx) =>
          comware
            ? `HPE Comware Software, Version 7.1.070, Release 6635P07\nCopyright (c) 2010-2023 Hewlett Packard Enterprise Development LP\nHPE FF 5940 48SFP+ 6QSFP28 Switch uptime is 0 weeks, 3 days, 2 hours, 1 minute\n`
            : twoStage
              ? `Huawei Versatile Routing Platform Software\nVRP (R) software, Version 8.210 (NE40E V800R021C10SPC100)\nCopyright (C) 2012-2023 Huawei Technologies Co., Ltd.\nHUAWEI NE40E-X8A uptime is 21 days, 3 hours, 4 minutes\n${ctx.device.hostname} board information follows\n`
              : `Huawei Versatile Routing Platform Software\nVRP (R) software, Version 5.170 (S5720 V200R019C10SPC500)\nCopyright (C) 2000-2023 HUAWEI TECH Co., Ltd.\nHUAWEI S5720-28X-SI-AC Routing Switch uptime is 21 days, 3 hours, 4 minutes\n${ctx.device.hostname} board information follows\n`,
      },
      { re: /^dis(?:play)? clock$/, run: () => out(`${new Date().toISOString().slice(0, 19).replace('T', ' ')}\n${new Date().toUTCString().slice(0, 3)}day\nTime Zone(UTC) : UTC\n`, false) },
      { re: /^dis(?:play)? cur(?:rent-configuration)?$/, run: (ctx) => vrpConfig(ctx.device.hostname, ctx.device.runConfigLines, comware) },
      linesCommand('display'),
      { re: /^save$/, run: () => out('The current configuration will be written to the device. Continue? [Y/N]:', false) },
    ],
    invalid: (_ctx, line, idx, plen) => `${caret(line, idx, plen)}\n${errText}\n`,
    logout: /^quit$/,
  };
}

export const HUAWEI_SIM = vrpLike(false);
export const HUAWEI_VRPV8_SIM = vrpLike(false, true);
export const HP_COMWARE_SIM = vrpLike(true);
