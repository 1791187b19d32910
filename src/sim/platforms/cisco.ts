/**
 * Simulated Cisco IOS XR and ASA (facts as in src/platforms/catalog/cisco.ts).
 */
import type { PagerStyle } from '../platforms.js';
import { iosLike } from './ios-like.js';

const IOS_PAGER: PagerStyle = { prompt: ' --More-- ', erase: '\b'.repeat(10) + ' '.repeat(10) + '\b'.repeat(10) };

/** XR starts every show output with the time it ran. */
const xrStamp = (): string => `${new Date().toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) (\S+) GMT$/, '$1 $3 $2 $5.000 UTC')}\n`;

export const CISCO_XR_SIM = iosLike({
  hostname: 'ios',
  start: 'priv',
  prefix: 'RP/0/RP0/CPU0:',
  paging: /^term(?:inal)? len(?:gth)? 0$/,
  setup: [/^term(?:inal)? width \d+$/],
  invalidText: "% Invalid input detected at '^' marker.",
  version: (h) => `Cisco IOS XR Software, Version 7.9.2\nCopyright (c) 2013-2023 by Cisco Systems, Inc.\n\nBuild Information:\n Built By     : ingunawa\n Built On     : Tue Aug 22 19:08:29 PDT 2023\n\ncisco 8000 (Xeon D-1530) processor with 32GB of memory\n${h} uptime is 3 weeks, 2 days, 1 hour, 4 minutes\n`,
  runPriv: false,
  stamp: xrStamp,
  commit: {
    commit: /^commit$/,
    ok: (ctx) => (ctx.uncommitted ? '' : '% No modifications to commit.\n'),
    fail: "% Failed to commit one or more configuration items during a pseudo-atomic operation. All changes made have been reverted. Please issue 'show configuration failed [inheritance]' from this session to view the errors\n",
    abortAndLeave: /^abort$/,
  },
  pager: IOS_PAGER,
});

export const CISCO_ASA_SIM = iosLike({
  hostname: 'ciscoasa',
  start: 'user',
  paging: /^term(?:inal)? pager 0$/,
  enable: true,
  invalidText: "ERROR: % Invalid input detected at '^' marker.",
  version: (h) => `\nCisco Adaptive Security Appliance Software Version 9.18(3)\nSSP Operating System Version 2.12(0.31)\nDevice Manager Version 7.18(1)\n\nCompiled on Thu 13-Jul-23 10:12 GMT by builders\nSystem image file is "disk0:/asa9-18-3-smp-k8.bin"\nConfig file at boot was "startup-config"\n\n${h} up 21 days 3 hours\n`,
  save: [/^wr(?:ite)?(?: mem(?:ory)?)?$/, 'Building configuration...\nCryptochecksum: 0123abcd 4567ef01 89abcdef 01234567\n[OK]\n'],
  pager: { prompt: '<--- More --->', erase: '\r              \r' },
});
