"""What a deployment on an ECU needs to know, measured on this machine:
binary size, time from start to the first published context, resident memory idle and while
replaying four buses at full load, CPU per 10 k frames/s. Reference in the same run: cantools
decoding the same frames (CPU per 10 k frames) and its resident memory.

Usage: python deploy_figures.py BINARY [STATIC_BINARY]
  BINARY: the one measured, e.g. dist/vehicle-gateway (scripts/build-static.sh) as deployed.
"""
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEMO_LOG = ROOT / "DBC" / "demo_drive.log"
DEMO_MAPPING = ROOT / "DBC" / "demo_mapping.yaml"
TICK = os.sysconf("SC_CLK_TCK")


def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def start(binary, *args, stdin=None):
    p = subprocess.Popen([binary, "run", "--listen", "127.0.0.1:0", "--grpc-listen", "none", "--quiet", *map(str, args)],
                         stdin=stdin, stderr=subprocess.PIPE, text=True)
    for line in p.stderr:
        m = re.search(r"API on http://[^:]+:(\d+)", line)
        if m:
            return p, int(m.group(1))
    raise RuntimeError("gateway did not start")


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        return json.loads(e.read())


def stop(p):
    p.terminate()
    p.wait(10)


def time_to_first_context(binary):
    """Process start → /v1/context with a fresh speed (the demo drive in real time)."""
    best = []
    for _ in range(5):
        t0 = time.perf_counter()
        p = subprocess.Popen([binary, "run", "--listen", "127.0.0.1:0", "--grpc-listen", "none", "--quiet", "--replay", DEMO_LOG, "--mapping", DEMO_MAPPING],
                             stderr=subprocess.PIPE, text=True)
        port = None
        for line in p.stderr:
            m = re.search(r"API on http://[^:]+:(\d+)", line)
            if m:
                port = int(m.group(1))
                break
        while True:
            try:
                if get(port, "/v1/context")["speed"]["state"] == "fresh":
                    break
            except OSError:
                pass
            time.sleep(0.001)
        best.append(time.perf_counter() - t0)
        stop(p)
    return min(best), sorted(best)[len(best) // 2]


def four_bus_setup(tmp):
    """A mapping with four buses (vcan0..3, each the demo DBC) and a log per bus."""
    text = DEMO_MAPPING.read_text()
    head, signals = text.split("\nsignals:\n", 1)
    dbc = str(ROOT / "DBC" / "demo_vehicle.dbc")
    out = ["stale_factor: 3", "min_timeout_ms: 250", "buses:"]
    for k in range(4):
        out += [f"  bus{k}:", f"    dbc: [{dbc}]", f"    interface: vcan{k}"]
    out.append("signals:")
    for k in range(4):
        block = signals.replace("powertrain/", f"bus{k}/")
        if k:
            block = re.sub(r"^  (Vehicle\.[\w.]+):\n", lambda m: f"  Vehicle.Private.Bus{k}.{m.group(1)[8:]}:\n    custom: true\n", block, flags=re.M)
        out.append(block.rstrip("\n"))
    mapping = tmp / "four_buses.yaml"
    mapping.write_text("\n".join(out) + "\n")
    logs = []
    lines = DEMO_LOG.read_text()
    for k in range(4):
        log = tmp / f"bus{k}.log"
        log.write_text(lines.replace(" vcan0 ", f" vcan{k} "))
        logs.append(log)
    return mapping, logs


def main():
    binary = sys.argv[1]
    static = sys.argv[2] if len(sys.argv) > 2 else None
    dynamic = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True).stdout
    needs = re.findall(r"\(NEEDED\).*\[(.*)\]", dynamic)
    print(f"binary size: {os.path.getsize(binary) / 2**20:.1f} MiB ({binary}); needs {', '.join(needs)}")
    if static and os.path.exists(static):
        subprocess.run(["strip", "-o", "/tmp/vg-static-stripped", static], check=True)
        libs = subprocess.run(["ldd", static], capture_output=True, text=True).stdout
        needed = sorted({l.split()[0] for l in libs.splitlines() if "=>" in l or l.strip().startswith("/")})
        print(f"static-stdlib binary: {os.path.getsize(static) / 2**20:.1f} MiB, stripped {os.path.getsize('/tmp/vg-static-stripped') / 2**20:.1f} MiB; needs {', '.join(needed)}")

    fastest, median = time_to_first_context(binary)
    print(f"start → first fresh driving context on the API: best {fastest * 1e3:.0f} ms, median {median * 1e3:.0f} ms (5 starts)")

    p, port = start(binary, "--replay", "-", "--mapping", DEMO_MAPPING, stdin=subprocess.PIPE)
    time.sleep(2)
    print(f"resident memory idle (API up, no traffic): {rss_mib(p.pid):.1f} MiB")
    stop(p)

    with tempfile.TemporaryDirectory() as d:
        mapping, logs = four_bus_setup(pathlib.Path(d))
        args = ["--mapping", mapping] + [x for log in logs for x in ("--replay", log)]
        # Full load: four buses as fast as the gateway goes.
        p, port = start(binary, *args, "--fast", "--loop", "0")
        time.sleep(1)
        f0, c0, t0 = sum(b["frames"] for b in get(port, "/healthz")["buses"]), cpu_seconds(p.pid), time.perf_counter()
        peak = 0
        while time.perf_counter() - t0 < 8:
            peak = max(peak, rss_mib(p.pid))
            time.sleep(0.2)
        f1, c1, t1 = sum(b["frames"] for b in get(port, "/healthz")["buses"]), cpu_seconds(p.pid), time.perf_counter()
        stop(p)
        rate = (f1 - f0) / (t1 - t0)
        print(f"four buses replayed at full load: {rate / 1e6:.2f} M frames/s through decode → VSS → context, "
              f"{(c1 - c0) / (t1 - t0):.2f} cores, resident memory peak {peak:.1f} MiB")
        # Real time, scaled to about 10 k frames/s in all: CPU per 10 k frames/s.
        per_bus = sum(1 for _ in open(logs[0])) / 69.0
        speed = 10_000 / (4 * per_bus)
        p, port = start(binary, *args, "--speed", f"{speed:.3f}", "--loop", "0")
        time.sleep(2)
        f0, c0, t0 = sum(b["frames"] for b in get(port, "/healthz")["buses"]), cpu_seconds(p.pid), time.perf_counter()
        time.sleep(10)
        f1, c1, t1 = sum(b["frames"] for b in get(port, "/healthz")["buses"]), cpu_seconds(p.pid), time.perf_counter()
        rss_10k = rss_mib(p.pid)
        stop(p)
        rate = (f1 - f0) / (t1 - t0)
        ours = (c1 - c0) / (t1 - t0) * 10_000 / rate
        print(f"four buses in real time at {rate:,.0f} frames/s: {ours * 100:.1f} % of a core per 10 k frames/s, resident memory {rss_10k:.1f} MiB")

    # Reference: cantools decoding the same demo frames, CPU per 10 k frames.
    ref = subprocess.run([sys.executable, "-c", f"""
import resource, time, cantools, can
db = cantools.database.load_file({str(ROOT / 'DBC' / 'demo_vehicle.dbc')!r})
n = 0
t = time.process_time()
for msg in can.LogReader({str(DEMO_LOG)!r}):
    try:
        db.decode_message(msg.arbitration_id, msg.data)
    except KeyError:
        pass
    n += 1
cpu = time.process_time() - t
print(cpu / n * 10000, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""], capture_output=True, text=True, check=True).stdout.split()
    print(f"REF cantools 45.1.0 + python-can decoding the demo log: {float(ref[0]) * 100:.1f} % of a core per 10 k frames/s "
          f"(decode only, no state, no API), resident memory {float(ref[1]):.1f} MiB")


if __name__ == "__main__":
    main()
