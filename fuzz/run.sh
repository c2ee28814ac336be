#!/usr/bin/env bash
# Runs the cargo-fuzz targets (issue 20) on the stable toolchain, without sanitizer (the project
# forbids unsafe code): RUSTC_BOOTSTRAP=1 cargo fuzz run -s none TARGET.
#
#   bash fuzz/run.sh [SECONDS] [TARGET...]     # default: 20 s for each of the 10 targets
#
# Each target starts from its committed seeds (fuzz/seeds/TARGET, written by
# `cargo run --example make_seeds` in fuzz/) and a working corpus (fuzz/corpus/TARGET, not
# committed); libFuzzer stops on a panic, an input running over 1 s (-timeout=1) or a process
# over 512 MB (-rss_limit_mb=512), and leaves the input in fuzz/artifacts/TARGET/. Prints one
# line per target with its execution count, then `fuzz-smoke: P passed, F failed, 0 skipped`.
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-20}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(record_decode core_request path_parse value_parse stomp_codec ws_frames reset_file
        uci_show ubus_reply http_response)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz/run.sh: installing cargo-fuzz"
    cargo install --locked cargo-fuzz >/dev/null || exit 2
fi
export RUSTC_BOOTSTRAP=1
cargo fuzz build -s none >/dev/null || { echo "fuzz-smoke: 0 passed, ${#targets[@]} failed, 0 skipped"; exit 1; }

passed=0
failed=0
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t"
    dict=()
    case $t in core_request | path_parse) dict=(-dict="$PWD/fuzz/dict/usp.dict") ;; esac
    log=$(mktemp)
    if cargo fuzz run -s none "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
        -max_total_time="$seconds" -timeout=1 -rss_limit_mb=512 -print_final_stats=1 \
        "${dict[@]}" >"$log" 2>&1; then
        passed=$((passed + 1))
        verdict=ok
    else
        failed=$((failed + 1))
        verdict=FAILED
        tail -n 30 "$log"
    fi
    execs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log" | tail -n 1)
    rss=$(awk '/stat::peak_rss_mb/ { print $2 }' "$log" | tail -n 1)
    echo "fuzz $t: ${execs:-?} executions in ${seconds} s, peak RSS ${rss:-?} MB: $verdict"
    rm -f "$log"
done
echo "fuzz-smoke: $passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]
