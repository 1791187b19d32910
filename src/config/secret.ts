import { readFileSync, statSync } from 'node:fs';
import { inspect } from 'node:util';

const REDACTED = '[REDACTED]';

/**
 * A credential that can never be printed by accident: JSON, util.inspect and
 * string conversion all yield "[REDACTED]". The value comes either inline
 * (config or API) or from a file (a mounted Kubernetes Secret), in which case
 * the file is re-read when its mtime or size changes, so rotation needs no restart.
 */
export class Secret {
  readonly #inline: string | undefined;
  readonly file: string | undefined;
  #cached: string | undefined;
  #stamp = '';

  private constructor(inline: string | undefined, file: string | undefined) {
    this.#inline = inline;
    this.file = file;
  }

  static fromValue(value: string): Secret {
    return new Secret(value, undefined);
  }

  static fromFile(path: string): Secret {
    return new Secret(undefined, path);
  }

  /** The secret's current value. Throws (without the value) when the file cannot be read. */
  reveal(): string {
    if (this.#inline !== undefined) return this.#inline;
    const path = this.file as string;
    const st = statSync(path);
    const stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    if (stamp !== this.#stamp || this.#cached === undefined) {
      // Secrets mounted from files usually end in a newline the owner did not mean.
      this.#cached = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
      this.#stamp = stamp;
    }
    return this.#cached;
  }

  /** Where the value comes from, safe to show: "inline" or the file path. */
  describe(): string {
    return this.file === undefined ? 'inline' : `file ${this.file}`;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
