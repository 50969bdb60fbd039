#!/usr/bin/env python3
"""Deterministic generator of a large, synthetic Vector DBC file for benchmarks.

The output is about 800 KB with 300 messages and about 2,000 signals.
Every message is a classic CAN frame with 8 data bytes and its signals never
overlap. The file mixes Intel and Motorola byte order, signed and unsigned
signals, factors and offsets, value tables (on about 20 % of the signals),
long comments (some spread over several lines), attributes (BA_DEF_,
BA_DEF_DEF_, BA_), multiplexed messages and 29-bit identifiers.

The same seed always gives the same file, byte for byte. The script uses only
the Python standard library. To check the result, load it with cantools
(`cantools.database.load_file(path, strict=True)`).

Usage:
    python3 scripts/gen_large_dbc.py OUTPUT.dbc [--seed 20240501]
        [--messages 300] [--signals 2000] [--target-bytes 800000]
"""

import argparse
import random
import sys

# --------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------

NODES = [
    "ABS", "ECM", "TCM", "EPS", "BCM", "IC", "GW", "GNSS", "ACU", "HVAC",
    "PDC", "ADAS", "BMS", "OBC", "DCDC", "SCCM", "DSM", "TPMS", "RCM", "HUD",
]

DOMAINS = ["Pt", "Ch", "Bd", "Adas", "Info", "Hv", "Diag", "Cmf", "Sfty", "Nav"]
OBJECTS = [
    "Engine", "Brake", "Steering", "Wheel", "Door", "Window", "Seat", "Mirror",
    "Light", "Wiper", "Climate", "Battery", "Charger", "Inverter", "Motor",
    "Radar", "Camera", "Ultrasonic", "Cluster", "Display", "Horn", "Lock",
    "Roof", "Trunk", "Fuel", "Exhaust", "Coolant", "Gearbox", "Clutch",
    "Suspension", "Tire", "Airbag", "Belt", "Pedal", "Cruise", "Lane",
    "Parking", "Heater", "Fan", "Pump",
]
KINDS = ["Status", "Request", "Info", "Data", "Command", "Feedback", "State",
         "Limits", "Config", "Diag"]
QUANTITIES = [
    "Speed", "Torque", "Temp", "Pressure", "Current", "Voltage", "Position",
    "Angle", "Rate", "Level", "Counter", "Crc", "Mode", "State", "Request",
    "Fault", "Valid", "Active", "Enable", "Limit", "Target", "Actual",
    "Setpoint", "Duty", "Flow", "Power", "Energy", "Distance", "Time",
    "Quality", "Offset", "Gain", "Index", "Warning", "Ready", "Available",
]
QUALIFIERS = ["", "", "", "Max", "Min", "Raw", "Filt", "Req", "Act", "Est",
              "Left", "Right", "Front", "Rear", "Pri", "Sec"]
