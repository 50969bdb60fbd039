"""MCP with the official Python SDK, over Streamable HTTP and over stdio."""
import asyncio
import json
import os
import re
import subprocess

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from conftest import BINARY, DEMO_LOG, DEMO_MAPPING

TOOLS = {"get_driving_context", "get_signal", "list_signals", "recent_events", "advise_traffic_light",
         "get_trip", "get_vehicle_status", "can_interrupt_driver"}


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 90))


class Updates:
    """Collects resource-updated notifications."""
    def __init__(self):
        self.uris = []
        self.event = anyio.Event()

    async def __call__(self, message):
        method = getattr(message, "method", None) or getattr(getattr(message, "root", None), "method", None)
        if method == "notifications/resources/updated":
            params = getattr(message, "params", None) or message.root.params
            self.uris.append(str(params.uri))
            self.event.set()


async def exercise(session, updates):
    """What every transport must do: tools with complete schemas, each tool called, and the
    context resource subscribed with updates arriving while the log plays."""
    await session.initialize()
    tools = (await session.list_tools()).tools
    assert {t.name for t in tools} == TOOLS
    for t in tools:
        schema = t.input_schema if hasattr(t, "input_schema") else t.inputSchema
        assert schema["type"] == "object" and "properties" in schema and "required" in schema, t.name
        assert len(t.description) > 80
    for _ in range(100):  # a gateway just started may not have its first frame yet
        r = await session.call_tool("get_driving_context", {})
        assert not r.is_error
        c = json.loads(r.content[0].text)
        if c["speed"]["state"] != "unavailable" and c["location"]["state"] != "unavailable":
            break
        await asyncio.sleep(0.05)
    assert c["speed"]["state"] in ("fresh", "stale") and "motion" in c
    r = await session.call_tool("get_signal", {"path": "Vehicle.Speed"})
    s = json.loads(r.content[0].text)
    assert not r.is_error and s["path"] == "Vehicle.Speed" and s["unit"] == "km/h" and "timestamp" in s and "state" in s
    r = await session.call_tool("get_signal", {"path": "Vehicle.Sped"})
    assert r.is_error and "Vehicle.Speed" in r.content[0].text
    r = await session.call_tool("get_signal", {"path": 5})
    assert r.is_error
    r = await session.call_tool("list_signals", {"prefix": "Vehicle.CurrentLocation"})
    assert not r.is_error and all(x["path"].startswith("Vehicle.CurrentLocation") for x in json.loads(r.content[0].text)["signals"])
    lat, lon = c["location"].get("latitude_deg", 48.1), c["location"].get("longitude_deg", 11.5)
    r = await session.call_tool("advise_traffic_light", {
        "stop_line": {"latitude": lat + 0.002, "longitude": lon}, "current_phase": {"color": "red", "remaining_s": 5},
        "next_phases": [{"color": "green", "duration_s": 20}, {"color": "amber", "duration_s": 3}], "speed_limit_kmh": 50})
    text = r.content[0].text
    if r.is_error:
        assert "stale" in text or "unavailable" in text, text
    else:
        a = json.loads(text)
        assert 150 < a["distance_m"] < 300 and a["advice"] in ("keep_speed", "adjust_speed", "stop", "passed")
        assert a["green_windows"] == [{"start_s": 5, "end_s": 25}]
    r = await session.call_tool("advise_traffic_light", {"stop_line": {"latitude": lat}})
    assert r.is_error
    resources = (await session.list_resources()).resources
    assert "vehicle://context" in {str(x.uri) for x in resources}
    body = (await session.read_resource("vehicle://context")).contents[0].text
    assert "speed" in json.loads(body)
    # Templates are answered (Qwen-Agent lists them), and the one offered reads a branch.
    templates = (await session.list_resource_templates()).resource_templates
    assert [t.uri_template for t in templates] == ["vehicle://signals/{path}"]
    branch = json.loads((await session.read_resource("vehicle://signals/Vehicle.CurrentLocation")).contents[0].text)
    assert branch["signals"] and all(x["path"].startswith("Vehicle.CurrentLocation") for x in branch["signals"])
    with pytest.raises(Exception, match="unknown VSS path 'Vehicle.Nope'"):
        await session.read_resource("vehicle://signals/Vehicle.Nope")
    await session.subscribe_resource("vehicle://context")
    with anyio.fail_after(10):
        await updates.event.wait()
    assert "vehicle://context" in updates.uris


