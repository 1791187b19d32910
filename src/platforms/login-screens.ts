/**
 * What devices show between authentication and the first prompt, and what to do about it:
 * press a key, acknowledge a banner, decline an offer, or give up because the account must
 * change its password first (reported as AUTH_FAILED, which the API maps to
 * FAILED_PRECONDITION: the device refuses the login until a person acts).
 *
 * Facts: netmiko/huawei/huawei.py (password_change_prompt "Change now|Please choose", answered
 * "N"; "security risks in the configuration file ... [y/n]"), netmiko/hp/hp_comware.py ("Press Y
 * or ENTER to continue, N to exit."), netmiko/hp/hp_procurve.py ("Press any key to continue"),
 * netmiko/dell/dell_force10_ssh.py ("banner login acknowledge": y/n), netmiko/fortinet/
 * fortinet_ssh.py (post-login-banner: "press 'a' to accept"), netmiko/mikrotik/mikrotik_ssh.py
 * (license: "Do you want to see the software license? [Y/n]"), OpenSSH/PAM ("You are required to
 * change your password immediately", "Your password has expired").
 *
 * Pure and table-driven: the shell driver's login (drivers/shell-login.ts) tests the device's
 * last unterminated line with it before looking for a prompt, and answers or gives up.
 */
import type { DeviceSpec } from '../config/types.js';
import { WarmpoolError } from '../core/errors.js';

export type LoginScreen =
  /** Send `answer` (no newline added) and keep waiting for the prompt. */
  | { kind: 'answer'; answer: string; what: string }
  /** The login cannot proceed without a person: fail the session set-up with this error. */
  | { kind: 'refused'; reason: string };

interface Rule {
  re: RegExp;
  screen: LoginScreen;
}

const RULES: readonly Rule[] = [
  // Password expiry and forced changes: never answered (warmpool does not change passwords).
  { re: /password (?:has )?expired|password will expire.*change now|change (?:your )?password (?:immediately|now)|you are required to change your password|the password needs to be changed|change now\? ?\[y\/n\]|please choose/i, screen: { kind: 'refused', reason: 'the device requires a password change before login' } },
  { re: /(?:new|current|old|\(current\) unix) password:\s*$/i, screen: { kind: 'refused', reason: 'the device requires a password change before login' } },
  // Keys and acknowledgements.
  { re: /press any key to continue\s*$/i, screen: { kind: 'answer', answer: '\n', what: 'press any key' } },
  { re: /press y or enter to continue, n to exit/i, screen: { kind: 'answer', answer: 'y\n', what: 'banner acknowledgement' } },
  { re: /\(press 'a' to accept\)|press 'a' to accept/i, screen: { kind: 'answer', answer: 'a', what: 'post-login banner' } },
  { re: /security risks in the configuration file.*\[y\/n\]/i, screen: { kind: 'answer', answer: 'n\n', what: 'configuration risk notice' } },
  { re: /do you want to see the software license\? ?\[y\/n\]:?\s*$/i, screen: { kind: 'answer', answer: 'n\n', what: 'licence offer' } },
  { re: /acknowledge.*\[?y\/n\]?:?\s*$/i, screen: { kind: 'answer', answer: 'y\n', what: 'banner acknowledgement' } },
];

/** The login screen `line` (the device's last quiet line, rendered) is, or undefined for anything else. */
export function classifyLoginScreen(line: string): LoginScreen | undefined {
  if (line.length > 512) return undefined;
  for (const r of RULES) if (r.re.test(line)) return r.screen;
  return undefined;
}

/** The error a refused login becomes (AUTH_FAILED → gRPC FAILED_PRECONDITION), naming the device. */
export function loginRefused(device: Pick<DeviceSpec, 'id'>, screen: Extract<LoginScreen, { kind: 'refused' }>): WarmpoolError {
  return new WarmpoolError('AUTH_FAILED', `device ${device.id}: login refused: ${screen.reason} (log in once by hand to change it)`, { device: device.id });
}
