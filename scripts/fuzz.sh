#!/usr/bin/env bash
# Builds the libFuzzer drivers in fuzz/ (-sanitize=fuzzer,address, release) and runs each target for a bounded time.
# A failing input is saved in .build-fuzz/artifacts/ and the run stops with status 1: copy the input into
# Tests/StatehouseFuzzTargetsTests/Regressions/<target>/ with the fix, so the test suite replays it from then on.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET (default 60)] [TARGET ...]   (targets: json cursor session)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(json cursor session)
scratch=.build-fuzz
for target in "${targets[@]}"; do
    swift build --package-path fuzz --scratch-path "$scratch" -c release --product "fuzz-$target" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >&2
done
bin="$(swift build --package-path fuzz --scratch-path "$scratch" -c release --show-bin-path)"
status=0
for target in "${targets[@]}"; do
    corpus="$scratch/corpus/$target"
    mkdir -p "$corpus" "$scratch/artifacts"
    cp Tests/StatehouseFuzzTargetsTests/Regressions/"$target"/* "$corpus"/ 2>/dev/null || true
    echo "== fuzz-$target for $seconds s (corpus $corpus)"
    if "$bin/fuzz-$target" "$corpus" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$scratch/artifacts/$target-" -print_final_stats=1 2>"$scratch/fuzz-$target.log"; then
        grep -E "^Done|stat::number_of_executed_units|stat::new_units_added" "$scratch/fuzz-$target.log" || true
    else
        status=1
        tail -40 "$scratch/fuzz-$target.log"
        echo "fuzz-$target FAILED; the input is in $scratch/artifacts/"
    fi
done
exit "$status"
