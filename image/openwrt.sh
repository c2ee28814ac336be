#!/usr/bin/env bash
# image/openwrt.sh: cross-builds OpenWrt's own userland for the lab image (armhf, glibc, dynamic
# against the libraries the image carries): libubox, ubusd and the ubus CLI (libubus), uci
# (libuci), from the pinned upstream sources in $USP_OPENWRT_SRC/src (default
# ../shared/openwrt/src; the same tarballs areas/src/openwrt/testbed.rs builds for the host).
# Lua bindings are left out (the image has no Lua).
#
# Usage: image/openwrt.sh PREFIX   (called by image/build.sh; a second run reuses PREFIX)
# Output: PREFIX/sbin/ubusd, PREFIX/bin/{ubus,uci}, PREFIX/lib/lib{ubox,ubus,uci,blobmsg_json}.so*
# Needs: gcc-arm-linux-gnueabihf, cmake, make, pkg-config (installed with apt-get when missing)
# and Debian's json-c for armhf (libjson-c-dev, libjson-c5; downloaded into target/image/debs,
# unpacked into PREFIX/sysroot, never installed on the host).
# Exit status 3 (and one line on stderr) when the sources are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PREFIX="${1:?usage: image/openwrt.sh PREFIX}"
SRC="${USP_OPENWRT_SRC:-$ROOT/../shared/openwrt}/src"
if [ -x "$PREFIX/sbin/ubusd" ] && [ -x "$PREFIX/bin/ubus" ] && [ -x "$PREFIX/bin/uci" ]; then
    exit 0
fi
ls "$SRC"/libubox-*.tar.gz "$SRC"/ubus-*.tar.gz "$SRC"/uci-*.tar.gz >/dev/null 2>&1 ||
    { echo "image/openwrt.sh: no OpenWrt sources in $SRC (USP_OPENWRT_SRC)" >&2; exit 3; }
need=()
command -v arm-linux-gnueabihf-gcc >/dev/null 2>&1 || need+=(gcc-arm-linux-gnueabihf libc6-dev-armhf-cross)
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v make >/dev/null 2>&1 || need+=(make)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

DEBS="$ROOT/target/image/debs"
SYS="$PREFIX/sysroot"
rm -rf "$PREFIX" && mkdir -p "$DEBS" "$SYS" "$PREFIX/src"
for p in libjson-c-dev libjson-c5; do
    f="$(ls "$DEBS/${p}"_*_armhf.deb 2>/dev/null | head -1 || true)"
    if [ -z "$f" ]; then
        (cd "$DEBS" && apt-get download "$p:armhf" >/dev/null 2>&1) ||
            { apt-get update -qq && (cd "$DEBS" && apt-get download "$p:armhf" >/dev/null); }
        f="$(ls "$DEBS/${p}"_*_armhf.deb | head -1)"
    fi
    dpkg -x "$f" "$SYS"
done
# The -dev package's libjson-c.so points at /usr/lib/...: make it relative to the sysroot.
ln -sf "$(readlink "$SYS/usr/lib/arm-linux-gnueabihf/libjson-c.so" | sed 's|.*/||')" \
    "$SYS/usr/lib/arm-linux-gnueabihf/libjson-c.so"

cat >"$PREFIX/toolchain.cmake" <<TC
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_FIND_ROOT_PATH "$PREFIX;$SYS")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)
TC
export PKG_CONFIG_LIBDIR="$SYS/usr/lib/arm-linux-gnueabihf/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$SYS"
jlib="$SYS/usr/lib/arm-linux-gnueabihf"
flags=(-DCMAKE_TOOLCHAIN_FILE="$PREFIX/toolchain.cmake" -DCMAKE_INSTALL_PREFIX=/
    -DCMAKE_BUILD_TYPE=MinSizeRel -DBUILD_LUA=OFF -DBUILD_EXAMPLES=OFF -DBUILD_TESTS=OFF
    -DABIVERSION=20230605
    -DCMAKE_C_FLAGS="-I$PREFIX/include -I$SYS/usr/include"
    -DCMAKE_EXE_LINKER_FLAGS="-L$PREFIX/lib -L$jlib -Wl,-rpath-link,$PREFIX/lib:$jlib"
    -DCMAKE_SHARED_LINKER_FLAGS="-L$PREFIX/lib -L$jlib -Wl,-rpath-link,$PREFIX/lib:$jlib")
for r in libubox ubus uci; do
    tar xzf "$(ls "$SRC/$r"-*.tar.gz | head -1)" -C "$PREFIX/src"
    if ! { cmake -S "$PREFIX/src/$r" -B "$PREFIX/src/$r-build" "${flags[@]}" &&
        make -C "$PREFIX/src/$r-build" -j"${CARGO_BUILD_JOBS:-2}" &&
        make -C "$PREFIX/src/$r-build" install DESTDIR="$PREFIX"; } >"$PREFIX/src/$r.log" 2>&1; then
        echo "image/openwrt.sh: $r does not build for armhf; the end of $PREFIX/src/$r.log:" >&2
        tail -15 "$PREFIX/src/$r.log" >&2
        exit 1
    fi
done
# uci installs by GNUInstallDirs (usr/bin, usr/lib under the prefix /): one layout.
mv "$PREFIX"/usr/bin/uci "$PREFIX/bin/"
mv "$PREFIX"/usr/lib/libuci.so* "$PREFIX/lib/"
for b in sbin/ubusd bin/ubus bin/uci; do
    [ -x "$PREFIX/$b" ] || { echo "image/openwrt.sh: no $PREFIX/$b after the build" >&2; exit 1; }
done
