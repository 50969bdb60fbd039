#!/usr/bin/env python3
"""Differential test: `vehicle-gateway decode --format jsonl` against cantools.

For every DBC fixture in Tests/Fixtures/dbc (except lint_problems.dbc) this script

  1. loads the DBC with cantools (strict=False; UTF-8, falling back to cp1252),
  2. generates random frames for it (full-length, multiplexer-aware, truncated,
     over-long, CAN FD, unknown ids),
  3. writes them as a can-utils `candump -l` log,
  4. runs `$VG_BIN decode --format jsonl --dbc FILE LOG`,
  5. compares every output line with what cantools decodes for that frame,
  6. prints per-file results and a final line `N passed, M failed` (files);
     exit status 1 if any file failed.

Usage:
    python3 Tests/Differential/diff_cantools.py [--bin PATH] [--frames N] [--seed S]
                                                [--only NAME ...] [--keep DIR]
    python3 Tests/Differential/diff_cantools.py --self-check
    python3 Tests/Differential/diff_cantools.py --emit-expected DIR

The gateway binary is taken from --bin, else $VG_BIN, else
<repo>/.build/release/vehicle-gateway (repo = two levels above this file).
`--self-check` needs no gateway: it validates the log writer, the payload
generator, its per-signal use of cantools' encoder and the cantools reference,
then runs the whole comparison against a built-in reference decoder ("mock
gateway": cantools' bit reader, its own multiplexer walk, truncation and
scaling) and checks that deliberately corrupted output is caught.

Internal: `diff_cantools.py --mock-gateway decode --format jsonl --dbc F LOG`
runs the built-in independent decoder with the gateway's command line and
output contract (used by --self-check; usable as a stand-in for --bin).

Only the Python standard library and cantools are required (python-can, if
installed, is used by --self-check to cross-check the log format).

The gateway's JSONL contract (one object per input frame, in log order):
    {"t": <number>, "id": <int>, "extended": <bool>, "message": <name>,
     "signals": {<name>: <number>}, "choices": {<name>: <label>}
     [, "missing": [<names of active signals that did not fit>]]}
  or, when the frame cannot be decoded,
    {"t": .., "id": .., "extended": .., "message": <name or null>, "error": "<reason>"}
  (unknown id -> "message": null). Non-finite floats are "NaN", "Infinity",
  "-Infinity".

What is compared against cantools
  * cantools decodes with msg.decode(data, decode_choices=False, scaling=True,
    allow_truncated=True, allow_excess=True) for numbers and decode_choices=True
    for labels (NamedSignalValue -> .name).
  * Lookup: db.get_message_by_frame_id(id, force_extended_id=<frame is extended>).
    cantools keys extended messages by (frame_id | 0x80000000) and, without
    force_extended_id, only sets that flag for ids > 0x7FF, so an extended frame
    with a small id would otherwise hit a standard message.
  * Values: relative 1e-9, absolute 1e-12 (plus a rounding allowance for large
    offsets); NaN == NaN; +-inf must match exactly.
  * Undefined multiplexer value (cantools raises DecodeError "expected
    multiplexer id ..."): the gateway must decode the non-multiplexed signals and
    the multiplexer itself and nothing below the undefined value. The expected
    set is computed by walking cantools' own codec tree and stopping there.
  * Any other cantools exception is reported as "cantools refused" with counts;
    the gateway must then output an error or the same partial set.
  * "missing", when present, must equal the active signals that did not fit
    (children of a multiplexer that did not fit are not known to be active and
    must not be listed).
"""

from __future__ import annotations

import argparse
import copy
import functools
import io
import json
import math
import os
import random
import re
import shlex
import struct
import subprocess
import sys
import tempfile
import zlib
from dataclasses import dataclass, field

try:
    import cantools
    from cantools.database.errors import DecodeError
    from cantools.database.namedsignalvalue import NamedSignalValue
    from cantools.database.utils import create_encode_decode_formats as _ct_formats
    from cantools.database.utils import decode_data as _ct_decode_data
    from cantools.database.utils import encode_data as _ct_encode_data
except ImportError as _exc:  # pragma: no cover
    sys.stderr.write(f"diff_cantools.py needs cantools (pip install cantools): {_exc}\n")
    sys.exit(2)

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.normpath(os.path.join(SCRIPT_DIR, "..", ".."))
DEFAULT_FIXTURES = os.path.join(REPO_ROOT, "Tests", "Fixtures", "dbc")
DEFAULT_BIN = os.path.join(REPO_ROOT, ".build", "release", "vehicle-gateway")

EXCLUDED_FILES = {"lint_problems.dbc": "deliberately broken, lint tests only"}

FD_LENGTHS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64]
CLASSIC_LENGTHS = list(range(9))
BASE_TS_US = 1_700_000_000 * 1_000_000
CHANNEL = "vcan0"

REL_TOL = 1e-9
ABS_TOL = 1e-12
T_TOL = 5e-7
MAX_DETAILS = 5

MUX_UNDEFINED_PREFIX = "expected multiplexer id"


# ---------------------------------------------------------------------------
# DBC loading (with the few normalisations cantools needs)
# ---------------------------------------------------------------------------

# Statement keywords that cantools 45.1.0's grammar does not know (it raises
# "Invalid syntax" on them). A tolerant DBC parser skips them.
_UNSUPPORTED_KEYWORDS = (
    "SGTYPE_VAL_", "SGTYPE_", "SIG_TYPE_REF_", "BA_DEF_SGTYPE_", "BA_SGTYPE_",
    "SIGTYPE_VALTYPE_", "CAT_DEF_", "CAT_", "FILTER", "EV_DATA_", "NS_DESC_",
)
_STMT_START_RE = re.compile(
    r"^[ \t]*(?:(?:%s)[ \t]+\S|BA_REL_[ \t]+\"[^\"]*\"[ \t]+BU_EV_REL_)"
    % "|".join(re.escape(k) for k in _UNSUPPORTED_KEYWORDS),
    re.M)
_SIG_VALTYPE_NOCOLON_RE = re.compile(r"^([ \t]*SIG_VALTYPE_[ \t]+\d+[ \t]+\w+)[ \t]+(\d+[ \t]*;)", re.M)


def _strip_unsupported_statements(text: str) -> str:
    """Remove statements cantools cannot parse, up to their terminating ';'
    (semicolons inside "strings" do not count). NS_ list entries (a lone
    keyword on a line) are left alone."""
    out = []
    pos = 0
    while True:
        m = _STMT_START_RE.search(text, pos)
        if not m:
            out.append(text[pos:])
            break
        out.append(text[pos:m.start()])
        i = m.start()
        in_str = False
        while i < len(text):
            c = text[i]
            if in_str:
                if c == "\\" and i + 1 < len(text) and text[i + 1] == '"':
                    i += 2
                    continue
                if c == '"':
                    in_str = False
            elif c == '"':
                in_str = True
            elif c == ";":
                i += 1
                break
            i += 1
        pos = i
    return "".join(out)


