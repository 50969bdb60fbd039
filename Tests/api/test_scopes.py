"""Scoped access tokens (KUKSA's JWT scopes) on every API, with parts we did not write: keys
made by openssl, tokens signed by PyJWT, and the real clients — curl, websockets (VISS), the
MCP Python SDK, kuksa-client's generated stub (gRPC)."""
import asyncio
import json
import subprocess
import sys
import time

import grpc
import httpx2
import jwt
import pytest
import websockets
from kuksa.val.v2 import types_pb2, val_pb2, val_pb2_grpc
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from websockets.exceptions import InvalidStatus

from conftest import BINARY, DEMO_LOG, DEMO_MAPPING, Gateway, wait_for

SPEED = "Vehicle.Speed"
LATITUDE = "Vehicle.CurrentLocation.Latitude"


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)
    run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", d / "ec.pem")
    run("ec", "-in", d / "ec.pem", "-pubout", "-out", d / "ec.pub.pem")
    run("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", d / "rsa.pem")
    run("pkey", "-in", d / "rsa.pem", "-pubout", "-out", d / "rsa.pub.pem")
    run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", d / "other.pem")
    return d


def token(keys, scope, alg="ES256", key="ec", exp=3600, aud="kuksa.val", **extra):
    claims = {"scope": scope, "sub": "assistant", "iat": int(time.time()), **extra}
    if exp is not None:
        claims["exp"] = int(time.time()) + exp
    if aud is not None:
        claims["aud"] = aud
    return jwt.encode(claims, (keys / f"{key}.pem").read_text(), algorithm=alg)


@pytest.fixture(scope="module")
def live(keys):
    g = Gateway("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--speed", 4, "--loop", 0,
                "--jwt-key", keys / "ec.pub.pem", "--jwt-key", keys / "rsa.pub.pem")
    full = token(keys, "read", alg="RS256", key="rsa")
    wait_for(lambda: json.loads(g.curl(f"/v1/signals/{SPEED}", "-H", f"Authorization: Bearer {full}")[0]).get("state") == "fresh", timeout=30)
    yield g
    assert g.stop() == 0, "".join(g.stderr)


def http(g, path, tok):
    body, code = g.curl(path, "-H", f"Authorization: Bearer {tok}")
    return (json.loads(body) if body else None), code


def test_http_and_sse_give_only_what_the_scopes_cover(live, keys):
    speed_only = token(keys, f"read:{SPEED}")
    assert http(live, f"/v1/signals/{SPEED}", speed_only)[1] == 200
    body, code = http(live, f"/v1/signals/{LATITUDE}", speed_only)
    assert code == 403 and f"do not cover '{LATITUDE}'" in body["error"]["message"], body
    context, code = http(live, "/v1/context", speed_only)
    assert code == 200 and "speed_kmh" in context["speed"] and "location" not in context
    assert {"location", "gear", "motion", "attention", "trip", "phase"} <= set(context["withheld"])
    assert "acceleration" in context and "acceleration" not in context["withheld"]
    signals, _ = http(live, "/v1/signals", speed_only)
    assert [s["path"] for s in signals["signals"]] == [SPEED] and LATITUDE in signals["withheld"]
    assert http(live, "/v1/signals?prefix=Vehicle.CurrentLocation", speed_only)[1] == 403
    assert http(live, "/v1/events", speed_only)[1] == 403  # the events are a path of their own
    assert http(live, "/healthz", speed_only)[1] == 200
    # A branch covers everything below it; one level of '*'.
    branch = token(keys, "read:Vehicle.CurrentLocation read:Vehicle.Cabin.Seat.Row1.*.IsBelted")
    context, _ = http(live, "/v1/context", branch)
    assert "latitude_deg" in context["location"] and "speed" not in context
    belts, _ = http(live, "/v1/signals?prefix=Vehicle.Cabin", branch)
    assert belts["signals"] and all(s["path"].endswith(".IsBelted") for s in belts["signals"])
    # Server-Sent Events: the same context, without what is withheld.
    p = subprocess.run(["curl", "-sN", "--max-time", "2", "-H", f"Authorization: Bearer {speed_only}", live.url + "/v1/context/stream"],
                       capture_output=True, text=True)
    first = json.loads(next(l for l in p.stdout.splitlines() if l.startswith("data:"))[5:])
    assert "speed" in first and "location" not in first and "location" in first["withheld"]
    # A browser session made with a scoped token keeps its scopes.
    cookies = keys / "cookies.txt"
    subprocess.run(["curl", "-s", "-c", cookies, "-X", "POST", "-H", f"Authorization: Bearer {speed_only}", live.url + "/v1/session"], check=True)
    body, code = live.curl("/v1/context", "-b", cookies)
    assert code == 200 and "location" not in json.loads(body)


