/**
 * Liveness check of an exec session without opening a channel: an SSH global request
 * "keepalive@openssh.com" (want-reply), exactly what ssh2's own keepalive sends. Any reply,
 * success or failure (OpenSSH answers "failure" to unknown requests), proves the peer's SSH
 * layer is alive and the connection is not half-dead.
 *
 * Why not `exec true`: it costs a channel (network OSes often allow one exec, or none), a
 * process on the server and, on devices, an accounting/AAA log line per probe. ssh2 has no
 * public ping, so this uses two internals (`_protocol.ping()` and the `_callbacks` FIFO of
 * global-request replies, the same pair its keepalive uses; ssh2 is pinned). `pingable` says
 * whether they are there; when not, the session falls back to `exec true`.
 *
 * A ping is a 'stateless' exchange (session/dirty.ts): cancelling one leaves nothing behind.
 */
import { WarmpoolError } from '../core/errors.js';
import { Exchange } from '../session/exchange.js';
import type { ExecHost, LossAware } from './exec-command.js';

interface PingInternals {
  _protocol?: { ping?: () => void };
  _callbacks?: Array<(failed: boolean | Error) => void>;
}

export function pingable(host: ExecHost): boolean {
  const c = host.connection.client as unknown as PingInternals;
  return typeof c._protocol?.ping === 'function' && Array.isArray(c._callbacks);
}

export class ExecPing extends Exchange<void> implements LossAware {
  readonly #host: ExecHost;

  constructor(host: ExecHost) {
    super(host.clock, host.device.id, host.dirt, 'stateless');
    this.#host = host;
  }

  protected override timedOut(ms: number): WarmpoolError {
    return new WarmpoolError('CONNECTION_LOST', `device ${this.device}: no reply to SSH keepalive within ${ms} ms`, { device: this.device });
  }

  protected override cancelled(): WarmpoolError {
    return new WarmpoolError('CANCELLED', `device ${this.device}: probe cancelled`, { device: this.device });
  }

  connectionLost(err: Error): void {
    this.fail(new WarmpoolError('CONNECTION_LOST', `device ${this.device}: connection lost during probe`, { device: this.device, cause: err }));
  }

  protected override begin(): void {
    this.#host.inFlight.add(this);
    const c = this.#host.connection.client as unknown as Required<PingInternals>;
    // ssh2 calls every pending callback with an Error when the connection closes.
    c._callbacks.push((r) => {
      if (r instanceof Error) this.connectionLost(r);
      else this.succeed(undefined);
    });
    try {
      (c._protocol as { ping: () => void }).ping();
    } catch (err) {
      this.connectionLost(err as Error);
    }
  }

  protected override released(): void {
    this.#host.inFlight.delete(this);
  }
}
