import type { DeviceSpec } from '../config/types.js';
import { WarmpoolError, describeError, isWarmpoolError } from '../core/errors.js';
import type { DeviceRegistry } from '../inventory/registry.js';
import type { Clock } from '../core/clock.js';
import type { Lease } from '../pool/types.js';
import type { CommandOutcome, DeviceSession } from '../drivers/ssh-types.js';
import type { Audit, AuditEvent } from './audit.js';
import { REDACTED } from '../session/answers.js';
import { ResultCache } from './cache.js';
import type { ApiMetrics, CallContext, RunResult } from './context.js';
import type { Guard } from './guard.js';
import type { ValidRun } from './requests.js';
import { replySizeBound } from './reply-size.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { DeadlineBudget, deadlineExceeded } from './deadline.js';

/**
 * Kept free below grpc.maxSendMessageBytes when checking a reply's size: room for the
 * DeviceRunResult wrapper of RunMany and for gRPC framing, so our check always fires
 * before grpc-js's own. At most 1/16 of the limit, so a small limit stays usable.
 */
const REPLY_HEADROOM_BYTES = 16 * 1024;

function replyLimitOf(maxSendMessageBytes: number): number {
  return maxSendMessageBytes - Math.min(REPLY_HEADROOM_BYTES, Math.floor(maxSendMessageBytes / 16));
}

/** The part of the pool registry the runner needs. */
export interface SshPools {
  sshPool(deviceId: string): { acquire(opts: { signal?: AbortSignal; deadline?: number }): Promise<Lease<DeviceSession>> };
}

export interface StreamHooks {
  onSession?: (info: RunResult['session']) => void;
  onChunk?: (index: number, data: string) => void | Promise<void>;
  onResult?: (index: number, outcome: CommandOutcome) => void;
}

export interface RunnerDeps {
  devices: DeviceRegistry;
  pools: SshPools;
  clock: Clock;
  metrics: ApiMetrics;
  audit: Audit;
  /** Decides whether the caller may run the request on the resolved device (throws PERMISSION_DENIED). */
  guard: Pick<Guard, 'authorize'>;
  cache: { maxEntries: number; maxBytes: number };
  /** grpc.maxSendMessageBytes; absent: replies are not size-checked (tests of the runner alone). */
  maxSendMessageBytes?: number;
  logger?: Logger;
}

/**
 * The "run over SSH" use case: resolve the device once, authorize, then run the validated
 * request on one pooled session (acquire, run the batch, release, or discard a session that
 * is no longer clean) within one deadline budget. Shared by Run, RunStream and RunMany.
 */
export class Runner {
  readonly #devices: DeviceRegistry;
  readonly #pools: SshPools;
  readonly #clock: Clock;
  readonly #guard: Pick<Guard, 'authorize'>;
  readonly #metrics: ApiMetrics;
  readonly #audit: Audit;
  readonly #logger: Logger;
  /** Largest encoded Run/RunMany reply we send (grpc.maxSendMessageBytes less headroom). */
  readonly #maxReplyBytes: number;
  readonly cache: ResultCache<RunResult>;

  constructor(deps: RunnerDeps) {
    this.#devices = deps.devices;
    this.#pools = deps.pools;
    this.#clock = deps.clock;
    this.#guard = deps.guard;
    this.#metrics = deps.metrics;
    this.#audit = deps.audit;
    this.#logger = deps.logger ?? silentLogger;
    this.#maxReplyBytes = deps.maxSendMessageBytes === undefined ? Infinity : replyLimitOf(deps.maxSendMessageBytes);
    this.cache = new ResultCache<RunResult>({
      ...deps.cache,
      now: () => this.#clock.now(),
      sizeOf: (r) => r.results.reduce((n, c) => n + c.output.length * 2 + c.command.length * 2 + 128, 256),
    });
  }