def _add_sig_valtype_colon(text: str) -> str:
    return _SIG_VALTYPE_NOCOLON_RE.sub(r"\1 : \2", text)


NORMALIZERS = [
    ("inserted ':' into SIG_VALTYPE_ lines written without it", _add_sig_valtype_colon),
    ("removed statements cantools cannot parse (SGTYPE_, CAT_DEF_, FILTER, ...)", _strip_unsupported_statements),
]


@dataclass
class LoadedDb:
    db: object
    encoding: str
    notes: list


def read_dbc_text(path: str) -> tuple[str, str]:
    raw = open(path, "rb").read()
    try:
        text = raw.decode("utf-8")
        enc = "utf-8"
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
        enc = "cp1252"
    if text.startswith("\ufeff"):
        text = text[1:]
    # load_file() opens in text mode (universal newlines); do the same.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, enc


def load_db(path: str) -> LoadedDb:
    text, enc = read_dbc_text(path)
    try:
        db = cantools.database.load_string(text, database_format="dbc", strict=False,
                                           prune_choices=False)
        return LoadedDb(db, enc, [])
    except Exception as first_error:  # noqa: BLE001
        notes = []
        fixed = text
        for desc, fn in NORMALIZERS:
            new = fn(fixed)
            if new != fixed:
                notes.append(desc)
                fixed = new
        if not notes:
            raise
        try:
            db = cantools.database.load_string(fixed, database_format="dbc", strict=False,
                                               prune_choices=False)
        except Exception:
            raise first_error from None
        notes.insert(0, "cantools refused the file as is (%s)"
                     % str(first_error).splitlines()[0][:120])
        return LoadedDb(db, enc, notes)


# ---------------------------------------------------------------------------
# Bit access: cantools' own packer, one signal at a time
# ---------------------------------------------------------------------------
# Message.encode() needs every active signal and refuses undefined multiplexer
# values, but the generator writes single multiplexer values (defined or not)
# into a random payload and must keep the other random bits. So it uses the
# layer below: cantools.database.utils builds the bitstruct formats (here for
# one signal) and packs/unpacks with encode_data/decode_data, the functions
# Message.encode/decode call for each node of their codec tree.

