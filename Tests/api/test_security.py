"""Bearer tokens on HTTP, WebSocket and MCP; loopback by default."""
import asyncio
import json
import subprocess

import httpx2
import pytest
import websockets
from websockets.exceptions import InvalidStatus
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from conftest import DEMO_LOG, DEMO_MAPPING, Gateway


def test_token_is_required_on_http_websocket_and_mcp(gateway_factory):
    g = gateway_factory("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--token", "s3cret")
    body, code = g.curl("/v1/context")
    assert code == 401 and "bearer token" in json.loads(body)["error"]["message"]
    _, code = g.curl("/v1/context", "-H", "Authorization: Bearer wrong")
    assert code == 401
    _, code = g.curl("/healthz", "-H", "Authorization: Bearer s3cret")
    assert code == 200
    _, code = g.curl("/mcp", "-X", "POST", "-d", "{}")
    assert code == 401

    async def ws():
        with pytest.raises(InvalidStatus) as e:
            await websockets.connect(g.ws_url, subprotocols=["VISSv2"])
        # Refused before the upgrade; hummingbird-websocket answers every refused upgrade with 400.
        assert e.value.response.status_code in (400, 401)
        async with websockets.connect(g.ws_url, subprotocols=["VISSv2"], additional_headers={"Authorization": "Bearer s3cret"}) as c:
            await c.send(json.dumps({"action": "get", "path": "Vehicle.Speed"}))
            assert "data" in json.loads(await c.recv())

        client = httpx2.AsyncClient(headers={"Authorization": "Bearer s3cret"})
        async with streamable_http_client(g.url + "/mcp", http_client=client) as streams:
            async with ClientSession(streams[0], streams[1]) as s:
                await s.initialize()
                assert {t.name for t in (await s.list_tools()).tools} >= {"get_driving_context", "recent_events", "advise_traffic_light"}
    asyncio.run(asyncio.wait_for(ws(), 60))
    assert g.alive()


def test_beyond_loopback_generates_and_prints_a_token(gateway_factory):
    g = gateway_factory("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--listen", "0.0.0.0:0")
    assert g.token and len(g.token) >= 32
    _, code = g.curl("/v1/context")
    assert code == 401
    _, code = g.curl("/v1/context", "-H", f"Authorization: Bearer {g.token}")
    assert code == 200


def test_idle_connections_cannot_starve_the_api(gateway_factory):
    """300 TCP connections that never send a request (more than the 256 slots): a new client
    is still answered, and the idle sockets are closed by the gateway (5 s idle limit)."""
    import socket
    import time
    gw = gateway_factory("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--speed", 4, "--loop", 0)
    idle = [socket.create_connection(("127.0.0.1", gw.port)) for _ in range(300)]
    try:
        t = time.monotonic()
        body, code = gw.curl("/v1/context", "--max-time", "15")
        assert code == 200 and "speed" in json.loads(body), body
        assert time.monotonic() - t < 12
        # Every idle socket is closed by the gateway (EOF) within the idle limit and some slack.
        deadline = time.monotonic() + 20
        closed = 0
        for s in idle:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                closed += s.recv(1) == b""
            except (socket.timeout, ConnectionResetError):
                pass
        assert closed == len(idle), f"{closed}/{len(idle)} idle connections closed"
    finally:
        for s in idle:
            s.close()
    assert gw.alive()
