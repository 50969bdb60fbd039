"""W3C VISS v2 over WebSocket, with the `websockets` package as the client."""
import asyncio
import json
import time

import pytest
import websockets
from websockets.exceptions import ConnectionClosed


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


async def connect(gateway, **kw):
    return await websockets.connect(gateway.ws_url, subprotocols=["VISSv2"], max_size=None, **kw)


async def ask(ws, message):
    """Sends a request and returns its reply (notifications in between are skipped)."""
    await ws.send(message if isinstance(message, str) else json.dumps(message))
    while True:
        m = json.loads(await ws.recv())
        if m.get("action") != "subscription":
            return m


async def notifications(ws, sub_id, seconds):
    out, end = [], time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        try:
            m = json.loads(await asyncio.wait_for(ws.recv(), left))
        except asyncio.TimeoutError:
            break
        if m.get("action") == "subscription" and m["subscriptionId"] == sub_id:
            out.append(m)
    return out


def values(ns):
    return [float(n["data"]["dp"]["value"]) for n in ns]


def test_subprotocol_is_vissv2(gateway):
    async def go():
        async with await connect(gateway) as ws:
            assert ws.subprotocol == "VISSv2"
    run(go())


def test_get_one_path_values_are_strings_with_ts_and_state(gateway):
    async def go():
        async with await connect(gateway) as ws:
            r = await ask(ws, {"action": "get", "path": "Vehicle.Speed", "requestId": "1"})
            assert r["action"] == "get" and r["requestId"] == "1" and r["ts"].endswith("Z")
            dp = r["data"]["dp"]
            assert r["data"]["path"] == "Vehicle.Speed" and isinstance(dp["value"], str)
            float(dp["value"])
            assert dp["ts"].endswith("Z") and dp["state"] == "fresh"
    run(go())


def test_get_branch_and_paths_filter_with_wildcard(gateway):
    async def go():
        async with await connect(gateway) as ws:
            r = await ask(ws, {"action": "get", "path": "Vehicle.CurrentLocation", "requestId": "2"})
            assert {d["path"] for d in r["data"]} >= {"Vehicle.CurrentLocation.Latitude", "Vehicle.CurrentLocation.Longitude"}
            r = await ask(ws, {"action": "get", "path": "Vehicle", "requestId": "3",
                               "filter": {"type": "paths", "parameter": ["Powertrain.Transmission.*", "Speed"]}})
            paths = {d["path"] for d in r["data"]}
            assert "Vehicle.Speed" in paths and "Vehicle.Powertrain.Transmission.SelectedGear" in paths
            assert all(p == "Vehicle.Speed" or p.startswith("Vehicle.Powertrain.Transmission.") for p in paths)
            bools = [d["dp"]["value"] for d in r["data"] if d["path"].endswith("IsParkLockEngaged")]
            assert bools and bools[0] in ("true", "false")
    run(go())


def test_subscribe_on_change_then_unsubscribe(gateway):
    async def go():
        async with await connect(gateway) as ws:
            r = await ask(ws, {"action": "subscribe", "path": "Vehicle.Speed", "requestId": "4"})
            sid = r["subscriptionId"]
            assert r["action"] == "subscribe" and r["requestId"] == "4"
            ns = await notifications(ws, sid, 1.5)
            assert len(ns) >= 5
            ts = [n["data"]["dp"]["ts"] for n in ns]
            assert ts == sorted(ts)
            r = await ask(ws, {"action": "unsubscribe", "subscriptionId": sid, "requestId": "5"})
            assert r == {**r, "action": "unsubscribe", "subscriptionId": sid, "requestId": "5"}
            await asyncio.sleep(0.3)
            assert await notifications(ws, sid, 0.7) == []
    run(go())


def test_timebased_period_as_string_and_as_number(gateway):
    async def go():
        async with await connect(gateway) as ws:
            a = (await ask(ws, {"action": "subscribe", "path": "Vehicle.Speed", "requestId": "6",
                                "filter": {"type": "timebased", "parameter": {"period": "100"}}}))["subscriptionId"]
            b = (await ask(ws, {"action": "subscribe", "path": "Vehicle.Speed", "requestId": "7",
                                "filter": {"type": "timebased", "parameter": {"period": 250}}}))["subscriptionId"]
            got = {a: 0, b: 0}
            end = time.monotonic() + 2.0
            while (left := end - time.monotonic()) > 0:
                try:
                    m = json.loads(await asyncio.wait_for(ws.recv(), left))
                except asyncio.TimeoutError:
                    break
                if m.get("action") == "subscription":
                    got[m["subscriptionId"]] += 1
            assert 14 <= got[a] <= 22, got  # 100 ms for 2 s
            assert 6 <= got[b] <= 9, got    # 250 ms for 2 s
    run(go())


