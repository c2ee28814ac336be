#!/usr/bin/env bash
# Builds uspagent and uspctl as static, stripped musl binaries for the routers' CPUs, with
# Debian's rustc (-Z build-std) and zig as C compiler and linker (see cross/README.md).
# Installs the toolchain first when missing (cross/setup.sh). Never touches the host build in
# target/release: cargo works in target/cross/build, and the binaries are copied to
# target/cross/<target>/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=cross/env.sh
. "$here/env.sh"

usage() {
    cat <<USAGE
usage: cross/build.sh [options] <target>|all [<target>...] [-- cargo args...]

targets: ${ALL_TARGETS[*]}
         (all = those four; also x86_64-unknown-linux-musl, a static build for this machine,
         to measure memory as on a router)
options:
  --features LIST        uspagent features, comma-separated (mqtt, stomp, websocket, tls,
                         bundled-sqlite, system-sqlite)
  --no-default-features  uspagent without its default features (bundled-sqlite)
  --ctl-features LIST    uspctl features
  --panic abort|unwind   panic strategy of the binaries and of std (default: abort)
  --bin NAME             build only this binary (uspagent or uspctl); repeatable
  --example PKG:NAME     also build an example, e.g. uspagent:size_probe
  --out DIR              output folder (default: target/cross); binaries go to DIR/<target>/
  --no-setup             do not run cross/setup.sh (the toolchain is installed)
  -- ARGS                passed to every cargo build (e.g. -v, -j1)
USAGE
}

targets=() bins=() examples=() agent_args=() ctl_args=() extra=()
panic=abort out="$CROSS_OUT_DIR" setup=1
while [ $# -gt 0 ]; do
    case "$1" in
        --features) agent_args+=(--features "$2"); shift ;;
        --no-default-features) agent_args+=(--no-default-features) ;;
        --ctl-features) ctl_args+=(--features "$2"); shift ;;
        --panic) panic="$2"; shift ;;
        --bin) bins+=("$2"); shift ;;
        --example) examples+=("$2"); shift ;;
        --out) out="$(mkdir -p "$2" && cd "$2" && pwd)"; shift ;;
        --no-setup) setup=0 ;;
        -h | --help) usage; exit 0 ;;
        --) shift; extra=("$@"); break ;;
        all) targets+=("${ALL_TARGETS[@]}") ;;
        -*) echo "cross/build.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
        *)
            if [ "$1" = host ] || ! qemu_cmd "$1" >/dev/null; then
                echo "cross/build.sh: unknown target $1" >&2; usage >&2; exit 2
            fi
            targets+=("$1") ;;
    esac
    shift
done
[ ${#targets[@]} -gt 0 ] || { usage >&2; exit 2; }
[ ${#bins[@]} -gt 0 ] || bins=("${BINARIES[@]}")
case " ${agent_args[*]} " in
    *system-sqlite*) echo "cross/build.sh: note: system-sqlite links the target's libsqlite3," \
        "which this toolchain does not have (set SQLITE3_LIB_DIR to an OpenWrt SDK staging dir)" >&2 ;;
esac

[ "$setup" = 0 ] || bash "$here/setup.sh"

# What to build: "package kind name" lines, skipping binaries the workspace does not have yet.
jobs=()
for b in "${bins[@]}"; do
    if has_target "$b" bin "$b"; then
        jobs+=("$b bin $b")
    else
        echo "cross/build.sh: skipping $b: the workspace has no binary named $b yet"
    fi
done
for e in "${examples[@]}"; do
    jobs+=("${e%%:*} example ${e#*:}")
done
[ ${#jobs[@]} -gt 0 ] || { echo "cross/build.sh: nothing to build" >&2; exit 1; }

for t in "${targets[@]}"; do
    t0=$(date +%s)
    for j in "${jobs[@]}"; do
        read -r pkg kind name <<<"$j"
        args=()
        case "$pkg" in
            uspagent) args=(${agent_args[@]+"${agent_args[@]}"}) ;;
            uspctl) args=(${ctl_args[@]+"${ctl_args[@]}"}) ;;
        esac
        cross_build_one "$t" "$pkg" "$kind" "$name" "$out" "$panic" \
            ${args[@]+"${args[@]}"} ${extra[@]+"${extra[@]}"}
    done
    echo "cross/build.sh: $t done in $(($(date +%s) - t0)) s -> $out/$t/"
done
