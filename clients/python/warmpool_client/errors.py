"""Typed errors for warmpool calls: one class per gRPC status code the daemon uses.

Every error is a :class:`WarmpoolError` with

* ``code``: the :class:`grpc.StatusCode`,
* ``device``: the device the call was about (the request's device, else the one the
  daemon's message names), or ``None``,
* ``error_code``: the daemon's internal code from the ``warmpool-error-code`` trailing
  metadata (for example ``"CIRCUIT_OPEN"``, ``"CONNECTION_LOST"``), or ``None`` when the
  failure did not come from the daemon (for example it could not be reached),
* ``field``: the request field a validation error is about (``warmpool-field``), or ``None``,
* ``details``: the daemon's message (it names the device and never holds a secret).

Catch ``errors.WarmpoolError`` for everything, or a subclass for one case::

    try:
        c.run("core-sw1", ["show version"])
    except errors.NotFound:
        ...
"""
from __future__ import annotations

import re
from typing import Dict, Optional, Type

import grpc

__all__ = [
    "WarmpoolError",
    "NotFound",
    "InvalidArgument",
    "Unavailable",
    "DeadlineExceeded",
    "ResourceExhausted",
    "FailedPrecondition",
    "PermissionDenied",
    "Unauthenticated",
    "Aborted",
    "Cancelled",
    "Internal",
    "Unimplemented",
    "from_rpc_error",
    "as_error",
]


class WarmpoolError(Exception):
    """Base class of every error this client raises for a failed call."""

    #: The status code a class stands for (the base class: whatever the call returned).
    default_code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(
        self,
        details: str,
        *,
        code: Optional[grpc.StatusCode] = None,
        device: Optional[str] = None,
        error_code: Optional[str] = None,
        field: Optional[str] = None,
    ) -> None:
        super().__init__(details)
        self.details = details
        self.code = code if code is not None else self.default_code
        self.device = device
        self.error_code = error_code
        self.field = field

    def __str__(self) -> str:
        return f"{self.code.name}: {self.details}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code.name}, device={self.device!r}, "
            f"error_code={self.error_code!r}, details={self.details!r})"
        )


class NotFound(WarmpoolError):
    """Unknown device (or no device matches a label selector)."""

    default_code = grpc.StatusCode.NOT_FOUND


class InvalidArgument(WarmpoolError):
    """Malformed request: empty commands, a command with a line break, a bad id, an oversize body."""

    default_code = grpc.StatusCode.INVALID_ARGUMENT


class Unavailable(WarmpoolError):
    """The daemon or the device cannot be reached, the connection was lost, the circuit is open,
    or the daemon is draining. ``error_code`` tells which."""

    default_code = grpc.StatusCode.UNAVAILABLE


class DeadlineExceeded(WarmpoolError):
    """The call's deadline, a command timeout or the wait for a session passed."""

    default_code = grpc.StatusCode.DEADLINE_EXCEEDED


class ResourceExhausted(WarmpoolError):
    """The device's wait queue is full, or a body or message is too large."""

    default_code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPrecondition(WarmpoolError):
    """The device's host key does not match, or it refused the login."""

    default_code = grpc.StatusCode.FAILED_PRECONDITION


class PermissionDenied(WarmpoolError):
    """The daemon's policy does not allow this caller this call."""

    default_code = grpc.StatusCode.PERMISSION_DENIED


class Unauthenticated(WarmpoolError):
    """No token or client certificate, or one the daemon does not know."""

    default_code = grpc.StatusCode.UNAUTHENTICATED


class Aborted(WarmpoolError):
    """The session saw something unexpected (for example an unknown prompt); the result is unknown."""

    default_code = grpc.StatusCode.ABORTED


class Cancelled(WarmpoolError):
    """The call was cancelled."""

    default_code = grpc.StatusCode.CANCELLED


class Internal(WarmpoolError):
    """A daemon bug; its log has the details."""

    default_code = grpc.StatusCode.INTERNAL


class Unimplemented(WarmpoolError):
    """The daemon (or this client's generated stubs) has no such method."""

    default_code = grpc.StatusCode.UNIMPLEMENTED


