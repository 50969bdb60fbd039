"""Frame-to-subscriber latency of the assistant API, and delivery to 100 VISS subscribers.

The gateway reads a candump log on standard input (`run --replay - --fast`), so a frame
"enters the gateway" when this script writes its line. Clients we did not write receive the
change: the `websockets` package (VISS v2 subscription) and the official MCP Python SDK
(resource-updated notification for vehicle://context, Streamable HTTP).

Reference, same run: a minimal relay in Python (a line on a pipe → a websockets server pushes
it to the same client library), the floor of the client side of this measurement.

Usage: python latency_bench.py BINARY [--frames N] [--subscribers 100] [--rate 100] [--seconds 10]
"""
import argparse
import asyncio
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import time

import cantools
import websockets
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

ROOT = pathlib.Path(__file__).resolve().parents[2]
DB = cantools.database.load_file(str(ROOT / "DBC" / "demo_vehicle.dbc"))
SPEED = DB.get_message_by_name("VehicleSpeed")


def crc8_j1850(data):
    crc = 0xFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1D) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc ^ 0xFF


SENT = [0]


def frame_line(kmh, counter=None):
    """A VehicleSpeed frame as the demo ABS sends it: the demo mapping checks its rolling
    counter (one sequence over the whole run) and its CRC-8 (SAE J1850) of bytes 0-6 in byte 7."""
    SENT[0] += 1
    values = {s.name: 0 for s in SPEED.signals}
    values.update({"VehicleSpeed": kmh, "VehicleSpeedCounter": SENT[0] % 16})
    data = bytearray(SPEED.encode(values, strict=False))
    data[7] = crc8_j1850(data[:7])
    return f"({time.time():.6f}) vcan0 {SPEED.frame_id:03X}#{data.hex().upper()}\n"


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def summary(name, lat_ms):
    return f"{name:52} p50 {pct(lat_ms, 50):7.3f} ms   p99 {pct(lat_ms, 99):7.3f} ms   max {max(lat_ms):7.3f} ms   (n={len(lat_ms)})"


