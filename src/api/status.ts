import { status as Status, Metadata, type ServiceError } from '@grpc/grpc-js';
import { WarmpoolError, type ErrorCode } from '../core/errors.js';

/**
 * The one place that maps internal error codes to gRPC status codes (docs/api.md,
 * "Status codes").
 * Every handler funnels its failures through `toServiceError`.
 */
const STATUS_OF: Record<ErrorCode, Status> = {
  INVALID_ARGUMENT: Status.INVALID_ARGUMENT,
  DEVICE_NOT_FOUND: Status.NOT_FOUND,
  CONFIG_INVALID: Status.INVALID_ARGUMENT,
  // Not retryable until the inventory file changes: the caller must edit the file/ConfigMap instead.
  INVENTORY_READ_ONLY: Status.FAILED_PRECONDITION,
  UNAUTHENTICATED: Status.UNAUTHENTICATED,
  PERMISSION_DENIED: Status.PERMISSION_DENIED,
  CONNECT_TIMEOUT: Status.UNAVAILABLE,
  CONNECT_REFUSED: Status.UNAVAILABLE,
  HOST_UNREACHABLE: Status.UNAVAILABLE,
  HOST_KEY_MISMATCH: Status.FAILED_PRECONDITION,
  AUTH_FAILED: Status.FAILED_PRECONDITION,
  // platform: autodetect recognised nothing: only setting the platform fixes it.
  PLATFORM_UNKNOWN: Status.FAILED_PRECONDITION,
  PROTOCOL_ERROR: Status.UNAVAILABLE,
  TLS_ERROR: Status.UNAVAILABLE,
  CONNECTION_LOST: Status.UNAVAILABLE,
  // The device refused another channel: retrying later (or on another session) can work.
  CHANNEL_OPEN_FAILED: Status.UNAVAILABLE,
  // The session saw something it did not expect; the request's result is unknown.
  UNEXPECTED_PROMPT: Status.ABORTED,
  COMMAND_TIMEOUT: Status.DEADLINE_EXCEEDED,
  HTTP_BODY_TOO_LARGE: Status.RESOURCE_EXHAUSTED,
  // A size limit, not a device fault: the same request fails again; RunStream carries any size.
  OUTPUT_TOO_LARGE: Status.RESOURCE_EXHAUSTED,
  QUEUE_FULL: Status.RESOURCE_EXHAUSTED,
  ACQUIRE_TIMEOUT: Status.DEADLINE_EXCEEDED,
  DEADLINE_EXCEEDED: Status.DEADLINE_EXCEEDED,
  CANCELLED: Status.CANCELLED,
  CIRCUIT_OPEN: Status.UNAVAILABLE,
  DRAINING: Status.UNAVAILABLE,
  SHUTDOWN: Status.UNAVAILABLE,
  POOL_CLOSED: Status.UNAVAILABLE,
  INTERNAL: Status.INTERNAL,
};

/** Human name of a status code, e.g. 14 → "UNAVAILABLE" (metrics labels, CLI output). */
export function statusName(code: number): string {
  return Status[code] ?? String(code);
}

/**
 * A grpc ServiceError for any thrown value. Unknown errors become INTERNAL with a
 * generic message: their text may come from a library and could carry anything.
 */
export function toServiceError(err: unknown): Partial<ServiceError> {
  const metadata = new Metadata();
  if (err instanceof WarmpoolError) {
    metadata.set('warmpool-error-code', err.code);
    // Metadata values must be printable ASCII or grpc-js throws (and the call is never answered);
    // a field name can quote caller input, e.g. headers["é"].
    if (err.field) metadata.set('warmpool-field', asciiMetadata(err.field));
    return { code: STATUS_OF[err.code], details: err.message, metadata };
  }
  return { code: Status.INTERNAL, details: 'internal error (see the daemon log)', metadata };
}

/** Non-printable and non-ASCII characters as \uXXXX escapes: legal in a grpc-js metadata value. */
function asciiMetadata(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** For errors carried inside a stream message (DeviceRunResult.error). */
export function toErrorMessage(err: unknown): { code: number; message: string } {
  const se = toServiceError(err);
  return { code: se.code ?? Status.INTERNAL, message: se.details ?? '' };
}
