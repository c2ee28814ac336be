# Sourced by the cross/ scripts: paths, the target list and the per-target settings.
# Never changes anything on the machine; safe to source from any directory.
# shellcheck shell=bash

# Where the zig venv lives (the only part of the toolchain outside Debian's packages).
USP_CROSS_HOME="${USP_CROSS_HOME:-/opt/uspagent-cross}"
ZIG_VERSION="0.17.1"
ZIG="$USP_CROSS_HOME/zig"
CROSS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$CROSS_DIR/.." && pwd)"
# Cargo's own working folder for the cross builds (kept apart from the host target/ builds) and
# the folder the finished binaries are copied to: target/cross/<target>/<binary>.
# Both can be overridden from the environment (e.g. to share one cargo folder between checkouts).
CROSS_TARGET_DIR="${CROSS_TARGET_DIR:-$REPO_DIR/target/cross/build}"
CROSS_OUT_DIR="${CROSS_OUT_DIR:-$REPO_DIR/target/cross}"

ALL_TARGETS=(armv7-unknown-linux-musleabihf aarch64-unknown-linux-musl mips-unknown-linux-musl
    mipsel-unknown-linux-musl)
BINARIES=(uspagent uspctl)

# The qemu-user command line that runs a binary of the target (CPU models of the real routers:
# ipq40xx Cortex-A7, filogic Cortex-A53, ath79/ramips 24Kc without FPU).
qemu_cmd() {
    case "$1" in
        armv7-unknown-linux-musleabihf) echo "qemu-arm-static -cpu cortex-a7" ;;
        aarch64-unknown-linux-musl) echo "qemu-aarch64-static -cpu cortex-a53" ;;
        mips-unknown-linux-musl) echo "qemu-mips-static -cpu 24Kc" ;;
        mipsel-unknown-linux-musl) echo "qemu-mipsel-static -cpu 24Kc" ;;
        # Static musl x86_64: not a router, but the same libc and allocator, run natively; the
        # closest this machine gets to a router's memory figures (VmRSS of bench_mqtt).
        x86_64-unknown-linux-musl) echo "" ;;
        # The machine's own binaries, run natively (to develop qemu-test.sh checks quickly).
        host) echo "" ;;
        *) return 1 ;;
    esac
}

# Exports what cargo, rustc and cc-rs need to build for target $1 with Debian's rustc and zig,
# without any .cargo/config.toml: linker, C compiler, archiver and rustflags, all per target, so
# host builds (build scripts, proc macros) keep using the host compiler.
cross_env() {
    local t="$1" u up
    u="${t//-/_}"
    up="$(echo "$u" | tr '[:lower:]' '[:upper:]')"
    export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 ZIG CROSS_ARMV7_THUMB
    unset RUSTFLAGS CARGO_BUILD_RUSTFLAGS CARGO_ENCODED_RUSTFLAGS RUSTC_WRAPPER
    export "CARGO_TARGET_${up}_LINKER=$CROSS_DIR/zcc-$t"
    # crt-static: mips(el) musl would otherwise link dynamically. link-self-contained=no: with
    # build-std there are no rustc self-contained crt objects; zig supplies crt1.o and libc.a.
    # relocation-model=static / -fno-pic: these musl targets link static non-PIE executables
    # (ELF type EXEC; rustc has no static-pie for them), so position-independent code buys no
    # ASLR and only costs size: 11 % on MIPS (every call and global through the GOT), less on ARM.
    # location-detail=none: panic locations (file, line) are not stored; the panic message and
    # the thread name still reach the log (daemon/panic.rs). 3 % smaller.
    local extra="-C relocation-model=static -Z location-detail=none"
    local cflags="-fno-pic"
    # armv7: Thumb-2 code (rustc calls the feature unstable and warns once per crate; every
    # ARMv7-A core runs it, NEON or not). CROSS_ARMV7_THUMB=0 keeps the ARM (A32) encoding.
    if [ "$t" = armv7-unknown-linux-musleabihf ] && [ "${CROSS_ARMV7_THUMB:-1}" != 0 ]; then
        extra="-C target-feature=+thumb-mode $extra"
        # zcc adds the same CPU flag; here it also makes cc-rs rebuild C code when it changes.
        cflags="-mcpu=generic+v7a+vfp3d16-neon+thumb_mode $cflags"
    fi
    # ARM and AArch64: LLVM's machine outliner moves repeated instruction sequences into shared
    # functions, Rust and C alike (−3 % on armv7). LLVM has no outliner for MIPS.
    case "$t" in
        armv7-* | aarch64-*)
            extra="$extra -C llvm-args=-enable-machine-outliner=always"
            cflags="$cflags -mllvm -enable-machine-outliner=always" ;;
    esac
    extra="$extra${CROSS_RUSTFLAGS:+ $CROSS_RUSTFLAGS}"
    cflags="$cflags${CROSS_CFLAGS:+ $CROSS_CFLAGS}"
    # CROSS_RUSTFLAGS: extra flags for the target code (std included), e.g. for experiments.
    export "CARGO_TARGET_${up}_RUSTFLAGS=-C target-feature=+crt-static -C link-self-contained=no $extra"
    export "CC_${u}=$CROSS_DIR/zcc-$t" "AR_${u}=$CROSS_DIR/zar"
    # CROSS_CFLAGS: extra flags for the C code (SQLite, ring), read by cc-rs.
    export "CFLAGS_${u}=$cflags"
}

