"""Shared pieces of the benchmark scripts: starting the gateway, reading /proc, inputs."""
import json
import os
import pathlib
import re
import subprocess
import threading
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "bench-out"
TICK = os.sysconf("SC_CLK_TCK")
DEMO_MAPPING = ROOT / "DBC" / "demo_mapping.yaml"
CITY_LOG_GZ = ROOT / "DBC" / "demo_city_drive.log.gz"


def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class Gateway:
    """`vehicle-gateway run` on a free loopback port; stderr is drained and kept."""

    def __init__(self, binary, *args, stdin=None):
        # The gRPC API on a free port too (the gateways of one run never fight over KUKSA's 55555).
        self.proc = subprocess.Popen([str(binary), "run", "--listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0", "--quiet", *map(str, args)],
                                     stdin=stdin, stderr=subprocess.PIPE, text=True, bufsize=1)
        self.lines = []
        self.port = None
        self.grpc_port = None
        self.finished = threading.Event()
        ready = threading.Event()

        def pump():
            for line in self.proc.stderr:
                self.lines.append(line)
                m = re.search(r"gRPC \(kuksa.val.v2\) on grpcs?://\S+:(\d+)", line)
                if m:
                    self.grpc_port = int(m.group(1))
                m = re.search(r"API on https?://[^:]+:(\d+)", line)
                if m:
                    self.port = int(m.group(1))
                if self.port and self.grpc_port:
                    ready.set()
                if "replay finished" in line:
                    self.finished.set()
            ready.set()

        threading.Thread(target=pump, daemon=True).start()
        ready.wait(60)
        if not self.port:
            raise RuntimeError("gateway did not start:\n" + "".join(self.lines))

    def get(self, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            return json.loads(e.read())

    def frames(self):
        return sum(b["frames"] for b in self.get("/healthz")["buses"])

    def replay_figures(self):
        """From the log line the gateway writes when a replay ends: (frames, wall s, frame-path CPU s)."""
        for line in self.lines:
            m = re.search(r"(\d+) frames in ([\d.]+) s .*used ([\d.]+) s of CPU", line)
            if m:
                return int(m.group(1)), float(m.group(2)), float(m.group(3))
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def four_bus_inputs(binary):
    """A mapping with four buses (vcan0..3, each the demo car) and a simulated drive per bus
    (seeds 1-4, ten minutes), made once into bench-out/."""
    OUT.mkdir(exist_ok=True)
    mapping = OUT / "four_buses.yaml"
    text = DEMO_MAPPING.read_text()
    head, signals = text.split("\nsignals:\n", 1)
    dbc = str(ROOT / "DBC" / "demo_vehicle.dbc")
    out = ["stale_factor: 3", "min_timeout_ms: 250", "buses:"]
    for k in range(4):
        out += [f"  bus{k}:", f"    dbc: [{dbc}]", f"    interface: vcan{k}"]
    out.append("signals:")
    for k in range(4):
        block = signals.split("\nintegrity:")[0].split("\nplausibility:")[0].split("\ncontext:")[0].replace("powertrain/", f"bus{k}/")
        if k:
            block = re.sub(r"^  (Vehicle\.[\w.]+):\n", lambda m: f"  Vehicle.Private.Bus{k}.{m.group(1)[8:]}:\n    custom: true\n", block, flags=re.M)
        out.append(block.rstrip("\n"))
    mapping.write_text("\n".join(out) + "\n")
    logs = []
    for k in range(4):
        log = OUT / f"bus{k}.log"
        if not log.exists():
            subprocess.run([str(binary), "simulate", "--seed", str(k + 1), "--minutes", "10", "--interface", f"vcan{k}", "-o", str(log)],
                           check=True, capture_output=True)
        logs.append(log)
    return mapping, logs


def city_log():
    """The bundled ten-minute drive, decompressed once."""
    import gzip
    OUT.mkdir(exist_ok=True)
    path = OUT / "city.log"
    if not path.exists() or path.stat().st_mtime < CITY_LOG_GZ.stat().st_mtime:
        path.write_bytes(gzip.decompress(CITY_LOG_GZ.read_bytes()))
    return path
