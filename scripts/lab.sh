#!/bin/sh
# The one-command lab on a fresh Debian/Ubuntu machine: installs a C compiler if missing
# (SQLite is built from source), builds uspagent and uspctl, then runs `uspctl lab` with the
# arguments given (e.g. --keep-dir). Needs cargo (rustup.rs).
set -eu
cd "$(dirname "$0")/.."
if ! command -v cc >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update
    $SUDO apt-get install -y gcc
fi
cargo build --release -p uspagent -p uspctl
exec target/release/uspctl lab "$@"
