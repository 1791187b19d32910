/**
 * What an exec command's bytes become (docs/api.md, "Output"): stdout decoded as UTF-8 once,
 * `\r\n` → `\n`; stderr summarised (its tail only); an exit status, or 128+n for a signal.
 */
import { constants as osConstants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';

/** stderr is a diagnostic summary, not payload: keep the end of very large stderr (where the error usually is). */
export const MAX_STDERR_CHARS = 64 * 1024;
/** stderr bytes held while a command runs: enough for MAX_STDERR_CHARS characters of up to 4 bytes each. */
export const STDERR_TAIL_BYTES = 4 * MAX_STDERR_CHARS;

/** Streams stdout to `onChunk` with `\r\n` → `\n`, holding back a trailing `\r` until the next chunk. */
export class ChunkNormaliser {
  readonly #decoder = new StringDecoder('utf8');
  #pendingCr = false;

  push(buf: Buffer): string {
    return this.#norm(this.#decoder.write(buf), false);
  }

  end(): string {
    return this.#norm(this.#decoder.end(), true);
  }

  #norm(text: string, last: boolean): string {
    let s = (this.#pendingCr ? '\r' : '') + text;
    this.#pendingCr = false;
    if (!last && s.endsWith('\r')) {
      this.#pendingCr = true;
      s = s.slice(0, -1);
    }
    return s.replace(/\r\n/g, '\n');
  }
}

/** Keeps only the last STDERR_TAIL_BYTES of a byte stream, and counts everything. */
export class TailBuffer {
  readonly #parts: Buffer[] = [];
  #held = 0;
  total = 0;

  push(buf: Buffer): void {
    this.total += buf.length;
    this.#parts.push(buf);
    this.#held += buf.length;
    while (this.#parts.length > 1 && this.#held - (this.#parts[0] as Buffer).length >= STDERR_TAIL_BYTES) {
      this.#held -= (this.#parts.shift() as Buffer).length;
    }
  }

  /** The held tail, starting at a character boundary when earlier bytes were dropped. */
  tail(): Buffer {
    let buf = Buffer.concat(this.#parts, this.#held);
    if (buf.length > STDERR_TAIL_BYTES) buf = buf.subarray(buf.length - STDERR_TAIL_BYTES);
    if (buf.length < this.total) {
      let i = 0;
      while (i < buf.length && i < 4 && ((buf[i] as number) & 0xc0) === 0x80) i++; // UTF-8 continuation bytes
      buf = buf.subarray(i);
    }
    return buf;
  }
}

export function summariseStderr(errOut: TailBuffer): string {
  const tail = errOut.tail();
  let omitted = errOut.total - tail.length;
  let text = tail.toString('utf8').replace(/\r\n/g, '\n');
  if (text.length > MAX_STDERR_CHARS) {
    const cut = text.slice(0, text.length - MAX_STDERR_CHARS);
    omitted += Buffer.byteLength(cut);
    text = text.slice(-MAX_STDERR_CHARS);
  }
  text = text.trim();
  return omitted > 0 ? `[${omitted} earlier bytes of stderr omitted]\n${text}` : text;
}

function signalStatus(name: string): number {
  const key = (name.startsWith('SIG') ? name : `SIG${name}`) as keyof typeof osConstants.signals;
  const n = osConstants.signals[key];
  return typeof n === 'number' ? 128 + n : -1;
}

/**
 * Exit status and error text from how the channel ended: the remote status; a signal as 128+n
 * (as a shell reports it, -1 for one this platform does not know) named in `error`; -1 when the
 * channel closed without either. A failure with empty stderr says "exit status N".
 */
export function exitOf(code: number | undefined, signal: string | undefined, stderr: string): { exitStatus: number; error: string } {
  let exitStatus: number;
  let error = stderr;
  if (code !== undefined) exitStatus = code;
  else if (signal !== undefined) {
    exitStatus = signalStatus(signal);
    error = [`terminated by signal ${signal.startsWith('SIG') ? signal : `SIG${signal}`}`, stderr].filter(Boolean).join(': ');
  } else {
    exitStatus = -1;
    error = ['the channel closed without an exit status', stderr].filter(Boolean).join(': ');
  }
  if (!error && exitStatus !== 0) error = `exit status ${exitStatus}`;
  return { exitStatus, error };
}
