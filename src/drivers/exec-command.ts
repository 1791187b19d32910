/**
 * One exec command on its own SSH channel, as an Exchange (session/exchange.ts: timeout and
 * cancel on the clock, one dirty rule, backpressure). It says what the command is (an `exec`
 * request) and when it ended (the channel closed; exit status or signal).
 */
import type { ClientChannel } from 'ssh2';
import type { DeviceSpec } from '../config/types.js';
import type { Clock } from '../core/clock.js';
import { WarmpoolError, describeError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Dirt } from '../session/dirty.js';
import { Exchange } from '../session/exchange.js';
import { outputTooLarge } from '../session/output-limit.js';
import type { ChannelLimiter } from '../transport/channel-limiter.js';
import type { SshConnection } from '../transport/ssh-connect.js';
import { ChunkNormaliser, exitOf, summariseStderr, TailBuffer } from './exec-output.js';
import type { BatchRequest, CommandOutcome } from './ssh-types.js';

/** An exchange that fails when the connection under it ends. */
export interface LossAware {
  connectionLost(err: Error): void;
}

/** What an exec exchange shares with its session. */
export interface ExecHost {
  readonly device: DeviceSpec;
  readonly connection: SshConnection;
  readonly limiter: ChannelLimiter;
  readonly clock: Clock;
  readonly dirt: Dirt;
  readonly logger: Logger;
  /** Exchanges to fail when the connection drops. */
  readonly inFlight: Set<LossAware>;
}

function isChannelOpenFailure(err: Error): boolean {
  return /channel open failure|open failed|administratively prohibited|resource shortage/i.test(err.message);
}

export class ExecCommand extends Exchange<CommandOutcome> implements LossAware {
  readonly #host: ExecHost;
  readonly #req: BatchRequest;
  readonly #index: number;
  readonly #started: number;
  readonly #waitForSlot = new AbortController();
  #stream: ClientChannel | undefined;
  #release: (() => void) | undefined;

  constructor(host: ExecHost, req: BatchRequest, index: number) {
    super(host.clock, host.device.id, host.dirt);
    this.#host = host;
    this.#req = req;
    this.#index = index;
    this.#started = host.clock.now();
  }

  protected override timedOut(ms: number): WarmpoolError {
    return new WarmpoolError('COMMAND_TIMEOUT', `device ${this.device}: command ${this.#index} did not finish within ${ms} ms`, { device: this.device });
  }

  protected override cancelled(): WarmpoolError {
    return new WarmpoolError('CANCELLED', `device ${this.device}: command ${this.#index} cancelled`, { device: this.device });
  }

  connectionLost(err: Error): void {
    // The cause says why (keepalive timeout, the bastion it went through went down): without repeating the device.
    const why = err ? `: ${describeError(err).replaceAll(`device ${this.device}: `, '')}` : '';
    this.fail(new WarmpoolError('CONNECTION_LOST', `device ${this.device}: connection lost while running command ${this.#index}${why}`, { device: this.device, cause: err }));
  }

  protected override begin(): void {
    const host = this.#host;
    host.inFlight.add(this);
    if (host.connection.ended) return this.connectionLost(new Error('connection ended'));
    host.limiter.acquire(this.#waitForSlot.signal).then(
      (release) => {
        if (this.done) return release();
        this.#release = release;
        this.#open();
      },
      () => {
        /* slot wait abandoned because the command already finished (timeout/cancel) */
      },
    );
  }

  protected override released(err: WarmpoolError | undefined): void {
    this.#host.inFlight.delete(this);
    this.#waitForSlot.abort();
    const stream = this.#stream;
    if (err && stream) {
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
    this.#release?.();
    if (err) this.#host.logger.debug({ device: this.device, index: this.#index, code: err.code }, 'exec command failed');
  }

  #open(): void {
    try {
      this.#host.connection.client.exec(this.#req.commands[this.#index] as string, (err, ch) => {
        if (err) {
          if (this.done) return;
          if (isChannelOpenFailure(err)) {
            return this.fail(
              new WarmpoolError('CHANNEL_OPEN_FAILED', `device ${this.device}: the device refused a new exec channel for command ${this.#index} (${err.message})`, { device: this.device, cause: err }),
            );
          }
          return this.connectionLost(err);
        }
        if (this.done) {
          ch.close();
          return;
        }
        this.#stream = ch;
        this.#consume(ch);
      });
    } catch (err) {
      this.connectionLost(err as Error);
    }
  }

  /**
   * Streaming hands stdout to the consumer and keeps none of it; otherwise at most ssh.maxOutputBytes
   * of stdout (and, counted apart, of stderr) are held: past it the command fails OUTPUT_TOO_LARGE,
   * and failing kills and closes the channel, so reading stops there.
   */
  #consume(ch: ClientChannel): void {
    const req = this.#req;
    const index = this.#index;
    const command = req.commands[index] as string;
    const consumer = req.onChunk;
    const cap = this.#host.device.ssh.maxOutputBytes;
    const out: Buffer[] = [];
    let outBytes = 0;
    const errOut = new TailBuffer();
    let exitCode: number | undefined;
    let exitSignal: string | undefined;
    const normaliser = consumer ? new ChunkNormaliser() : undefined;

    ch.on('data', (d: Buffer) => {
      if (this.over) return;
      if (consumer && normaliser) {
        const text = normaliser.push(d);
        if (text !== '') this.deliver(consumer, index, text, ch);
        return;
      }
      outBytes += d.length;
      if (outBytes > cap) return this.fail(outputTooLarge(this.device, command, cap, 'output'));
      out.push(d);
    });
    ch.stderr.on('data', (d: Buffer) => {
      if (this.over) return;
      errOut.push(d);
      if (!consumer && errOut.total > cap) this.fail(outputTooLarge(this.device, command, cap, 'stderr'));
    });
    ch.on('exit', (code: number | null, signal?: string) => {
      if (typeof code === 'number') exitCode = code;
      else if (signal) exitSignal = signal;
    });
    ch.on('error', () => {
      /* surfaced through close / connection end */
    });
    ch.once('close', () => {
      if (this.over) return;
      // When the whole connection went down, ssh2 closes its channels too; let the
      // connection-end path (which runs first) or this deferred check report it.
      setImmediate(() => {
        if (this.#host.connection.ended && exitCode === undefined && exitSignal === undefined) {
          return this.connectionLost(new Error('connection ended'));
        }
        if (consumer && normaliser) {
          const text = normaliser.end();
          if (text !== '') this.deliver(consumer, index, text, ch);
        }
        const { exitStatus, error } = exitOf(exitCode, exitSignal, summariseStderr(errOut));
        let output: string;
        try {
          output = consumer ? '' : Buffer.concat(out, outBytes).toString('utf8').replace(/\r\n/g, '\n');
        } catch {
          // ERR_STRING_TOO_LONG (a cap configured near 512 MiB): a failed call, never a crash.
          return this.fail(outputTooLarge(this.device, command, cap));
        }
        out.length = 0;
        this.succeed({ command, output, exitStatus, failed: exitStatus !== 0, error, durationMs: this.clock.now() - this.#started });
      });
    });
  }
}
