#!/usr/bin/env bash
# The size table: stripped sizes of uspagent per target and feature set, and of uspctl, plus the
# largest contributors (cargo-bloat: per crate and per function) so regressions are visible.
# A benchmark, not a test: prints the table (also written to target/cross/sizes.md) and marks
# sizes over the budget of issue 7; exits non-zero for that only with --check.
#
# Until the workspace has the uspagent binary, the agent rows measure the size_probe example
# (the library's start-up, SQLite store and core, no MTP). A feature set whose features
# uspagent does not declare yet is reported as n/a.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=cross/env.sh
. "$here/env.sh"

# Feature sets of uspagent: name and --features list (always with --no-default-features).
declare -A SETS=(
    [full]="bundled-sqlite,mqtt,stomp,websocket,tls"
    [router]="bundled-sqlite,mqtt,stomp,websocket,tls,wifi,openwrt"
    [mqtt-tls]="bundled-sqlite,mqtt,tls"
    [no-mtp]="bundled-sqlite"
)
SET_ORDER=(router full mqtt-tls no-mtp)
# Budgets of issue 7 in bytes: "<set> <target>" -> limit.
declare -A BUDGET=(
    ["router armv7-unknown-linux-musleabihf"]=2500000
    ["full armv7-unknown-linux-musleabihf"]=2500000
    ["full mips-unknown-linux-musl"]=3500000
    ["full mipsel-unknown-linux-musl"]=3500000
    ["mqtt-tls armv7-unknown-linux-musleabihf"]=1500000
)

usage() {
    cat <<USAGE
usage: cross/sizes.sh [--targets "T..."|all] [--sets "S..."] [--panic abort|unwind]
                      [--bloat-target T|none] [--check]
  --targets       targets to measure (default: all four)
  --sets          uspagent feature sets (default: ${SET_ORDER[*]})
  --panic         panic strategy (default: abort, as cross/build.sh)
  --bloat-target  target for the cargo-bloat report of the first set (default: armv7; none to skip)
  --check         exit 1 when a size is over its budget
USAGE
}

targets=("${ALL_TARGETS[@]}") sets=("${SET_ORDER[@]}") panic=abort check=0
bloat_target=armv7-unknown-linux-musleabihf
while [ $# -gt 0 ]; do
    case "$1" in
        --targets) [ "$2" = all ] || read -r -a targets <<<"$2"; shift ;;
        --sets) read -r -a sets <<<"$2"; shift ;;
        --panic) panic="$2"; shift ;;
        --bloat-target) bloat_target="$2"; shift ;;
        --check) check=1 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "cross/sizes.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

bash "$here/setup.sh" >/dev/null
out="$CROSS_OUT_DIR/sizes-$panic"
if has_target uspagent bin uspagent; then
    agent=(uspagent bin uspagent)
else
    agent=(uspagent example size_probe)
    echo "cross/sizes.sh: no uspagent binary yet; measuring the size_probe example instead"
fi

# Builds everything first (the build log goes to the terminal), then prints the table.
declare -A SIZE
for t in "${targets[@]}"; do
    for s in "${sets[@]}"; do
        f="${SETS[$s]:?unknown feature set $s}"
        if ! has_features uspagent "$f"; then
            SIZE["$s $t"]="n/a"
            continue
        fi
        cross_build_one "$t" "${agent[@]}" "$out/$s" "$panic" --no-default-features --features "$f"
        SIZE["$s $t"]=$(stat -c %s "$out/$s/$t/${agent[2]}")
    done
    if has_target uspctl bin uspctl; then
        cross_build_one "$t" uspctl bin uspctl "$out/default" "$panic"
        SIZE["uspctl $t"]=$(stat -c %s "$out/default/$t/uspctl")
    fi
done

# Whether any measured size is over its budget.
over=0
for k in "${!BUDGET[@]}"; do
    v="${SIZE[$k]:-n/a}"
    [ "$v" = n/a ] || [ "$v" -le "${BUDGET[$k]}" ] || over=1
