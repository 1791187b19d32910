import { constants as osConstants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import type { ClientChannel } from 'ssh2';
import type { DeviceSpec } from '../config/types.js';
import { WarmpoolError, describeError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { ChannelLimiter } from '../transport/channel-limiter.js';
import { connectSsh, type ConnectOptions, type SshConnection } from '../transport/ssh-connect.js';
import { outputTooLarge } from '../session/output-limit.js';
import type { BatchRequest, CommandOutcome, DeviceSession } from './ssh-types.js';

/**
 * EXEC driver: every command runs on its own SSH "exec" channel of one held connection.
 *
 * Output contract (decided here, relied on by api/):
 * - `output` is the command's stdout only, decoded as UTF-8 once at the end (so a
 *   multi-byte character split across packets is never mangled), with `\r\n` → `\n`.
 *   Never truncated: past `ssh.maxOutputBytes` bytes the command fails with OUTPUT_TOO_LARGE
 *   instead, the channel is closed at once (reading stops, memory stays bounded by the cap)
 *   and the session is dirty (replaced by the pool).
 * - Streaming (`onChunk`): stdout goes to the consumer only and is not kept, so `output` is ''
 *   and no size cap applies (only the command timeout). Streaming carries stdout only.
 * - stderr is collected separately and, when non-empty, becomes `error` (trimmed; only its
 *   last 64 KiB characters when larger). It is NOT appended to `output`: callers that parse
 *   output must not see diagnostics mixed in. A failed command with empty stderr gets
 *   `error: "exit status N"`. Only stderr's last STDERR_TAIL_BYTES are ever held; without
 *   streaming, stderr past `ssh.maxOutputBytes` (counted apart from stdout) fails the command
 *   like stdout does, so `cmd 2>&1`-style floods cannot run on until the timeout.
 * - `exitStatus` is the remote status; a command killed by a signal reports 128+n (as a
 *   shell would) or -1 for a signal this platform does not know, and `error` names the signal.
 *   A channel that closes without any exit status reports -1.
 * - `failed` is `exitStatus !== 0`.
 * - `privileged` is ignored: an exec device's privilege is the account's (use sudo in the
 *   command if needed). `configure` needs a shell and is rejected with INVALID_ARGUMENT.
 */

export const DEFAULT_MAX_CHANNELS = 8;

export interface ExecSessionOptions {
  logger?: Logger;
  /** Concurrent channels on this connection (OpenSSH allows 10; we stay below). */
  maxChannels?: number;
}

let sessionCounter = 0;

/** Streams stdout to `onChunk` with `\r\n` → `\n`, holding back a trailing `\r` until the next chunk. */
class ChunkNormaliser {
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

function signalStatus(name: string): number {
  const key = (name.startsWith('SIG') ? name : `SIG${name}`) as keyof typeof osConstants.signals;
  const n = osConstants.signals[key];
  return typeof n === 'number' ? 128 + n : -1;
}

/** stderr is a diagnostic summary, not payload: keep the end of very large stderr (where the error usually is). */
export const MAX_STDERR_CHARS = 64 * 1024;
/** stderr bytes held while a command runs: enough for MAX_STDERR_CHARS characters of up to 4 bytes each. */
export const STDERR_TAIL_BYTES = 4 * MAX_STDERR_CHARS;

/** Keeps only the last STDERR_TAIL_BYTES of a byte stream, and counts everything. */
class TailBuffer {
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

function summariseStderr(errOut: TailBuffer): string {
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

function isChannelOpenFailure(err: Error): boolean {
  return /channel open failure|open failed|administratively prohibited|resource shortage/i.test(err.message);
}

export class ExecSession implements DeviceSession {
  readonly mode = 'exec' as const;
  readonly id: string;
  readonly device: DeviceSpec;
  readonly connection: SshConnection;
  readonly #logger: Logger;
  readonly #limiter: ChannelLimiter;
  #dirty = false;
  #closing = false;
  readonly #closeListeners: Array<(err?: Error) => void> = [];
  /** Callbacks of in-flight commands/probes to fail when the connection drops. */
  readonly #onLost = new Set<(err: Error) => void>();

  constructor(device: DeviceSpec, connection: SshConnection, opts: ExecSessionOptions = {}) {
    this.device = device;
    this.connection = connection;
    this.id = `${device.id}/exec/${++sessionCounter}`;
    this.#logger = opts.logger ?? silentLogger;
    this.#limiter = new ChannelLimiter(opts.maxChannels ?? DEFAULT_MAX_CHANNELS);
    connection.onEnd((err) => {
      const lost =
        err ?? new WarmpoolError('CONNECTION_LOST', `device ${device.id}: connection closed`, { device: device.id });
      this.#dirty = true;
      for (const fn of [...this.#onLost]) fn(lost);
      // Only an end we did not ask for is reported to onClose listeners.
      if (err && !this.#closing) for (const l of this.#closeListeners.splice(0)) l(err);
    });
  }

  get dirty(): boolean {
    return this.#dirty || this.connection.ended;
  }

  /** Open channels right now (for tests and stats). */
  get activeChannels(): number {
    return this.#limiter.active;
  }

  onClose(listener: (err?: Error) => void): void {
    this.#closeListeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#dirty = true;
    if (this.connection.ended) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1500);
      t.unref();
      this.connection.onEnd(() => {
        clearTimeout(t);
        resolve();
      });
      this.connection.close();
    });
  }

  /**
   * Liveness check without opening a channel: an SSH global request
   * "keepalive@openssh.com" (want-reply), exactly what ssh2's own keepalive sends.
   * Any reply, success or failure (OpenSSH answers "failure" to unknown requests),
   * proves the peer's SSH layer is alive and the connection is not half-dead.
   *
   * Why not `exec true`: it costs a channel (network OSes often allow one exec, or
   * none), a process on the server and, on devices, an accounting/AAA log line per probe.
   * ssh2 has no public ping, so this uses two internals (`_protocol.ping()` and the
   * `_callbacks` FIFO of global-request replies, the same pair its keepalive uses; ssh2
   * is pinned). If a future ssh2 lacks them we fall back to `exec true`.
   */
  probe(signal?: AbortSignal): Promise<void> {
    const id = this.device.id;
    if (this.connection.ended || this.#closing) {
      return Promise.reject(new WarmpoolError('CONNECTION_LOST', `device ${id}: connection is closed`, { device: id }));
    }
    const client = this.connection.client as unknown as {
      _protocol?: { ping?: () => void };
      _callbacks?: Array<(failed: boolean | Error) => void>;
    };
    if (typeof client._protocol?.ping !== 'function' || !Array.isArray(client._callbacks)) {
      return this.#execProbe(signal);
    }
    const timeoutMs = this.device.ssh.connectTimeoutMs;
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (err?: WarmpoolError) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#onLost.delete(onLost);
        if (err) {
          if (err.code !== 'CANCELLED') this.#dirty = true;
          reject(err);
        } else resolve();
      };
      const timer = setTimeout(
        () => finish(new WarmpoolError('CONNECTION_LOST', `device ${id}: no reply to SSH keepalive within ${timeoutMs} ms`, { device: id })),
        timeoutMs,
      );
      const onAbort = () => finish(new WarmpoolError('CANCELLED', `device ${id}: probe cancelled`, { device: id }));
      const onLost = (err: Error) =>
        finish(new WarmpoolError('CONNECTION_LOST', `device ${id}: connection lost during probe`, { device: id, cause: err }));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#onLost.add(onLost);
      // ssh2 calls every pending callback with an Error when the connection closes.
      (client._callbacks as Array<(failed: boolean | Error) => void>).push((r) => {
        if (r instanceof Error) onLost(r);
        else finish();
      });
      try {
        (client._protocol as { ping: () => void }).ping();
      } catch (err) {
        onLost(err as Error);
      }
    });
  }

  keepalive(): Promise<void> {
    return this.probe();
  }

  async #execProbe(signal?: AbortSignal): Promise<void> {
    const [r] = await this.runBatch({
      commands: ['true'],
      privileged: false,
      configure: false,
      stopOnError: true,
      timeoutMs: () => this.device.ssh.connectTimeoutMs,
      ...(signal ? { signal } : {}),
    });
    if (!r || r.failed) {
      this.#dirty = true;
      throw new WarmpoolError('CONNECTION_LOST', `device ${this.device.id}: probe command failed`, { device: this.device.id });
    }
  }

  async runBatch(req: BatchRequest): Promise<CommandOutcome[]> {
    const id = this.device.id;
    if (req.configure) {
      throw new WarmpoolError(
        'INVALID_ARGUMENT',
        `device ${id} is in exec mode; configure requires shell mode`,
        { device: id, field: 'configure' },
      );
    }
    if (this.connection.ended || this.#closing) {
      this.#dirty = true;
      throw new WarmpoolError('CONNECTION_LOST', `device ${id}: connection is closed`, { device: id });
    }
    const results: CommandOutcome[] = [];
    for (let i = 0; i < req.commands.length; i++) {
      const outcome = await this.#runOne(req, i);
      results.push(outcome);
      req.onResult?.(i, outcome);
      if (req.stopOnError && outcome.failed) break;
    }
    return results;
  }

  #runOne(req: BatchRequest, index: number): Promise<CommandOutcome> {
    const id = this.device.id;
    const command = req.commands[index] as string;
    const timeoutMs = req.timeoutMs(index);
    const started = performance.now();
    const client = this.connection.client;

    return new Promise<CommandOutcome>((resolve, reject) => {
      let done = false;
      let stream: ClientChannel | undefined;
      let release: (() => void) | undefined;
      const waitForSlot = new AbortController();

      const finish = (err: WarmpoolError | undefined, outcome?: CommandOutcome) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        this.#onLost.delete(onLost);
        waitForSlot.abort();
        if (err) {
          // A refused channel is a capacity signal; the connection itself is fine.
          if (err.code !== 'CHANNEL_OPEN_FAILED') this.#dirty = true;
          if (stream) {
            try {
              stream.signal('KILL');
            } catch {
              /* not supported or already closed */
            }
            try {
              stream.close();
            } catch {
              /* already closed */
            }
          }
          release?.();
          this.#logger.debug({ device: id, index, code: err.code }, 'exec command failed');
          reject(err);
        } else {
          release?.();
          resolve(outcome as CommandOutcome);
        }
      };

      const timer = setTimeout(() => {
        finish(
          new WarmpoolError(
            'COMMAND_TIMEOUT',
            `device ${id}: command ${index} did not finish within ${timeoutMs} ms`,
            { device: id },
          ),
        );
      }, timeoutMs);
      const onAbort = () =>
        finish(new WarmpoolError('CANCELLED', `device ${id}: command ${index} cancelled`, { device: id }));
      const onLost = (err: Error) =>
        finish(
          new WarmpoolError('CONNECTION_LOST', `device ${id}: connection lost while running command ${index}`, {
            device: id,
            cause: err,
          }),
        );

      if (req.signal?.aborted) return onAbort();
      req.signal?.addEventListener('abort', onAbort, { once: true });
      this.#onLost.add(onLost);
      if (this.connection.ended) return onLost(new Error('connection ended'));

      this.#limiter.acquire(waitForSlot.signal).then(
        (rel) => {
          if (done) return rel();
          release = rel;
          try {
            client.exec(command, (err, ch) => {
              if (err) {
                if (done) return;
                if (isChannelOpenFailure(err)) {
                  return finish(
                    new WarmpoolError(
                      'CHANNEL_OPEN_FAILED',
                      `device ${id}: the device refused a new exec channel for command ${index} (${err.message})`,
                      { device: id, cause: err },
                    ),
                  );
                }
                return onLost(err);
              }
              if (done) {
                ch.close();
                return;
              }
              stream = ch;
              this.#consume(req, index, ch, started, finish, onLost);
            });
          } catch (err) {
            onLost(err as Error);
          }
        },
        () => {
          /* slot wait abandoned because the command already finished (timeout/cancel) */
        },
      );
    });
  }

  #consume(
    req: BatchRequest,
    index: number,
    ch: ClientChannel,
    started: number,
    finish: (err: WarmpoolError | undefined, outcome?: CommandOutcome) => void,
    onLost: (err: Error) => void,
  ): void {
    const id = this.device.id;
    const command = req.commands[index] as string;
    // Streaming hands stdout to the consumer and keeps none of it; otherwise at most `cap` bytes are held.
    const streaming = req.onChunk !== undefined;
    const cap = this.device.ssh.maxOutputBytes;
    const out: Buffer[] = [];
    let outBytes = 0;
    const errOut = new TailBuffer();
    let overflowed = false;
    const overflow = (what: string) => {
      overflowed = true;
      // finish() kills and closes the channel and marks the session dirty: reading stops here.
      finish(outputTooLarge(id, command, cap, what));
    };
    let exitCode: number | undefined;
    let exitSignal: string | undefined;
    let streamFailed = false;
    const normaliser = req.onChunk ? new ChunkNormaliser() : undefined;

    const deliver = (text: string) => {
      if (!req.onChunk || text === '') return;
      let r: void | Promise<void>;
      try {
        r = req.onChunk(index, text);
      } catch (err) {
        streamFailed = true;
        finish(new WarmpoolError('CANCELLED', `device ${id}: output consumer failed: ${describeError(err)}`, { device: id, cause: err }));
        return;
      }
      if (r && typeof (r as Promise<void>).then === 'function') {
        // Backpressure: stop reading (and so stop granting SSH window) until the consumer catches up.
        ch.pause();
        (r as Promise<void>).then(
          () => ch.resume(),
          (err: unknown) => {
            streamFailed = true;
            finish(new WarmpoolError('CANCELLED', `device ${id}: output consumer failed: ${describeError(err)}`, { device: id, cause: err }));
          },
        );
      }
    };

    ch.on('data', (d: Buffer) => {
      if (overflowed || streamFailed) return;
      if (normaliser) return deliver(normaliser.push(d));
      outBytes += d.length;
      if (outBytes > cap) return overflow('output');
      out.push(d);
    });
    ch.stderr.on('data', (d: Buffer) => {
      if (overflowed || streamFailed) return;
      errOut.push(d);
      if (!streaming && errOut.total > cap) overflow('stderr');
    });
    ch.on('exit', (code: number | null, signal?: string) => {
      if (typeof code === 'number') exitCode = code;
      else if (signal) exitSignal = signal;
    });
    ch.on('error', () => {
      /* surfaced through close / connection end */
    });
    ch.once('close', () => {
      if (streamFailed || overflowed) return;
      // When the whole connection went down, ssh2 closes its channels too; let the
      // connection-end path (which runs first) or this deferred check report it.
      setImmediate(() => {
        if (this.connection.ended && exitCode === undefined && exitSignal === undefined) {
          return onLost(new Error('connection ended'));
        }
        if (normaliser) deliver(normaliser.end());
        const stderr = summariseStderr(errOut);
        let exitStatus: number;
        let error = stderr;
        if (exitCode !== undefined) exitStatus = exitCode;
        else if (exitSignal !== undefined) {
          exitStatus = signalStatus(exitSignal);
          error = [`terminated by signal ${exitSignal.startsWith('SIG') ? exitSignal : `SIG${exitSignal}`}`, stderr].filter(Boolean).join(': ');
        } else {
          exitStatus = -1;
          error = ['the channel closed without an exit status', stderr].filter(Boolean).join(': ');
        }
        if (!error && exitStatus !== 0) error = `exit status ${exitStatus}`;
        let output: string;
        try {
          output = streaming ? '' : Buffer.concat(out, outBytes).toString('utf8').replace(/\r\n/g, '\n');
        } catch {
          // ERR_STRING_TOO_LONG (a cap configured near 512 MiB): a failed call, never a crash.
          return finish(outputTooLarge(id, command, cap));
        }
        out.length = 0;
        finish(undefined, {
          command,
          output,
          exitStatus,
          failed: exitStatus !== 0,
          error,
          durationMs: performance.now() - started,
        });
      });
    });
  }
}

/** Connect and wrap: the SessionFactory building block for exec-mode devices. */
export async function openExecSession(
  device: DeviceSpec,
  opts: ConnectOptions & ExecSessionOptions = {},
): Promise<ExecSession> {
  const conn = await connectSsh(device, opts);
  return new ExecSession(device, conn, opts);
}
