#!/usr/bin/env bash
# Builds uspagent .ipk packages without the OpenWrt SDK, in the format OpenWrt's
# scripts/ipkg-build writes (opkg, OpenWrt 23.05 / 24.10): a gzip'd GNU tar holding
# ./debian-binary ("2.0"), ./data.tar.gz (the files) and ./control.tar.gz (control,
# conffiles, postinst, prerm), numeric owner root, names sorted, one fixed mtime.
# The files are those of openwrt/uspagent/Makefile's install step; the version is its
# PKG_VERSION-PKG_RELEASE.
#
# usage: openwrt/build-ipk.sh [-o OUTDIR] TARGET...
#          TARGET: armv7 | aarch64 | mips | mipsel, or the Rust triple; the binary is the static
#          one of `bash cross/build.sh <triple>`, target/cross/<triple>/uspagent
#        openwrt/build-ipk.sh [-o OUTDIR] --binary PATH --arch OPENWRT_ARCH
#          packages any uspagent binary (e.g. the host build, for tests)
# OUTDIR defaults to target/openwrt; --release N overrides the Makefile's PKG_RELEASE.
# Prints the path of each package written.
# SOURCE_DATE_EPOCH (default: the last commit's time) fixes the mtime: same input, same bytes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
pkgdir="$here/uspagent"

usage() {
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 64
}

# The OpenWrt package architecture for each Rust target (see the README's "On OpenWrt").
openwrt_arch() {
    case "$1" in
        armv7-unknown-linux-musleabihf) echo arm_cortex-a7_neon-vfpv4 ;;
        aarch64-unknown-linux-musl) echo aarch64_cortex-a53 ;;
        mips-unknown-linux-musl) echo mips_24kc ;;
        mipsel-unknown-linux-musl) echo mipsel_24kc ;;
        *) return 1 ;;
    esac
}

triple() {
    case "$1" in
        armv7) echo armv7-unknown-linux-musleabihf ;;
        aarch64) echo aarch64-unknown-linux-musl ;;
        mips) echo mips-unknown-linux-musl ;;
        mipsel) echo mipsel-unknown-linux-musl ;;
        *) echo "$1" ;;
    esac
}

mk_var() {
    sed -n "s/^$1:=\(.*\)$/\1/p" "$pkgdir/Makefile"
}

out="$repo/target/openwrt"
binary="" arch="" release="" targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        -o) out="$2"; shift ;;
        --binary) binary="$2"; shift ;;
        --arch) arch="$2"; shift ;;
        --release) release="$2"; shift ;;
        -h | --help) usage ;;
        -*) echo "build-ipk.sh: unknown option $1" >&2; usage ;;
        *) targets+=("$1") ;;
    esac
    shift
