/**
 * What simulated devices show between authentication and the first prompt when a test asks for
 * it (SimOptions.loginScreen, SimOptions.passwordExpired): the screens the shell driver's login
 * answers (src/platforms/login-screens.ts), with the texts Netmiko's drivers wait for:
 * netmiko/hp/hp_comware.py, netmiko/fortinet/fortinet_ssh.py, netmiko/dell/dell_force10_ssh.py,
 * netmiko/mikrotik/mikrotik_ssh.py, netmiko/huawei/huawei.py; OpenSSH/PAM for expiry.
 */
import type { SimPlatform } from './platforms.js';

export interface SimLoginScreen {
  /** Shown after the MOTD instead of the first prompt (no line break after it). */
  text: string;
  /** true: one keystroke answers it (no Enter); false: a typed line does. */
  key: boolean;
  /** Answers (lower-cased; '' is a bare Enter) after which the prompt follows. */
  accept: string[];
  /** Answers that end the session. */
  reject: string[];
}

export const SIM_LOGIN_SCREENS: Partial<Record<SimPlatform, SimLoginScreen>> = {
  hp_comware: { text: '******************************************************************************\r\n* Copyright (c) 2004-2023 New H3C Technologies Co., Ltd. All rights reserved.*\r\n******************************************************************************\r\n\r\nPress Y or ENTER to continue, N to exit.', key: true, accept: ['y', ''], reject: ['n'] },
  fortinet: { text: 'This system is for authorised use only.\r\n(Press \'a\' to accept):', key: true, accept: ['a'], reject: [] },
  dell_force10: { text: 'This system is for authorised use only.\r\nHave you read and do you acknowledge the above statement? [y/n]: ', key: false, accept: ['y', 'yes'], reject: ['n', 'no'] },
  mikrotik_routeros: { text: 'Do you want to see the software license? [Y/n]: ', key: true, accept: ['n', 'y', ''], reject: [] },
};

/** The expiry notice shown instead of the first prompt (SimOptions.passwordExpired); it asks and never lets the user in. */
export function passwordExpiredText(platform: SimPlatform, user: string): string {
  if (platform === 'huawei' || platform === 'huawei_vrpv8') return 'Info: The password needs to be changed. Change now? [Y/N]:';
  return `WARNING: Your password has expired.\r\nYou must change your password now and login again!\r\nChanging password for ${user}.\r\nCurrent password: `;
}
