"""The fleet side against a real broker (Debian's mosquitto): `fleet simulate` publishes as N
cars through the uplink's code; two `fleet serve` consumers in one MQTT 5 shared subscription
split the cars' messages, together seeing every message once; what they serve has the in-car
API's shape, JSON or protobuf."""
import json
import re
import subprocess
import threading
import time
import urllib.request

from conftest import BINARY, DEMO_LOG, DEMO_MAPPING, wait_for
from mqtt_broker import Broker, Subscriber


class Consumer:
    def __init__(self, broker, group="fleet", name="a"):
        self.proc = subprocess.Popen([BINARY, "fleet", "serve", "--broker", f"mqtt://127.0.0.1:{broker.port}", "--group", group,
                                      "--client-id", f"consumer-{name}", "--listen", "127.0.0.1:0"],
                                     stderr=subprocess.PIPE, text=True)
        self.port = None
        self.log = []
        ready = threading.Event()

        def pump():
            for line in self.proc.stderr:
                self.log.append(line)
                m = re.search(r"fleet consumer on http://[^:]+:(\d+)", line)
                if m:
                    self.port = int(m.group(1))
                    ready.set()
            ready.set()

        threading.Thread(target=pump, daemon=True).start()
        assert ready.wait(30) and self.port, "".join(self.log)
        wait_for(lambda: self.get("/healthz")["connected"], timeout=20)

    def get(self, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            return json.loads(e.read())

    def stop(self):
        self.proc.terminate()
        return self.proc.wait(10)


def simulate(broker, *args):
    return subprocess.run([BINARY, "fleet", "simulate", "--broker", f"mqtt://127.0.0.1:{broker.port}", "--replay", DEMO_LOG,
                           "--mapping", DEMO_MAPPING, "--loop", "0", *map(str, args)], capture_output=True, text=True, timeout=180)


def test_two_consumers_split_the_fleet_and_together_see_every_message_once(tmp_path):
    broker = Broker(tmp_path / "broker")
    a, b = Consumer(broker, name="a"), Consumer(broker, name="b")
    watcher = Subscriber(broker.port, ["vehicles/+/context"], client_id="watcher")
    try:
        p = simulate(broker, "--cars", 20, "--seconds", 6, "--rate", 2, "--state-dir", tmp_path / "cars")
        assert p.returncode == 0, p.stderr
        sent = {line.split()[0]: int(line.split()[2]) for line in p.stdout.splitlines()}
        assert len(sent) == 20 and all(10 <= n <= 14 for n in sent.values()), sent
        total = sum(sent.values())
        wait_for(lambda: len(watcher.messages) >= total, timeout=20)

        def received():
            va, vb = a.get("/v1/vehicles")["vehicles"], b.get("/v1/vehicles")["vehicles"]
            return {v["vehicle_id"]: v["received"] for v in va}, {v["vehicle_id"]: v["received"] for v in vb}, va + vb
        wait_for(lambda: sum(received()[0].values()) + sum(received()[1].values()) >= total, timeout=20)
        ra, rb, rows = received()
        assert sum(ra.values()) + sum(rb.values()) == total  # every message once, shared between them
        assert sum(ra.values()) > total / 5 and sum(rb.values()) > total / 5, (sum(ra.values()), sum(rb.values()))
        assert all(r["duplicates"] == 0 for r in rows)
        ha, hb = a.get("/healthz"), b.get("/healthz")
        assert ha["contexts"] + hb["contexts"] == total and ha["duplicates"] == hb["duplicates"] == 0, (ha, hb)
        for car, n in sent.items():
            assert ra.get(car, 0) + rb.get(car, 0) == n, car
            # Each consumer keeps the newest it saw; one of them has the car's last seq.
            last = max(x.get(f"/v1/vehicles/{car}/context").get("seq", 0) for x in (a, b))
            assert last == n
        context = a.get("/v1/vehicles/sim-1/context")
        if "error" in context:
            context = b.get("/v1/vehicles/sim-1/context")
        assert context["vehicle_id"] == "sim-1" and "speed" in context and "location" in context  # the in-car shape
        assert {v["status"] for v in rows} <= {"online", "offline", None}
        assert a.get("/v1/vehicles/nope/context")["error"]["status"] == 404
    finally:
        watcher.close()
        a.stop()
        b.stop()
        broker.stop()


def test_a_consumer_reads_protobuf_cars_and_streams_a_vehicle(tmp_path):
    broker = Broker(tmp_path / "broker")
    c = Consumer(broker, group="solo")
    try:
        stream = subprocess.Popen(["curl", "-sN", "--max-time", "12", f"http://127.0.0.1:{c.port}/v1/vehicles/pb-1/context/stream"],
                                  stdout=subprocess.PIPE, text=True)
        p = simulate(broker, "--cars", 2, "--seconds", 4, "--rate", 2, "--prefix", "pb", "--encoding", "protobuf")
        assert p.returncode == 0, p.stderr
        wait_for(lambda: c.get("/v1/vehicles/pb-1/context").get("seq", 0) >= 7, timeout=20)
        context = c.get("/v1/vehicles/pb-1/context")
        assert context["vehicle_id"] == "pb-1" and context["speed"]["state"] in ("fresh", "stale") and "motion" in context
        out, _ = stream.communicate(20)
        events = [json.loads(line[5:]) for line in out.splitlines() if line.startswith("data:")]
        seqs = [e["seq"] for e in events]
        assert len(seqs) >= 5 and seqs == sorted(seqs), seqs
        assert c.get("/healthz")["malformed"] == 0
    finally:
        c.stop()
        broker.stop()
