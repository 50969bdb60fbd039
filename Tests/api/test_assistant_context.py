"""The assistant's context through the real gateway replaying the demo drive: the new MCP tools
and prompts with the official SDK, the events as a VISS path with `websockets`, the context's
new parts with curl, and break_recommended on the 10-minute city drive."""
import asyncio
import json
import shutil

import websockets
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from conftest import DEMO_LOG, DEMO_MAPPING, ROOT, wait_for


def test_tools_and_prompts_follow_the_drive(gateway_factory):
    """The 69 s drive at 2x (reversing out lasts 3 s then, long enough to see on a loaded machine): can_interrupt_driver says no while reversing out (with an estimate
    and its basis) and yes at the red light; get_vehicle_status sees the passenger get in and
    the rain start; get_trip counts the stops; the prompts carry the live state."""
    g = gateway_factory("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--speed", 2)

    async def go():
        async with streamable_http_client(g.url + "/mcp") as streams:
            async with ClientSession(streams[0], streams[1]) as s:
                init = await s.initialize()
                assert init.capabilities.prompts is not None
                tools = {t.name: t for t in (await s.list_tools()).tools}
                for name in ("get_trip", "get_vehicle_status", "can_interrupt_driver"):
                    assert len(tools[name].description) > 200, name
                prompts = {p.name: p for p in (await s.list_prompts()).prompts}
                assert set(prompts) == {"suggest_stop", "time_the_light"}
                interrupts, statuses, trips = [], [], []
                while True:
                    r = await s.call_tool("can_interrupt_driver", {})
                    assert not r.is_error
                    interrupts.append(json.loads(r.content[0].text))
                    statuses.append(json.loads((await s.call_tool("get_vehicle_status", {})).content[0].text))
                    trip = json.loads((await s.call_tool("get_trip", {})).content[0].text)
                    trips.append(trip)
                    if trip["phase"].get("current") == "parked" and trip["trip"].get("stops", 0) >= 3:
                        break
                    await asyncio.sleep(0.05)
                stop = (await s.get_prompt("suggest_stop", {"kind": "food", "preferences": "vegetarian"})).messages[0].content.text
                light = (await s.get_prompt("time_the_light", {"stop_line": "48.1380,11.5760"})).messages[0].content.text
                errors = []
                for name, args in (("suggest_stop", {"kind": "pizza"}), ("time_the_light", {"stop_line": "north"}), ("nope", {})):
                    try:
                        await s.get_prompt(name, args)
                        errors.append(None)
                    except Exception as e:  # the SDK raises the server's JSON-RPC error
                        errors.append(str(e))
                return interrupts, statuses, trips, stop, light, errors
    interrupts, statuses, trips, stop, light, errors = asyncio.run(asyncio.wait_for(go(), 90))

    reversing = [i for i in interrupts if "reversing" in i["reasons"]]
    assert reversing and all(not i["can_interrupt"] for i in reversing)
    assert any(i["wait_basis"] == "usual_length" and i["wait_s"] > 3 for i in reversing), reversing[:3]
    at_light = [i for i in interrupts if i["phase"] == "stopped_at_light" and i["can_interrupt"]]
    assert at_light and "light" in at_light[0]["explanation"]
    phases = [t["phase"].get("current") for t in trips]
    seen = [p for k, p in enumerate(phases) if p and (k == 0 or p != phases[k - 1])]
    assert seen[-1] == "parked" and "starting" in seen and "driving" in seen and "stopped_at_light" in seen, seen
    assert any("Row1.PassengerSide" in s["cabin"].get("occupied", []) for s in statuses)
    assert any(s["cabin"].get("unbelted") == ["Row1.PassengerSide"] for s in statuses), "the passenger is unbelted for 2.5 s"
    rain = [s["environment"] for s in statuses if s["environment"].get("raining")]
    assert rain and rain[-1]["raining_source"] == "wipers"
    assert all(s["energy"]["range_source"] == "vehicle" for s in statuses if s["energy"]["state"] == "fresh")
    last = trips[-1]["trip"]
    assert last["stops"] >= 3 and last["distance_km"] > 0.3 and last["break_recommended"] is False
    # The prompts carry the live state and the rules.
    assert "kind: food" in stop and "vegetarian" in stop and '"trip": {' in stop and "energy.low" in stop
    assert "advise_traffic_light" in light and "48.138" in light and "can_interrupt_driver" in light
    assert "kind" in errors[0] and "stop_line" in errors[1] and "unknown prompt" in errors[2], errors


