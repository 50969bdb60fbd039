"""Starts the real gateway on loopback, replaying a candump log, for clients we did not write:
curl, the `websockets` package and the official MCP Python SDK."""
import os
import pathlib
import re
import signal
import subprocess
import threading
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEMO_LOG = ROOT / "DBC" / "demo_drive.log"
DEMO_MAPPING = ROOT / "DBC" / "demo_mapping.yaml"
BINARY = os.environ.get("VG_BIN", str(ROOT / ".build" / "debug" / "vehicle-gateway"))


class Gateway:
    def __init__(self, *args):
        args = list(map(str, args))
        grpc = "--grpc-listen" not in args
        if grpc:  # any free port, so gateways never fight over KUKSA's 55555
            args = ["--grpc-listen", "127.0.0.1:0", *args]
        elif args[args.index("--grpc-listen") + 1] != "none":
            grpc = True
        self.args = [BINARY, "run", "--listen", "127.0.0.1:0", "--quiet", *args]
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stderr = []
        self.port = None
        self.grpc_port = None
        self.token = None
        ready = threading.Event()

        def pump():
            for line in self.proc.stderr:
                self.stderr.append(line)
                m = re.search(r"API on https?://[^:]+:(\d+)", line)
                if m:
                    self.port = int(m.group(1))
                m = re.search(r"gRPC \(kuksa.val.v2\) on grpcs?://\S+:(\d+)", line)
                if m:
                    self.grpc_port = int(m.group(1))
                if self.port and (self.grpc_port or not grpc):
                    ready.set()
                m = re.search(r"generated API token .*: ([0-9a-f]+)", line)
                if m:
                    self.token = m.group(1)
            ready.set()

        threading.Thread(target=pump, daemon=True).start()
        assert ready.wait(60), "gateway did not start"
        assert self.port, "gateway exited:\n" + "".join(self.stderr)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.port}/"

    def curl(self, path, *extra, check=True):
        """curl's body and status code."""
        p = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}", *extra, self.url + path],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0 or not check, p.stderr
        body, _, code = p.stdout.rpartition("\n")
        return body, int(code)

    def rss_kib(self):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture
def gateway_factory():
    started = []

    def start(*args):
        g = Gateway(*args)
        started.append(g)
        return g

    yield start
    for g in started:
        g.stop()


@pytest.fixture(scope="module")
def gateway():
    """The demo drive at 4x, looping: every part of the context is live within a second."""
    g = Gateway("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--speed", 4, "--loop", 0)
    time.sleep(1.0)
    yield g
    assert g.stop() == 0, "".join(g.stderr)


def wait_for(predicate, timeout=15, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        v = predicate()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("condition not met in time")