_BY_CODE: Dict[grpc.StatusCode, Type[WarmpoolError]] = {
    cls.default_code: cls
    for cls in (
        NotFound, InvalidArgument, Unavailable, DeadlineExceeded, ResourceExhausted,
        FailedPrecondition, PermissionDenied, Unauthenticated, Aborted, Cancelled, Internal,
        Unimplemented,
    )
}

# The daemon's messages name the device as `device "x"`, `device x:` or start with `x (ssh):`/`x:`.
_DEVICE_IN_MESSAGE = (
    re.compile(r'\bdevice "([A-Za-z0-9._:-]{1,128})"'),
    re.compile(r"\bdevice ([A-Za-z0-9._:-]{1,128}?): "),
    re.compile(r"^([A-Za-z0-9._:-]{1,128}) \((?:ssh|http|netconf|bastion)\): "),
)


def device_from_message(details: str) -> Optional[str]:
    """The device id a daemon message names, if it names one."""
    for pattern in _DEVICE_IN_MESSAGE:
        m = pattern.search(details)
        if m:
            return m.group(1)
    return None


def _trailing(err: grpc.RpcError, key: str) -> Optional[str]:
    try:
        md = err.trailing_metadata() or ()
    except Exception:  # not every RpcError is a Call (e.g. some channel-level failures)
        return None
    for k, v in md:
        if k == key:
            return v.decode("ascii", "replace") if isinstance(v, bytes) else v
    return None


# grpc core's words for a stream that ended without a gRPC status. The daemon always ends a call
# with one, so this is a proxy in the path (HAProxy, Envoy) closing the stream after it forwarded
# the reply's headers, because its connection to the daemon broke (HAProxy 2.6 resets the stream
# with NO_ERROR when a replica dies while its reply is on the way).
_ENDED_WITHOUT_STATUS = re.compile(r"^Stream removed$")

CUT_REPLY_MESSAGE = (
    "the call ended without a gRPC status: the connection between a proxy and the warmpool daemon "
    "broke while the reply was on the way (a replica died or restarted); the commands may have run "
    "on the device"
)


def _caller_status(code: grpc.StatusCode, details: str, error_code: Optional[str]):
    """A broken connection mid-call is UNAVAILABLE in gRPC's status table; behind a proxy it
    reaches grpc core as a clean reset, reported as UNKNOWN "Stream removed". Reported as
    UNAVAILABLE, saying the commands may have run: never repeated (_retry.py), like the proxy's
    own 502/503. Same rule as the TypeScript client (src/client/errors.ts)."""
    if (code in (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL) and error_code is None
            and _ENDED_WITHOUT_STATUS.match(details)):
        return grpc.StatusCode.UNAVAILABLE, f"{CUT_REPLY_MESSAGE} (grpc: {details})"
    return code, details


def from_rpc_error(err: grpc.RpcError, device: Optional[str] = None) -> WarmpoolError:
    """The typed error for a failed grpc call; ``device`` is the request's device, if any."""
    try:
        code = err.code()
        details = err.details() or ""
    except Exception:
        code, details = grpc.StatusCode.UNKNOWN, str(err)
    error_code = _trailing(err, "warmpool-error-code")
    code, details = _caller_status(code, details, error_code)
    cls = _BY_CODE.get(code, WarmpoolError)
    return cls(
        details,
        code=code,
        device=device or device_from_message(details),
        error_code=error_code,
        field=_trailing(err, "warmpool-field"),
    )


def as_error(result: object) -> Optional[WarmpoolError]:
    """The typed error of a RunMany ``DeviceRunResult`` whose outcome is an error, else None::

        for res in c.run_many(["show version"], labels={"site": "fra1"}):
            err = errors.as_error(res)
            if err: log.warning("%s failed: %s", res.device, err)
    """
    if result.WhichOneof("outcome") != "error":  # type: ignore[attr-defined]
        return None
    e = result.error  # type: ignore[attr-defined]
    try:
        code = next(c for c in grpc.StatusCode if c.value[0] == e.code)
    except StopIteration:
        code = grpc.StatusCode.UNKNOWN
    cls = _BY_CODE.get(code, WarmpoolError)
    return cls(e.message, code=code, device=result.device or device_from_message(e.message))  # type: ignore[attr-defined]
