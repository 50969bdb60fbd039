"""The OpenAPI description (docs/openapi.json) against the real gateway: it is valid OpenAPI 3.1,
it is what /openapi.json serves, it names every route the server has, every response along the
demo drive validates against it, and schemathesis (a client we did not write) fuzzes the API
from it."""
import json
import pathlib
import re
import subprocess
import sys

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conftest import DEMO_LOG, DEMO_MAPPING, ROOT, Gateway, wait_for

DOC_PATH = ROOT / "docs" / "openapi.json"
DOC = json.loads(DOC_PATH.read_text())
REGISTRY = Registry().with_resource("urn:doc", Resource.from_contents(DOC, default_specification=DRAFT202012))


def errors(schema, body):
    v = Draft202012Validator({"$ref": "urn:doc#/components/schemas/" + schema}, registry=REGISTRY)
    return [f"{schema} {e.json_path}: {e.message}" for e in v.iter_errors(body)]


def test_the_document_is_valid_openapi_and_is_what_the_gateway_serves(gateway):
    validate(DOC)
    body, code = gateway.curl("/openapi.json")
    assert code == 200 and json.loads(body) == DOC, "run scripts/embed-openapi.py after editing docs/openapi.json"


def test_every_route_is_described_and_every_description_is_a_route():
    source = "".join((ROOT / "Sources" / "AssistantAPI" / f).read_text() for f in ("AssistantServer.swift", "DashboardController.swift"))
    routes = set(re.findall(r'router\.(?:get|post|delete|on)\("([^"]+)"', source))
    documented = set(DOC["paths"])
    assert routes == documented, (routes ^ documented)


def test_every_response_along_the_drive_validates(gateway_factory):
    g = gateway_factory("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--speed", 8)
    seen, problems = set(), []

    def sample():
        for path, schema in (("/v1/context", "DrivingContext"), ("/v1/signals", "Signals"), ("/v1/signals/Vehicle.Speed", "Signal"),
                             ("/v1/events", "Events"), ("/healthz", "Health"), ("/v1/events?limit=0", "Error"),
                             ("/v1/signals/Vehicle.Nope", "Error"), ("/v1/signals?prefix=Nope", "Error")):
            body, code = g.curl(path)
            problems.extend(errors(schema, json.loads(body)))
            if path == "/v1/context":
                c = json.loads(body)
                seen.add((c["motion"], c["location"]["state"], c["phase"].get("current")))
        return None
    # Through the drive (parked, reversing, moving, the tunnel, parked again) and after its end.
    for _ in range(60):
        sample()
        if any(m == "parked" and p == "parked" for m, _, p in seen) and any(s == "stale" for _, s, _ in seen) and len(seen) > 5:
            break
    assert not problems, problems[:10]
    assert {m for m, _, _ in seen} >= {"parked", "moving"}, seen


def test_a_degraded_health_and_a_refused_token_validate():
    g = Gateway("--interface", "vcan0", "--mapping", DEMO_MAPPING)
    try:
        body = wait_for(lambda: (lambda b, c: b if c == 503 else None)(*g.curl("/healthz")))
        assert not errors("Health", json.loads(body))
    finally:
        g.stop()
    g = Gateway("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--token", "s3cret")
    try:
        body, code = g.curl("/v1/context")
        assert code == 401 and not errors("Error", json.loads(body))
        assert "401" in DOC["paths"]["/v1/context"]["get"]["responses"]
    finally:
        g.stop()


def test_schemathesis_fuzzes_the_api_from_the_document(gateway, tmp_path):
    """Every operation but the endless streams, the WebSocket and MCP (JSON-RPC, tested with its own SDK):
    no server error, status codes, content types and bodies as documented, bad input refused, and
    every answer within a second (the debug build, on a busy machine)."""
    st = pathlib.Path(sys.executable).with_name("st")
    p = subprocess.run([str(st), "run", str(DOC_PATH), "--url", gateway.url, "--max-examples", "40",
                        "--exclude-path", "/v1/context/stream", "--exclude-path", "/v1/events/stream", "--exclude-path", "/mcp", "--exclude-path", "/viss",
                        "--phases", "examples,coverage,fuzzing", "--checks", "all", "--request-timeout", "10", "--max-response-time", "1",
                        "--generation-database", "none", "--no-color", "--report-dir", str(tmp_path)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-6000:] + p.stderr[-2000:]
    assert gateway.alive()
