/**
 * NETCONF message framing over SSH (RFC 6242): the end-of-message marker of base:1.0
 * (`]]>]]>`) and the chunked framing of base:1.1 (`\n#<size>\n<data>...\n##\n`).
 *
 * The decoder is fed bytes as they arrive and hands out whole messages. It is bounded whatever
 * the peer sends: a message larger than `maxMessageBytes` (ssh.maxOutputBytes) fails before its
 * bytes are kept, a chunk header is at most 13 bytes ("\n#" + 10 digits + "\n"), a chunk size is
 * 1..4294967295 without a leading zero, and anything else where a header belongs is a
 * FramingError naming what was seen — never an exception out of a stream handler, never a crash.
 */

export type Framing = '1.0' | '1.1';

/** RFC 6242 §4.3: the base:1.0 end-of-message marker. */
export const EOM = ']]>]]>';
const EOM_BYTES = Buffer.from(EOM);
/** RFC 6242 §4.2: chunk-size is 1..4294967295. */
export const MAX_CHUNK_SIZE = 4294967295;
const MAX_SIZE_DIGITS = 10;

export class FramingError extends Error {
  /** 'too-large': the message passed the size cap; 'malformed': the bytes are not valid framing. */
  readonly kind: 'too-large' | 'malformed';

  constructor(kind: 'too-large' | 'malformed', message: string) {
    super(message);
    this.name = 'FramingError';
    this.kind = kind;
  }
}

/** One message, framed for the wire. */
export function encodeMessage(framing: Framing, xml: string): Buffer {
  const body = Buffer.from(xml, 'utf8');
  if (framing === '1.0') return Buffer.concat([body, EOM_BYTES]);
  return Buffer.concat([Buffer.from(`\n#${body.length}\n`), body, Buffer.from('\n##\n')]);
}

/** A byte shown in a message: printable ASCII as itself, anything else as \xNN. */
function showByte(b: number): string {
  return b >= 0x20 && b < 0x7f ? JSON.stringify(String.fromCharCode(b)) : `\\x${b.toString(16).padStart(2, '0')}`;
}

/**
 * Incremental decoder. `push` may be called with any slicing of the stream; `onMessage` gets
 * each complete message and may switch the framing (after the hello) with `framing = '1.1'`:
 * the bytes after that message are read with the new framing.
 */
export class FrameDecoder {
  framing: Framing = '1.0';
  readonly #max: number;
  readonly #onMessage: (msg: Buffer) => void;
  #parts: Buffer[] = [];
  #size = 0;
  /** base:1.0: the last bytes of the previous push, in case the marker straddles two pushes. */
  #carry: Buffer = Buffer.alloc(0);
  /** base:1.1 state. */
  #header = '';
  #chunkLeft = 0;
  #chunks = 0;
  #failed: FramingError | undefined;

  constructor(maxMessageBytes: number, onMessage: (msg: Buffer) => void) {
    this.#max = maxMessageBytes;
    this.#onMessage = onMessage;
  }

  /** Bytes of a message received so far and not yet complete (0 between messages). */
  get pending(): number {
    return this.#size + this.#header.length;
  }

  /** Feed bytes; throws a FramingError (and stays failed) when the stream is not valid framing. */
  push(data: Buffer): void {
    if (this.#failed) throw this.#failed;
    try {
      let rest: Buffer | undefined = data;
      while (rest && rest.length > 0) rest = this.framing === '1.0' ? this.#push10(rest) : this.#push11(rest);
    } catch (err) {
      if (err instanceof FramingError) {
        this.#failed = err;
        this.#parts = [];
        this.#size = 0;
        this.#header = '';
      }
      throw err;
    }
  }

  #take(part: Buffer): void {
    if (part.length === 0) return;
    if (this.#size + part.length > this.#max) {
      throw new FramingError('too-large', `a NETCONF message passed ${this.#max} bytes (ssh.maxOutputBytes)`);
    }
    this.#parts.push(part);
    this.#size += part.length;
  }

