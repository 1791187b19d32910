"""The warmpool client: a thin, typed layer over the generated gRPC stubs."""
from __future__ import annotations

import os
import time
from concurrent import futures
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import grpc

from . import errors
from ._gen.warmpool.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    common_pb2,
    device_proxy_pb2,
    device_proxy_pb2_grpc,
    inventory_pb2,
    inventory_pb2_grpc,
)
from ._retry import Backoff, is_safe_to_retry

__all__ = ["Client", "DEVICE_HEADER", "BALANCER_REFUSAL"]

#: The error code the device-affinity balancer (deploy/haproxy) puts on its refusal of RunMany:
#: run_many then runs one Run per device instead.
BALANCER_REFUSAL = "RUN_MANY_AT_BALANCER"
#: RunMany's default concurrency (docs/api.md, RunMany), for that fallback.
DEFAULT_FAN_OUT = 16

#: Request header naming the device of a single-device call. A gateway (Envoy, Istio) can hash on
#: it so every call for one device reaches the same replica, where its sessions are warm.
DEVICE_HEADER = "x-warmpool-device"

# The daemon sends at most grpc.maxSendMessageBytes (16 MiB by default); grpc's client default
# of 4 MiB would refuse a large but legitimate RunResponse.
_DEFAULT_OPTIONS: Tuple[Tuple[str, Any], ...] = (("grpc.max_receive_message_length", 64 * 1024 * 1024),)

_MODES = {
    None: common_pb2.SESSION_MODE_UNSPECIFIED,
    "shell": common_pb2.SESSION_MODE_SHELL,
    "exec": common_pb2.SESSION_MODE_EXEC,
}

PemSource = Union[bytes, str, "os.PathLike[str]"]


def _pem(value: Optional[PemSource]) -> Optional[bytes]:
    """PEM bytes as given, or read from a path (str or PathLike)."""
    if value is None or isinstance(value, bytes):
        return value
    with open(os.fspath(value), "rb") as f:
        return f.read()


def _mode(mode: Union[None, str, int]) -> int:
    if isinstance(mode, int):
        return mode
    if mode in _MODES:
        return _MODES[mode]
    raise ValueError(f'mode must be None, "shell", "exec" or a SessionMode value, not {mode!r}')


AnswerLike = Union["device_proxy_pb2.Answer", Tuple[str, str], Tuple[str, str, bool], Mapping[str, Any]]


def _answers(answers: Sequence[AnswerLike]) -> List[Any]:
    """RunRequest.answers from pb.Answer messages, (pattern, reply[, secret]) tuples or dicts."""
    if isinstance(answers, (str, bytes, Mapping)):
        raise TypeError("answers must be a list of answers, not a single one")
    out = []
    for i, a in enumerate(answers):
        if isinstance(a, device_proxy_pb2.Answer):
            out.append(a)
        elif isinstance(a, tuple) and len(a) in (2, 3):
            out.append(device_proxy_pb2.Answer(pattern=a[0], reply=a[1], secret=bool(a[2]) if len(a) == 3 else False))
        elif isinstance(a, Mapping):
            out.append(device_proxy_pb2.Answer(pattern=a.get("pattern", ""), reply=a.get("reply", ""), secret=bool(a.get("secret", False))))
        else:
            # Never the value itself: the reply may be a password.
            raise TypeError(f"answers[{i}] must be a pb.Answer, a (pattern, reply[, secret]) tuple or a dict, not {type(a).__name__}")
    return out


