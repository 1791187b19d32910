"""
Ansible side of bench/peers.ts: times every task of the play from its start to its result, in the
controller (time.perf_counter), and writes them as JSON to $PEERS_TIMING_FILE when the play ends:
  {"tasks": [{"name": ..., "ms": ..., "ok": true|false, "error": ...}], "playbook_ms": ...}
A task's time includes everything Ansible does for it: forking the worker, starting
ansible-connection (which attaches to the persistent connection when one is open), the module and
the device round trip. A task that ran a command must return the whole `show version` output, or it
is marked not ok.
"""
import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: peers_timing
    type: aggregate
    short_description: per-task wall times for bench/peers.ts
    description: Writes per-task wall times to the file named by PEERS_TIMING_FILE.
    requirements:
      - enabled via callbacks_enabled
"""

MUST_HAVE = ("Cisco IOS XE Software", "Configuration register is 0x2102")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "peers_timing"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._t0 = time.perf_counter()
        self._tasks = []
        self._current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._current = {"name": task.get_name(), "start": time.perf_counter()}

    def _finish(self, result, ok, error=""):
        cur = self._current
        if cur is None:
            return
        self._current = None
        ms = (time.perf_counter() - cur["start"]) * 1000
        if ok and cur["name"].startswith(("held", "reconnect", "cold", "warm-up")):
            out = result._result.get("stdout") or [""]
            text = out[0] if isinstance(out, list) else str(out)
            missing = [s for s in MUST_HAVE if s not in text]
            if missing:
                ok, error = False, "incomplete output (%d bytes, missing %r)" % (len(text), missing[0])
        self._tasks.append({"name": cur["name"], "ms": ms, "ok": ok, "error": error})

    def v2_runner_on_ok(self, result):
        self._finish(result, True)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._finish(result, False, str(result._result.get("msg", "failed")))

    def v2_runner_on_unreachable(self, result):
        self._finish(result, False, str(result._result.get("msg", "unreachable")))

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("PEERS_TIMING_FILE")
        if not path:
            return
        with open(path, "w") as f:
            json.dump({"tasks": self._tasks, "playbook_ms": (time.perf_counter() - self._t0) * 1000}, f)
