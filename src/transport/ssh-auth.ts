import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthenticationType, ConnectConfig, NextAuthHandler, ParsedKey } from 'ssh2';
import type { DeviceSpec } from '../config/types.js';
import { WarmpoolError } from '../core/errors.js';

/**
 * SSH login: the credentials of one device, and the order in which ssh2 offers them.
 * Every failure here is AUTH_FAILED (docs/api.md, "Status codes") and no message contains a
 * password, passphrase or key material.
 */

export interface AuthMaterial {
  password: string | undefined;
  key: ParsedKey | undefined;
}

/** What happened during one login, for the AUTH_FAILED message: methods we tried, methods the server offered. */
export interface AuthTrail {
  readonly tried: string[];
  readonly offered: string[];
}

/**
 * The only place where device credentials are revealed. A key that cannot be
 * decrypted is an AUTH_FAILED before any socket is opened; the message never
 * contains the passphrase or key material.
 */
export function loadAuth(device: DeviceSpec): AuthMaterial {
  const fail = (msg: string, cause?: unknown): never => {
    throw new WarmpoolError('AUTH_FAILED', `device ${device.id}: ${msg}`, { device: device.id, cause });
  };
  let password: string | undefined;
  let key: ParsedKey | undefined;
  try {
    password = device.password?.reveal();
  } catch (err) {
    fail(`password (${device.password?.describe()}) could not be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (device.privateKey) {
    let pem = '';
    let passphrase: string | undefined;
    try {
      pem = device.privateKey.reveal();
    } catch (err) {
      fail(`private key (${device.privateKey.describe()}) could not be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    try {
      passphrase = device.passphrase?.reveal();
    } catch (err) {
      fail(`key passphrase (${device.passphrase?.describe()}) could not be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const parsed = ssh2.utils.parseKey(pem, passphrase);
    const first = Array.isArray(parsed) ? parsed[0] : parsed;
    if (first instanceof Error || first === undefined) {
      // ssh2's texts: "Encrypted private OpenSSH key detected, but no passphrase given",
      // "Failed to decrypt private key" / "bad decrypt" ... Never echo anything user-supplied.
      const text = first instanceof Error ? first.message : '';
      const encrypted = /passphrase|decrypt|encrypted/i.test(text);
      fail(
        encrypted
          ? `private key (${device.privateKey.describe()}) could not be decrypted: ${
              passphrase === undefined ? 'it is encrypted and no passphrase is configured' : 'wrong passphrase'
            }`
          : `private key (${device.privateKey.describe()}) could not be parsed`,
      );
    }
    key = first as ParsedKey;
  }
  if (password === undefined && key === undefined) {
    fail('no password or private key configured');
  }
  return { password, key };
}

/**
 * Our auth order: publickey, password, keyboard-interactive (answering password
 * prompts with the password; many TACACS/RADIUS-backed devices offer only that).
 * Methods the server did not list as "can continue" are skipped. Records what it
 * tried and what the server offered in `trail`.
 */
export function makeAuthHandler(username: string, auth: AuthMaterial, trail: AuthTrail): ConnectConfig['authHandler'] {
  const plan: AnyAuthMethod[] = [];
  if (auth.key) plan.push({ type: 'publickey', username, key: auth.key } as AnyAuthMethod);
  if (auth.password !== undefined) {
    const password = auth.password;
    plan.push({ type: 'password', username, password });
    plan.push({
      type: 'keyboard-interactive',
      username,
      prompt: (_name, _instructions, _lang, prompts, finish) => {
        // Visible prompts asking for a user name get the user name; everything else
        // (hidden prompts, "Password:", "Passcode:") gets the password.
        finish(prompts.map((p) => (p.echo && /user|login/i.test(p.prompt) ? username : password)));
      },
    });
  }
  let i = 0;
  const handler = (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, next: NextAuthHandler): void => {
    if (methodsLeft && methodsLeft.length > 0) trail.offered.splice(0, trail.offered.length, ...methodsLeft);
    while (i < plan.length) {
      const m = plan[i++] as AnyAuthMethod;
      if (methodsLeft && methodsLeft.length > 0 && !methodsLeft.includes(m.type as AuthenticationType)) continue;
      trail.tried.push(m.type);
      next(m);
      return;
    }
    // No method left: ssh2 takes `false` as "give up", which its typings do not allow.
    (next as unknown as (v: false) => void)(false);
  };
  return handler as unknown as ConnectConfig['authHandler'];
}
