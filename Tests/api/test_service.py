"""`run --config`, systemd readiness and watchdog (sd_notify), logging, clean shutdown."""
import json
import os
import signal
import socket
import subprocess
import time

from conftest import BINARY, DEMO_LOG, DEMO_MAPPING, Gateway, ROOT, wait_for


def test_config_errors_are_reported_together_with_lines(tmp_path):
    cfg = tmp_path / "gateway.yaml"
    cfg.write_text(
        "mapping: missing.yaml\n"
        "sources:\n"
        "  interfaces: [can0]\n"
        "  replay: [nowhere.log]\n"
        "  speed: -2\n"
        "api:\n"
        "  lisen: 127.0.0.1:8080\n"
        "  location_decimals: 42\n"
        "log:\n"
        "  level: loud\n"
        "statuss: true\n")
    p = subprocess.run([BINARY, "run", "--config", cfg], capture_output=True, text=True, timeout=30)
    assert p.returncode == 65, p.stderr
    err = p.stderr
    for line, text in [(1, "mapping: cannot read 'missing.yaml'"), (4, "cannot read 'nowhere.log'"), (5, "sources.speed"),
                       (7, "unknown key 'lisen' in 'api'; did you mean 'listen'?"), (8, "location_decimals"),
                       (10, "log.level"), (11, "unknown key 'statuss'"), (2, "not both")]:
        assert f"{cfg}:{line}:" in err and text in err, (line, text, err)


def test_config_runs_a_replay_and_flags_override_it(tmp_path):
    cfg = tmp_path / "gateway.yaml"
    cfg.write_text(f"mapping: {DEMO_MAPPING}\nsources:\n  replay: [{DEMO_LOG}]\n  speed: 4\n"
                   "api:\n  listen: 127.0.0.1:1\n  location_decimals: 1\nlog:\n  format: json\n  level: info\nstatus: false\n")
    g = Gateway("--config", cfg)  # --listen 127.0.0.1:0 from the fixture overrides the file's port 1
    time.sleep(1)
    c = json.loads(g.curl("/v1/context")[0])
    assert round(c["location"]["latitude_deg"], 1) == c["location"]["latitude_deg"]
    assert g.stop() == 0
    logs = [json.loads(l) for l in g.stderr if l.startswith("{")]
    assert any(l["message"] == "API listening" and l["level"] == "info" for l in logs), g.stderr


def test_sd_notify_ready_watchdog_and_stopping(tmp_path):
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(15)
    env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="400000")
    p = subprocess.Popen([BINARY, "run", "--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--listen", "127.0.0.1:0",
                          "--quiet"], env=env, stderr=subprocess.DEVNULL)
    try:
        messages = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < 2.0:
            messages.append(sock.recv(4096).decode())
        assert messages[0].startswith("READY=1"), messages
        pings = [m for m in messages if m == "WATCHDOG=1"]
        assert 3 <= len(pings) <= 12, messages  # every 200 ms
        t = time.monotonic()
        p.send_signal(signal.SIGTERM)
        assert p.wait(5) == 0
        assert time.monotonic() - t < 1.0
        rest = []
        sock.settimeout(1)
        try:
            while True:
                rest.append(sock.recv(4096).decode())
        except socket.timeout:
            pass
        assert "STOPPING=1" in rest, rest
    finally:
        if p.poll() is None:
            p.kill()
        sock.close()


def test_sigint_stops_cleanly_within_a_second():
    g = Gateway("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING)
    time.sleep(1)
    t = time.monotonic()
    g.proc.send_signal(signal.SIGINT)
    assert g.proc.wait(5) == 0
    assert time.monotonic() - t < 1.0


def test_a_failing_source_does_not_take_the_api_down():
    # The mapped live interface on a host without it (no CAN here): the bus is down and says why,
    # the API stays.
    g = Gateway("--interface", "vcan0", "--mapping", DEMO_MAPPING)
    try:
        h = wait_for(lambda: (lambda b: b if b["buses"][0]["state"] == "down" else None)(json.loads(g.curl("/healthz")[0])))
        body, code = g.curl("/healthz")
        assert code == 503 and h["status"] == "degraded"
        assert h["buses"][0]["reason"], h
        assert json.loads(g.curl("/v1/context")[0])["speed"]["state"] == "unavailable"
        assert g.alive()
    finally:
        assert g.stop() == 0, "".join(g.stderr)


def test_an_interface_that_maps_to_no_bus_is_a_start_up_error():
    p = subprocess.run([BINARY, "run", "--interface", "can7", "--mapping", str(DEMO_MAPPING), "--listen", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 64, p.stderr
    assert "interface 'can7' maps to no bus (buses: powertrain (vcan0)); assign it with --bus can7=BUS" in p.stderr
