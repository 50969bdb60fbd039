"""The KUKSA-compatible gRPC API (kuksa.val.v2) with clients we did not write: the generated
stub in PyPI's kuksa-client wheel for every RPC, and its high-level VSSClient."""
import json
import pathlib
import socket
import subprocess
import tempfile
import threading
import time

import grpc
import pytest
from google.protobuf import descriptor_pb2
from kuksa.val.v2 import types_pb2, val_pb2, val_pb2_grpc

from conftest import DEMO_LOG, DEMO_MAPPING, ROOT, Gateway, wait_for

DENIED = grpc.StatusCode.PERMISSION_DENIED


def stub(g, token=None):
    channel = grpc.insecure_channel(f"127.0.0.1:{g.grpc_port}")
    return val_pb2_grpc.VALStub(channel), channel


def code_of(call):
    with pytest.raises(grpc.RpcError) as e:
        call()
    return e.value.code(), e.value.details()


def path_id(path):
    return types_pb2.SignalID(path=path)


# -- the .proto files are KUKSA's, field by field ------------------------------------------------

def compiled_descriptors():
    """Our Protos/ compiled by grpcio-tools' protoc into FileDescriptorProtos."""
    from grpc_tools import protoc
    import grpc_tools
    include = pathlib.Path(grpc_tools.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory() as d:
        out = pathlib.Path(d) / "set.pb"
        rc = protoc.main(["protoc", f"-I{ROOT / 'Protos'}", f"-I{include}", f"--descriptor_set_out={out}",
                          "kuksa/val/v2/types.proto", "kuksa/val/v2/val.proto"])
        assert rc == 0
        files = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file
    return {f.name: f for f in files}


def wheel_descriptor(module):
    fdp = descriptor_pb2.FileDescriptorProto()
    module.DESCRIPTOR.CopyToProto(fdp)
    return fdp


def field_view(f):
    # json_name is derived from the name (protoc writes it out, the wheel's copy does not).
    return (f.name, f.number, f.label, f.type, f.type_name, f.oneof_index if f.HasField("oneof_index") else None,
            f.proto3_optional)


def message_view(m):
    return {"fields": [field_view(f) for f in m.field], "oneofs": [o.name for o in m.oneof_decl],
            "nested": {n.name: message_view(n) for n in m.nested_type}, "map": m.options.map_entry,
            "enums": {e.name: [(v.name, v.number) for v in e.value] for e in m.enum_type}}


def file_view(f):
    return {"package": f.package, "dependencies": list(f.dependency), "syntax": f.syntax,
            "messages": {m.name: message_view(m) for m in f.message_type},
            "enums": {e.name: [(v.name, v.number) for v in e.value] for e in f.enum_type},
            "services": {s.name: [(r.name, r.input_type, r.output_type, r.client_streaming, r.server_streaming) for r in s.method]
                         for s in f.service}}


def test_our_protos_are_the_kuksa_client_wheels_field_by_field():
    ours = compiled_descriptors()
    for module in (types_pb2, val_pb2):
        theirs = wheel_descriptor(module)
        mine = ours[theirs.name]
        a, b = file_view(mine), file_view(theirs)
        for key in b:
            if isinstance(b[key], dict):
                assert a[key].keys() == b[key].keys(), (theirs.name, key)
                for name in b[key]:
                    assert a[key][name] == b[key][name], (theirs.name, key, name)
            else:
                assert a[key] == b[key], (theirs.name, key)


# -- every RPC through the generated stub ---------------------------------------------------------

@pytest.fixture(scope="module")
def live():
    g = Gateway("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--speed", 4, "--loop", 0)
    wait_for(lambda: json.loads(g.curl("/v1/signals/Vehicle.Speed")[0])["state"] == "fresh", timeout=30)
    yield g
    assert g.stop() == 0, "".join(g.stderr)


def test_server_info_and_metadata(live):
    s, _ = stub(live)
    info = s.GetServerInfo(val_pb2.GetServerInfoRequest())
    assert info.name == "vehicle-gateway" and info.version
    everything = s.ListMetadata(val_pb2.ListMetadataRequest(root="Vehicle")).metadata
    signals = json.loads(live.curl("/v1/signals")[0])["signals"]
    assert sorted(m.path for m in everything) == sorted(x["path"] for x in signals)
    assert sorted(m.id for m in everything) == list(range(len(everything)))
    speed = s.ListMetadata(val_pb2.ListMetadataRequest(root="Vehicle.Speed")).metadata
    assert len(speed) == 1 and speed[0].data_type == types_pb2.DATA_TYPE_FLOAT and speed[0].unit == "km/h"
    assert speed[0].entry_type == types_pb2.ENTRY_TYPE_SENSOR and "CAN" in speed[0].description
    one_level = s.ListMetadata(val_pb2.ListMetadataRequest(root="Vehicle.*")).metadata
    assert {m.path for m in one_level} == {m.path for m in everything if m.path.count(".") == 1}
    deep = s.ListMetadata(val_pb2.ListMetadataRequest(root="Vehicle.**.Latitude")).metadata
    assert [m.path for m in deep] == ["Vehicle.CurrentLocation.Latitude"]
    assert code_of(lambda: s.ListMetadata(val_pb2.ListMetadataRequest(root="Vehicle.Nope")))[0] == grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: s.ListMetadata(val_pb2.ListMetadataRequest(root="Vehicle..Speed")))[0] == grpc.StatusCode.INVALID_ARGUMENT


