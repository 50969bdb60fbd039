"""A faulted drive through the real gateway: while the ABS ECU is stuck repeating one frame, the
speed is `invalid` (reason `repeated`) on HTTP, in the context, in /healthz and /metrics, and the
MCP traffic-light tool refuses; afterwards all of it recovers. No corrupted value ever appears."""
import asyncio
import json
import subprocess
import time

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from conftest import BINARY, DEMO_MAPPING, wait_for

STUCK_FROM, STUCK_FOR = 12.0, 6.0   # seconds into the short drive (the car is moving then)
JUMP_AT = 30.0


def faulted_log(tmp_path):
    log = tmp_path / "faulted.log"
    subprocess.run([BINARY, "simulate", "--scenario", "short", "-o", log,
                    "--faults", f"stuck:VehicleSpeed@{STUCK_FROM}+{STUCK_FOR},jump:VehicleSpeed@{JUMP_AT}+0.3"],
                   check=True, capture_output=True)
    return log


def test_stuck_ecu_makes_speed_invalid_then_it_recovers(gateway_factory, tmp_path):
    log = faulted_log(tmp_path)
    g = gateway_factory("--replay", log, "--mapping", DEMO_MAPPING, "--speed", 2)

    def context():
        body, code = g.curl("/v1/context")
        assert code == 200
        return json.loads(body)

    def speed_signal():
        body, _ = g.curl("/v1/signals/Vehicle.Speed")
        return json.loads(body)

    seen_speeds = []

    def invalid():
        c = context()
        if "speed_kmh" in c["speed"]:
            seen_speeds.append(c["speed"]["speed_kmh"])
        return c if c["speed"]["state"] == "invalid" else None

    c = wait_for(invalid, timeout=60, step=0.02)
    assert c["speed"]["reason"] == "repeated"
    assert c["motion"] == "unknown", "no motion is derived from a speed that cannot be trusted"
    s = speed_signal()
    assert s["state"] == "invalid" and s["reason"] == "repeated"
    health = json.loads(g.curl("/healthz")[0])
    assert health["context"]["speed"] == "invalid"
    vs = next(m for m in health["integrity"] if m["message"] == "powertrain/VehicleSpeed")
    assert vs["state"] == "invalid" and vs["reason"] == "repeated" and vs["dropped"]["repeated"] >= 5

    async def advise():
        async with streamable_http_client(g.url + "/mcp") as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                lat = c["location"].get("latitude_deg", 48.1)
                lon = c["location"].get("longitude_deg", 11.5)
                r = await session.call_tool("advise_traffic_light", {
                    "stop_line": {"latitude": lat + 0.002, "longitude": lon}, "current_phase": {"color": "red", "remaining_s": 5},
                    "next_phases": [{"color": "green", "duration_s": 20}]})
                return r.is_error, r.content[0].text
    is_error, text = asyncio.run(asyncio.wait_for(advise(), 60))
    assert is_error and "speed is invalid" in text and "repeated" in text, text

    # Recovery: five good frames after the fault, the speed is fresh again.
    wait_for(lambda: context()["speed"]["state"] == "fresh", timeout=30, step=0.05)
    health = json.loads(g.curl("/healthz")[0])
    vs = next(m for m in health["integrity"] if m["message"] == "powertrain/VehicleSpeed")
    assert vs["state"] == "valid"
    is_error, text = asyncio.run(asyncio.wait_for(advise(), 60))
    assert not is_error and "distance_m" in json.loads(text), text

    # The implausible jump (+80 km/h with a valid CRC): dropped and counted, never shown.
    def jump_counted():
        body, _ = g.curl("/metrics")
        for line in body.splitlines():
            if line.startswith('vehicle_gateway_implausible_values_total{path="Vehicle.Speed"}'):
                return float(line.split()[-1]) > 0
        return False
    end = time.time() + 40
    while time.time() < end and not jump_counted():
        c = context()
        if "speed_kmh" in c["speed"]:
            seen_speeds.append(c["speed"]["speed_kmh"])
        time.sleep(0.02)
    assert jump_counted()
    metrics = g.curl("/metrics")[0]
    assert 'vehicle_gateway_integrity_dropped_frames_total{message="powertrain/VehicleSpeed",reason="repeated"}' in metrics
    # The short drive never exceeds 60 km/h: a jumped (+80) value would show above it.
    assert seen_speeds and max(seen_speeds) < 70, max(seen_speeds)
