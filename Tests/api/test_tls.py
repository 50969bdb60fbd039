"""TLS: HTTPS and WSS with a certificate of our own, checked by curl and websockets."""
import asyncio
import json
import ssl
import subprocess

import websockets

from conftest import DEMO_LOG, DEMO_MAPPING


def make_certificate(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


def test_https_and_wss_with_a_token(gateway_factory, tmp_path):
    cert, key = make_certificate(tmp_path)
    g = gateway_factory("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--speed", 4, "--tls-cert", cert, "--tls-key", key,
                        "--token", "0123456789abcdef0123")
    url = f"https://127.0.0.1:{g.port}"
    ok = subprocess.run(["curl", "-sS", "--cacert", cert, "-H", "Authorization: Bearer 0123456789abcdef0123", url + "/v1/context"],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "speed" in json.loads(ok.stdout), ok.stderr
    plain = subprocess.run(["curl", "-sS", f"http://127.0.0.1:{g.port}/v1/context"], capture_output=True, text=True)
    assert plain.returncode != 0 or "speed" not in plain.stdout  # no plain HTTP on a TLS port
    untrusted = subprocess.run(["curl", "-sS", url + "/v1/context"], capture_output=True, text=True)
    assert untrusted.returncode == 60  # curl: the certificate is not trusted without --cacert

    async def viss():
        context = ssl.create_default_context(cafile=str(cert))
        async with websockets.connect(f"wss://127.0.0.1:{g.port}/", subprotocols=["VISSv2"], ssl=context,
                                      additional_headers={"Authorization": "Bearer 0123456789abcdef0123"}) as ws:
            await ws.send(json.dumps({"action": "get", "path": "Vehicle.Speed", "requestId": "t"}))
            assert json.loads(await ws.recv())["data"]["path"] == "Vehicle.Speed"
    asyncio.run(asyncio.wait_for(viss(), 30))

    # The gRPC API takes the API's certificate by default: kuksa-client's stub over TLS.
    import grpc
    from kuksa.val.v2 import types_pb2, val_pb2, val_pb2_grpc
    creds = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
    stub = val_pb2_grpc.VALStub(grpc.secure_channel(f"127.0.0.1:{g.grpc_port}", creds))
    r = stub.GetValue(val_pb2.GetValueRequest(signal_id=types_pb2.SignalID(path="Vehicle.Speed")),
                      metadata=[("authorization", "Bearer 0123456789abcdef0123")], timeout=10)
    assert r.data_point.HasField("timestamp")
    plain = val_pb2_grpc.VALStub(grpc.insecure_channel(f"127.0.0.1:{g.grpc_port}"))
    try:
        plain.GetServerInfo(val_pb2.GetServerInfoRequest(), timeout=5)
        raise AssertionError("plaintext gRPC answered on a TLS port")
    except grpc.RpcError as e:
        assert e.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED), e
    assert g.alive()


def test_a_missing_certificate_is_a_clear_error(tmp_path):
    from conftest import BINARY
    p = subprocess.run([BINARY, "run", "--listen", "127.0.0.1:0", "--quiet", "--replay", DEMO_LOG, "--mapping", DEMO_MAPPING,
                        "--tls-cert", tmp_path / "none.pem", "--tls-key", tmp_path / "none.key"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 66 and "cannot load the TLS certificate" in p.stderr, p.stderr
    p = subprocess.run([BINARY, "run", "--listen", "127.0.0.1:0", "--quiet", "--tls-cert", tmp_path / "none.pem"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 64 and "both a certificate" in p.stderr, p.stderr
