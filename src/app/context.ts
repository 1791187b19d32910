/**
 * What a use case is given by the edge that calls it (api/handler.ts), and what it reports:
 * defined here, below the gRPC edge, so app/ never imports api/ for them.
 */
import type { CommandOutcome } from '../drivers/ssh-types.js';
import type { SessionInfo } from '../pool/types.js';
import type { Caller } from '../auth/caller.js';

/** Who is calling: one definition, in auth/caller.ts (filled in by authentication; anonymous when auth is off). */
export type { Caller };

/** Per-call context handed from the gRPC edge to the use cases. */
export interface CallContext {
  caller: Caller;
  rpc: string;
  signal: AbortSignal;
  /** Wall-clock ms since the epoch; Infinity when the caller set no deadline. */
  deadline: number;
}

/** What the API edge and the use cases report to metrics (implemented by observability/metrics.ts). */
export interface ApiMetrics {
  /** `timing`: how long the handler took and the call's kind (warmpool_grpc_server_handling_seconds). */
  rpc(method: string, code: string, timing?: RpcTiming): void;
  /** `device`: also recorded per device when per-device labels are on (docs/operations.md, "Metrics"). */
  command(protocol: 'ssh' | 'http' | 'netconf', result: 'ok' | 'failed' | 'error', seconds: number, device?: string): void;
  cache(result: 'hit' | 'miss' | 'coalesced'): void;
}

export interface RpcTiming {
  seconds: number;
  type: 'unary' | 'server_stream';
}

/** A Run result in API terms (mirrors RunResponse). */
export interface RunResult {
  device: string;
  results: Array<CommandOutcome & { cached: boolean }>;
  session: SessionInfo;
}
