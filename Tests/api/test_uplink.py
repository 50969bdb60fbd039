"""The fleet uplink against a real broker (Debian's mosquitto) and a client we did not write
(paho-mqtt): the demo drive played through `run --uplink` arrives as every `seq` from the first
to the last, in order, with speed and location that follow the drive; the status is retained,
online then offline, and the broker publishes the Last Will when the gateway dies; the broker
stopped for 10 s mid-drive loses nothing; the location policy holds; bad settings are clear
errors and an unreachable broker leaves the local API up."""
import json
import signal
import subprocess
import time

from conftest import BINARY, DEMO_LOG, DEMO_MAPPING, Gateway, wait_for
from mqtt_broker import Broker, StallingProxy, Subscriber
from test_openapi import errors

CONTEXT, STATUS = "vehicles/car-1/context", "vehicles/car-1/status"


def seqs(messages):
    return [m["seq"] for m in messages]


def uplink_args(broker, state, *extra):
    return ("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--uplink", f"mqtt://127.0.0.1:{broker.port}", "--vehicle-id", "car-1",
            "--uplink-state-dir", state, *extra)


def test_the_drive_arrives_every_seq_in_order_with_status_and_will(tmp_path):
    broker = Broker(tmp_path / "broker")
    sub = Subscriber(broker.port, ["vehicles/+/context", "vehicles/+/status"])
    try:
        g = Gateway(*uplink_args(broker, tmp_path / "state", "--speed", 4, "--uplink-max-rate", 5))
        wait_for(lambda: any(m["state"] == "online" for m in sub.on(STATUS)), timeout=20)
        # The drive: parked, reversing, moving at up to 50 km/h, the tunnel, parked again (69 s at 4x).
        wait_for(lambda: any(m.get("motion") == "parked" and m["seq"] > 40 for m in sub.on(CONTEXT)), timeout=60, step=0.2)
        assert g.stop() == 0, "".join(g.stderr)
        wait_for(lambda: sub.on(STATUS) and sub.on(STATUS)[-1]["state"] == "offline", timeout=10)
        context = sub.on(CONTEXT)
        n = seqs(context)
        assert n == list(range(1, len(n) + 1)), n  # every seq, in order, from the first
        assert all(m["vehicle_id"] == "car-1" for m in context)
        speeds = [m["speed"].get("speed_kmh") for m in context if m["speed"]["state"] == "fresh"]
        assert max(speeds) > 45 and min(speeds) < 1, speeds
        motions = {m["motion"] for m in context}
        assert {"reversing", "moving", "parked"} <= motions, motions
        assert any(m["location"]["state"] == "stale" and m["speed"]["state"] == "fresh" for m in context), "the tunnel"
        assert all(abs(m["location"]["latitude_deg"] - 48.14) < 0.05 for m in context if "latitude_deg" in m["location"])
        online = [m for m in sub.on(STATUS) if m["state"] == "online"][0]
        assert online["software"].startswith("vehicle-gateway ") and online["buses"][0]["name"] == "powertrain", online
        assert sub.on(STATUS)[-1]["reason"] == "stopped"
        # The status is retained: a client connecting now gets the last one at once.
        late = Subscriber(broker.port, [STATUS], client_id="late")
        wait_for(lambda: late.messages, timeout=10)
        assert late.messages[0][2] and late.messages[0][1]["state"] == "offline"
        late.close()

        # seq goes on across a restart (persisted in the state directory).
        g = Gateway(*uplink_args(broker, tmp_path / "state", "--speed", 4))
        wait_for(lambda: len(sub.on(CONTEXT)) > len(n), timeout=20)
        assert sub.on(CONTEXT)[len(n)]["seq"] == n[-1] + 1
        # Killed: no DISCONNECT, so the broker publishes the Last Will (retained, offline).
        g.proc.send_signal(signal.SIGKILL)
        g.proc.wait()
        wait_for(lambda: sub.on(STATUS)[-1]["state"] == "offline" and sub.on(STATUS)[-1].get("reason") == "connection lost", timeout=15)
    finally:
        sub.close()
        broker.stop()


