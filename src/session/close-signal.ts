/**
 * "The session ended by itself" for the pool (Session.onClose): told once, to every listener,
 * including one that registers after the end (replayed on a microtask). An end we asked for
 * (close()) is never reported. One implementation for every driver.
 */
export type CloseListener = (err?: Error) => void;

export class CloseSignal {
  #listeners: CloseListener[] = [];
  #ended = false;
  #byUs = false;
  #error: Error | undefined;

  get ended(): boolean {
    return this.#ended;
  }

  /** The error the session ended with by itself; undefined while open or after close() by us. */
  get error(): Error | undefined {
    return this.#error;
  }

  listen(listener: CloseListener): void {
    if (!this.#ended) {
      this.#listeners.push(listener);
      return;
    }
    if (this.#byUs) return;
    const err = this.#error;
    queueMicrotask(() => call(listener, err));
  }

  /** The session ended by itself (peer closed, keepalive failed): every listener hears it once. */
  lost(err: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = err;
    for (const l of this.#listeners.splice(0)) call(l, err);
  }

  /** We ended it: listeners are dropped, never called. */
  closedByUs(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#byUs = true;
    this.#listeners.length = 0;
  }
}

function call(listener: CloseListener, err: Error | undefined): void {
  try {
    listener(err);
  } catch {
    // A listener must not break the driver that reports to it.
  }
}
