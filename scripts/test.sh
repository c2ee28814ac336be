#!/usr/bin/env bash
# The full test suite, for a fresh Debian/Ubuntu machine with a Rust toolchain.
# Installs what the suite needs — a C compiler, the brokers the MTP tests run privately
# (mosquitto, RabbitMQ with its STOMP plugin), openssl for test certificates, a Python venv with
# the `websockets` library for WebSocket interoperability — then builds and runs every test of
# the workspace. A second run installs nothing. The tests start their own broker instances on
# free 127.0.0.1 ports; a system broker the packages may start is never used.
# Then builds the armv7 agent and controller (static musl, cross/build.sh: installs Debian's
# rustc-web, zig and qemu-user-static the first time) and runs the end-to-end check under
# qemu-user (cross/qemu-test.sh), and boots the lab firmware image (image/build.sh: Debian's
# armhf kernel and busybox with that agent, downloaded with apt-get; qemu-system-arm) with the
# host's uspctl driving its agent through a private Mosquitto (image/test.sh, about six minutes).
# USP_TEST_CROSS=0 skips that part (for quick local runs).
# Then the OpenWrt package (openwrt/test.sh): built as .ipk, installed with OpenWrt's real
# opkg, configured with its real uci (both built from ../shared/openwrt), run under busybox sh.
# USP_TEST_FUZZ=1 adds a smoke run of every cargo-fuzz target (fuzz/run.sh: 20 s each after a
# build of about 4 minutes on two cores; USP_FUZZ_SECONDS changes the 20 s).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
    echo "test.sh: cargo is not installed (install Rust with rustup, then run again)" >&2
    exit 2
fi

missing=()
command -v cc >/dev/null 2>&1 || missing+=(gcc)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3 python3-venv)
# The OpenWrt package's scripts run under busybox sh, OpenWrt's /bin/sh (openwrt/test.sh).
command -v busybox >/dev/null 2>&1 || missing+=(busybox)
if [ ${#missing[@]} -gt 0 ]; then
    echo "test.sh: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# WebSocket interoperability tests (mtp/tests/ws_python.rs) use this venv.
WS_VENV=target/tmp/ws-venv
if ! "$WS_VENV/bin/python" -c 'import websockets' >/dev/null 2>&1; then
    echo "test.sh: installing the Python websockets library into $WS_VENV"
    mkdir -p target/tmp
    python3 -m venv "$WS_VENV"
    "$WS_VENV/bin/python" -m pip install --quiet --disable-pip-version-check 'websockets>=13'
fi

cargo build --workspace --all-targets --locked
status=0
# Tests that need the OpenWrt userland (built from USP_OPENWRT_SRC, default ../shared/openwrt)
# pass without running when its sources are missing; each one leaves a line here.
rm -f target/test-skips.txt
cargo test --workspace --locked --no-fail-fast 2>&1 | tee target/test-output.txt || status=$?

# The armv7 binaries under qemu-user, against a mosquitto on this machine (issue 7).
ARMV7=armv7-unknown-linux-musleabihf
: >target/qemu-output.txt
: >target/image-output.txt
if [ "${USP_TEST_CROSS:-1}" = 0 ]; then
    echo "test.sh: USP_TEST_CROSS=0: the armv7 build, qemu check and firmware image are skipped"
    echo "image-test: 0 passed, 0 failed, 10 skipped (USP_TEST_CROSS=0)" | tee target/image-output.txt
elif bash cross/build.sh "$ARMV7"; then
    bash cross/qemu-test.sh "$ARMV7" 2>&1 | tee target/qemu-output.txt || status=1
    # The lab firmware image under qemu-system-arm, end to end (issue 17).
    bash image/test.sh 2>&1 | tee target/image-output.txt || status=1
else
    echo "qemu-test: 0 passed, 1 failed, 0 skipped (cross/build.sh $ARMV7 failed)" |
        tee target/qemu-output.txt
    echo "image-test: 0 passed, 1 failed, 0 skipped (no armv7 agent)" | tee target/image-output.txt
    status=1
fi

# The OpenWrt package with OpenWrt's real opkg and uci (issue 17), after the cross build so
# that the armv7 binary is packaged too: skipped, with the reason, without ../shared/openwrt
# (USP_OPENWRT_SRC).
bash openwrt/test.sh 2>&1 | tee target/openwrt-output.txt || status=1

# The fuzz targets, a short smoke budget each (issue 20), on request.
: >target/fuzz-output.txt
if [ "${USP_TEST_FUZZ:-0}" = 1 ]; then
    bash fuzz/run.sh "${USP_FUZZ_SECONDS:-20}" 2>&1 | tee target/fuzz-output.txt || status=1
fi

# One closing line for the whole run, counted from cargo's per-binary summaries, the OpenWrt,
# qemu, firmware image and fuzz smoke checks' summaries, and the tests that found what they
# need missing (each counted by cargo as passed, listed in test-skips.txt as skipped).
touch target/test-skips.txt
awk '/^test result:/ { p += $4; f += $6; i += $8 }
     /^qemu-test: [0-9]+ passed/ { p += $2; f += $4; i += $6 }
     /^openwrt-pkg: [0-9]+ passed/ { p += $2; f += $4; i += $6 }
     /^image-test: [0-9]+ passed/ { p += $2; f += $4; i += $6 }
     /^fuzz-smoke: [0-9]+ passed/ { p += $2; f += $4; i += $6 }
     /^skipped: / { p -= 1; i += 1 }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, i }' \
    target/test-output.txt target/openwrt-output.txt target/qemu-output.txt target/image-output.txt \
    target/fuzz-output.txt target/test-skips.txt
exit "$status"
