/**
 * Simulated MikroTik RouterOS (facts as in src/platforms/catalog/mikrotik.ts): a colourful
 * prompt "[admin@MikroTik] > " wrapped in ANSI codes, menu paths in the prompt, changes that
 * apply at once, RouterOS's own pager ("-- [Q quit|D dump|down]") erased after a key.
 */
import type { SimContext } from '../platforms.js';
import { configText, linesCommand, out, stateOf, type VendorSpec } from './kit.js';

export function routerosExport(h: string, lines: number): string {
  return configText(
    'routeros',
    ['# 2026-11-26 00:00:00 by RouterOS 7.12.1', '# software id = ABCD-1234', '#', '/system identity', `set name=${h}`, '/ip address'],
    (i) => [`add address=10.${(i >> 8) & 255}.${i & 255}.1/30 comment="uplink ${i}" interface=ether${(i % 8) + 1} network=10.${(i >> 8) & 255}.${i & 255}.0`],
    ['/system ntp client', 'set enabled=yes'],
    lines,
  );
}

function prompt(ctx: SimContext): string {
  const st = stateOf(ctx);
  // Colour on, bold user, reset: as RouterOS prints it on an ANSI terminal.
  return `\x1b[m\x1b[36m[\x1b[m\x1b[1m${ctx.username}@${ctx.device.hostname}\x1b[m\x1b[36m]\x1b[m ${st.path ? `\x1b[35m${st.path}\x1b[m` : ''}> `;
}

const bad = (line: string, col: number): string => `bad command name ${line.trim().split(/\s+/)[0]?.replace(/^\//, '')} (line 1 column ${col + 1})\n`;

export const MIKROTIK_SIM: VendorSpec = {
  hostname: 'MikroTik',
  start: 'priv',
  prompt,
  pager: { prompt: '-- [Q quit|D dump|down]', erase: '\r\x1b[K' },
  paging: { off: /^$/ },
  custom: (ctx, _line, words, _plen, st) => {
    const norm = words.join(' ');
    // Menu navigation: "/ip address" moves the prompt there, "/" back to the top.
    if (/^\/(?:ip address|interface|system|ip route)?$/.test(norm)) {
      st.path = norm === '/' ? '' : norm;
      return out('', false);
    }
    const m = /^\/system identity set name=(\S+)$/.exec(norm);
    if (m) {
      ctx.device.hostname = m[1] as string;
      return out('', false);
    }
    if (/^\/ip address add address=\S+ interface=\S+$/.test(norm)) return out('', false);
    if (/^\/ip address add\b/.test(norm)) return out('failure: interface not specified\n', false);
    return undefined;
  },
  commands: [
    { re: /^\/system resource print$/, run: () => `                   uptime: 3w2d4h5m\n                  version: 7.12.1 (stable)\n               build-time: 2023-11-17 11:48:46\n              free-memory: 912.3MiB\n             total-memory: 1024.0MiB\n                      cpu: QEMU\n                cpu-count: 2\n        architecture-name: x86_64\n               board-name: CHR\n                 platform: MikroTik\n` },
    { re: /^\/system clock print$/, run: () => out(`                  time: ${new Date().toISOString().slice(11, 19)}\n                  date: ${new Date().toISOString().slice(0, 10)}\n  time-zone-autodetect: yes\n        time-zone-name: UTC\n`, false) },
    { re: /^\/export$/, run: (ctx) => routerosExport(ctx.device.hostname, ctx.device.runConfigLines) },
    linesCommand('/show'),
    { re: /^\/ip address print$/, run: () => 'Flags: X - disabled, I - invalid, D - dynamic\n #   ADDRESS            NETWORK         INTERFACE\n 0   192.0.2.1/24       192.0.2.0       ether1\n' },
  ],
  invalid: (_ctx, line, idx) => (idx === 0 && !line.trim().startsWith('/') ? bad(line, 0) : `syntax error (line 1 column ${line.indexOf(line.trim().split(/\s+/)[idx] ?? '') + 1})\n`),
  logout: /^(?:quit|\/quit)$/,
};
