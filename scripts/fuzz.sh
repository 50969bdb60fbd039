#!/usr/bin/env bash
# Builds and runs the libFuzzer targets (swiftc -sanitize=fuzzer,address).
#   scripts/fuzz.sh [SECONDS] [TARGET...]     targets: dbc candump (default: both)
# Corpora live in fuzz-out/<target>/corpus (seeded from the project's DBC files and logs);
# crashes are written to fuzz-out/<target>/ as crash-* files. Exit status 1 if any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(dbc candump)
status=0
for target in "${targets[@]}"; do
    case $target in
        dbc) entry=Fuzz/FuzzDBCParser.swift; sources=(Sources/DBC/*.swift) ;;
        candump) entry=Fuzz/FuzzCandumpReader.swift; sources=() ;;
        *) echo "unknown target $target (dbc, candump)" >&2; exit 2 ;;
    esac
    dir=fuzz-out/$target
    mkdir -p "$dir/corpus"
    bin=$dir/fuzz-$target
    echo "== building $target fuzzer"
    flags=(-O -sanitize=fuzzer,address -parse-as-library)
    # CANBus as its own module (the DBC sources import it), then the target linked against it.
    swiftc "${flags[@]}" -wmo -module-name CANBus -emit-module -emit-module-path "$dir/CANBus.swiftmodule" \
        -c Sources/CANBus/*.swift -o "$dir/CANBus.o"
    swiftc "${flags[@]}" -I "$dir" -module-name FuzzTarget "${sources[@]}" "$entry" "$dir/CANBus.o" -o "$bin" \
        2> >(grep -v "Cannot export local symbol" >&2)
    if [ "$target" = dbc ]; then
        cp -n DBC/*.dbc Tests/Fixtures/dbc/*.dbc "$dir/corpus/" 2>/dev/null || true
    else
        head -c 20000 DBC/demo_drive.log >"$dir/corpus/demo-head.log"
        printf '(1436509052.249713) vcan0 123#R8_F\n(1.000000) vcan0 123##5%s\n  vcan0  1ABCDEF0   [2]  01 02\n(1.000000) vcan0 20000080#0000000000000000\n' \
            "$(printf 'AB%.0s' $(seq 12))" >"$dir/corpus/forms.log"
    fi
    echo "== fuzzing $target for ${seconds}s"
    log=$dir/last-run.txt
    if ! SWIFT_BACKTRACE=enable=no "$bin" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -artifact_prefix="$dir/" \
            -print_final_stats=1 "$dir/corpus" >"$log" 2>&1; then
        status=1
        echo "!! $target: crash found, see $log and $dir/crash-*"
    fi
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb|Done [0-9]+ runs" "$log" || tail -5 "$log"
done
exit $status
