/**
 * Simulated Ruckus/Brocade FastIron (ICX) and Brocade NetIron (facts as in
 * src/platforms/catalog/brocade.ts): "SSH@ICX7150-48P Router>", skip-page-display refused at
 * user level on FastIron (so the driver's pager fallback carries the session).
 */
import type { PagerStyle } from '../platforms.js';
import { iosLike } from './ios-like.js';

const PAGER: PagerStyle = { prompt: '--More--, next page: Space, next line: Return key, quit: Control-c', erase: '\r\x1b[K' };

export const BROCADE_FASTIRON_SIM = iosLike({
  hostname: 'ICX7150-48P Router',
  start: 'user',
  prefix: 'SSH@',
  paging: /^skip-page-display$/,
  pagingNeedsPriv: true,
  enable: true,
  ifName: (i) => `config-if-e1000-${i.replace(/^ethernet ?/i, '')}`,
  invalidText: '',
  caretless: (w) => `Invalid input -> ${w}\nType ? for a list`,
  version: () => '  Copyright (c) Ruckus Networks, Inc. All rights reserved.\n    UNIT 1: compiled on Sep 28 2023 at 03:12:08 labeled as SPR08095h\n      (33554432 bytes) from Primary SPR08095h.bin (UFI)\n        SW: Version 08.0.95hT213\n  HW: Stackable ICX7150-48P-4X1G\n',
  save: [/^write mem(?:ory)?$/, 'Write startup-config done.\n'],
  pager: PAGER,
});

export const BROCADE_NETIRON_SIM = iosLike({
  hostname: 'MLX-4',
  start: 'user',
  prefix: 'SSH@',
  paging: /^skip-page-display$/,
  enable: true,
  ifName: (i) => `config-if-e10000-${i.replace(/^ethernet ?/i, '')}`,
  invalidText: '',
  caretless: (w) => `Invalid input -> ${w}\nType ? for a list`,
  version: () => 'System: NetIron MLX (Serial #: BVP1234567,  Part #: 40-1000363-07)\nNI-MLX-MR Management Module Active (Serial #: BVQ1234567, Part #: 60-1001512-11):\nIronWare : Version 6.2.0aT163 Copyright (c) Brocade Communications Systems, Inc.\n',
  save: [/^write mem(?:ory)?$/, 'Write startup-config done.\n'],
  pager: PAGER,
});
