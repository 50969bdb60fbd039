"""The fleet uplink against a real broker (Debian's mosquitto on a loopback port), each figure
beside a reference measured in the same run:

  throughput   messages/s from one uplink to the broker at QoS 1, all acknowledged (our queue,
               journal and connection; Benchmarks/UplinkFigures) vs libmosquitto alone in C
               (Benchmarks/reference/mqtt_pub_reference.c) and paho-mqtt (Python);
  queue        messages/s written to the on-disk queue with the broker unreachable, per fsync
               policy, and drained after a restart (journal loaded, sent, acknowledged);
  size         bytes per vehicle-minute of the ten-minute city drive played at its own speed
               (context at the default max_rate 2/s and heartbeat 30 s, plus DBC/demo_campaigns.yaml),
               JSON vs protobuf, as paho-mqtt receives them (payload + topic);
  latency      frame written to the gateway's stdin -> the context at a paho-mqtt subscriber,
               p50/p99, vs a paho publisher -> the same broker -> the same subscriber;
  fleet        `fleet simulate --cars N --rate R` -> broker -> one `fleet serve`: the consumer's
               lag (messages sent but not yet received, in seconds of traffic) in the first and
               the last third of the run; a load holds when the lag does not grow and the consumer
               has everything within 3 s of the cars stopping. N stops at 3000 here: each
               simulated car holds five file descriptors and this machine allows 20000.

Usage: python uplink_bench.py BINARY UPLINK_FIGURES [--quick]
"""
import argparse
import gzip
import json
import pathlib
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "api"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import paho.mqtt.client as mqtt  # noqa: E402
from latency_bench import frame_line, pct  # noqa: E402
from mqtt_broker import Broker, free_port  # noqa: E402

OUT = ROOT / "bench-out"
MAPPING = ROOT / "DBC" / "demo_mapping.yaml"
CAMPAIGNS = ROOT / "DBC" / "demo_campaigns.yaml"


def run_gateway(binary, *args, stdin=None):
    proc = subprocess.Popen([str(binary), "run", "--listen", "127.0.0.1:0", "--grpc-listen", "none", "--quiet", *map(str, args)],
                            stdin=stdin, stderr=subprocess.PIPE, text=True, bufsize=1)
    ready = threading.Event()
    lines = []

    def pump():
        for line in proc.stderr:
            lines.append(line)
            if "uplink connected" in line:
                ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(60) or proc.poll() is not None:
        raise RuntimeError("gateway did not connect:\n" + "".join(lines))
    return proc


def stop(proc):
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


class Counter:
    """paho-mqtt (MQTT 5) subscribed at QoS 1: bytes and messages per topic, and a callback."""

    def __init__(self, port, topics, on_message=None, client_id=None):
        self.bytes, self.count = {}, {}
        self.lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or f"bench-{time.time_ns()}", protocol=mqtt.MQTTv5)
        done = threading.Event()

        def connected(client, userdata, flags, reason, properties):
            for t in topics:
                client.subscribe(t, qos=1)
            done.set()

        def message(client, userdata, m):
            now = time.time()
            with self.lock:
                self.bytes[m.topic] = self.bytes.get(m.topic, 0) + len(m.payload) + len(m.topic)
                self.count[m.topic] = self.count.get(m.topic, 0) + 1
            if on_message:
                on_message(m, now)

        self.client.on_connect, self.client.on_message = connected, message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert done.wait(10)
        time.sleep(0.3)  # the SUBACK

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def throughput(broker, figures, messages, work):
    print(f"== throughput and the queue ({messages} messages of a real 1.2 KB context, QoS 1)", flush=True)
    payload = work / "context.json"
    gw = run_gateway(BINARY, "--replay", ROOT / "DBC" / "demo_drive.log", "--mapping", MAPPING, "--uplink", f"mqtt://127.0.0.1:{broker.port}",
                     "--vehicle-id", "payload", "--uplink-state-dir", work / "payload-state")
    captured = []
    c = Counter(broker.port, ["vehicles/payload/context"], on_message=lambda m, t: captured.append(bytes(m.payload)))
    end = time.time() + 20
    while time.time() < end and len(captured) < 4:
        time.sleep(0.1)
    stop(gw)
    c.close()
    payload.write_bytes(captured[-1])
    ours = subprocess.run([str(figures), str(broker.port), str(free_port()), str(payload), str(messages), str(work / "figures")],
                          capture_output=True, text=True, timeout=900)
    if ours.returncode != 0:
        raise RuntimeError(ours.stderr)
    o = {l.split()[1]: float(l.split()[2]) for l in ours.stdout.splitlines() if l.startswith("OURS ")}
    reference = OUT / "mqtt_pub_reference"
    subprocess.run(["cc", "-O2", "-o", str(reference), str(ROOT / "Benchmarks" / "reference" / "mqtt_pub_reference.c"), "-lmosquitto"], check=True)
    ref = subprocess.run([str(reference), str(broker.port), str(payload), str(messages)], capture_output=True, text=True, timeout=600).stdout
    c_rate = float(ref.split()[2])
    paho_rate = paho_publish(broker.port, payload.read_bytes(), min(messages, 20000))
    print(f"  one uplink -> broker, all acknowledged    ours {o['live_acknowledged']:9.0f} msg/s   "
          f"libmosquitto in C {c_rate:9.0f} msg/s ({o['live_acknowledged'] / c_rate:.2f}x)   paho-mqtt {paho_rate:7.0f} msg/s")
    for policy in ("never", "interval", "always"):
        print(f"  queue, fsync {policy:9} written {o[f'write_{policy}']:9.0f} msg/s ({o[f'write_{policy}_mib']:6.1f} MiB/s)"
              f"   drained after a restart {o[f'drain_{policy}']:9.0f} msg/s")
    return o


