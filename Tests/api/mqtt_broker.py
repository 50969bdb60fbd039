"""A real MQTT broker for the uplink tests: Debian's mosquitto on a free loopback port with its
own configuration file and persistence in a folder its user can write (started as root it drops
to the `mosquitto` user), stopped at the end. And a paho-mqtt subscriber that records what
arrives."""
import json
import os
import pwd
import shutil
import socket
import subprocess
import threading
import time

import paho.mqtt.client as mqtt


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    def __init__(self, directory, port=None, extra="", head=""):
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.conf = directory / "mosquitto.conf"
        self.conf.write_text(f"{head}listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                             f"persistence_location {directory}/\nlog_dest file {directory}/mosquitto.log\n{extra}")
        if os.geteuid() == 0:
            user = pwd.getpwnam("mosquitto")
            for p in [directory, *directory.iterdir()]:
                os.chown(p, user.pw_uid, user.pw_gid)
            # pytest's folders are private to root: let the mosquitto user pass through them.
            for parent in directory.resolve().parents:
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    os.chmod(parent, mode | 0o001)
        self.proc = None
        self.start()

    def start(self):
        assert shutil.which("mosquitto") or os.path.exists("/usr/sbin/mosquitto"), "Debian's mosquitto is needed"
        self.proc = subprocess.Popen([shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        end = time.time() + 20
        while time.time() < end:  # ready when it accepts connections
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                assert self.proc.poll() is None, "mosquitto exited: " + self.proc.stderr.read()
                time.sleep(0.05)
        raise AssertionError("mosquitto did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def log(self):
        p = self.dir / "mosquitto.log"
        return p.read_text() if p.exists() else ""


class Subscriber:
    """paho-mqtt (MQTT 5), subscribed at QoS 1; messages are kept as (topic, payload dict, retained)."""

    def __init__(self, port, topics, client_id="test-subscriber", persistent=False):
        self.messages = []
        self.lock = threading.Lock()
        self.connected = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)

        def on_connect(client, userdata, flags, reason, properties):
            for t in topics:
                client.subscribe(t, qos=1)
            self.connected.set()

        self.raw = []

        def on_message(client, userdata, m):
            content_type = getattr(m.properties, "ContentType", None) if m.properties else None
            with self.lock:
                self.raw.append((m.topic, bytes(m.payload), content_type))
                if not content_type or "json" in content_type:
                    self.messages.append((m.topic, json.loads(m.payload), m.retain))

        self.client.on_connect = on_connect
        self.client.on_message = on_message
        properties = None
        if persistent:  # the broker keeps the session, and QoS 1 messages for it, while it is away
            from paho.mqtt.packettypes import PacketTypes
            from paho.mqtt.properties import Properties
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = 3600
        self.client.reconnect_delay_set(min_delay=0.2, max_delay=1)
        self.client.connect("127.0.0.1", port, clean_start=mqtt.MQTT_CLEAN_START_FIRST_ONLY, properties=properties)
        self.client.loop_start()
        assert self.connected.wait(10), "paho could not connect"

    def on(self, topic):
        with self.lock:
            return [p for t, p, _ in self.messages if t == topic]

    def raw_on(self, topic):
        """(payload bytes, MQTT 5 content type) of every message on `topic`."""
        with self.lock:
            return [(p, c) for t, p, c in self.raw if t == topic]

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


class StallingProxy:
    """A TCP relay between the gateway and the broker that can go silent, as a radio link does
    in a dead zone: while stalled it forwards nothing in either direction and passes on no close
    (no FIN, no RST reaches either side), and new connections are accepted but get no answer.
    Only keep-alive can tell the gateway the link is gone."""

    def __init__(self, target_port):
        self.target = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.flowing = threading.Event()
        self.flowing.set()
        self.connections = 0
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def stall(self):
        self.flowing.clear()

    def resume(self):
        self.flowing.set()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        self.flowing.wait()
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source, sink):
        import select
        try:
            while not self.closed:
                self.flowing.wait()
                ready, _, _ = select.select([source], [], [], 0.05)
                if not ready or not self.flowing.is_set():
                    continue  # stalled: the bytes (and any close) wait in the kernel's buffers
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except (OSError, ValueError):  # the other direction closed the socket first
            pass
        for s in (source, sink):
            try:
                s.close()
            except OSError:
                pass

    def close(self):
        self.closed = True
        self.flowing.set()
        self.listener.close()
