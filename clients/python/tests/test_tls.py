"""warmpool_client over TLS and mTLS, against `warmpool demo` serving gRPC with a throw-away PKI
(made with the system openssl, EC P-256) and requiring client certificates signed by its CA."""
from __future__ import annotations

import itertools
import os
import subprocess
import sys
import tempfile
import unittest
from typing import List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from warmpool_client import Client, errors  # noqa: E402
from demo_daemon import DemoDaemon  # noqa: E402

_daemon: Optional[DemoDaemon] = None
_serials = itertools.count(1000)
_tmp: Optional[tempfile.TemporaryDirectory] = None


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def issue(dir: str, ca: str, name: str, cn: str, usage: str, sans: List[str]) -> None:
    """<name>.key (PKCS#8) and <name>.pem signed by <ca>.pem/<ca>.key."""
    key, csr, ext = (os.path.join(dir, f"{name}.{x}") for x in ("key", "csr", "ext"))
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key + ".sec1")
    openssl("pkcs8", "-topk8", "-nocrypt", "-in", key + ".sec1", "-out", key)
    openssl("req", "-new", "-key", key, "-subj", f"/CN={cn}", "-out", csr)
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                f"extendedKeyUsage={usage}\n" + (f"subjectAltName={','.join(sans)}\n" if sans else ""))
    openssl("x509", "-req", "-in", csr, "-CA", os.path.join(dir, f"{ca}.pem"), "-CAkey", os.path.join(dir, f"{ca}.key"),
            "-set_serial", str(next(_serials)), "-days", "2", "-sha256", "-extfile", ext,
            "-out", os.path.join(dir, f"{name}.pem"))


def make_ca(dir: str, name: str) -> None:
    key = os.path.join(dir, f"{name}.key")
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
    openssl("req", "-x509", "-new", "-key", key, "-sha256", "-days", "2", "-subj", f"/CN={name}",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-out", os.path.join(dir, f"{name}.pem"))


def pki(name: str) -> str:
    assert _tmp is not None
    return os.path.join(_tmp.name, name)


def setUpModule() -> None:
    global _daemon, _tmp
    _tmp = tempfile.TemporaryDirectory(prefix="warmpool-pyclient-tls-")
    d = _tmp.name
    make_ca(d, "ca")
    make_ca(d, "other-ca")
    issue(d, "ca", "server", "localhost", "serverAuth", ["DNS:localhost", "IP:127.0.0.1"])
    issue(d, "ca", "client", "py-client", "clientAuth", [])
    issue(d, "other-ca", "stranger", "stranger", "clientAuth", [])
    _daemon = DemoDaemon("--grpc.tls.certFile", pki("server.pem"), "--grpc.tls.keyFile", pki("server.key"),
                         "--grpc.tls.clientCaFile", pki("ca.pem"))


def tearDownModule() -> None:
    code = _daemon.stop() if _daemon else None
    if _tmp:
        _tmp.cleanup()
    if code != 0:
        raise AssertionError(f"warmpool demo (TLS) exited with {code} after SIGTERM:\n{_daemon.output() if _daemon else ''}")


class OverTls(unittest.TestCase):
    def test_mtls_with_the_client_certificate_runs_commands(self) -> None:
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

    def test_without_a_client_certificate_or_with_a_foreign_one_the_call_fails(self) -> None:
        assert _daemon is not None
        for kw in ({}, {"private_key": pki("stranger.key"), "certificate_chain": pki("stranger.pem")}):
            with self.subTest(client_cert=bool(kw)):
                with Client(_daemon.address, root_certificates=pki("ca.pem"), timeout=30, retries=0, **kw) as c:
                    # The TLS handshake refuses it, before any gRPC exchange.
                    with self.assertRaises(errors.Unavailable) as cm:
                        c.run("demo-ios", ["show version"])
                    self.assertIsNone(cm.exception.error_code)

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


if __name__ == "__main__":
    unittest.main()
