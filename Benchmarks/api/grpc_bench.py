"""The KUKSA-compatible gRPC API: signal updates per second delivered to subscribers, and frame →
subscriber latency, with a Swift client (grpc-swift 2, Benchmarks/GRPCFigures) and the Python
one (kuksa-client 0.6.0's generated kuksa.val.v2 stub), beside KUKSA Databroker's published
figures (about 84 k signal updates/s and p99 1.2 ms with 101 signals; see the README for how the
set-ups differ).

Usage: python grpc_bench.py BINARY GRPC_FIGURES [--frames 1000] [--seconds 5]

Latency: the gateway reads a candump log on standard input (`run --replay - --fast`); this script
writes VehicleSpeed frames stamped with the wall clock, 100 a second, and each client measures
now − the datapoint's timestamp (the frame's time: KUKSA datapoints carry it).
Throughput: the bundled ten-minute drive replayed as fast as it goes (--fast, looped) with the
clients subscribed to every mapped path; updates = datapoints received.
"""
import argparse
import pathlib
import subprocess
import sys
import threading
import time

import grpc
from kuksa.val.v2 import types_pb2, val_pb2, val_pb2_grpc

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "perf"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from common import Gateway, city_log  # noqa: E402
from latency_bench import frame_line, pct  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]


def latency_gateway(binary):
    mapping = ROOT / "bench-out" / "latency_mapping.yaml"
    mapping.parent.mkdir(exist_ok=True)
    text = (ROOT / "DBC" / "demo_mapping.yaml").read_text().split("\nplausibility:")[0]
    mapping.write_text(text.replace("[demo_vehicle.dbc]", f"[{ROOT / 'DBC' / 'demo_vehicle.dbc'}]"))
    return Gateway(binary, "--replay", "-", "--fast", "--mapping", mapping, stdin=subprocess.PIPE)


def feed(gw, frames, gap=0.01, start=100.0):
    for i in range(frames):
        gw.proc.stdin.write(frame_line(round(start + i * 0.01, 2)))
        gw.proc.stdin.flush()
        time.sleep(gap)


def python_latency(gw, frames):
    stub = val_pb2_grpc.VALStub(grpc.insecure_channel(f"127.0.0.1:{gw.grpc_port}"))
    stream = stub.Subscribe(val_pb2.SubscribeRequest(signal_paths=["Vehicle.Speed"]))
    next(stream)  # the current value
    lat = []

    def read():
        try:
            for r in stream:
                now = time.time()
                dp = r.entries["Vehicle.Speed"]
                if dp.HasField("value"):
                    lat.append((now - (dp.timestamp.seconds + dp.timestamp.nanos / 1e9)) * 1e3)
        except grpc.RpcError:
            pass  # cancelled at the end

    t = threading.Thread(target=read, daemon=True)
    t.start()
    time.sleep(0.3)
    feed(gw, frames)
    time.sleep(0.5)
    stream.cancel()
    return lat


def swift_latency(gw, figures, frames):
    seconds = frames * 0.01 + 1.5
    p = subprocess.Popen([str(figures), str(gw.grpc_port), "latency", f"{seconds:.1f}", "Vehicle.Speed"], stdout=subprocess.PIPE, text=True)
    time.sleep(0.8)
    feed(gw, frames, start=200.0)
    # One more frame after the deadline lets the client notice it and stop.
    time.sleep(seconds - frames * 0.01)
    feed(gw, 3, start=300.0)
    out, _ = p.communicate(30)
    return [float(l.split()[1]) for l in out.splitlines() if l.startswith("LAT ")]


def python_throughput(port, seconds):
    stub = val_pb2_grpc.VALStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
    paths = [m.path for m in stub.ListMetadata(val_pb2.ListMetadataRequest(root="Vehicle")).metadata]
    n, start = 0, time.time()
    stream = stub.Subscribe(val_pb2.SubscribeRequest(signal_paths=paths))
    for r in stream:
        n += len(r.entries)
        if time.time() - start > seconds:
            break
    stream.cancel()
    return n / (time.time() - start), len(paths)


def summary(name, lat):
    return f"{name:56} p50 {pct(lat, 50):6.3f} ms   p99 {pct(lat, 99):6.3f} ms   (n={len(lat)})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("figures")
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=5)
    a = ap.parse_args()

    gw = latency_gateway(a.binary)
    try:
        py = python_latency(gw, a.frames)
        sw = swift_latency(gw, a.figures, a.frames)
    finally:
        gw.proc.stdin.close()
        gw.stop()
    print(summary("frame → gRPC subscriber, Swift client (grpc-swift 2)", sw))
    print(summary("frame → gRPC subscriber, Python client (kuksa-client stub)", py))

    gw = Gateway(a.binary, "--replay", city_log(), "--fast", "--loop", "0")
    try:
        time.sleep(1)
        rates = {}
        for streams in (1, 10):
            out = subprocess.run([str(a.figures), str(gw.grpc_port), "throughput", str(a.seconds), str(streams)],
                                 capture_output=True, text=True, timeout=a.seconds + 60).stdout
            rates[streams] = out.strip()
            print(f"signal updates delivered, Swift client, {streams} stream(s): {out.strip()}")
        rate, n = python_throughput(gw.grpc_port, a.seconds)
        print(f"signal updates delivered, Python client, 1 stream of {n} signals: {rate:.0f}/s")
    finally:
        gw.stop()
    print("REF KUKSA Databroker (published): about 84 k signal updates/s, p99 1.2 ms, 101 signals")


if __name__ == "__main__":
    main()