class Client:
    """A connection to a warmpool daemon.

    ``Client(target)`` connects in plaintext (the daemon's default is a pod-local
    ``127.0.0.1:50051``). ``root_certificates`` (PEM bytes, or a file path) switches to TLS
    (``tls=True`` does too, with the system's roots); ``private_key`` and
    ``certificate_chain`` add a client certificate (mTLS). ``token`` is sent as
    ``authorization: Bearer <token>`` on every call, as the daemon's ``grpc.auth.tokensFile``
    expects. ``timeout`` (seconds) is the default deadline of every call; ``None`` means none.
    ``options`` are extra grpc channel options.

    Single-device calls carry the ``x-warmpool-device`` header (see ``DEVICE_HEADER``).
    Failed calls raise a subclass of :class:`errors.WarmpoolError`.

    Retries: a failed call is repeated (up to ``retries`` more times, with exponential back-off
    and jitter, and never past its deadline) only when it is UNAVAILABLE *before anything was
    sent to the device*: the daemon could not be reached at all, or the daemon answered
    ``warmpool-error-code`` CONNECT_REFUSED, CONNECT_TIMEOUT, HOST_UNREACHABLE or CIRCUIT_OPEN,
    or DRAINING (refused before any work; a call cut by a shutdown gets SHUTDOWN, never repeated). A stream is only repeated when it failed
    before its first message. CONNECTION_LOST (the session died mid-command), any other status,
    and every failure after a command may have reached the device are never repeated, so a
    command or configuration change never runs twice because of this client. The full rule is
    in ``warmpool_client._retry``.

    Use it as a context manager, or call :meth:`close`::

        with Client("127.0.0.1:50051", token=TOKEN) as c:
            r = c.run("core-sw1", ["show version"])
            print(r.results[0].output)
    """

    def __init__(
        self,
        target: str,
        *,
        token: Optional[str] = None,
        root_certificates: Optional[PemSource] = None,
        private_key: Optional[PemSource] = None,
        certificate_chain: Optional[PemSource] = None,
        tls: Optional[bool] = None,
        timeout: Optional[float] = None,
        options: Optional[Sequence[Tuple[str, Any]]] = None,
        retries: int = 2,
        _backoff: Optional[Backoff] = None,
        _sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if (private_key is None) != (certificate_chain is None):
            raise ValueError("mTLS needs both private_key and certificate_chain")
        if retries < 0:
            raise ValueError("retries must be >= 0")
        if token is not None and (not token or any(c in token for c in "\r\n")):
            raise ValueError("token must be a non-empty string without line breaks")
        self.target = target
        self.timeout = timeout
        self.retries = retries
        self._token = token
        self._backoff = _backoff or Backoff()
        self._sleep = _sleep
        merged = dict(_DEFAULT_OPTIONS)
        merged.update(dict(options or ()))
        channel_options = list(merged.items())
        secure = tls if tls is not None else any(
            v is not None for v in (root_certificates, private_key, certificate_chain)
        )
        if secure:
            creds = grpc.ssl_channel_credentials(
                root_certificates=_pem(root_certificates),
                private_key=_pem(private_key),
                certificate_chain=_pem(certificate_chain),
            )
            self._channel = grpc.secure_channel(target, creds, options=channel_options)
        else:
            self._channel = grpc.insecure_channel(target, options=channel_options)
        self._proxy = device_proxy_pb2_grpc.DeviceProxyStub(self._channel)
        self._inventory = inventory_pb2_grpc.InventoryStub(self._channel)
        self._admin = admin_pb2_grpc.AdminStub(self._channel)

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close the channel; calls in flight are cancelled."""
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- DeviceProxy -------------------------------------------------------------------------

    def run(
        self,
        device: str,
        commands: Sequence[str],
        *,
        privileged: bool = False,
        configure: bool = False,
        stop_on_error: bool = False,
        command_timeout_ms: int = 0,
        cache_ttl_ms: int = 0,
        expect: str = "",
        mode: Union[None, str, int] = None,
        answers: Sequence[AnswerLike] = (),
        timeout: Optional[float] = None,
    ) -> device_proxy_pb2.RunResponse:
        """Run ``commands`` in order on one pooled session of ``device``; returns the RunResponse.

        A command that fails on the device (``results[i].failed``) is not an exception; a call
        that fails is (``errors.NotFound``, ``errors.Unavailable``, ...).

        ``answers`` answers the questions commands ask (shell mode): each is a ``pb.Answer``, a
        ``(pattern, reply)`` or ``(pattern, reply, secret)`` tuple, or a dict with those keys. When a
        command's output ends with ``pattern`` (RE2), ``reply`` and a line break are sent; each answer
        is used at most once per command. ``secret=True`` keeps the reply out of logs, audit and errors::

            c.run("core-sw1", ["reload in 5"], privileged=True, answers=[(r"\[confirm\]", "")])
        """
        req = self._run_request(device, commands, privileged, configure, stop_on_error,
                                command_timeout_ms, cache_ttl_ms, expect, mode, answers)
        return self._unary(self._proxy.Run, req, device, timeout)

    def run_stream(
        self,
        device: str,
        commands: Sequence[str],
        *,
        privileged: bool = False,
        configure: bool = False,
        stop_on_error: bool = False,
        command_timeout_ms: int = 0,
        cache_ttl_ms: int = 0,
        expect: str = "",
        mode: Union[None, str, int] = None,
        answers: Sequence[AnswerLike] = (),
        timeout: Optional[float] = None,
    ) -> Iterator[device_proxy_pb2.RunEvent]:
        """Like :meth:`run`, yielding RunEvents as they arrive: the session first, then output
        chunks, then one result per command (``ev.WhichOneof("event")``; a result's ``output`` is
        empty: the chunks carried it). No size cap applies, only the command timeout. Leaving the
        loop early cancels the call."""
        req = self._run_request(device, commands, privileged, configure, stop_on_error,
                                command_timeout_ms, cache_ttl_ms, expect, mode, answers)
        return self._stream(self._proxy.RunStream, req, device, timeout)

    def run_many(
        self,
        commands: Sequence[str],
        *,
        devices: Optional[Sequence[str]] = None,
        labels: Optional[Mapping[str, str]] = None,
        concurrency: int = 0,
        privileged: bool = False,
        configure: bool = False,
        stop_on_error: bool = False,
        command_timeout_ms: int = 0,
        cache_ttl_ms: int = 0,
        expect: str = "",
        mode: Union[None, str, int] = None,
        answers: Sequence[AnswerLike] = (),
        timeout: Optional[float] = None,
    ) -> Iterator[device_proxy_pb2.DeviceRunResult]:
        """Run ``commands`` on every device named in ``devices`` or matching all ``labels`` (the
        union of both); yields one DeviceRunResult per device as it finishes. A device's failure
        is a result (``res.WhichOneof("outcome") == "error"``, ``res.error.code`` a gRPC status
        number), not an exception; ``errors.as_error(res)`` turns it into one if wanted.

        Behind the device-affinity balancer, which refuses RunMany (deploy/haproxy, error code
        ``RUN_MANY_AT_BALANCER``), the same results come from one Run per device, ``concurrency``
        at a time (default 16, in threads), within the same ``timeout``."""
        template = self._run_request("", commands, privileged, configure, stop_on_error,
                                     command_timeout_ms, cache_ttl_ms, expect, mode, answers)
        req = device_proxy_pb2.RunManyRequest(
            template=template, devices=list(devices or ()), labels=dict(labels or {}), concurrency=concurrency,
        )
        return self._run_many(req, timeout)

    def _run_many(self, req: Any, timeout: Optional[float]) -> Iterator[Any]:
        deadline = self._deadline(timeout)
        delivered = False
        try:
            for res in self._stream(self._proxy.RunMany, req, None, timeout):
                delivered = True
                yield res
            return
        except errors.FailedPrecondition as err:
            if delivered or err.error_code != BALANCER_REFUSAL:
                raise
        yield from self._run_each(req, deadline)

    def _run_each(self, req: Any, deadline: Optional[float]) -> Iterator[Any]:
        """RunMany as one Run per device, as the balancer's refusal asks; results as they finish."""
        ids = list(dict.fromkeys(req.devices))
        if req.labels:
            for d in self.devices(dict(req.labels), timeout=self._remaining(deadline)):
                if d.id not in ids:
                    ids.append(d.id)

        def one(device: str) -> Any:
            run_req = device_proxy_pb2.RunRequest()
            run_req.CopyFrom(req.template)
            run_req.device = device
            try:
                response = self._unary(self._proxy.Run, run_req, device, self._remaining(deadline))
                return device_proxy_pb2.DeviceRunResult(device=device, response=response)
            except errors.WarmpoolError as err:
                return device_proxy_pb2.DeviceRunResult(
                    device=device, error=common_pb2.Error(code=err.code.value[0], message=err.details))

        if not ids:
            return
        with futures.ThreadPoolExecutor(max_workers=min(req.concurrency or DEFAULT_FAN_OUT, len(ids))) as pool:
            pending = [pool.submit(one, device) for device in ids]
            try:
                for done in futures.as_completed(pending):
                    yield done.result()
            finally:
                # Leaving the loop early: devices not started yet are not run.
                for f in pending:
                    f.cancel()

    def http(
        self,
        device: str,
        method: str,
        path: str,
        *,
        headers: Optional[Mapping[str, str]] = None,
        body: Union[bytes, str] = b"",
        timeout_ms: int = 0,
        timeout: Optional[float] = None,
    ) -> device_proxy_pb2.HttpResponse:
        """One HTTP request over the device's pooled HTTP connections; returns the HttpResponse
        (``status``, ``headers``, ``body`` bytes). An HTTP error status is a response, not an
        exception. ``timeout_ms`` is the daemon-side request timeout, ``timeout`` the call's."""
        req = device_proxy_pb2.HttpRequest(
            device=device, method=method, path=path, headers=dict(headers or {}),
            body=body.encode() if isinstance(body, str) else body, timeout_ms=timeout_ms,
        )
        return self._unary(self._proxy.Http, req, device, timeout)

    def netconf(self, device: str, rpc: str, *, timeout_ms: int = 0, timeout: Optional[float] = None) -> device_proxy_pb2.NetconfResponse:
        """One NETCONF RPC over the device's pooled NETCONF sessions. ``rpc`` is the XML inside
        ``<rpc>`` (one operation, e.g. ``<get-config><source><running/></source></get-config>``);
        the daemon adds ``<rpc>`` and its message-id. Returns the NetconfResponse: ``reply`` (the
        whole ``<rpc-reply>`` as text), ``failed`` (an ``<rpc-error>`` of severity error) and
        ``error`` (its message). An rpc-error is a response, not an exception."""
        req = device_proxy_pb2.NetconfRequest(device=device, rpc=rpc, timeout_ms=timeout_ms)
        return self._unary(self._proxy.Netconf, req, device, timeout)

    # -- Inventory and Admin ------------------------------------------------------------------

    def devices(self, labels: Optional[Mapping[str, str]] = None, *, timeout: Optional[float] = None) -> List[inventory_pb2.Device]:
        """All devices, or those having all ``labels``. Secrets are never returned."""
        req = inventory_pb2.ListDevicesRequest(labels=dict(labels or {}))
        return list(self._unary(self._inventory.ListDevices, req, None, timeout).devices)

    def get_device(self, id: str, *, timeout: Optional[float] = None) -> inventory_pb2.Device:
        """One device; ``errors.NotFound`` when it is not in the inventory."""
        return self._unary(self._inventory.GetDevice, inventory_pb2.GetDeviceRequest(id=id), id, timeout)

    def pool_stats(self, devices: Optional[Sequence[str]] = None, *, timeout: Optional[float] = None) -> List[admin_pb2.PoolStats]:
        """Pool statistics (one entry per device and protocol) for all devices or the named ones."""
        names = list(devices or ())
        req = admin_pb2.GetPoolStatsRequest(devices=names)
        # One device: the header routes the call to the replica that holds its pools.
        return list(self._unary(self._admin.GetPoolStats, req, names[0] if len(names) == 1 else None, timeout).pools)

    # -- plumbing ----------------------------------------------------------------------------

    @staticmethod
    def _run_request(device: str, commands: Sequence[str], privileged: bool, configure: bool, stop_on_error: bool,
                     command_timeout_ms: int, cache_ttl_ms: int, expect: str,
                     mode: Union[None, str, int], answers: Sequence[AnswerLike] = ()) -> device_proxy_pb2.RunRequest:
        if isinstance(commands, (str, bytes)):
            # A lone string would become one command per character.
            raise TypeError("commands must be a list of strings, not a single string")
        return device_proxy_pb2.RunRequest(
            device=device, commands=list(commands), mode=_mode(mode), privileged=privileged, configure=configure,
            stop_on_error=stop_on_error, command_timeout_ms=command_timeout_ms, cache_ttl_ms=cache_ttl_ms,
            expect=expect, answers=_answers(answers),
        )

    def _metadata(self, device: Optional[str]) -> List[Tuple[str, str]]:
        md: List[Tuple[str, str]] = []
        if self._token is not None:
            md.append(("authorization", f"Bearer {self._token}"))
        if device:
            md.append((DEVICE_HEADER, device))
        return md

    def _deadline(self, timeout: Optional[float]) -> Optional[float]:
        t = timeout if timeout is not None else self.timeout
        return None if t is None else time.monotonic() + t

    @staticmethod
    def _remaining(deadline: Optional[float]) -> Optional[float]:
        return None if deadline is None else max(0.0, deadline - time.monotonic())

    def _should_retry(self, err: errors.WarmpoolError, attempt: int, deadline: Optional[float]) -> Optional[float]:
        """Seconds to wait before the next attempt, or None to give up."""
        if attempt >= self.retries or not is_safe_to_retry(err.code, err.details, err.error_code):
            return None
        delay = self._backoff.delay(attempt)
        remaining = self._remaining(deadline)
        if remaining is not None and delay >= remaining:
            return None
        return delay

    def _unary(self, method: Any, req: Any, device: Optional[str], timeout: Optional[float]) -> Any:
        deadline = self._deadline(timeout)
        attempt = 0
        while True:
            try:
                return method(req, metadata=self._metadata(device), timeout=self._remaining(deadline))
            except grpc.RpcError as rpc_err:
                err = errors.from_rpc_error(rpc_err, device)
            wait = self._should_retry(err, attempt, deadline)
            if wait is None:
                raise err
            self._sleep(wait)
            attempt += 1

    def _stream(self, method: Any, req: Any, device: Optional[str], timeout: Optional[float]) -> Iterator[Any]:
        deadline = self._deadline(timeout)
        attempt = 0
        while True:
            call = method(req, metadata=self._metadata(device), timeout=self._remaining(deadline))
            received = False
            try:
                for msg in call:
                    received = True
                    yield msg
                return
            except grpc.RpcError as rpc_err:
                err = errors.from_rpc_error(rpc_err, device)
            finally:
                # Leaving the loop early (break, exception in the caller's body) ends the call.
                call.cancel()
            wait = None if received else self._should_retry(err, attempt, deadline)
            if wait is None:
                raise err
            self._sleep(wait)
            attempt += 1
