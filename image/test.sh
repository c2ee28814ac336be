#!/usr/bin/env bash
# image/test.sh: the lab image end to end. Boots the image (image/build.sh; built first when
# missing or older than its sources) under qemu-system-arm -M virt (TCG) on a copy of its disk,
# with the agent pointed at a private Mosquitto on a free 127.0.0.1 port (10.0.2.2 from the
# guest); the host's uspctl (target/debug/uspctl, built when missing) is the controller:
#   boot_connect     the agent's MQTTConnect Record reaches uspctl (within 120 s of qemu's start)
#   boot_event       its Device.Boot! notification arrives (same bound)
#   get_deviceinfo   uspctl Gets Device.DeviceInfo. from it (SoftwareVersion, SerialNumber)
#   wifi_station     the image's Wi-Fi (booted with usp.wifi=1): hostapd's AP on wlan0 and a
#                    wpa_supplicant station on wlan1 associate (the console says so)
#   wifi_get         uspctl Gets Device.WiFi. from the agent (--hostapd-dir /run/hostapd):
#                    SSID uspagent-lab, channel 1, and one AssociatedDevice whose MACAddress is
#                    the wpa_supplicant station's (wlan1's address, from the console); that
#                    station is also an EndPoint (wpa_supplicant's control socket) whose
#                    profile names uspagent-lab
#   wifi_scan        Device.WiFi.NeighboringWiFiDiagnostic() finds the second simulated AP
#                    (uspagent-neighbor on wlan2, channel 6)
#   ubus_uci         OpenWrt's ubusd runs in the guest: `ubus list` and `uci show system`
#                    (init's self-check line on the console); skipped, with the reason, when
#                    the image was built without them (no OpenWrt sources)
#   reboot_persists  uspctl Sets ProvisioningCode and operates Device.Reboot(): the VM
#                    reboots (init stops the agent, unmounts /data), the agent comes back with
#                    Boot! Cause=RemoteReboot, and the value was kept on the data partition
#   firmware_ab      a firmware update as Oktopus does it: Get FirmwareImage.*.Status, then
#                    Download(URL, AutoActivate=true, FileSize=0) of a new root filesystem
#                    (image/build.sh --rootfs-only with another version, served by python's
#                    http.server on a free 127.0.0.1 port, 10.0.2.2 from the guest) into the
#                    inactive slot; the VM reboots into it on trial, the agent confirms it
#                    and sends Boot! FirmwareUpdated=true; SoftwareVersion is the new version
#                    and ActiveFirmwareImage the other bank
#   firmware_rollback  a firmware whose agent exits at once is downloaded the same way: its
#                    trial boot is not confirmed, init reboots it after usp.trial_limit (60 s
#                    here), the boot stage rolls back; the old slot's agent sends Boot!, its
#                    version runs and FirmwareImage.*.BootFailureLog says what happened
# then kills the qemu it started (by PID). Prints one line per check and a closing
#   image-test: P passed, F failed, S skipped
# which scripts/test.sh counts. Skips (counted, with the reason) only when qemu-system-arm
# cannot be installed. Installs: qemu-system-arm and mosquitto (Debian, no recommends) when
# missing, and what image/build.sh installs.
#
# Usage: image/test.sh [--keep]   (--keep: keep the scratch directory: console, logs, disk)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

KEEP=0
[ "${1:-}" = --keep ] && KEEP=1
checks=(boot_connect boot_event get_deviceinfo wifi_station wifi_get wifi_scan ubus_uci reboot_persists
    firmware_ab firmware_rollback)
summary() { echo "image-test: $1 passed, $2 failed, $3 skipped${4:+ ($4)}"; }

if ! command -v qemu-system-arm >/dev/null 2>&1; then
    echo "image-test: installing qemu-system-arm"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends qemu-system-arm >/dev/null; } ||
        ! command -v qemu-system-arm >/dev/null 2>&1; then
        echo "image-test: SKIPPED: qemu-system-arm is not installable here, the ARM image cannot be emulated"
        summary 0 0 "${#checks[@]}" "no qemu-system-arm"
        exit 0
    fi
fi
if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mosquitto >/dev/null
fi
MOSQUITTO="$(command -v mosquitto || echo /usr/sbin/mosquitto)"

OUT="$ROOT/target/image/out"
AGENT="$ROOT/target/cross/armv7-unknown-linux-musleabihf/uspagent"
if [ ! -f "$OUT/disk.img" ] || [ -n "$(find image "$AGENT" -newer "$OUT/disk.img" 2>/dev/null | head -1)" ]; then
    echo "image-test: building the image (image/build.sh)"
    if ! bash image/build.sh >target/image-build.log 2>&1; then
        tail -20 target/image-build.log
        summary 0 "${#checks[@]}" 0 "image/build.sh failed: target/image-build.log"
        exit 1
    fi
    grep '^image: ' target/image-build.log | sed 's/^image: /image-test: /'
