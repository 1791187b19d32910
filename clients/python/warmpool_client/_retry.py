"""Which failed calls this client repeats by itself, and how long it waits in between.

The rule: a call is repeated only when the daemon certainly did not send anything to the device,
so repeating it cannot run a command (or a configuration change, or an HTTP POST) twice. That is

* UNAVAILABLE while connecting to the daemon itself (gRPC reports "failed to connect to all
  addresses", connection refused, DNS failure): the request never left this process;
* UNAVAILABLE from the daemon with ``warmpool-error-code``
    - ``CONNECT_REFUSED``, ``CONNECT_TIMEOUT``, ``HOST_UNREACHABLE``: opening the device session
      (or HTTP connection) failed, before the first command;
    - ``CIRCUIT_OPEN``: the daemon refused at once because the device kept failing to connect;
    - ``DRAINING``: the daemon refused the call at its start, or the device's pool refused to
      hand out a session. Calls still running when a shutdown's grace period is over end with
      ``SHUTDOWN`` instead; those may have run their commands and are NOT repeated.

Never repeated: ``CONNECTION_LOST`` (the session died mid-command: the command may have run),
``CHANNEL_OPEN_FAILED`` (in exec mode an earlier command of the same request may have run),
``POOL_CLOSED`` (can also end an HTTP request in flight), UNAVAILABLE without a daemon code
other than a connect failure, a stream that already delivered a message, and every other status
(DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, ...): the caller decides those.
"""
from __future__ import annotations

import random
import re
from typing import Callable, Optional

import grpc

# Daemon codes (src/core/errors.ts) that are raised before anything is sent to the device.
NOT_SENT_CODES = frozenset({"CONNECT_REFUSED", "CONNECT_TIMEOUT", "HOST_UNREACHABLE", "CIRCUIT_OPEN", "DRAINING"})

# grpc core's texts when no connection to the daemon could be made at all.
_CONNECT_FAILURE = re.compile(
    r"failed to connect to all addresses|connection refused|DNS resolution failed|"
    r"name resolution|Failed to pick subchannel",
    re.IGNORECASE,
)


def is_safe_to_retry(code: grpc.StatusCode, details: str, error_code: Optional[str]) -> bool:
    """True when the failed call certainly sent nothing to the device (see the module docstring)."""
    if code != grpc.StatusCode.UNAVAILABLE:
        return False
    if error_code is None:
        return bool(_CONNECT_FAILURE.search(details))
    if error_code in NOT_SENT_CODES:
        return True
    return False


class Backoff:
    """Exponential back-off with jitter: base * 2**attempt, times a random factor in [0.5, 1]."""

    def __init__(self, base: float = 0.1, cap: float = 2.0, rand: Callable[[], float] = random.random) -> None:
        self.base = base
        self.cap = cap
        self._rand = rand

    def delay(self, attempt: int) -> float:
        return min(self.cap, self.base * (2 ** attempt)) * (0.5 + 0.5 * self._rand())
