"""DBC forms found in real files, each loaded by cantools (45.1.0, strict=False) and by us: every
form cantools loads, we load too (the file decodes); where we are stricter it is only a lint
finding. The forms we accept and cantools refuses are listed in the README."""
import pathlib
import subprocess

import cantools
import pytest



HEAD = 'VERSION ""\n\nNS_ :\n\nBS_:\n\nBU_: ECU GW\n\n'
MSG = 'BO_ 100 M: 8 ECU\n SG_ S : 0|8@1+ (1,0) [0|255] "" GW\n'
FORMS = {
    "no receivers": HEAD + 'BO_ 100 M: 8 ECU\n SG_ S : 0|8@1+ (1,0) [0|255] ""\n',
    "Vector__XXX receiver": HEAD + 'BO_ 100 M: 8 ECU\n SG_ S : 0|8@1+ (1,0) [0|255] "" Vector__XXX\n',
    "receivers with commas and spaces": HEAD + 'BO_ 100 M: 8 ECU\n SG_ S : 0|8@1+ (1,0) [0|255] "" GW, ECU\n',
    "scientific factor": HEAD + 'BO_ 100 M: 8 ECU\n SG_ S : 0|8@1+ (1e-1,0) [0|25.5] "" GW\n',
    "plus-signed numbers": HEAD + 'BO_ 100 M: 8 ECU\n SG_ S : 0|8@1+ (+1,+0) [+0|+255] "" GW\n',
    "no VERSION": 'BU_: ECU GW\n' + MSG,
    "CRLF lines": (HEAD + MSG).replace("\n", "\r\n"),
    "tabs": (HEAD + MSG).replace(" SG_", "\tSG_"),
    "message with no signals": HEAD + 'BO_ 100 M: 8 ECU\n' + 'BO_ 101 N: 8 ECU\n SG_ S : 0|8@1+ (1,0) [0|255] "" GW\n',
    "BO_TX_BU_": HEAD + MSG + '\nBO_TX_BU_ 100 : ECU,GW;\n',
    "SIG_VALTYPE_ float": HEAD + 'BO_ 100 M: 8 ECU\n SG_ S : 0|32@1- (1,0) [0|0] "" GW\n\nSIG_VALTYPE_ 100 S : 1;\n',
    "CM_ with an escaped quote": HEAD + MSG + '\nCM_ SG_ 100 S "say \\"hi\\"";\n',
    "CM_ over two lines": HEAD + MSG + '\nCM_ BO_ 100 "line one\nline two";\n',
    "VAL_TABLE_": HEAD + 'VAL_TABLE_ T 1 "one" 0 "zero" ;\n' + MSG,
    "BA_DEF_ with a negative range": HEAD + MSG + '\nBA_DEF_ SG_ "X" INT -10 10;\nBA_DEF_DEF_ "X" -5;\n',
    "BA_DEF_ HEX": HEAD + MSG + '\nBA_DEF_ BO_ "H" HEX 0 255;\nBA_DEF_DEF_ "H" 0;\nBA_ "H" BO_ 100 16;\n',
    "extended multiplexing (SG_MUL_VAL_)": HEAD + 'BO_ 100 M: 8 ECU\n SG_ A M : 0|8@1+ (1,0) [0|255] "" GW\n'
        ' SG_ B m1M : 8|8@1+ (1,0) [0|255] "" GW\n SG_ C m2 : 16|8@1+ (1,0) [0|255] "" GW\n\nSG_MUL_VAL_ 100 C B 2-2;\n',
    "bare m indicator": HEAD + 'BO_ 100 M: 8 ECU\n SG_ S m : 0|8@1+ (1,0) [0|255] "" GW\n',
    "duplicate message id": HEAD + MSG + 'BO_ 100 N: 8 ECU\n SG_ T : 0|8@1+ (1,0) [0|255] "" GW\n',
    "signal beyond the message length": HEAD + 'BO_ 100 M: 2 ECU\n SG_ S : 16|8@1+ (1,0) [0|255] "" GW\n',
    "64-byte message not marked FD": HEAD + 'BO_ 100 M: 64 ECU\n SG_ S : 500|8@1+ (1,0) [0|255] "" GW\n',
    "EV_ environment variable": HEAD + MSG + '\nEV_ V: 0 [0|1] "" 0 1 DUMMY_NODE_VECTOR0 Vector__XXX;\n',
    "SIG_GROUP_": HEAD + MSG + '\nSIG_GROUP_ 100 G 1 : S;\n',
    "empty BU_": 'VERSION ""\nBU_:\n' + MSG.replace(" ECU", " Vector__XXX").replace(" GW", " Vector__XXX"),
    "extended id (bit 31 set)": HEAD + 'BO_ 2147483748 M: 8 ECU\n SG_ S : 0|8@1+ (1,0) [0|255] "" GW\n',
}
LATIN1_UNIT = (HEAD + 'BO_ 100 M: 8 ECU\n SG_ S : 0|8@1+ (1,0) [0|255] "\xb0C" GW\n').encode("latin-1")


def write(tmp_path, name, content):
    p = tmp_path / (name.replace(" ", "_").replace("(", "").replace(")", "") + ".dbc")
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content)
    return p


@pytest.mark.parametrize("name", sorted(FORMS) + ["unit in Latin-1"])
def test_what_cantools_loads_we_load(vg, tmp_path, name):
    path = write(tmp_path, name, LATIN1_UNIT if name == "unit in Latin-1" else FORMS[name])
    cantools.database.load_file(str(path), strict=False)   # the forms are ones cantools accepts
    p = vg("decode", "--dbc", path, "-", input="(1.000000) vcan0 064#0102030405060708\n")
    assert p.returncode == 0, p.stderr
    assert " :: " in p.stdout, p.stdout