fi
# The firmware update: the same root filesystem with another version (kept beside the image).
UPDATE="$OUT/update.squashfs"
if [ ! -f "$UPDATE" ] || [ "$OUT/disk.img" -nt "$UPDATE" ]; then
    echo "image-test: building the update's root filesystem (image/build.sh --rootfs-only)"
    if ! bash image/build.sh --rootfs-only "$UPDATE.tmp" --version "$(cat "$OUT/version")-update" \
        >target/image-build-update.log 2>&1; then
        tail -20 target/image-build-update.log
        summary 0 "${#checks[@]}" 0 "image/build.sh --rootfs-only failed: target/image-build-update.log"
        exit 1
    fi
    mv "$UPDATE.tmp" "$UPDATE"
fi
USPCTL="$ROOT/target/debug/uspctl"
if [ ! -x "$USPCTL" ]; then
    echo "image-test: building uspctl (cargo build -p uspctl)"
    cargo build -q -p uspctl --locked
fi

WORK="$(mktemp -d /tmp/image-test.XXXXXX)"
chmod 755 "$WORK" # mosquitto drops root and writes its log in here
PIDS=()
cleanup() {
    local p
    for p in ${PIDS[@]+"${PIDS[@]}"}; do kill "$p" 2>/dev/null || true; done
    for p in ${PIDS[@]+"${PIDS[@]}"}; do wait "$p" 2>/dev/null || true; done
    if [ "$KEEP" = 1 ]; then echo "image-test: scratch directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# Waits (at most $2 s) until file $1 contains $3; status 1 on timeout.
wait_for() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        grep -q -- "$3" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cat >"$WORK/mosquitto.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
persistence false
log_dest file $WORK/mosquitto.log
log_type error
log_type warning
log_type notice
log_type information
log_type subscribe
EOF
touch "$WORK/mosquitto.log" && chmod 666 "$WORK/mosquitto.log"
"$MOSQUITTO" -c "$WORK/mosquitto.conf" >"$WORK/mosquitto.out" 2>&1 &
PIDS+=($!)
wait_for "$WORK/mosquitto.log" 10 "Opening ipv4 listen socket on port $port" ||
    { cat "$WORK/mosquitto.out" "$WORK/mosquitto.log"; summary 0 "${#checks[@]}" 0 "mosquitto did not start"; exit 1; }

CTL=(--mqtt "127.0.0.1:$port" --eid self::usp-controller --topic usp/v1/controller)
# The controller listens before the VM boots: the MQTTConnect Record and Boot! are sent once.
"$USPCTL" "${CTL[@]}" --trace watch --count 1 --for 150 >"$WORK/watch.out" 2>"$WORK/watch.err" &
watcher=$!
PIDS+=("$watcher")
wait_for "$WORK/mosquitto.log" 15 "usp/v1/controller" ||
    { cat "$WORK/watch.err"; summary 0 "${#checks[@]}" 0 "uspctl did not subscribe"; exit 1; }

cp --sparse=always "$OUT/disk.img" "$WORK/disk.img"
t0="$(date +%s.%N)"
bash image/run.sh --disk "$WORK/disk.img" --serial "$WORK/console.log" --broker-port "$port" \
    --wifi --append usp.trial_limit=60 </dev/null >"$WORK/qemu.out" 2>&1 &
qemu=$!
PIDS+=("$qemu")

passed=0 failed=0 skipped=0
result() { # NAME ok|FAILED|SKIPPED DETAIL
    case "$2" in
        ok) passed=$((passed + 1)) ;;
        SKIPPED) skipped=$((skipped + 1)) ;;
        *) failed=$((failed + 1)) ;;
    esac
    echo "image-test: $1 $2${3:+ ($3)}"
}
show_logs() {
    echo "    --- console:"; tail -15 "$WORK/console.log" 2>/dev/null | sed 's/^/    /'
    echo "    --- qemu:"; tail -5 "$WORK/qemu.out" | sed 's/^/    /'
    echo "    --- uspctl watch (stderr):"; tail -10 "$WORK/watch.err" | sed 's/^/    /'
}

# boot_connect: the MQTTConnect Record (uspctl --trace prints it), then "agent ... is up".
if wait_for "$WORK/watch.err" 120 "is up"; then
    if grep -q MQTTConnect "$WORK/watch.err"; then
        result boot_connect ok "agent up $(elapsed "$t0") s after qemu started"
    else
        result boot_connect FAILED "the agent is up but no MQTTConnect Record was traced"; show_logs
    fi
else
    result boot_connect FAILED "no agent within 120 s"; show_logs
fi
agent="$(sed -n 's/^# agent \(.*\) is up$/\1/p' "$WORK/watch.err" | head -1)"

# boot_event: Device.Boot! to the subscription of the image's reset file.
if wait_for "$WORK/watch.out" 60 "Device.Boot!"; then
    result boot_event ok "$(elapsed "$t0") s after qemu started: $(grep -o 'Cause=[A-Za-z]*' "$WORK/watch.out" | head -1)"
else
    result boot_event FAILED "no Device.Boot! notification"; show_logs
fi
wait "$watcher" 2>/dev/null || true

