#!/usr/bin/env python3
"""Make DBC/demo_drive.log: about 69 s of plausible CAN traffic from the demo car.

The frames come from our own encoder. This script simulates the drive, writes
one line per frame,

    <seconds.micro> vcan0 <MessageName> Signal=value Signal=value ...

and pipes them into

    vehicle-gateway encode --dbc DBC/demo_vehicle.dbc --batch

which writes the candump -l lines, e.g. `(1700000000.000250) vcan0 0D0#...`.
It uses the Python 3 standard library only. The output is deterministic for a
given --seed.

Scenario timeline (seconds after the first frame, 1700000000.000000)
---------------------------------------------------------------------
   0.0  Parked: lever P, park lock engaged, engine idling, driver door open,
        driver seatbelt unbuckled, daytime running lights, heading 20 deg
        (NNE), near 48.1374 N / 11.5755 E (Munich).
   0.8  Driver door closes.
   1.8  Driver seatbelt buckled.
   2.2  Brake pressed.
   2.6  Lever P -> R, park lock released at 2.75, CurrentGear -1 (Reverse) at 3.0.
   3.5  Start reversing: brake released, back out of the parking space at 5 km/h
        with the wheel turned right (about -430 deg). The car yaws about 50 deg
        to the left; GNSS course over ground (the direction of motion) points
        backwards.
   9.5  Stop after reversing (brake held).
  10.0  Lever R -> N, 10.3 N -> D (CurrentGear 1 at 10.7); left indicator
        10.0 - 14.0.
  11.0  Pull away: accelerate to 50 km/h by 21.0, upshifts 1->2 at 14 km/h,
        2->3 at 25, 3->4 at 36 (TargetGear leads CurrentGear by 0.4 s).
        Central locking locks once the car passes 15 km/h.
  21.0  Cruise at 50 km/h in 4th.
  23.0  Brake for a red traffic light (downshifts 4->3->2->1).
  29.5  Standing at the traffic light, brake held (StandstillDetected 0.5 s
        later). Right indicator on at 37.0.
  39.5  Light turns green: drive on, right turn at about 15 km/h (steering
        about -300 deg 41.0 - 45.8, heading 329 -> about 61 deg), indicator
        off at 45.5, then accelerate to 50 km/h by 50.0.
  50.5  Tunnel entry: GNSSPosition and GNSSStatus are no longer sent; ambient
        light drops to about 120 lx, low beam + parking lights on at 50.9
        (daytime running lights off).
  58.5  Tunnel exit: GNSS frames again; the first second a 2D fix with few
        satellites, accuracy improving over 4 s. Low beam off at 60.5.
  59.5  Slow down from 50 km/h ...
  65.5  ... to a stop (brake held).
  66.5  Lever D -> P, CurrentGear 0, park lock engaged at 66.7.
  67.2  Engine off, central locking unlocks; 67.8 seatbelt unbuckled.
  68.3  Driver door opens.
  69.0  End of the log.

Message timing: every message at its GenMsgCycleTime from the DBC (each ECU
with a small clock drift and a little Gaussian jitter), arbitrated on a
simulated 500 kbit/s bus (lower identifier first, about 250 us per standard and
296 us per extended frame), so the timestamps are when a frame was completely
received and strictly increasing. GNSSStatus alternates page 0 (motion) and
page 1 (accuracy/altitude/UTC), so each page comes at 5 Hz.

Alive counters count 0..15 per message. The CRC8 checksums (SAE J1850: poly
0x1D, init 0xFF, final XOR 0xFF over bytes 0..6) of SteeringAngle,
VehicleSpeed and Transmission need the encoded bytes, so the encoder runs
twice: once with the checksums 0, then with the checksums computed from the
first pass (the checksum is byte 7 in all three messages).

CruiseSetSpeed is not given, so it takes its GenSigStartValue (raw 0xFF,
"SNA" = no set speed); every other signal is given explicitly.

Usage:
    python3 scripts/make_demo_log.py [--seed 7] [--out DBC/demo_drive.log]
        [--dbc DBC/demo_vehicle.dbc] [--binary .build/debug/vehicle-gateway]
        [--input-out FILE]   # also keep the encoder input lines
"""