def test_viss_refuses_what_the_scopes_do_not_cover(live, keys):
    speed_only = token(keys, f"read:{SPEED}")

    async def run():
        async with websockets.connect(live.ws_url, subprotocols=["VISSv2"], additional_headers={"Authorization": f"Bearer {speed_only}"}) as c:
            await c.send(json.dumps({"action": "get", "path": SPEED, "requestId": "1"}))
            assert json.loads(await c.recv())["data"]["path"] == SPEED
            await c.send(json.dumps({"action": "get", "path": LATITUDE, "requestId": "2"}))
            e = json.loads(await c.recv())["error"]
            assert e["number"] == "403" and e["reason"] == "user_forbidden" and LATITUDE in e["message"], e
            await c.send(json.dumps({"action": "subscribe", "path": "Vehicle.CurrentLocation", "requestId": "3"}))
            assert json.loads(await c.recv())["error"]["number"] == "403"
            await c.send(json.dumps({"action": "get", "path": "Vehicle", "requestId": "4"}))
            data = json.loads(await c.recv())["data"]
            assert {d["path"] for d in (data if isinstance(data, list) else [data])} == {SPEED}
    asyncio.run(asyncio.wait_for(run(), 30))


def test_mcp_over_http_and_stdio_refuses_what_the_scopes_do_not_cover(live, keys):
    speed_only = token(keys, f"read:{SPEED}")

    async def over_http():
        client = httpx2.AsyncClient(headers={"Authorization": f"Bearer {speed_only}"})
        async with streamable_http_client(live.url + "/mcp", http_client=client) as streams:
            async with ClientSession(streams[0], streams[1]) as s:
                await s.initialize()
                ok = await s.call_tool("get_signal", {"path": SPEED})
                assert not ok.is_error and json.loads(ok.content[0].text)["path"] == SPEED
                denied = await s.call_tool("get_signal", {"path": LATITUDE})
                assert denied.is_error and "do not cover" in denied.content[0].text
                light = await s.call_tool("advise_traffic_light", {"stop_line": {"latitude": 48.1, "longitude": 11.5},
                                                                   "current_phase": {"color": "red", "remaining_s": 5}})
                assert light.is_error and "location" in light.content[0].text
                context = json.loads((await s.call_tool("get_driving_context", {})).content[0].text)
                assert "location" not in context and "location" in context["withheld"]
    asyncio.run(asyncio.wait_for(over_http(), 60))

    async def over_stdio():
        params = StdioServerParameters(command=BINARY, args=["mcp", "--replay", str(DEMO_LOG), "--mapping", str(DEMO_MAPPING),
                                                             "--loop", "0", "--scope", f"read:{SPEED}"])
        async with stdio_client(params) as (r, w):
            async with ClientSession(r, w) as s:
                await s.initialize()
                denied = await s.call_tool("get_signal", {"path": LATITUDE})
                assert denied.is_error and "do not cover" in denied.content[0].text
                assert not (await s.call_tool("get_signal", {"path": SPEED})).is_error
    asyncio.run(asyncio.wait_for(over_stdio(), 60))


def test_grpc_refuses_what_the_scopes_do_not_cover(live, keys):
    speed_only = token(keys, f"read:{SPEED}")
    meta = [("authorization", f"Bearer {speed_only}")]
    stub = val_pb2_grpc.VALStub(grpc.insecure_channel(f"127.0.0.1:{live.grpc_port}"))
    get = lambda path: stub.GetValue(val_pb2.GetValueRequest(signal_id=types_pb2.SignalID(path=path)), metadata=meta)
    assert get(SPEED).data_point.value.WhichOneof("typed_value") == "float"
    with pytest.raises(grpc.RpcError) as e:
        get(LATITUDE)
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED and LATITUDE in e.value.details()
    listed = stub.ListMetadata(val_pb2.ListMetadataRequest(root="Vehicle"), metadata=meta).metadata
    assert [m.path for m in listed] == [SPEED]
    with pytest.raises(grpc.RpcError) as e:
        next(stub.Subscribe(val_pb2.SubscribeRequest(signal_paths=[SPEED, LATITUDE]), metadata=meta))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    first = next(stub.Subscribe(val_pb2.SubscribeRequest(signal_paths=[SPEED]), metadata=meta))
    assert list(first.entries) == [SPEED]
    # kuksa-client's own VSSClient with the token.
    from kuksa_client.grpc import VSSClient
    with VSSClient("127.0.0.1", live.grpc_port, token=speed_only, ensure_startup_connection=False) as client:
        for updates in client.subscribe_current_values([SPEED]):
            assert SPEED in updates
            break