# get_deviceinfo: a Get from a new uspctl, addressed to the agent by its Endpoint ID and topic.
topic="$(grep -o 'usp/v1/agent/image-[0-9a-f]*' "$WORK/watch.err" | head -1)"
if [ -n "$agent" ] && [ -n "$topic" ] &&
    out="$("$USPCTL" "${CTL[@]}" --agent "$agent" --agent-topic "$topic" --timeout 30 \
        get Device.DeviceInfo. 2>&1)"; then
    case "$out" in
        *Device.DeviceInfo.SoftwareVersion*Device.DeviceInfo.*) result get_deviceinfo ok \
            "$(echo "$out" | grep -c '^Device\.DeviceInfo\.') parameters, $(echo "$out" | grep 'SoftwareVersion ' | tr -s ' ')" ;;
        *) result get_deviceinfo FAILED "unexpected answer"; echo "$out" | head -20 | sed 's/^/    /' ;;
    esac
else
    result get_deviceinfo FAILED "agent '${agent}' topic '${topic}': ${out:-}"; show_logs
fi

# wifi_station: wifi.sh's result line on the console.
if wait_for "$WORK/console.log" 120 "wifi: "; then
    line="$(grep -o 'wifi: .*' "$WORK/console.log" | tr -d '\r' | tail -1)"
    case "$line" in
        *" associated to uspagent-lab"*) result wifi_station ok "$(elapsed "$t0") s after qemu started: ${line#wifi: }" ;;
        *) result wifi_station FAILED "$line"; show_logs ;;
    esac
else
    result wifi_station FAILED "no result from wifi.sh within 120 s"; show_logs
fi

ctl() { "$USPCTL" "${CTL[@]}" --agent "$agent" --agent-topic "$topic" --timeout 30 "$@" 2>&1; }
# Starts a watcher of notifications into $WORK/$1.out for $2 s (at most ${3:-1} of them) once
# it has subscribed (sets $watcher).
start_watch() {
    local subs i
    subs="$(grep -c ' usp/v1/controller' "$WORK/mosquitto.log" || true)"
    "$USPCTL" "${CTL[@]}" watch --count "${3:-1}" --for "$2" >"$WORK/$1.out" 2>"$WORK/$1.err" &
    watcher=$!
    PIDS+=("$watcher")
    for ((i = 0; i < 150; i++)); do
        [ "$(grep -c ' usp/v1/controller' "$WORK/mosquitto.log" || true)" -gt "$subs" ] && break
        sleep 0.1
    done
}
. image/test-wifi.sh

# ubus_uci: init's self-check of OpenWrt's ubus and uci in the guest.
if grep -q '^openwrt=0' "$OUT/features" 2>/dev/null; then
    result ubus_uci SKIPPED "the image has no ubus/uci: no OpenWrt sources (USP_OPENWRT_SRC)"
elif wait_for "$WORK/console.log" 60 "openwrt: "; then
    line="$(grep -o 'openwrt: .*' "$WORK/console.log" | tr -d '\r' | tail -1)"
    case "$line" in
        *"ubus list ok"*"uci show system ok (system."*) result ubus_uci ok "${line#openwrt: }" ;;
        *) result ubus_uci FAILED "$line" ;;
    esac
else
    result ubus_uci FAILED "no ubus/uci line from init within 60 s"; show_logs
fi

# reboot_persists: a value set before Device.Reboot() is there after it.
value="image-test-$port"
if [ -z "$agent" ] || [ -z "$topic" ]; then
    result reboot_persists FAILED "no agent"
elif ! out="$(ctl set "Device.DeviceInfo.ProvisioningCode=$value")"; then
    result reboot_persists FAILED "set: $out"
else
    start_watch watch2 150
    t1="$(date +%s.%N)"
    if ! out="$(ctl operate 'Device.Reboot()')"; then
        result reboot_persists FAILED "operate Device.Reboot(): $out"
    elif ! wait_for "$WORK/watch2.out" 120 "Device.Boot!"; then
        result reboot_persists FAILED "no Boot! within 120 s of Device.Reboot()"; show_logs
    elif ! grep -q "Cause=RemoteReboot" "$WORK/watch2.out"; then
        result reboot_persists FAILED "Boot! $(grep -o 'Cause=[A-Za-z]*' "$WORK/watch2.out")"
    elif ! out="$(ctl get Device.DeviceInfo.ProvisioningCode)" || [ "${out#*"$value"}" = "$out" ]; then
        result reboot_persists FAILED "after the reboot: $out"
    else
        result reboot_persists ok "Boot! Cause=RemoteReboot $(elapsed "$t1") s after Reboot(), ProvisioningCode kept"
    fi
    wait "$watcher" 2>/dev/null || true
fi

. image/test-firmware.sh
. image/test-rollback.sh

kill "$qemu" 2>/dev/null || true
wait "$qemu" 2>/dev/null || true
echo "image-test: VM stopped after $(elapsed "$t0") s"
summary "$passed" "$failed" "$skipped"
[ "$failed" = 0 ]
