#!/usr/bin/env bash
# Builds and runs the libFuzzer targets (swiftc -sanitize=fuzzer,address), one per parser of
# outside input:
#   scripts/fuzz.sh [SECONDS] [TARGET...]   targets: dbc candump viss mapping config campaigns (default: all)
#   VG_FUZZ_RUNS=N scripts/fuzz.sh 0 ...     instead of a time, N inputs from seed 1: deterministic,
#                                            as the test command runs it (a crash is then a regression)
# Corpora live in fuzz-out/<target>/corpus (seeded from Fuzz/seeds and the project's files; a
# long run keeps growing them, and later runs resume from them); crashes are written to
# fuzz-out/<target>/ as crash-* files. Exit status 1 if any target crashed. Each run appends its
# executions to fuzz-out/<target>/executions.txt, so the cumulative count survives sessions.
# The modules a target needs (CANBus; for mapping and config also DBC, Integrity, Yams, Atomics
# and VehicleState, from .build/checkouts after a `swift build`) are compiled once into
# fuzz-out/modules with the same instrumentation.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(dbc candump viss mapping config campaigns)
flags=(-O -sanitize=fuzzer,address -parse-as-library)
mods=fuzz-out/modules
mkdir -p "$mods"
quiet() { "$@" 2> >(grep -v "Cannot export local symbol" >&2); }

module() {  # NAME EXTRA-FLAGS... -- SOURCES...: a Swift module and its object, unless built
    local name=$1; shift
    local extra=()
    while [ "$1" != "--" ]; do extra+=("$1"); shift; done
    shift
    # Built already, and no source changed since.
    [ -f "$mods/$name.o" ] && [ -z "$(find "$@" -newer "$mods/$name.o" 2>/dev/null | head -1)" ] && return 0
    echo "== compiling module $name" >&2
    quiet swiftc "${flags[@]}" -wmo -module-name "$name" -emit-module -emit-module-path "$mods/$name.swiftmodule" \
        -I "$mods" "${extra[@]}" -c "$@" -o "$mods/$name.o"
}

yams=.build/checkouts/Yams/Sources
atomics=.build/checkouts/swift-atomics/Sources
cyaml=(-Xcc -fmodule-map-file="$yams/CYaml/include/module.modulemap" -Xcc -I"$yams/CYaml/include" -Xcc -DYAML_DECLARE_STATIC)
shims=(-Xcc -fmodule-map-file="$atomics/_AtomicsShims/include/module.modulemap" -Xcc -I"$atomics/_AtomicsShims/include")

