"""`vehicle-gateway decode`: formats, inputs, and what it says about bad input."""
import json

import can

from conftest import DEMO_DBC, ROOT

SPEED_FRAME = "0D0#10270100000000F0"  # VehicleSpeed = 100.00 km/h


def test_jsonl_has_the_documented_shape(vg):
    p = vg("decode", "--format", "jsonl", "--dbc", DEMO_DBC, "-",
           input=f"(1700000000.000001) vcan0 {SPEED_FRAME}\n(1700000000.000002) vcan0 7EE#00\n", check=0)
    first, second = [json.loads(line) for line in p.stdout.splitlines()]
    assert list(first) == ["t", "id", "extended", "message", "signals", "choices"]
    assert first["t"] == 1700000000.000001 and first["id"] == 0x0D0 and first["extended"] is False
    assert first["message"] == "VehicleSpeed"
    assert abs(first["signals"]["VehicleSpeed"] - 100.0) < 1e-9
    assert all(name in first["signals"] for name in first["choices"])
    assert second == {"t": 1700000000.000002, "id": 0x7EE, "extended": False, "message": None, "error": "unknown id"}


def test_timestamps_are_printed_exactly_as_logged(vg):
    p = vg("decode", "--format", "jsonl", "--dbc", DEMO_DBC, "-",
           input=f"(1700000000.123456789) vcan0 {SPEED_FRAME}\n", check=0)
    assert p.stdout.startswith('{"t": 1700000000.123456789,')


def test_text_format_reads_like_cantools_decode(vg):
    p = vg("decode", "--dbc", DEMO_DBC, input=f"(1700000000.000001) vcan0 {SPEED_FRAME}\n", check=0)
    assert p.stdout.startswith(f"(1700000000.000001) vcan0 {SPEED_FRAME} :: VehicleSpeed(VehicleSpeed: 100 km/h")


def test_console_format_decodes_like_the_log_format(vg):
    log = vg("decode", "--format", "jsonl", "--dbc", DEMO_DBC, input=f"(1.000000) vcan0 {SPEED_FRAME}\n", check=0)
    console = vg("decode", "--format", "jsonl", "--dbc", DEMO_DBC,
                 input="(1.000000)  vcan0  0D0   [8]  10 27 01 00 00 00 00 F0\n", check=0)
    assert log.stdout == console.stdout


def test_malformed_line_is_reported_with_place_and_the_rest_decoded(vg, tmp_path):
    log = tmp_path / "bad.log"
    log.write_text(f"(1.000000) vcan0 {SPEED_FRAME}\n(2.000000) vcan0 0D0#1G\n(3.000000) vcan0 {SPEED_FRAME}\n")
    p = vg("decode", "--format", "jsonl", "--dbc", DEMO_DBC, log)
    assert p.returncode == 65
    assert len(p.stdout.splitlines()) == 2
    assert f"{log}:2:23: error: expected a second hex digit" in p.stderr
    strict = vg("decode", "--strict", "--format", "jsonl", "--dbc", DEMO_DBC, log)
    assert strict.returncode == 65 and len(strict.stdout.splitlines()) == 1


def test_a_log_cut_while_written_is_read_to_its_last_whole_line_and_says_where(vg, tmp_path):
    """A recorder killed (SIGKILL, no sync) or a power cut leaves a log cut inside a line: every
    whole line before it decodes, and the error on the cut one says that the log ends there."""
    data = (ROOT / "DBC" / "demo_drive.log").read_bytes()[:200_000]
    cut = data.rindex(b"\n") + 1 + 12  # twelve bytes into the next line: inside its timestamp
    full = data[:cut].count(b"\n")
    log = tmp_path / "cut.log"
    log.write_bytes((ROOT / "DBC" / "demo_drive.log").read_bytes()[:cut])
    for threads in ("1", "2"):
        p = vg("decode", "--format", "jsonl", "--dbc", DEMO_DBC, "-j", threads, log)
        assert p.returncode == 65
        assert len(p.stdout.splitlines()) == full
        assert f"{log}:{full + 1}:" in p.stderr
        assert "the log ends inside this line, without its newline (cut off while it was written" in p.stderr
    p = vg("decode", "--strict", "--format", "jsonl", "--dbc", DEMO_DBC, log)
    assert p.returncode == 65 and len(p.stdout.splitlines()) == full and "the log ends inside this line" in p.stderr


