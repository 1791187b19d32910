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

/** The code the device-affinity balancer (deploy/haproxy) puts on its refusal of RunMany. */
export const BALANCER_REFUSAL = 'RUN_MANY_AT_BALANCER';

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

/**
 * grpc-js's words for a stream that ended without a gRPC status. The daemon always ends a call
 * with one, so this is a proxy in the path (HAProxy, Envoy) closing the stream after it had
 * forwarded the reply's headers, because its connection to the daemon broke: HAProxy 2.6 resets
 * the stream with NO_ERROR when a replica dies while its reply is on the way.
 */
const ENDED_WITHOUT_STATUS = /^Received RST_STREAM with code 0 \(Call ended without gRPC status\)$/;

export const CUT_REPLY_MESSAGE =
  'the call ended without a gRPC status: the connection between a proxy and the warmpool daemon broke while the reply was on the way ' +
  '(a replica died or restarted); the commands may have run on the device';

/**
 * The gRPC status a caller should see. A broken connection mid-call is UNAVAILABLE (gRPC's
 * status code table); behind a proxy it reaches grpc-js as a clean reset, which grpc-js reports
 * as INTERNAL. Reported as UNAVAILABLE, with a message saying the commands may have run: it is
 * never repeated by the client (retry.ts), as for the proxy's own 502/503.
 */
export function callerStatus(code: Status, details: string, errorCode: string | undefined): { code: Status; details: string } {
  if (code === Status.INTERNAL && errorCode === undefined && ENDED_WITHOUT_STATUS.test(details)) {
    return { code: Status.UNAVAILABLE, details: `${CUT_REPLY_MESSAGE} (grpc-js: ${details})` };
  }
  return { code, details };
}

/** The typed error for a grpc-js call failure; `device` is the request's device, if any. */
export function fromServiceError(err: unknown, device?: string): WarmpoolClientError {
  const e = err as Partial<ServiceError>;
  if (typeof e.code !== 'number') {
    return new WarmpoolClientError(Status.UNKNOWN, err instanceof Error ? err.message : String(err), { device });
  }
  const meta = (key: string): string | undefined => {
    const v = e.metadata?.get(key)[0];
    return v === undefined ? undefined : String(v);
  };
  const errorCode = meta('warmpool-error-code');
  const { code, details } = callerStatus(e.code, e.details ?? e.message ?? '', errorCode);
  return new WarmpoolClientError(code, details, {
    device: device || deviceFromMessage(details),
    errorCode,
    field: meta('warmpool-field'),
  });
}

/** The error of a RunMany result whose outcome is an error, else undefined. */
export function resultError(res: { device?: string; error?: { code?: number; message?: string } | null; outcome?: string }): WarmpoolClientError | undefined {
  if (!res.error || (res.outcome !== undefined && res.outcome !== 'error')) return undefined;
  const details = res.error.message ?? '';
  return new WarmpoolClientError(res.error.code ?? Status.UNKNOWN, details, { device: res.device || deviceFromMessage(details) });
}