def test_change_filter_diff(gateway):
    async def go():
        async with await connect(gateway) as ws:
            sid = (await ask(ws, {"action": "subscribe", "path": "Vehicle.Speed", "requestId": "8",
                                  "filter": {"type": "change", "parameter": {"logic-op": "ne", "diff": "0"}}}))["subscriptionId"]
            any_change = values(await notifications(ws, sid, 1.5))
            assert all(a != b for a, b in zip(any_change, any_change[1:]))
            sid2 = (await ask(ws, {"action": "subscribe", "path": "Vehicle.Speed", "requestId": "9",
                                   "filter": {"type": "change", "parameter": {"logic-op": "gt", "diff": "2"}}}))["subscriptionId"]
            rising = values(await notifications(ws, sid2, 4))
            # After the first value, each is more than 2 km/h above the one sent before it.
            assert all(b - a > 2 for a, b in zip(rising, rising[1:])), rising
    run(go())


def test_range_filter(gateway):
    async def go():
        async with await connect(gateway) as ws:
            sid = (await ask(ws, {"action": "subscribe", "path": "Vehicle.Speed", "requestId": "10",
                                  "filter": {"type": "range", "parameter": [{"boundary-op": "gt", "boundary": "10"},
                                                                            {"boundary-op": "lte", "boundary": "40"}]}}))["subscriptionId"]
            vs = values(await notifications(ws, sid, 5))
            assert vs and all(10 < v <= 40 for v in vs), vs
    run(go())


@pytest.mark.parametrize("message, number, reason", [
    ("{not json", "400", "bad_request"),
    ('["get"]', "400", "bad_request"),
    ('{"action": "frobnicate", "requestId": "1"}', "400", "bad_request"),
    ('{"action": "get", "path": 42, "requestId": "1"}', "400", "bad_request"),
    ('{"action": "get", "requestId": "1"}', "400", "bad_request"),
    ('{"action": "get", "path": "Vehicle.Nothing", "requestId": "1"}', "404", "unavailable_data"),
    ('{"action": "subscribe", "path": "Vehicle.Speed", "filter": {"type": "timebased", "parameter": {"period": "soon"}}, "requestId": "1"}', "400", "invalid_data"),
    ('{"action": "subscribe", "path": "Vehicle.Speed", "filter": {"type": "change", "parameter": {"logic-op": "about", "diff": "1"}}, "requestId": "1"}', "400", "invalid_data"),
    ('{"action": "subscribe", "path": "Vehicle.Speed", "filter": {"type": "teleport"}, "requestId": "1"}', "400", "bad_request"),
    ('{"action": "unsubscribe", "subscriptionId": "999", "requestId": "1"}', "404", "unavailable_data"),
    ('{"action": "set", "path": "Vehicle.Speed", "value": "250", "requestId": "1"}', "403", "forbidden_request"),
])
def test_errors_are_viss_error_objects(gateway, message, number, reason):
    async def go():
        async with await connect(gateway) as ws:
            r = await ask(ws, message)
            assert r["error"]["number"] == number and r["error"]["reason"] == reason, r
            assert r["error"]["message"]
            # The connection stays usable after a bad request.
            ok = await ask(ws, {"action": "get", "path": "Vehicle.Speed", "requestId": "after"})
            assert "data" in ok
    run(go())


def test_oversized_message_closes_with_1009_and_server_stays_up(gateway):
    async def go():
        async with await connect(gateway) as ws:
            await ws.send(json.dumps({"action": "get", "path": "Vehicle." + "x" * 100_000, "requestId": "big"}))
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        async with await connect(gateway) as ws:
            assert "data" in await ask(ws, {"action": "get", "path": "Vehicle.Speed"})
    run(go())


def test_subscription_limit_per_connection(gateway):
    async def go():
        async with await connect(gateway) as ws:
            errors = []
            for i in range(70):
                r = await ask(ws, {"action": "subscribe", "path": "Vehicle.Speed", "requestId": str(i),
                                   "filter": {"type": "timebased", "parameter": {"period": "10000"}}})
                if "error" in r:
                    errors.append(r["error"])
            assert errors and errors[0]["number"] == "429" and len(errors) == 70 - 64
    run(go())


def test_slow_client_does_not_stall_others_or_grow_memory(gateway):
    async def go():
        # A client that subscribes to everything and never reads.
        slow = await websockets.connect(gateway.ws_url, subprotocols=["VISSv2"], max_queue=1)
        await slow.send(json.dumps({"action": "subscribe", "path": "Vehicle", "requestId": "slow"}))
        rss_before = gateway.rss_kib()
        async with await connect(gateway) as ws:
            sid = (await ask(ws, {"action": "subscribe", "path": "Vehicle.Speed", "requestId": "fast"}))["subscriptionId"]
            ns = await notifications(ws, sid, 6)
            assert len(ns) > 30  # the healthy client kept getting updates
        assert gateway.rss_kib() - rss_before < 30_000
        await slow.close()
    run(go())
    assert gateway.alive()