import argparse
import bisect
import decimal
import heapq
import math
import os
import pathlib
import random
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
BASE_TIME = 1_700_000_000          # first frame at 1700000000.000000
IFACE = "vcan0"
DT = 0.001                         # simulation step (s)
T_END = 69.0

# --- scenario constants (seconds) --------------------------------------------
T_DOOR_CLOSE = 0.8
T_BELT_ON = 1.8
T_SHIFT_R = 2.6
T_PARKLOCK_OFF = 2.75
T_SHIFT_N = 10.0
T_SHIFT_D = 10.3
T_SHIFT_P = 66.5
T_PARKLOCK_ON = 66.7
T_ENGINE_OFF = 67.2
T_BELT_OFF = 67.8
T_DOOR_OPEN = 68.3
T_TUNNEL_START = 50.5
T_TUNNEL_END = 58.5
LOWBEAM_ON_DELAY = 0.4
LOWBEAM_OFF_DELAY = 2.0

# Speed (km/h, negative = reverse) at knots; smoothstep in between.
SPEED_KNOTS = [
    (0.0, 0), (3.5, 0), (5.5, -5), (8.0, -5), (9.5, 0),      # reverse out
    (11.0, 0), (21.0, 50), (23.0, 50), (29.5, 0),            # to the traffic light
    (39.5, 0), (42.0, 15), (45.0, 15), (50.0, 50),           # right turn, accelerate
    (59.5, 50), (65.5, 0), (T_END, 0),                       # tunnel, slow down, stop
]
# Steering wheel angle (deg, positive = left) at knots; smoothstep in between.
STEER_KNOTS = [
    (0.0, 0), (3.6, 0), (5.2, -430), (7.2, -430), (9.3, 0),
    (41.0, 0), (42.5, -300), (44.0, -300), (45.8, 0), (T_END, 0),
]
# Brake held at standstill (start, end).
BRAKE_HOLD = [(2.2, 3.45), (9.2, 10.9), (29.0, 39.3), (65.0, T_END)]
INDICATOR_LEFT = [(10.0, 14.0)]
INDICATOR_RIGHT = [(37.0, 45.5)]

# --- vehicle constants ---------------------------------------------------------
WHEELBASE = 2.85          # m
TRACK = 1.58              # m
STEER_RATIO = 15.5
TYRE_RADIUS = 0.317       # m, dynamic
FINAL_DRIVE = 3.15
GEAR_RATIO = {-1: 3.30, 1: 4.70, 2: 3.13, 3: 2.10, 4: 1.67}
UPSHIFT_KMH = {1: 14, 2: 25, 3: 36}
DOWNSHIFT_KMH = {2: 9, 3: 18, 4: 29}
SHIFT_TIME = 0.4
IDLE_P = 720.0
IDLE_D = 660.0
START_HEADING = 20.0      # deg, clockwise from north
START_LAT, START_LON = 48.1374, 11.5755
START_ALT = 519.0         # m (Munich)
ODOMETER_KM = 12345.6
GW_UPTIME0 = 95           # s the gateway has been up when the log starts


# --- DBC reading -------------------------------------------------------------------
def read_dbc(path):
    """Messages (id -> name, cycle), signal limits/factors and VAL_ labels."""
    text = pathlib.Path(path).read_text(encoding="latin-1")
    messages, signals, labels = {}, {}, {}
    current = None
    for line in text.splitlines():
        m = re.match(r"\s*BO_ (\d+) (\w+)\s*:", line)
        if m:
            current = m.group(2)
            messages[current] = {"id": int(m.group(1)), "cycle": None}
            continue
        m = re.match(r"\s*SG_ (\w+)\s*(?:[Mm]\d*)?\s*:.*\(([^,]+),([^)]+)\)\s*\[([^|]+)\|([^\]]+)\]", line)
        if m and current:
            signals[(current, m.group(1))] = {
                "factor": m.group(2), "offset": float(m.group(3)),
                "min": float(m.group(4)), "max": float(m.group(5))}
            continue
        if not line.strip():
            current = None
    by_id = {v["id"]: k for k, v in messages.items()}
    for m in re.finditer(r'BA_ "GenMsgCycleTime" BO_ (\d+) (\d+)\s*;', text):
        messages[by_id[int(m.group(1))]]["cycle"] = int(m.group(2)) / 1000.0
    for m in re.finditer(r"VAL_ (\d+) (\w+) ((?:-?\d+ \"[^\"]*\"\s*)+);", text):
        pairs = re.findall(r"(-?\d+) \"([^\"]*)\"", m.group(3))
        labels[(by_id[int(m.group(1))], m.group(2))] = {lab: int(v) for v, lab in pairs}
    for name, msg in messages.items():
        msg["extended"] = bool(msg["id"] & 0x80000000)
        msg["can_id"] = msg["id"] & 0x1FFFFFFF
    return messages, signals, labels


