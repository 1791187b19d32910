/**
 * The one rule for "this session must not be handed out again". Every driver path that fails
 * an exchange asks `spoils`; a session answers `dirty` from a Dirt it owns. docs/api.md,
 * "Failure of a command vs failure of the call": a session that saw something it did not expect is
 * closed and replaced, never handed to the next caller.
 */
import { isWarmpoolError } from '../core/errors.js';

/**
 * What a failed exchange may have left on the device. 'stateful': a command or a read of the shell
 * (output may still be coming, the prompt may be another one). 'stateless': a request whose late
 * answer changes nothing (an SSH keepalive ping).
 */
export type ExchangeKind = 'stateful' | 'stateless';

/** Does failing with `err` leave the session in an unknown state? */
export function spoils(err: unknown, kind: ExchangeKind = 'stateful'): boolean {
  if (!isWarmpoolError(err)) return true;
  switch (err.code) {
    // Refused before anything was sent to the device.
    case 'INVALID_ARGUMENT':
      return false;
    // The device refused one more channel: a capacity signal, the connection itself is fine.
    case 'CHANNEL_OPEN_FAILED':
      return false;
    // Cancelling a request whose answer changes nothing leaves nothing behind.
    case 'CANCELLED':
      return kind === 'stateful';
    default:
      return true;
  }
}

/** A session's dirty flag, set only through the rule above or an explicit `mark`. */
export class Dirt {
  #dirty = false;

  get dirty(): boolean {
    return this.#dirty;
  }

  /** The device no longer behaves as it did at login (no error to judge: a marker went unanswered, ...). */
  mark(): void {
    this.#dirty = true;
  }

  /** An exchange failed with `err`: the session is dirty when the failure spoils it. */
  after(err: unknown, kind: ExchangeKind = 'stateful'): void {
    if (spoils(err, kind)) this.#dirty = true;
  }
}
