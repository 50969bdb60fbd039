"""Collection campaigns, priorities, TTLs and the compact encoding, against a real broker
(Debian's mosquitto) and clients we did not write (paho-mqtt; protobuf messages read with
Google's protobuf runtime from our .proto compiled by grpcio-tools' protoc)."""
import importlib
import json
import pathlib
import subprocess
import sys
import tempfile
import time

from conftest import BINARY, DEMO_LOG, DEMO_MAPPING, ROOT, Gateway, wait_for
from mqtt_broker import Broker, Subscriber

CAMPAIGNS = """\
campaigns:
  - name: hard_braking
    signals: [Vehicle.Speed, Vehicle.Powertrain.Transmission.CurrentGear]
    condition: "rising_edge(max(Vehicle.Speed, 1) - Vehicle.Speed > 8)"
    before_s: 10
    after_s: 5
    min_interval_s: 20
    priority: 1
  - name: speed_1hz
    signals: [Vehicle.Speed]
    period_ms: 1000
    batch_s: 10
  - name: gears
    signals: [Vehicle.Powertrain.Transmission.CurrentGear]
    on_change: true
    batch_s: 5
  - name: when_parked
    signals: [Vehicle.Speed]
    period_ms: 500
    batch_s: 5
    upload_when: "Vehicle.Powertrain.Transmission.SelectedGear == 126"
"""


def start(tmp_path, broker, campaigns=CAMPAIGNS, *extra):
    (tmp_path / "campaigns.yaml").write_text(campaigns)
    return Gateway("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--speed", 4, "--uplink", f"mqtt://127.0.0.1:{broker.port}",
                   "--vehicle-id", "car-1", "--uplink-state-dir", tmp_path / "state", "--uplink-campaigns", tmp_path / "campaigns.yaml", *extra)


def test_campaigns_send_their_windows_samples_and_changes(tmp_path):
    broker = Broker(tmp_path / "broker")
    sub = Subscriber(broker.port, ["vehicles/car-1/campaigns/+"])
    try:
        g = start(tmp_path, broker)
        # The drive at 4x: 69 s of frames in about 17 s; the stop flushes what is left.
        wait_for(lambda: json.loads(g.curl("/healthz")[0])["buses"][0]["state"] == "ended", timeout=60, step=0.2)
        events = json.loads(g.curl("/v1/events")[0])["events"]
        assert g.stop() == 0, "".join(g.stderr)
        wait_for(lambda: sub.on("vehicles/car-1/campaigns/gears"), timeout=10)

        braking = sub.on("vehicles/car-1/campaigns/hard_braking")
        hard = [e["time"] for e in events if e["event"] == "hard_braking"]
        assert braking and hard, (braking, events)
        for m in braking:
            assert m["trigger"] == "condition" and m["vehicle_id"] == "car-1"
            t = m["trigger_time"]
            # Fired by the same braking the gateway's own event saw (its own rule, |a| >= 3 m/s²).
            assert min(abs(t - h) for h in hard) < 2.5, (t, hard)
            assert abs(m["from"] - (t - 10)) < 1e-3 and abs(m["to"] - (t + 5)) < 1e-3
            speed = m["signals"]["Vehicle.Speed"]
            times = [s[0] for s in speed["samples"]]
            assert speed["unit"] == "km/h" and times == sorted(times)
            # 10 s before and 5 s after, at the message's 20 ms: the window is full.
            assert times[0] - m["from"] < 0.1 and m["to"] - times[-1] < 0.1, (m["from"], times[0], times[-1], m["to"])
            assert 700 <= len(times) <= 760, len(times)
            # The speed fell by more than 8 km/h within a second at the trigger.
            before = [v for ts, v in speed["samples"] if t - 1 <= ts <= t]
            assert max(before) - before[-1] > 8
        assert [m["seq"] for m in braking] == list(range(1, len(braking) + 1))
        # min_interval_s 20: two triggers at least 20 s of frame time apart.
        assert all(b["trigger_time"] - a["trigger_time"] >= 20 for a, b in zip(braking, braking[1:]))

        period = sub.on("vehicles/car-1/campaigns/speed_1hz")
        times = [s[0] for m in period for s in m["signals"]["Vehicle.Speed"]["samples"]]
        gaps = {round(b - a, 3) for a, b in zip(times, times[1:])}
        assert len(times) >= 50 and gaps == {1.0}, gaps  # a sample each second of frame time, none lost between batches

        gears = [s[1] for m in sub.on("vehicles/car-1/campaigns/gears") for s in m["signals"]["Vehicle.Powertrain.Transmission.CurrentGear"]["samples"]]
        assert len(gears) >= 4 and all(a != b for a, b in zip(gears, gears[1:])), gears  # every change, and only changes
        assert -1 in gears and 1 in gears  # reverse out, then forward gears

        # Held until parked (SelectedGear 126): released at the end of the drive, none before.
        parked = sub.on("vehicles/car-1/campaigns/when_parked")
        assert parked
        last = max(s[0] for m in parked for s in m["signals"]["Vehicle.Speed"]["samples"])
        assert last > times[0] + 40
    finally:
        sub.close()
        broker.stop()


