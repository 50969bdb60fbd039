#!/usr/bin/env bash
# Speed figures for the DBC codec, each beside the reference measured in the same run:
#   DBC load (a generated ~800 KB DBC, 300 messages, ~2,000 signals)   vs cantools load_file
#   decoding in-memory frames, all signals, one core                  vs cantools Message.decode
#   candump log text -> decoded frames, one core                      vs python-can reader + cantools
# Usage: scripts/bench.sh [--full]   (--full also runs the ordo-one/benchmark suite: mallocs, RSS)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/python-env.sh
mkdir -p bench-out
[ -f bench-out/large.dbc ] || python scripts/gen_large_dbc.py bench-out/large.dbc >&2
[ -f bench-out/bench.log ] || python scripts/gen_bench_log.py bench-out/large.dbc 200000 bench-out/bench.log >&2

echo "== building (release)" >&2
swift build -c release --package-path Benchmarks --product CodecFigures >&2
swift build -c release --package-path Benchmarks --product StateFigures >&2

echo "== cantools reference (best of several runs)" >&2
python Benchmarks/reference/cantools_reference.py --dbc bench-out/large.dbc --log bench-out/bench.log 2>/dev/null >bench-out/ref.txt
echo "== vehicle-gateway (best of several runs)" >&2
Benchmarks/.build/release/CodecFigures bench-out/large.dbc bench-out/bench.log 3 >bench-out/ours.txt

python - <<'PY'
ref = {l.split()[1]: float(l.split()[2]) for l in open("bench-out/ref.txt") if l.startswith("REF ")}
ours = {l.split()[1]: float(l.split()[2]) for l in open("bench-out/ours.txt") if l.startswith("OURS ")}
rows = [("dbc_load", "DBC load, 800 KB / 300 msgs / 2k signals", "ms", True, 5),
        ("decode_inmem", "decode in-memory frames, all signals", "frames/s", False, 20e6),
        ("log_decode", "candump text -> decoded frames", "frames/s", False, 5e6)]
print(f"{'figure':44} {'vehicle-gateway':>16} {'cantools':>14} {'factor':>8}   goal")
for key, label, unit, lower_better, goal in rows:
    o, r = ours[key], ref[key]
    factor = r / o if lower_better else o / r
    fmt = (lambda v: f"{v:.2f} ms") if unit == "ms" else (lambda v: f"{v / 1e6:.2f} M/s")
    met = (o <= goal) if lower_better else (o >= goal)
    print(f"{label:44} {fmt(o):>16} {fmt(r):>14} {factor:7.0f}x   {fmt(goal)} {'met' if met else 'NOT met'}")
PY
echo
echo "== vehicle state (no reference tool does this; goals: 10 M updates/s, 3 M frames/s)"
Benchmarks/.build/release/StateFigures DBC/demo_mapping.yaml DBC/demo_drive.log 3
if [ "${1:-}" = --full ]; then
    VG_BENCH_DBC=$PWD/bench-out/large.dbc VG_BENCH_LOG=$PWD/bench-out/bench.log \
        swift package --package-path Benchmarks --allow-writing-to-package-directory benchmark --no-progress
fi

echo
echo "== assistant API latency (release build; clients: websockets, MCP Python SDK)"
swift build -c release --product vehicle-gateway >&2
python Benchmarks/api/latency_bench.py .build/release/vehicle-gateway --frames 1000
