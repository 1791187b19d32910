/**
 * Simulated Dell OS10, Force10/OS9 and OS6 (facts as in src/platforms/catalog/dell.ts).
 */
import type { PagerStyle } from '../platforms.js';
import { iosLike } from './ios-like.js';

const PAGER: PagerStyle = { prompt: '--More--', erase: '\b'.repeat(8) + ' '.repeat(8) + '\b'.repeat(8) };

export const DELL_OS10_SIM = iosLike({
  hostname: 'OS10',
  start: 'priv',
  paging: /^terminal length 0$/,
  ifName: (i) => `conf-if-${i.replace(/^ethernet ?/i, 'eth')}`,
  invalidText: '% Error: Unrecognized command.',
  version: () => 'Dell SmartFabric OS10 Enterprise\nCopyright (c) 1999-2023 by Dell Inc. All Rights Reserved.\nOS Version: 10.5.5.5\nBuild Version: 10.5.5.5.245\nBuild Time: 2023-10-18T18:32:41+0000\nSystem Type: S5248F-ON\nArchitecture: x86_64\nUp Time: 3 weeks 2 days 04:05:06\n',
  runPriv: false,
  save: [/^write mem(?:ory)?$/, ''],
  pager: PAGER,
});

export const DELL_FORCE10_SIM = iosLike({
  hostname: 'Dell',
  start: 'user',
  configName: 'conf',
  configEnter: /^conf(?:igure)?$/,
  paging: /^terminal length 0$/,
  enable: true,
  ifName: (i) => `conf-if-${i.replace(/^tengigabitethernet ?/i, 'te-')}`,
  invalidText: '% Error: Invalid input at "^" marker.',
  version: () => 'Dell Real Time Operating System Software\nDell Operating System Version: 2.0\nDell Application Software Version: 9.14(2.16)\nCopyright (c) 1999-2023 by Dell Inc. All Rights Reserved.\nBuild Time: Thu Jul 27 10:18:47 2023\nSystem Type: S4048-ON\n',
  save: [/^write mem(?:ory)?$/, 'Copy completed\n'],
  pager: PAGER,
});

export const DELL_OS6_SIM = iosLike({
  hostname: 'console',
  start: 'user',
  configEnter: /^conf(?:igure)?$/,
  paging: /^terminal length 0$/,
  enable: true,
  ifName: (i) => `config-if-${i.replace(/^gigabitethernet ?/i, 'Gi')}`,
  invalidText: "% Invalid input detected at '^' marker.",
  version: () => 'Machine Description............... Dell EMC Networking Switch\nSystem Model ID................... N3048EP-ON\nMachine Type...................... Dell EMC Networking N3048EP-ON\nSerial Number..................... CN0ABCDEF123\nSoftware Version.................. 6.7.1.21\n',
  save: [/^write mem(?:ory)?$/, '\nThis operation may take a few minutes.\nConfiguration Saved!\n'],
  pager: PAGER,
});
