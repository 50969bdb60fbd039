"""HTTP JSON, SSE, /healthz and /metrics, through curl."""
import json
import re
import subprocess
import time

from conftest import DEMO_LOG, DEMO_MAPPING, wait_for


def test_context_has_every_part_with_state_and_age(gateway):
    body, code = gateway.curl("/v1/context")
    assert code == 200
    c = json.loads(body)
    assert c["speed"]["state"] == "fresh" and isinstance(c["speed"]["speed_kmh"], (int, float))
    assert 0 <= c["speed"]["age_s"] < 1
    assert c["location"]["state"] in ("fresh", "stale") and -90 <= c["location"]["latitude_deg"] <= 90
    assert c["gear"]["label"] in ("P", "R", "N", "D") or c["gear"]["label"].isdigit()
    assert c["motion"] in ("parked", "stopped", "moving", "reversing", "unknown")
    # The time is now (replayed frames arrive as if live), not the log's 2023 timestamps.
    assert abs(c["time"] - time.time()) < 5


def test_signals_list_prefix_and_one_path(gateway):
    body, code = gateway.curl("/v1/signals")
    assert code == 200
    signals = json.loads(body)["signals"]
    paths = {s["path"] for s in signals}
    assert {"Vehicle.Speed", "Vehicle.CurrentLocation.Latitude", "Vehicle.Powertrain.Transmission.SelectedGear"} <= paths
    for s in signals:
        assert set(s) >= {"path", "value", "unit", "datatype", "timestamp", "age_s", "state"}
    body, code = gateway.curl("/v1/signals?prefix=Vehicle.CurrentLocation")
    assert code == 200 and all(s["path"].startswith("Vehicle.CurrentLocation.") for s in json.loads(body)["signals"])
    body, code = gateway.curl("/v1/signals/Vehicle.Speed")
    s = json.loads(body)
    assert code == 200 and s["path"] == "Vehicle.Speed" and s["unit"] == "km/h" and s["state"] == "fresh"
    assert isinstance(s["value"], (int, float)) and s["time"].endswith("Z")


def test_unknown_path_is_404_with_a_suggestion(gateway):
    body, code = gateway.curl("/v1/signals/Vehicle.Sped")
    assert code == 404
    assert "Vehicle.Speed" in json.loads(body)["error"]["message"]
    body, code = gateway.curl("/v1/signals?prefix=Vehicle.Nothing")
    assert code == 404


def test_health_reports_buses_and_sources(gateway):
    body, code = gateway.curl("/healthz")
    h = json.loads(body)
    assert code == 200 and h["status"] == "ok"
    bus = h["buses"][0]
    assert bus["name"] == "powertrain" and bus["state"] == "up" and bus["frames"] > 0
    assert "replay" in bus["source"]
    wait_for(lambda: json.loads(gateway.curl("/healthz")[0])["buses"][0]["frames_per_s"] > 100, timeout=5)


def test_metrics_are_prometheus_text(gateway):
    gateway.curl("/v1/context")
    body, code = gateway.curl("/metrics")
    assert code == 200
    for name in ["vehicle_gateway_frames_total", "vehicle_gateway_frames_per_second", "vehicle_gateway_decode_errors_total",
                 "vehicle_gateway_kernel_drops_total", "vehicle_gateway_stale_paths", "vehicle_gateway_subscribers",
                 "vehicle_gateway_publish_latency_seconds_bucket"]:
        assert re.search(rf"^{name}\{{?", body, re.M), name
    frames = int(re.search(r'^vehicle_gateway_frames_total\{bus="powertrain"\} (\d+)', body, re.M).group(1))
    assert frames > 0


def test_read_only_no_method_writes(gateway):
    for path in ["/v1/context", "/v1/signals/Vehicle.Speed"]:
        for method in ["POST", "PUT", "DELETE"]:
            _, code = gateway.curl(path, "-X", method, "-d", '{"value": 1}')
            assert code in (404, 405), (method, path, code)


