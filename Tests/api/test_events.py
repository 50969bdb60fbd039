"""Vehicle events through the real gateway: the demo drive played at 8x; curl reads the event
SSE stream (from the start, with ?after=0), /v1/events lists them, and the official MCP SDK is
told of them (vehicle://events notifications) and reads them (resource and recent_events)."""
import asyncio
import json
import subprocess
import time

import anyio
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from conftest import DEMO_LOG, DEMO_MAPPING, wait_for

DRIVE = ["departed", "stopped", "stopped", "rain_started", "tunnel_entered", "gnss_restored", "stopped", "parked"]


def test_events_of_the_demo_drive_reach_http_sse_and_mcp(gateway_factory):
    g = gateway_factory("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--speed", 8)
    sse = subprocess.Popen(["curl", "-sS", "-N", "--max-time", "14", g.url + "/v1/events/stream?after=0"],
                           stdout=subprocess.PIPE, text=True)
    notified = []

    async def on_message(message):
        method = getattr(message, "method", None) or getattr(getattr(message, "root", None), "method", None)
        if method == "notifications/resources/updated":
            params = getattr(message, "params", None) or message.root.params
            notified.append(str(params.uri))

    async def mcp():
        async with streamable_http_client(g.url + "/mcp") as streams:
            async with ClientSession(streams[0], streams[1], message_handler=on_message) as s:
                await s.initialize()
                uris = {str(r.uri) for r in (await s.list_resources()).resources}
                assert "vehicle://events" in uris
                await s.subscribe_resource("vehicle://events")
                with anyio.fail_after(30):
                    while "vehicle://events" not in notified:
                        await asyncio.sleep(0.05)
                # Wait for the end of the drive, then read what happened.
                with anyio.fail_after(30):
                    while True:
                        body = json.loads((await s.read_resource("vehicle://events")).contents[0].text)
                        if any(e["event"] == "parked" for e in body["events"]):
                            break
                        await asyncio.sleep(0.2)
                r = await s.call_tool("recent_events", {"limit": 3})
                assert not r.is_error
                last3 = json.loads(r.content[0].text)["events"]
                r2 = await s.call_tool("recent_events", {"limit": 0})
                return body, last3, r2.is_error, r2.content[0].text
    body, last3, bad_is_error, bad_text = asyncio.run(asyncio.wait_for(mcp(), 90))
    names = [e["event"] for e in body["events"] if e["event"] != "hard_braking"]
    assert names == DRIVE, names
    assert [e["event"] for e in last3][-1] == "parked" and len(last3) == 3
    assert bad_is_error and "limit" in bad_text
    # The same over HTTP, and after an id.
    listed = json.loads(g.curl("/v1/events")[0])
    assert [e["event"] for e in listed["events"] if e["event"] != "hard_braking"] == DRIVE
    ids = [e["id"] for e in listed["events"]]
    assert ids == sorted(ids) and listed["last_id"] == ids[-1]
    after = json.loads(g.curl(f"/v1/events?after={ids[-2]}")[0])
    assert [e["id"] for e in after["events"]] == ids[-1:]
    body, code = g.curl("/v1/events?limit=0")
    assert code == 400 and "limit" in body
    # SSE with curl: every event once, in order, with its id.
    out, _ = sse.communicate(timeout=30)
    frames = [f for f in out.split("\n\n") if "event: vehicle-event" in f]
    streamed = [json.loads(next(l for l in f.splitlines() if l.startswith("data: "))[6:]) for f in frames]
    assert [e["event"] for e in streamed if e["event"] != "hard_braking"] == DRIVE, out
    assert [e["id"] for e in streamed] == ids