UNITS = {
    "Speed": ["km/h", "rpm", "m/s"], "Torque": ["Nm"], "Temp": ["degC"],
    "Pressure": ["bar", "kPa"], "Current": ["A", "mA"], "Voltage": ["V", "mV"],
    "Position": ["%", "mm"], "Angle": ["deg"], "Rate": ["deg/s", "1/s"],
    "Level": ["%"], "Duty": ["%"], "Flow": ["l/h"], "Power": ["kW", "W"],
    "Energy": ["kWh", "Wh"], "Distance": ["m", "km"], "Time": ["s", "ms"],
    "Limit": ["Nm", "A", "%"], "Target": ["%", "Nm", "km/h"],
    "Actual": ["%", "Nm", "km/h"], "Setpoint": ["%", "degC"],
    "Offset": ["deg", "mm"], "Gain": [""],
}
CHOICE_WORDS = [
    "Off", "On", "Idle", "Active", "Passive", "Error", "Init", "Ready", "Fault",
    "Standby", "Sleep", "Wakeup", "Low", "Medium", "High", "Open", "Closed",
    "Locked", "Unlocked", "Left", "Right", "Both", "None", "Request", "Denied",
    "Granted", "Timeout", "Degraded", "Limited", "Full", "Empty", "Charging",
    "Discharging", "Manual", "Auto", "Service", "Calibrating", "Reserved",
]
COMMENT_WORDS = [
    "signal", "value", "transmitted", "controller", "cycle", "received",
    "gateway", "shall", "be", "the", "of", "is", "when", "and", "or", "not",
    "ignition", "state", "vehicle", "network", "management", "diagnostic",
    "fault", "threshold", "filtered", "raw", "sensor", "actuator", "request",
    "response", "timeout", "substitute", "default", "initial", "after",
    "before", "reset", "wakeup", "sleep", "mode", "calibration", "plausibility",
    "check", "counter", "checksum", "protected", "end-to-end", "profile",
    "resolution", "range", "invalid", "reserved", "future", "use", "receiver",
    "sender", "evaluates", "debounced", "within", "milliseconds", "seconds",
    "changes", "immediately", "event", "triggered", "periodic", "message",
    "frame", "byte", "bit", "order", "Motorola", "Intel", "scaled", "offset",
    "factor", "physical", "unit", "minimum", "maximum", "limit", "error",
    "flag", "qualifier", "status", "active", "inactive", "valid", "available",
]

FACTORS = [1, 1, 1, 0.1, 0.1, 0.01, 0.5, 0.25, 0.001, 0.05, 2, 0.0625,
           0.125, 0.2, 0.4, 10]
OFFSETS = [0, 0, 0, 0, 0, -40, -50, -100, -1000, -273, 0.5, 100, -32]


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def fmt_num(x):
    """Format a number like DBC tools do: integers without a decimal point."""
    if isinstance(x, int):
        return str(x)
    r = round(x, 9)
    if r == int(r) and abs(r) < 1e15:
        return str(int(r))
    return ("%.10g" % r)


def phys_bits(start, length, little_endian):
    """Physical bit positions (byte*8 + bit) that a signal occupies.

    `start` is the DBC start bit: the least significant bit for Intel
    signals and the most significant bit for Motorola signals.
    """
    bits = []
    if little_endian:
        for i in range(length):
            bits.append(start + i)
    else:
        pos = start
        for _ in range(length):
            bits.append(pos)
            if pos % 8 == 0:
                pos += 15
            else:
                pos -= 1
    return bits


def motorola_start_from_linear(msb_linear):
    """Turn a Motorola 'linear' index (0 = bit 7 of byte 0) into a DBC start bit."""
    byte, k = divmod(msb_linear, 8)
    return byte * 8 + (7 - k)