def test_expired_foreign_and_wrong_audience_tokens_are_refused_on_every_api(live, keys):
    cases = {
        "expired": (token(keys, "read", exp=-10), "expired"),
        "another key": (token(keys, "read", key="other"), "signature does not verify"),
        "wrong audience": (token(keys, "read", aud="someone.else"), "aud must include 'kuksa.val'"),
        "not yet valid": (token(keys, "read", nbf=int(time.time()) + 600), "not valid before"),
    }
    for name, (tok, reason) in cases.items():
        body, code = http(live, "/v1/context", tok)
        assert code == 401 and reason in body["error"]["message"], (name, body)
        head = subprocess.run(["curl", "-s", "-D", "-", "-o", "/dev/null", "-H", f"Authorization: Bearer {tok}", live.url + "/v1/context"],
                              capture_output=True, text=True).stdout.lower()
        assert 'www-authenticate: bearer realm="vehicle-gateway", error="invalid_token"' in head, head
        stub = val_pb2_grpc.VALStub(grpc.insecure_channel(f"127.0.0.1:{live.grpc_port}"))
        with pytest.raises(grpc.RpcError) as e:
            stub.GetValue(val_pb2.GetValueRequest(signal_id=types_pb2.SignalID(path=SPEED)), metadata=[("authorization", f"Bearer {tok}")])
        assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED and reason in e.value.details(), (name, e.value.details())

        async def viss_and_mcp():
            with pytest.raises(InvalidStatus) as e:
                await websockets.connect(live.ws_url, subprotocols=["VISSv2"], additional_headers={"Authorization": f"Bearer {tok}"})
            assert e.value.response.status_code in (400, 401)
            client = httpx2.AsyncClient(headers={"Authorization": f"Bearer {tok}"})
            r = await client.post(live.url + "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}},
                                  headers={"Accept": "application/json, text/event-stream"})
            assert r.status_code == 401 and reason in r.text
        asyncio.run(asyncio.wait_for(viss_and_mcp(), 30))
    # RS256 with every path.
    full = token(keys, "read", alg="RS256", key="rsa")
    context, code = http(live, "/v1/context", full)
    assert code == 200 and "withheld" not in context and "latitude_deg" in context["location"]


def test_the_token_command_makes_keys_and_tokens_the_gateway_and_pyjwt_accept(tmp_path, gateway_factory):
    subprocess.run([BINARY, "token", "keygen", "--private-key", tmp_path / "k.pem", "--public-key", tmp_path / "k.pub.pem"], check=True)
    tok = subprocess.run([BINARY, "token", "sign", "--key", tmp_path / "k.pem", "--scope", f"read:{SPEED}", "--expires-in", "10m"],
                         check=True, capture_output=True, text=True).stdout.strip()
    claims = jwt.decode(tok, (tmp_path / "k.pub.pem").read_text(), algorithms=["ES256"], audience="kuksa.val")
    assert claims["scope"] == f"read:{SPEED}" and 590 <= claims["exp"] - claims["iat"] <= 600
    check = subprocess.run([BINARY, "token", "check", tok, "--jwt-key", tmp_path / "k.pub.pem"], capture_output=True, text=True)
    assert check.returncode == 0 and f"reads read:{SPEED}" in check.stdout
    g = gateway_factory("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--jwt-key", tmp_path / "k.pub.pem")
    assert http(g, f"/v1/signals/{SPEED}", tok)[1] == 200 and http(g, f"/v1/signals/{LATITUDE}", tok)[1] == 403
    assert g.curl("/v1/context")[1] == 401
    bad = subprocess.run([BINARY, "run", "--jwt-key", tmp_path / "k.pem.nope", "--quiet"], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 66 and "k.pem.nope" in bad.stderr
    (tmp_path / "junk.pem").write_text("not a key\n")
    bad = subprocess.run([BINARY, "run", "--jwt-key", tmp_path / "junk.pem", "--quiet"], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 65 and "junk.pem:1:1: error: expected a PEM public key" in bad.stderr
