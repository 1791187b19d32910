/**
 * Caps concurrently open SSH channels on one connection.
 *
 * OpenSSH refuses the 11th session channel (MaxSessions 10) with "open failed", and many
 * network OSes allow far fewer. A batch runs its commands one at a time, but a health probe
 * or keepalive falling back to an exec channel, or a caller misusing a session
 * concurrently, could overlap; instead of letting the server refuse, extra openers wait
 * here in FIFO order.
 */
export class ChannelLimiter {
  #active = 0;
  readonly #queue: Array<() => void> = [];

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`channel limit must be a positive integer, got ${max}`);
  }

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return this.#queue.length;
  }

  /**
   * Resolves with an idempotent release function once a slot is free. When `signal`
   * aborts first, rejects with the signal's reason and gives up the place in the queue.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const grant = (): (() => void) => {
      this.#active++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        this.#active--;
        this.#queue.shift()?.();
      };
    };
    if (this.#active < this.max) return Promise.resolve(grant());
    return new Promise((resolve, reject) => {
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(grant());
      };
      const onAbort = () => {
        const i = this.#queue.indexOf(wake);
        if (i >= 0) this.#queue.splice(i, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(wake);
    });
  }
}
