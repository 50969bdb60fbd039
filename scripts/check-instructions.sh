#!/usr/bin/env bash
# Deterministic guards on the two paths users run: instructions per frame, counted by callgrind,
# for `decode --format jsonl` and for the gateway's frame path (decode -> VSS store -> context ->
# change feed), on the bundled demo drive, against the budgets in
# Benchmarks/instruction-budgets.txt. Fails when a change blows a budget.
#   scripts/check-instructions.sh            (after scripts/build-static.sh: same scratch, same flags)
# Per frame = (instructions on the whole log - instructions on its first 2,000 lines) / the
# frames between, so start-up and loading cancel out. Raise a budget only with a measured reason.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/system-deps.sh
scratch=.build-static
echo "== building the probe (release, the static build's modules)" >&2
swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product vg-instructions \
    --pkg-config-path "$scratch/static-libs/pkgconfig" \
    -Xswiftc -L"$PWD/$scratch/static-libs/lib" -Xswiftc -Xclang-linker -Xswiftc -static-libgcc \
    -Xlinker --as-needed >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# valgrind reads DWARF 4 at most: give it the code without the debug sections.
objcopy --strip-debug "$scratch/release/vg-instructions" "$work/probe"
log=DBC/demo_drive.log
head -n 2000 "$log" > "$work/head.log"
total=$(wc -l < "$log")

instructions() {  # PROBE ARG LOG -> total instructions
    SWIFT_DETERMINISTIC_HASHING=1 valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
        "$work/probe" "$@" >/dev/null 2>"$work/vg.err" || { cat "$work/vg.err" >&2; return 1; }
    sed -n 's/^summary: *//p' "$work/cg.out"
}

status=0
while read -r probe arg budget; do
    case "$probe" in ''|'#'*) continue ;; esac
    full=$(instructions "$probe" "$arg" "$log")
    head=$(instructions "$probe" "$arg" "$work/head.log")
    per=$(( (full - head) / (total - 2000) ))
    if [ "$per" -le "$budget" ]; then verdict="within"; else verdict="OVER"; status=1; fi
    printf '%-10s %6d instructions/frame   budget %6d   %s\n' "$probe" "$per" "$budget" "$verdict"
done < Benchmarks/instruction-budgets.txt
exit $status
