/**
 * Simulated PAN-OS (facts as in src/platforms/catalog/paloalto.ts): "admin@PA-VM> ", `configure`
 * to "admin@PA-VM# " with "[edit]" above it, changes held until `commit`.
 */
import type { SimContext } from '../platforms.js';
import { configText, linesCommand, out, type VendorSpec } from './kit.js';

export function panosConfig(h: string, lines: number): string {
  return configText(
    'panos',
    ['config {', '  devices {', '    localhost.localdomain {', '      deviceconfig {', '        system {', `          hostname ${h};`, '        }', '      }', '      network {', '        interface {'],
    (i) => [`          ethernet1/${i + 1} {`, `            comment "uplink ${i}";`, '          }'],
    ['}'],
    lines,
  );
}

const prompt = (ctx: SimContext): string => `${ctx.username}@${ctx.device.hostname}${ctx.mode === 'config' || ctx.mode === 'config-sub' ? '#' : '>'} `;

export const PALOALTO_PANOS_SIM: VendorSpec = {
  hostname: 'PA-VM',
  start: 'priv',
  prompt,
  pager: { prompt: 'lines 1-23 --(more)-- ', erase: '\r                      \r' },
  paging: { off: /^set cli pager off$/, on: /^set cli pager on$/ },
  setup: [/^set cli scripting-mode on$/, /^set cli terminal width \d+$/],
  config: {
    enter: /^configure$/,
    enterText: 'Entering configuration mode\n[edit]\n',
    end: /^quit$/,
    up: /^exit$/,
    sub: [],
    accept: /^(?:set|delete) (?:deviceconfig|network|rulebase|address|zone|shared|mgt-config)(?: .*)?$/,
    hostname: /^set deviceconfig system hostname (\S+)$/,
    after: '\n[edit]\n',
    commit: {
      commit: /^commit$/,
      ok: () => 'Commit job 42 is in progress. Use Ctrl+C to return to command prompt\n....55%...100%\nConfiguration committed successfully\n',
      fail: 'Commit job 43 is in progress. Use Ctrl+C to return to command prompt\n....100%\nCommit failed\n  Validation Error:\n  rulebase -> security -> rules -> commit-error is invalid\n',
      revert: { re: /^revert config$/, text: 'Candidate configuration reverted\n' },
    },
    invalid: (_ctx, line) => `Unknown command: ${line.trim().split(/\s+/)[0]}\n`,
  },
  commands: [
    { re: /^show system info$/, run: (ctx) => `hostname: ${ctx.device.hostname}\nip-address: 192.0.2.10\nmodel: PA-VM\nserial: 007951000123456\nsw-version: 11.0.3\nvm-license: VM-300\n` },
    { re: /^show clock$/, run: () => out(`${new Date().toUTCString()}\n`, false) },
    { re: /^show config running$/, run: (ctx) => panosConfig(ctx.device.hostname, ctx.device.runConfigLines) },
    linesCommand('show'),
  ],
  invalid: (_ctx, line, idx) => `Unknown command: ${line.trim().split(/\s+/)[idx]}\nInvalid syntax.\n`,
};
