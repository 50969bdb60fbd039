"""`vehicle-gateway simulate`: a deterministic, plausible drive that cantools decodes."""
import json

import can
import cantools

from conftest import DEMO_DBC, ROOT


def simulate(vg, tmp_path, seed, minutes=2):
    out = tmp_path / f"drive-{seed}.log"
    p = vg("simulate", "--seed", seed, "--minutes", minutes, "-o", out, check=0)
    assert "frames (seed" in p.stderr
    return out


def test_same_seed_same_log_other_seed_other_drive(vg, tmp_path):
    a, b, c = simulate(vg, tmp_path, 7), simulate(vg, tmp_path / "..", 7), simulate(vg, tmp_path, 8)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_every_frame_decodes_with_cantools_at_its_cycle_time(vg, tmp_path):
    log = simulate(vg, tmp_path, 3)
    db = cantools.database.load_file(str(DEMO_DBC))
    times = {}
    previous = 0
    for msg in can.LogReader(str(log)):
        db.decode_message(msg.arbitration_id, msg.data)  # raises on anything undecodable
        assert msg.timestamp > previous  # one bus: strictly increasing
        previous = msg.timestamp
        times.setdefault(msg.arbitration_id, []).append(msg.timestamp)
    speed = db.get_message_by_name("VehicleSpeed")
    gaps = [b - a for a, b in zip(times[speed.frame_id], times[speed.frame_id][1:])]
    assert abs(sum(gaps) / len(gaps) - speed.cycle_time / 1000) < 0.001


def test_the_drive_reverses_stops_at_lights_loses_gnss_in_a_tunnel_and_parks(vg, tmp_path):
    log = simulate(vg, tmp_path, 7, minutes=4)
    p = vg("state", "--mapping", ROOT / "DBC" / "demo_mapping.yaml", log, "--every", "1", check=0)
    contexts = [json.loads(l) for l in p.stdout.splitlines()]
    motions = [c["motion"] for c in contexts]
    seq = [m for i, m in enumerate(motions) if i == 0 or motions[i - 1] != m]
    it = iter(seq)
    assert all(any(m == w for m in it) for w in ["parked", "reversing", "stopped", "moving"]), seq
    assert seq.count("stopped") >= 2 and seq[-1] == "parked", seq  # red lights, then parking
    assert any(c["location"]["state"] == "stale" for c in contexts)  # the tunnel
    assert contexts[-1]["location"]["state"] == "fresh"
    assert max(c["speed"].get("speed_kmh", 0) for c in contexts) >= 30


def test_the_bundled_city_drive_is_this_command_with_seed_7(vg, tmp_path):
    import gzip
    out = tmp_path / "city.log"
    vg("simulate", "--seed", 7, "--minutes", 10, "-o", out, check=0)
    assert out.read_bytes() == gzip.decompress((ROOT / "DBC" / "demo_city_drive.log.gz").read_bytes())


def test_gzip_logs_read_like_plain_ones_and_a_cut_one_is_an_error(vg, tmp_path):
    import gzip
    plain = tmp_path / "d.log"
    vg("simulate", "--seed", 5, "--minutes", 1, "-o", plain, check=0)
    packed = tmp_path / "d.log.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    a = vg("decode", "--dbc", DEMO_DBC, "--format", "jsonl", plain, check=0).stdout
    b = vg("decode", "--dbc", DEMO_DBC, "--format", "jsonl", packed, check=0).stdout
    assert a == b and a.count("\n") > 10000
    cut = tmp_path / "cut.log.gz"
    cut.write_bytes(packed.read_bytes()[: len(packed.read_bytes()) // 2])
    p = vg("decode", "--dbc", DEMO_DBC, "--format", "jsonl", cut)
    assert p.returncode == 65 and "corrupt or cut short" in p.stderr
    assert len(p.stdout.splitlines()) > 1000  # what was good is kept
