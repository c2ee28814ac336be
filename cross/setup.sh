#!/usr/bin/env bash
# Installs the cross toolchain on a Debian bookworm machine (root; only the Debian, PyPI and
# crates.io registries needed). Safe to re-run: every step is guarded and a second run installs
# nothing.
#
# What it installs, and where it lives (kept apart from the rustup toolchain, which stays the
# default `cargo`/`rustc` for `cargo test`):
#   - Debian's rustc-web/cargo-web (/usr/bin/rustc, /usr/bin/cargo; with rustup first in PATH,
#     plain `cargo` is still rustup's) and rust-web-src (std source under /usr/lib/rustlib/src/rust,
#     used by -Z build-std): the compiler for the four musl targets.
#   - zig from PyPI (package ziglang, pinned) in a venv under $USP_CROSS_HOME (default
#     /opt/uspagent-cross): C compiler, archiver and linker with musl for all four targets.
#   - qemu-user-static (qemu-arm-static, qemu-aarch64-static, qemu-mips-static, ...), file, xz-utils.
# Usage: cross/setup.sh            (prints the toolchain versions at the end)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=cross/env.sh
. "$here/env.sh"

apt_pkgs=()
[ -x /usr/bin/rustc ] || apt_pkgs+=(rustc-web)
[ -x /usr/bin/cargo ] || apt_pkgs+=(cargo-web)
[ -d /usr/lib/rustlib/src/rust/library ] || apt_pkgs+=(rust-web-src)
command -v qemu-arm-static >/dev/null 2>&1 || apt_pkgs+=(qemu-user-static)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import venv, ensurepip" >/dev/null 2>&1 || apt_pkgs+=(python3 python3-venv)
command -v file >/dev/null 2>&1 || apt_pkgs+=(file)
command -v xz >/dev/null 2>&1 || apt_pkgs+=(xz-utils)
if [ ${#apt_pkgs[@]} -gt 0 ]; then
    echo "cross/setup.sh: apt-get install ${apt_pkgs[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        ca-certificates "${apt_pkgs[@]}" >/dev/null
fi

if [ ! -x "$ZIG" ]; then
    echo "cross/setup.sh: installing ziglang==$ZIG_VERSION from PyPI into $USP_CROSS_HOME/zig-venv"
    mkdir -p "$USP_CROSS_HOME"
    rm -rf "$USP_CROSS_HOME/zig-venv"
    /usr/bin/python3 -m venv "$USP_CROSS_HOME/zig-venv"
    "$USP_CROSS_HOME/zig-venv/bin/pip" install -q --disable-pip-version-check "ziglang==$ZIG_VERSION"
    # A stable path to the zig binary, whatever the venv's python version is.
    ln -sf "$("$USP_CROSS_HOME/zig-venv/bin/python" -c \
        'import ziglang, os; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')" "$ZIG"
fi

echo "cross/setup.sh: toolchain ready"
echo "  rustc: $(/usr/bin/rustc -V)  (sysroot $(/usr/bin/rustc --print sysroot))"
echo "  cargo: $(/usr/bin/cargo -V)"
echo "  std source: $(readlink -f /usr/lib/rustlib/src/rust)"
echo "  zig:   $("$ZIG" version)  ($ZIG)"
echo "  qemu:  $(qemu-arm-static --version | head -1)"