def test_get_value_and_values_by_path_and_id(live):
    s, _ = stub(live)
    ids = {m.path: m.id for m in s.ListMetadata(val_pb2.ListMetadataRequest(root="Vehicle")).metadata}
    r, call = s.GetValue.with_call(val_pb2.GetValueRequest(signal_id=path_id("Vehicle.Speed")))
    dp = r.data_point
    assert dp.value.WhichOneof("typed_value") == "float"  # a float path is a float
    assert dict(call.initial_metadata()).get("vg-state") == "fresh"
    # The frame's time (the log's, 2023-11), not the time it was decoded.
    http = json.loads(live.curl("/v1/signals/Vehicle.Speed")[0])
    assert abs(dp.timestamp.seconds + dp.timestamp.nanos / 1e9 - http["timestamp"]) < 5
    assert dp.timestamp.seconds < 1800000000
    by_id = s.GetValue(val_pb2.GetValueRequest(signal_id=types_pb2.SignalID(id=ids["Vehicle.Speed"]))).data_point
    assert by_id.value.WhichOneof("typed_value") == "float"
    gear = s.GetValue(val_pb2.GetValueRequest(signal_id=path_id("Vehicle.Powertrain.Transmission.CurrentGear"))).data_point
    assert gear.value.WhichOneof("typed_value") == "int32"
    paths = ["Vehicle.CurrentLocation.Latitude", "Vehicle.Speed", "Vehicle.Powertrain.Transmission.CurrentGear"]
    r, call = s.GetValues.with_call(val_pb2.GetValuesRequest(signal_ids=[path_id(p) for p in paths]))
    assert [d.value.WhichOneof("typed_value") for d in r.data_points] == ["double", "float", "int32"]
    assert [v for k, v in call.initial_metadata() if k == "vg-state"] == ["fresh"] * 3
    code, details = code_of(lambda: s.GetValue(val_pb2.GetValueRequest(signal_id=path_id("Vehicle.Sped"))))
    assert code == grpc.StatusCode.NOT_FOUND and "Vehicle.Sped" in details and "Vehicle.Speed" in details
    assert code_of(lambda: s.GetValue(val_pb2.GetValueRequest(signal_id=types_pb2.SignalID(id=99999))))[0] == grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: s.GetValues(val_pb2.GetValuesRequest(signal_ids=[path_id("Vehicle.Speed"), path_id("X.Y")])))[0] == grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: s.GetValue(val_pb2.GetValueRequest()))[0] == grpc.StatusCode.INVALID_ARGUMENT
    assert code_of(lambda: s.GetValue(val_pb2.GetValueRequest(signal_id=path_id("V" * 2000))))[0] == grpc.StatusCode.INVALID_ARGUMENT


