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


def test_energy_environment_cabin_and_trip_follow_the_demo_drive(vg, tmp_path):
    rows = [json.loads(l) for l in vg("state", "--mapping", MAPPING, LOG, check=0).stdout.splitlines()]
    end = rows[-1]
    # The cluster's fuel level and its own range estimate; not low.
    e = end["energy"]
    assert e["state"] == "fresh" and e["range_source"] == "vehicle" and e["low"] is False
    assert 61 <= e["level_percent"] <= 63 and 440 <= e["range_km"] <= 446, e
    env = end["environment"]
    assert env["outside_temperature_c"] == 7.5 and env["raining"] is True and env["raining_source"] == "wipers"
    # Dry until the rain at 46 s; the wipers (interval) from about 48.7 s.
    raining = [i for i, r in enumerate(rows) if r["environment"].get("raining")]
    assert raining and 48 <= min(raining) <= 50 and all(r["environment"]["raining"] is False for r in rows[2:47]), raining
    # Dark only in the tunnel (low beam on): 50.5-58.5 s of the drive.
    dark = [i for i, r in enumerate(rows) if r["environment"].get("dark")]
    assert dark and 50 <= min(dark) <= 52 and 57 <= max(dark) <= 61, dark
    # The driver's door opens after parking, the belts come off; a passenger got in at the red
    # light (door open 30.5-33 s, seat taken at 32 s, belted at 34.5 s); the rear seats stay empty.
    cabin = end["cabin"]
    assert cabin["open"] == ["Row1.DriverSide"] and cabin["belted"] == {
        "Row1.DriverSide": False, "Row1.PassengerSide": False, "Row2.DriverSide": False, "Row2.PassengerSide": False}, cabin
    assert cabin["occupied"] == ["Row1.DriverSide", "Row1.PassengerSide"] and cabin["unbelted"] == cabin["occupied"], cabin
    assert rows[29]["cabin"]["open"] == [] and rows[29]["cabin"]["belted"]["Row1.DriverSide"] is True
    assert rows[30]["cabin"]["open"] == ["Row1.PassengerSide"] and rows[30]["cabin"]["occupied"] == ["Row1.DriverSide"]
    assert rows[33]["cabin"]["unbelted"] == ["Row1.PassengerSide"] and rows[36]["cabin"]["unbelted"] == []
    # The trip since leaving park: about 63 s of driving, the drive's distance, three stops
    # (after reversing out, at the red light, at the end), no break needed.
    t = end["trip"]
    assert 60 <= t["driving_time_s"] <= 66 and abs(t["distance_km"] - end["distance_km"]) < 0.01, t
    assert t["stops"] == 3 and t["break_recommended"] is False and abs(t["average_speed_kmh"] - t["distance_km"] / t["driving_time_s"] * 3600) < 0.2
    assert rows[1]["trip"] == {"state": "unavailable"}, "no trip before the car leaves park"
    # A short break threshold (30 s of driving) recommends one during the drive.
    short = tmp_path / "short_break.yaml"
    short.write_text(MAPPING.read_text().replace("break_after_min: 120", "break_after_min: 0.5")
                     .replace("[demo_vehicle.dbc]", f"[{ROOT / 'DBC' / 'demo_vehicle.dbc'}]"))
    rows = [json.loads(l) for l in vg("state", "--mapping", short, LOG, check=0).stdout.splitlines()]
    recommended = [i for i, r in enumerate(rows) if r["trip"].get("break_recommended")]
    assert recommended and 30 <= min(recommended) <= 40, recommended


def test_attention_rises_in_manoeuvres_and_falls_at_a_red_light(vg):
    rows = [json.loads(l) for l in vg("state", "--mapping", MAPPING, LOG, check=0).stdout.splitlines()]
    att = [r["attention"] for r in rows]
    assert att[1] == {"state": "unavailable"} or att[1]["level"] == "low"
    # Reversing out of the space (3.5-9.5 s): high.
    assert any(a.get("level") == "high" and "reversing" in a["reasons"] for a in att[4:10]), att[4:10]
    # Cruising at 50 km/h (23-29 s): low, a good moment to talk.
    assert att[25]["level"] == "low" and att[25]["interruptible"] is True, att[25]
    # Waiting at the red light (29.5-39.5 s), once the stop held 3 s: low and interruptible.
    assert all(a["level"] == "low" and a["interruptible"] for a in att[33:37]), att[33:37]
    # The right turn at 15 km/h (41-45.8 s): high, turning.
    assert any(a["level"] == "high" and "turning" in a["reasons"] for a in att[41:47]), att[41:47]
    # In the tunnel (50.5-58.5 s) the position is lost: at least medium.
    assert any("gnss_lost" in a["reasons"] and a["level"] != "low" for a in att[52:58]), att[52:58]
    # Levels change no more often than the hold allows: no flicker second to second.
    levels = [a.get("level") for a in att]
    changes = sum(1 for x, y in zip(levels, levels[1:]) if x != y)
    assert changes < 20, levels
