#!/usr/bin/env bash
# image/run.sh: boots the lab image (image/build.sh) under qemu-system-arm -M virt (Cortex-A15,
# 256 MiB, TCG), with user-mode networking: the guest is 10.0.2.15, the host's 127.0.0.1 is
# 10.0.2.2 from the guest, so the agent reaches an MQTT broker on this machine and uspctl
# drives it through that broker. The console is on stdio (Ctrl-A X quits qemu; `poweroff` in
# the guest's shell stops it cleanly).
#
# Usage: image/run.sh [--broker-port N] [--broker HOST:PORT] [--wifi] [--disk FILE]
#                     [--dir DIR] [--serial FILE] [--append ARGS] [--no-reboot]
#   (or scripts/image.sh run ...)
#   --broker-port N    the broker on the host's 127.0.0.1:N (usp.broker=10.0.2.2:N)
#   --broker HOST:PORT any broker the guest reaches (usp.broker=HOST:PORT)
#   --wifi             simulated radios, hostapd and a station (usp.wifi=1)
#   --disk FILE        the firmware disk (default DIR/disk.img; it is written: the data
#                      partition keeps the agent's database, firmware updates write a slot)
#   --dir DIR          the built image (default target/image/out)
#   --serial FILE      the console to FILE instead of stdio (no input; for tests)
#   --append ARGS      more kernel command line (usp.KEY=VALUE settings, see image/build.sh)
#   --no-reboot        exit qemu when the guest reboots
# Without --broker-port/--broker the guest uses /data/uspagent/image.conf, else 10.0.2.2:1883.
# Installs qemu-system-arm (Debian's qemu-system-arm package, no recommends) when missing.
# Execs qemu (the PID of this script is qemu's).
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=target/image/out
DISK="" SERIAL="" APPEND="" NOREBOOT=()
while [ $# -gt 0 ]; do
    case "$1" in
        --broker-port) APPEND+=" usp.broker=10.0.2.2:$2"; shift ;;
        --broker) APPEND+=" usp.broker=$2"; shift ;;
        --wifi) APPEND+=" usp.wifi=1" ;;
        --disk) DISK="$2"; shift ;;
        --dir) DIR="$2"; shift ;;
        --serial) SERIAL="$2"; shift ;;
        --append) APPEND+=" $2"; shift ;;
        --no-reboot) NOREBOOT=(-no-reboot) ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "image/run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
DISK="${DISK:-$DIR/disk.img}"
for f in "$DIR/vmlinuz" "$DIR/initrd.gz" "$DISK"; do
    [ -f "$f" ] || { echo "image/run.sh: no $f (build it: scripts/image.sh build)" >&2; exit 1; }
done
if ! command -v qemu-system-arm >/dev/null 2>&1; then
    echo "image/run.sh: installing qemu-system-arm" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-system-arm >/dev/null
fi

if [ -n "$SERIAL" ]; then
    CONSOLE=(-display none -monitor none -serial "file:$SERIAL")
else
    CONSOLE=(-nographic -serial mon:stdio)
fi
exec qemu-system-arm -M virt -cpu cortex-a15 -m 256 -smp 1 \
    -kernel "$DIR/vmlinuz" -initrd "$DIR/initrd.gz" \
    -append "$(cat "$DIR/cmdline")$APPEND" \
    -drive "if=none,id=d0,file=$DISK,format=raw" -device virtio-blk-device,drive=d0 \
    -netdev user,id=n0 -device virtio-net-device,netdev=n0 \
    "${CONSOLE[@]}" ${NOREBOOT[@]+"${NOREBOOT[@]}"}
