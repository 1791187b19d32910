import { status as Status } from '@grpc/grpc-js';

/**
 * Exit status of the warmpool command, one number per class of failure so scripts can tell
 * "fix the command line" from "the device is down" without parsing messages. 0/1/2 keep their
 * usual meaning (and docs/api.md's, "Process, signals and exit status", for `serve`: 2 is invalid configuration); the rest follow
 * the gRPC status of the failed call.
 */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  UNAVAILABLE: 4,
  REFUSED: 5,
  INVALID_ARGUMENT: 6,
  RESOURCE_EXHAUSTED: 7,
} as const;

/** The exit status for a failed call with this gRPC status code. */
export function exitCodeForStatus(code: number): number {
  switch (code) {
    case Status.OK:
      return EXIT.OK;
    case Status.NOT_FOUND:
      return EXIT.NOT_FOUND;
    case Status.UNAVAILABLE:
    case Status.DEADLINE_EXCEEDED:
      return EXIT.UNAVAILABLE;
    case Status.UNAUTHENTICATED:
    case Status.PERMISSION_DENIED:
    case Status.FAILED_PRECONDITION:
      return EXIT.REFUSED;
    case Status.INVALID_ARGUMENT:
    case Status.OUT_OF_RANGE:
      return EXIT.INVALID_ARGUMENT;
    case Status.RESOURCE_EXHAUSTED:
      return EXIT.RESOURCE_EXHAUSTED;
    default:
      return EXIT.FAILURE;
  }
}

/** For `warmpool --help` (README's CLI section carries the same table). */
export const EXIT_STATUS_HELP = `Exit status:
  0  success
  1  other failure: a command failed on the device, HTTP status >= 400, a device failed in "many"
  2  usage error: unknown command or option, missing argument (serve, demo: invalid configuration)
  3  not found (NOT_FOUND): unknown device, no device matches the labels
  4  unreachable or too slow (UNAVAILABLE, DEADLINE_EXCEEDED): device or daemon down,
     connection lost, circuit open, daemon draining, timeout
  5  refused (UNAUTHENTICATED, PERMISSION_DENIED, FAILED_PRECONDITION): the caller's
     token or certificate, or the device's login or host key
  6  invalid request (INVALID_ARGUMENT, OUT_OF_RANGE): the daemon rejected the request
  7  resource exhausted (RESOURCE_EXHAUSTED): the device's wait queue is full`;
