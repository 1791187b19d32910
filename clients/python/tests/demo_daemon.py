"""Start `warmpool demo` (the real daemon plus simulated devices) for the client tests.

Which daemon code runs: the built dist/src/main.js when it is at least as new as every file
under src/ (CI builds before testing; starting from JavaScript is several times faster), else
the TypeScript sources through tap's TS loader, as test/demo.test.ts runs them, so no build is
needed. WARMPOOL_DEMO_FROM=src|dist forces one. WARMPOOL_NODE names the node binary (the tap
test passes its own), else `node` on PATH.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from typing import List, Optional

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
TS_LOADER = os.path.join(ROOT, "node_modules", "@tapjs", "typescript", "dist", "esm", "import.mjs")
DIST_MAIN = os.path.join(ROOT, "dist", "src", "main.js")


def _dist_is_fresh() -> bool:
    if not os.path.exists(DIST_MAIN):
        return False
    built = os.path.getmtime(DIST_MAIN)
    for d, _, files in os.walk(os.path.join(ROOT, "src")):
        for f in files:
            if os.path.getmtime(os.path.join(d, f)) > built:
                return False
    return True


def warmpool_command() -> List[str]:
    node = os.environ.get("WARMPOOL_NODE") or shutil.which("node")
    if not node:
        raise RuntimeError("node not found: set WARMPOOL_NODE or put node on PATH")
    source = os.environ.get("WARMPOOL_DEMO_FROM") or ("dist" if _dist_is_fresh() else "src")
    if source == "dist":
        if not os.path.exists(DIST_MAIN):
            raise RuntimeError(f"{DIST_MAIN} does not exist: run npm run build")
        return [node, DIST_MAIN]
    if not os.path.exists(TS_LOADER):
        raise RuntimeError(f"{TS_LOADER} does not exist: run npm ci (or build dist/ and set WARMPOOL_DEMO_FROM=dist)")
    return [node, f"--import={TS_LOADER}", os.path.join(ROOT, "src", "main.ts")]


class DemoDaemon:
    """`warmpool demo` on loopback port 0; `address` is the gRPC address it printed."""

    def __init__(self, *flags: str, start_timeout: float = 90.0) -> None:
        argv = warmpool_command() + [
            "demo", "--grpc.listen", "127.0.0.1:0", "--metrics.listen", "127.0.0.1:0", *flags,
        ]
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        self._out: List[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.address = self._wait_for_address(start_timeout)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in iter(self.proc.stdout.readline, b""):
            self._out.append(line.decode("utf-8", "replace"))

    def output(self) -> str:
        return "".join(self._out)

    def _wait_for_address(self, timeout: float) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            out = self.output()
            m = re.search(r"gRPC on (\S+), metrics", out)
            if m and "Ctrl-C to stop" in out:
                return m.group(1)
            if self.proc.poll() is not None:
                raise RuntimeError(f"warmpool demo exited with {self.proc.returncode}:\n{out}")
            time.sleep(0.05)
        self.proc.kill()
        raise RuntimeError(f"warmpool demo did not start within {timeout} s:\n{self.output()}")

    def stop(self, timeout: float = 30.0) -> Optional[int]:
        """SIGTERM (the daemon drains and exits 0); SIGKILL if it has not exited in `timeout`."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._reader.join(5)
        return self.proc.returncode