class Formatter:
    """Quantizes a physical value to the signal's resolution and checks [min|max]."""

    def __init__(self, signals, labels):
        self.signals, self.labels = signals, labels
        self.cache = {}

    def __call__(self, msg, sig, value, lineno_hint=""):
        spec = self.signals[(msg, sig)]
        if isinstance(value, str):
            raw = self.labels[(msg, sig)][value]          # KeyError = unknown label
            phys = raw * float(spec["factor"]) + spec["offset"]
            text = value
        else:
            key = (msg, sig)
            if key not in self.cache:
                exp = decimal.Decimal(spec["factor"]).normalize().as_tuple().exponent
                self.cache[key] = (float(spec["factor"]), max(0, -exp))
            factor, decimals = self.cache[key]
            raw = round((value - spec["offset"]) / factor)
            phys = raw * factor + spec["offset"]
            text = "%.*f" % (decimals, phys)
            if text.startswith("-") and float(text) == 0:
                text = text[1:]
        if not (spec["min"] - 1e-9 <= phys <= spec["max"] + 1e-9):
            raise ValueError("%s.%s = %r is outside [%g|%g] %s"
                             % (msg, sig, value, spec["min"], spec["max"], lineno_hint))
        return "%s=%s" % (sig, text)


# --- helpers ---------------------------------------------------------------------
def smoothstep_knots(knots, t):
    if t <= knots[0][0]:
        return knots[0][1]
    for (t0, v0), (t1, v1) in zip(knots, knots[1:]):
        if t <= t1:
            x = (t - t0) / (t1 - t0)
            return v0 + (v1 - v0) * x * x * (3 - 2 * x)
    return knots[-1][1]


def in_windows(windows, t):
    return any(a <= t < b for a, b in windows)


def crc8_j1850(data):
    crc = 0xFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1D) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc ^ 0xFF


def lowpass(prev, target, tau):
    return prev + (target - prev) * min(1.0, DT / tau)


