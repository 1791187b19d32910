/**
 * EXEC driver: every command runs on its own SSH "exec" channel of one held connection
 * (the factory connects; this driver gets the connection).
 *
 * Output (decided here, relied on by app/; docs/api.md "Output", "Sizes"):
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
import type { DeviceSpec } from '../config/types.js';
import { systemClock, type Clock } from '../core/clock.js';
import { WarmpoolError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { CloseSignal } from '../session/close-signal.js';
import { Dirt } from '../session/dirty.js';
import { ChannelLimiter } from '../transport/channel-limiter.js';
import type { SshConnection } from '../transport/ssh-connect.js';
import { ExecCommand, type ExecHost, type LossAware } from './exec-command.js';
import { ExecPing, pingable } from './exec-ping.js';
import type { BatchRequest, CommandOutcome, DeviceSession } from './ssh-types.js';

export { MAX_STDERR_CHARS, STDERR_TAIL_BYTES } from './exec-output.js';

export const DEFAULT_MAX_CHANNELS = 8;

/** How long close() waits for the connection to end after asking it to. */
const CLOSE_WAIT_MS = 1500;

export interface ExecSessionOptions {
  logger?: Logger;
  /** Time source for every timeout of the session; default the system clock. */
  clock?: Clock;
  /** Concurrent channels on this connection (OpenSSH allows 10; we stay below). */
  maxChannels?: number;
}

let sessionCounter = 0;

export class ExecSession implements DeviceSession {
  readonly mode = 'exec' as const;
  readonly id: string;
  readonly device: DeviceSpec;
  readonly connection: SshConnection;
  readonly #host: ExecHost;
  readonly #close = new CloseSignal();

  constructor(device: DeviceSpec, connection: SshConnection, opts: ExecSessionOptions = {}) {
    this.device = device;
    this.connection = connection;
    this.id = `${device.id}/exec/${++sessionCounter}`;
    const host: ExecHost = {
      device,
      connection,
      limiter: new ChannelLimiter(opts.maxChannels ?? DEFAULT_MAX_CHANNELS),
      clock: opts.clock ?? systemClock,
      dirt: new Dirt(),
      logger: opts.logger ?? silentLogger,
      inFlight: new Set<LossAware>(),
    };
    this.#host = host;
    connection.onEnd((err) => {
      const lost = err ?? new WarmpoolError('CONNECTION_LOST', `device ${device.id}: connection closed`, { device: device.id });
      host.dirt.after(lost);
      for (const x of [...host.inFlight]) x.connectionLost(lost);
      // Only an end we did not ask for is reported (close() by us silenced the signal first).
      if (err) this.#close.lost(err);
    });
  }

  get dirty(): boolean {
    return this.#host.dirt.dirty || this.connection.ended || this.#close.ended;
  }

  /** Open channels right now (for tests and stats). */
  get activeChannels(): number {
    return this.#host.limiter.active;
  }

  onClose(listener: (err?: Error) => void): void {
    this.#close.listen(listener);
  }

  async close(): Promise<void> {
    if (this.#close.ended) return;
    this.#close.closedByUs();
    if (this.connection.ended) return;
    const clock = this.#host.clock;
    await new Promise<void>((resolve) => {
      const t = clock.setTimeout(resolve, CLOSE_WAIT_MS);
      this.connection.onEnd(() => {
        clock.clearTimeout(t);
        resolve();
      });
      this.connection.close();
    });
  }

  /** CONNECTION_LOST when the connection is gone or closing; the session is then dirty. */
  #gone(): WarmpoolError | undefined {
    if (!this.connection.ended && !this.#close.ended) return undefined;
    const err = new WarmpoolError('CONNECTION_LOST', `device ${this.device.id}: connection is closed`, { device: this.device.id });
    this.#host.dirt.after(err);
    return err;
  }

  /** A keepalive ping (exec-ping.ts), or `exec true` where ssh2's internals are missing. */
  probe(signal?: AbortSignal): Promise<void> {
    const gone = this.#gone();
    if (gone) return Promise.reject(gone);
    if (!pingable(this.#host)) return this.#execProbe(signal);
    return new ExecPing(this.#host).run(this.device.ssh.connectTimeoutMs, signal);
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
      const err = new WarmpoolError('CONNECTION_LOST', `device ${this.device.id}: probe command failed`, { device: this.device.id });
      this.#host.dirt.after(err);
      throw err;
    }
  }

  async runBatch(req: BatchRequest): Promise<CommandOutcome[]> {
    const id = this.device.id;
    if (req.configure) {
      throw new WarmpoolError('INVALID_ARGUMENT', `device ${id} is in exec mode; configure requires shell mode`, { device: id, field: 'configure' });
    }
    const gone = this.#gone();
    if (gone) throw gone;
    const results: CommandOutcome[] = [];
    for (let i = 0; i < req.commands.length; i++) {
      const outcome = await new ExecCommand(this.#host, req, i).run(req.timeoutMs(i), req.signal);
      results.push(outcome);
      req.onResult?.(i, outcome);
      if (req.stopOnError && outcome.failed) break;
    }
    return results;
  }
}
