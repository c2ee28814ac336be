#!/usr/bin/env bash
# image/build.sh: builds the lab firmware image for `qemu-system-arm -M virt` (armv7, Cortex-A15)
# from Debian bookworm's armhf packages and our static armv7 uspagent.
#
# Usage: image/build.sh [--out DIR] [--version TEXT] [--rootfs-only FILE] [--no-wifi]
#   (or scripts/image.sh build ...)
#   --out DIR          where the image goes (default target/image/out)
#   --version TEXT     the firmware version written into the root filesystem
#                      (/etc/uspagent-image-release; default: the workspace version + git hash)
#   --rootfs-only FILE only build a root filesystem (squashfs) into FILE: what a firmware update
#                      writes into the inactive slot (issue 15)
#   --no-wifi          without hostapd, wpa_supplicant and iw (about 2.5 MB less)
#
# Installs on the host (apt-get, only when missing, so a second run installs nothing):
# squashfs-tools, e2fsprogs, cpio, fdisk (sfdisk), kmod (depmod), qemu-user-static (to list
# busybox's applets), and enables the armhf architecture in dpkg to `apt-get download` from
# Debian's registry: linux-image-6.1.0-*-armmp (the kernel and its modules), busybox-static,
# and for Wi-Fi hostapd, wpasupplicant, iw and the libraries they link (they are dynamic). The
# downloads are kept in target/image/debs; nothing is installed from them on the host.
# OpenWrt's ubusd, ubus and uci cross-built for armhf by image/openwrt.sh (gcc-arm-linux-gnueabihf
# and Debian's armhf json-c; sources from USP_OPENWRT_SRC, default ../shared/openwrt; without
# them the image is built without ubus and uci, said in a log line).
# Builds the agent (cross/build.sh armv7-unknown-linux-musleabihf, ~5 min the first time) when
# target/cross/armv7-unknown-linux-musleabihf/uspagent is missing.
#
# Output (DIR):
#   vmlinuz       the kernel (Debian armmp), given to qemu with -kernel
#   initrd.gz     the boot stage (busybox, the block/filesystem modules, /init): picks the slot
#   disk.img      the firmware disk, an MBR partition table with three partitions:
#                   p1  slot A  (32 MiB) squashfs root filesystem   /dev/vda1
#                   p2  slot B  (32 MiB) squashfs root filesystem   /dev/vda2
#                   p3  data    (64 MiB) ext4, persistent           /dev/vda3, mounted on /data
#                 Both slots hold the same root filesystem after a build.
#   rootfs.squashfs  the root filesystem alone (what a firmware update writes into a slot)
#   cmdline       the kernel command line image/run.sh uses
#   version       the firmware version; features: openwrt=0|1 (ubus, uci), wifi=0|1
#
# The boot selector: /data/boot/slot on the data partition, lines KEY=VALUE (no spaces, no
# quotes; other lines and '#' comments are ignored; the file is rewritten by the boot stage):
#   active=a|b    the slot that boots (default a when the file or the key is missing)
#   try=a|b       boot this slot ONCE: the boot stage clears `try` before it boots that slot,
#                 so a reboot without confirmation falls back to `active`. A new firmware
#                 confirms itself by writing active=<slot it booted> (see /run/boot-slot).
# The boot stage writes the slot it booted to /data/boot/booted (and /run/boot-slot in the root
# filesystem) with `tried=1` when it came from `try`. Firmware update A->B (issue 15): write
# the new squashfs into the inactive slot's partition (/dev/vda2 when a booted), write
# try=b (or active=b to switch without fallback), reboot. In the image, `fwslot` does these
# steps (status, write FILE, try, activate, confirm; image/files/fwslot).
#
# The root filesystem's /sbin/init (busybox sh, PID 1) mounts /proc /sys /dev /tmp /run, the
# data partition (already mounted by the boot stage), loads virtio_net, configures eth0
# statically (10.0.2.15/24, gateway and DNS 10.0.2.2: qemu's user-mode network) or by DHCP
# (usp.net=dhcp), starts the agent respawned (at most 5 restarts a minute, then a 30 s pause),
# and a shell on the console. The agent: `uspagent --platform linux -i eth0 -r <reset file>
# -f /data/uspagent/usp.db -s /tmp/usp_cli --reboot-command reboot`; its reset file (first
# start only) is generated from the settings below, its log is /data/uspagent/agent.log.
# Settings (kernel command line `usp.KEY=VALUE`, else /data/uspagent/image.conf lines KEY=VALUE):
#   broker=HOST:PORT         the MQTT broker (default 10.0.2.2:1883, the host's 127.0.0.1:1883)
#   controller=EID           the controller's Endpoint ID (default self::usp-controller)
#   controller_topic=TOPIC   its topic (default usp/v1/controller)
#   net=static|dhcp          how eth0 is configured (default static)
#   wifi=0|1                 mac80211_hwsim radios with hostapd and wpa_supplicant (default 0);
#                            the agent serves them (--hostapd-dir /run/hostapd)
#   trial_limit=SECONDS      a trial boot of a new firmware that the agent has not confirmed
#                            (fwslot confirm) within this time reboots and rolls back (300)
# ubusd runs when the image has it; UCI's /etc/config is /data/config.
# A broker that changes after the first start is written into the database through the
# agent's local CLI (Device.MQTT.Client.1.BrokerAddress/BrokerPort).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