def test_a_full_queue_drops_the_least_important_oldest_and_expired_messages_go(tmp_path):
    """The broker away and a 64 KiB queue: context messages (priority 7) make room, the
    braking windows (priority 1, about 18 KB each) all arrive; a campaign with a 1 s TTL is
    dropped as expired, counted."""
    broker = Broker(tmp_path / "broker")
    broker.stop()
    campaigns = CAMPAIGNS.replace("  - name: gears", "  - name: short_lived\n    signals: [Vehicle.Speed]\n    period_ms: 200\n    batch_s: 1\n"
                                  "    ttl_s: 1\n  - name: gears")
    g = start(tmp_path, broker, campaigns, "--uplink-max-queue-mb", "0.0625", "--uplink-context-priority", "7", "--uplink-max-rate", "10")
    sub = None
    try:
        wait_for(lambda: json.loads(g.curl("/healthz")[0])["buses"][0]["state"] == "ended", timeout=60, step=0.2)
        time.sleep(1.5)
        uplink = json.loads(g.curl("/healthz")[0])["uplink"]
        assert uplink["evicted"]["queue_full"] > 0 and uplink["evicted"]["ttl"] > 0, uplink
        assert uplink["queued_bytes"] <= 65536
        broker.start()
        sub = Subscriber(broker.port, ["vehicles/car-1/#"], client_id="late-consumer")
        braking_sent = next(c for c in uplink["campaigns"] if c["name"] == "hard_braking")["published"]
        wait_for(lambda: len(sub.on("vehicles/car-1/campaigns/hard_braking")) == braking_sent, timeout=30)
        braking = sub.on("vehicles/car-1/campaigns/hard_braking")
        assert [m["seq"] for m in braking] == list(range(1, braking_sent + 1))  # nothing important lost
        wait_for(lambda: json.loads(g.curl("/healthz")[0])["uplink"]["queued_messages"] == 0, timeout=30)
        context = [m["seq"] for m in sub.on("vehicles/car-1/context")]
        # The dropped ones were the oldest contexts: the rest arrive, every seq from there on, in order.
        assert context and context[0] > 1 and context == list(range(context[0], context[-1] + 1)), context
        assert not sub.on("vehicles/car-1/campaigns/short_lived") or \
            len(sub.on("vehicles/car-1/campaigns/short_lived")) < next(c for c in uplink["campaigns"] if c["name"] == "short_lived")["published"]
        log = "".join(g.stderr)
        assert "uplink queue full" in log and "expired" in log
    finally:
        g.stop()
        if sub:
            sub.close()
        broker.stop()


def protobuf_module(tmp_path):
    from grpc_tools import protoc
    out = tmp_path / "pb"
    out.mkdir()
    assert protoc.main(["protoc", f"-I{ROOT / 'Protos'}", f"--python_out={out}", "vehicle_gateway/uplink.proto"]) == 0
    sys.path.insert(0, str(out))
    return importlib.import_module("vehicle_gateway.uplink_pb2")


def test_the_compact_encoding_is_the_same_messages_in_protobuf(tmp_path):
    pb = protobuf_module(tmp_path)
    broker = Broker(tmp_path / "broker")
    sub = Subscriber(broker.port, ["vehicles/car-1/#"])
    try:
        g = start(tmp_path, broker, CAMPAIGNS, "--uplink-encoding", "protobuf", "--uplink-max-rate", "5")
        wait_for(lambda: json.loads(g.curl("/healthz")[0])["buses"][0]["state"] == "ended", timeout=60, step=0.2)
        assert g.stop() == 0
        wait_for(lambda: sub.raw_on("vehicles/car-1/context"), timeout=10)
        contexts = []
        for payload, content_type in sub.raw_on("vehicles/car-1/context"):
            assert content_type == "application/x-protobuf; messageType=vehicle_gateway.uplink.v1.Context"
            m = pb.Context()
            m.ParseFromString(payload)
            contexts.append(m)
        assert [m.seq for m in contexts] == list(range(1, len(contexts) + 1))
        assert max(m.speed.speed_kmh for m in contexts) > 45 and {m.motion for m in contexts} >= {pb.Motions.moving, pb.Motions.parked}
        assert any(m.location.state == pb.States.stale for m in contexts), "the tunnel"
        braking = sub.raw_on("vehicles/car-1/campaigns/hard_braking")
        assert braking
        c = pb.Campaign()
        c.ParseFromString(braking[0][0])
        speed = c.signals["Vehicle.Speed"]
        times, t = [], 0
        for d in speed.time_us_deltas:
            t += d
            times.append(t / 1e6)
        assert len(times) == len(speed.values) > 700 and times[0] >= getattr(c, "from") - 0.1  # "from": a Python keyword
        assert abs(c.to - c.trigger_time - 5) < 1e-3 and speed.unit == "km/h"
        # The status stays JSON (retained, read by anyone).
        assert sub.on("vehicles/car-1/status")[0]["state"] == "online"
    finally:
        sub.close()
        broker.stop()


def test_bad_campaigns_are_start_up_errors_with_their_place(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text('campaigns:\n  - name: broken\n    signals: [Vehicle.Speed]\n    condition: "avg(Vehicle.Speed, 2) > 50 and Vehicle.Sped < 3"\n'
                   '  - name: two\n    signals: [Vehicle.Speed]\n    condition: "Vehicle.Speed >"\n  - name: three\n    signals: [Vehicle.Speed]\n'
                   '    period_ms: 100\n    on_change: true\n  - name: four\n    signals: [Vehicle.Speed]\n    condition: "maxx(Vehicle.Speed, 2) > 1"\n')
    p = subprocess.run([BINARY, "run", "--uplink", "mqtt://127.0.0.1:1", "--vehicle-id", "car-1", "--uplink-campaigns", bad,
                        "--uplink-state-dir", tmp_path / "state", "--mapping", DEMO_MAPPING, "--quiet"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 65, p.stderr
    assert f"{bad}:4:48: error: 'Vehicle.Sped' is not a mapped VSS path; did you mean 'Vehicle.Speed'?" in p.stderr, p.stderr
    assert f"{bad}:7:32: error: condition: expected a number, a VSS path" in p.stderr, p.stderr
    assert "campaign 'three' has several triggers" in p.stderr
    assert f"{bad}:14:17: error: condition: unknown function 'maxx'" in p.stderr, p.stderr