  /** Resolve and check the device for a request (NOT_FOUND / mode mismatch): once per call. */
  #resolve(run: ValidRun): DeviceSpec {
    const device = this.#devices.get(run.device);
    if (device.mode === 'netconf') {
      throw new WarmpoolError('INVALID_ARGUMENT', `device "${device.id}": mode: the device is NETCONF-only (mode netconf); send NETCONF RPCs with DeviceProxy.Netconf`, { device: device.id, field: 'mode' });
    }
    if (run.mode && run.mode !== device.mode) {
      throw new WarmpoolError('INVALID_ARGUMENT', `device "${device.id}": mode: the device is configured for ${device.mode} mode, not ${run.mode}`, { device: device.id, field: 'mode' });
    }
    if (run.configure && device.mode === 'exec') {
      throw new WarmpoolError('INVALID_ARGUMENT', `device "${device.id}": configure: the device uses exec mode; configuration mode needs a shell-mode device`, { device: device.id, field: 'configure' });
    }
    // An exec channel has no terminal: a question goes to a program's stdin or nowhere, and its
    // text is not reliably the end of stdout. Refused rather than half-working.
    if (run.answers.length > 0 && device.mode === 'exec') {
      throw new WarmpoolError('INVALID_ARGUMENT', `device "${device.id}": answers: the device uses exec mode, which has no terminal to answer questions on; interactive answers need a shell-mode device`, { device: device.id, field: 'answers' });
    }
    return device;
  }

  /**
   * Run, honouring cache_ttl_ms (never for configure, and never for streaming). A result that
   * is sent as one message (Run, RunMany: no onChunk) must fit grpc.maxSendMessageBytes.
   */
  async run(run: ValidRun, ctx: CallContext, hooks: StreamHooks = {}): Promise<RunResult> {
    const device = this.#resolve(run);
    this.#guard.authorize(ctx.caller, {
      rpc: ctx.rpc, device, commands: run.commands, configure: run.configure, privileged: run.privileged,
      // Replies are typed into the session like commands, so the policy checks them like commands.
      ...(run.answers.length > 0 ? { answerReplies: run.answers.map((a) => a.reply) } : {}),
    });
    const budget = DeadlineBudget.of(ctx.deadline, this.#clock);
    const result = await this.#run(device, run, ctx, budget, hooks);
    if (!hooks.onChunk) this.#assertReplyFits(result, ctx);
    return result;
  }

  /**
   * Refuse a reply grpc-js would refuse, with our code and a message naming the device and
   * both sizes, instead of grpc-js's own text, an "ok" audit line and an OK metric.
   */
  #assertReplyFits(r: RunResult, ctx: CallContext): void {
    if (!Number.isFinite(this.#maxReplyBytes)) return;
    // A UTF-16 unit is at most 3 UTF-8 bytes: most replies fit by this bound without counting bytes.
    if (replySizeBound(r, (s) => s.length * 3) <= this.#maxReplyBytes) return;
    const size = replySizeBound(r);
    if (size <= this.#maxReplyBytes) return;
    const err = new WarmpoolError(
      'OUTPUT_TOO_LARGE',
      `device "${r.device}": the reply would be about ${size} bytes, over the ${this.#maxReplyBytes} bytes allowed ` +
        `(grpc.maxSendMessageBytes less headroom); use RunStream for larger outputs, or fewer commands per call`,
      { device: r.device },
    );
    this.#audit.record({
      caller: ctx.caller.name, device: r.device, rpc: ctx.rpc, command: r.results.map((c) => c.command).join(' ; '), sessionId: r.session.id,
      durationMs: 0, outcome: 'error', error: err.message,
    });
    this.#logger.warn({ device: r.device, rpc: ctx.rpc, replyBytes: size, limit: this.#maxReplyBytes }, 'reply too large; refused with RESOURCE_EXHAUSTED');
    throw err;
  }

  async #run(device: DeviceSpec, run: ValidRun, ctx: CallContext, budget: DeadlineBudget, hooks: StreamHooks): Promise<RunResult> {
    // Answered questions (a copy, a delete, a reload) usually change the device, like configuration:
    // never cached or coalesced (a plain call must not get an answered command's result, nor the
    // reverse), and this device's cached results are forgotten.
    if (run.configure || run.answers.length > 0) {
      // Configuration changes what show commands print: forget this device's cached results.
      this.cache.invalidateDevice(device.id);
      return this.#execute(device, run, ctx, budget, hooks);
    }
    if (run.cacheTtlMs <= 0 || hooks.onChunk) return this.#execute(device, run, ctx, budget, hooks);
    const key = ResultCache.keyOf(device.id, device.mode, run);
    const { value, outcome } = await this.cache.get(device.id, key, run.cacheTtlMs, () => this.#execute(device, run, ctx, budget, hooks));
    this.#metrics.cache(outcome);
    if (outcome === 'miss') return value;
    for (const r of value.results) {
      this.#audit.record({ caller: ctx.caller.name, device: device.id, rpc: ctx.rpc, command: r.command, sessionId: value.session.id, durationMs: 0, outcome: 'cached' });
    }
    const shared = { ...value, results: value.results.map((r) => ({ ...r, cached: true })) };
    hooks.onSession?.(shared.session);
    shared.results.forEach((r, i) => hooks.onResult?.(i, r));
    return shared;
  }

  async #execute(device: DeviceSpec, run: ValidRun, ctx: CallContext, budget: DeadlineBudget, hooks: StreamHooks): Promise<RunResult> {
    budget.check(device.id, 'before a session was acquired');
    const lease = await this.#pools.sshPool(device.id).acquire({ signal: ctx.signal, deadline: budget.end });
    hooks.onSession?.(lease.info);
    const perCommand = run.commandTimeoutMs > 0 ? run.commandTimeoutMs : device.ssh.commandTimeoutMs;
    let discard = false;
    // Which command a failure belongs to, and since when it ran (for audit and command_duration).
    let done = 0;
    let commandStarted = performance.now();
    try {
      const outcomes = await lease.session.runBatch({
        commands: run.commands,
        privileged: run.privileged,
        configure: run.configure,
        stopOnError: run.stopOnError,
        expect: run.expect,
        answers: run.answers,
        signal: ctx.signal,
        timeoutMs: () => budget.cap(perCommand),
        onChunk: hooks.onChunk,
        onResult: (i, o) => {
          this.#metrics.command('ssh', o.failed ? 'failed' : 'ok', o.durationMs / 1000, device.id);
          this.#audit.record({
            caller: ctx.caller.name, device: device.id, rpc: ctx.rpc, command: o.command, sessionId: lease.info.id,
            durationMs: o.durationMs, outcome: o.failed ? 'failed' : 'ok', exitStatus: o.exitStatus, ...answersAudit(run),
            ...(o.error ? { error: o.error } : {}), ...(this.#audit.includeOutput ? { output: o.output } : {}),
          });
          hooks.onResult?.(i, o);
          done = i + 1;
          commandStarted = performance.now();
        },
      });
      return { device: device.id, results: outcomes.map((o) => ({ ...o, cached: false })), session: lease.info };
    } catch (err) {
      discard = mustDiscard(lease.session, err);
      const ms = performance.now() - commandStarted;
      this.#metrics.command('ssh', 'error', ms / 1000, device.id);
      // The command that was running when it failed; the whole batch when it failed around the
      // commands (leaving configuration mode after the last one).
      const command = run.commands[done] ?? run.commands.join(' ; ');
      this.#audit.record({ caller: ctx.caller.name, device: device.id, rpc: ctx.rpc, command, sessionId: lease.info.id, durationMs: ms, outcome: 'error', error: describeError(err), ...answersAudit(run) });
      if (isWarmpoolError(err, 'OUTPUT_TOO_LARGE')) this.#logger.warn({ device: device.id, rpc: ctx.rpc, caller: ctx.caller.name, err: err.message }, 'command output too large; session replaced');
      // A command that ran out of the call's own deadline is the caller's DEADLINE_EXCEEDED.
      if (isWarmpoolError(err, 'COMMAND_TIMEOUT') && budget.expired) throw deadlineExceeded(device.id, 'while a command was running', err);
      throw err;
    } finally {
      lease.release(discard ? { discard: true } : undefined);
    }
  }
}

/** The request's answers for an audit event: patterns, and replies with secret ones masked. */
function answersAudit(run: ValidRun): Pick<AuditEvent, 'answers'> {
  if (run.answers.length === 0) return {};
  return { answers: run.answers.map((a) => ({ pattern: a.source, reply: a.secret ? REDACTED : a.reply })) };
}

/**
 * After a batch failed: may the session go back to the pool? Only when it is still clean and the
 * failure was the device refusing one more channel (exec mode; the session itself is fine).
 * Anything else (a timeout, lost output, a cancelled command) leaves its state unknown.
 * The pool also refuses a session that reports itself dirty (pool.ts #release); the drivers
 * decide `dirty` (shell-driver.ts, exec-driver.ts).
 */
function mustDiscard(session: DeviceSession, err: unknown): boolean {
  return session.dirty || !isWarmpoolError(err, 'CHANNEL_OPEN_FAILED');
}
