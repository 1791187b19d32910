"""warmpool_client against a real daemon (`warmpool demo`: simulated IOS, EOS with an HTTP API,
Junos and Linux devices, served over mTLS with tokens and a policy), plus a local grpc server standing in for the daemon where the test has
to see what the client sent (headers) or script what the daemon answers (retries).

Run: /usr/bin/python3 -m unittest discover -s clients/python/tests -v
"""
from __future__ import annotations

import contextlib
import filecmp
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import unittest
from concurrent import futures
from typing import Iterator, List, Optional, Tuple

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # clients/python: the package works without installing

from warmpool_client import DEVICE_HEADER, Client, errors, pb  # noqa: E402
from warmpool_client._retry import Backoff  # noqa: E402
from warmpool_client._gen.warmpool.v1 import (  # noqa: E402
    device_proxy_pb2,
    device_proxy_pb2_grpc,
    inventory_pb2,
    inventory_pb2_grpc,
)
from demo_daemon import ROOT, TS_LOADER, DemoDaemon  # noqa: E402
from pki import issue, make_ca  # noqa: E402

TESTER_TOKEN = "tester-token-0123456789abcdef"
READER_TOKEN = "reader-token-0123456789abcdef"
CALL_TIMEOUT = 60.0

_daemon: Optional[DemoDaemon] = None
_tmp: Optional[tempfile.TemporaryDirectory] = None


def setUpModule() -> None:
    """One demo daemon for the whole module (starting one is the slow part): gRPC over TLS
    requiring client certificates from its CA (mTLS), bearer tokens for two callers, and a policy.
    A token names the caller; without one, the client certificate does ("py-client")."""
    global _daemon, _tmp
    _tmp = tempfile.TemporaryDirectory(prefix="warmpool-pyclient-")
    d = _tmp.name
    make_ca(d, "ca")
    make_ca(d, "other-ca")
    issue(d, "ca", "server", "localhost", "serverAuth", ["DNS:localhost", "IP:127.0.0.1"])
    issue(d, "ca", "client", "py-client", "clientAuth", [])
    issue(d, "other-ca", "stranger", "stranger", "clientAuth", [])
    tokens, policy = pki("tokens.yaml"), pki("policy.yaml")
    with open(tokens, "w") as f:
        f.write(f"callers:\n  - name: tester\n    token: {TESTER_TOKEN}\n  - name: reader\n    token: {READER_TOKEN}\n")
    with open(policy, "w") as f:
        f.write(
            "rules:\n"
            "  - callers: [tester]\n"
            "    commands: { deny: ['^reload'] }\n"
            "  - callers: [reader]\n"
            "    rpcs: [ListDevices, GetDevice]\n"
            "  - callers: [py-client]\n"
        )
    _daemon = DemoDaemon(
        "--grpc.tls.certFile", pki("server.pem"), "--grpc.tls.keyFile", pki("server.key"),
        "--grpc.tls.clientCaFile", pki("ca.pem"),
        "--grpc.auth.tokensFile", tokens, "--grpc.auth.policyFile", policy,
    )


def tearDownModule() -> None:
    code = _daemon.stop() if _daemon else None
    if _tmp:
        _tmp.cleanup()
    if code != 0:
        raise AssertionError(f"warmpool demo exited with {code} after SIGTERM:\n{_daemon.output() if _daemon else ''}")


def pki(name: str) -> str:
    assert _tmp is not None
    return os.path.join(_tmp.name, name)


def client(token: Optional[str] = TESTER_TOKEN, **kw) -> Client:
    """A client of the demo daemon: mTLS with the test CA's client certificate, plus `token`."""
    assert _daemon is not None
    tls = dict(root_certificates=pki("ca.pem"), private_key=pki("client.key"), certificate_chain=pki("client.pem"))
    tls.update(kw)
    return Client(_daemon.address, token=token, timeout=CALL_TIMEOUT, **tls)


