#!/usr/bin/env bash
# The full test suite, for a fresh Debian/Ubuntu machine with a Rust toolchain.
# Installs what the suite needs — a C compiler, the brokers the MTP tests run privately
# (mosquitto, RabbitMQ with its STOMP plugin), openssl for test certificates, a Python venv with
# the `websockets` library for WebSocket interoperability — then builds and runs every test of
# the workspace. A second run installs nothing. The tests start their own broker instances on
# free 127.0.0.1 ports; a system broker the packages may start is never used.
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
cargo test --workspace --locked --no-fail-fast 2>&1 | tee target/test-output.txt || status=$?
# One closing line for the whole run, counted from cargo's per-binary summaries.
awk '/^test result:/ { p += $4; f += $6; i += $8 }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, i }' target/test-output.txt
exit "$status"