# --- vehicle simulation ------------------------------------------------------------
def simulate(rng):
    """Steps the car through the scenario at 1 ms; returns a list of state dicts."""
    n = int(round(T_END / DT)) + 1
    states = []
    heading = START_HEADING
    north = east = 0.0
    dist = 0.0
    lever, cur_gear, tgt_gear, shift_done = "P", 0, 0, None
    park_lock = 1
    rpm, pedal, torque, pressure = IDLE_P, 0.0, 8.0, 0.0
    last_moving = -10.0
    direction = "Standstill"                           # last direction of travel
    locked = 0
    prev_v = 0.0
    prev_angle = 0.0
    for i in range(n):
        t = i * DT
        v_kmh = smoothstep_knots(SPEED_KNOTS, t)
        v = v_kmh / 3.6                                   # signed m/s
        a = (v - prev_v) / DT if i else 0.0               # dv/dt, + = forward
        speed_change = (abs(v) - abs(prev_v)) / DT if i else 0.0
        prev_v = v
        # small lane-keeping corrections when faster than 20 km/h
        weave = (2.5 * math.sin(0.45 * t) + 1.2 * math.sin(1.3 * t + 1.0)) * min(1.0, max(0.0, (abs(v_kmh) - 20) / 10))
        angle = smoothstep_knots(STEER_KNOTS, t) + weave
        angle_rate = (angle - prev_angle) / DT if i else 0.0
        prev_angle = angle
        delta = math.radians(angle / STEER_RATIO)
        yaw_rate = v * math.tan(delta) / WHEELBASE        # rad/s, + = counter-clockwise
        heading = (heading - math.degrees(yaw_rate) * DT) % 360.0
        h = math.radians(heading)
        north += v * math.cos(h) * DT
        east += v * math.sin(h) * DT
        dist += abs(v) * DT
        moving = abs(v_kmh) > 1e-6
        if moving:
            last_moving = t
            direction = "Forward" if v > 0 else "Reverse"

        # gear lever and transmission
        if t >= T_SHIFT_P:
            lever = "P"
        elif t >= T_SHIFT_D:
            lever = "D"
        elif t >= T_SHIFT_N:
            lever = "N"
        elif t >= T_SHIFT_R:
            lever = "R"
        park_lock = 1 if (t < T_PARKLOCK_OFF or t >= T_PARKLOCK_ON) else 0
        if shift_done is not None and t >= shift_done:
            cur_gear, shift_done = tgt_gear, None
        want = {"P": 0, "N": 0, "R": -1}.get(lever)
        if want is None:                                 # D: shift schedule
            base = tgt_gear if tgt_gear >= 1 else 1
            want = base
            if shift_done is None and cur_gear >= 1:
                if base < 4 and v_kmh > UPSHIFT_KMH[base] and a > 0.05:
                    want = base + 1
                elif base > 1 and v_kmh < DOWNSHIFT_KMH[base]:
                    want = base - 1
        if want != tgt_gear and shift_done is None:
            tgt_gear = want
            shift_done = t + (0.1 if want == 0 else SHIFT_TIME)

        # pedals
        brake = speed_change < -0.25 or (not moving and in_windows(BRAKE_HOLD, t))
        if brake:
            pedal_target = 0.0
        elif speed_change > 0.05:
            pedal_target = 4 + 12 * speed_change + 0.2 * abs(v_kmh)
        elif abs(v_kmh) > 2:
            pedal_target = 8 + 0.15 * abs(v_kmh)
        else:
            pedal_target = 0.0
        pedal = lowpass(pedal, min(pedal_target, 60.0), 0.15)
        if brake and speed_change < -0.25:
            p_target = 4 + 11 * -speed_change
        elif brake:
            p_target = 16.0
        else:
            p_target = 0.0
        pressure = lowpass(pressure, p_target, 0.08)

        # engine
        running = t < T_ENGINE_OFF
        wheel_rpm = abs(v) / (2 * math.pi * TYRE_RADIUS) * 60
        g = cur_gear
        if not running:
            rpm_target, torque_target = 0.0, 0.0
        elif g == 0:
            rpm_target, torque_target = IDLE_P, 8.0
        else:
            mech = wheel_rpm * GEAR_RATIO[g] * FINAL_DRIVE
            conv = IDLE_D + pedal * 22
            rpm_target = max(mech * (1.04 if pedal > 1 else 1.0), conv if pedal > 1 else IDLE_D)
            if pedal > 1:
                torque_target = 20 + pedal * 2.6
            elif moving and speed_change < 0:
                torque_target = -18.0
            else:
                torque_target = 18.0
        rpm = lowpass(rpm, rpm_target, 0.25 if not running else 0.12)
        if not running and rpm < 60:
            rpm = 0.0
        torque = lowpass(torque, torque_target, 0.2)

        if not locked and v_kmh > 15:
            locked = 1
        if t >= T_ENGINE_OFF:
            locked = 0

        states.append({
            "t": t, "v": v, "v_kmh": v_kmh, "a": a, "yaw": yaw_rate,
            "angle": angle, "angle_rate": angle_rate,
            "heading": heading, "north": north, "east": east, "dist": dist,
            "standstill": (t - last_moving) > 0.5, "moving": moving, "direction": direction,
            "lever": lever, "park_lock": park_lock, "cur_gear": cur_gear,
            "tgt_gear": tgt_gear, "brake": brake, "pressure": pressure,
            "pedal": pedal, "rpm": rpm, "torque": torque, "running": running,
            "wheel_rpm": wheel_rpm, "locked": locked,
        })
    return states