OUT="$ROOT/target/image/out"
VERSION=""
ROOTFS_ONLY=""
WIFI=1
while [ $# -gt 0 ]; do
    case "$1" in
        --out) OUT="$2"; shift ;;
        --version) VERSION="$2"; shift ;;
        --rootfs-only) ROOTFS_ONLY="$2"; shift ;;
        --no-wifi) WIFI=0 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "image/build.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

WORK="$ROOT/target/image"
DEBS="$WORK/debs"
ARMV7=armv7-unknown-linux-musleabihf
AGENT="$ROOT/target/cross/$ARMV7/uspagent"
SLOT_MIB=32
DATA_MIB=64
log() { echo "image: $*" >&2; }

# ---- host tools ------------------------------------------------------------------------------
missing=()
command -v mksquashfs >/dev/null 2>&1 || missing+=(squashfs-tools)
[ -x /usr/sbin/mke2fs ] || command -v mke2fs >/dev/null 2>&1 || missing+=(e2fsprogs)
command -v cpio >/dev/null 2>&1 || missing+=(cpio)
[ -x /usr/sbin/sfdisk ] || command -v sfdisk >/dev/null 2>&1 || missing+=(fdisk)
[ -x /usr/sbin/depmod ] || command -v depmod >/dev/null 2>&1 || missing+=(kmod)
command -v qemu-arm-static >/dev/null 2>&1 || missing+=(qemu-user-static)
command -v readelf >/dev/null 2>&1 || missing+=(binutils)
armhf=1
dpkg --print-foreign-architectures | grep -qx armhf || armhf=0
if [ ${#missing[@]} -gt 0 ] || [ "$armhf" = 0 ]; then
    [ "$armhf" = 1 ] || { log "dpkg --add-architecture armhf"; dpkg --add-architecture armhf; }
    log "installing ${missing[*]:-nothing} (apt-get update first)"
    apt-get update -qq
    if [ ${#missing[@]} -gt 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    fi
fi
export PATH="$PATH:/usr/sbin:/sbin"

# ---- Debian armhf packages -------------------------------------------------------------------
mkdir -p "$DEBS"
# Downloads package $1 (name:armhf) into $DEBS unless a .deb of it is there; prints its path.
fetch_deb() {
    local pkg="$1" base f
    base="${pkg%%:*}"
    f="$(ls "$DEBS/${base}"_*_armhf.deb "$DEBS/${base}"_*_all.deb 2>/dev/null | head -1 || true)"
    if [ -z "$f" ]; then
        log "apt-get download $pkg"
        # An Architecture: all package (wireless-regdb) has no name:armhf candidate: ask for it
        # by its plain name, which only then is tried.
        (cd "$DEBS" && { apt-get download "$pkg" || apt-get download "$base"; } >/dev/null 2>&1) ||
            { apt-get update -qq &&
                (cd "$DEBS" && { apt-get download "$pkg" 2>/dev/null || apt-get download "$base"; } >/dev/null); }
        f="$(ls "$DEBS/${base}"_*_armhf.deb "$DEBS/${base}"_*_all.deb 2>/dev/null | head -1 || true)"
        [ -n "$f" ] || { log "cannot download $pkg from Debian"; exit 1; }
    fi
    echo "$f"
}
kpkg="$(ls "$DEBS"/linux-image-*-armmp_*_armhf.deb 2>/dev/null | head -1 || true)"
if [ -z "$kpkg" ]; then
    kname="$(apt-cache depends linux-image-armmp:armhf 2>/dev/null |
        sed -n 's/.*Depends: \(linux-image-[0-9][^:]*-armmp\).*/\1/p' | head -1)"
    [ -n "$kname" ] || { apt-get update -qq; kname="$(apt-cache depends linux-image-armmp:armhf |
        sed -n 's/.*Depends: \(linux-image-[0-9][^:]*-armmp\).*/\1/p' | head -1)"; }
    [ -n "$kname" ] || { log "no linux-image-armmp:armhf in apt's lists"; exit 1; }
    kpkg="$(fetch_deb "$kname:armhf")"
fi
bbpkg="$(fetch_deb busybox-static:armhf)"

# ---- the agent -------------------------------------------------------------------------------
if [ ! -x "$AGENT" ]; then
    log "no $AGENT: building it (bash cross/build.sh --bin uspagent $ARMV7)"
    CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}" bash cross/build.sh --bin uspagent "$ARMV7"
fi
[ -n "$VERSION" ] || VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)-$(git rev-parse --short HEAD 2>/dev/null || echo local)"

# ---- unpack ----------------------------------------------------------------------------------
X="$WORK/x"
rm -rf "$X" && mkdir -p "$X"
dpkg -x "$kpkg" "$X"
dpkg -x "$bbpkg" "$X"
KVER="$(ls "$X/lib/modules" | head -1)"
depmod -b "$X" "$KVER"
MODDIR="$X/lib/modules/$KVER"

# Prints module $1 (a name) and what it depends on, dependencies first, as paths relative to
# $MODDIR (from modules.dep).
mod_closure() {
    local name="$1" line path deps d
    line="$(grep -E "(^|/)${name}\.ko(\.[a-z]+)?:" "$MODDIR/modules.dep" | head -1)"
    [ -n "$line" ] || { log "module $name not found (built in?)"; return 0; }
    path="${line%%:*}"
    deps="${line#*:}"
    for d in $deps; do
        d="${d##*/}"
        mod_closure "${d%%.ko*}"
    done
    echo "$path"
}
# Copies modules $2... (and their dependencies) into root $1 and writes modules.dep there.
copy_modules() {
    local root="$1" m p
    shift
    mkdir -p "$root/lib/modules/$KVER"
    for m in "$@"; do
        for p in $(mod_closure "$m"); do
            mkdir -p "$root/lib/modules/$KVER/$(dirname "$p")"
            cp "$MODDIR/$p" "$root/lib/modules/$KVER/$p"
        done
    done
    cp "$MODDIR"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$KVER/"
    depmod -b "$root" "$KVER"
}
# Installs busybox and its applet links into root $1.
install_busybox() {
    local root="$1" a
    mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin"
    cp "$X/bin/busybox" "$root/bin/busybox"
    for a in $(qemu-arm-static "$X/bin/busybox" --list-full); do
        [ -e "$root/$a" ] || ln -s /bin/busybox "$root/$a"
    done
}

# Debian packages of the Wi-Fi userland and of every library it links.
WIFI_DEBS=(hostapd wpasupplicant iw libc6 libnl-3-200 libnl-genl-3-200 libnl-route-3-200 libssl3
    libdbus-1-3 libpcsclite1 libreadline8 libtinfo6 libsystemd0 libcap2 libgcrypt20 libgpg-error0
    liblz4-1 liblzma5 libzstd1 wireless-regdb)
# The libraries of OpenWrt's ubus and uci (besides its own).
OWRT_DEBS=(libc6 libjson-c5)
BOOT_MODULES=(virtio_mmio virtio_blk squashfs crc32c_generic ext4)
ROOT_MODULES=(virtio_mmio virtio_blk squashfs crc32c_generic ext4 virtio_net overlay loop mac80211_hwsim
    ctr ccm gcm cmac seqiv ghash-generic aes-arm michael_mic)

# ---- the root filesystem (one slot) ----------------------------------------------------------
R="$WORK/rootfs"
rm -rf "$R" && mkdir -p "$R"
install_busybox "$R"
copy_modules "$R" "${ROOT_MODULES[@]}"
mkdir -p "$R"/{proc,sys,dev,tmp,run,data,var,root,etc/uspagent,usr/share/uspagent}
ln -s /tmp "$R/var/tmp"
ln -s /run "$R/var/run"
ln -s /tmp/resolv.conf "$R/etc/resolv.conf"
install -m 755 "$AGENT" "$R/usr/sbin/uspagent"
install -m 755 image/files/init "$R/sbin/init"
install -m 755 image/files/udhcpc.script "$R/usr/share/uspagent/udhcpc.script"
install -m 755 image/files/wifi.sh "$R/usr/share/uspagent/wifi.sh"
install -m 755 image/files/fwslot "$R/usr/sbin/fwslot"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"
printf 'uspagent-lab\n' >"$R/etc/hostname"
printf '127.0.0.1 localhost\n' >"$R/etc/hosts"
cat >"$R/etc/uspagent-image-release" <<EOF
NAME="uspagent lab image"
VERSION="$VERSION"
KERNEL="$KVER"
BUILT="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
EOF
cp "$R/etc/uspagent-image-release" "$R/etc/os-release"
# Dynamic (glibc) programs: Debian's libraries for them are unpacked into $W, OpenWrt's own
# (image/openwrt.sh) are in $OWRT/lib.
W="$WORK/wifi-x"
OWRT="$WORK/openwrt"
rm -rf "$W" && mkdir -p "$W"
# Copies library $1 (a soname) from $W or $OWRT/lib into $R, then what it needs.
copy_lib() {
    local so="$1" f d
    [ -e "$R/lib/arm-linux-gnueabihf/$so" ] && return 0
    f=""
    for d in "$W/lib/arm-linux-gnueabihf" "$W/usr/lib/arm-linux-gnueabihf" "$OWRT/lib"; do
        [ -e "$d/$so" ] && { f="$d/$so"; break; }
    done
    [ -n "$f" ] || { log "library $so is in none of the packages (WIFI_DEBS, OWRT_DEBS)"; return 1; }
    mkdir -p "$R/lib/arm-linux-gnueabihf"
    cp -L "$f" "$R/lib/arm-linux-gnueabihf/$so"
    arm-linux-gnueabihf-strip "$R/lib/arm-linux-gnueabihf/$so" 2>/dev/null || true
    copy_needed "$R/lib/arm-linux-gnueabihf/$so"
}
copy_needed() {
    local n
    for n in $(readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do copy_lib "$n"; done
}
# OpenWrt's userland (ubusd, ubus, uci; image/openwrt.sh cross-builds it for armhf), started
# by init; UCI's /etc/config is /data/config (persistent, seeded from image/files/config).
owrt=0
set +e
bash image/openwrt.sh "$OWRT" >&2
rc=$?
set -e
case "$rc" in
    0) owrt=1 ;;
    3) log "without OpenWrt's ubus and uci (no sources: USP_OPENWRT_SRC)" ;;
    *) log "image/openwrt.sh failed"; exit 1 ;;
