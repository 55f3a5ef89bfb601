#!/usr/bin/env python3
"""Load test of `logtest serve` on its Unix socket (loopback only, no network).

    scripts/load-test.py [--sessions 64] [--events 10000] [--churn 1000] [--bin target/release/logtest]

1. Starts `logtest serve` on a temporary socket with the full upstream ruleset
   (../shared/wazuh-4.14.7) and --max-sessions above --sessions.
2. Runs --sessions clients at once, each with its own session, each sending --events sshd
   events that carry the client and sequence numbers; every reply must carry the client's own
   token and its own event back (`output.full_log`): nothing lost, nothing mixed.
3. Creates --churn sessions against a server with --session-timeout 2 and checks that they
   expire (an early token is answered with (7003) afterwards) and that memory stays bounded.

Prints requests/s, p50/p99 latency and the server's peak memory (VmHWM).
"""
import argparse
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def ask(path, params):
    payload = json.dumps({"version": 1, "origin": {"name": "load-test", "module": "load-test"},
                          "command": "log_processing", "parameters": params}).encode()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(struct.pack("<I", len(payload)) + payload)
    size = struct.unpack("<I", s.recv(4, socket.MSG_WAITALL))[0]
    data = s.recv(size, socket.MSG_WAITALL)
    s.close()
    return json.loads(data)


def start(binary, home, sock, *extra):
    p = subprocess.Popen([binary, "serve", "--socket", sock, "--home", home, "--threads", "4", *extra],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(sock):
            return p
        time.sleep(0.05)
    raise SystemExit("logtest serve did not start")


def peak_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, default=64)
    ap.add_argument("--events", type=int, default=10000)
    ap.add_argument("--churn", type=int, default=1000)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/logtest"))
    ap.add_argument("--home", default=os.path.join(ROOT, "..", "shared", "wazuh-4.14.7"))
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="logtest-load-")

    # 1-2: concurrent sessions.
    sock = os.path.join(tmp, "logtest")
    server = start(a.bin, a.home, sock, "--max-sessions", str(a.sessions + 16))
    latencies = [[] for _ in range(a.sessions)]
    errors = []

    def client(i):
        token = None
        for n in range(a.events):
            event = f"Nov 27 23:30:00 host{i} sshd[{n}]: Failed password for invalid user u{i} from 10.0.{i % 250}.{n % 250} port {n} ssh2"
            params = {"location": f"client-{i}", "log_format": "syslog", "event": event}
            if token:
                params["token"] = token
            t0 = time.perf_counter()
            try:
                r = ask(sock, params)
            except Exception as e:  # a lost reply
                errors.append(f"client {i} event {n}: {e}")
                return
            latencies[i].append(time.perf_counter() - t0)
            data = r.get("data", {})
            if token is None:
                token = data.get("token")
            if r.get("error") != 0 or data.get("token") != token or data.get("output", {}).get("full_log") != event:
                errors.append(f"client {i} event {n}: wrong reply {json.dumps(r)[:300]}")
                return

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(a.sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.perf_counter() - t0
    peak = peak_kib(server.pid)
    server.terminate()
    server.wait()
    lat = sorted(x for l in latencies for x in l)
    n = len(lat)
    print(f"{a.sessions} sessions x {a.events} events: {n} requests in {secs:.1f} s = {n / secs:.0f} requests/s; "
          f"latency p50 {1000 * lat[n // 2]:.2f} ms, p99 {1000 * lat[min(n - 1, n * 99 // 100)]:.2f} ms; "
          f"server peak memory {peak / 1024:.0f} MB; {len(errors)} lost or mixed replies")
    for e in errors[:10]:
        print("  " + e)

    # 3: session churn and expiry.
    sock2 = os.path.join(tmp, "logtest2")
    server = start(a.bin, a.home, sock2, "--max-sessions", str(a.churn + 16), "--session-timeout", "2")
    t0 = time.perf_counter()
    tokens = []
    for i in range(a.churn):
        r = ask(sock2, {"location": "churn", "log_format": "syslog", "event": f"churn {i}"})
        tokens.append(r["data"]["token"])
    made = time.perf_counter() - t0
    peak_made = peak_kib(server.pid)
    time.sleep(5)
    r = ask(sock2, {"location": "churn", "log_format": "syslog", "event": "after", "token": tokens[0]})
    expired = any("(7003)" in m for m in r["data"].get("messages", []))
    peak_after = peak_kib(server.pid)
    server.terminate()
    server.wait()
    print(f"{a.churn} sessions created in {made:.2f} s ({a.churn / made:.0f}/s), peak memory {peak_made / 1024:.0f} MB; "
          f"after the 2 s timeout the first token {'expired (7003)' if expired else 'was STILL LIVE'}; "
          f"peak memory afterwards {peak_after / 1024:.0f} MB")
    sys.exit(1 if errors or not expired else 0)


if __name__ == "__main__":
    main()