class AgainstTheDemoDaemon(unittest.TestCase):
    def test_run_returns_each_commands_output_and_the_session(self) -> None:
        with client() as c:
            r = c.run("demo-ios", ["show version", "show clock"])
        self.assertIsInstance(r, device_proxy_pb2.RunResponse)
        self.assertEqual(r.device, "demo-ios")
        self.assertEqual([x.command for x in r.results], ["show version", "show clock"])
        self.assertIn("Cisco IOS", r.results[0].output)
        self.assertFalse(r.results[0].failed)
        self.assertTrue(r.session.id.startswith("demo-ios/"), r.session.id)

    def test_run_answers_a_question_with_tuples_dicts_or_messages(self) -> None:
        for answer in [(r"Destination filename \[.*\]\?", ""), {"pattern": r"\]\?", "reply": ""},
                       pb.Answer(pattern=r"startup-config\]\?", reply="", secret=True)]:
            with client() as c:
                r = c.run("demo-ios", ["copy running-config startup-config"], privileged=True, answers=[answer])
            self.assertIn("[OK]", r.results[0].output, answer)
        with client() as c:
            with self.assertRaises(errors.DeadlineExceeded) as e:
                c.run("demo-ios", ["copy running-config startup-config"], privileged=True, command_timeout_ms=800)
        self.assertIn("pass RunRequest.answers", str(e.exception))
        with client() as c:
            with self.assertRaises(TypeError):
                c.run("demo-ios", ["show clock"], answers=[("only a pattern",)])

    def test_run_in_exec_mode_reports_the_remote_exit_status(self) -> None:
        with client() as c:
            r = c.run("demo-linux", ["uname -a", "false"], mode="exec")
        self.assertEqual(r.results[0].exit_status, 0)
        self.assertIn("Linux", r.results[0].output)
        self.assertTrue(r.results[1].failed)
        self.assertNotEqual(r.results[1].exit_status, 0)

    def test_run_stream_yields_the_session_first_and_a_result_per_command_last(self) -> None:
        with client() as c:
            events = list(c.run_stream("demo-ios", ["show version", "show clock"]))
        kinds = [ev.WhichOneof("event") for ev in events]
        self.assertEqual(kinds[0], "session")
        self.assertEqual(kinds[-1], "result")
        self.assertIn("chunk", kinds)
        self.assertIn("Cisco IOS", "".join(ev.chunk.data for ev in events if ev.WhichOneof("event") == "chunk"))
        self.assertEqual([ev.result.command for ev in events if ev.WhichOneof("event") == "result"],
                         ["show version", "show clock"])

    def test_leaving_a_run_stream_early_cancels_it_and_the_client_stays_usable(self) -> None:
        with client() as c:
            for ev in c.run_stream("demo-ios", ["show version"]):
                self.assertEqual(ev.WhichOneof("event"), "session")
                break
            self.assertIn("Cisco IOS", c.run("demo-ios", ["show version"]).results[0].output)

    def test_run_many_answers_once_for_every_device_matching_the_labels(self) -> None:
        with client() as c:
            results = list(c.run_many(["show version"], labels={"role": "network"}, concurrency=2))
        self.assertEqual(sorted(r.device for r in results), ["demo-edge", "demo-eos", "demo-ios", "demo-junos"])
        for r in results:
            self.assertEqual(r.WhichOneof("outcome"), "response", r)
            self.assertIsNone(errors.as_error(r))
            self.assertEqual(len(r.response.results), 1)

    def test_run_many_reports_an_unknown_device_as_a_not_found_result(self) -> None:
        with client() as c:
            results = {r.device: r for r in c.run_many(["show version"], devices=["demo-ios", "no-such-device"])}
        self.assertEqual(results["demo-ios"].WhichOneof("outcome"), "response")
        err = errors.as_error(results["no-such-device"])
        self.assertIsInstance(err, errors.NotFound)
        self.assertEqual(err.device, "no-such-device")

    def test_http_goes_over_the_devices_http_api(self) -> None:
        body = json.dumps({"jsonrpc": "2.0", "method": "runCmds",
                           "params": {"version": 1, "cmds": ["show hostname"]}, "id": 1})
        with client() as c:
            r = c.http("demo-eos", "POST", "/command-api", headers={"content-type": "application/json"}, body=body)
        self.assertEqual(r.status, 200)
        self.assertEqual(json.loads(r.body)["result"][0]["hostname"], "demo-eos")

    def test_devices_get_device_and_pool_stats(self) -> None:
        with client() as c:
            self.assertEqual([d.id for d in c.devices(labels={"role": "server"})], ["demo-linux"])
            self.assertEqual(sorted(d.id for d in c.devices()), ["demo-edge", "demo-eos", "demo-ios", "demo-junos", "demo-linux"])
            self.assertEqual(c.get_device("demo-edge").via, "demo-jump", "demo-edge is reached through the demo bastion")
            eos = c.get_device("demo-eos")
            self.assertEqual(eos.platform, "arista_eos")
            self.assertTrue(eos.http.base_url.startswith("http"))
            self.assertEqual(eos.password, "", "secrets are write-only")
            stats = c.pool_stats(["demo-ios"])
        self.assertEqual({(s.device, s.protocol) for s in stats}, {("demo-ios", "ssh")})

    def test_unknown_device_raises_not_found_naming_it(self) -> None:
        with client() as c:
            with self.assertRaises(errors.NotFound) as cm:
                c.run("no-such-device", ["show version"])
            e = cm.exception
            self.assertEqual(e.code, grpc.StatusCode.NOT_FOUND)
            self.assertEqual(e.device, "no-such-device")
            self.assertEqual(e.error_code, "DEVICE_NOT_FOUND")
            self.assertIn("no-such-device", str(e))
            with self.assertRaises(errors.NotFound):
                c.get_device("no-such-device")

    def test_a_command_with_a_line_break_raises_invalid_argument(self) -> None:
        with client() as c:
            with self.assertRaises(errors.InvalidArgument) as cm:
                c.run("demo-ios", ["show version\nreload"])
        self.assertEqual(cm.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(cm.exception.device, "demo-ios")
        self.assertIsInstance(cm.exception, errors.WarmpoolError)

    def test_an_unknown_token_raises_unauthenticated_even_with_a_valid_client_certificate(self) -> None:
        with client(token="not-a-known-token-0123456789") as c:
            with self.assertRaises(errors.Unauthenticated) as cm:
                c.run("demo-ios", ["show version"])
        self.assertEqual(cm.exception.code, grpc.StatusCode.UNAUTHENTICATED)
        self.assertNotIn("not-a-known-token", str(cm.exception), "the daemon never echoes a token")

    def test_a_call_the_policy_refuses_raises_permission_denied(self) -> None:
        with client() as c:
            with self.assertRaises(errors.PermissionDenied) as cm:
                c.run("demo-ios", ["reload"])
        self.assertEqual(cm.exception.device, "demo-ios")
        self.assertIn("reload", cm.exception.details)
        with client(token=READER_TOKEN) as c:
            self.assertEqual(c.get_device("demo-ios").id, "demo-ios")
            with self.assertRaises(errors.PermissionDenied):
                c.run("demo-ios", ["show version"])


class OverMtls(unittest.TestCase):
    def test_without_a_token_the_client_certificate_names_the_caller(self) -> None:
        assert _daemon is not None
        with Client(_daemon.address, root_certificates=pki("ca.pem"), private_key=pki("client.key"),
                    certificate_chain=pki("client.pem"), timeout=60) as c:
            self.assertIn("Cisco IOS", c.run("demo-ios", ["show version"]).results[0].output)

    def test_pem_bytes_work_as_well_as_paths(self) -> None:
        assert _daemon is not None
        def read(name: str) -> bytes:
            with open(pki(name), "rb") as f:
                return f.read()
        with Client(_daemon.address, root_certificates=read("ca.pem"), private_key=read("client.key"),
                    certificate_chain=read("client.pem"), timeout=60) as c:
            self.assertEqual(c.get_device("demo-eos").id, "demo-eos")

    def test_no_token_and_no_or_a_foreign_client_certificate_raises_unauthenticated(self) -> None:
        assert _daemon is not None
        for kw in ({}, {"private_key": pki("stranger.key"), "certificate_chain": pki("stranger.pem")}):
            with self.subTest(client_cert=bool(kw)):
                # Tokens are configured too, so TLS lets the call through and the daemon decides.
                with Client(_daemon.address, root_certificates=pki("ca.pem"), timeout=30, retries=0, **kw) as c:
                    with self.assertRaises(errors.Unauthenticated) as cm:
                        c.run("demo-ios", ["show version"])
                    self.assertEqual(cm.exception.error_code, "UNAUTHENTICATED")
                    self.assertIn("no caller credentials", cm.exception.details)

    def test_a_server_certificate_from_another_ca_is_refused(self) -> None:
        assert _daemon is not None
        with Client(_daemon.address, root_certificates=pki("other-ca.pem"), private_key=pki("client.key"),
                    certificate_chain=pki("client.pem"), timeout=30, retries=0) as c:
            with self.assertRaises(errors.Unavailable):
                c.run("demo-ios", ["show version"])

    def test_plaintext_against_a_tls_daemon_fails_as_unavailable(self) -> None:
        assert _daemon is not None
        with Client(_daemon.address, timeout=30, retries=0) as c:
            with self.assertRaises(errors.Unavailable):
                c.run("demo-ios", ["show version"])


class WithoutADaemon(unittest.TestCase):
    def test_a_daemon_that_is_not_running_raises_unavailable_after_the_retries(self) -> None:
        port = free_port()
        sleeps: List[float] = []
        with Client(f"127.0.0.1:{port}", timeout=20, retries=2, _sleep=sleeps.append) as c:
            with self.assertRaises(errors.Unavailable) as cm:
                c.run("demo-ios", ["show version"])
        self.assertEqual(cm.exception.code, grpc.StatusCode.UNAVAILABLE)
        self.assertIsNone(cm.exception.error_code, "the daemon never answered")
        self.assertEqual(len(sleeps), 2, "a call that never reached the daemon is retried")

    def test_netconf_returns_the_reply_and_reports_rpc_errors_as_failed(self) -> None:
        with client() as c:
            r = c.netconf("demo-junos", "<get-config><source><running/></source></get-config>")
            self.assertIsInstance(r, device_proxy_pb2.NetconfResponse)
            self.assertFalse(r.failed)
            self.assertIn("<hostname>demo-junos</hostname>", r.reply)
            self.assertTrue(r.session.id.startswith("demo-junos/netconf/"))
            bad = c.netconf("demo-junos", "<frobnicate/>")
            self.assertTrue(bad.failed)
            self.assertIn("frobnicate", bad.error)
            with self.assertRaises(errors.InvalidArgument) as cm:
                c.netconf("demo-junos", "<get/><edit-config/>")
            self.assertEqual(cm.exception.device, "demo-junos")
        with client(READER_TOKEN) as c:
            with self.assertRaises(errors.PermissionDenied):
                c.netconf("demo-junos", "<get-config><source><running/></source></get-config>")

    def test_a_reply_a_proxy_cut_after_its_headers_is_unavailable_and_not_repeated(self) -> None:
        # test/kit/cut-reply.ts does what HAProxy 2.6 does when a replica dies mid-reply: reply
        # headers, then RST_STREAM(NO_ERROR) with no gRPC status. grpc core says UNKNOWN.
        with cut_reply_server() as address:
            sleeps: List[float] = []
            with Client(address, timeout=10, _sleep=sleeps.append) as c:
                with self.assertRaises(errors.Unavailable) as cm:
                    c.run("core-sw1", ["show version"])
        e = cm.exception
        self.assertEqual(e.code, grpc.StatusCode.UNAVAILABLE)
        self.assertRegex(e.details, r"broke while the reply was on the way .*the commands may have run on the device")
        self.assertIn("Stream removed", e.details, "grpc core's own words are kept")
        self.assertIsNone(e.error_code, "the daemon did not answer")
        self.assertEqual(e.device, "core-sw1")
        self.assertEqual(sleeps, [], "not repeated: the commands may have run")

    def test_client_arguments_are_checked(self) -> None:
        with self.assertRaisesRegex(ValueError, "both private_key and certificate_chain"):
            Client("127.0.0.1:1", root_certificates=b"x", private_key=b"k")
        with self.assertRaisesRegex(ValueError, "line breaks"):
            Client("127.0.0.1:1", token="a\nb")
        with Client("127.0.0.1:1") as c:
            with self.assertRaisesRegex(TypeError, "list of strings"):
                c.run("demo-ios", "show version")  # type: ignore[arg-type]
            with self.assertRaisesRegex(ValueError, "mode must be"):
                c.run("demo-ios", ["show version"], mode="telnet")

    def test_committed_stubs_match_what_generate_sh_makes_from_proto(self) -> None:
        committed = os.path.join(os.path.dirname(HERE), "warmpool_client", "_gen")
        with tempfile.TemporaryDirectory() as out:
            subprocess.run([os.path.join(os.path.dirname(HERE), "generate.sh"), out], check=True,
                           capture_output=True, timeout=120)
            stale = compare_trees(committed, out)
            protoc = subprocess.run(["protoc", "--version"], capture_output=True, text=True).stdout.strip()
        self.assertEqual(stale, [], f"stubs differ from proto/ ({protoc}): run clients/python/generate.sh and commit")


@contextlib.contextmanager
def cut_reply_server() -> Iterator[str]:
    """The address of test/kit/cut-reply.ts: the one test/python-client.test.ts started
    (WARMPOOL_CUT_REPLY_PORT), else one started here through tap's TS loader."""
    port = os.environ.get("WARMPOOL_CUT_REPLY_PORT")
    if port:
        yield f"127.0.0.1:{port}"
        return
    node = os.environ.get("WARMPOOL_NODE") or "node"
    proc = subprocess.Popen(
        [node, f"--import={TS_LOADER}", os.path.join(ROOT, "test", "kit", "cut-reply.ts")],
        cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line.startswith("PORT "):
            raise RuntimeError(f"test/kit/cut-reply.ts did not start: {line!r}")
        yield f"127.0.0.1:{line.split()[1]}"
    finally:
        proc.kill()
        proc.wait(10)
        if proc.stdout:
            proc.stdout.close()


def compare_trees(a: str, b: str) -> List[str]:
    """Relative paths that differ between two directory trees (missing on either side, or content)."""
    def files(root: str) -> set:
        return {os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs
                if not f.endswith(".pyc")}
    fa, fb = files(a), files(b)
    diff = sorted(fa ^ fb)
    diff += [p for p in sorted(fa & fb) if not filecmp.cmp(os.path.join(a, p), os.path.join(b, p), shallow=False)]
    return diff


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- a scripted stand-in for the daemon -------------------------------------------------------

class ScriptedProxy(device_proxy_pb2_grpc.DeviceProxyServicer, inventory_pb2_grpc.InventoryServicer):
    """Records each call's metadata; answers from `script`, a list of (status, error_code, message)
    consumed one per call (None: succeed)."""

    def __init__(self) -> None:
        self.calls: List[Tuple[str, dict]] = []
        self.script: List[Optional[Tuple[grpc.StatusCode, Optional[str], str]]] = []
        self.lock = threading.Lock()

    def _record(self, name: str, context: grpc.ServicerContext) -> None:
        with self.lock:
            self.calls.append((name, dict(context.invocation_metadata())))
            step = self.script.pop(0) if self.script else None
        if step is not None:
            code, error_code, message = step
            if error_code:
                context.set_trailing_metadata((("warmpool-error-code", error_code),))
            context.abort(code, message)

    def Run(self, request, context):
        self._record("Run", context)
        return device_proxy_pb2.RunResponse(device=request.device)

    def RunStream(self, request, context):
        yield device_proxy_pb2.RunEvent(session=pb.SessionInfo(id="s/1"))
        self._record("RunStream", context)
        yield device_proxy_pb2.RunEvent(result=pb.CommandResult(command=request.commands[0]))

    def RunMany(self, request, context):
        self._record("RunMany", context)
        yield device_proxy_pb2.DeviceRunResult(device="a", response=device_proxy_pb2.RunResponse(device="a"))

    def Http(self, request, context):
        self._record("Http", context)
        return device_proxy_pb2.HttpResponse(status=204)

    def GetDevice(self, request, context):
        self._record("GetDevice", context)
        return inventory_pb2.Device(id=request.id)

    def ListDevices(self, request, context):
        self._record("ListDevices", context)
        # One device per label selector, so a fan-out by labels has something to find.
        devices = [inventory_pb2.Device(id="lab1")] if request.labels else []
        return inventory_pb2.ListDevicesResponse(devices=devices)


class AgainstAScriptedServer(unittest.TestCase):
    def setUp(self) -> None:
        self.fake = ScriptedProxy()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        device_proxy_pb2_grpc.add_DeviceProxyServicer_to_server(self.fake, self.server)
        inventory_pb2_grpc.add_InventoryServicer_to_server(self.fake, self.server)
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.sleeps: List[float] = []
        self.client = Client(f"127.0.0.1:{port}", token="tok-123", timeout=20, _sleep=self.sleeps.append,
                             _backoff=Backoff(base=0.1, rand=lambda: 1.0))

    def tearDown(self) -> None:
        self.client.close()
        self.server.stop(None)

    def test_single_device_calls_carry_the_device_header_and_every_call_the_token(self) -> None:
        c = self.client
        c.run("core-sw1", ["show version"])
        list(c.run_stream("core-sw2", ["show clock"]))
        c.http("leaf1", "GET", "/x")
        c.get_device("leaf2")
        list(c.run_many(["show version"], labels={"site": "fra1"}))
        c.devices()
        seen = {name: md.get(DEVICE_HEADER) for name, md in self.fake.calls}
        self.assertEqual(seen, {"Run": "core-sw1", "RunStream": "core-sw2", "Http": "leaf1", "GetDevice": "leaf2",
                                "RunMany": None, "ListDevices": None})
        self.assertEqual({md.get("authorization") for _, md in self.fake.calls}, {"Bearer tok-123"})

    def test_unavailable_before_the_device_was_reached_is_retried(self) -> None:
        for error_code, message in (
            ("CIRCUIT_OPEN", "core-sw1: circuit open until 2026-01-01T00:00:00.000Z; last error: refused"),
            ("CONNECT_REFUSED", "device core-sw1: connection to 10.0.0.1:22 refused"),
            ("DRAINING", "warmpool is shutting down and accepts no new calls; retry on another instance"),
        ):
            with self.subTest(error_code=error_code):
                self.fake.calls.clear()
                self.fake.script[:] = [(grpc.StatusCode.UNAVAILABLE, error_code, message)]
                self.assertEqual(self.client.run("core-sw1", ["show version"]).device, "core-sw1")
                self.assertEqual(len(self.fake.calls), 2)

    def test_failures_after_the_command_may_have_been_sent_are_not_retried(self) -> None:
        for code, error_code, message in (
            (grpc.StatusCode.UNAVAILABLE, "CONNECTION_LOST", "device core-sw1: connection lost while running command 0"),
            (grpc.StatusCode.UNAVAILABLE, "SHUTDOWN", "warmpool is shutting down; the grace period is over"),
            (grpc.StatusCode.UNAVAILABLE, "CHANNEL_OPEN_FAILED", "device core-sw1: channel open refused"),
            (grpc.StatusCode.DEADLINE_EXCEEDED, "COMMAND_TIMEOUT", "device core-sw1: command timed out"),
            (grpc.StatusCode.RESOURCE_EXHAUSTED, "QUEUE_FULL", "core-sw1 (ssh): wait queue is full"),
        ):
            with self.subTest(error_code=error_code):
                self.fake.calls.clear()
                self.fake.script[:] = [(code, error_code, message)]
                with self.assertRaises(errors.WarmpoolError) as cm:
                    self.client.run("core-sw1", ["show version"])
                self.assertEqual(len(self.fake.calls), 1)
                self.assertEqual((cm.exception.code, cm.exception.error_code), (code, error_code))
                self.fake.script.clear()

    def test_a_stream_that_already_delivered_a_message_is_not_retried(self) -> None:
        self.fake.script[:] = [(grpc.StatusCode.UNAVAILABLE, "CIRCUIT_OPEN", "core-sw1: circuit open")]
        got = []
        with self.assertRaises(errors.Unavailable):
            for ev in self.client.run_stream("core-sw1", ["show version"]):
                got.append(ev.WhichOneof("event"))
        self.assertEqual(got, ["session"])
        self.assertEqual(len(self.fake.calls), 1)

    def test_retries_stop_after_the_configured_count(self) -> None:
        self.fake.script[:] = [(grpc.StatusCode.UNAVAILABLE, "CIRCUIT_OPEN", "core-sw1: circuit open")] * 5
        with self.assertRaises(errors.Unavailable):
            self.client.run("core-sw1", ["show version"])
        self.assertEqual(len(self.fake.calls), 3, "one call plus retries=2")
        self.assertEqual(self.sleeps, [0.1, 0.2], "exponential back-off (jitter factor pinned to 1)")


    def test_run_many_refused_by_the_balancer_runs_one_run_per_device(self) -> None:
        refusal = (grpc.StatusCode.FAILED_PRECONDITION, "RUN_MANY_AT_BALANCER",
                   "RunMany is refused by the load balancer: call Run once per device")
        lost = (grpc.StatusCode.UNAVAILABLE, "CONNECTION_LOST", "device b: connection lost while running command 0")
        # concurrency=1: the calls come in order (RunMany, ListDevices, then a Run per device), so
        # the script's steps meet the calls named here.
        self.fake.script[:] = [refusal, None, None, lost, None, None]
        got = list(self.client.run_many(["show version"], devices=["a", "b", "c"], labels={"site": "fra1"}, concurrency=1))
        self.assertEqual([r.device for r in got], ["a", "b", "c", "lab1"], "named devices, then the label's, once each")
        self.assertEqual([r.WhichOneof("outcome") for r in got], ["response", "error", "response", "response"])
        self.assertEqual(got[1].error.code, grpc.StatusCode.UNAVAILABLE.value[0], "a device's failure is its result")
        self.assertIn("connection lost", got[1].error.message)
        runs = [md.get(DEVICE_HEADER) for name, md in self.fake.calls if name == "Run"]
        self.assertEqual(runs, ["a", "b", "c", "lab1"], "one Run per device, each with its own header")
        self.assertEqual([name for name, _ in self.fake.calls][:2], ["RunMany", "ListDevices"])

    def test_other_run_many_refusals_are_raised(self) -> None:
        self.fake.script[:] = [(grpc.StatusCode.FAILED_PRECONDITION, "SOMETHING_ELSE", "not the balancer")]
        with self.assertRaises(errors.FailedPrecondition):
            list(self.client.run_many(["show version"], devices=["a"]))
        self.assertEqual([name for name, _ in self.fake.calls], ["RunMany"], "no fan-out for another refusal")


class DeviceInMessages(unittest.TestCase):
    def test_the_device_is_read_from_the_daemons_message_forms(self) -> None:
        self.assertEqual(errors.device_from_message('device "core-sw1" is not in the inventory'), "core-sw1")
        self.assertEqual(errors.device_from_message("device leaf-1.fra: connection closed"), "leaf-1.fra")
        self.assertEqual(errors.device_from_message("mx1 (ssh): pool is closed"), "mx1")
        self.assertIsNone(errors.device_from_message("no device matches the label selector site=x"))


if __name__ == "__main__":
    unittest.main()
