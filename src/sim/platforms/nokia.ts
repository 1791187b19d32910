/**
 * Simulated Nokia SR OS, classic CLI (facts as in src/platforms/catalog/nokia.ts): "A:pe1#",
 * "A:pe1>config>router#", a leading "*" once the configuration has unsaved changes.
 */
import type { SimContext } from '../platforms.js';
import { caret, configText, linesCommand, out, stateOf, type VendorSpec } from './kit.js';

export function srosConfig(h: string, lines: number): string {
  return configText(
    'sros',
    ['# TiMOS-C-23.10.R1 cpm/x86_64 Nokia 7750 SR Copyright (c) 2000-2023 Nokia.', 'exit all', 'configure', '    system', `        name "${h}"`, '    exit'],
    (i) => [`    port 1/1/${i + 1}`, `        description "uplink ${i} to rack-${i % 97}"`, '        no shutdown', '    exit'],
    ['exit all'],
    lines,
  );
}

function prompt(ctx: SimContext): string {
  const st = stateOf(ctx);
  const star = st.unsaved ? '*' : '';
  const h = `${star}A:${ctx.device.hostname}`;
  if (ctx.mode === 'config') return `${h}>config# `;
  if (ctx.mode === 'config-sub') return `${h}>config>${ctx.sub}# `;
  return `${h}# `;
}

export const NOKIA_SROS_SIM: VendorSpec = {
  hostname: 'pe1',
  start: 'priv',
  prompt,
  pager: { prompt: 'Press any key to continue (Q to quit)', erase: '\r                                     \r' },
  paging: { off: /^environment no more$/, on: /^environment more$/ },
  config: {
    enter: /^conf(?:igure)?$/,
    end: /^exit all$/,
    up: /^(?:exit|back)$/,
    sub: [
      [/^port (\S+)$/, () => 'port'],
      [/^router(?: \S+)?$/, () => 'router'],
      [/^system$/, () => 'system'],
      [/^service$/, () => 'service'],
    ],
    accept: /^(?:no )?(?:description|shutdown|address|interface|static-route-entry|ethernet|mode|mtu|location|contact|snmp|time|ntp)(?: .*)?$/,
    hostname: /^name "?([\w.-]+)"?$/,
    invalid: (_ctx, line, idx, plen) => `${caret(line, idx, plen)}\nError: Bad command.\n`,
  },
  commands: [
    { re: /^show version$/, run: () => 'TiMOS-C-23.10.R1 cpm/x86_64 Nokia 7750 SR Copyright (c) 2000-2023 Nokia.\nAll rights reserved. All use subject to applicable license agreements.\nBuilt on Thu Oct 26 20:12:11 PDT 2023 by builder in /builds/c/2310B/R1/panos/main/sros\n' },
    { re: /^show time$/, run: () => out(`${new Date().toUTCString().slice(0, 25)} UTC\n`, false) },
    { re: /^admin display-config$/, run: (ctx) => srosConfig(ctx.device.hostname, ctx.device.runConfigLines) },
    linesCommand('show'),
    { re: /^admin save$/, run: (_c, _m, st) => ((st.unsaved = false), out('Writing configuration to cf3:\\config.cfg\nSaving configuration ... OK\nCompleted.\n', false)) },
  ],
  invalid: (_ctx, line, idx, plen) => `${caret(line, idx, plen)}\nError: Bad command.\n`,
  logout: /^logout$/,
};
