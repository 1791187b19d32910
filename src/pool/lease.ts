import type { Entry } from './entry.js';
import type { Lease, Session, SessionInfo } from './types.js';

/** A caller's hold on one session; release() gives it back to the pool exactly once. */
export class PoolLease<S extends Session> implements Lease<S> {
  readonly info: SessionInfo;
  readonly #entry: Entry<S>;
  readonly #back: (e: Entry<S>, discard: boolean) => void;
  #released = false;

  constructor(entry: Entry<S>, info: SessionInfo, back: (e: Entry<S>, discard: boolean) => void) {
    this.#entry = entry;
    this.info = info;
    this.#back = back;
  }

  get session(): S {
    return this.#entry.session;
  }

  release(opts?: { discard?: boolean }): void {
    // Idempotent; also a no-op once close() has taken the session away.
    if (this.#released) return;
    this.#released = true;
    if (this.#entry.state === 'busy') this.#back(this.#entry, opts?.discard === true);
  }
}