def gnss_epochs(rng, states):
    """10 Hz receiver epochs: position with a slowly wandering error, quality, course."""
    epochs = []
    en = ee = 0.0
    alt_err = 0.0
    sats = 12
    course = START_HEADING
    m_per_deg_lat = 111_132.0
    for k in range(int(T_END * 10) + 1):
        t = k / 10
        s = states[min(int(round(t / DT)), len(states) - 1)]
        en = 0.97 * en + rng.gauss(0, 0.08)
        ee = 0.97 * ee + rng.gauss(0, 0.08)
        alt_err = 0.98 * alt_err + rng.gauss(0, 0.05)
        if rng.random() < 0.01:
            sats = min(14, max(10, sats + rng.choice((-1, 1))))
        since = t - T_TUNNEL_END                          # reacquisition after the tunnel
        if 0 <= since < 1.0:
            fix, n_sats, hdop, acc = "2D", 5, 2.4, 12.0
        elif 0 <= since < 4.0:
            x = (since - 1.0) / 3.0
            fix, n_sats, hdop, acc = "3D", 7 + int(3 * x), 1.6 - 0.6 * x, 6.0 - 4.0 * x
        else:
            fix, n_sats, hdop, acc = "3D", sats, 0.9, 1.8
        scale = 4.0 if 0 <= since < 1.0 else (2.0 if 0 <= since < 4.0 else 1.0)
        speed = abs(s["v_kmh"])
        if speed > 0.5:                                    # course over ground = direction of motion
            course = s["heading"] if s["v"] > 0 else (s["heading"] + 180.0) % 360.0
        lat = START_LAT + (s["north"] + en * scale) / m_per_deg_lat
        lon = START_LON + (s["east"] + ee * scale) / (m_per_deg_lat * math.cos(math.radians(START_LAT)))
        epochs.append({
            "lat": lat, "lon": lon, "fix": fix, "sats": n_sats,
            "hdop": hdop + rng.uniform(-0.05, 0.05), "acc": acc + rng.uniform(-0.2, 0.2),
            "alt": START_ALT + 0.004 * s["dist"] + alt_err * scale,
            "course": course, "sog": max(0.0, speed + rng.gauss(0, 0.08)) if speed > 0.5 else rng.uniform(0, 0.06),
            "utc": BASE_TIME + int(t),
        })
    return epochs


# --- frame schedule -------------------------------------------------------------------
def schedule(rng, messages):
    """(ready time, message name) for every frame, by each message's cycle time."""
    events = []
    phases = {name: rng.uniform(0, msg["cycle"]) for name, msg in messages.items() if msg["cycle"]}
    first = min(phases.values())                       # the first frame is ready at 0
    for name, msg in messages.items():
        cycle = msg["cycle"]
        if not cycle:
            continue
        phase = phases[name] - first
        drift = 1 + rng.uniform(-60e-6, 60e-6)          # ECU clock tolerance
        sigma = 0.004 * cycle
        k = 0
        while True:
            t = max(0.0, phase + k * cycle * drift + max(-3 * sigma, min(3 * sigma, rng.gauss(0, sigma))))
            if t >= T_END:
                break
            if not (name.startswith("GNSS") and T_TUNNEL_START <= t < T_TUNNEL_END):
                events.append((t, name, k))
            k += 1
    return events


def arbitrate(events, messages):
    """Simulated 500 kbit/s bus: returns (ready, end-of-frame time, name, k) in bus order."""
    events.sort()
    out, pending = [], []
    bus, i = 0.0, 0
    while i < len(events) or pending:
        if not pending:
            bus = max(bus, events[i][0])
        while i < len(events) and events[i][0] <= bus:
            t, name, k = events[i]
            msg = messages[name]
            prio = (msg["can_id"] >> 18, 1) if msg["extended"] else (msg["can_id"], 0)
            heapq.heappush(pending, (prio, t, name, k))
            i += 1
        prio, t, name, k = heapq.heappop(pending)
        bus = max(bus, t) + (296e-6 if messages[name]["extended"] else 250e-6)
        out.append((t, bus, name, k))
    return out


