/**
 * Errors of a bastion (jump host) and of the channels through it. Every message names the bastion,
 * and, when a device's connect failed because of it, the device first (docs/api.md, "Status
 * codes": every message names the device). Codes keep their meaning: a bastion that refuses the
 * TCP connection is CONNECT_REFUSED (UNAVAILABLE), a bastion whose host key does not match is
 * HOST_KEY_MISMATCH (FAILED_PRECONDITION), so retry advice is the same as for a device.
 */
import { WarmpoolError, describeError, type ErrorCode } from '../core/errors.js';

/** OpenSSH's channel-open failure reasons (RFC 4254 §5.1). */
const ADMINISTRATIVELY_PROHIBITED = 1;
const CONNECT_FAILED = 2;
const RESOURCE_SHORTAGE = 4;

export function bastionError(bastion: string, code: ErrorCode, what: string, cause?: unknown): WarmpoolError {
  return new WarmpoolError(code, `bastion ${bastion}: ${what}`, { device: bastion, cause });
}

/**
 * A bastion's connect error (from connectSsh, which words it as "device B: ...") reworded to
 * name the bastion as a bastion; the code is kept.
 */
export function asBastionError(bastion: string, err: unknown): WarmpoolError {
  const text = describeError(err).replace(new RegExp(`^device ${escape(bastion)}: `), '');
  const code: ErrorCode = err instanceof WarmpoolError ? err.code : 'PROTOCOL_ERROR';
  return bastionError(bastion, code, text, err);
}

/** A bastion's error as the device that needed it sees it: same code, both names. */
export function forDevice(device: string, err: WarmpoolError): WarmpoolError {
  return new WarmpoolError(err.code, `device ${device}: via ${err.message}`, { device, cause: err });
}

/** Is the bastion refusing more channels on this connection (so another connection may take it)? */
export function isResourceShortage(err: unknown): boolean {
  return (err as { reason?: unknown }).reason === RESOURCE_SHORTAGE;
}

/**
 * A failed direct-tcpip channel open (ssh2 passes OpenSSH's reason code and text) → an error
 * naming the device, the bastion and the target.
 */
export function channelOpenError(bastion: string, device: string, target: string, err: unknown): WarmpoolError {
  const reason = (err as { reason?: unknown }).reason;
  const text = describeError(err).replace(/^\(SSH\) Channel open failure: ?/, '');
  const make = (code: ErrorCode, what: string) => new WarmpoolError(code, `device ${device}: via bastion ${bastion}: ${what}`, { device, cause: err });
  if (reason === CONNECT_FAILED) return make('CONNECT_REFUSED', `the bastion could not connect to ${target}${text ? ` (${text})` : ''}`);
  if (reason === ADMINISTRATIVELY_PROHIBITED) {
    return make('CHANNEL_OPEN_FAILED', `the bastion refused to forward to ${target} (administratively prohibited: the bastion's sshd needs AllowTcpForwarding yes, and PermitOpen must allow the target)`);
  }
  if (reason === RESOURCE_SHORTAGE) return make('CHANNEL_OPEN_FAILED', `the bastion refused another channel (resource shortage${text ? `: ${text}` : ''}); lower maxChannelsPerConnection`);
  if (/No response from server|Not connected/i.test(text)) return make('CONNECTION_LOST', `the connection to the bastion ended while a channel to ${target} was being opened`);
  return make('CHANNEL_OPEN_FAILED', `opening a channel to ${target} failed: ${text}`);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
