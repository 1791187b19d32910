import { status as Status, type ServiceError } from '@grpc/grpc-js';

/**
 * A failed warmpool call, as a client sees it: the gRPC status plus what the daemon adds.
 * Same fields as the Python client's errors.WarmpoolError (clients/python/warmpool_client/errors.py).
 */
export class WarmpoolClientError extends Error {
  /** The gRPC status code (grpc.status.NOT_FOUND, ...). */
  readonly code: Status;
  /** The device the call was about: the request's, else the one the daemon's message names. */
  readonly device: string | undefined;
  /** The daemon's internal code (`warmpool-error-code`, e.g. "CIRCUIT_OPEN"); undefined when the daemon did not answer. */
  readonly errorCode: string | undefined;
  /** The request field a validation error is about (`warmpool-field`). */
  readonly field: string | undefined;
  /** The daemon's message (names the device, never a secret). */
  readonly details: string;

  constructor(code: Status, details: string, opts: { device?: string | undefined; errorCode?: string | undefined; field?: string | undefined } = {}) {
    super(`${Status[code] ?? code}: ${details}`);
    this.name = 'WarmpoolClientError';
    this.code = code;
    this.details = details;
    this.device = opts.device;
    this.errorCode = opts.errorCode;
    this.field = opts.field;
  }

  /** "NOT_FOUND", "UNAVAILABLE", ... */
  get codeName(): string {
    return Status[this.code] ?? String(this.code);
  }
}

// The daemon's messages name the device as `device "x"`, `device x: ...` or start with `x (ssh): `.
const DEVICE_IN_MESSAGE = [
  /\bdevice "([A-Za-z0-9._:-]{1,128})"/,
  /\bdevice ([A-Za-z0-9._:-]{1,128}?): /,
  /^([A-Za-z0-9._:-]{1,128}) \((?:ssh|http|netconf|bastion)\): /,
];

export function deviceFromMessage(details: string): string | undefined {
  for (const re of DEVICE_IN_MESSAGE) {
    const m = re.exec(details);
    if (m) return m[1];
  }
  return undefined;
}

/** The typed error for a grpc-js call failure; `device` is the request's device, if any. */
export function fromServiceError(err: unknown, device?: string): WarmpoolClientError {
  const e = err as Partial<ServiceError>;
  if (typeof e.code !== 'number') {
    return new WarmpoolClientError(Status.UNKNOWN, err instanceof Error ? err.message : String(err), { device });
  }
  const details = e.details ?? e.message ?? '';
  const meta = (key: string): string | undefined => {
    const v = e.metadata?.get(key)[0];
    return v === undefined ? undefined : String(v);
  };
  return new WarmpoolClientError(e.code, details, {
    device: device || deviceFromMessage(details),
    errorCode: meta('warmpool-error-code'),
    field: meta('warmpool-field'),
  });
}

/** The error of a RunMany result whose outcome is an error, else undefined. */
export function resultError(res: { device?: string; error?: { code?: number; message?: string } | null; outcome?: string }): WarmpoolClientError | undefined {
  if (!res.error || (res.outcome !== undefined && res.outcome !== 'error')) return undefined;
  const details = res.error.message ?? '';
  return new WarmpoolClientError(res.error.code ?? Status.UNKNOWN, details, { device: res.device || deviceFromMessage(details) });
}