class Gen:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        # Comments use their own generator so that their length can be
        # tuned without changing the layout of messages and signals.
        self.crng = random.Random(seed ^ 0x5EED)
        self.signal_names = set()
        self.message_names = set()

    # -- names -------------------------------------------------------------

    def message_name(self):
        r = self.rng
        for _ in range(1000):
            name = r.choice(DOMAINS) + r.choice(OBJECTS) + r.choice(KINDS)
            if name not in self.message_names:
                break
        else:
            raise RuntimeError("cannot make a unique message name")
        if name in self.message_names:
            n = 2
            while f"{name}{n}" in self.message_names:
                n += 1
            name = f"{name}{n}"
        self.message_names.add(name)
        return name

    def signal_name(self, obj, quantity):
        r = self.rng
        base = obj + r.choice(QUALIFIERS) + quantity
        name = base
        n = 1
        while name in self.signal_names or len(name) > 32:
            n += 1
            name = f"{base[:28]}{n}"
        self.signal_names.add(name)
        return name

    # -- comments ----------------------------------------------------------

    def sentence(self):
        r = self.crng
        words = [r.choice(COMMENT_WORDS) for _ in range(r.randint(6, 16))]
        s = " ".join(words)
        return s[0].upper() + s[1:] + "."

    def comment(self, approx_len):
        r = self.crng
        parts = []
        total = 0
        multiline = r.random() < 0.1
        while total < approx_len:
            s = self.sentence()
            parts.append(s)
            total += len(s) + 1
        sep = "\n" if multiline else " "
        return sep.join(parts)

    # -- layout ------------------------------------------------------------

    def signal_length(self):
        r = self.rng.random()
        if r < 0.25:
            return 1
        if r < 0.45:
            return self.rng.randint(2, 4)
        if r < 0.65:
            return 8
        if r < 0.75:
            return self.rng.choice([10, 12])
        if r < 0.92:
            return 16
        return self.rng.choice([20, 24, 32])

    def place(self, used, length, little_endian, tries=60):
        """Find a start bit for a signal that does not overlap `used`."""
        r = self.rng
        for _ in range(tries):
            first = r.randint(0, 64 - length)
            if little_endian:
                start = first
            else:
                start = motorola_start_from_linear(first)
            bits = phys_bits(start, length, little_endian)
            if all(0 <= b < 64 for b in bits) and not (used & set(bits)):
                return start, bits
        return None

    def make_signal(self, obj, used, mux_marker="", is_mux=False):
        r = self.rng
        if is_mux:
            length = r.choice([2, 3, 4, 8])
            little_endian = True
            placed = self.place(used, length, little_endian)
            if placed is None:
                return None
            start, bits = placed
            used.update(bits)
            name = self.signal_name(obj, "MuxPage")
            return dict(name=name, start=start, length=length,
                        little_endian=True, signed=False, factor=1, offset=0,
                        minimum=0, maximum=(1 << length) - 1, unit="",
                        mux="M", choices=None, bits=bits)

        length = self.signal_length()
        little_endian = r.random() < 0.6
        placed = self.place(used, length, little_endian)
        if placed is None:
            # Fall back to shorter signals when the frame is nearly full.
            for length in (8, 4, 2, 1):
                placed = self.place(used, length, little_endian, tries=30)
                if placed:
                    break
            if placed is None:
                return None
        start, bits = placed
        used.update(bits)

        if length == 1:
            quantity = r.choice(["Valid", "Active", "Enable", "Fault",
                                 "Warning", "Ready", "Available", "Request"])
        elif length <= 4:
            quantity = r.choice(["Mode", "State", "Counter", "Request",
                                 "Quality", "Index"])
        elif length == 8 and r.random() < 0.15:
            quantity = "Crc"
        else:
            quantity = r.choice(QUANTITIES)
        name = self.signal_name(obj, quantity)

        signed = length >= 4 and quantity not in ("Counter", "Crc") \
            and r.random() < 0.3
        if length <= 4 or quantity in ("Counter", "Crc"):
            factor, offset = 1, 0
        else:
            factor = r.choice(FACTORS)
            offset = 0 if signed else r.choice(OFFSETS)

        if signed:
            raw_min, raw_max = -(1 << (length - 1)), (1 << (length - 1)) - 1
        else:
            raw_min, raw_max = 0, (1 << length) - 1
        minimum = raw_min * factor + offset
        maximum = raw_max * factor + offset
        unit = ""
        if length > 4 and quantity in UNITS:
            unit = r.choice(UNITS[quantity])

        choices = None
        if (length <= 4 and r.random() < 0.33) or \
           (length > 4 and r.random() < 0.05):
            n = min(raw_max - raw_min + 1, r.randint(2, 8))
            if length <= 4:
                values = list(range(raw_min, raw_min + n))
                if r.random() < 0.5:
                    values[-1] = raw_max
            else:
                # Typically only special raw values are labelled.
                values = sorted(set([raw_max, raw_max - 1] +
                                    [r.randint(raw_min, raw_max)
                                     for _ in range(n - 2)]))
            labels = r.sample(CHOICE_WORDS, len(values))
            if length > 4:
                labels[-1] = "SNA"
                if len(labels) > 1:
                    labels[-2] = "Error" if "Error" not in labels[:-2] \
                        else "Fault_" + labels[-2]
            choices = list(zip(values, labels))

        return dict(name=name, start=start, length=length,
                    little_endian=little_endian, signed=signed,
                    factor=factor, offset=offset, minimum=minimum,
                    maximum=maximum, unit=unit, mux=mux_marker,
                    choices=choices, bits=bits,
                    raw_min=raw_min, raw_max=raw_max)


