/**
 * The shell driver: one interactive PTY shell on a network CLI, kept logged in and at its normal
 * prompt between batches. It says what a command is (what to type, whether an end marker or
 * `expect` ends it, which level it needs); the channel (session/channel.ts) reads until it ended,
 * the mode graph (session/mode-graph.ts) says how to reach a level. Platform knowledge is data
 * (platforms/profiles.ts).
 */
import type { ClientChannel } from 'ssh2';
import type { DeviceSpec } from '../config/types.js';
import { systemClock, type Clock } from '../core/clock.js';
import { WarmpoolError, describeError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { SshConnection } from '../transport/ssh-connect.js';
import { resolveProfile, type Profile } from '../platforms/profiles.js';
import { CommandAnswers } from '../session/answers.js';
import { Channel } from '../session/channel.js';
import { Dirt } from '../session/dirty.js';
import { below, ModeGraph, type Level } from '../session/mode-graph.js';
import { asksNoQuestion } from '../session/prompt.js';
import { login } from './shell-login.js';
import { walkTo, type ModeWalk } from './shell-modes.js';
import type { BatchRequest, CommandOutcome, DeviceSession } from './ssh-types.js';

export interface ShellSessionOptions {
  logger?: Logger;
  signal?: AbortSignal;
  /** Time source for every timeout of the session; default the system clock. */
  clock?: Clock;
  /** Login (prompt learning + paging off) must finish within this; default device.ssh.connectTimeoutMs. */
  loginTimeoutMs?: number;
  /**
   * How long a line that looks like a prompt, but not the known one, must stay the last
   * thing received before it is accepted (banners, host-name changes). Default 60 ms.
   */
  settleMs?: number;
  /**
   * End-of-output confirmation (see Profile.endMarker): how long the first prompt may stand alone
   * before it is accepted without the device's answer to the typed-ahead empty line. The
   * session is then discarded, as the device no longer behaves as it did at login. Default 1500 ms.
   */
  markerFallbackMs?: number;
  /** false: never type ahead; ends are found by the prompt only (benchmarks measure the marker's cost). */
  endMarker?: boolean;
  /** PTY width: wide so devices do not wrap long lines or echo. */
  cols?: number;
  rows?: number;
}

let counter = 0;

export class ShellSession implements DeviceSession {
  readonly mode = 'shell' as const;
  readonly id: string;
  readonly #device: DeviceSpec;
  readonly #profile: Profile;
  readonly #graph: ModeGraph;
  readonly #conn: SshConnection;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #dirt = new Dirt();
  #channel: Channel | undefined;
  #busy = false;

  private constructor(device: DeviceSpec, conn: SshConnection, opts: ShellSessionOptions) {
    this.#device = device;
    this.#conn = conn;
    this.#profile = resolveProfile(device);
    this.#graph = ModeGraph.of(this.#profile);
    this.#log = opts.logger ?? silentLogger;
    this.#clock = opts.clock ?? systemClock;
    this.id = `${device.id}/shell-${++counter}`;
  }

  /** The prompt the session is at, as displayed (trailing blanks removed). */
  get prompt(): string {
    return this.#channel?.prompt ?? '';
  }

  /** The context line above a two-line prompt (SR OS MD-CLI "[/]", "*(pr)[/configure]"); '' when none. */
  get promptContext(): string {
    return this.#channel?.context ?? '';
  }

  /** Show commands end at "prompt, empty line, prompt" (the device answered typed-ahead input at login). */
  get endMarker(): boolean {
    return this.#channel?.markerOk ?? false;
  }

  get dirty(): boolean {
    return this.#dirt.dirty || this.#ch.closed;
  }

  get #ch(): Channel {
    return this.#channel as Channel;
  }

  /**
   * Open a PTY shell on an established connection, learn the prompt, disable paging.
   * On failure the connection is closed.
   */
  static async open(device: DeviceSpec, conn: SshConnection, opts: ShellSessionOptions = {}): Promise<ShellSession> {
    const s = new ShellSession(device, conn, opts);
    try {
      await s.#start(opts);
      return s;
    } catch (err) {
      s.#channel?.close();
      conn.close();
      // No usable prompt in time is a failed session set-up, not a command timeout.
      if (err instanceof WarmpoolError && err.code === 'COMMAND_TIMEOUT') {
        throw new WarmpoolError('CONNECT_TIMEOUT', `${err.message} (login)`, { device: device.id, cause: err });
      }
      throw err;
    }
  }

  async #start(opts: ShellSessionOptions): Promise<void> {
    const device = this.#device;
    const deadline = this.#clock.now() + (opts.loginTimeoutMs ?? device.ssh.connectTimeoutMs);
    const stream = await new Promise<ClientChannel>((resolve, reject) => {
      this.#conn.client.shell({ term: 'vt100', cols: opts.cols ?? 511, rows: opts.rows ?? 24, width: 0, height: 0 }, (err, ch) => {
        if (err) reject(new WarmpoolError('CHANNEL_OPEN_FAILED', `device ${device.id}: cannot open a shell: ${describeError(err)}`, { device: device.id, cause: err }));
        else resolve(ch);
      });
    });
    const ch = new Channel(stream, {
      device: device.id,
      sessionId: this.id,
      profile: this.#profile,
      clock: this.#clock,
      dirt: this.#dirt,
      logger: this.#log,
      maxOutputBytes: device.ssh.maxOutputBytes,
      settleMs: opts.settleMs ?? 60,
      markerFallbackMs: opts.markerFallbackMs ?? 1500,
      closeTransport: () => this.#conn.close(),
    });
    this.#channel = ch;
    this.#conn.onEnd((err) => ch.lost(err ? describeError(err) : 'connection closed'));
    await login(ch, { device: device.id, clock: this.#clock, deadline, signal: opts.signal, endMarker: opts.endMarker !== false, log: this.#log });
    this.#log.debug({ device: device.id, session: this.id, prompt: ch.prompt }, 'shell ready');
  }

  /** Refuse work on a session that cannot take it: closed, dirty, or busy. */
  #usable(): void {
    const ch = this.#ch;
    if (ch.closed) throw ch.closeError();
    if (this.#dirt.dirty) throw new WarmpoolError('UNEXPECTED_PROMPT', `device ${this.#device.id}: session is not reusable`, { device: this.#device.id });
  }

  async runBatch(req: BatchRequest): Promise<CommandOutcome[]> {
    this.#usable();
    const id = this.#device.id;
    if (this.#busy) throw new WarmpoolError('INTERNAL', `device ${id}: session already running a batch`, { device: id });
    const profile = this.#profile;
    const graph = this.#graph;
    // Requested levels are checked before anything is typed.
    if (req.privileged && !profile.enable && profile.privilegedPattern) {
      throw new WarmpoolError('INVALID_ARGUMENT', `device ${id}: platform ${profile.platform} has no privileged mode`, { device: id, field: 'privileged' });
    }
    if (req.configure && !graph.has('config')) {
      throw new WarmpoolError('INVALID_ARGUMENT', `device ${id}: platform ${profile.platform} has no configuration mode`, { device: id, field: 'configure' });
    }
    const ch = this.#ch;
    const clock = this.#clock;
    this.#busy = true;
    const outcomes: CommandOutcome[] = [];
    try {
      const start = graph.levelOf(ch.prompt, ch.context);
      const walk: ModeWalk = { channel: ch, graph, device: this.#device, timeoutMs: req.timeoutMs(0), signal: req.signal };
      if (req.configure) await walkTo(walk, 'config');
      else if (req.privileged && start === 'unprivileged') await walkTo(walk, 'privileged');
      for (let i = 0; i < req.commands.length; i++) {
        const command = req.commands[i] as string;
        const t0 = clock.now();
        // Each command starts with every answer unused. A command with answers never gets the
        // typed-ahead empty line: it would answer the question the caller means to answer.
        const answers = req.answers && req.answers.length > 0 ? new CommandAnswers(req.answers) : undefined;
        const r = await ch.command({
          command,
          timeoutMs: req.timeoutMs(i),
          signal: req.signal,
          expect: req.expect,
          answers,
          marker: !req.expect && !answers && ch.markerOk && graph.levelOf(ch.prompt, ch.context) !== 'config' && asksNoQuestion(profile, command) ? 'command' : undefined,
          onChunk: req.onChunk,
          index: i,
        });
        // How many, never which replies (they may be secret).
        if (answers && answers.count > 0) this.#log.debug({ device: this.#device.id, session: this.id, command: i, answered: answers.count }, 'questions answered');
        if (r.ended === 'expect') await this.#afterExpect(i + 1 < req.commands.length, req);
        const outcome: CommandOutcome = {
          command,
          output: r.output,
          exitStatus: r.error ? 1 : 0,
          failed: r.error !== '',
          error: r.error,
          durationMs: clock.now() - t0,
        };
        outcomes.push(outcome);
        req.onResult?.(i, outcome);
        if (outcome.failed && req.stopOnError) break;
      }
      // Back to the state the next caller expects: out of config, and unprivileged again
      // when the session was unprivileged before (also when a command changed mode itself).
      const home: Level = start === 'unprivileged' ? 'unprivileged' : 'privileged';
      const commitError = below(home, graph.levelOf(ch.prompt, ch.context)) ? await walkTo(walk, home) : '';
      const last = outcomes.at(-1);
      if (commitError && last) {
        last.failed = true;
        last.exitStatus = 1;
        last.error = last.error || commitError;
      }
      return outcomes;
    } catch (err) {
      this.#dirt.after(err);
      throw err;
    } finally {
      this.#busy = false;
    }
  }

  /**
   * `expect` ended a command before its prompt. When another command follows it is the
   * answer to whatever was asked; at the end of the batch the prompt must arrive by
   * itself, or the session's state is unknown (dirty).
   */
  async #afterExpect(more: boolean, req: BatchRequest): Promise<void> {
    if (more) return;
    try {
      await this.#ch.read({ command: '', timeoutMs: Math.min(2000, req.timeoutMs(0)), signal: req.signal, what: 'the prompt after the expected text' });
    } catch (err) {
      this.#dirt.after(err);
    }
  }

  /** An empty line must come back with the prompt. */
  async probe(signal?: AbortSignal): Promise<void> {
    await this.#nudge(signal, 'probe');
  }

  /** Application-level keepalive (devices close idle vty lines despite SSH keepalives). */
  async keepalive(): Promise<void> {
    await this.#nudge(undefined, 'keepalive');
  }

  async #nudge(signal: AbortSignal | undefined, what: string): Promise<void> {
    this.#usable();
    if (this.#busy) return;
    this.#busy = true;
    try {
      const timeoutMs = Math.min(5000, this.#device.ssh.commandTimeoutMs);
      await this.#ch.command({ command: '', timeoutMs, signal, what: `the prompt (${what})` });
    } finally {
      this.#busy = false;
    }
  }

  onClose(listener: (err?: Error) => void): void {
    this.#ch.onClose(listener);
  }

  async close(): Promise<void> {
    this.#channel?.close();
    // Also when the device closed the shell channel alone: the connection is ours to end.
    this.#conn.close();
  }
}
