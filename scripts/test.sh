#!/usr/bin/env bash
# The full test suite, for a fresh Debian/Ubuntu machine with a Rust toolchain.
# Installs what the suite needs (a C compiler, the mosquitto broker), then builds and runs every
# test of the workspace.
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

# The MQTT tests start private brokers on free 127.0.0.1 ports (usp_testkit::mosquitto). Debian
# also starts a system mosquitto service on port 1883 when installing: the tests never use it and
# never stop it.
if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then
    echo "test.sh: installing the mosquitto broker"
    apt-get update -qq && apt-get install -y -qq mosquitto >/dev/null
fi

cargo build --workspace --all-targets --locked
cargo test --workspace --locked 2>&1 | tee target/test-output.txt
# One closing line for the whole run, counted from cargo's per-binary summaries.
awk '/^test result:/ { p += $4; f += $6; i += $8 }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, i }' target/test-output.txt
