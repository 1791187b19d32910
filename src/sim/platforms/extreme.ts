/**
 * Simulated Extreme EXOS (facts as in src/platforms/catalog/extreme.ts): the prompt counts
 * commands ("X460-48t.4 # ") and gains "* " while the configuration is unsaved.
 */
import type { SimContext } from '../platforms.js';
import { caret, configText, linesCommand, out, stateOf, type VendorSpec } from './kit.js';

export function exosConfig(h: string, lines: number): string {
  return configText(
    'exos',
    ['#', '# Module devmgr configuration.', '#', `configure snmp sysName "${h}"`, 'configure timezone 0 noautodst'],
    (i) => [`configure ports 1:${i + 1} description-string "uplink ${i}"`, `configure vlan v${i} ipaddress 10.${(i >> 8) & 255}.${i & 255}.1 255.255.255.252`],
    ['#'],
    lines,
  );
}

function prompt(ctx: SimContext): string {
  const st = stateOf(ctx);
  return `${st.unsaved ? '* ' : ''}${ctx.device.hostname}.${st.counter} # `;
}

export const EXTREME_EXOS_SIM: VendorSpec = {
  hostname: 'X460-48t',
  start: 'priv',
  prompt,
  counts: true,
  pager: { prompt: 'Press <SPACE> to continue or <Q> to quit: --More--', erase: '\r\x1b[K' },
  paging: { off: /^disable clipaging$/, on: /^enable clipaging$/ },
  custom: (ctx, _line, words, _plen, st) => {
    const norm = words.join(' ');
    const m = /^configure snmp sysName "?([\w.-]+)"?$/.exec(norm);
    if (m) {
      ctx.device.hostname = m[1] as string;
      st.unsaved = true;
      return out('', false);
    }
    if (/^(?:configure|create|delete|enable|disable) (?:vlan|ports|snmp|sntp-client|syslog|account) .+$/.test(norm)) {
      st.unsaved = true;
      return out('', false);
    }
    if (norm === 'save configuration') {
      // Real EXOS asks "...overwrite it? (y/N)"; the simulator asks and carries on.
      st.unsaved = false;
      return out('Do you want to save configuration to primary.cfg and overwrite it? (y/N) Yes\nSaving configuration on master .... done!\n', false);
    }
    return undefined;
  },
  commands: [
    { re: /^show version$/, run: () => 'Switch      : 800548-00-05 1234G-56789 Rev 5.0 BootROM: 2.0.1.8    IMG: 32.5.1.5\nImage   : ExtremeXOS version 32.5.1.5 by release-manager\n          on Tue Oct 10 12:00:00 EDT 2023\nBootROM : Default 2.0.1.8    Alternate 2.0.1.8\n' },
    { re: /^show switch$/, run: (ctx) => out(`SysName:          ${ctx.device.hostname}\nSystem Type:      X460-G2-48t-10G4\nCurrent Time:     ${new Date().toUTCString()}\n`, false) },
    { re: /^show configuration$/, run: (ctx) => exosConfig(ctx.device.hostname, ctx.device.runConfigLines) },
    linesCommand('show'),
  ],
  invalid: (_ctx, line, idx, plen) => `${caret(line, idx, plen)}\n%% Invalid input detected at '^' marker.\n`,
  logout: /^(?:exit|logout|quit)$/,
};
