"""`vehicle-gateway dbc show` and `dbc lint`."""
import re

from conftest import DEMO_DBC, FIXTURES


def test_lint_of_the_demo_dbc_is_clean(vg):
    p = vg("dbc", "lint", DEMO_DBC, check=0)
    assert p.stdout == ""


def test_lint_prints_compiler_style_diagnostics_and_fails_on_errors(vg):
    p = vg("dbc", "lint", FIXTURES / "lint_problems.dbc")
    assert p.returncode == 1
    lines = p.stdout.splitlines()
    pattern = re.compile(r"^.*lint_problems\.dbc:\d+:\d+: (error|warning): .+ \[[a-z-]+\]$")
    assert lines and all(pattern.match(l) for l in lines), lines
    checks = {l.rsplit("[", 1)[1].rstrip("]") for l in lines}
    assert {"overlap", "outside-message", "duplicate-name", "float-length", "multiplexer", "frame-length"} <= checks
    assert re.search(r"\d+ error\(s\), \d+ warning\(s\)", p.stderr)


def test_lint_reports_a_syntax_error_with_its_place(vg, tmp_path):
    bad = tmp_path / "bad.dbc"
    bad.write_text("BU_: A\nBO_ 1 M: 8 A\n SG_ S : 0|8@3+ (1,0) [0|0] \"\" A\n")
    p = vg("dbc", "lint", bad)
    assert p.returncode == 65
    assert p.stderr.strip() == f"{bad}:3:14: error: expected the byte order (0 = Motorola, 1 = Intel) (an integer from 0 to 1), found '3'"


def test_show_lists_messages_signals_and_layout(vg):
    p = vg("dbc", "show", DEMO_DBC, check=0)
    for text in ["Name:       VehicleSpeed", "Cycle time: 20 ms", "Layout:", "Byte  0", "km/h", "multiplexer"]:
        assert text in p.stdout
    one = vg("dbc", "show", DEMO_DBC, "--message", "Transmission", check=0).stdout
    assert "Transmission" in one and "VehicleSpeed" not in one


def test_encode_writes_cansend_syntax(vg):
    p = vg("encode", "--dbc", DEMO_DBC, "Transmission", "GearLever=D", "CurrentGear=3", check=0)
    assert re.fullmatch(r"1A0#[0-9A-F]{16}\n", p.stdout)
    back = vg("decode", "--dbc", DEMO_DBC, input="(1.000000) vcan0 " + p.stdout, check=0).stdout
    assert "GearLever: 'D'" in back and "CurrentGear: 'Gear3'" in back
    bad = vg("encode", "--dbc", DEMO_DBC, "Transmission", "CurrentGear=99")
    assert bad.returncode != 0 and "CurrentGear" in bad.stderr and "outside" in bad.stderr