def test_the_gateway_is_read_only(live):
    s, _ = stub(live)
    before = s.GetValue(val_pb2.GetValueRequest(signal_id=path_id("Vehicle.Speed"))).data_point
    v = types_pb2.Value(float=999.0)
    actuate = val_pb2.ActuateRequest(signal_id=path_id("Vehicle.Speed"), value=v)
    calls = [
        lambda: s.Actuate(actuate),
        lambda: s.BatchActuate(val_pb2.BatchActuateRequest(actuate_requests=[actuate])),
        lambda: s.ActuateStream(iter([actuate])),
        lambda: s.PublishValue(val_pb2.PublishValueRequest(signal_id=path_id("Vehicle.Speed"), data_point=types_pb2.Datapoint(value=v))),
        lambda: list(s.OpenProviderStream(iter([val_pb2.OpenProviderStreamRequest(
            publish_values_request=val_pb2.PublishValuesRequest(request_id=1, data_points={0: types_pb2.Datapoint(value=v)}))]))),
    ]
    for call in calls:
        code, details = code_of(call)
        assert code == DENIED and "read-only" in details, details
    after = s.GetValue(val_pb2.GetValueRequest(signal_id=path_id("Vehicle.Speed"))).data_point
    assert after.value.float != 999.0 and before.value.float != 999.0


def test_subscribe_sends_current_values_then_changes(live):
    s, channel = stub(live)
    paths = ["Vehicle.Speed", "Vehicle.Powertrain.Transmission.CurrentGear"]
    stream = s.Subscribe(val_pb2.SubscribeRequest(signal_paths=paths))
    first = next(stream)
    assert set(first.entries) == set(paths)  # every path at once, then changes
    stamps = set()
    for r in stream:
        assert set(r.entries) <= set(paths)
        if "Vehicle.Speed" in r.entries:
            stamps.add(r.entries["Vehicle.Speed"].timestamp.ToNanoseconds())
        if len(stamps) >= 5:
            break
    stream.cancel()
    ids = {m.path: m.id for m in s.ListMetadata(val_pb2.ListMetadataRequest(root="Vehicle.Speed")).metadata}
    by_id = s.SubscribeById(val_pb2.SubscribeByIdRequest(signal_ids=[ids["Vehicle.Speed"]]))
    assert list(next(by_id).entries) == [ids["Vehicle.Speed"]]
    by_id.cancel()
    # The filter's minimum sample interval: about two messages a second at 500 ms.
    slow = s.Subscribe(val_pb2.SubscribeRequest(signal_paths=["Vehicle.Speed"],
                                                filter=types_pb2.Filter(min_sample_interval=types_pb2.SampleInterval(interval_ms=500))))
    start, n = time.time(), 0
    for _ in slow:
        n += 1
        if time.time() - start > 3:
            break
    slow.cancel()
    assert 4 <= n <= 9, n
    code, details = code_of(lambda: next(s.Subscribe(val_pb2.SubscribeRequest(signal_paths=["Vehicle.Speed"], buffer_size=5000))))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "buffer_size" in details
    assert code_of(lambda: next(s.Subscribe(val_pb2.SubscribeRequest(signal_paths=["Vehicle.Nope"]))))[0] == grpc.StatusCode.NOT_FOUND


def test_a_slow_subscriber_still_gets_the_last_value(live):
    """buffer_size 2 and a client that reads nothing for three seconds: what it then reads ends
    with the value the gateway has now (messages were merged, none of the last values lost)."""
    s, _ = stub(live)
    stream = s.Subscribe(val_pb2.SubscribeRequest(signal_paths=["Vehicle.Speed", "Vehicle.Powertrain.Transmission.CurrentGear"], buffer_size=2))
    next(stream)
    time.sleep(3)
    latest = {}
    deadline = time.time() + 2
    for r in stream:
        for k, v in r.entries.items():
            latest[k] = v
        if time.time() > deadline:
            break
    stream.cancel()
    assert set(latest) == {"Vehicle.Speed", "Vehicle.Powertrain.Transmission.CurrentGear"}


def test_the_high_level_kuksa_client_subscribes_to_speed_and_gear(live):
    from kuksa_client.grpc import VSSClient
    # ensure_startup_connection=False: its startup check calls kuksa.val.v1's GetServerInfo.
    with VSSClient("127.0.0.1", live.grpc_port, ensure_startup_connection=False) as client:
        seen = {}
        for updates in client.subscribe_current_values(["Vehicle.Speed", "Vehicle.Powertrain.Transmission.CurrentGear"]):
            for path, dp in updates.items():
                if dp is not None and dp.value is not None:
                    seen.setdefault(path, set()).add(dp.value)
            if len(seen.get("Vehicle.Speed", ())) >= 5 and "Vehicle.Powertrain.Transmission.CurrentGear" in seen:
                break
        assert all(isinstance(v, float) for v in seen["Vehicle.Speed"])
        assert all(isinstance(v, int) for v in seen["Vehicle.Powertrain.Transmission.CurrentGear"])
        # Branches are expanded through ListMetadata, as against KUKSA Databroker.
        for updates in client.subscribe_current_values(["Vehicle.CurrentLocation"]):
            assert {"Vehicle.CurrentLocation.Latitude", "Vehicle.CurrentLocation.Longitude"} <= set(updates)
            break