def generate(seed=20240501, n_messages=300, n_signals=2000,
             target_bytes=800_000):
    g = Gen(seed)
    r = g.rng

    # ---- identifiers ------------------------------------------------------
    ids = set()
    frame_ids = []
    n_ext = max(2, n_messages // 12)
    for i in range(n_messages):
        extended = i % (n_messages // n_ext) == 5 and len(
            [f for f in frame_ids if f[1]]) < n_ext
        while True:
            if extended:
                fid = r.choice([0x18FF0000, 0x18FE0000, 0x0CF00000,
                                0x18DA0000, 0x1CEC0000]) | r.randint(0x800, 0xFFFF)
            else:
                fid = r.randint(0x010, 0x7EF)
            if fid not in ids:
                break
        ids.add(fid)
        frame_ids.append((fid, extended))
    frame_ids.sort(key=lambda t: (t[1], t[0]))

    # ---- messages and signals --------------------------------------------
    messages = []
    mux_every = 20  # every 20th message is multiplexed
    signals_left = n_signals
    for i, (fid, extended) in enumerate(frame_ids):
        messages_left = n_messages - i
        want = max(1, round(signals_left / messages_left + r.uniform(-3, 3)))
        name = g.message_name()
        obj = name
        for d in DOMAINS:
            if obj.startswith(d):
                obj = obj[len(d):]
                break
        for k in KINDS:
            if obj.endswith(k):
                obj = obj[:-len(k)]
                break
        sender = r.choice(NODES)
        receivers = sorted(r.sample([n for n in NODES if n != sender],
                                    r.randint(1, 4)))
        sigs = []
        is_mux = (i % mux_every == 7)
        if is_mux:
            used = set()
            mux_sig = g.make_signal(obj, used, is_mux=True)
            sigs.append(mux_sig)
            pages = r.randint(2, min(4, 1 << mux_sig["length"]))
            mux_sig["maximum"] = pages - 1
            mux_sig["choices"] = [(p, f"Page{p}") for p in range(pages)]
            # A plain signal present in every page.
            s = g.make_signal(obj, used)
            if s:
                sigs.append(s)
            per_page = max(1, (want - len(sigs)) // pages)
            for p in range(pages):
                page_used = set(used)
                for _ in range(per_page):
                    s = g.make_signal(obj, page_used, mux_marker=f"m{p}")
                    if s is None:
                        break
                    sigs.append(s)
        else:
            used = set()
            for _ in range(want):
                s = g.make_signal(obj, used)
                if s is None:
                    break
                sigs.append(s)
        signals_left -= len(sigs)
        # List the multiplexor first, then signals by their lowest bit.
        sigs.sort(key=lambda s: (s["mux"] != "M", min(s["bits"])))
        cycle = r.choice([10, 20, 20, 50, 100, 100, 100, 200, 500, 1000, 0])
        messages.append(dict(fid=fid, extended=extended, name=name,
                             sender=sender, receivers=receivers,
                             signals=sigs, cycle=cycle))

    # ---- assemble everything except comments ------------------------------
    head = []
    head.append('VERSION "vehicle-gateway synthetic benchmark DBC, seed %d"' % seed)
    head.append("")
    head.append("")
    head.append("NS_ :")
    for ns in ["NS_DESC_", "CM_", "BA_DEF_", "BA_", "VAL_", "CAT_DEF_", "CAT_",
               "FILTER", "BA_DEF_DEF_", "EV_DATA_", "ENVVAR_DATA_", "SGTYPE_",
               "SGTYPE_VAL_", "BA_DEF_SGTYPE_", "BA_SGTYPE_", "SIG_TYPE_REF_",
               "VAL_TABLE_", "SIG_GROUP_", "SIG_VALTYPE_", "SIGTYPE_VALTYPE_",
               "BO_TX_BU_", "BA_DEF_REL_", "BA_REL_", "BA_DEF_DEF_REL_",
               "BU_SG_REL_", "BU_EV_REL_", "BU_BO_REL_", "SG_MUL_VAL_"]:
        head.append("\t" + ns)
    head.append("")
    head.append("BS_:")
    head.append("")
    head.append("BU_: " + " ".join(NODES))
    head.append("")
    head.append("")

    body = []
    for m in messages:
        dbc_id = m["fid"] | (0x80000000 if m["extended"] else 0)
        m["dbc_id"] = dbc_id
        body.append(f"BO_ {dbc_id} {m['name']}: 8 {m['sender']}")
        for s in m["signals"]:
            mux = (" " + s["mux"]) if s["mux"] else ""
            order = "1" if s["little_endian"] else "0"
            sign = "-" if s["signed"] else "+"
            body.append(
                f" SG_ {s['name']}{mux} : {s['start']}|{s['length']}@{order}{sign}"
                f" ({fmt_num(s['factor'])},{fmt_num(s['offset'])})"
                f" [{fmt_num(s['minimum'])}|{fmt_num(s['maximum'])}]"
                f" \"{s['unit']}\" {','.join(m['receivers'])}")
        body.append("")
    body.append("")

    attr_defs = [
        'BA_DEF_  "BusType" STRING ;',
        'BA_DEF_  "DBName" STRING ;',
        'BA_DEF_  "Baudrate" INT 10000 1000000;',
        'BA_DEF_ BU_  "NmStationAddress" INT 0 255;',
        'BA_DEF_ BO_  "GenMsgCycleTime" INT 0 65535;',
        'BA_DEF_ BO_  "GenMsgDelayTime" INT 0 1000;',
        'BA_DEF_ BO_  "GenMsgSendType" ENUM  "Cyclic","NotUsed","IfActive","OnEvent","CyclicIfActive";',
        'BA_DEF_ SG_  "GenSigStartValue" INT -2147483648 2147483647;',
        'BA_DEF_ SG_  "GenSigSendType" ENUM  "Cyclic","OnWrite","OnWriteWithRepetition","OnChange","OnChangeWithRepetition","IfActive";',
        'BA_DEF_DEF_  "BusType" "CAN";',
        'BA_DEF_DEF_  "DBName" "";',
        'BA_DEF_DEF_  "Baudrate" 500000;',
        'BA_DEF_DEF_  "NmStationAddress" 0;',
        'BA_DEF_DEF_  "GenMsgCycleTime" 0;',
        'BA_DEF_DEF_  "GenMsgDelayTime" 0;',
        'BA_DEF_DEF_  "GenMsgSendType" "Cyclic";',
        'BA_DEF_DEF_  "GenSigStartValue" 0;',
        'BA_DEF_DEF_  "GenSigSendType" "Cyclic";',
        'BA_ "BusType" "CAN";',
        'BA_ "DBName" "synthetic_large";',
        'BA_ "Baudrate" 500000;',
    ]
    attrs = []
    for i, n in enumerate(NODES):
        attrs.append(f'BA_ "NmStationAddress" BU_ {n} {i + 1};')
    for m in messages:
        if m["cycle"]:
            attrs.append(f'BA_ "GenMsgCycleTime" BO_ {m["dbc_id"]} {m["cycle"]};')
        else:
            attrs.append(f'BA_ "GenMsgSendType" BO_ {m["dbc_id"]} 3;')
            attrs.append(f'BA_ "GenMsgDelayTime" BO_ {m["dbc_id"]} '
                         f'{r.choice([10, 20, 50])};')
    for m in messages:
        for s in m["signals"]:
            if s["mux"] == "M":
                continue
            if r.random() < 0.3:
                lo, hi = s["raw_min"], s["raw_max"]
                v = hi if (s["choices"] and r.random() < 0.5) \
                    else r.randint(lo, hi)
                attrs.append(f'BA_ "GenSigStartValue" SG_ {m["dbc_id"]} '
                             f'{s["name"]} {v};')
            if r.random() < 0.1:
                attrs.append(f'BA_ "GenSigSendType" SG_ {m["dbc_id"]} '
                             f'{s["name"]} {r.randint(1, 5)};')

    vals = []
    for m in messages:
        for s in m["signals"]:
            if s["choices"]:
                items = " ".join(f'{v} "{lab}"' for v, lab in s["choices"])
                vals.append(f'VAL_ {m["dbc_id"]} {s["name"]} {items} ;')

    fixed_size = sum(len(x) + 1 for x in head + body + attr_defs + attrs + vals)

    # ---- comments: fill up to the target size ------------------------------
    n_comments = 1 + len(NODES) + len(messages) + \
        sum(len(m["signals"]) for m in messages)

    def make_comments(budget):
        g.crng.seed(seed ^ 0x5EED)
        cr = g.crng
        out = ['CM_ "Synthetic benchmark network for vehicle-gateway. '
               'Generated by scripts/gen_large_dbc.py with seed %d. '
               'Not a real vehicle.";' % seed]
        for n in NODES:
            out.append(f'CM_ BU_ {n} "{g.comment(budget * cr.uniform(0.3, 1.0))}";')
        for m in messages:
            out.append(f'CM_ BO_ {m["dbc_id"]} '
                       f'"{g.comment(budget * cr.uniform(0.6, 2.0))}";')
            for s in m["signals"]:
                out.append(f'CM_ SG_ {m["dbc_id"]} {s["name"]} '
                           f'"{g.comment(budget * cr.uniform(0.3, 1.4))}";')
        return out

    # A few rounds of proportional correction; deterministic for a seed.
    budget = max(20.0, (target_bytes - fixed_size) / n_comments - 40)
    for _ in range(4):
        comments = make_comments(budget)
        size = fixed_size + sum(len(c) + 1 for c in comments)
        if abs(size - target_bytes) < target_bytes * 0.005:
            break
        comment_bytes = size - fixed_size
        wanted = max(n_comments * 40, target_bytes - fixed_size)
        budget = max(20.0, budget * wanted / comment_bytes)

    out = head + body + comments + attr_defs + attrs + vals + [""]
    text = "\n".join(out)
    stats = dict(messages=len(messages),
                 signals=sum(len(m["signals"]) for m in messages),
                 multiplexed=sum(1 for m in messages
                                 if any(s["mux"] == "M" for s in m["signals"])),
                 extended=sum(1 for m in messages if m["extended"]),
                 value_tables=len(vals), bytes=len(text.encode("ascii")))
    return text, stats


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("output", help="path of the DBC file to write")
    ap.add_argument("--seed", type=int, default=20240501)
    ap.add_argument("--messages", type=int, default=300)
    ap.add_argument("--signals", type=int, default=2000)
    ap.add_argument("--target-bytes", type=int, default=800_000)
    args = ap.parse_args(argv)
    text, stats = generate(args.seed, args.messages, args.signals,
                           args.target_bytes)
    with open(args.output, "w", encoding="ascii", newline="\n") as f:
        f.write(text)
    print("wrote %s: %d bytes, %d messages (%d multiplexed, %d extended), "
          "%d signals, %d value tables" % (
              args.output, stats["bytes"], stats["messages"],
              stats["multiplexed"], stats["extended"], stats["signals"],
              stats["value_tables"]), file=sys.stderr)


if __name__ == "__main__":
    main()