esac
if [ "$owrt" = 1 ]; then
    for p in "${OWRT_DEBS[@]}"; do dpkg -x "$(fetch_deb "$p:armhf")" "$W"; done
    for b in sbin/ubusd bin/ubus bin/uci; do
        install -D -m 755 "$OWRT/$b" "$R/$b.new"
        rm -f "$R/$b" && mv "$R/$b.new" "$R/$b"
        arm-linux-gnueabihf-strip "$R/$b"
        copy_needed "$R/$b"
    done
    cp -L "$W/lib/ld-linux-armhf.so.3" "$R/lib/ld-linux-armhf.so.3"
    ln -s /data/config "$R/etc/config"
    mkdir -p "$R/usr/share/uspagent/config"
    cp image/files/config/* "$R/usr/share/uspagent/config/"
fi
# Wi-Fi userland: Debian's hostapd, wpa_supplicant and iw (dynamic, glibc) with the libraries
# they need (readelf's NEEDED, followed), and the dynamic loader.
if [ "$WIFI" = 1 ]; then
    for p in "${WIFI_DEBS[@]}"; do dpkg -x "$(fetch_deb "$p:armhf")" "$W"; done
    for b in usr/sbin/hostapd usr/sbin/hostapd_cli sbin/wpa_supplicant sbin/wpa_cli sbin/iw; do
        rm -f "$R/$b"
        install -D -m 755 "$W/$b" "$R/$b"
        copy_needed "$R/$b"
    done
    cp -L "$W/lib/ld-linux-armhf.so.3" "$R/lib/ld-linux-armhf.so.3"
    # cfg80211 loads the regulatory database (signed by Debian) as firmware.
    mkdir -p "$R/lib/firmware"
    cp "$W/lib/firmware/regulatory.db-debian" "$R/lib/firmware/regulatory.db"
    cp "$W/lib/firmware/regulatory.db.p7s-debian" "$R/lib/firmware/regulatory.db.p7s"
fi
printf '/lib/arm-linux-gnueabihf\n/usr/lib/arm-linux-gnueabihf\n' >"$R/etc/ld.so.conf"


SQ="${ROOTFS_ONLY:-$WORK/rootfs.squashfs}"
rm -f "$SQ"
mksquashfs "$R" "$SQ" -comp xz -all-root -noappend -quiet >/dev/null
sq_size=$(stat -c %s "$SQ")
[ "$sq_size" -le $((SLOT_MIB * 1024 * 1024)) ] ||
    { log "the root filesystem ($sq_size bytes) does not fit a ${SLOT_MIB} MiB slot"; exit 1; }
if [ -n "$ROOTFS_ONLY" ]; then
    log "root filesystem $VERSION: $SQ ($sq_size bytes)"
    exit 0
fi

# ---- the boot stage (initramfs) --------------------------------------------------------------
I="$WORK/initrd"
rm -rf "$I" && mkdir -p "$I"/{bin,proc,sys,dev,newroot,data}
cp "$X/bin/busybox" "$I/bin/busybox"
for a in sh mount umount mkdir cat echo sleep switch_root modprobe insmod sed grep mv rm ln \
    poweroff reboot ls; do
    ln -s busybox "$I/bin/$a"
done
copy_modules "$I" "${BOOT_MODULES[@]}"
install -m 755 image/files/boot-init "$I/init"

mkdir -p "$OUT"
(cd "$I" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -9 >"$OUT/initrd.gz.tmp"
mv "$OUT/initrd.gz.tmp" "$OUT/initrd.gz"
cp "$X/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
cp "$SQ" "$OUT/rootfs.squashfs"

# ---- the disk --------------------------------------------------------------------------------
D="$OUT/disk.img.tmp"
rm -f "$D"
# 1 MiB for the partition table, the slots, the data partition.
total_mib=$((1 + 2 * SLOT_MIB + DATA_MIB))
truncate -s "${total_mib}M" "$D"
sector=512
a_start=2048
a_len=$((SLOT_MIB * 1024 * 1024 / sector))
b_start=$((a_start + a_len))
d_start=$((b_start + a_len))
d_len=$((DATA_MIB * 1024 * 1024 / sector))
sfdisk -q "$D" <<EOF
label: dos
start=$a_start, size=$a_len, type=83
start=$b_start, size=$a_len, type=83
start=$d_start, size=$d_len, type=83
EOF
dd if="$SQ" of="$D" bs=$sector seek=$a_start conv=notrunc,sparse status=none
dd if="$SQ" of="$D" bs=$sector seek=$b_start conv=notrunc,sparse status=none
# The data partition: an ext4 with the boot selector.
DD="$WORK/data"
rm -rf "$DD" && mkdir -p "$DD/boot" "$DD/uspagent"
cat >"$DD/boot/slot" <<EOF
# The boot selector (image/build.sh): active=a|b, try=a|b boots that slot once.
active=a
EOF
DATA_IMG="$WORK/data.ext4"
rm -f "$DATA_IMG"
mke2fs -q -t ext4 -L data -d "$DD" -E root_owner=0:0 "$DATA_IMG" "${DATA_MIB}M" >/dev/null
dd if="$DATA_IMG" of="$D" bs=$sector seek=$d_start conv=notrunc,sparse status=none
rm -f "$DATA_IMG"
mv "$D" "$OUT/disk.img"
printf 'console=ttyAMA0 quiet panic=5\n' >"$OUT/cmdline"
echo "$VERSION" >"$OUT/version"
printf 'openwrt=%s\nwifi=%s\n' "$owrt" "$WIFI" >"$OUT/features"

log "built $VERSION (kernel $KVER) in $OUT:"
log "  vmlinuz $(stat -c %s "$OUT/vmlinuz") bytes, initrd.gz $(stat -c %s "$OUT/initrd.gz") bytes,"
log "  root filesystem $sq_size bytes (squashfs, xz) per slot, disk.img ${total_mib} MiB (sparse: $(du -k "$OUT/disk.img" | cut -f1) KiB used)"