def test_the_broker_down_for_ten_seconds_loses_nothing(tmp_path):
    broker = Broker(tmp_path / "broker")
    # A persistent subscriber session: the broker keeps its messages while it is away.
    sub = Subscriber(broker.port, [CONTEXT], client_id="fleet-consumer", persistent=True)
    g = None
    try:
        g = Gateway(*uplink_args(broker, tmp_path / "state", "--speed", 2, "--uplink-max-rate", 4))
        wait_for(lambda: len(sub.on(CONTEXT)) >= 10, timeout=30)
        broker.stop()
        down_at = len(sub.on(CONTEXT))
        time.sleep(10)
        assert g.alive() and g.curl("/v1/context")[1] == 200  # the local API does not notice
        health = json.loads(g.curl("/healthz")[0])["uplink"]
        assert not health["connected"] and health["queued_messages"] > 0 and health["last_error"], health
        assert not errors("Health", json.loads(g.curl("/healthz")[0]))
        broker.start()
        wait_for(lambda: any(m.get("motion") == "parked" and m["seq"] > down_at + 20 for m in sub.on(CONTEXT)), timeout=90, step=0.2)
        health = json.loads(g.curl("/healthz")[0])["uplink"]
        assert health["connected"] and health["reconnects"] >= 1 and health["acknowledged"] > down_at, health
        metrics = g.curl("/metrics")[0]
        assert "vehicle_gateway_uplink_reconnects_total" in metrics and "vehicle_gateway_uplink_connected 1" in metrics, metrics[-1500:]
        g.stop()
        n = seqs(sub.on(CONTEXT))
        unique = list(dict.fromkeys(n))  # QoS 1 may repeat a message; never reorder or drop one
        assert unique == list(range(1, len(unique) + 1)), unique
        assert len(unique) > down_at + 20
        log = "".join(g.stderr)
        assert "uplink connection lost" in log or "uplink disconnected" in log, log[-2000:]
    finally:
        if g:
            g.stop()
        sub.close()
        broker.stop()


def test_a_link_that_goes_silent_is_noticed_by_keep_alive_and_loses_nothing(tmp_path):
    """Network loss, not a stopped broker: the link stalls (no close reaches the gateway, packets
    just stop); keep-alive notices, the gateway reconnects once the link is back, and the
    consumer gets every seq in order."""
    broker = Broker(tmp_path / "broker")
    proxy = StallingProxy(broker.port)
    sub = Subscriber(broker.port, [CONTEXT], client_id="fleet-consumer", persistent=True)
    g = None
    try:
        g = Gateway("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--uplink", f"mqtt://127.0.0.1:{proxy.port}",
                    "--vehicle-id", "car-1", "--uplink-state-dir", tmp_path / "state", "--uplink-keepalive", 5,
                    "--speed", 1, "--uplink-max-rate", 4)
        wait_for(lambda: len(sub.on(CONTEXT)) >= 8, timeout=30)
        proxy.stall()
        stalled_at = len(sub.on(CONTEXT))
        # Keep-alive is 5 s: within about two periods the gateway knows the link is dead.
        wait_for(lambda: not json.loads(g.curl("/healthz")[0])["uplink"]["connected"], timeout=25)
        health = json.loads(g.curl("/healthz")[0])["uplink"]
        assert health["queued_messages"] > 0 and g.curl("/v1/context")[1] == 200, health
        assert len(sub.on(CONTEXT)) <= stalled_at + 1  # nothing got through the dead link
        time.sleep(3)
        proxy.resume()
        wait_for(lambda: json.loads(g.curl("/healthz")[0])["uplink"]["connected"], timeout=40)
        wait_for(lambda: json.loads(g.curl("/healthz")[0])["uplink"]["queued_messages"] == 0, timeout=30)
        health = json.loads(g.curl("/healthz")[0])["uplink"]
        assert health["reconnects"] >= 1 and proxy.connections >= 2, health
        g.stop()
        n = seqs(sub.on(CONTEXT))
        unique = list(dict.fromkeys(n))
        assert unique == list(range(1, len(unique) + 1)), unique  # nothing lost, in order
        assert len(unique) > stalled_at + 10, (stalled_at, len(unique))
    finally:
        if g:
            g.stop()
        sub.close()
        proxy.close()
        broker.stop()


