/**
 * Simulated HPE ProCurve / ArubaOS-Switch and ArubaOS-CX (facts as in src/platforms/catalog/aruba.ts).
 * ProCurve shows "Press any key to continue" before its first prompt and draws its pager with
 * ANSI escapes, erasing it again when a key is pressed.
 */
import { iosLike } from './ios-like.js';

export const HP_PROCURVE_SIM = iosLike({
  hostname: 'HP-2920-24G',
  start: 'user',
  gate: 'Press any key to continue',
  paging: /^no page$/,
  setup: [/^terminal width \d+$/],
  enable: true,
  ifName: (i) => `eth-${i}`,
  invalidText: '',
  caretless: (w) => `Invalid input: ${w}`,
  version: () => 'Image stamp:    /ws/swbuildm/rel_orlando_qaoff/code/build/anm(swbuildm_rel_orlando_qaoff_rel_orlando)\n                Nov 14 2023 10:24:31\n                WB.16.11.0016\n                2013\nBoot Image:     Primary\n',
  save: [/^write mem(?:ory)?$/, ''],
  pager: { prompt: '\x1b[24;1H-- MORE --, next page: Space, next line: Enter, quit: Control-C', erase: '\r\x1b[2K' },
});

export const ARUBA_OS_SIM = iosLike({
  hostname: 'Aruba7210',
  start: 'user',
  promptOf: (ctx) => {
    const h = `(${ctx.device.hostname}) `;
    if (ctx.mode === 'user') return `${h}>`;
    if (ctx.mode === 'config') return `${h}(config) #`;
    if (ctx.mode === 'config-sub') return `${h}(${ctx.sub})#`;
    return `${h}#`;
  },
  paging: /^no paging$/,
  pagingNeedsPriv: true,
  enable: true,
  configEnter: /^configure term(?:inal)?$/,
  ifName: () => 'config-subif',
  invalidText: "% Invalid input detected at '^' marker.",
  version: (h) => `Aruba Operating System Software.\nArubaOS (MODEL: Aruba7210), Version 8.10.0.9\nWebsite: http://www.arubanetworks.com\n(c) Copyright 2023 Hewlett Packard Enterprise Development LP.\nCompiled on 2023-10-27 at 09:18:52 UTC (build 88371) by jenkins\n\n${h} uptime is 21 days 3 hours 4 minutes\n`,
  save: [/^write mem(?:ory)?$/, 'Saving Configuration...\n\nConfiguration Saved.\n'],
  pager: { prompt: '--More-- (q) quit (u) pageup (/) search (n) repeat', erase: '\r\x1b[K' },
});

export const ARUBA_AOSCX_SIM = iosLike({
  hostname: 'switch',
  start: 'priv',
  paging: /^no page$/,
  invalidText: '',
  caretless: (w) => `Invalid input: ${w}`,
  version: (h) => `-----------------------------------------------------------------------------\nArubaOS-CX\n(c) Copyright 2017-2023 Hewlett Packard Enterprise Development LP\n-----------------------------------------------------------------------------\nVersion      : FL.10.12.1000\nBuild Date   : 2023-06-20 10:12:14 UTC\nHostname     : ${h}\n`,
  runPriv: false,
  save: [/^write mem(?:ory)?$/, 'Configuration changes will take time to process, please be patient.\n'],
  pager: { prompt: ' --MORE-- ', erase: '\r\x1b[K' },
});