# --- signal values per message -----------------------------------------------------------
def frame_signals(name, s, k, rng, ctx):
    """The signal values of frame number k of `name`, from the car state s at send time."""
    t = s["t"]
    if name == "SteeringAngle":
        torque = 0.012 * s["angle_rate"] + 0.004 * max(-300, min(300, s["angle"])) + rng.gauss(0, 0.05)
        return [("SteeringWheelAngle", s["angle"] + rng.gauss(0, 0.05)),
                ("SteeringWheelAngleRate", s["angle_rate"] + rng.gauss(0, 0.3)),
                ("SteeringAngleValid", "Valid"), ("SteeringAngleCalibrated", "Calibrated"),
                ("SteeringDriverTorque", max(-20.0, min(20.0, torque))),
                ("SteeringAngleCounter", k % 16), ("SteeringAngleChecksum", 0)]
    if name == "WheelSpeeds":
        ws = wheel_speeds(s, rng)
        ctx["last_ws"] = ws
        return [("WheelSpeedFL", ws[0]), ("WheelSpeedFR", ws[1]),
                ("WheelSpeedRL", ws[2]), ("WheelSpeedRR", ws[3])]
    if name == "VehicleSpeed":
        ws = wheel_speeds(s, rng)
        ref = sum(round(w, 2) for w in ws) / 4
        direction = "Standstill" if s["standstill"] else s["direction"]
        return [("VehicleSpeed", ref), ("VehicleSpeedQualifier", "Valid"),
                ("StandstillDetected", "Standstill" if s["standstill"] else "Moving"),
                ("DrivingDirection", direction),
                ("VehicleSpeedCounter", k % 16), ("VehicleSpeedChecksum", 0)]
    if name == "BrakeDynamics":
        lat = s["v"] * s["yaw"]
        noise = 0.0 if s["standstill"] else 1.0
        return [("BrakePedalPressed", "Pressed" if s["brake"] else "Released"),
                ("AbsActive", "Inactive"), ("EscActive", "Inactive"),
                ("BrakePressure", max(0.0, s["pressure"] + (rng.gauss(0, 0.1) if s["pressure"] > 1 else 0))),
                ("LongitudinalAccel", s["a"] + rng.gauss(0, 0.02 * noise + 0.003)),
                ("LateralAccel", lat + rng.gauss(0, 0.02 * noise + 0.003)),
                ("YawRate", math.degrees(s["yaw"]) + rng.gauss(0, 0.05 * noise + 0.01))]
    if name == "EngineData":
        rpm = s["rpm"] + (rng.gauss(0, 4) if s["rpm"] > 0 else 0)
        # CruiseSetSpeed left out: GenSigStartValue raw 0xFF = SNA (no set speed)
        return [("EngineSpeed", max(0.0, rpm)), ("AcceleratorPedalPosition", s["pedal"]),
                ("EngineCoolantTemp", 89), ("EngineRunning", "Running" if s["running"] else "Off"),
                ("CruiseControlActive", "Off"),
                ("EngineTorqueActual", s["torque"] if s["running"] else 0)]
    if name == "Transmission":
        gear_label = {-1: "Reverse", 0: "Neutral"}
        return [("GearLever", s["lever"]), ("TransManualModeActive", "Off"),
                ("ParkLockEngaged", "Engaged" if s["park_lock"] else "Released"),
                ("CurrentGear", gear_label.get(s["cur_gear"], "Gear%d" % s["cur_gear"])),
                ("TargetGear", gear_label.get(s["tgt_gear"], "Gear%d" % s["tgt_gear"])),
                ("TransOilTemp", 68 + int(t / 25)),
                ("TransOutputSpeed", s["wheel_rpm"] * FINAL_DRIVE),
                ("TransCounter", k % 16), ("TransChecksum", 0)]
    if name == "Lights":
        low = T_TUNNEL_START + LOWBEAM_ON_DELAY <= t < T_TUNNEL_END + LOWBEAM_OFF_DELAY
        # share of tunnel darkness: fades over 1.2 s around each portal
        dark = (min(1.0, max(0.0, (t - T_TUNNEL_START + 0.6) / 1.2))
                - min(1.0, max(0.0, (t - T_TUNNEL_END + 0.6) / 1.2)))
        lux = (9500.0 * (1 - dark) + 120.0 * dark) * (1 + rng.uniform(-0.03, 0.03))
        return [("LowBeam", int(low)), ("HighBeam", 0),
                ("TurnIndicatorLeft", int(in_windows(INDICATOR_LEFT, t))),
                ("TurnIndicatorRight", int(in_windows(INDICATOR_RIGHT, t))),
                ("HazardLights", 0), ("FogLightFront", 0), ("FogLightRear", 0),
                ("ParkingLights", int(low)),
                ("DaytimeRunningLights", int(s["running"] and not low)),
                ("AutoLightMode", "On"), ("AmbientLightLevel", lux)]
    if name == "Doors":
        door_open = t < T_DOOR_CLOSE or t >= T_DOOR_OPEN
        belt = T_BELT_ON <= t < T_BELT_OFF
        return [("DoorFrontLeftOpen", "Open" if door_open else "Closed"),
                ("DoorFrontRightOpen", "Closed"), ("DoorRearLeftOpen", "Closed"),
                ("DoorRearRightOpen", "Closed"), ("TrunkOpen", "Closed"), ("HoodOpen", "Closed"),
                ("DriverSeatbeltBuckled", "Buckled" if belt else "Unbuckled"),
                ("PassengerSeatbeltBuckled", "Unbuckled"),
                ("CentralLockState", "Locked" if s["locked"] else "Unlocked")]
    if name == "ClusterInfo":
        return [("Odometer", ODOMETER_KM + s["dist"] / 1000.0), ("AmbientTemperature", 7.5),
                ("FuelLevel", 62.4), ("RemainingRange", 538), ("DisplayUnitsImperial", "Metric")]
    if name == "GNSSPosition":
        e = ctx["epochs"][min(int(t * 10), len(ctx["epochs"]) - 1)]
        return [("GNSSLatitude", e["lat"]), ("GNSSLongitude", e["lon"])]
    if name == "GNSSStatus":
        e = ctx["epochs"][min(int(t * 10), len(ctx["epochs"]) - 1)]
        if k % 2 == 0:
            return [("GNSSPageIndex", "Motion"), ("GNSSFixType", e["fix"]),
                    ("GNSSSatellites", e["sats"]), ("GNSSHeading", round(e["course"], 2) % 360.0),
                    ("GNSSSpeedOverGround", e["sog"]), ("GNSSHdop", e["hdop"])]
        return [("GNSSPageIndex", "PositionQuality"), ("GNSSHorizontalAccuracy", e["acc"]),
                ("GNSSAltitude", e["alt"]), ("GNSSUtcTime", e["utc"])]
    if name == "GatewayStatus":
        return [("GwUptime", GW_UPTIME0 + int(t)), ("GwBusLoad", ctx["bus_load"](t)),
                ("GwRxErrorCount", 0), ("GwTxErrorCount", 0), ("GwState", "Normal")]
    raise KeyError(name)


