/**
 * Simulated FortiGate (facts as in src/platforms/catalog/fortinet.ts). Configuration is a block:
 * `config system global` changes the prompt to "FGT-1 (global) # ", `set`/`unset` change
 * values, `next`/`end` leave. Paging is the console's output mode ("more" until set to standard).
 */
import type { SimContext } from '../platforms.js';
import { configText, linesCommand, out, stateOf, type VendorSpec } from './kit.js';

export function fortiConfig(h: string, lines: number): string {
  return configText(
    'forti',
    ['#config-version=FGVM64-7.4.2-FW-build2571-231219:opmode=0:vdom=0:user=admin', 'config system global', `    set hostname "${h}"`, '    set timezone "Etc/UTC"', 'end', 'config system interface'],
    (i) => [`    edit "port${i + 1}"`, `        set ip 10.${(i >> 8) & 255}.${i & 255}.1 255.255.255.252`, `        set description "uplink ${i}"`, '    next'],
    ['end'],
    lines,
  );
}

const ERR = (w: string): string => `command parse error before '${w}'\nCommand fail. Return code -61\n`;

function prompt(ctx: SimContext): string {
  const st = stateOf(ctx);
  const block = st.path ? ` (${st.path.split(' ').at(-1)})` : '';
  return `${ctx.device.hostname}${block} # `;
}

export const FORTINET_SIM: VendorSpec = {
  hostname: 'FGT-1',
  start: 'priv',
  prompt,
  pager: { prompt: '--More-- ', erase: '\r         \r' },
  paging: { off: /^$/ },
  custom: (ctx, _line, words, _plen, st) => {
    const norm = words.join(' ');
    if (/^config \S+(?: \S+)?$/.test(norm)) {
      st.path = words.slice(1).join(' ');
      return out('', false);
    }
    if (st.path) {
      if (norm === 'end' || norm === 'abort') {
        st.path = '';
        return out('', false);
      }
      if (norm === 'next' || /^edit \S+$/.test(norm)) return out('', false);
      if (st.path === 'system console' && norm === 'set output standard') {
        ctx.paging = false;
        return out('', false);
      }
      if (st.path === 'system console' && norm === 'set output more') {
        ctx.paging = true;
        return out('', false);
      }
      const m = /^set hostname "?([\w.-]+)"?$/.exec(norm);
      if (m && st.path === 'system global') {
        ctx.device.hostname = m[1] as string;
        return out('', false);
      }
      if (/^(?:set|unset|append) \S+/.test(norm)) return out('', false);
      return out(ERR(words[0] as string), false);
    }
    return undefined;
  },
  commands: [
    { re: /^get system status$/, run: (ctx) => `Version: FortiGate-VM64 v7.4.2,build2571,231219 (GA.F)\nFirmware Signature: certified\nSerial-Number: FGVMEVABCDEF1234\nHostname: ${ctx.device.hostname}\nOperation Mode: NAT\nSystem time: ${new Date().toUTCString()}\n` },
    { re: /^get system time$/, run: () => out(`current time is: ${new Date().toISOString().slice(11, 19)}\nlast ntp sync:${new Date().toUTCString()}\n`, false) },
    { re: /^show full-configuration$/, run: (ctx) => fortiConfig(ctx.device.hostname, ctx.device.runConfigLines) },
    linesCommand('show'),
  ],
  invalid: (_ctx, line, idx) => ERR(line.trim().split(/\s+/)[idx] ?? ''),
  logout: /^exit$/,
};