def test_events_as_a_viss_path(gateway_factory):
    g = gateway_factory("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--speed", 8)

    async def go():
        async with websockets.connect(g.ws_url, subprotocols=["VISSv2"]) as ws:
            await ws.send(json.dumps({"action": "subscribe", "path": "Vehicle.Private.Events", "requestId": "e"}))
            reply = json.loads(await ws.recv())
            assert reply["action"] == "subscribe" and reply["requestId"] == "e", reply
            sub = reply["subscriptionId"]
            names = []
            while "parked" not in names:
                m = json.loads(await asyncio.wait_for(ws.recv(), 30))
                assert m["action"] == "subscription" and m["subscriptionId"] == sub, m
                assert m["data"]["path"] == "Vehicle.Private.Events"
                for dp in m["data"]["dp"]:
                    assert dp["ts"].endswith("Z") and int(dp["id"]) > 0
                    names.append(dp["value"])
            await ws.send(json.dumps({"action": "get", "path": "Vehicle.Private.Events", "requestId": "g"}))
            got = json.loads(await ws.recv())
            await ws.send(json.dumps({"action": "subscribe", "path": "Vehicle.Private.Events", "filter": {"type": "timebased", "parameter": {"period": "100"}}}))
            bad = json.loads(await ws.recv())
            return names, got, bad
    names, got, bad = asyncio.run(asyncio.wait_for(go(), 60))
    assert [n for n in names if n != "hard_braking"] == ["departed", "stopped", "stopped", "rain_started", "tunnel_entered",
                                                        "gnss_restored", "stopped", "parked"], names
    assert got["data"]["dp"][-1]["value"] == "parked", got
    assert bad["error"]["number"] == "400" and "filters" in bad["error"]["message"], bad


def test_the_context_has_its_new_parts(gateway_factory):
    g = gateway_factory("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--speed", 4)

    def parked_again():
        c = json.loads(g.curl("/v1/context")[0])
        return c if c["phase"].get("current") == "parked" and c["trip"].get("stops", 0) >= 3 else None
    c = wait_for(parked_again, timeout=40, step=0.2)
    assert c["phase"]["state"] in ("fresh", "stale") and c["phase"]["for_s"] >= 0
    assert c["environment"]["raining"] is True and c["environment"]["raining_source"] == "wipers"
    assert c["cabin"]["occupied"] == ["Row1.DriverSide", "Row1.PassengerSide"]
    # The original fields are unchanged.
    for key in ("time", "speed", "location", "gear", "motion", "acceleration", "distance_km"):
        assert key in c


def test_break_recommended_on_the_city_drive(gateway_factory, tmp_path):
    """The 10-minute drive replayed fast with a 4-minute break threshold: one break_recommended
    event, 240 s of driving after departure."""
    shutil.copy(ROOT / "DBC" / "demo_vehicle.dbc", tmp_path)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(DEMO_MAPPING.read_text().replace("break_after_min: 120", "break_after_min: 4"))
    g = gateway_factory("--replay", ROOT / "DBC" / "demo_city_drive.log.gz", "--mapping", mapping, "--fast")

    def ended():
        events = json.loads(g.curl("/v1/events")[0])["events"]
        return events if any(e["event"] == "parked" for e in events) else None
    events = wait_for(ended, timeout=60, step=0.2)
    breaks = [e for e in events if e["event"] == "break_recommended"]
    departed = next(e for e in events if e["event"] == "departed")
    assert len(breaks) == 1, events
    assert abs(breaks[0]["time"] - departed["time"] - 240) < 2, (breaks, departed)
    c = json.loads(g.curl("/v1/context")[0])
    assert c["trip"]["break_recommended"] is True and c["trip"]["time_since_break_s"] >= 240
