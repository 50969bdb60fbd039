#!/usr/bin/env python3
"""Python reference figures (cantools + python-can) for the vehicle-gateway benchmarks.

In one run this measures:

  dbc_load      cantools.database.load_file() of the large DBC (strict=True),
                best of --repeat runs                          -> ms
  decode_inmem  Message.decode(data, decode_choices=False) of all signals for
                --frames in-memory (id, bytes) pairs; the Message is looked up
                in a dict {frame_id: Message} built beforehand; best of
                --repeat passes                                -> frames/s
  log_decode    can.CanutilsLogReader reading the candump log, plus a cantools
                decode of every frame (same dict lookup); best of
                --log-repeat passes                            -> frames/s

The results go to stdout, one per line, always in this form:

    REF <name> <value> <unit>

for example `REF dbc_load 412.3 ms`. Other information (versions, sizes,
single runs) goes to stderr as lines that start with '#'.

If --dbc or --log is not given, the inputs are generated in a temporary
directory with scripts/gen_large_dbc.py (seed 20240501, 300 messages, about
800 KB) and scripts/gen_bench_log.py (--log-frames frames, seed 1). The
in-memory frames are the first --frames frames of the log, repeated if the
log is shorter.

Usage:
    python3 Benchmarks/reference/cantools_reference.py \\
        [--dbc large.dbc] [--log bench.log] [--frames 100000] \\
        [--log-frames 200000] [--repeat 5] [--log-repeat 3]
"""

import argparse
import gc
import os
import platform
import subprocess
import sys
import tempfile
import time

import can
import cantools

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.normpath(os.path.join(HERE, "..", "..", "scripts"))


def info(*parts):
    print("#", *parts, file=sys.stderr, flush=True)


def ref(name, value, unit):
    if unit == "ms":
        text = "%.1f" % value
    else:
        text = "%.0f" % value
    print("REF %s %s %s" % (name, text, unit), flush=True)


def generate_inputs(tmpdir, log_frames):
    dbc = os.path.join(tmpdir, "large.dbc")
    log = os.path.join(tmpdir, "bench.log")
    subprocess.run([sys.executable, os.path.join(SCRIPTS, "gen_large_dbc.py"),
                    dbc], check=True)
    subprocess.run([sys.executable, os.path.join(SCRIPTS, "gen_bench_log.py"),
                    dbc, str(log_frames), log], check=True)
    return dbc, log


def bench_dbc_load(path, repeat):
    times = []
    db = None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        db = cantools.database.load_file(path, strict=True)
        times.append(time.perf_counter() - t0)
    info("dbc_load runs (s):", " ".join("%.3f" % t for t in times))
    return min(times), db


def bench_decode_inmem(by_id, pairs, repeat):
    times = []
    signals = 0
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        n = 0
        for fid, data in pairs:
            n += len(by_id[fid].decode(data, decode_choices=False))
        times.append(time.perf_counter() - t0)
        signals = n
    info("decode_inmem runs (s):", " ".join("%.3f" % t for t in times),
         "| signals decoded per pass:", signals)
    return len(pairs) / min(times)


def bench_log_decode(by_id, log_path, repeat):
    times = []
    frames = 0
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        n = 0
        for msg in can.CanutilsLogReader(log_path):
            by_id[msg.arbitration_id].decode(msg.data, decode_choices=False)
            n += 1
        times.append(time.perf_counter() - t0)
        frames = n
    info("log_decode runs (s):", " ".join("%.3f" % t for t in times),
         "| frames per pass:", frames)
    return frames / min(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dbc", help="large DBC (default: generate one)")
    ap.add_argument("--log", help="candump -l log (default: generate one)")
    ap.add_argument("--frames", type=int, default=100_000,
                    help="in-memory frames for decode_inmem (default 100000)")
    ap.add_argument("--log-frames", type=int, default=200_000,
                    help="frames in the generated log (default 200000)")
    ap.add_argument("--repeat", type=int, default=5,
                    help="runs of dbc_load and decode_inmem; best is kept")
    ap.add_argument("--log-repeat", type=int, default=3,
                    help="passes of log_decode; best is kept")
    args = ap.parse_args(argv)

    t_start = time.perf_counter()
    info("python %s, cantools %s, python-can %s, %s" % (
        platform.python_version(), cantools.__version__, can.__version__,
        platform.platform()))

    with tempfile.TemporaryDirectory(prefix="vgw-ref-") as tmpdir:
        dbc_path, log_path = args.dbc, args.log
        if not dbc_path or not log_path:
            gen_dbc, gen_log = generate_inputs(tmpdir, args.log_frames)
            dbc_path = dbc_path or gen_dbc
            if not log_path:
                if args.dbc:  # a user DBC needs a log that matches it
                    log_path = os.path.join(tmpdir, "bench_user.log")
                    subprocess.run([sys.executable,
                                    os.path.join(SCRIPTS, "gen_bench_log.py"),
                                    dbc_path, str(args.log_frames), log_path],
                                   check=True)
                else:
                    log_path = gen_log

        info("dbc: %s (%d bytes)" % (dbc_path, os.path.getsize(dbc_path)))
        info("log: %s (%d bytes)" % (log_path, os.path.getsize(log_path)))

        # 1. DBC load
        best, db = bench_dbc_load(dbc_path, args.repeat)
        n_sig = sum(len(m.signals) for m in db.messages)
        info("dbc: %d messages, %d signals" % (len(db.messages), n_sig))
        ref("dbc_load", best * 1000.0, "ms")

        by_id = {m.frame_id: m for m in db.messages}

        # 2. in-memory decode: (id, bytes) pairs prepared before timing
        frames = [(msg.arbitration_id, bytes(msg.data))
                  for msg in can.CanutilsLogReader(log_path)]
        if not frames:
            sys.exit("log %s has no frames" % log_path)
        pairs = [frames[i % len(frames)] for i in range(args.frames)]
        del frames
        ref("decode_inmem", bench_decode_inmem(by_id, pairs, args.repeat),
            "frames/s")
        del pairs

        # 3. log read + decode
        ref("log_decode", bench_log_decode(by_id, log_path, args.log_repeat),
            "frames/s")

    info("total wall time %.1f s" % (time.perf_counter() - t_start))


if __name__ == "__main__":
    main()