class Gateway:
    def __init__(self, binary):
        # The demo mapping with its integrity checks, without its plausibility limits: the phases
        # below jump between speeds on purpose, which a real car's speed never does.
        mapping = ROOT / "bench-out" / "latency_mapping.yaml"
        mapping.parent.mkdir(exist_ok=True)
        text = (ROOT / "DBC" / "demo_mapping.yaml").read_text().split("\nplausibility:")[0]
        mapping.write_text(text.replace("[demo_vehicle.dbc]", f"[{ROOT / 'DBC' / 'demo_vehicle.dbc'}]"))
        self.proc = subprocess.Popen([binary, "run", "--replay", "-", "--fast", "--mapping", str(mapping),
                                      "--listen", "127.0.0.1:0", "--grpc-listen", "none", "--quiet"],
                                     stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        for line in self.proc.stderr:
            m = re.search(r"API on http://[^:]+:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                break
        # Keep draining stderr so the gateway never blocks on it.
        asyncio.get_event_loop().run_in_executor(None, lambda: [None for _ in self.proc.stderr])

    def send(self, line):
        self.proc.stdin.write(line)
        self.proc.stdin.flush()

    def rss_mib(self):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

    def stop(self):
        self.proc.stdin.close()
        self.proc.terminate()
        self.proc.wait(10)


async def viss_subscriber(port, path="Vehicle.Speed"):
    ws = await websockets.connect(f"ws://127.0.0.1:{port}/", subprotocols=["VISSv2"], max_size=None)
    await ws.send(json.dumps({"action": "subscribe", "path": path, "requestId": "1"}))
    while True:
        m = json.loads(await ws.recv())
        if m.get("action") == "subscribe":
            return ws


async def viss_latency(gw, frames, gap):
    ws = await viss_subscriber(gw.port)
    arrivals = {}

    async def reader():
        async for raw in ws:
            t = time.perf_counter()
            m = json.loads(raw)
            if m.get("action") == "subscription":
                arrivals.setdefault(m["data"]["dp"]["value"], t)

    task = asyncio.create_task(reader())
    sent = {}
    base = 100.0
    for i in range(frames):
        v = round(base + i * 0.01, 2)
        line = frame_line(v, i)
        sent[f"{v:g}"] = time.perf_counter()
        gw.send(line)
        await asyncio.sleep(gap)
    await asyncio.sleep(0.5)
    task.cancel()
    await ws.close()
    return [(arrivals[k] - t) * 1e3 for k, t in sent.items() if k in arrivals], len(sent)


async def mcp_latency(gw, frames, gap):
    arrivals = []

    async def on_message(message):
        method = getattr(message, "method", None) or getattr(getattr(message, "root", None), "method", None)
        if method == "notifications/resources/updated":
            arrivals.append(time.perf_counter())

    lat = []
    async with streamable_http_client(f"http://127.0.0.1:{gw.port}/mcp") as streams:
        async with ClientSession(streams[0], streams[1], message_handler=on_message) as s:
            await s.initialize()
            await s.subscribe_resource("vehicle://context")
            await asyncio.sleep(0.5)
            arrivals.clear()
            for i in range(frames):
                before = len(arrivals)
                t = time.perf_counter()
                gw.send(frame_line(50 + (i % 2) * 10 + i * 0.01, i))
                deadline = t + gap
                while len(arrivals) == before and time.perf_counter() < deadline:
                    await asyncio.sleep(0.0002)
                if len(arrivals) > before:
                    lat.append((arrivals[before] - t) * 1e3)
                await asyncio.sleep(max(0, deadline - time.perf_counter()))
    return lat, frames


async def fanout(gw, subscribers, rate, seconds):
    """`subscribers` VISS clients, `rate` speed changes a second; every client must end with
    the final value (coalescing may skip intermediate ones, never the latest)."""
    clients = [await viss_subscriber(gw.port) for _ in range(subscribers)]
    last = [None] * subscribers
    counts = [0] * subscribers

    async def reader(i, ws):
        async for raw in ws:
            m = json.loads(raw)
            if m.get("action") == "subscription":
                last[i] = m["data"]["dp"]["value"]
                counts[i] += 1

    tasks = [asyncio.create_task(reader(i, ws)) for i, ws in enumerate(clients)]
    rss = [gw.rss_mib()]
    n = int(rate * seconds)
    t0 = time.perf_counter()
    for i in range(n):
        gw.send(frame_line(round(20 + i * 0.01, 2), i))
        if i % rate == 0:
            rss.append(gw.rss_mib())
        await asyncio.sleep(max(0, t0 + (i + 1) / rate - time.perf_counter()))
    final = f"{round(20 + (n - 1) * 0.01, 2):g}"
    await asyncio.sleep(1.0)
    rss.append(gw.rss_mib())
    for t in tasks:
        t.cancel()
    for ws in clients:
        await ws.close()
    got_final = sum(1 for v in last if v == final)
    return n, got_final, counts, rss


def metrics_histogram(port, name="publish_latency", labels=""):
    """Cumulative (le in ms, count) of vehicle_gateway_<name>_seconds (with `labels`, e.g. 'phase="feed",')."""
    import urllib.request
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
    out = []
    for m in re.finditer(r'^vehicle_gateway_' + name + r'_seconds_bucket\{' + re.escape(labels) + r'le="([^"]+)"\} (\d+)', text, re.M):
        le = m.group(1)
        out.append((le if le == "+Inf" else f"{float(le) * 1000:g}", int(m.group(2))))
    return out


def percentile_ms(cumulative, p):
    """The bucket bound under which p % of the histogram's values lie."""
    total = cumulative[-1][1]
    for le, c in cumulative:
        if total and c >= p / 100 * total:
            return le
    return "+Inf"


async def reference_relay(frames, gap):
    """A Python websockets server pushing what arrives on a pipe: the client stack's floor."""
    r, w = os.pipe()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(r, "rb", 0))
    conns = set()

    async def handler(ws):
        conns.add(ws)
        await ws.wait_closed()

    async def pump():
        while line := await reader.readline():
            for c in list(conns):
                await c.send(json.dumps({"action": "subscription", "data": {"dp": {"value": line.decode().strip()}}}))

    async with websockets.serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        pump_task = asyncio.create_task(pump())
        ws = await websockets.connect(f"ws://127.0.0.1:{port}/")
        await asyncio.sleep(0.2)
        lat = []
        for i in range(frames):
            t = time.perf_counter()
            os.write(w, f"{i}\n".encode())
            m = json.loads(await ws.recv())
            lat.append((time.perf_counter() - t) * 1e3)
            await asyncio.sleep(gap)
        await ws.close()
        pump_task.cancel()
    return lat


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--subscribers", type=int, default=100)
    ap.add_argument("--rate", type=int, default=100)
    ap.add_argument("--seconds", type=int, default=10)
    a = ap.parse_args()
    gw = Gateway(a.binary)
    await asyncio.sleep(0.5)
    try:
        rss_idle = gw.rss_mib()
        viss, sent = await viss_latency(gw, a.frames, 0.01)
        mcp, mcp_sent = await mcp_latency(gw, max(50, a.frames // 10), 0.15)
        viss_only = metrics_histogram(gw.port)
        phases = {p: metrics_histogram(gw.port, "publish_phase", f'phase="{p}",') for p in ("feed", "consumer", "render")}
        n, got_final, counts, rss = await fanout(gw, a.subscribers, a.rate, a.seconds)
    finally:
        gw.stop()
    ref = await reference_relay(a.frames, 0.01)
    print(summary("frame → VISS subscriber (websockets)", viss) + f"  delivered {len(viss)}/{sent}")
    print(summary("frame → MCP resource-updated (MCP Python SDK)", mcp) + f"  delivered {len(mcp)}/{mcp_sent}")
    print(summary("REF python relay: pipe → websockets push", ref))
    print("gateway's own publish latency (frame decoded → change handed to the VISS socket, /metrics histogram, latency phases): "
          + ", ".join(f"≤{le} ms {100 * c / viss_only[-1][1]:.1f} %" for le, c in viss_only[:-1] if float(le) in (0.1, 0.25, 0.5, 1.0)))
    print("  its parts (p50 / p99 bucket bounds, ms): " + ", ".join(
        f"{p} {percentile_ms(h, 50)} / {percentile_ms(h, 99)}" for p, h in phases.items() if h)
        + "  (feed: frame received → the feed thread collected it; consumer: → the VISS connection took it; render: → handed to its socket)")
    print(f"{a.subscribers} VISS subscribers × {a.rate} updates/s for {a.seconds} s: {n} updates; "
          f"final value received by {got_final}/{a.subscribers}; per subscriber received "
          f"min {min(counts)} / median {int(statistics.median(counts))} / max {max(counts)} (coalesced when behind)")
    print(f"gateway RSS: idle {rss_idle:.1f} MiB, under load max {max(rss):.1f} MiB, after {rss[-1]:.1f} MiB")
    ok = got_final == a.subscribers and len(viss) >= 0.99 * sent
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    asyncio.run(main())
