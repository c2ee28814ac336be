#!/usr/bin/env bash
# The full test suite, for a fresh Debian/Ubuntu machine with a Rust toolchain.
# Installs what the suite needs (openssl for test certificates, a Python venv with the websockets
# library for WebSocket interoperability; brokers such as mosquitto join here with their MTP
# tests), then builds and runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
    echo "test.sh: cargo is not installed (install Rust with rustup, then run again)" >&2
    exit 2
fi
# Bundled SQLite and other -sys crates need a C compiler.
if ! command -v cc >/dev/null 2>&1; then
    echo "test.sh: installing a C compiler (gcc)"
    apt-get update -qq && apt-get install -y -qq gcc >/dev/null
fi
# TLS tests make their certificates with the openssl command.
if ! command -v openssl >/dev/null 2>&1; then
    echo "test.sh: installing openssl"
    apt-get update -qq && apt-get install -y -qq openssl >/dev/null
fi
# WebSocket interoperability tests (mtp/tests/ws_python.rs) run the Python `websockets` library
# from a virtual environment under target/ (made once; a second run installs nothing).
WS_VENV=target/tmp/ws-venv
if ! "$WS_VENV/bin/python" -c 'import websockets' >/dev/null 2>&1; then
    if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
        echo "test.sh: installing python3 and python3-venv"
        apt-get update -qq && apt-get install -y -qq python3 python3-venv >/dev/null
    fi
    echo "test.sh: installing the Python websockets library into $WS_VENV"
    python3 -m venv "$WS_VENV"
    "$WS_VENV/bin/python" -m pip install --quiet --disable-pip-version-check 'websockets>=13'
fi

cargo build --workspace --all-targets --locked
cargo test --workspace --locked 2>&1 | tee target/test-output.txt
# One closing line for the whole run, counted from cargo's per-binary summaries.
awk '/^test result:/ { p += $4; f += $6; i += $8 }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, i }' target/test-output.txt
