#!/usr/bin/python3
"""
Netmiko side of bench/peers.ts: one long-lived process that holds one Netmiko connection per
settings variant and runs one timed operation per request, so the benchmark can interleave
Netmiko's calls with warmpool's and time each call where a Python caller would (around the
library call, not around this process's pipe).

Protocol (one JSON object per line each way):
  stdin : {"op": "open"|"held"|"timing"|"cold"|"close", "variant": "defaults"|"fast_cli"|"tuned"}
  stdout: {"ok": true, "ms": <wall ms>, "cpu_ms": <this process's CPU ms>, "bytes": <int>}
          or {"ok": false, "error": "<text>"}

Op "warmpool" is the same command through warmpool's own Python client (clients/python,
Client.run over gRPC to the benchmark's daemon, given as --warmpool HOST:PORT): the same caller
language and clock as the Netmiko ops, for the like-for-like comparison.

Variants (all `device_type="cisco_ios"`, `send_command` unless the op says otherwise):
  defaults  Netmiko's defaults (global_delay_factor 1; send_command finds the prompt each call).
  fast_cli  fast_cli=True, Netmiko's documented speed switch (sets global_delay_factor 0.1).
  tuned     fast_cli=True and send_command(expect_string=<prompt>), so no prompt probe (an extra
            round trip and a sleep) precedes each command: the fastest documented setting that
            holds up when the device is slow to answer.
  floor     tuned with global_delay_factor=0.01 (Netmiko polls every 2 ms): Netmiko's floor on
            loopback, held connections only. Not a setting for real devices: find_prompt then gives
            up after ~11 ms, so connecting fails whenever the device (or a loaded machine) answers
            slower, and the open is retried here; 0.001 returned mangled output.

Run under Debian's /usr/bin/python3 (python3-netmiko).
"""
import json
import os
import re
import sys
import time

from netmiko import ConnectHandler

COMMAND = "show version"
# The first and last lines of the simulator's `show version`: the whole output, nothing cut.
MUST_HAVE = ("Cisco IOS XE Software", "Configuration register is 0x2102")

VARIANTS = {
    "defaults": {},
    "fast_cli": {"fast_cli": True},
    "tuned": {"fast_cli": True},
    "floor": {"fast_cli": True, "global_delay_factor": 0.01},
}
EXPECT_PROMPT = ("tuned", "floor")


def main():
    host, port, username, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    # Netmiko 2.4.2's disconnect() first checks for config mode by waiting for a "#" prompt; at a
    # user-level ">" prompt that never comes and the wait runs ~8 s. By default cold calls close as
    # disconnect() does minus that check ("exit", then close the SSH transport); --full-disconnect
    # calls disconnect() itself.
    rest = sys.argv[5:]
    full_disconnect = "--full-disconnect" in rest
    held = {}
    warmpool = None
    if "--warmpool" in rest:
        # The client package from this checkout (clients/python), not an installed one.
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
        from warmpool_client import Client

        warmpool = Client(rest[rest.index("--warmpool") + 1], tls=False)

    def warmpool_run():
        r = warmpool.run("r1", [COMMAND])
        out = r.results[0].output
        if r.results[0].failed:
            raise RuntimeError("warmpool Run failed: %s" % r.results[0].error)
        for s in MUST_HAVE:
            if s not in out:
                raise RuntimeError("incomplete warmpool output (%d bytes, missing %r)" % (len(out), s))
        return len(out)

    def connect(variant):
        return ConnectHandler(device_type="cisco_ios", host=host, port=port, username=username,
                              password=password, **VARIANTS[variant])

    def command(conn, variant, timing=False):
        if timing:
            out = conn.send_command_timing(COMMAND)
        elif variant in EXPECT_PROMPT:
            out = conn.send_command(COMMAND, expect_string=re.escape(conn.base_prompt) + r"[>#]")
        else:
            out = conn.send_command(COMMAND)
        for s in MUST_HAVE:
            if s not in out:
                raise RuntimeError("incomplete output (%d bytes, missing %r): %r" % (len(out), s, out[-200:]))
        return len(out)

    def close(conn):
        if full_disconnect:
            conn.disconnect()
        else:
            conn.write_channel("exit" + conn.RETURN)
            conn.paramiko_cleanup()

    for line in sys.stdin:
        req = json.loads(line)
        op, variant = req["op"], req.get("variant", "")
        try:
            if variant and variant not in VARIANTS and op != "warmpool":
                raise ValueError("unknown variant %r" % variant)
            t0, c0 = time.perf_counter(), time.process_time()
            n = 0
            attempts = 1
            if op == "open":
                for attempt in range(5):
                    attempts = attempt + 1
                    try:
                        held[variant] = connect(variant)
                        break
                    except Exception:
                        if variant != "floor" or attempt == 4:
                            raise
            elif op == "held":
                n = command(held[variant], variant)
            elif op == "timing":
                n = command(held[variant], variant, timing=True)
            elif op == "cold":
                conn = connect(variant)
                n = command(conn, variant)
                close(conn)
            elif op == "warmpool":
                n = warmpool_run()
            elif op == "close":
                for conn in held.values():
                    close(conn)
                held.clear()
                if warmpool is not None:
                    warmpool.close()
                    warmpool = None
            else:
                raise ValueError("unknown op %r" % op)
            ms = (time.perf_counter() - t0) * 1000
            # process_time counts every thread (paramiko's transport thread too).
            reply = {"ok": True, "ms": ms, "cpu_ms": (time.process_time() - c0) * 1000, "bytes": n,
                     "attempts": attempts}
        except Exception as e:  # reported to the benchmark, which fails loudly
            reply = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
