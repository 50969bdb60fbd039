"""`vehicle-gateway state`: the demo drive through the demo mapping, as JSON lines."""
import json

from conftest import ROOT

MAPPING = ROOT / "DBC" / "demo_mapping.yaml"
LOG = ROOT / "DBC" / "demo_drive.log"


def test_context_follows_the_demo_drive(vg):
    rows = [json.loads(l) for l in vg("state", "--mapping", MAPPING, LOG, check=0).stdout.splitlines()]
    assert len(rows) == 68 + 1  # one per second of the 69 s log, and the end
    runs = []
    for r in rows:
        if not runs or runs[-1] != r["motion"]:
            runs.append(r["motion"])
    # parked, reversing out, driving, stopping at the light, driving on, parking
    expected = iter(runs)
    assert all(m in expected for m in ["parked", "reversing", "stopped", "moving", "stopped", "moving", "parked"]), runs
    assert rows[-1]["motion"] == "parked" and rows[-1]["gear"]["label"] == "P"
    tunnel = [r for r in rows if r["location"]["state"] == "stale"]
    assert tunnel and all(r["location"]["age_s"] > 0.3 for r in tunnel)
    assert rows[-1]["location"]["state"] == "fresh"


def test_paths_mode_lists_every_mapped_path_with_state(vg):
    rows = [json.loads(l) for l in vg("state", "--mapping", MAPPING, LOG, "--every", "0", "--paths", check=0).stdout.splitlines()]
    by_path = {r["path"]: r for r in rows}
    assert by_path["Vehicle.Powertrain.Transmission.SelectedGear"]["value"] == 126
    assert by_path["Vehicle.Speed"]["state"] == "fresh"


def test_a_broken_mapping_reports_every_problem_with_its_line(vg, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"buses:\n  pt:\n    dbc: [{ROOT}/DBC/demo_vehicle.dbc]\nsignals:\n"
                   "  Vehicle.Speed:\n    datatype: float\n    sources:\n      - signal: pt/Nope/VehicleSpeed\n"
                   "  Vehicle.Gear:\n    datatype: int9\n    sources:\n      - signal: pt/Transmission/CurrentGear\n")
    p = vg("state", "--mapping", bad, LOG)
    assert p.returncode == 65
    assert f"{bad}:8:9: error: Vehicle.Speed: bus pt has no message 'Nope'" in p.stderr
    assert f"{bad}:9:3: error: Vehicle.Gear: unknown datatype 'int9'" in p.stderr