def test_mcp_over_streamable_http(gateway):
    async def go():
        updates = Updates()
        async with streamable_http_client(gateway.url + "/mcp") as streams:
            async with ClientSession(streams[0], streams[1], message_handler=updates) as session:
                await exercise(session, updates)
    run(go())
    assert gateway.alive()


def test_mcp_over_stdio_plays_the_demo_drive_by_default():
    async def go():
        updates = Updates()
        params = StdioServerParameters(command=BINARY, args=["mcp", "--speed", "4"], cwd=str(DEMO_LOG.parent.parent))
        async with stdio_client(params) as streams:
            async with ClientSession(streams[0], streams[1], message_handler=updates) as session:
                await exercise(session, updates)
    run(go())


def test_mcp_over_stdio_with_a_given_log():
    async def go():
        updates = Updates()
        params = StdioServerParameters(command=BINARY, args=["mcp", "--replay", str(DEMO_LOG), "--mapping", str(DEMO_MAPPING), "--speed", "4"])
        async with stdio_client(params) as streams:
            async with ClientSession(streams[0], streams[1], message_handler=updates) as session:
                await exercise(session, updates)
    run(go())


def test_mcp_http_rejects_a_bad_request(gateway):
    import subprocess
    # Not JSON-RPC, no session: a clear 400, and the server stays up.
    p = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}", "-X", "POST", "-H", "Content-Type: application/json",
                        "-H", "Accept: application/json, text/event-stream", "-d", "{oops", gateway.url + "/mcp"],
                       capture_output=True, text=True)
    body, _, code = p.stdout.rpartition("\n")
    assert code.startswith("4"), p.stdout
    # Oversized body.
    big = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"x": "y" * 200_000}})
    p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "Content-Type: application/json",
                        "-H", "Accept: application/json, text/event-stream", "--data-binary", "@-", gateway.url + "/mcp"],
                       input=big, capture_output=True, text=True)
    assert p.stdout == "413"
    assert gateway.alive()


def test_abandoned_initialize_flood_never_locks_the_assistant_out(gateway_factory):
    """40 `initialize` requests never followed up (more than the 32-session table holds), then
    the official SDK connects and works; the flood's oldest sessions were the ones ended."""
    gw = gateway_factory("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--speed", 4, "--loop", 0)
    init = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "flood", "version": "0"}}})
    flooded = []
    for _ in range(40):
        out = subprocess.run(["curl", "-sS", "-D", "-", "-o", "/dev/null", "-X", "POST", gw.url + "/mcp",
                              "-H", "Content-Type: application/json", "-H", "Accept: application/json, text/event-stream",
                              "--data", init], capture_output=True, text=True, timeout=30).stdout
        assert out.startswith("HTTP/1.1 200"), out
        flooded.append(re.search(r"(?im)^mcp-session-id: *(\S+)", out).group(1))

    async def go():
        async with streamable_http_client(gw.url + "/mcp") as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                body = (await session.read_resource("vehicle://context")).contents[0].text
                assert "speed" in json.loads(body)
    run(go())
    # The first of the flood were ended to make room: their id is unknown now.
    ping = json.dumps({"jsonrpc": "2.0", "id": 2, "method": "ping"})
    code = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", gw.url + "/mcp",
                           "-H", "Content-Type: application/json", "-H", "Accept: application/json, text/event-stream",
                           "-H", f"Mcp-Session-Id: {flooded[0]}", "-H", "MCP-Protocol-Version: 2025-06-18", "--data", ping],
                          capture_output=True, text=True, timeout=30).stdout
    assert code == "404", code