state_modules() {
    [ -d "$yams" ] && [ -d "$atomics" ] || { echo "run swift build first: the mapping and config targets compile Yams and Atomics from .build/checkouts" >&2; exit 2; }
    module DBC -- Sources/DBC/*.swift
    module Integrity -- Sources/Integrity/*.swift
    if [ ! -f "$mods/cyaml.a" ]; then
        echo "== compiling CYaml" >&2
        for c in "$yams"/CYaml/src/*.c; do
            clang -O1 -fsanitize=fuzzer-no-link,address -DYAML_DECLARE_STATIC -I"$yams/CYaml/include" -c "$c" -o "$mods/cyaml-$(basename "$c" .c).o"
        done
        ar rcs "$mods/cyaml.a" "$mods"/cyaml-*.o
    fi
    if [ ! -f "$mods/atomics-shims.o" ]; then
        clang -O1 -fsanitize=fuzzer-no-link,address -I"$atomics/_AtomicsShims/include" -c "$atomics/_AtomicsShims/src/_AtomicsShims.c" \
            -o "$mods/atomics-shims.o"
    fi
    module Yams "${cyaml[@]}" -DSWIFT_PACKAGE -- "$yams"/Yams/*.swift
    local atomic_sources=()
    while IFS= read -r -d '' f; do atomic_sources+=("$f"); done < <(find "$atomics/Atomics" -name '*.swift' -print0)
    module Atomics "${shims[@]}" -enable-experimental-feature BuiltinModule -- "${atomic_sources[@]}"
    module VehicleState "${cyaml[@]}" "${shims[@]}" -- Sources/VehicleState/*.swift
    state_objects=("$mods/DBC.o" "$mods/Integrity.o" "$mods/Yams.o" "$mods/cyaml.a" "$mods/Atomics.o" "$mods/atomics-shims.o" "$mods/VehicleState.o")
}

status=0
module CANBus -- Sources/CANBus/*.swift
for target in "${targets[@]}"; do
    state_objects=()
    case $target in
        dbc) entry=Fuzz/FuzzDBCParser.swift; sources=(Sources/DBC/*.swift) ;;
        candump) entry=Fuzz/FuzzCandumpReader.swift; sources=() ;;
        viss) entry=Fuzz/FuzzVISSRequest.swift; sources=(Sources/AssistantAPI/VISSRequest.swift) ;;
        mapping) entry=Fuzz/FuzzMappingFile.swift; sources=(); state_modules ;;
        config) entry=Fuzz/FuzzConfigFile.swift; sources=(Sources/Gateway/GatewayConfigFile.swift); state_modules ;;
        campaigns) entry=Fuzz/FuzzCampaigns.swift
                   sources=(Sources/Uplink/CampaignFile.swift Sources/Uplink/CampaignExpression.swift Sources/Uplink/UplinkConfiguration.swift)
                   state_modules ;;
        *) echo "unknown target $target (dbc, candump, viss, mapping, config, campaigns)" >&2; exit 2 ;;
    esac
    dir=fuzz-out/$target
    mkdir -p "$dir/corpus"
    bin=$dir/fuzz-$target
    echo "== building $target fuzzer"
    quiet swiftc "${flags[@]}" -I "$mods" "${cyaml[@]}" "${shims[@]}" -module-name FuzzTarget "${sources[@]}" "$entry" \
        "$mods/CANBus.o" "${state_objects[@]}" -o "$bin"
    # Seeds: the repository's own (Fuzz/seeds/<target>) and the project's real files.
    [ -d "Fuzz/seeds/$target" ] && cp -n Fuzz/seeds/"$target"/* "$dir/corpus/" 2>/dev/null || true
    case $target in
        dbc) cp -n DBC/*.dbc Tests/Fixtures/dbc/*.dbc "$dir/corpus/" 2>/dev/null || true ;;
        candump) head -c 20000 DBC/demo_drive.log >"$dir/corpus/demo-head.log" ;;
        mapping) cp -n DBC/demo_mapping.yaml Tests/Fixtures/fuzz-regressions/mapping-* "$dir/corpus/" 2>/dev/null || true ;;
        config) cp -n deploy/gateway.yaml "$dir/corpus/" 2>/dev/null || true ;;
        campaigns) cp -n DBC/demo_campaigns.yaml "$dir/corpus/" 2>/dev/null || true ;;
    esac
    if [ -n "${VG_FUZZ_RUNS:-}" ]; then
        budget=(-runs="$VG_FUZZ_RUNS" -seed=1)
        echo "== fuzzing $target: $VG_FUZZ_RUNS inputs from seed 1"
    else
        budget=(-max_total_time="$seconds")
        echo "== fuzzing $target for ${seconds}s"
    fi
    log=$dir/last-run.txt
    if ! SWIFT_BACKTRACE=enable=no "$bin" "${budget[@]}" -max_len=65536 -rss_limit_mb=2048 -artifact_prefix="$dir/" \
            -print_final_stats=1 "$dir/corpus" >"$log" 2>&1; then
        status=1
        echo "!! $target: crash found, see $log and $dir/crash-*"
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    [ -n "$runs" ] && echo "$(date -u +%FT%TZ) $seconds s $runs" >>"$dir/executions.txt"
    total=$(awk '{n += $4} END {print n + 0}' "$dir/executions.txt" 2>/dev/null || echo 0)
    echo "$target: ${runs:-?} executions this run, $total in all runs kept in $dir/executions.txt"
    grep -E "stat::peak_rss_mb" "$log" || tail -5 "$log"
done
exit $status
