/**
 * Follows the inventory file on disk so an edit (or a ConfigMap update) is applied without
 * SIGHUP or a pod roll.
 *
 * The file's DIRECTORY is watched, not the file: Kubernetes updates a mounted ConfigMap by
 * writing a new timestamped directory and renaming a `..data_tmp` symlink over `..data`
 * (the file itself is a symlink through `..data`), so the file's own inode never changes and a
 * watch on it would see nothing. Editors that save by rename behave the same way. Any event in
 * the directory starts (or restarts) the debounce timer; when it fires, the file is read and
 * handed to `onChange` only if its content differs from the last content handed over, so the
 * unrelated files of a directory and the several events of one swap cost one reload at most.
 *
 * Caveat (docs/operations.md "Inventory reloads"): a ConfigMap mounted with `subPath` is never
 * updated by the kubelet; mount the whole ConfigMap as a directory.
 */
import { watch, readFileSync, type FSWatcher } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';

export interface InventoryFileWatchOptions {
  file: string;
  /** Quiet time after the last directory event before the file is read. */
  debounceMs: number;
  /** The file changed: reload it (the daemon's reload; it keeps the old inventory when the new file is bad). */
  onChange: () => void;
  logger: Logger;
  clock?: Clock;
}

export class InventoryFileWatch {
  readonly #opts: InventoryFileWatchOptions;
  readonly #clock: Clock;
  #watcher: FSWatcher | undefined;
  #timer: TimerHandle | undefined;
  #lastDigest: string | undefined;

  constructor(opts: InventoryFileWatchOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
  }

  /** Start watching; the current content counts as already loaded. */
  start(): void {
    this.#lastDigest = this.#digest();
    const dir = dirname(this.#opts.file);
    try {
      this.#watcher = watch(dir, { persistent: false }, () => this.#schedule());
    } catch (err) {
      // Not fatal: SIGHUP still reloads. Say so, since the operator expects changes to be picked up.
      this.#opts.logger.warn({ dir, err: (err as Error).message }, 'cannot watch the inventory directory; changes need SIGHUP');
      return;
    }
    this.#watcher.on('error', (err) => {
      this.#opts.logger.warn({ dir, err: err.message }, 'inventory directory watch failed; changes need SIGHUP');
      this.close();
    });
  }

  close(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  /** A reload happened by other means (SIGHUP): remember its content so the watch does not repeat it. */
  noteLoaded(): void {
    this.#lastDigest = this.#digest();
  }

  #schedule(): void {
    if (this.#watcher === undefined) return;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#fire();
    }, this.#opts.debounceMs);
  }

  #fire(): void {
    const digest = this.#digest();
    // Unchanged content (another file in the directory, a touch): nothing to do. An unreadable
    // file (mid-swap, deleted) is handed over too: the reload reports it and keeps the old set.
    if (digest !== undefined && digest === this.#lastDigest) return;
    this.#lastDigest = digest;
    this.#opts.onChange();
  }

  #digest(): string | undefined {
    try {
      return createHash('sha256').update(readFileSync(this.#opts.file)).digest('hex');
    } catch {
      return undefined;
    }
  }
}