def test_values_go_stale_when_the_replay_ends():
    g = Gateway("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--speed", 20, "--loop", 1)
    try:
        s, _ = stub(g)
        stream = s.Subscribe(val_pb2.SubscribeRequest(signal_paths=["Vehicle.Speed"]))
        had_value = False
        last = None
        for r in stream:
            dp = r.entries["Vehicle.Speed"]
            if dp.HasField("value"):
                had_value = True
                last = dp.timestamp.ToNanoseconds()
            elif had_value:
                # Turned stale: no value, and the time of the last frame.
                assert dp.timestamp.ToNanoseconds() == last
                break
        stream.cancel()
        r, call = s.GetValue.with_call(val_pb2.GetValueRequest(signal_id=path_id("Vehicle.Speed")))
        assert not r.data_point.HasField("value") and r.data_point.timestamp.ToNanoseconds() == last
        assert dict(call.initial_metadata())["vg-state"] == "stale"
    finally:
        assert g.stop() == 0


def test_sigterm_ends_open_streams_cleanly():
    g = Gateway("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--loop", 0)
    s, _ = stub(g)
    stream = s.Subscribe(val_pb2.SubscribeRequest(signal_paths=["Vehicle.Speed"]))
    next(stream)
    result = {}

    def drain():
        try:
            for _ in stream:
                pass
            result["code"] = stream.code()
        except grpc.RpcError as e:
            result["code"] = e.code()

    t = threading.Thread(target=drain)
    t.start()
    started = time.time()
    assert g.stop() == 0, "".join(g.stderr)
    t.join(10)
    assert result.get("code") == grpc.StatusCode.OK and time.time() - started < 5, result


def test_token_and_limits():
    g = Gateway("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--loop", 0, "--token", "0123456789abcdef-token")
    try:
        s, _ = stub(g)
        req = val_pb2.GetValueRequest(signal_id=path_id("Vehicle.Speed"))
        code, details = code_of(lambda: s.GetValue(req))
        assert code == grpc.StatusCode.UNAUTHENTICATED and "authorization" in details
        code, _ = code_of(lambda: s.GetValue(req, metadata=[("authorization", "Bearer wrong")]))
        assert code == grpc.StatusCode.UNAUTHENTICATED
        assert s.GetValue(req, metadata=[("authorization", "Bearer 0123456789abcdef-token")]).data_point
        from kuksa_client.grpc import VSSClient
        with VSSClient("127.0.0.1", g.grpc_port, token="0123456789abcdef-token", ensure_startup_connection=False) as client:
            for updates in client.subscribe_current_values(["Vehicle.Speed"]):
                assert "Vehicle.Speed" in updates
                break
        # 300 sockets that never speak (or speak a byte at a time) cannot keep a client out.
        idle = []
        for i in range(300):
            c = socket.create_connection(("127.0.0.1", g.grpc_port))
            if i % 2:
                c.send(b"P")
            idle.append(c)
        time.sleep(0.5)
        t = time.time()
        fresh, _ = stub(g)
        assert fresh.GetValue(req, metadata=[("authorization", "Bearer 0123456789abcdef-token")], timeout=5).data_point
        assert time.time() - t < 1.0
        for c in idle:
            c.close()
    finally:
        assert g.stop() == 0


def test_bad_grpc_settings_are_clear_errors():
    from conftest import BINARY
    p = subprocess.run([BINARY, "run", "--grpc-listen", "nonsense", "--quiet"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 64 and "--grpc-listen takes HOST:PORT or none" in p.stderr
    p = subprocess.run([BINARY, "run", "--grpc-listen", "0.0.0.0:0", "--listen", "127.0.0.1:0", "--quiet"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 64 and "needs a token" in p.stderr
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    p = subprocess.run([BINARY, "run", "--grpc-listen", f"127.0.0.1:{port}", "--listen", "127.0.0.1:0", "--quiet"],
                       capture_output=True, text=True, timeout=60)
    busy.close()
    assert p.returncode != 0 and str(port) in p.stderr and "gRPC" in p.stderr, p.stderr