def test_the_location_policy_holds(tmp_path):
    broker = Broker(tmp_path / "broker")
    sub = Subscriber(broker.port, [CONTEXT])
    try:
        for policy, check in (("off", lambda m: m["location_withheld"] and "latitude_deg" not in m["location"]),
                              ("rounded:2", lambda m: m["location"]["latitude_deg"] == round(m["location"]["latitude_deg"], 2))):
            sub.messages.clear()
            g = Gateway(*uplink_args(broker, tmp_path / policy.replace(":", "-"), "--uplink-location", policy))
            wait_for(lambda: any("latitude_deg" in m["location"] or m.get("location_withheld") for m in sub.on(CONTEXT)), timeout=20)
            g.stop()
            located = [m for m in sub.on(CONTEXT) if "latitude_deg" in m["location"] or m.get("location_withheld")]
            assert located and all(check(m) for m in located), located[:2]
            # The local API keeps its own setting (exact here).
    finally:
        sub.close()
        broker.stop()


def run(*args):
    return subprocess.run([BINARY, "run", "--listen", "127.0.0.1:0", "--quiet", *map(str, args)], capture_output=True, text=True, timeout=30)


def test_bad_settings_are_clear_errors_and_an_unreachable_broker_leaves_the_api_up(tmp_path):
    p = run("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--uplink", "ftp://x", "--vehicle-id", "a")
    assert p.returncode == 64 and "mqtt://HOST[:PORT]" in p.stderr, p.stderr
    p = run("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--uplink", "mqtt://127.0.0.1:1883")
    assert p.returncode == 64 and "--vehicle-id" in p.stderr, p.stderr
    p = run("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--uplink", "mqtt://127.0.0.1:1883", "--vehicle-id", "car/#")
    assert p.returncode == 64 and "vehicle id" in p.stderr, p.stderr
    p = run("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--uplink", "mqtts://127.0.0.1:8883", "--vehicle-id", "a",
            "--uplink-state-dir", tmp_path)
    assert p.returncode != 0 and "--uplink-ca" in p.stderr, p.stderr
    # Nothing listens on that port: the gateway logs it once and serves the context anyway.
    from mqtt_broker import free_port
    g = Gateway("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--loop", 0, "--uplink", f"mqtt://127.0.0.1:{free_port()}",
                "--vehicle-id", "a", "--uplink-state-dir", tmp_path)
    try:
        wait_for(lambda: any("cannot connect" in line for line in g.stderr), timeout=15)
        body, code = g.curl("/v1/context")
        assert code == 200 and json.loads(body)["speed"]["state"] in ("fresh", "stale")
        time.sleep(3)
        assert sum("cannot connect" in line for line in g.stderr) == 1, g.stderr
    finally:
        assert g.stop() == 0


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(d):
    """A test CA, the broker's certificate (for 127.0.0.1), the car's client certificate, and a
    client certificate from another CA, all made by openssl here."""
    d.mkdir(parents=True, exist_ok=True)
    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-out", f"{ca}.pem", "-days", "2",
                "-subj", f"/CN={ca}", cwd=d)
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name, ca, ext in (("server", "ca", ["-extfile", "san.ext"]), ("car-1", "ca", []), ("stranger", "other-ca", [])):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial",
                "-out", f"{name}.pem", "-days", "2", *ext, cwd=d)
    return d


