/**
 * The "run over NETCONF" use case (docs/api.md, "Netconf"): resolve the device once, authorize
 * the operation (writes need what `configure` needs), acquire a pooled NETCONF session within the
 * call's deadline budget, send the RPC, release — or discard a session that is no longer clean.
 */
import type { DeviceSpec } from '../config/types.js';
import type { Clock } from '../core/clock.js';
import { describeError, isWarmpoolError } from '../core/errors.js';
import { spoils } from '../session/dirty.js';
import type { DeviceRegistry } from '../inventory/registry.js';
import type { Lease, SessionInfo } from '../pool/types.js';
import type { NetconfReply } from '../drivers/netconf/session.js';
import type { Guard } from './guard.js';
import type { Audit } from './audit.js';
import type { ApiMetrics, CallContext } from './context.js';
import { DeadlineBudget, deadlineExceeded } from './deadline.js';

/** Netconf's validated request (api/validate-netconf.ts builds it). */
export interface ValidNetconf {
  device: string;
  /** The XML inside <rpc>: one operation element, balanced. */
  rpc: string;
  /** The operation's element name (local), e.g. "get-config". */
  operation: string;
  /** Not a read-only operation (see isReadOnlyOperation): needs what `configure` needs. */
  write: boolean;
  timeoutMs: number;
}

/** What the use case needs of a NETCONF session (drivers/netconf/session.ts). */
export interface NetconfCaller {
  rpc(body: string, opts: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<NetconfReply>;
  readonly dirty: boolean;
}

export interface NetconfBackend {
  acquire(device: DeviceSpec, opts: { signal?: AbortSignal; deadline?: number | undefined }): Promise<Lease<NetconfCaller & import('../pool/types.js').Session>>;
}

export interface NetconfResult extends NetconfReply {
  device: string;
  session: SessionInfo;
}

export interface NetconfRunnerDeps {
  devices: DeviceRegistry;
  netconf: NetconfBackend;
  guard: Pick<Guard, 'authorize'>;
  clock: Clock;
  metrics: ApiMetrics;
  audit: Audit;
}

export class NetconfRunner {
  readonly #deps: NetconfRunnerDeps;

  constructor(deps: NetconfRunnerDeps) {
    this.#deps = deps;
  }

  async run(r: ValidNetconf, ctx: CallContext): Promise<NetconfResult> {
    const { devices, guard, clock, metrics, audit } = this.#deps;
    const device = devices.get(r.device);
    // Read-only callers (a rule with configure: false, or a read-only preset) may send only
    // read operations: a NETCONF write is a configuration change whatever its element name.
    guard.authorize(ctx.caller, { rpc: ctx.rpc, device, configure: r.write });
    const budget = DeadlineBudget.of(ctx.deadline, clock);
    budget.check(device.id, 'before a NETCONF session was acquired');
    const lease = await this.#deps.netconf.acquire(device, { signal: ctx.signal, deadline: budget.end });
    const command = `netconf ${r.operation}`;
    let discard = false;
    const started = performance.now();
    try {
      const timeoutMs = budget.cap(r.timeoutMs > 0 ? r.timeoutMs : device.ssh.commandTimeoutMs);
      const res = await lease.session.rpc(r.rpc, { timeoutMs, signal: ctx.signal });
      metrics.command('netconf', res.failed ? 'failed' : 'ok', res.durationMs / 1000);
      audit.record({
        caller: ctx.caller.name, device: device.id, rpc: ctx.rpc, command, configure: r.write, sessionId: lease.info.id,
        durationMs: res.durationMs, outcome: res.failed ? 'failed' : 'ok', ...(res.error ? { error: res.error } : {}),
        ...(audit.includeOutput ? { output: res.reply } : {}),
      });
      return { ...res, device: device.id, session: lease.info };
    } catch (err) {
      discard = lease.session.dirty || spoils(err);
      const ms = performance.now() - started;
      metrics.command('netconf', 'error', ms / 1000);
      audit.record({ caller: ctx.caller.name, device: device.id, rpc: ctx.rpc, command, configure: r.write, sessionId: lease.info.id, durationMs: ms, outcome: 'error', error: describeError(err) });
      if (isWarmpoolError(err, 'COMMAND_TIMEOUT') && budget.expired) throw deadlineExceeded(device.id, 'while waiting for a NETCONF reply', err);
      throw err;
    } finally {
      lease.release(discard ? { discard: true } : undefined);
    }
  }
}