def paho_publish(port, payload, n):
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="paho-reference", protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(64)
    client.max_queued_messages_set(0)
    acked = [0]
    done = threading.Event()

    def published(client, userdata, mid, reason, properties):
        acked[0] += 1
        if acked[0] == n:
            done.set()

    client.on_publish = published
    client.connect("127.0.0.1", port)
    client.loop_start()
    time.sleep(0.3)
    t0 = time.time()
    for _ in range(n):
        client.publish("bench/paho/context", payload, qos=1)
    done.wait(600)
    rate = n / (time.time() - t0)
    client.loop_stop()
    client.disconnect()
    return rate


def size(broker, seconds, work):
    print(f"== bytes per vehicle-minute (the city drive at its own speed, {seconds} s, context + campaigns)", flush=True)
    counter = Counter(broker.port, ["vehicles/+/context", "vehicles/+/campaigns/+"])
    log = work / "city.log"
    log.write_bytes(gzip.decompress((ROOT / "DBC" / "demo_city_drive.log.gz").read_bytes()))
    gateways = [run_gateway(BINARY, "--replay", log, "--mapping", MAPPING, "--uplink", f"mqtt://127.0.0.1:{broker.port}",
                            "--vehicle-id", f"size-{encoding}", "--uplink-encoding", encoding, "--uplink-campaigns", CAMPAIGNS,
                            "--uplink-state-dir", work / f"size-{encoding}")
                for encoding in ("json", "protobuf")]
    time.sleep(seconds)
    for g in gateways:
        stop(g)  # campaigns flush what they hold
    time.sleep(1)
    counter.close()
    figures = {}
    for encoding in ("json", "protobuf"):
        per = {kind: sum(b for t, b in counter.bytes.items() if t.startswith(f"vehicles/size-{encoding}/{kind}")) for kind in ("context", "campaigns")}
        n = {kind: sum(c for t, c in counter.count.items() if t.startswith(f"vehicles/size-{encoding}/{kind}")) for kind in ("context", "campaigns")}
        figures[encoding] = {k: v * 60 / seconds for k, v in per.items()}
        print(f"  {encoding:9} context {figures[encoding]['context'] / 1024:7.1f} KiB/min ({n['context']} messages)   "
              f"campaigns {figures[encoding]['campaigns'] / 1024:6.1f} KiB/min ({n['campaigns']} messages)")
    for kind in ("context", "campaigns"):
        j, p = figures["json"][kind], figures["protobuf"][kind]
        if j:
            print(f"  protobuf saves {100 * (1 - p / j):.0f} % of the {kind} bytes")
    return figures


def latency(broker, frames, work):
    print(f"== latency: frame -> the context at a paho-mqtt subscriber ({frames} frames, 20 a second)", flush=True)
    mapping = work / "latency_mapping.yaml"
    text = MAPPING.read_text().split("\nplausibility:")[0]
    mapping.write_text(text.replace("[demo_vehicle.dbc]", f"[{ROOT / 'DBC' / 'demo_vehicle.dbc'}]"))
    sent, lat = {}, []

    def got(m, now):
        speed = json.loads(m.payload).get("speed", {}).get("speed_kmh")
        if speed is not None and round(speed, 2) in sent:
            lat.append((now - sent.pop(round(speed, 2))) * 1e3)

    counter = Counter(broker.port, ["vehicles/latency/context"], on_message=got)
    gw = run_gateway(BINARY, "--replay", "-", "--fast", "--mapping", mapping, "--uplink", f"mqtt://127.0.0.1:{broker.port}",
                     "--vehicle-id", "latency", "--uplink-max-rate", 50, "--uplink-state-dir", work / "latency-state", stdin=subprocess.PIPE)
    for i in range(frames):
        kmh = round(20 + (i % 2000) * 0.01, 2)
        line = frame_line(kmh)
        sent[kmh] = time.time()
        gw.stdin.write(line)
        gw.stdin.flush()
        time.sleep(0.05)
    time.sleep(1)
    stop(gw)
    counter.close()

    ref = []
    payload = (work / "context.json").read_bytes()

    def got_ref(m, now):
        ref.append((now - float(m.payload[:20])) * 1e3)

    counter = Counter(broker.port, ["bench/latency-reference"], on_message=got_ref)
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="latency-reference", protocol=mqtt.MQTTv5)
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    time.sleep(0.3)
    for i in range(frames):
        pub.publish("bench/latency-reference", f"{time.time():20.6f}".encode() + payload, qos=1)
        time.sleep(0.05)
    time.sleep(1)
    pub.loop_stop()
    counter.close()
    print(f"  frame -> paho subscriber (ours)          p50 {pct(lat, 50):6.2f} ms   p99 {pct(lat, 99):6.2f} ms   (n={len(lat)})")
    print(f"  REF paho publisher -> broker -> paho     p50 {pct(ref, 50):6.2f} ms   p99 {pct(ref, 99):6.2f} ms   (n={len(ref)})")
    return lat, ref