done
if [ -n "$binary" ] || [ -n "$arch" ]; then
    if [ -z "$binary" ] || [ -z "$arch" ] || [ ${#targets[@]} -ne 0 ]; then
        echo "build-ipk.sh: --binary and --arch go together, without targets" >&2
        exit 64
    fi
elif [ ${#targets[@]} -eq 0 ]; then
    usage
fi

name="$(mk_var PKG_NAME)"
version="$(mk_var PKG_VERSION)-${release:-$(mk_var PKG_RELEASE)}"
license="$(mk_var PKG_LICENSE)"
maintainer="$(mk_var PKG_MAINTAINER)"
cargo_version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$repo/Cargo.toml" | head -n 1)"
if [ "$(mk_var PKG_VERSION)" != "$cargo_version" ]; then
    echo "build-ipk.sh: PKG_VERSION $(mk_var PKG_VERSION) of $pkgdir/Makefile is not the" \
        "workspace version $cargo_version" >&2
    exit 1
fi
epoch="${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 0)}"
tar_opts=(--format=gnu --numeric-owner --owner=0 --group=0 --sort=name "--mtime=@$epoch")

# package BINARY ARCH: writes OUTDIR/<name>_<version>_<arch>.ipk
package() {
    local bin="$1" arch="$2" work root ctl size ipk
    [ -f "$bin" ] || { echo "build-ipk.sh: no binary $bin" >&2; return 1; }
    work="$(mktemp -d)"
    root="$work/data" ctl="$work/CONTROL"
    mkdir -p "$root" "$ctl"
    # Package/uspagent/install of the Makefile (INSTALL_BIN 0755, INSTALL_CONF 0600).
    install -d -m 0755 "$root/usr/sbin" "$root/usr/libexec" "$root/etc/init.d" \
        "$root/etc/config" "$root/etc/uci-defaults" "$root/lib/upgrade/keep.d" \
        "$root/etc/udhcpc.user.d"
    install -m 0755 "$bin" "$root/usr/sbin/uspagent"
    install -m 0755 "$pkgdir/files/uspagent-uci.sh" "$root/usr/libexec/uspagent-uci"
    install -m 0755 "$pkgdir/files/uspagent.init" "$root/etc/init.d/uspagent"
    install -m 0600 "$pkgdir/files/uspagent.config" "$root/etc/config/uspagent"
    install -m 0755 "$pkgdir/files/uspagent.uci-defaults" \
        "$root/etc/uci-defaults/90-uspagent-firewall"
    install -m 0644 "$pkgdir/files/uspagent-opt125.user" \
        "$root/etc/udhcpc.user.d/uspagent-opt125.user"
    # The Makefile's conffiles: regular files of the package go to the control conffiles;
    # the others (/etc/uspagent/) to /lib/upgrade/keep.d/uspagent, as package-ipkg.mk does.
    : >"$ctl/conffiles"
    sed -n '/^define Package\/uspagent\/conffiles$/,/^endef$/p' "$pkgdir/Makefile" |
        sed '1d;$d' | while IFS= read -r f; do
            if [ -f "$root$f" ]; then
                echo "$f" >>"$ctl/conffiles"
            else
                echo "$f" >>"$root/lib/upgrade/keep.d/$name"
            fi
        done
    chmod 0644 "$ctl/conffiles" "$root/lib/upgrade/keep.d/$name"
    install -m 0755 "$here/ipk/postinst" "$ctl/postinst"
    install -m 0755 "$here/ipk/prerm" "$ctl/prerm"

    tar -C "$root" "${tar_opts[@]}" -cf - . | gzip -n >"$work/data.tar.gz"
    size="$(gzip -dc "$work/data.tar.gz" | wc -c)"
    {
        echo "Package: $name"
        echo "Version: $version"
        echo "Depends: libc"
        echo "Source: feeds/$name/$name"
        echo "License: $license"
        echo "Section: net"
        echo "Maintainer: $maintainer"
        echo "Architecture: $arch"
        echo "Installed-Size: $size"
        printf 'Description: '
        sed -n '/^define Package\/uspagent\/description$/,/^endef$/p' "$pkgdir/Makefile" |
            sed '1d;$d' | sed -e 's,^[[:space:]]*, ,g'
    } >"$ctl/control"
    chmod 0644 "$ctl/control"
    (cd "$ctl" && tar "${tar_opts[@]}" -cf - . | gzip -n >"$work/control.tar.gz")
    echo "2.0" >"$work/debian-binary"
    mkdir -p "$out"
    ipk="$out/${name}_${version}_${arch}.ipk"
    (cd "$work" && tar "${tar_opts[@]}" -cf - ./debian-binary ./data.tar.gz ./control.tar.gz |
        gzip -n >"$ipk")
    rm -rf "$work"
    echo "$ipk"
}

if [ -n "$binary" ]; then
    package "$binary" "$arch"
    exit 0
fi
status=0
for t in "${targets[@]}"; do
    t="$(triple "$t")"
    if ! a="$(openwrt_arch "$t")"; then
        echo "build-ipk.sh: unknown target $t (armv7, aarch64, mips, mipsel)" >&2
        status=1
        continue
    fi
    b="$repo/target/cross/$t/uspagent"
    if [ ! -f "$b" ]; then
        echo "build-ipk.sh: $b is missing: run bash cross/build.sh $t first" >&2
        status=1
        continue
    fi
    package "$b" "$a" || status=1
done
exit "$status"