# Whether package $1 of the workspace has a target of kind $2 (bin or example) named $3.
has_target() {
    /usr/bin/cargo metadata --no-deps --format-version 1 --manifest-path "$REPO_DIR/Cargo.toml" \
        2>/dev/null | /usr/bin/python3 -c '
import json, sys
pkg, kind, name = sys.argv[1:4]
meta = json.load(sys.stdin)
sys.exit(0 if any(p["name"] == pkg and any(t["name"] == name and kind in t["kind"]
    for t in p["targets"]) for p in meta["packages"]) else 1)' "$1" "$2" "$3"
}

# The std features for -Z build-std-features: CROSS_STD_FEATURES when set (may be empty),
# else cargo's default for unwind (panic-unwind, backtrace) and optimize_for_size alone for abort:
# no backtrace symbolizer (useless in a stripped binary; the panic message is still printed)
# and std's smaller algorithm variants.
std_features() {
    if [ -n "${CROSS_STD_FEATURES+set}" ]; then
        echo "$CROSS_STD_FEATURES"
    elif [ "$1" = unwind ]; then
        echo "panic-unwind,backtrace"
    else
        echo "optimize_for_size"
    fi
}

# Builds one binary for one target and copies it (stripped by the release profile) to
# $out/<target>/<name>. Arguments: target package kind(bin|example) name out panic(abort|unwind)
# [extra cargo args...]. Prints the seconds it took; returns cargo's status.
cross_build_one() {
    local t="$1" pkg="$2" kind="$3" name="$4" out="$5" panic="$6" std start dir
    shift 6
    case "$panic" in
        abort) std="std,panic_abort" ;;
        unwind) std="std,panic_unwind" ;;
        *) echo "cross: panic must be abort or unwind, not '$panic'" >&2; return 2 ;;
    esac
    start=$(date +%s)
    (
        cross_env "$t"
        cd "$REPO_DIR"
        /usr/bin/cargo build --release --locked --target "$t" --target-dir "$CROSS_TARGET_DIR" \
            -Z "build-std=$std" -Z "build-std-features=$(std_features "$panic")" \
            --config "profile.release.panic=\"$panic\"" \
            -p "$pkg" "--$kind" "$name" "$@"
    ) || return
    dir="$CROSS_TARGET_DIR/$t/release"
    [ "$kind" = example ] && dir="$dir/examples"
    mkdir -p "$out/$t"
    cp "$dir/$name" "$out/$t/$name"
    if ! file -L "$out/$t/$name" | grep -q 'statically linked'; then
        echo "cross: $out/$t/$name is not statically linked: $(file -L "$out/$t/$name")" >&2
        return 1
    fi
    echo "cross: $t $name: $(stat -c %s "$out/$t/$name") bytes, $(($(date +%s) - start)) s"
}

# Whether workspace package $1 declares every feature in the comma-separated list $2.
has_features() {
    /usr/bin/cargo metadata --no-deps --format-version 1 --manifest-path "$REPO_DIR/Cargo.toml" \
        2>/dev/null | /usr/bin/python3 -c '
import json, sys
pkg, feats = sys.argv[1], [f for f in sys.argv[2].split(",") if f]
meta = json.load(sys.stdin)
p = [p for p in meta["packages"] if p["name"] == pkg]
sys.exit(0 if p and all(f in p[0]["features"] for f in feats) else 1)' "$1" "$2"
}
