#!/usr/bin/env bash
# The full test suite, for a fresh Debian/Ubuntu machine with a Rust toolchain.
# Installs what the suite needs (a C compiler, RabbitMQ, openssl; other brokers join here with
# their MTP tests), then builds and runs every test of the workspace.
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

# Programs the tests run: RabbitMQ with its STOMP plugin (mtp's STOMP tests; Erlang's epmd comes
# with it) and openssl (test certificates). The harness runs private nodes; a system one is not used.
missing=()
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
    echo "test.sh: installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cargo build --workspace --all-targets --locked
cargo test --workspace --locked 2>&1 | tee target/test-output.txt
# One closing line for the whole run, counted from cargo's per-binary summaries.
awk '/^test result:/ { p += $4; f += $6; i += $8 }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, i }' target/test-output.txt
