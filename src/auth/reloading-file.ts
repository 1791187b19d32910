/**
 * A parsed file that follows its source on disk: tokens and policy files are usually mounted
 * Kubernetes Secrets/ConfigMaps, which are replaced (atomic symlink swap) rather than edited,
 * so rotation must be picked up without a restart.
 *
 * The file is stat()ed on the request path, but at most once per `recheckMs` (default 1 s),
 * so a burst of requests costs one stat, not one each. A change is detected by mtime, size
 * and inode (the inode catches a symlink swap to a file with the same mtime and size).
 *
 * A file that becomes unreadable or invalid after start-up does NOT take the daemon down and
 * does not fall back to "allow everything": the last good content stays in force and an error
 * is logged (at most once per distinct problem), so a half-written file never opens a hole.
 */
import { readFileSync, statSync } from 'node:fs';
import { systemClock, type Clock } from '../core/clock.js';
import { WarmpoolError, describeError, isWarmpoolError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

export interface ReloadingFileOptions {
  /** Minimum time between two stat() calls on the request path. Default 1000 ms. */
  recheckMs?: number;
  clock?: Clock;
  logger?: Logger;
  /** Config key that names this file, for start-up errors (e.g. "grpc.auth.tokensFile"). */
  field?: string;
}

export class ReloadingFile<T> {
  readonly path: string;
  readonly #parse: (text: string, path: string) => T;
  readonly #recheckMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  readonly #what: string;
  #value: T;
  #stamp: string;
  #lastCheck: number;
  #lastError = '';

  /** Reads and parses the file now; throws the parser's error (CONFIG_INVALID) if it is bad. */
  constructor(what: string, path: string, parse: (text: string, path: string) => T, opts: ReloadingFileOptions = {}) {
    this.#what = what;
    this.path = path;
    this.#parse = parse;
    this.#recheckMs = opts.recheckMs ?? 1000;
    this.#clock = opts.clock ?? systemClock;
    this.#logger = opts.logger;
    let first: { value: T; stamp: string };
    try {
      first = this.#read();
    } catch (err) {
      if (isWarmpoolError(err)) throw err;
      throw new WarmpoolError('CONFIG_INVALID', `cannot read ${what} ${path}: ${describeError(err)}`, {
        field: opts.field,
        cause: err,
      });
    }
    const { value, stamp } = first;
    this.#value = value;
    this.#stamp = stamp;
    this.#lastCheck = this.#clock.now();
  }

  /** The current content; re-reads the file first when it changed and the recheck interval passed. */
  get(): T {
    const now = this.#clock.now();
    if (now - this.#lastCheck >= this.#recheckMs) {
      this.#lastCheck = now;
      this.#refresh(false);
    }
    return this.#value;
  }

  /**
   * Re-read now (SIGHUP). Returns true when the content was replaced; on a bad file keeps the
   * previous content, logs, and returns false.
   */
  reload(): boolean {
    this.#lastCheck = this.#clock.now();
    return this.#refresh(true);
  }

  #refresh(force: boolean): boolean {
    try {
      const stamp = this.#statStamp();
      if (!force && stamp === this.#stamp) return false;
      const { value, stamp: readStamp } = this.#read();
      this.#value = value;
      this.#stamp = readStamp;
      this.#lastError = '';
      this.#logger?.info({ file: this.path }, `${this.#what} reloaded`);
      return true;
    } catch (err) {
      const msg = describeError(err);
      // Log each distinct problem once, not once per request.
      if (msg !== this.#lastError) {
        this.#lastError = msg;
        this.#logger?.error({ file: this.path, err: msg }, `${this.#what} not reloaded; the previous content stays in force`);
      }
      return false;
    }
  }

  #statStamp(): string {
    const st = statSync(this.path);
    return `${st.mtimeMs}:${st.size}:${st.ino}`;
  }

  #read(): { value: T; stamp: string } {
    // Stat before reading: if the file changes in between, the next check sees a new stamp again.
    const stamp = this.#statStamp();
    const text = readFileSync(this.path, 'utf8');
    return { value: this.#parse(text, this.path), stamp };
  }
}