done

# 1234567 -> 1,234,567 (printf's ' flag depends on the locale).
commas() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }

short() { case "$1" in armv7*) echo armv7 ;; aarch64*) echo aarch64 ;; mipsel*) echo mipsel ;; mips*) echo mips ;; esac; }
table() {
    local s t v cells
    echo "Stripped sizes in bytes (panic=$panic, $(/usr/bin/rustc -V | cut -d' ' -f1-2), zig $("$ZIG" version)); xz -9e in parentheses; ! = over budget"
    echo
    printf '| binary (features) |'
    for t in "${targets[@]}"; do printf ' %s |' "$(short "$t")"; done
    printf '\n|---|'
    for t in "${targets[@]}"; do printf -- '---:|'; done
    echo
    for s in "${sets[@]}" uspctl; do
        if [ "$s" = uspctl ]; then cells="| uspctl (default) |"; else cells="| ${agent[2]} $s ($(echo "${SETS[$s]}" | tr , ' ')) |"; fi
        for t in "${targets[@]}"; do
            v="${SIZE["$s $t"]:-}"
            if [ -z "$v" ] || [ "$v" = n/a ]; then cells+=" ${v:-–} |"; continue; fi
            local file="$out/$s/$t/${agent[2]}" mark=""
            [ "$s" = uspctl ] && file="$out/default/$t/uspctl"
            local b="${BUDGET["$s $t"]:-}"
            if [ -n "$b" ] && [ "$v" -gt "$b" ]; then mark=" !"; fi
            cells+=" $(commas "$v") ($(commas "$(xz -9e -c "$file" | wc -c)"))$mark |"
        done
        echo "$cells"
    done
    echo
    echo "Budgets (issue 7): full ≤ 2,500,000 on armv7, ≤ 3,500,000 on mips/mipsel; mqtt-tls ≤ 1,500,000 on armv7."
}

bloat() {
    local t="$1" s="${sets[0]}" f
    f="${SETS[$s]}"
    has_features uspagent "$f" || return 0
    if [ ! -x "$USP_CROSS_HOME/bin/cargo-bloat" ]; then
        echo "cross/sizes.sh: installing cargo-bloat into $USP_CROSS_HOME/bin" >&2
        /usr/bin/cargo install -q cargo-bloat --locked --root "$USP_CROSS_HOME" >&2
    fi
    local std="std,panic_abort"
    [ "$panic" = unwind ] && std="std,panic_unwind"
    local args=(--release --locked --target "$t" --target-dir "$CROSS_TARGET_DIR" -Z "build-std=$std"
        -Z "build-std-features=$(std_features "$panic")"
        --config "profile.release.panic=\"$panic\"" --config profile.release.strip=false
        -p "${agent[0]}" "--${agent[1]}" "${agent[2]}" --no-default-features --features "$f")
    echo
    echo "Largest contributors: ${agent[2]} $s on $(short "$t") (cargo-bloat, unstripped .text; std split)"
    echo
    echo '```'
    (cross_env "$t"; cd "$REPO_DIR"; PATH="$USP_CROSS_HOME/bin:$PATH" \
        /usr/bin/cargo bloat "${args[@]}" --crates --split-std -n 25 2>/dev/null)
    echo
    (cross_env "$t"; cd "$REPO_DIR"; PATH="$USP_CROSS_HOME/bin:$PATH" \
        /usr/bin/cargo bloat "${args[@]}" -n 25 2>/dev/null)
    echo '```'
}

{
    table
    [ "$bloat_target" = none ] || bloat "$bloat_target"
} | tee "$CROSS_OUT_DIR/sizes.md"
echo "cross/sizes.sh: table written to $CROSS_OUT_DIR/sizes.md"
[ "$check" = 0 ] || [ "$over" = 0 ]