def wheel_speeds(s, rng):
    if not s["moving"]:
        return [0.0, 0.0, 0.0, 0.0]
    v = s["v"]
    if abs(v) < 0.1:                                   # below the sensors' lowest speed
        return [0.0, 0.0, 0.0, 0.0]
    d = s["yaw"] * TRACK / 2                           # the wheels inside the turn are slower
    # front wheels run on a slightly larger radius than the rear ones when steering
    front = 1 / math.cos(math.radians(s["angle"] / STEER_RATIO))
    tyres = (1.0015, 0.9990, 1.0005, 0.9992)
    raw = [abs(v - d) * front, abs(v + d) * front, abs(v - d), abs(v + d)]
    return [max(0.0, x * 3.6 * f + rng.gauss(0, 0.02)) for x, f in zip(raw, tyres)]


# --- main -------------------------------------------------------------------------------
def run_encoder(binary, dbc, lines):
    p = subprocess.run([str(binary), "encode", "--dbc", str(dbc), "--batch"],
                       input="".join(lines), capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("encoder failed (exit %d):\n%s" % (p.returncode, p.stderr))
    out = p.stdout.splitlines()
    if len(out) != len(lines):
        sys.exit("encoder wrote %d lines for %d inputs" % (len(out), len(lines)))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--dbc", default=str(ROOT / "DBC" / "demo_vehicle.dbc"))
    ap.add_argument("--out", default=str(ROOT / "DBC" / "demo_drive.log"))
    ap.add_argument("--binary", default=os.environ.get(
        "VG_BIN", str(ROOT / ".build" / "debug" / "vehicle-gateway")))
    ap.add_argument("--input-out", help="also write the encoder's input lines here")
    args = ap.parse_args(argv)
    if not os.path.exists(args.binary):
        sys.exit("no vehicle-gateway binary at %s (build it first or pass --binary)" % args.binary)

    messages, signals, labels = read_dbc(args.dbc)
    fmt = Formatter(signals, labels)
    rng = random.Random(args.seed)

    frames = arbitrate(schedule(rng, messages), messages)
    shift = frames[0][1]                               # first frame received at BASE_TIME exactly
    states = simulate(rng)
    ends = [end for _, end, _, _ in frames]
    bits = [(150 if messages[n]["extended"] else 125) for _, _, n, _ in frames]

    def bus_load(t):                                   # share of the last second the bus was busy
        window = min(1.0, max(t, 0.05))
        lo = bisect.bisect_left(ends, t - window)
        hi = bisect.bisect_right(ends, t)
        return min(100.0, 100.0 * sum(bits[lo:hi]) / (500_000 * window))

    ctx = {"epochs": gnss_epochs(rng, states), "bus_load": bus_load}

    lines, stamps = [], []
    for ready, end, name, k in frames:
        s = states[min(max(0, int(round((ready - shift) / DT))), len(states) - 1)]
        us = int(round((end - shift) * 1e6))
        stamp = "%d.%06d" % (BASE_TIME + us // 1_000_000, us % 1_000_000)
        stamps.append(us)
        parts = [fmt(name, sig, val, "(frame at %s)" % stamp)
                 for sig, val in frame_signals(name, s, k, rng, ctx)]
        lines.append("%s %s %s %s\n" % (stamp, IFACE, name, " ".join(parts)))
    assert all(a < b for a, b in zip(stamps, stamps[1:])), "timestamps not increasing"

    # pass 1: checksums 0; pass 2: checksums = CRC8 over the encoded bytes 0..6
    first = run_encoder(args.binary, args.dbc, lines)
    checksum_sig = {"SteeringAngle": "SteeringAngleChecksum", "VehicleSpeed": "VehicleSpeedChecksum",
                    "Transmission": "TransChecksum"}
    crcs = {}
    for i, ((_, _, name, _), out) in enumerate(zip(frames, first)):
        if name in checksum_sig:
            data = bytes.fromhex(out.split("#", 1)[1])
            crcs[i] = crc8_j1850(data[:7])
            lines[i] = lines[i].replace("%s=0" % checksum_sig[name], "%s=%d" % (checksum_sig[name], crcs[i]))
    second = run_encoder(args.binary, args.dbc, lines)
    for i, crc in crcs.items():
        a = bytes.fromhex(first[i].split("#", 1)[1])
        b = bytes.fromhex(second[i].split("#", 1)[1])
        if a[:7] != b[:7] or b[7] != crc or crc8_j1850(b[:7]) != crc:
            sys.exit("checksum pass changed more than byte 7 in line %d: %s / %s" % (i + 1, first[i], second[i]))

    pathlib.Path(args.out).write_text("\n".join(second) + "\n", encoding="ascii")
    if args.input_out:
        pathlib.Path(args.input_out).write_text("".join(lines), encoding="ascii")

    # summary
    counts = {}
    for _, _, name, _ in frames:
        counts[name] = counts.get(name, 0) + 1
    duration = stamps[-1] / 1e6
    print("wrote %s: %d frames, %.3f s, %d bytes (seed %d)"
          % (args.out, len(frames), duration, os.path.getsize(args.out), args.seed), file=sys.stderr)
    print("  %-14s %10s %6s %7s %7s" % ("message", "id", "cycle", "frames", "Hz"), file=sys.stderr)
    for name, msg in messages.items():
        ident = ("%08X" if msg["extended"] else "%03X") % msg["can_id"]
        print("  %-14s %10s %4dms %7d %7.1f" % (name, ident, msg["cycle"] * 1000, counts.get(name, 0),
                                                counts.get(name, 0) / duration), file=sys.stderr)
    def when(pred, after=0.0):
        return next((st["t"] for st in states if st["t"] >= after and pred(st)), float("nan"))
    rev0 = when(lambda st: st["v"] < 0)
    rev1 = when(lambda st: st["v"] == 0, rev0)
    go = when(lambda st: st["v"] > 0, rev1)
    light0 = when(lambda st: st["v"] == 0, when(lambda st: st["v_kmh"] > 45, go))
    light1 = when(lambda st: st["v"] > 0, light0)
    park = when(lambda st: st["park_lock"] == 1, light1)
    print("  timeline (s): reverse %.1f-%.1f, traffic light stop %.1f-%.1f, GNSS outage (tunnel) %.1f-%.1f,"
          " lever P %.1f, park lock %.1f, door opens %.1f"
          % (rev0, rev1, light0, light1, T_TUNNEL_START, T_TUNNEL_END, T_SHIFT_P, park, T_DOOR_OPEN),
          file=sys.stderr)


if __name__ == "__main__":
    main()