def sse_events(gateway, query, seconds):
    p = subprocess.run(["curl", "-sS", "-N", "--max-time", str(seconds), gateway.url + "/v1/context/stream" + query],
                       capture_output=True, text=True)
    assert p.returncode == 28, p.stderr  # ended by --max-time: the stream stays open
    events = [json.loads(line[len("data: "):]) for line in p.stdout.splitlines() if line.startswith("data: ")]
    assert "event: context" in p.stdout
    return events


def test_sse_pushes_changes_at_most_max_rate(gateway):
    events = sse_events(gateway, "?max_rate=5", 3)
    assert 5 <= len(events) <= 17, len(events)  # 5/s for 3 s, the first at once
    times = [e["time"] for e in events]
    assert times == sorted(times)
    assert len({e["speed"].get("speed_kmh") for e in events}) > 1  # the speed moves during the drive


def test_sse_rejects_a_bad_rate(gateway):
    body, code = gateway.curl("/v1/context/stream?max_rate=abc")
    assert code == 400 and "max_rate" in body
    _, code = gateway.curl("/v1/context/stream?max_rate=1000")
    assert code == 400


def test_location_precision_is_reduced_everywhere(gateway_factory):
    g = gateway_factory("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--speed", 4, "--location-decimals", 2)
    time.sleep(1.5)
    c = json.loads(g.curl("/v1/context")[0])
    lat = c["location"]["latitude_deg"]
    assert round(lat, 2) == lat
    s = json.loads(g.curl("/v1/signals/Vehicle.CurrentLocation.Longitude")[0])
    assert round(s["value"], 2) == s["value"]


def test_replay_end_makes_values_stale_not_gone(gateway_factory, tmp_path):
    # The first 2 s of the drive, played once: afterwards the values stay, marked stale.
    lines = DEMO_LOG.read_text().splitlines()
    t0 = float(lines[0].split(")")[0][1:])
    short = [l for l in lines if float(l.split(")")[0][1:]) - t0 < 2.0]
    log = tmp_path / "short.log"
    log.write_text("\n".join(short) + "\n")
    g = gateway_factory("--replay", log, "--mapping", DEMO_MAPPING)
    c = wait_for(lambda: (lambda c: c if c["speed"]["state"] == "stale" else None)(json.loads(g.curl("/v1/context")[0])), timeout=10)
    assert c["speed"]["speed_kmh"] is not None and c["speed"]["age_s"] > 0
    assert c["motion"] == "unknown"
    h = json.loads(g.curl("/healthz")[0])
    assert h["buses"][0]["state"] == "ended"


def test_metrics_count_unknown_ids_and_short_frames_by_kind(gateway_factory, tmp_path):
    # Two frames the DBC does not know, one short frame of a mapped message (VehicleSpeed, 8 bytes
    # in the DBC, 2 here) and one of a message nothing maps (Doors), among good ones.
    log = tmp_path / "errors.log"
    log.write_text("\n".join([
        "(1700000000.000000) vcan0 0D0#10270100000000F0",
        "(1700000000.010000) vcan0 7FF#00",
        "(1700000000.020000) vcan0 0D0#1027",
        "(1700000000.030000) vcan0 2B0#01",
        "(1700000000.040000) vcan0 12345678#0011",
        "(1700000000.050000) vcan0 0D0#10270100000000F0",
    ]) + "\n")
    g = gateway_factory("--replay", log, "--mapping", DEMO_MAPPING)
    wait_for(lambda: json.loads(g.curl("/healthz")[0])["buses"][0]["state"] == "ended", timeout=10)
    body, _ = g.curl("/metrics")

    def counter(kind):
        m = re.search(rf'^vehicle_gateway_decode_errors_total\{{bus="powertrain",kind="{kind}"\}} (\d+)', body, re.M)
        assert m, (kind, body)
        return int(m.group(1))
    assert counter("unknown_id") == 2
    assert counter("short_frame") == 2
    assert json.loads(g.curl("/healthz")[0])["buses"][0]["decode_errors"] == 4