def test_mutual_tls_and_passwords_and_clear_refusals(tmp_path):
    certs = make_certificates(tmp_path / "broker")
    from mqtt_broker import free_port
    tls_port, password_port = free_port(), free_port()
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(certs / "passwords"), "car-1", "right-password"], check=True)
    broker = Broker(certs, head="per_listener_settings true\n", extra=(
        f"listener {tls_port} 127.0.0.1\ncafile {certs}/ca.pem\ncertfile {certs}/server.pem\nkeyfile {certs}/server.key\n"
        "require_certificate true\nallow_anonymous true\n"
        f"listener {password_port} 127.0.0.1\nallow_anonymous false\npassword_file {certs}/passwords\n"))
    sub = Subscriber(broker.port, [STATUS])  # the plain listener, for the independent client
    (tmp_path / "right").write_text("right-password\n")
    (tmp_path / "wrong").write_text("wrong-password\n")
    try:
        # Mutual TLS: the car's certificate, signed by the CA the broker trusts.
        g = Gateway("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--uplink", f"mqtts://127.0.0.1:{tls_port}", "--vehicle-id", "car-1",
                    "--uplink-ca", certs / "ca.pem", "--uplink-cert", certs / "car-1.pem", "--uplink-key", certs / "car-1.key",
                    "--uplink-state-dir", tmp_path / "s1")
        wait_for(lambda: any(m["state"] == "online" for m in sub.on(STATUS)), timeout=20)
        assert json.loads(g.curl("/healthz")[0])["uplink"]["connected"]
        g.stop()
        # A certificate from another CA: refused, said clearly, the API stays up.
        g = Gateway("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--loop", 0, "--uplink", f"mqtts://127.0.0.1:{tls_port}",
                    "--vehicle-id", "car-1", "--uplink-ca", certs / "ca.pem", "--uplink-cert", certs / "stranger.pem",
                    "--uplink-key", certs / "stranger.key", "--uplink-state-dir", tmp_path / "s2")
        wait_for(lambda: json.loads(g.curl("/healthz")[0])["uplink"]["last_error"], timeout=20)
        health = json.loads(g.curl("/healthz")[0])["uplink"]
        assert not health["connected"] and ("TLS" in health["last_error"] or "SSL" in health["last_error"]), (health, g.stderr)
        assert g.curl("/v1/context")[1] == 200
        g.stop()
        # A broker CA the car does not trust: the broker's certificate is refused.
        g = Gateway("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--loop", 0, "--uplink", f"mqtts://127.0.0.1:{tls_port}",
                    "--vehicle-id", "car-1", "--uplink-ca", certs / "other-ca.pem", "--uplink-cert", certs / "car-1.pem",
                    "--uplink-key", certs / "car-1.key", "--uplink-state-dir", tmp_path / "s3")
        wait_for(lambda: json.loads(g.curl("/healthz")[0])["uplink"]["last_error"], timeout=20)
        assert "certificate" in json.loads(g.curl("/healthz")[0])["uplink"]["last_error"].lower()
        g.stop()
        # A key that is not the certificate's: said clearly (libmosquitto checks it when connecting).
        g = Gateway("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--loop", 0, "--uplink", f"mqtts://127.0.0.1:{tls_port}",
                    "--vehicle-id", "car-1", "--uplink-ca", certs / "ca.pem", "--uplink-cert", certs / "car-1.pem",
                    "--uplink-key", certs / "stranger.key", "--uplink-state-dir", tmp_path / "s4")
        wait_for(lambda: json.loads(g.curl("/healthz")[0])["uplink"]["last_error"], timeout=20)
        error = json.loads(g.curl("/healthz")[0])["uplink"]["last_error"]
        assert "key" in error.lower(), error
        g.stop()
        # Passwords: the right one connects, a wrong one is refused with the broker's reason.
        sub.messages.clear()
        g = Gateway("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--uplink", f"mqtt://127.0.0.1:{password_port}", "--vehicle-id", "car-1",
                    "--uplink-username", "car-1", "--uplink-password-file", tmp_path / "right", "--uplink-state-dir", tmp_path / "s5")
        wait_for(lambda: any(m["state"] == "online" for m in sub.on(STATUS)), timeout=20)
        g.stop()
        g = Gateway("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--loop", 0, "--uplink", f"mqtt://127.0.0.1:{password_port}",
                    "--vehicle-id", "car-1", "--uplink-username", "car-1", "--uplink-password-file", tmp_path / "wrong",
                    "--uplink-state-dir", tmp_path / "s6")
        wait_for(lambda: json.loads(g.curl("/healthz")[0])["uplink"]["last_error"], timeout=20)
        error = json.loads(g.curl("/healthz")[0])["uplink"]["last_error"]
        assert "refused the connection" in error and "authori" in error.lower(), error
        assert g.curl("/v1/context")[1] == 200
        # A refused CONNECT backs off like a failed TCP connect (0.5, 1, 2 s ...), not a retry loop.
        def attempts():
            return broker.log().count(f"on port {password_port}.")
        before = attempts()
        time.sleep(4)
        assert attempts() - before <= 4, broker.log()[-2000:]
        g.stop()
    finally:
        sub.close()
        broker.stop()