def test_missing_log_and_broken_dbc_say_what_and_where(vg, tmp_path):
    p = vg("decode", "--dbc", DEMO_DBC, tmp_path / "nope.log")
    assert p.returncode == 66 and "nope.log" in p.stderr and "No such file" in p.stderr
    broken = tmp_path / "broken.dbc"
    broken.write_text('BU_: A\nBO_ 1 M: 8 A\n SG_ S : 0|8@1+ (1,0) [0|0] "" A\nCM_ SG_ 1 S "x"\n')
    p = vg("decode", "--dbc", broken, "-", input="")
    assert p.returncode == 65
    assert p.stderr.startswith(f"{broken}:5:1: error: expected ';' ending CM_, found end of file")


def test_the_bundled_demo_log_decodes_without_errors(vg):
    p = vg("decode", "--format", "jsonl", "--dbc", DEMO_DBC, ROOT / "DBC" / "demo_drive.log", check=0)
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(rows) > 1000
    assert not [r for r in rows if "error" in r]
    assert {"VehicleSpeed", "Transmission", "GNSSPosition", "GNSSStatus"} <= {r["message"] for r in rows}


def test_what_we_write_python_can_reads_back_identically(vg, tmp_path):
    """encode --batch writes candump -l; python-can's reader must see the same frames we do."""
    lines = "\n".join(f"1700000000.{i:06d} vcan0 VehicleSpeed VehicleSpeed={i * 0.5}" for i in range(100))
    p = vg("encode", "--dbc", DEMO_DBC, "--batch", input=lines + "\n1700000001.000000 can1 GNSSPosition GNSSLatitude=48.1\n", check=0)
    log = tmp_path / "ours.log"
    log.write_text(p.stdout)
    ours = [json.loads(l) for l in vg("decode", "--format", "jsonl", "--dbc", DEMO_DBC, log, check=0).stdout.splitlines()]
    theirs = list(can.CanutilsLogReader(str(log)))
    assert len(ours) == len(theirs) == 101
    for o, t in zip(ours, theirs):
        assert o["id"] == t.arbitration_id and o["extended"] == t.is_extended_id
        assert abs(o["t"] - t.timestamp) < 1e-6
    assert ours[7]["signals"]["VehicleSpeed"] == 3.5
    assert theirs[-1].channel == "can1" and theirs[-1].is_extended_id


def test_several_threads_write_exactly_what_one_writes(vg, tmp_path):
    """decode splits a log into runs of lines for several workers; the output, the diagnostics
    with their line numbers, the exit code and where --strict stops are those of one thread,
    also for gzip and standard input, for text and JSON."""
    import gzip
    import random
    random.seed(5)
    frames = (ROOT / "DBC" / "demo_drive.log").read_text().splitlines()
    lines = []
    for i in range(120_000):  # about 5 MB: several runs of a megabyte
        line = frames[i % len(frames)]
        r = random.random()
        lines.append(line[:25] if r < 0.0004 else "" if r < 0.0008 else "# note" if r < 0.0012 else line)
    log = tmp_path / "mixed.log"
    log.write_text("\n".join(lines))  # the last line without its newline
    (tmp_path / "mixed.log.gz").write_bytes(gzip.compress(log.read_bytes()))
    for fmt in ("jsonl", "text"):
        for strict in ((), ("--strict",)):
            one = vg("decode", "--format", fmt, "--dbc", DEMO_DBC, "-j", 1, *strict, log)
            assert one.returncode == 65 and one.stdout.count("\n") > (1000 if strict else 100_000)
            for source, data in ((log, None), (tmp_path / "mixed.log.gz", None), ("-", log.read_text())):
                many = vg("decode", "--format", fmt, "--dbc", DEMO_DBC, "-j", 4, *strict, source, input=data)
                assert many.returncode == one.returncode
                assert many.stdout == one.stdout, (fmt, strict, source)
                name = "<stdin>" if source == "-" else str(source)
                assert many.stderr.replace(name, "X") == one.stderr.replace(str(log), "X"), (fmt, strict, source)
