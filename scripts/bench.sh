#!/usr/bin/env bash
# Every performance figure, each beside its reference measured in the same run, ending in a table
# (figure, ours, reference, ratio, goal, met):
#   the codec core against the practical limit (../shared/perf-limit, a hand-written C decoder)
#     on opendbc's generated Toyota powertrain DBC and a million frames;
#   DBC load of a real 807 KB file (opendbc's ford_lincoln_base_pt.dbc) vs cantools;
#   `decode --format jsonl|text` vs python-can + cantools writing the same JSON;
#   the whole frame path (`run --replay --fast`, API up, 10 SSE subscribers; one bus and four);
#   latency frame -> VISS subscriber vs a Python relay; live CPU per 10 k frames/s; RSS.
# Also the earlier codec figures on a generated 800 KB DBC vs cantools.
# Usage: scripts/bench.sh [--quick]   (the binary measured is the deployable one, dist/vehicle-gateway)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/python-env.sh
python -c "import opendbc" 2>/dev/null || pip install --quiet --disable-pip-version-check opendbc==0.3.1
mkdir -p bench-out
[ -x dist/vehicle-gateway ] || bash scripts/build-static.sh >&2

echo "== building the codec figures (release)" >&2
swift build -c release --package-path Benchmarks --product CodecFigures >&2
figures=Benchmarks/.build/release/CodecFigures

[ -f bench-out/large.dbc ] || python scripts/gen_large_dbc.py bench-out/large.dbc >&2
[ -f bench-out/bench.log ] || python scripts/gen_bench_log.py bench-out/large.dbc 200000 bench-out/bench.log >&2
echo "== generated 800 KB DBC, 200 k frames: ours vs cantools"
python Benchmarks/reference/cantools_reference.py --dbc bench-out/large.dbc --log bench-out/bench.log 2>/dev/null >bench-out/ref.txt
"$figures" bench-out/large.dbc bench-out/bench.log 3 >bench-out/ours.txt
python - <<'PY'
ref = {l.split()[1]: float(l.split()[2]) for l in open("bench-out/ref.txt") if l.startswith("REF ")}
ours = {l.split()[1]: float(l.split()[2]) for l in open("bench-out/ours.txt") if l.startswith("OURS ")}
for key, label, ms in (("dbc_load", "DBC load", True), ("decode_inmem", "decode in memory", False), ("log_decode", "candump text -> decoded", False)):
    o, r = ours[key], ref[key]
    f = (lambda v: f"{v:.2f} ms") if ms else (lambda v: f"{v / 1e6:.2f} M frames/s")
    print(f"  {label:26} ours {f(o):>18}   cantools {f(r):>18}   {(r / o if ms else o / r):.0f}x")
PY
echo
python Benchmarks/perf/report.py dist/vehicle-gateway "$figures" "$@"