def test_killed_while_the_broker_is_down_then_a_torn_record(tmp_path):
    """Store-and-forward on disk: what was queued when the gateway was SIGKILLed with the broker
    down arrives after the next start; a torn last record is skipped and counted."""
    broker = Broker(tmp_path / "broker")
    sub = Subscriber(broker.port, [CONTEXT], client_id="fleet-consumer", persistent=True)
    state = tmp_path / "state"
    try:
        g = Gateway(*uplink_args(broker, state, "--speed", 2, "--uplink-max-rate", 4))
        wait_for(lambda: len(sub.on(CONTEXT)) >= 5, timeout=30)
        broker.stop()
        time.sleep(4)  # the car drives on: messages queue on disk
        queued = json.loads(g.curl("/healthz")[0])["uplink"]
        assert queued["queued_messages"] > 3 and queued["journal"]["unacknowledged_bytes"] > 0, queued
        g.proc.send_signal(signal.SIGKILL)
        g.proc.wait()
        last_seq = int((state / "vehicles_car-1_context.seq").read_text())
        broker.start()
        wait_for(sub.client.is_connected, timeout=15)  # the consumer first (its session is not the point here)
        g = Gateway(*uplink_args(broker, state, "--speed", 2))
        wait_for(lambda: any(m["seq"] > last_seq for m in sub.on(CONTEXT)), timeout=30)
        g.stop()
        unique = list(dict.fromkeys(seqs(sub.on(CONTEXT))))
        assert unique == list(range(1, len(unique) + 1)), unique  # nothing lost across the kill, in order
        assert last_seq in unique

        # A torn record at the end of the queue (a write cut by power loss): stop with the broker
        # down so messages stay queued, cut the file inside its last record, start again.
        broker.stop()
        g = Gateway(*uplink_args(broker, state, "--speed", 2))
        time.sleep(3)
        g.proc.send_signal(signal.SIGKILL)
        g.proc.wait()
        journal = state / "uplink-queue.log"
        data = journal.read_bytes()
        journal.write_bytes(data[:-7])
        cut_seq = int((state / "vehicles_car-1_context.seq").read_text())
        sub.messages.clear()
        broker.start()
        wait_for(sub.client.is_connected, timeout=15)
        g = Gateway(*uplink_args(broker, state, "--speed", 2, "--loop", 0))
        wait_for(lambda: any(m["seq"] > cut_seq for m in sub.on(CONTEXT)), timeout=30)
        health = json.loads(g.curl("/healthz")[0])["uplink"]
        assert health["journal"]["torn_records"] == 1, health
        g.stop()
        got = set(seqs(sub.on(CONTEXT)))
        assert cut_seq not in got and cut_seq - 1 in got, (cut_seq, sorted(got)[:20])  # only the torn one is missing
    finally:
        sub.close()
        broker.stop()


def test_the_disk_fills_while_the_broker_is_down(tmp_path):
    """The queue's disk fills (a 64 KiB tmpfs as the state directory) while the broker is down:
    a clear error in the log, the failures counted, the local API serves on, and what could not
    be written to disk is still sent from memory once the broker is back, every seq in order."""
    small = tmp_path / "small"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(small)]).returncode != 0:
        raise AssertionError("this test mounts a small tmpfs: it needs root (CI runs as root)")
    broker = Broker(tmp_path / "broker")
    sub = Subscriber(broker.port, [CONTEXT], client_id="fleet-consumer", persistent=True)
    g = None
    try:
        g = Gateway(*uplink_args(broker, small, "--speed", 4, "--uplink-max-rate", 10))
        wait_for(lambda: len(sub.on(CONTEXT)) >= 3, timeout=30)  # the consumer's subscription stands
        broker.stop()
        wait_for(lambda: json.loads(g.curl("/healthz")[0])["uplink"]["journal"]["write_failures"] > 5, timeout=60, step=0.5)
        body, status = g.curl("/v1/context")
        assert status == 200 and json.loads(body)["speed"]["state"] in ("fresh", "stale")
        health = json.loads(g.curl("/healthz")[0])
        assert not errors("Health", health)
        log = "".join(g.stderr)
        assert "uplink queue: cannot write to the journal (No space left on device)" in log, log[-2000:]
        assert log.count("cannot write to the journal") == 1, "logged once, not per message"
        failed = health["uplink"]["journal"]["write_failures"]
        broker.start()
        wait_for(sub.client.is_connected, timeout=15)
        wait_for(lambda: len(sub.on(CONTEXT)) >= health["uplink"]["queued_messages"], timeout=60, step=0.5)
        g.stop()
        unique = list(dict.fromkeys(seqs(sub.on(CONTEXT))))
        assert unique == list(range(1, len(unique) + 1)), unique
        assert len(unique) > failed
    finally:
        if g:
            g.stop()
        sub.close()
        broker.stop()
        subprocess.run(["umount", "-l", str(small)])
