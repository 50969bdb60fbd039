"""`simulate --faults` and `decode --check`: each injected fault shows up on exactly the frames it
touched, with the standard reasons; without --check the output is exactly today's."""
import json

from conftest import DEMO_DBC, ROOT

MAPPING = ROOT / "DBC" / "demo_mapping.yaml"
SPEED, TRANS, STEER = 0x0D0, 0x1A0, 0x0B0


def records(vg, log, *extra):
    p = vg("decode", "--format", "jsonl", "--dbc", DEMO_DBC, *extra, log, check=0)
    return [json.loads(line) for line in p.stdout.splitlines()]


def t0(recs):
    return recs[0]["t"]


def test_every_fault_kind_is_reported_where_it_was_injected(vg, tmp_path):
    log = tmp_path / "faulted.log"
    vg("simulate", "--scenario", "short", "-o", log,
       "--faults", "crc:Transmission@20+1,skip:VehicleSpeed@30+0.5,repeat:VehicleSpeed@40+0.5,stuck:VehicleSpeed@50+1,"
       "crc:SteeringAngle@25+0.5,skip:SteeringAngle@35+0.5", check=0)
    recs = records(vg, log, "--check", "--mapping", MAPPING)
    start = t0(recs)
    checked = [r for r in recs if r["id"] in (SPEED, TRANS, STEER)]
    assert checked and all("e2e" in r for r in checked)
    assert all("e2e" not in r for r in recs if r["id"] not in (SPEED, TRANS, STEER))

    def verdicts(msg_id, a, b):
        return {r["e2e"] for r in checked if r["id"] == msg_id and a <= r["t"] - start < b}

    assert verdicts(TRANS, 20.05, 20.95) == {"checksum"}
    assert verdicts(SPEED, 30.05, 30.45) == {"counter"}
    assert verdicts(SPEED, 40.05, 40.45) == {"repeated"}
    assert verdicts(SPEED, 50.05, 50.95) == {"repeated"}
    # The steering sensor's AUTOSAR E2E profile 1: a wrong CRC is an error; a counter jumping by 3
    # is a wrong sequence, but P01's allowed jump grows with each rejected frame and it compares
    # with the last accepted counter, so some of those frames pass or look repeated, as the PRS says.
    assert verdicts(STEER, 25.02, 25.45) == {"checksum"}
    skipped = [r["e2e"] for r in checked if r["id"] == STEER and 35.0 <= r["t"] - start < 35.5]
    assert set(skipped) <= {"counter", "repeated", "ok"} and skipped.count("counter") > len(skipped) / 2, skipped
    # Outside the faults (and the frame right after each, whose counter jumps back): all ok.
    clean = [r for r in checked if not any(a - 0.01 <= r["t"] - start < b + 0.2 for a, b in ((20, 21), (25, 25.5), (30, 30.5), (35, 35.5), (40, 40.5), (50, 51)))]
    assert len(clean) > 3000 and {r["e2e"] for r in clean} == {"ok"}
    # A stuck ECU repeats its frame byte for byte.
    stuck = [r for r in checked if r["id"] == SPEED and 50.05 <= r["t"] - start < 50.95]
    assert len({json.dumps(r["signals"], sort_keys=True) for r in stuck}) == 1


def test_without_check_the_output_is_unchanged_and_the_bundled_drive_is_clean(vg):
    log = ROOT / "DBC" / "demo_drive.log"
    plain = vg("decode", "--format", "jsonl", "--dbc", DEMO_DBC, log, check=0).stdout
    checked = records(vg, log, "--check", "--mapping", MAPPING)
    assert [{k: v for k, v in r.items() if k != "e2e"} for r in checked] == [json.loads(x) for x in plain.splitlines()]
    assert {r["e2e"] for r in checked if "e2e" in r} == {"ok"}
    text = vg("decode", "--dbc", DEMO_DBC, "--check", "--mapping", MAPPING, log, check=0).stdout.splitlines()
    assert sum(line.endswith(" e2e=ok") for line in text) == len([r for r in checked if "e2e" in r])


def test_a_dbc_without_checks_says_so_and_bad_fault_specs_say_what_was_expected(vg, tmp_path):
    p = vg("decode", "--check", "--dbc", DEMO_DBC, ROOT / "DBC" / "demo_drive.log", check=0)
    assert "no message has a check" in p.stderr
    p = vg("simulate", "--scenario", "short", "--faults", "stuck:VehicleSpeed@5", check=64)
    assert "fault 1 'stuck:VehicleSpeed@5': expected MESSAGE@START+DURATION" in p.stderr
    p = vg("simulate", "--scenario", "short", "--faults", "crc:VehicleSpeed@5+1,melt:VehicleSpeed@5+1", check=64)
    assert "fault 2 'melt:VehicleSpeed@5+1': unknown kind 'melt' (expected crc, skip, repeat, stuck, jump)" in p.stderr
    p = vg("simulate", "--scenario", "short", "-o", tmp_path / "x.log", "--faults", "crc:NoSuch@5+1", check=65)
    assert "the DBC has no message NoSuch" in p.stderr
