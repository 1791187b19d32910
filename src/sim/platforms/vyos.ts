/**
 * Simulated VyOS (facts as in src/platforms/catalog/vyos.ts): "vyos@vyos:~$ " wrapped in
 * bracketed-paste escapes, "configure" to "vyos@vyos# " with "[edit]" above it, changes held
 * until `commit`, `exit` refused while uncommitted changes exist.
 */
import type { SimContext } from '../platforms.js';
import { configText, linesCommand, out, type VendorSpec } from './kit.js';

export function vyosConfig(h: string, lines: number): string {
  return configText(
    'vyos',
    ['system {', `    host-name ${h}`, '    time-zone UTC', '}', 'interfaces {'],
    (i) => [`    ethernet eth${i} {`, `        address 10.${(i >> 8) & 255}.${i & 255}.1/30`, `        description "uplink ${i}"`, '    }'],
    ['}'],
    lines,
  );
}

function prompt(ctx: SimContext): string {
  const inConfig = ctx.mode === 'config' || ctx.mode === 'config-sub';
  // vbash turns bracketed paste on before each prompt (and off once a line is entered).
  return `\x1b[?2004h${ctx.username}@${ctx.device.hostname}${inConfig ? '#' : ':~$'} `;
}

export const VYOS_SIM: VendorSpec = {
  hostname: 'vyos',
  start: 'priv',
  prompt,
  pager: { prompt: ':', erase: '\r \r' },
  paging: { off: /^set terminal length 0$/, on: /^set terminal length [1-9]\d*$/ },
  setup: [/^set terminal width \d+$/],
  config: {
    enter: /^conf(?:igure)?$/,
    enterText: '[edit]\n',
    end: /^exit discard$/,
    up: /^exit$/,
    sub: [],
    accept: /^(?:set|delete) (?:interfaces|protocols|service|firewall|policy|nat|vrf|high-availability|system (?!host-name))(?: .*)?$/,
    hostname: /^set system host-name (\S+)$/,
    after: '[edit]\n',
    commit: {
      commit: /^commit$/,
      ok: () => '',
      fail: '[ interfaces ethernet eth0 commit-error ]\nVyOS had an issue completing a command.\n\nCommit failed\n',
      abortAndLeave: /^exit discard$/,
      exitBlocked: "Cannot exit: configuration modified.\nUse 'exit discard' to discard the changes and exit.\n",
    },
    invalid: (_ctx, line) => `\n  Configuration path: [${line.trim().split(/\s+/).slice(1).join(' ')}] is not valid\n  Set failed\n\n`,
  },
  commands: [
    { re: /^show version$/, run: () => 'Version:          VyOS 1.4.0\nRelease train:    sagitta\nBuilt by:         autobuild@vyos.net\nBuilt on:         Mon 12 Feb 2024 12:00 UTC\nArchitecture:     x86_64\nSystem type:      KVM guest\n' },
    { re: /^show date$/, run: () => out(`${new Date().toUTCString()}\n`, false) },
    { re: /^show configuration$/, run: (ctx) => vyosConfig(ctx.device.hostname, ctx.device.runConfigLines) },
    linesCommand('show'),
  ],
  invalid: (_ctx, line) => `\n  Invalid command: [${line.trim()}]\n\n`,
  logout: /^(?:exit|logout)$/,
};
