/**
 * The fixed parts of warmpool's metrics: bucket boundaries, label value sets and names
 * (docs/operations.md, "Metrics"). Kept apart from metrics.ts so dashboards, alerts and tests can
 * read them without building a registry.
 */
import { CLOSE_REASONS, type CommandResult } from '../core/pool-stats.js';

/** The `device` label value used for every series when per-device labels are off. */
export const ALL_DEVICES = '_all';

export type CommandResultLabel = CommandResult;
export type CacheResultLabel = 'hit' | 'miss' | 'coalesced';

/** gRPC status names, as used in the `code` label (grpc-go / grpc-js spelling). */
export const GRPC_CODE_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE',
  'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
] as const;

/** Fast loopback opens (a few ms) up to slow TACACS/RADIUS logins (tens of seconds). */
export const SESSION_OPEN_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30];
/** An idle session is handed out in well under a millisecond; a saturated pool makes callers wait up to acquireTimeoutMs. */
export const ACQUIRE_WAIT_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Warm commands take ~0.2–1 ms on loopback; `show tech` on a big box can take a minute. */
export const COMMAND_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];
/**
 * Per-device histograms multiply by the inventory size, so they get coarser buckets than the
 * aggregate ones: enough to tell a 1 ms box from a 100 ms one and to see seconds-long tails.
 * 10 + 8 buckets (with +Inf): the cardinality budget in docs/operations.md depends on these counts.
 */
export const DEVICE_COMMAND_BUCKETS = [0.001, 0.005, 0.025, 0.1, 0.25, 1, 2.5, 10, 60];
export const DEVICE_ACQUIRE_WAIT_BUCKETS = [0.001, 0.01, 0.1, 0.5, 1, 5, 30];
/** A warm unary Run takes about a millisecond end to end; RunMany streams over many devices take minutes. */
export const GRPC_HANDLING_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** gRPC package of the services whose short method names ("DeviceProxy/Run") the handlers report. */
export const GRPC_PACKAGE = 'warmpool.v1';
/** close reasons: the pool's fixed set, plus 'other' for anything outside it (a bug; stays at 0). */
export const CLOSE_REASON_LABELS: readonly string[] = [...CLOSE_REASONS, 'other'];
/** prom-client's own event-loop-delay histogram is unread (event-loop.ts replaces its gauges): sample it rarely. */
export const UNREAD_EVENT_LOOP_PRECISION_MS = 60_000;
/** Our event-loop-delay sampling period: 100 ms instead of prom-client's 10 ms (see below). */
export const EVENT_LOOP_RESOLUTION_MS = 100;