def sawtooth_to_network(bit: int) -> int:
    return 8 * (bit // 8) + (7 - bit % 8)


def signal_fits(start: int, length: int, byte_order: str, nbytes: int) -> bool:
    """The mock gateway's own truncation rule (checked against cantools')."""
    if byte_order == "big_endian":
        return sawtooth_to_network(start) + length <= nbytes * 8
    return start + length <= nbytes * 8


@functools.lru_cache(maxsize=None)
def _signal_formats(sig, nbytes: int):
    return _ct_formats([sig], nbytes)


def write_raw(buf: bytearray, sig, raw) -> None:
    """Store sig's raw value (an int, or the float itself for a float signal)
    into buf with cantools' encoder. The other bits of buf stay as they are:
    cantools' padding mask selects them, as Message.encode(padding=True) does
    with its fill pattern. A raw value outside the signal's range raises."""
    formats = _signal_formats(sig, len(buf))
    packed = _ct_encode_data({sig.name: raw}, [sig], formats, False)
    kept = int.from_bytes(buf, "big") & formats.padding_mask
    buf[:] = (kept | packed).to_bytes(len(buf), "big")


def read_raw(data: bytes, sig, msg_length: int):
    """sig's raw value (signed int, unsigned int or float) as cantools reads
    it from data, or None if sig does not fit in data."""
    return _ct_decode_data(data, msg_length, [sig], _signal_formats(sig, msg_length),
                           False, False, True, True).get(sig.name)


def signal_raw_range(sig) -> tuple[int, int]:
    if sig.is_signed:
        return -(1 << (sig.length - 1)), (1 << (sig.length - 1)) - 1
    return 0, (1 << sig.length) - 1


# ---------------------------------------------------------------------------
# Frames and candump logs
# ---------------------------------------------------------------------------

@dataclass
class Frame:
    ts_us: int
    can_id: int
    extended: bool
    fd: bool
    data: bytes
    flags: int = 0
    kind: str = ""              # generator category (for statistics)
    msg_name: str | None = None  # message the generator aimed at
    mux_intent: str = ""         # "defined" / "undefined" / "random" / ""
    mux_path: list = field(default_factory=list)  # [(mux signal, value)] written

    def key(self):
        return (self.ts_us, self.can_id, self.extended, self.fd, self.data,
                self.flags if self.fd else 0)


def format_ts(ts_us: int) -> str:
    return f"{ts_us // 1_000_000}.{ts_us % 1_000_000:06d}"


def format_candump_line(f: Frame) -> str:
    idtxt = f"{f.can_id:08X}" if f.extended else f"{f.can_id:03X}"
    data = f.data.hex().upper()
    if f.fd:
        return f"({format_ts(f.ts_us)}) {CHANNEL} {idtxt}##{f.flags:X}{data}"
    return f"({format_ts(f.ts_us)}) {CHANNEL} {idtxt}#{data}"


_LOG_RE = re.compile(r"^\((\d+)\.(\d{6})\)\s+(\S+)\s+([0-9A-Fa-f]{3}|[0-9A-Fa-f]{8})#(.*)$")


def parse_candump_line(line: str) -> Frame:
    m = _LOG_RE.match(line.strip())
    if not m:
        raise ValueError(f"not a candump -l line: {line!r}")
    ts_us = int(m.group(1)) * 1_000_000 + int(m.group(2))
    idtxt, rest = m.group(4), m.group(5)
    ext = len(idtxt) == 8
    fd = rest.startswith("#")
    flags = 0
    if fd:
        flags = int(rest[1], 16)
        rest = rest[2:]
    if rest.startswith("R"):
        raise ValueError("RTR frames are not generated")
    if len(rest) % 2:
        raise ValueError(f"odd number of hex digits: {line!r}")
    return Frame(ts_us, int(idtxt, 16), ext, fd, bytes.fromhex(rest), flags)


def write_log(path: str, frames: list[Frame]) -> None:
    with open(path, "w", encoding="ascii", newline="\n") as fh:
        for f in frames:
            fh.write(format_candump_line(f) + "\n")


def read_log(path: str) -> list[Frame]:
    with open(path, encoding="ascii") as fh:
        return [parse_candump_line(line) for line in fh if line.strip()]


# ---------------------------------------------------------------------------
# Frame generation
# ---------------------------------------------------------------------------

def message_key(msg) -> tuple[int, bool]:
    return (msg.frame_id, bool(msg.is_extended_frame))


def has_multiplexers(msg) -> bool:
    return bool(msg._codecs["multiplexers"])  # noqa: SLF001 (cantools internals)


def _write_mux_value(buf: bytearray, sig, value: int) -> None:
    write_raw(buf, sig, int(sig.conversion.numeric_scaled_to_raw(value)))


def _undefined_mux_value(sig, defined, rng) -> int | None:
    """A multiplexer value (as cantools compares it: the scaled value) that has
    no branch, or None if every raw value of the signal is defined."""
    lo, hi = signal_raw_range(sig)

    def value_of(raw):
        phys = sig.conversion.raw_to_scaled(raw, False)
        if isinstance(phys, float) and not phys.is_integer():
            return None
        return int(phys)

    for _ in range(64):
        v = value_of(rng.randint(lo, hi))
        if v is not None and v not in defined:
            return v
    if hi - lo < 65536:
        for raw in range(lo, hi + 1):
            v = value_of(raw)
            if v is not None and v not in defined:
                return v
    return None


def _encode_mux_path(msg, buf: bytearray, rng, make_undefined: bool) -> tuple[list, bool]:
    """Write multiplexer values into buf following msg's codec tree.
    If make_undefined, one multiplexer on the path gets an undefined value
    (and nothing below it is written). Returns (path, undefined_written)."""
    path = []  # (signal, chosen value, defined branches, index of parent point or None)

    def walk(node, parent):
        for mux_name, branches in node["multiplexers"].items():
            sig = msg.get_signal_by_name(mux_name)
            value = rng.choice(sorted(branches))
            path.append((sig, value, branches, parent))
            walk(branches[value], len(path) - 1)

    walk(msg._codecs, None)  # noqa: SLF001
    undefined_at = rng.randrange(len(path)) if make_undefined and path else None
    written = []
    undefined_written = False
    skipped = set()
    for idx, (sig, value, branches, parent) in enumerate(path):
        if parent in skipped:
            skipped.add(idx)
            continue
        if idx == undefined_at:
            bad = _undefined_mux_value(sig, set(branches), rng)
            if bad is not None:
                _write_mux_value(buf, sig, bad)
                written.append((sig.name, bad))
                undefined_written = True
                skipped.add(idx)
                continue
        _write_mux_value(buf, sig, value)
        written.append((sig.name, value))
    return written, undefined_written


_PATTERNS = [b"\x00", b"\xff", b"\xaa", b"\x55", b"\x80", b"\x7f", b"\x01", b"\xfe"]


def _pattern_payload(n: int, rng) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:
        return rng.choice(_PATTERNS) * n
    if kind == 1:  # float specials sprinkled in
        specials = [struct.pack("<f", float("nan")), struct.pack(">f", float("inf")),
                    struct.pack("<d", float("-inf")), struct.pack(">d", float("nan")),
                    struct.pack("<f", -0.0), struct.pack(">d", 5e-324),
                    struct.pack("<f", 1.4e-45), struct.pack(">f", 3.4028235e38)]
        out = b"".join(rng.choice(specials) for _ in range(n // 4 + 2))
        return out[:n]
    if kind == 2:
        return bytes((i * 37 + 11) & 0xFF for i in range(n))
    return bytes(rng.choice([0x00, 0xFF]) for _ in range(n))


def _gen_known_frame(msg, rng, fd_as_classic: float = 0.0) -> Frame:
    L = msg.length
    send_fd = bool(msg.is_fd)
    if send_fd and rng.random() < fd_as_classic:
        send_fd = False  # an FD message arriving as a classic frame (<= 8 bytes)
    allowed = FD_LENGTHS if send_fd else CLASSIC_LENGTHS
    full = max(x for x in allowed if x <= L)  # L itself unless a classic frame carries an FD message
    r = rng.random()
    kind = "full"
    n = full
    pattern = False
    if r < 0.70:
        pass
    elif r < 0.85:
        shorter = [x for x in allowed if x < L]
        if shorter:
            n, kind = rng.choice(shorter), "truncated"
    elif r < 0.95:
        longer = [x for x in allowed if x > L]
        if longer:
            n, kind = rng.choice(longer), "excess"
    else:
        pattern, kind = True, "pattern"
    if n < L and kind == "full":
        kind = "truncated"
    buf_len = max(n, L)
    buf = bytearray(_pattern_payload(buf_len, rng) if pattern else rng.randbytes(buf_len))
    intent, path = "", []
    if has_multiplexers(msg):
        m = rng.random()
        if m < 0.65:
            path, _ = _encode_mux_path(msg, buf, rng, make_undefined=False)
            intent = "defined"
        elif m < 0.80:
            path, undef = _encode_mux_path(msg, buf, rng, make_undefined=True)
            intent = "undefined" if undef else "defined"
        else:
            intent = "random"
    data = bytes(buf[:n])
    flags = rng.choice([1, 1, 1, 1, 0, 5, 3]) if send_fd else 0
    return Frame(0, msg.frame_id, bool(msg.is_extended_frame), send_fd, data, flags,
                 kind=kind + ("/fd" if send_fd else "") + ("/classic-for-fd" if msg.is_fd and not send_fd else ""),
                 msg_name=msg.name, mux_intent=intent, mux_path=path)


def _gen_unknown_frame(db, known: set, rng) -> Frame:
    msgs = list(db.messages)
    for _ in range(1000):
        r = rng.random()
        if msgs and r < 0.3:
            # same numeric id as a known message, other frame format
            msg = rng.choice(msgs)
            ext = not msg.is_extended_frame
            can_id = msg.frame_id
            if not ext and can_id > 0x7FF:
                continue
        elif r < 0.65:
            ext, can_id = False, rng.randrange(0x800)
        else:
            ext, can_id = True, rng.randrange(1 << 29)
        if (can_id, ext) not in known:
            break
    else:  # pragma: no cover
        raise RuntimeError("could not find an unknown id")
    fd = rng.random() < 0.2
    n = rng.choice(FD_LENGTHS if fd else CLASSIC_LENGTHS)
    return Frame(0, can_id, ext, fd, rng.randbytes(n), 1 if fd else 0, kind="unknown-id")


def generate_frames(db, n_frames: int, rng, fd_as_classic: float = 0.0) -> list[Frame]:
    msgs = list(db.messages)
    known = {message_key(m) for m in msgs}
    n_unknown = max(4, n_frames // 50) if msgs else n_frames
    n_unknown = min(n_unknown, n_frames)
    frames = [_gen_known_frame(msgs[i % len(msgs)], rng, fd_as_classic) for i in range(n_frames - n_unknown)]
    frames += [_gen_unknown_frame(db, known, rng) for _ in range(n_unknown)]
    rng.shuffle(frames)
    for i, f in enumerate(frames):
        f.ts_us = BASE_TS_US + 1 + i
    return frames


# ---------------------------------------------------------------------------
# cantools reference
# ---------------------------------------------------------------------------

@dataclass
class Expected:
    status: str                       # "unknown" | "ok" | "undefined_mux" | "refused"
    message: str | None = None
    signals: dict = field(default_factory=dict)
    choices: dict = field(default_factory=dict)
    missing: set = field(default_factory=set)
    offsets: dict = field(default_factory=dict)
    reason: str = ""                  # cantools' exception text (undefined_mux / refused)
    partial_ok: bool = True           # refused: may the gateway output a partial set?
    inconsistency: str = ""           # internal cross-check failure (script bug / cantools quirk)


def lookup_message(db, f: Frame):
    try:
        return db.get_message_by_frame_id(f.can_id, force_extended_id=f.extended)
    except KeyError:
        return None


def _label_of(sig, raw):
    """cantools' label lookup for one raw value (decode_choices=True path)."""
    choices = sig.conversion.choices
    if not choices:
        return None
    if isinstance(raw, float):
        if not math.isfinite(raw) or not raw.is_integer():
            return None
    c = choices.get(int(raw))
    if c is None:
        return None
    return c.name if isinstance(c, NamedSignalValue) else str(c)


def tolerant_decode(msg, data: bytes):
    """Walk cantools' own codec tree (msg._codecs) with cantools' decode_data,
    like Message._decode, but do not raise on an undefined multiplexer value:
    stop below it instead. Returns (numbers, raws, missing, undefined_muxes)."""
    numbers, raws, missing, undefined = {}, {}, set(), []

    def visit(node):
        dec = _ct_decode_data(data, msg.length, node["signals"], node["formats"],
                              False, True, True, True)
        raw = _ct_decode_data(data, msg.length, node["signals"], node["formats"],
                              False, False, True, True)
        numbers.update(dec)
        raws.update(raw)
        for sig in node["signals"]:
            if sig.name not in dec:
                missing.add(sig.name)
        for mux_name, branches in node["multiplexers"].items():
            if mux_name not in dec:
                continue  # the multiplexer itself did not fit
            value = int(dec[mux_name])  # cantools selects by the scaled value
            sub = branches.get(value)
            if sub is None:
                undefined.append((mux_name, value))
                continue
            visit(sub)

    visit(msg._codecs)  # noqa: SLF001
    return numbers, raws, missing, undefined


def expected_for(db, f: Frame) -> Expected:
    msg = lookup_message(db, f)
    if msg is None:
        return Expected("unknown")
    offsets = {s.name: float(s.offset) for s in msg.signals}
    exp = Expected("ok", message=msg.name, offsets=offsets)
    try:
        t_num, t_raw, t_missing, t_undef = tolerant_decode(msg, f.data)
        t_choices = {}
        for name, raw in t_raw.items():
            label = _label_of(msg.get_signal_by_name(name), raw)
            if label is not None:
                t_choices[name] = label
        t_err = None
    except Exception as e:  # noqa: BLE001
        t_num = t_raw = t_choices = None
        t_missing, t_undef = set(), []
        t_err = e

    kwargs = dict(scaling=True, allow_truncated=True, allow_excess=True)
    try:
        num = msg.decode(f.data, decode_choices=False, **kwargs)
        num_err = None
    except Exception as e:  # noqa: BLE001
        num, num_err = None, e
    try:
        lab = msg.decode(f.data, decode_choices=True, **kwargs)
        lab_err = None
    except Exception as e:  # noqa: BLE001
        lab, lab_err = None, e

    if num_err is None:
        exp.signals = dict(num)
        if lab_err is None and set(lab) == set(num):
            exp.choices = {k: v.name for k, v in lab.items() if isinstance(v, NamedSignalValue)}
        else:
            why = f"{type(lab_err).__name__}: {lab_err}" if lab_err else \
                "decode_choices=True selected other signals than decode_choices=False"
            exp.inconsistency = f"labels: {why}"
            exp.choices = t_choices or {}
        exp.missing = t_missing
        if t_err is not None:
            exp.inconsistency = f"tolerant decode failed: {t_err!r}"
        elif set(t_num) != set(num) or any(not values_equal(num[k], t_num[k], 0.0) for k in num):
            exp.inconsistency = "tolerant decode disagrees with Message.decode"
        return exp

    reason = f"{type(num_err).__name__}: {num_err}"
    if isinstance(num_err, DecodeError) and str(num_err).startswith(MUX_UNDEFINED_PREFIX) \
            and t_err is None and t_undef:
        exp.status = "undefined_mux"
        exp.reason = reason
        exp.signals = t_num
        exp.choices = t_choices
        exp.missing = t_missing
        return exp

    exp.status = "refused"
    exp.reason = reason
    if t_err is None:
        exp.signals, exp.choices, exp.missing = t_num, t_choices, t_missing
        exp.partial_ok = True
    else:
        exp.partial_ok = False
    return exp


def expected_to_json(exp: Expected, f: Frame) -> dict:
    """Render a cantools expectation in the gateway's JSONL contract."""
    obj = {"t": float(format_ts(f.ts_us)), "id": f.can_id, "extended": f.extended}
    if exp.status == "unknown":
        obj.update(message=None, error="unknown id")
        return obj
    if exp.status == "refused" and not exp.partial_ok:
        obj.update(message=exp.message, error=exp.reason)
        return obj
    obj["message"] = exp.message
    obj["signals"] = {k: json_number(v) for k, v in exp.signals.items()}
    obj["choices"] = dict(exp.choices)
    if exp.missing:
        obj["missing"] = sorted(exp.missing)
    return obj


# ---------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------

def json_number(v):
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
    return v


_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def gateway_number(v):
    """Gateway JSON value -> int/float, or None if it is not a number."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str) and v in _SPECIAL:
        return _SPECIAL[v]
    return None


def values_equal(exp, got, offset: float, strict_int: bool = False) -> bool:
    if strict_int and isinstance(exp, int) and isinstance(got, int):
        return exp == got
    e, g = float(exp), float(got)
    if math.isnan(e) or math.isnan(g):
        return math.isnan(e) and math.isnan(g)
    if math.isinf(e) or math.isinf(g):
        return e == g
    if isinstance(exp, int) and isinstance(got, int):
        if exp == got:
            return True
    tol = max(ABS_TOL, REL_TOL * max(abs(e), abs(g)), 4 * 2.220446049250313e-16 * (abs(offset) + abs(e)))
    return abs(e - g) <= tol


def _short(v, n=80):
    s = json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else repr(v)
    return s if len(s) <= n else s[: n - 3] + "..."


def compare_line(obj, exp: Expected, f: Frame, strict_int: bool = False) -> list[tuple[str, object, object]]:
    """Return a list of (field, ours, cantools) differences."""
    diffs = []
    if not isinstance(obj, dict):
        return [("line", obj, "a JSON object")]
    t = gateway_number(obj.get("t"))
    t_exp = f.ts_us / 1e6
    if t is None or not math.isfinite(t) or abs(t - t_exp) > T_TOL:
        diffs.append(("t", obj.get("t"), format_ts(f.ts_us)))
    if obj.get("id") != f.can_id or isinstance(obj.get("id"), bool):
        diffs.append(("id", obj.get("id"), f.can_id))
    if obj.get("extended") is not f.extended:
        diffs.append(("extended", obj.get("extended"), f.extended))

    if exp.status == "unknown":
        if obj.get("message", "<absent>") is not None:
            diffs.append(("message", obj.get("message", "<absent>"), None))
        if "error" not in obj:
            diffs.append(("error", "<absent>", "an error for an unknown id"))
        if obj.get("signals"):
            diffs.append(("signals", obj.get("signals"), "<none>"))
        return diffs

    if obj.get("message") != exp.message:
        diffs.append(("message", obj.get("message"), exp.message))

    if exp.status == "refused" and "error" in obj:
        return diffs  # an error is an accepted answer when cantools refused
    if exp.status == "refused" and not exp.partial_ok:
        diffs.append(("error", "<absent>", f"an error (cantools refused: {exp.reason})"))
        return diffs
    if "error" in obj:
        what = "partial decode (undefined multiplexer value)" if exp.status == "undefined_mux" else "a decode"
        diffs.append(("error", obj.get("error"), what))
        return diffs

    sigs = obj.get("signals")
    if not isinstance(sigs, dict):
        diffs.append(("signals", sigs, "an object"))
        sigs = {}
    ours, theirs = set(sigs), set(exp.signals)
    for name in sorted(ours - theirs):
        diffs.append((f"signals.{name}", sigs[name], "<absent>"))
    for name in sorted(theirs - ours):
        diffs.append((f"signals.{name}", "<absent>", exp.signals[name]))
    for name in sorted(ours & theirs):
        g = gateway_number(sigs[name])
        e = exp.signals[name]
        if g is None or not values_equal(e, g, exp.offsets.get(name, 0.0), strict_int):
            diffs.append((f"signals.{name}", sigs[name], json_number(e)))

    ch = obj.get("choices", {})
    if not isinstance(ch, dict):
        diffs.append(("choices", ch, "an object"))
        ch = {}
    for name in sorted(set(ch) | set(exp.choices)):
        if ch.get(name, "<absent>") != exp.choices.get(name, "<absent>"):
            diffs.append((f"choices.{name}", ch.get(name, "<absent>"), exp.choices.get(name, "<absent>")))

    if "missing" in obj:
        miss = obj["missing"]
        if not isinstance(miss, list) or not all(isinstance(x, str) for x in miss):
            diffs.append(("missing", miss, "a list of names"))
        elif set(miss) != exp.missing:
            diffs.append(("missing", sorted(miss), sorted(exp.missing)))
    return diffs


# ---------------------------------------------------------------------------
# Running one fixture
# ---------------------------------------------------------------------------

@dataclass
class FileResult:
    name: str
    frames: int = 0
    compared: int = 0
    mismatches: int = 0
    details: list = field(default_factory=list)
    undefined_mux: int = 0
    refused: dict = field(default_factory=dict)
    inconsistencies: dict = field(default_factory=dict)
    kinds: dict = field(default_factory=dict)
    fatal: str = ""
    notes: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.fatal and self.mismatches == 0


def file_seed(seed: int, name: str) -> int:
    return (seed * 1_000_003) ^ zlib.crc32(name.encode())


def run_gateway(cmd: list[str], dbc: str, log: str, timeout: int) -> tuple[int, str, str]:
    full = cmd + ["decode", "--format", "jsonl", "--dbc", dbc, log]
    try:
        p = subprocess.run(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except FileNotFoundError:
        return 127, "", f"gateway not found: {cmd[0]}"
    except subprocess.TimeoutExpired:
        return 124, "", f"gateway timed out after {timeout}s"
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def compare_output(res: FileResult, frames: list[Frame], expected: list[Expected], stdout: str,
                   strict_int: bool = False) -> None:
    lines = stdout.splitlines()
    if lines and lines[-1] == "":
        lines.pop()
    for i, (f, exp) in enumerate(zip(frames, expected)):
        lineno = i + 1
        if i >= len(lines):
            diffs = [("line", "<missing>", "one JSON object per frame")]
        else:
            try:
                obj = json.loads(lines[i])
                diffs = compare_line(obj, exp, f, strict_int)
            except json.JSONDecodeError as e:
                diffs = [("json", lines[i][:80], f"valid JSON ({e.msg})")]
        res.compared += 1
        if diffs:
            res.mismatches += 1
            if len(res.details) < MAX_DETAILS:
                res.details.append((lineno, f, diffs))
    if len(lines) > len(frames):
        res.mismatches += 1
        if len(res.details) < MAX_DETAILS:
            res.details.append((len(frames) + 1, None, [("line", lines[len(frames)][:80], "<no more frames>")]))


def build_expectations(db, frames: list[Frame], res: FileResult) -> list[Expected]:
    out = []
    for f in frames:
        exp = expected_for(db, f)
        out.append(exp)
        res.kinds[f.kind] = res.kinds.get(f.kind, 0) + 1
        if exp.status == "undefined_mux":
            res.undefined_mux += 1
        elif exp.status == "refused":
            key = exp.reason.split(":")[0] + ": " + _strip_numbers(exp.reason)
            res.refused[key] = res.refused.get(key, 0) + 1
        if exp.inconsistency:
            res.inconsistencies[exp.inconsistency] = res.inconsistencies.get(exp.inconsistency, 0) + 1
    return out


def _strip_numbers(s: str) -> str:
    s = s.split(":", 1)[1].strip() if ":" in s else s
    return re.sub(r"\d+", "N", s)[:100]


def prepare_file(path: str, n_frames: int, seed: int, fd_as_classic: float = 0.0):
    name = os.path.basename(path)
    res = FileResult(name)
    loaded = load_db(path)
    res.notes = [f"encoding {loaded.encoding}"] + loaded.notes
    rng = random.Random(file_seed(seed, name))
    frames = generate_frames(loaded.db, n_frames, rng, fd_as_classic)
    res.frames = len(frames)
    expected = build_expectations(loaded.db, frames, res)
    return loaded, frames, expected, res


def print_result(res: FileResult, out=sys.stdout) -> None:
    status = "PASS" if res.passed else "FAIL"
    print(f"== {res.name}: {status}", file=out)
    for n in res.notes:
        print(f"   note: {n}", file=out)
    if res.fatal:
        print(f"   error: {res.fatal}", file=out)
    print(f"   frames compared: {res.compared} of {res.frames}; mismatches: {res.mismatches}", file=out)
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(res.kinds.items()))
    print(f"   frame kinds: {kinds}", file=out)
    print(f"   cantools undefined multiplexer value (gateway must decode the non-multiplexed part): "
          f"{res.undefined_mux}", file=out)
    if res.refused:
        for k, v in sorted(res.refused.items()):
            print(f"   cantools refused: {v} x {k}", file=out)
    else:
        print("   cantools refused: 0", file=out)
    for k, v in sorted(res.inconsistencies.items()):
        print(f"   WARNING reference inconsistency: {v} x {k}", file=out)
    for lineno, f, diffs in res.details:
        head = f"   line {lineno}"
        if f is not None:
            head += f" id 0x{f.can_id:X}{' ext' if f.extended else ''}{' fd' if f.fd else ''}" \
                    f" len {len(f.data)} data {f.data.hex().upper() or '-'}"
        print(head, file=out)
        for fld, ours, theirs in diffs[:8]:
            print(f"      {fld}: ours {_short(ours)} vs cantools {_short(json_number(theirs))}", file=out)
        if len(diffs) > 8:
            print(f"      ... {len(diffs) - 8} more fields", file=out)


def fixture_files(fixtures: str, only: list[str] | None) -> list[str]:
    names = sorted(n for n in os.listdir(fixtures) if n.endswith(".dbc"))
    if only:
        wanted = {o if o.endswith(".dbc") else o + ".dbc" for o in only}
        names = [n for n in names if n in wanted]
    return [os.path.join(fixtures, n) for n in names if n not in EXCLUDED_FILES]


def run_differential(args, gateway_cmd: list[str], out=sys.stdout) -> tuple[int, int, list]:
    passed = failed = 0
    results = []
    keep = args.keep
    tmpdir = tempfile.mkdtemp(prefix="vg-diff-") if not keep else keep
    os.makedirs(tmpdir, exist_ok=True)
    for path in fixture_files(args.fixtures, args.only):
        name = os.path.basename(path)
        try:
            loaded, frames, expected, res = prepare_file(path, args.frames, args.seed, args.fd_as_classic)
        except Exception as e:  # noqa: BLE001
            res = FileResult(name, fatal=f"cantools could not load the file: {type(e).__name__}: {e}")
            print_result(res, out)
            failed += 1
            results.append(res)
            continue
        log = os.path.join(tmpdir, name[:-4] + ".log")
        write_log(log, frames)
        rc, stdout, stderr = run_gateway(gateway_cmd, path, log, args.timeout)
        if keep:
            with open(os.path.join(tmpdir, name[:-4] + ".gateway.jsonl"), "w", encoding="utf-8") as fh:
                fh.write(stdout)
            with open(os.path.join(tmpdir, name[:-4] + ".expected.jsonl"), "w", encoding="utf-8") as fh:
                for f, exp in zip(frames, expected):
                    fh.write(json.dumps(expected_to_json(exp, f), ensure_ascii=False) + "\n")
        if rc != 0:
            res.fatal = f"gateway exited with status {rc}: {stderr.strip()[:500]}"
        if rc == 0 or stdout.strip():
            compare_output(res, frames, expected, stdout, args.strict_int)
        print_result(res, out)
        results.append(res)
        if res.passed:
            passed += 1
        else:
            failed += 1
    if not keep:
        for n in os.listdir(tmpdir):
            os.unlink(os.path.join(tmpdir, n))
        os.rmdir(tmpdir)
    return passed, failed, results


# ---------------------------------------------------------------------------
# Independent reference decoder ("mock gateway") -- used by --self-check.
# It shares with cantools the parsed signal definitions and the bit reader
# (read_raw: cantools' own unpacker, which also resolves sign and floats).
# Its own: walking the multiplexer tree from the signal definitions, selection
# by RAW multiplexer value (as in the DBC format, where cantools selects by the
# scaled value), the truncation rule, scaling in doubles, labels, JSON output.
# ---------------------------------------------------------------------------

def mock_decode_frame(index: dict, f: Frame) -> dict:
    obj = {"t": float(format_ts(f.ts_us)), "id": f.can_id, "extended": f.extended}
    msg = index.get((f.can_id, f.extended))
    if msg is None:
        obj.update(message=None, error="unknown id")
        return obj
    nbytes = min(len(f.data), msg.length)
    children = {}
    for s in msg.signals:
        children.setdefault(s.multiplexer_signal, []).append(s)
    signals, choices, missing = {}, {}, []

    def decode(s):
        rawv = read_raw(f.data, s, msg.length)
        if rawv is None:  # signal_fits() said it fits; cantools disagrees
            raise AssertionError(f"{msg.name}.{s.name}: fits {nbytes} bytes but cantools dropped it")
        scale, offset = s.conversion.scale, s.conversion.offset
        if not s.conversion.is_float and scale == 1 and offset == 0:
            phys = rawv                      # integer identity: exact
        else:
            phys = float(rawv) * float(scale) + float(offset)   # what a Double-based decoder does
        return rawv, phys

    def visit(parent, parent_raw):
        for s in children.get(parent, []):
            if parent is not None and (s.multiplexer_ids is None or parent_raw not in s.multiplexer_ids):
                continue
            if not signal_fits(s.start, s.length, s.byte_order, nbytes):
                missing.append(s.name)
                continue
            rawv, phys = decode(s)
            signals[s.name] = json_number(phys)
            if s.conversion.choices and not isinstance(rawv, float) and rawv in s.conversion.choices:
                c = s.conversion.choices[rawv]
                choices[s.name] = c.name if isinstance(c, NamedSignalValue) else str(c)
            if s.is_multiplexer:
                visit(s.name, rawv)

    visit(None, None)
    obj["message"] = msg.name
    obj["signals"] = signals
    obj["choices"] = choices
    if missing:
        obj["missing"] = missing
    return obj


def mock_gateway_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="diff_cantools.py --mock-gateway")
    p.add_argument("command", choices=["decode"])
    p.add_argument("--format", default="jsonl", choices=["jsonl"])
    p.add_argument("--dbc", required=True)
    p.add_argument("log")
    a = p.parse_args(argv)
    db = load_db(a.dbc).db
    index = {message_key(m): m for m in db.messages}
    out = io.StringIO()
    for f in read_log(a.log):
        out.write(json.dumps(mock_decode_frame(index, f), ensure_ascii=False, allow_nan=False) + "\n")
    sys.stdout.write(out.getvalue())
    return 0


# ---------------------------------------------------------------------------
# Self-check
# ---------------------------------------------------------------------------

class Check:
    def __init__(self):
        self.ok = 0
        self.failures = []

    def expect(self, cond: bool, what: str):
        if cond:
            self.ok += 1
        else:
            self.failures.append(what)


def _active_signals_for_path(msg, path_values: dict):
    """Signals active for a chosen defined mux path (by codec tree)."""
    active = []

    def visit(node):
        for s in node["signals"]:
            active.append(s)
        for mux_name, branches in node["multiplexers"].items():
            v = path_values.get(mux_name)
            if v is not None and v in branches:
                visit(branches[v])

    visit(msg._codecs)  # noqa: SLF001
    return active


def _random_raw(sig, msg_length: int, rng):
    """A raw value for sig: range ends, zero, or random; for a float signal
    whatever bit pattern random bytes hold (NaN, inf and subnormals included)."""
    if sig.conversion.is_float:
        return read_raw(rng.randbytes(msg_length), sig, msg_length)
    lo, hi = signal_raw_range(sig)
    return rng.choice([lo, hi, 0, rng.randint(lo, hi), rng.randint(lo, hi)])


def _floats_same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def self_check_codec(db, rng, chk: Check, trials: int = 60) -> None:
    """Our per-signal bit access (write_raw/read_raw over cantools' formats)
    against cantools' whole-message codec: write_raw onto a background of
    zeros / the unused-bit pattern must give Message.encode's bytes
    (padding=False / True), onto random bytes Message.decode must read the
    values back, and read_raw must read what Message.encode wrote."""
    for msg in db.messages:
        L = msg.length
        for _ in range(trials):
            path_values = {}

            def pick(node):
                for mux_name, branches in node["multiplexers"].items():
                    v = rng.choice(sorted(branches))
                    path_values[mux_name] = v
                    pick(branches[v])

            pick(msg._codecs)  # noqa: SLF001
            active = _active_signals_for_path(msg, path_values)
            values = {}
            for s in active:
                if s.name in path_values:
                    values[s.name] = int(s.conversion.numeric_scaled_to_raw(path_values[s.name]))
                else:
                    values[s.name] = _random_raw(s, L, rng)
            fill = bytes([msg._unused_bit_pattern]) * L  # noqa: SLF001
            written = {}
            for name, background in (("zeros", bytes(L)), ("unused-bit pattern", fill),
                                     ("random", rng.randbytes(L))):
                buf = bytearray(background)
                for s in active:
                    write_raw(buf, s, values[s.name])
                written[name] = bytes(buf)
            try:
                enc = msg.encode(values, scaling=False, padding=False, strict=False)
                enc_fill = msg.encode(values, scaling=False, padding=True, strict=False)
            except Exception as e:  # noqa: BLE001
                chk.expect(False, f"{msg.name}: cantools encode failed: {e}")
                continue
            chk.expect(written["zeros"] == enc,
                       f"{msg.name}: write_raw on zeros {written['zeros'].hex()} != Message.encode {enc.hex()}")
            chk.expect(written["unused-bit pattern"] == enc_fill,
                       f"{msg.name}: write_raw on the fill pattern {written['unused-bit pattern'].hex()}"
                       f" != Message.encode(padding=True) {enc_fill.hex()}")
            try:
                dec = msg.decode(written["random"], decode_choices=False, scaling=False)
            except Exception as e:  # noqa: BLE001
                chk.expect(False, f"{msg.name}: cantools could not decode our encoding: {e}")
                continue
            chk.expect(set(dec) == set(values),
                       f"{msg.name}: signal set {sorted(dec)} != {sorted(values)}")
            for k, v in values.items():
                chk.expect(k in dec and _floats_same(dec[k], v),
                           f"{msg.name}.{k}: write_raw wrote {v!r}, cantools read {dec.get(k)!r}")
            # the other direction: cantools encodes, our reader reads the bits back
            for s in active:
                got = read_raw(enc, s, L)
                chk.expect(_floats_same(got, values[s.name]),
                           f"{msg.name}.{s.name}: cantools encoded {values[s.name]!r}, read_raw got {got!r}")


def self_check_frames(db, frames: list[Frame], expected: list[Expected], chk: Check) -> None:
    for f, exp in zip(frames, expected):
        if f.msg_name is None:
            chk.expect(exp.status == "unknown", f"generated unknown id 0x{f.can_id:X} resolved to {exp.message}")
            continue
        chk.expect(exp.message == f.msg_name, f"frame for {f.msg_name} looked up as {exp.message}")
        chk.expect(not exp.inconsistency, f"{f.msg_name}: {exp.inconsistency}")
        chk.expect(exp.status in ("ok", "undefined_mux"),
                   f"{f.msg_name}: unexpected cantools status {exp.status} {exp.reason}")
        fd_ok = (len(f.data) in FD_LENGTHS) if f.fd else (len(f.data) <= 8)
        chk.expect(fd_ok, f"{f.msg_name}: invalid length {len(f.data)} (fd={f.fd})")
        msg = db.get_message_by_name(f.msg_name)
        chk.expect(f.fd == bool(msg.is_fd) or not f.fd, f"{f.msg_name}: classic message written as FD")
        if f.mux_intent in ("defined", "undefined") and f.mux_path:
            # every multiplexer value we wrote and that fits must be read back
            for mux_name, value in f.mux_path:
                if mux_name in exp.signals:
                    chk.expect(int(exp.signals[mux_name]) == value,
                               f"{f.msg_name}: wrote {mux_name}={value}, cantools read {exp.signals[mux_name]}")
            if f.mux_intent == "defined" and len(f.data) >= msg.length:
                chk.expect(exp.status == "ok", f"{f.msg_name}: defined mux path but cantools said {exp.reason}")
            if f.mux_intent == "undefined" and len(f.data) >= msg.length:
                chk.expect(exp.status == "undefined_mux",
                           f"{f.msg_name}: undefined mux value written but cantools status {exp.status}")


def _mutations(obj: dict, exp: Expected):
    """Yield (description, mutated object) pairs that the comparator must flag."""
    o = copy.deepcopy(obj)
    o["t"] = obj["t"] + 1e-5
    yield "t shifted by 10us", o
    o = copy.deepcopy(obj)
    o["extended"] = not obj["extended"]
    yield "extended flipped", o
    o = copy.deepcopy(obj)
    o["id"] = obj["id"] + 1
    yield "id changed", o
    if exp.status == "unknown":
        o = copy.deepcopy(obj)
        o["message"] = "SomeMessage"
        yield "unknown id given a message", o
        o = copy.deepcopy(obj)
        o.pop("error", None)
        yield "unknown id without error", o
        return
    o = copy.deepcopy(obj)
    o["message"] = (obj.get("message") or "") + "_x"
    yield "message renamed", o
    if "error" in obj:
        return
    o = copy.deepcopy(obj)
    o["error"] = "injected"
    yield "error on a decodable frame", o
    sigs = obj.get("signals", {})
    o = copy.deepcopy(obj)
    o["signals"]["__bogus__"] = 1
    yield "extra signal", o
    if sigs:
        name = sorted(sigs)[len(sigs) // 2]
        o = copy.deepcopy(obj)
        del o["signals"][name]
        yield "signal dropped", o
        v = gateway_number(sigs[name])
        o = copy.deepcopy(obj)
        if v is None or not math.isfinite(v):
            o["signals"][name] = 0.5
        else:
            o["signals"][name] = v * (1 + 1e-6) + (1e-6 if abs(v) < 1 else 0)
        yield "value perturbed by 1e-6 relative", o
        o = copy.deepcopy(obj)
        o["signals"][name] = "NaN" if v is None or not (isinstance(v, float) and math.isnan(v)) else 0
        yield "value replaced by NaN", o
    o = copy.deepcopy(obj)
    o.setdefault("choices", {})["__bogus__"] = "label"
    yield "extra label", o
    if obj.get("choices"):
        name = sorted(obj["choices"])[0]
        o = copy.deepcopy(obj)
        o["choices"][name] = obj["choices"][name] + " "
        yield "label changed", o
        o = copy.deepcopy(obj)
        del o["choices"][name]
        yield "label dropped", o
    o = copy.deepcopy(obj)
    o["missing"] = sorted(set(obj.get("missing", [])) | {"__bogus__"})
    yield "bogus missing entry", o


def self_check(args) -> int:
    print("self-check: no gateway binary involved; validating generator, log writer, "
          "cantools reference and comparator")
    total_fail = 0
    all_results = []
    for path in fixture_files(args.fixtures, args.only):
        name = os.path.basename(path)
        chk = Check()
        try:
            loaded, frames, expected, res = prepare_file(path, args.frames, args.seed, args.fd_as_classic)
        except Exception as e:  # noqa: BLE001
            print(f"== {name}: FAIL cannot load: {type(e).__name__}: {e}")
            total_fail += 1
            continue
        db = loaded.db
        # 1. log round trip
        with tempfile.TemporaryDirectory(prefix="vg-selfcheck-") as td:
            log = os.path.join(td, "frames.log")
            write_log(log, frames)
            back = read_log(log)
            chk.expect(len(back) == len(frames), "log line count")
            for a, b in zip(frames, back):
                chk.expect(a.key() == b.key(), f"log round trip: {format_candump_line(a)}")
            ts = [f.ts_us for f in back]
            chk.expect(all(b - a == 1 for a, b in zip(ts, ts[1:])), "timestamps increase by 1us")
            try:  # optional cross-check with python-can's reader if it is installed
                import can  # type: ignore
                pc = list(can.CanutilsLogReader(log))
                chk.expect(len(pc) == len(frames), "python-can read a different number of frames")
                for a, m in zip(frames, pc):
                    chk.expect(m.arbitration_id == a.can_id and bool(m.is_extended_id) == a.extended
                               and bool(m.is_fd) == a.fd and bytes(m.data) == a.data
                               and abs(m.timestamp - a.ts_us / 1e6) < 1e-6,
                               f"python-can parses differently: {format_candump_line(a)}")
                res.notes.append("python-can CanutilsLogReader agrees with the log")
            except ImportError:
                res.notes.append("python-can not installed: skipped its log cross-check")
            # 2. generator intent vs cantools, reference consistency
            self_check_frames(db, frames, expected, chk)
            # 3. encoder/decoder round trips against cantools
            self_check_codec(db, random.Random(file_seed(args.seed, name) + 1), chk)
            # 4. full pipeline against the independent mock gateway
            cmd = [sys.executable, os.path.abspath(__file__), "--mock-gateway"]
            rc, stdout, stderr = run_gateway(cmd, path, log, args.timeout)
            chk.expect(rc == 0, f"mock gateway failed: {stderr[-500:]}")
            compare_output(res, frames, expected, stdout, strict_int=False)
            chk.expect(res.mismatches == 0, f"mock gateway vs cantools: {res.mismatches} mismatches")
            # 5. the comparator must catch corrupted output
            lines = stdout.splitlines()
            rng = random.Random(file_seed(args.seed, name) + 2)
            picks = set(rng.sample(range(len(lines)), min(40, len(lines))))
            for st in ("unknown", "undefined_mux", "ok"):  # make sure every status is mutated
                for i, e in enumerate(expected):
                    if e.status == st and i < len(lines):
                        picks.add(i)
                        break
            for i, e in enumerate(expected):
                if e.choices and i < len(lines):
                    picks.add(i)
                    break
            mut_total = mut_caught = 0
            for i in sorted(picks):
                obj = json.loads(lines[i])
                for desc, mutated in _mutations(obj, expected[i]):
                    mut_total += 1
                    if compare_line(mutated, expected[i], frames[i]):
                        mut_caught += 1
                    else:
                        chk.expect(False, f"comparator missed mutation '{desc}' on line {i + 1}")
            # dropping a line / adding a line must be caught too
            r2 = FileResult(name)
            compare_output(r2, frames, expected, "\n".join(lines[:-1]) + "\n")
            chk.expect(r2.mismatches == 1, "comparator missed a missing last line")
            r3 = FileResult(name)
            compare_output(r3, frames, expected, stdout + lines[0] + "\n")
            chk.expect(r3.mismatches == 1, "comparator missed an extra line")
            mut_total += 2
            mut_caught += (r2.mismatches == 1) + (r3.mismatches == 1)
        res.notes.append(f"self-check assertions: {chk.ok} passed, {len(chk.failures)} failed; "
                         f"corruptions caught: {mut_caught}/{mut_total}")
        print_result(res)
        for msg in chk.failures[:10]:
            print(f"   SELF-CHECK FAILURE: {msg}")
        if len(chk.failures) > 10:
            print(f"   ... {len(chk.failures) - 10} more self-check failures")
        if chk.failures or not res.passed:
            total_fail += 1
        all_results.append(res)
    passed = len(fixture_files(args.fixtures, args.only)) - total_fail
    print(f"{passed} passed, {total_fail} failed")
    return 1 if total_fail else 0


def emit_expected(args) -> int:
    os.makedirs(args.emit_expected, exist_ok=True)
    for path in fixture_files(args.fixtures, args.only):
        name = os.path.basename(path)[:-4]
        loaded, frames, expected, res = prepare_file(path, args.frames, args.seed, args.fd_as_classic)
        write_log(os.path.join(args.emit_expected, name + ".log"), frames)
        with open(os.path.join(args.emit_expected, name + ".expected.jsonl"), "w", encoding="utf-8") as fh:
            for f, exp in zip(frames, expected):
                fh.write(json.dumps(expected_to_json(exp, f), ensure_ascii=False) + "\n")
        print(f"{name}: {len(frames)} frames -> {name}.log, {name}.expected.jsonl")
    return 0


# ---------------------------------------------------------------------------

def main(argv: list[str]) -> int:
    if argv and argv[0] == "--mock-gateway":
        return mock_gateway_main(argv[1:])
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", help="gateway executable (default: $VG_BIN or <repo>/.build/release/vehicle-gateway); "
                                 "may contain arguments (split like a shell)")
    p.add_argument("--fixtures", default=DEFAULT_FIXTURES, help="directory with the .dbc fixtures")
    p.add_argument("--frames", type=int, default=2000, help="frames per fixture file (default 2000)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--only", nargs="*", help="only these fixture files (names, .dbc optional)")
    p.add_argument("--keep", metavar="DIR", help="keep logs, gateway output and expected JSONL in DIR")
    p.add_argument("--timeout", type=int, default=300, help="seconds per gateway run (default 300)")
    p.add_argument("--fd-as-classic", type=float, default=0.0, metavar="P",
                   help="probability that a frame of an FD message is written as a classic frame "
                        "(<= 8 bytes); default 0: FD messages are always written as FD frames")
    p.add_argument("--strict-int", action="store_true",
                   help="require exact equality when both sides are JSON integers (64-bit exactness)")
    p.add_argument("--self-check", action="store_true",
                   help="validate generator, log writer, cantools reference and comparator; no gateway needed")
    p.add_argument("--emit-expected", metavar="DIR",
                   help="write <fixture>.log and <fixture>.expected.jsonl (cantools view) to DIR and exit")
    args = p.parse_args(argv)
    if args.frames < 1:
        p.error("--frames must be >= 1")
    if args.self_check:
        return self_check(args)
    if args.emit_expected:
        return emit_expected(args)
    bin_spec = args.bin or os.environ.get("VG_BIN") or DEFAULT_BIN
    cmd = shlex.split(bin_spec) if (args.bin or os.environ.get("VG_BIN")) else [bin_spec]
    if not os.path.exists(cmd[0]) and not any(
            os.path.exists(os.path.join(d, cmd[0])) for d in os.environ.get("PATH", "").split(os.pathsep)):
        print(f"gateway binary not found: {cmd[0]} (build it, or pass --bin / set VG_BIN)")
    passed, failed, _ = run_differential(args, cmd)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