  #emit(): void {
    const msg = this.#parts.length === 1 ? (this.#parts[0] as Buffer) : Buffer.concat(this.#parts, this.#size);
    this.#parts = [];
    this.#size = 0;
    this.#carry = Buffer.alloc(0);
    this.#chunks = 0;
    this.#header = '';
    this.#onMessage(msg);
  }

  /** base:1.0: everything up to the marker is the message. Returns the bytes after it. */
  #push10(data: Buffer): Buffer | undefined {
    const carry = this.#carry;
    const joined = carry.length > 0 ? Buffer.concat([carry, data]) : data;
    const at = joined.indexOf(EOM_BYTES);
    if (at < 0) {
      this.#take(data);
      // Keep the last 5 bytes: the marker may begin in them.
      this.#carry = Buffer.from(joined.subarray(Math.max(0, joined.length - (EOM_BYTES.length - 1))));
      return undefined;
    }
    const end = at - carry.length; // where the marker starts, relative to `data`
    if (end >= 0) {
      this.#take(data.subarray(0, end));
    } else {
      // The marker began in bytes already kept: drop them from the message.
      const all = Buffer.concat(this.#parts, this.#size);
      this.#parts = [all.subarray(0, all.length + end)];
      this.#size = all.length + end;
    }
    this.#emit();
    return data.subarray(end + EOM_BYTES.length);
  }

  /** base:1.1: chunk headers, chunk data, end-of-chunks. Returns unread bytes (after a message). */
  #push11(data: Buffer): Buffer | undefined {
    let i = 0;
    while (i < data.length) {
      if (this.#chunkLeft > 0) {
        const n = Math.min(this.#chunkLeft, data.length - i);
        this.#take(data.subarray(i, i + n));
        this.#chunkLeft -= n;
        i += n;
        continue;
      }
      const b = data[i] as number;
      i++;
      if (this.#chunks === 0 && (this.#header === '' || this.#header === '\n') && (b === 0x20 || b === 0x09 || b === 0x0d || (b === 0x0a && this.#header === '\n'))) {
        // Whitespace between messages (some servers end a reply with an extra line break): not part of any message.
        continue;
      }
      if (this.#headerByte(b)) {
        this.#emit();
        return data.subarray(i);
      }
    }
    return undefined;
  }

  /** One byte of a chunk header; true when it completed an end-of-chunks marker. */
  #headerByte(b: number): boolean {
    const h = this.#header;
    const bad = (expected: string): never => {
      throw new FramingError('malformed', `bad NETCONF 1.1 chunk header: expected ${expected}, got ${showByte(b)} after ${JSON.stringify(h)}`);
    };
    if (h === '') {
      if (b !== 0x0a) bad('"\\n" (start of a chunk header)');
      this.#header = '\n';
      return false;
    }
    if (h === '\n') {
      if (b !== 0x23) bad('"#"');
      this.#header = '\n#';
      return false;
    }
    if (h === '\n#') {
      if (b === 0x23) {
        if (this.#chunks === 0) throw new FramingError('malformed', 'bad NETCONF 1.1 framing: end-of-chunks before any chunk');
        this.#header = '\n##';
        return false;
      }
      if (b < 0x31 || b > 0x39) bad('a chunk size (1-9) or "#"');
      this.#header += String.fromCharCode(b);
      return false;
    }
    if (h === '\n##') {
      if (b !== 0x0a) bad('"\\n" ending the end-of-chunks marker');
      this.#header = '';
      return true;
    }
    // "\n#" followed by digits
    if (b >= 0x30 && b <= 0x39) {
      if (h.length - 2 >= MAX_SIZE_DIGITS) bad(`a line break within ${MAX_SIZE_DIGITS} digits of chunk size`);
      this.#header += String.fromCharCode(b);
      return false;
    }
    if (b !== 0x0a) bad('a digit or "\\n" ending the chunk size');
    const size = Number(h.slice(2));
    if (size > MAX_CHUNK_SIZE) throw new FramingError('malformed', `bad NETCONF 1.1 chunk header: size ${h.slice(2)} is over ${MAX_CHUNK_SIZE}`);
    if (this.#size + size > this.#max) {
      throw new FramingError('too-large', `a NETCONF message passed ${this.#max} bytes (ssh.maxOutputBytes): a chunk of ${size} bytes was announced`);
    }
    this.#header = '';
    this.#chunkLeft = size;
    this.#chunks++;
    return false;
  }
}
