#!/usr/bin/env bash
# scripts/image.sh: the lab firmware image for qemu-system-arm -M virt (armv7).
#
# Usage:
#   scripts/image.sh build [--out DIR] [--version TEXT]    image/build.sh: kernel, boot stage,
#                                                          disk with A/B root slots and data
#   scripts/image.sh run [--broker-port N] [--wifi] ...    image/run.sh: boot it, console on stdio
#   scripts/image.sh test                                  image/test.sh: the end-to-end check
# What each installs (Debian packages only) is in its header; layout and boot selector in
# image/build.sh's header and the README ("The lab firmware image").
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
    build) exec bash "$here/image/build.sh" "$@" ;;
    run) exec bash "$here/image/run.sh" "$@" ;;
    test) exec bash "$here/image/test.sh" "$@" ;;
    *)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
        exit 2
        ;;
esac