def fleet(broker, sizes, seconds, work):
    print(f"== the fleet: N cars at R contexts/s each ({seconds} s) -> broker -> one `fleet serve`", flush=True)
    held = (0, 0)
    for n, rate in sizes:
        group = f"bench{n}"
        consumer = subprocess.Popen([str(BINARY), "fleet", "serve", "--broker", f"mqtt://127.0.0.1:{broker.port}", "--group", group,
                                     "--listen", "127.0.0.1:0"], stderr=subprocess.PIPE, text=True)
        port = None
        for line in consumer.stderr:
            m = re.search(r"fleet consumer on http://[^:]+:(\d+)", line)
            if m:
                port = int(m.group(1))
                break
        threading.Thread(target=lambda: consumer.stderr.read(), daemon=True).start()

        def received():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
                return json.loads(r.read())["contexts"]

        end = time.time() + 10
        while time.time() < end:
            try:
                if received() is not None:
                    break
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.1)
        base = received()
        sim = subprocess.Popen([str(BINARY), "fleet", "simulate", "--broker", f"mqtt://127.0.0.1:{broker.port}", "--cars", str(n),
                                "--seconds", str(seconds), "--rate", str(rate), "--prefix", f"n{n}r{rate}", "--state-dir", str(work / f"fleet-{n}-{rate}"),
                                "--mapping", str(MAPPING), "--replay", str(ROOT / "DBC" / "demo_drive.log"), "--loop", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        report = []  # read as it comes: N cars' lines outgrow a pipe's buffer
        reader = threading.Thread(target=lambda: report.extend(sim.stdout), daemon=True)
        reader.start()
        samples = []
        t0 = None
        while sim.poll() is None:
            r = received() - base
            now = time.time()
            if r > 0 and t0 is None:
                t0 = now
            if t0 is not None:
                samples.append((now - t0, r))
            time.sleep(0.5)
        sim.wait()
        reader.join(30)
        sent = sum(int(l.split()[2]) for l in report if " contexts " in l)
        end = time.time() + 30
        while time.time() < end and received() - base < sent:
            time.sleep(0.2)
        drained = time.time() - (end - 30)
        total = received() - base
        stop(consumer)
        # lag: what the cars had sent by then (n a second since the first arrived) minus what the consumer had, in seconds.
        lags = [max(0.0, (n * rate * t - r) / (n * rate)) for t, r in samples if t <= seconds]
        third = max(1, len(lags) // 3)
        early, late = sum(lags[:third]) / third, sum(lags[-third:]) / third
        holds = total >= sent and late <= early + 1.0 and drained < 3
        held = (n, rate) if holds else held
        print(f"  N={n:5} R={rate:2}  {n * rate:6} msg/s  sent {sent:7}  received {total:7}  lag first third {early:5.2f} s  last third {late:5.2f} s  "
              f"caught up {drained:4.1f} s after the cars stopped  {'holds' if holds else 'falls behind'}", flush=True)
        if not holds:
            break
    print(f"  the most held: {held[0]} cars at {held[1]} messages/s each ({held[0] * held[1]} msg/s)", flush=True)
    return held


def main():
    global BINARY
    a = argparse.ArgumentParser()
    a.add_argument("binary")
    a.add_argument("figures")
    a.add_argument("--quick", action="store_true")
    a.add_argument("--only", choices=["throughput", "size", "latency", "fleet"], action="append", help="run only these parts")
    args = a.parse_args()
    parts = args.only or ["throughput", "size", "latency", "fleet"]
    BINARY = pathlib.Path(args.binary).resolve()
    OUT.mkdir(exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix="uplink-bench-", dir=OUT))
    broker = Broker(work / "broker", extra="max_inflight_messages 0\nmax_queued_messages 0\n")
    try:
        if "throughput" in parts or "latency" in parts:
            throughput(broker, pathlib.Path(args.figures).resolve(), 5000 if args.quick else 20000, work)
        if "size" in parts:
            size(broker, 20 if args.quick else 60, work)
        if "latency" in parts:
            latency(broker, 200 if args.quick else 600, work)
        if "fleet" in parts:
            fleet(broker, [(100, 1), (500, 1)] if args.quick else [(100, 1), (1000, 1), (3000, 1), (3000, 3), (3000, 10), (3000, 30)], 10 if args.quick else 20, work)
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
