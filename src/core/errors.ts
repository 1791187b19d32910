/**
 * Typed errors with stable codes. Every layer below the API throws these;
 * `api/status.ts` is the only place that turns a code into a gRPC status.
 * Messages name the device and what happened, and never contain a secret.
 */
export type ErrorCode =
  // request / inventory
  | 'INVALID_ARGUMENT'
  | 'DEVICE_NOT_FOUND'
  | 'CONFIG_INVALID'
  /** Inventory.PutDevice/DeleteDevice while inventory.readOnly is set (the file is the only source). */
  | 'INVENTORY_READ_ONLY'
  // caller auth
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  // connection set-up
  | 'CONNECT_TIMEOUT'
  | 'CONNECT_REFUSED'
  | 'HOST_UNREACHABLE'
  | 'HOST_KEY_MISMATCH'
  | 'AUTH_FAILED'
  /** platform: autodetect found no platform it knows (docs/platforms.md "Autodetect"): an operator must set it. */
  | 'PLATFORM_UNKNOWN'
  | 'PROTOCOL_ERROR'
  | 'TLS_ERROR'
  // established session
  | 'CONNECTION_LOST'
  | 'CHANNEL_OPEN_FAILED'
  | 'UNEXPECTED_PROMPT'
  | 'COMMAND_TIMEOUT'
  | 'HTTP_BODY_TOO_LARGE'
  /** A command's output or a reply passed a configured size limit (ssh.maxOutputBytes, grpc.maxSendMessageBytes). */
  | 'OUTPUT_TOO_LARGE'
  // pool
  | 'QUEUE_FULL'
  | 'ACQUIRE_TIMEOUT'
  | 'DEADLINE_EXCEEDED'
  | 'CANCELLED'
  | 'CIRCUIT_OPEN'
  | 'DRAINING'
  /** A call still running when the drain grace ended: cut, its batch may have run in part. */
  | 'SHUTDOWN'
  | 'POOL_CLOSED'
  // anything else
  | 'INTERNAL';

export interface WarmpoolErrorOptions {
  device?: string;
  cause?: unknown;
  /** Field of the request or config that is wrong (validation errors). */
  field?: string;
}

export class WarmpoolError extends Error {
  readonly code: ErrorCode;
  readonly device: string | undefined;
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, opts: WarmpoolErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'WarmpoolError';
    this.code = code;
    this.device = opts.device;
    this.field = opts.field;
  }
}

export function isWarmpoolError(err: unknown, code?: ErrorCode): err is WarmpoolError {
  return err instanceof WarmpoolError && (code === undefined || err.code === code);
}

/**
 * Errors that must not be retried automatically: repeating them locks accounts or hides an
 * attack, or (PLATFORM_UNKNOWN) sends the same probe commands for the same answer.
 */
export function isPermanentConnectError(err: unknown): boolean {
  return isWarmpoolError(err) && (err.code === 'AUTH_FAILED' || err.code === 'HOST_KEY_MISMATCH' || err.code === 'PLATFORM_UNKNOWN');
}

/** A short, secret-free description of any thrown value, for logs and Error.message fields. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
