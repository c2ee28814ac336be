#!/usr/bin/env bash
# The OpenWrt package's test, with OpenWrt's real userland built on this machine (uci, opkg-cl;
# ../shared/openwrt/build-userland.sh) and busybox's sh (OpenWrt's /bin/sh) for the package's
# scripts: builds an .ipk around the host-built uspagent (openwrt/build-ipk.sh), installs it
# with opkg into a temporary root, checks its files, writes a UCI configuration with uci,
# turns it into the agent's reset file and command line with the init script (under a small
# procd stand-in: the test plays procd's part, starting and signalling the agent), starts the
# real agent against a private mosquitto on 127.0.0.1 and reads the configured rows back
# through the agent's local CLI, applies a UCI change live (SIGHUP, same process) and a
# structural one (rebuild), starts from an obuspa reset file given directly, runs the
# firewall uci-defaults, upgrades the package (the changed conffile is kept) and removes it.
#
# Prints `openwrt-pkg: N passed, N failed, N skipped` (scripts/test.sh adds it to the total).
# Skips, with the reason, when the OpenWrt sources (USP_OPENWRT_SRC, default
# ../shared/openwrt beside the repository), busybox or mosquitto are missing.
# Environment: USP_OPENWRT_SRC, USP_OPENWRT_PREFIX (default /tmp/openwrt-userland),
# USPAGENT_HOST_BIN (default target/debug/uspagent, built when missing), OPENWRT_TEST_KEEP=1
# (keep the temporary folder, for debugging).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"

TOTAL=16
passed=0 failed=0 skipped=0
summary() {
    echo "openwrt-pkg: $passed passed, $failed failed, $skipped skipped"
}
skip() {
    skipped=$((skipped + 1))
    echo "openwrt-pkg: skip $1"
}
skip_all() {
    echo "openwrt-pkg: SKIPPED: $*"
    skipped=$TOTAL
    summary
    exit 0
}
ok() {
    passed=$((passed + 1))
    echo "openwrt-pkg: ok   $1"
}
bad() {
    failed=$((failed + 1))
    echo "openwrt-pkg: FAIL $1: $2"
}
# check NAME FUNCTION: one test case, in a subshell with errexit in force (not in a condition,
# where bash would ignore it); the case's own negative checks use `none`, never `!`.
check() {
    local name="$1" rc
    shift
    set +e
    (
        set -ex
        "$@"
    ) 3>&1 >"$tmp/case.out" 2>&1
    rc=$?
    set -e
    if [ "$rc" -eq 0 ]; then ok "$name"; else
        bad "$name" "$(tail -n 20 "$tmp/case.out")"
        cp "$tmp/case.out" "$tmp/failed-$failed.out"
    fi
}
# none COMMAND...: succeeds when COMMAND fails.
none() {
    if "$@"; then
        echo "unexpectedly true: $*"
        return 1
    fi
}

src="${USP_OPENWRT_SRC:-$repo/../shared/openwrt}"
prefix="${USP_OPENWRT_PREFIX:-/tmp/openwrt-userland}"
if [ ! -x "$prefix/bin/opkg-cl" ] || [ ! -x "$prefix/bin/uci" ]; then
    [ -f "$src/build-userland.sh" ] ||
        skip_all "no OpenWrt userland in $prefix and no sources at $src (set USP_OPENWRT_SRC)"
    bash "$src/build-userland.sh" "$prefix" >/dev/null
fi
BUSYBOX="$(command -v busybox || true)"
[ -n "$BUSYBOX" ] || skip_all "busybox is not installed (apt-get install busybox): OpenWrt's sh"
MOSQUITTO="$(command -v mosquitto || echo /usr/sbin/mosquitto)"
[ -x "$MOSQUITTO" ] || skip_all "mosquitto is not installed (apt-get install mosquitto)"
export LD_LIBRARY_PATH="$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PATH="$prefix/bin:$PATH"

host_bin="${USPAGENT_HOST_BIN:-$repo/target/debug/uspagent}"
if [ ! -x "$host_bin" ]; then
    cargo build -p uspagent --locked -q
fi

tmp="$(mktemp -d)"
# The processes this test started (one PID a line), stopped at the end whatever happens.
track() {
    echo "$1" >>"$tmp/pids"
}
cleanup() {
    local p
    for p in $(cat "$tmp/pids" "$tmp/h/pid" 2>/dev/null || true); do
        kill "$p" 2>/dev/null || true
    done
    if [ -n "${OPENWRT_TEST_KEEP:-}" ]; then echo "openwrt-pkg: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

# A smaller copy of the binary to package (the debug build is large).
bin="$tmp/uspagent"
strip -o "$bin" "$host_bin" 2>/dev/null || cp "$host_bin" "$bin"

# --- the package ---------------------------------------------------------------------------
ipk1="$(bash openwrt/build-ipk.sh -o "$tmp/out" --binary "$bin" --arch x86_64)"
ipk_format() {
    local d="$tmp/fmt" names
    mkdir -p "$d"
    gzip -t "$ipk1"
    names="$(tar tzf "$ipk1" | tr '\n' ' ')"
    [ "$names" = "./debian-binary ./data.tar.gz ./control.tar.gz " ] || {
        echo "outer members: $names"
        return 1
    }
    tar xzf "$ipk1" -C "$d"
    [ "$(cat "$d/debian-binary")" = 2.0 ]
    tar xzf "$d/control.tar.gz" -C "$d"
    for f in Package Version Depends Source License Section Architecture Installed-Size \
        Description; do
        grep -q "^$f: " "$d/control" || { echo "no $f in control"; return 1; }
    done
    grep -qx "Version: 0.1.0-1" "$d/control"
    grep -qx "Architecture: x86_64" "$d/control"
    [ "$(sed -n 's/^Installed-Size: //p' "$d/control")" = "$(gzip -dc "$d/data.tar.gz" | wc -c)" ]
    [ "$(cat "$d/conffiles")" = /etc/config/uspagent ]
    [ -x "$d/postinst" ]
    [ -x "$d/prerm" ]
    [ "$(tar tzvf "$d/data.tar.gz" ./usr/sbin/uspagent | awk '{print $1, $2}')" = "-rwxr-xr-x 0/0" ]
    # Reproducible: the same input gives the same bytes.
    bash openwrt/build-ipk.sh -o "$tmp/again" --binary "$bin" --arch x86_64 >/dev/null
    cmp "$ipk1" "$tmp/again/$(basename "$ipk1")"
}
check "ipk format (outer tar.gz, debian-binary, control fields, conffiles, reproducible)" ipk_format

# --- install with opkg into a temporary root ----------------------------------------------
root="$tmp/root"
mkdir -p "$root/var/lock" "$root/usr/lib/opkg" "$root/etc/config"
# A router already has libc (every OpenWrt package depends on it).
cat >"$root/usr/lib/opkg/status" <<'EOF'
Package: libc
Version: 1.2.5-r4
Depends: libgcc1
Status: install user installed
Architecture: x86_64
Installed-Time: 1700000000

EOF
cat >"$tmp/opkg.conf" <<EOF
dest root /
arch all 1
arch noarch 1
arch x86_64 10
lists_dir ext $tmp/opkg-lists
EOF
opkg() {
    opkg-cl -f "$tmp/opkg.conf" -o "$root" --force-postinstall "$@"
}
install_pkg() {
    opkg install "$ipk1"
    opkg list-installed | grep -qx "uspagent - 0.1.0-1"
}
check "opkg install (dependency on libc met, postinst run)" install_pkg

installed_files() {
    local f
    for f in usr/sbin/uspagent usr/libexec/uspagent-uci etc/init.d/uspagent \
        etc/uci-defaults/90-uspagent-firewall; do
        [ -x "$root/$f" ] || { echo "$f missing or not executable"; return 1; }
    done
    [ "$(stat -c %a "$root/etc/config/uspagent")" = 600 ]
    [ "$(cat "$root/lib/upgrade/keep.d/uspagent")" = /etc/uspagent/ ]
    grep -qx /etc/config/uspagent "$root/usr/lib/opkg/info/uspagent.conffiles" 2>/dev/null ||
        grep -q /etc/config/uspagent "$root/usr/lib/opkg/status"
    # postinst enabled the service the way rc.common's enable does.
    [ "$(readlink "$root/etc/rc.d/S99uspagent")" = ../init.d/uspagent ]
    [ "$(readlink "$root/etc/rc.d/K01uspagent")" = ../init.d/uspagent ]
    "$root/usr/sbin/uspagent" --version >/dev/null
}
check "installed files, modes, keep.d, rc.d links" installed_files

# --- UCI, with the real uci -----------------------------------------------------------------
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cat >"$tmp/mosquitto.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
persistence false
log_dest stderr
log_type all
connection_messages true
EOF
# As root, mosquitto would switch to user mosquitto, which cannot read this directory.
[ "$(id -u)" != 0 ] || echo "user root" >>"$tmp/mosquitto.conf"
"$MOSQUITTO" -c "$tmp/mosquitto.conf" >"$tmp/mosquitto.log" 2>&1 &
track $!

U() {
    uci -c "$root/etc/config" -t "$tmp/uci-save" "$@"
}
mkdir -p "$tmp/uci-save" "$tmp/h"
(
U batch <<EOF
set uspagent.global.db_file='$root/etc/uspagent/usp.db'
set uspagent.global.cli_socket='$tmp/usp.sock'
set uspagent.global.log_dest='$tmp/agent.log'
set uspagent.global.log_level='4'
set uspagent.global.oui='ABCDEF'
set uspagent.global.serial='TEST0001'
delete uspagent.global.reboot_command
set uspagent.broker.address='127.0.0.1'
set uspagent.broker.port='$port'
set uspagent.agent_mqtt.response_topic='usp/v1/agent/openwrt-test'
set uspagent.controller.topic='usp/v1/controller/one'
add uspagent controller
set uspagent.@controller[-1].endpoint_id='self::second'
set uspagent.@controller[-1].role='none'
set uspagent.@controller[-1].mtp='agent_mqtt'
set uspagent.@controller[-1].topic='usp/v1/controller/two'
set uspagent.@controller[-1].boot_event='0'
add uspagent controller
set uspagent.@controller[-1].enabled='0'
set uspagent.@controller[-1].endpoint_id='self::ws'
set uspagent.@controller[-1].mtp='agent_ws'
set uspagent.@controller[-1].host='192.0.2.1'
set uspagent.@controller[-1].port='8443'
set uspagent.@controller[-1].boot_event='0'
set uspagent.stomp_broker.host='127.0.0.1'
set uspagent.stomp_broker.encryption='0'
set uspagent.agent_stomp=mtp
set uspagent.agent_stomp.enabled='0'
set uspagent.agent_stomp.protocol='STOMP'
set uspagent.agent_stomp.stomp='stomp_broker'
set uspagent.agent_stomp.destination='/queue/agent'
add uspagent controller
set uspagent.@controller[-1].enabled='0'
set uspagent.@controller[-1].endpoint_id='self::stomp'
set uspagent.@controller[-1].role='Device.LocalAgent.ControllerTrust.Role.1'
set uspagent.@controller[-1].mtp='agent_stomp'
set uspagent.@controller[-1].destination='/queue/controller'
set uspagent.@controller[-1].boot_event='0'
commit uspagent
EOF
) >/dev/null

# The procd stand-in: the init script's procd calls are recorded; the test starts the agent
# from the recorded command line, and delivers signals, as procd would.
cat >"$tmp/h/uspagent-uci" <<EOF
#!/bin/sh
exec $BUSYBOX sh $root/usr/libexec/uspagent-uci "\$@"
EOF
chmod +x "$tmp/h/uspagent-uci"
cat >"$tmp/h/procd.sh" <<'EOF'
H="$HARNESS"
procd_open_instance() { : >"$H/cmd"; echo "open_instance $*" >>"$H/log"; }
procd_append_param() { [ "$1" = command ] || return 0; shift; for a in "$@"; do printf '%s\n' "$a" >>"$H/cmd"; done; }
procd_set_param() { echo "set_param $*" >>"$H/log"; }
procd_close_instance() {
	echo close_instance >>"$H/log"
	# As procd: an instance already running with the same command line is left alone.
	if [ -f "$H/pid" ] && kill -0 "$(cat "$H/pid")" 2>/dev/null && cmp -s "$H/cmd" "$H/cmd.running"; then
		return 0
	fi
	cp "$H/cmd" "$H/cmd.running"
	set --
	while IFS= read -r a; do set -- "$@" "$a"; done <"$H/cmd"
	"$@" >>"$H/agent.out" 2>&1 &
	echo $! >"$H/pid"
}
procd_send_signal() { echo "send_signal $*" >>"$H/log"; kill -"$3" "$(cat "$H/pid")"; }
logger() { echo "logger $*" >>"$H/log"; }
procd_add_reload_trigger() { echo "reload_trigger $*" >>"$H/log"; }
stop() {
	echo stop >>"$H/log"
	p="$(cat "$H/pid")"; kill -TERM "$p" 2>/dev/null || return 0
	n=0; while kill -0 "$p" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	rm -f "$H/pid"
}
start() { echo start >>"$H/log"; start_service; }
EOF
# initd FUNCTION: runs a function of the installed init script under the stand-in.
initd() {
    HARNESS="$tmp/h" USPAGENT_BIN="$root/usr/sbin/uspagent" USPAGENT_UCI="$tmp/h/uspagent-uci" \
        USPAGENT_STATE="$root/etc/uspagent" USPAGENT_RUN="$tmp/run" \
        UCI_CONFIG_DIR="$root/etc/config" UCI_SAVE_DIR="$tmp/uci-save" \
        "$BUSYBOX" sh -c ". '$tmp/h/procd.sh'; . '$root/etc/init.d/uspagent'; $1"
}
cli() {
    "$root/usr/sbin/uspagent" -s "$tmp/usp.sock" -c "$@"
}
# value PATH: one parameter of the running agent.
value() {
    cli get "$1" | sed -n "s/^$(printf '%s' "$1" | sed 's/\./\\./g') => //p"
}
# wait_for PATH VALUE: polls the agent (10 s) until PATH has VALUE.
wait_for() {
    for _ in $(seq 100); do
        [ "$(value "$1" 2>/dev/null)" = "$2" ] && return 0
        sleep 0.1
    done
    echo "$1 is '$(value "$1" 2>&1)', not '$2'"
    return 1
}

conversion() {
    local r="$tmp/reset.txt"
    UCI_CONFIG_DIR="$root/etc/config" UCI_SAVE_DIR="$tmp/uci-save" \
        "$BUSYBOX" sh "$root/usr/libexec/uspagent-uci" reset >"$r"
    grep -qx "Device.MQTT.Client.1.BrokerPort \"$port\"" "$r"
    grep -qx 'Device.LocalAgent.Controller.2.EndpointID "self::second"' "$r"
    grep -qx 'Device.LocalAgent.Controller.2.AssignedRole ""' "$r"
    grep -qx 'Device.LocalAgent.Controller.1.AssignedRole "Device.LocalAgent.ControllerTrust.Role.1"' "$r"
    grep -qx 'Device.LocalAgent.Subscription.1.Recipient "Device.LocalAgent.Controller.1"' "$r"
    grep -qx 'Device.LocalAgent.Controller.3.MTP.1.WebSocket.Host "192.0.2.1"' "$r"
    grep -qx 'Device.LocalAgent.Controller.3.MTP.1.WebSocket.Port "8443"' "$r"
    grep -qx 'Device.LocalAgent.MTP.3.STOMP.Reference "Device.STOMP.Connection.1"' "$r"
    grep -qx 'Device.LocalAgent.Controller.4.MTP.1.STOMP.Reference "Device.STOMP.Connection.1"' "$r"
    grep -qx 'Device.LocalAgent.Controller.4.MTP.1.STOMP.Destination "/queue/controller"' "$r"
    none grep -q 'Subscription.2' "$r"
    # An invalid configuration is refused with its reason.
    U set uspagent.controller.mtp=nowhere
    if UCI_CONFIG_DIR="$root/etc/config" UCI_SAVE_DIR="$tmp/uci-save" \
        "$BUSYBOX" sh "$root/usr/libexec/uspagent-uci" reset >/dev/null 2>"$tmp/err"; then
        echo "an unknown mtp reference was accepted"
        return 1
    fi
    U revert uspagent.controller.mtp
    grep -q "'nowhere' is not an 'mtp' section" "$tmp/err"
}
check "UCI -> reset file (real uci; MQTT, STOMP, WebSocket, references, roles, errors)" conversion

start_agent() {
    initd start_service
    initd service_triggers
    grep -qx "reload_trigger uspagent" "$tmp/h/log"
    grep -q "set_param respawn" "$tmp/h/log"
    grep -qx -- "-r" "$tmp/h/cmd"
    grep -qx "$root/etc/uspagent/uci-reset.txt" "$tmp/h/cmd"
    [ "$(stat -c %a "$root/etc/uspagent/uci-reset.txt")" = 600 ]
    [ "$(stat -c %a "$root/etc/uspagent")" = 700 ]
    [ -S "$tmp/usp.sock" ] || sleep 1
    wait_for Device.LocalAgent.EndpointID os::ABCDEF-TEST0001
    wait_for Device.MQTT.Client.1.BrokerPort "$port"
    wait_for Device.LocalAgent.Controller.2.EndpointID self::second
    wait_for Device.LocalAgent.MTP.1.MQTT.ResponseTopicConfigured usp/v1/agent/openwrt-test
    wait_for Device.MQTT.Client.1.Status Connected
    # The STOMP and WebSocket rows were accepted too.
    wait_for Device.LocalAgent.Controller.3.MTP.1.WebSocket.Host 192.0.2.1
    wait_for Device.LocalAgent.Controller.4.MTP.1.STOMP.Destination /queue/controller
    wait_for Device.LocalAgent.MTP.3.STOMP.Destination /queue/agent
}
check "init start: the agent runs from the generated reset file (all MTPs), connected to mosquitto" start_agent

live_reload() {
    local pid
    pid="$(cat "$tmp/h/pid")"
    U set uspagent.controller.topic='usp/v1/controller/renamed'
    U set uspagent.broker.keepalive='30'
    U commit uspagent
    # `start` on the running agent changes nothing (no database rebuilt under it).
    : >"$tmp/h/log"
    initd start_service
    grep -q "run /etc/init.d/uspagent reload" "$tmp/h/log"
    none grep -q "configuration rebuilt" "$tmp/h/log"
    [ "$(cat "$tmp/h/pid")" = "$pid" ]
    [ -f "$root/etc/uspagent/usp.db" ]
    : >"$tmp/h/log"
    initd reload_service
    grep -q "send_signal uspagent main HUP" "$tmp/h/log"
    none grep -q "^stop" "$tmp/h/log"
    [ "$(cat "$tmp/h/pid")" = "$pid" ]
    kill -0 "$pid"
    wait_for Device.LocalAgent.Controller.1.MTP.1.MQTT.Topic usp/v1/controller/renamed
    wait_for Device.MQTT.Client.1.KeepAliveTime 30
    wait_for Device.MQTT.Client.1.Status Connected
    grep -q "SIGHUP" "$tmp/agent.log"
}
check "init reload, values changed: set live through the CLI + SIGHUP, same process (start: untouched)" live_reload

rebuild_reload() {
    local pid
    pid="$(cat "$tmp/h/pid")"
    U batch >/dev/null <<EOF
add uspagent controller
set uspagent.@controller[-1].endpoint_id='self::third'
set uspagent.@controller[-1].mtp='agent_mqtt'
set uspagent.@controller[-1].topic='usp/v1/controller/three'
commit uspagent
EOF
    : >"$tmp/h/log"
    initd reload_service
    grep -qx stop "$tmp/h/log"
    grep -q "logger -t uspagent -p daemon.notice configuration rebuilt" "$tmp/h/log"
    none kill -0 "$pid" 2>/dev/null
    wait_for Device.LocalAgent.Controller.5.EndpointID self::third
    wait_for Device.LocalAgent.Subscription.2.Recipient Device.LocalAgent.Controller.5
    wait_for Device.LocalAgent.Controller.1.MTP.1.MQTT.Topic usp/v1/controller/renamed
    wait_for Device.MQTT.Client.1.Status Connected
}
check "init reload, controller added: stop (SIGTERM), database rebuilt from UCI, start" rebuild_reload

endpoint_id_default() {
    local out
    printf 'get_mac_label() { echo a0:b1:c2:d3:e4:f5; }\n' >"$tmp/h/system.sh"
    U delete uspagent.global.oui
    U delete uspagent.global.serial
    out="$(USPAGENT_SYSTEM_SH="$tmp/h/system.sh" initd uspagent_cmdline | tr '\n' ' ')"
    U revert uspagent
    case "$out" in
    *" --serial A0B1C2D3E4F5 --oui A0B1C2 "*) ;;
    *) echo "command line: $out"; return 1 ;;
    esac
    # A configured OUI, serial or Endpoint ID wins.
    U set uspagent.global.endpoint_id='proto::mine'
    out="$(USPAGENT_SYSTEM_SH="$tmp/h/system.sh" initd uspagent_cmdline | tr '\n' ' ')"
    U revert uspagent
    case "$out" in
    *"--endpoint-id proto::mine "*) ;;
    *) echo "command line: $out"; return 1 ;;
    esac
    none grep -q A0B1C2D3E4F5 <<<"$out"
}
check "EndpointID: os::<OUI>-<serial> from the board's label MAC, unless configured" endpoint_id_default

stop_agent() {
    local pid before
    pid="$(cat "$tmp/h/pid")"
    before="$(wc -l <"$tmp/mosquitto.log")"
    initd stop
    none kill -0 "$pid" 2>/dev/null
    grep -q "stopped" "$tmp/agent.log"
    # On its way out the agent publishes its Disconnect records to the controllers' topics.
    for _ in $(seq 30); do
        tail -n +"$((before + 1))" "$tmp/mosquitto.log" >"$tmp/after-stop.log"
        grep -q "disconnected" "$tmp/after-stop.log" && break
        sleep 0.1
    done
    grep -q "Received PUBLISH from .*'usp/v1/controller/" "$tmp/after-stop.log"
    # Known agent issue (reported): the MQTT link can close before every record and the
    # DISCONNECT packet are out; said here, not failed on.
    if ! grep -q "Received DISCONNECT from" "$tmp/after-stop.log"; then
        echo "openwrt-pkg: note: the agent's MQTT session ended without DISCONNECT" >&3
    fi
}
check "stop: SIGTERM, the agent publishes Disconnect records and exits" stop_agent

changed_while_stopped() {
    U set uspagent.broker.retry_max_interval='120'
    U commit uspagent
    : >"$tmp/h/log"
    initd start_service
    grep -q "configuration rebuilt" "$tmp/h/log"
    wait_for Device.MQTT.Client.1.ConnectRetryMaxInterval 120
    initd stop
}
check "start after a UCI change made while stopped: rebuilt from UCI" changed_while_stopped

obuspa_file() {
    local f="$root/etc/uspagent/factory.txt"
    sed -e "s/^Device.MQTT.Client.1.BrokerPort 1883$/Device.MQTT.Client.1.BrokerPort $port/" \
        agent/examples/reset/mqtt.txt >"$f"
    U set uspagent.global.reset_file="$f"
    U commit uspagent
    rm -f "$root/etc/uspagent/usp.db"
    initd start_service
    grep -qx "$f" "$tmp/h/cmd"
    wait_for Device.LocalAgent.MTP.1.MQTT.ResponseTopicConfigured usp/v1/agent/lab-agent
    wait_for Device.LocalAgent.Controller.1.Alias lab-controller
    wait_for Device.MQTT.Client.1.Status Connected
    initd stop
    U delete uspagent.global.reset_file
    U commit uspagent
}
check "an obuspa reset file named by reset_file is used as it is" obuspa_file

firewall() {
    local c="$root/etc/config"
    printf "config defaults\n\toption input 'REJECT'\n" >"$c/firewall"
    U set uspagent.agent_ws.enabled='1'
    U set uspagent.agent_ws.port='8443'
    U commit uspagent
    UCI_CONFIG_DIR="$c" UCI_SAVE_DIR="$tmp/uci-save" "$BUSYBOX" sh "$root/etc/uci-defaults/90-uspagent-firewall"
    [ "$(U get firewall.uspagent_ws.dest_port)" = 8443 ]
    [ "$(U get firewall.uspagent_ws.src)" = wan ]
    [ "$(U get firewall.uspagent_ws.enabled)" = 1 ]
    # Run again: an existing rule is left alone.
    U set firewall.uspagent_ws.dest_port='9999'
    U commit firewall
    UCI_CONFIG_DIR="$c" UCI_SAVE_DIR="$tmp/uci-save" "$BUSYBOX" sh "$root/etc/uci-defaults/90-uspagent-firewall"
    [ "$(U get firewall.uspagent_ws.dest_port)" = 9999 ]
}
check "uci-defaults: the firewall rule for the WebSocket server" firewall

upgrade() {
    local ipk2
    ipk2="$(bash openwrt/build-ipk.sh -o "$tmp/out2" --binary "$bin" --arch x86_64 --release 2)"
    opkg install "$ipk2"
    opkg list-installed | grep -qx "uspagent - 0.1.0-2"
    # The conffile changed by uci is kept; the database and the rc.d links too.
    [ "$(U get uspagent.broker.port)" = "$port" ]
    [ "$(U get uspagent.@controller[4].endpoint_id)" = self::third ]
    [ -f "$root/etc/uspagent/usp.db" ]
    [ -L "$root/etc/rc.d/S99uspagent" ]
    # What sysupgrade keeps: the files under the keep.d entries (as its find over them).
    (
        cd "$root"
        # shellcheck disable=SC2046 # one path a line, as sysupgrade reads them
        find $(sed -n -e '/^[[:space:]]*$/d' -e '/^#/d' -e 's|^/||p' lib/upgrade/keep.d/*) \
            \( -type f -o -type l \) >"$tmp/kept"
    )
    grep -qx etc/uspagent/usp.db "$tmp/kept"
    grep -qx etc/uspagent/uci-reset.txt "$tmp/kept"
}
check "opkg upgrade to 0.1.0-2: changed conffile, database, rc.d links kept; keep.d covers the database" upgrade

remove() {
    opkg remove uspagent
    [ -z "$(opkg list-installed | grep "^uspagent " || true)" ]
    [ ! -e "$root/usr/sbin/uspagent" ]
    [ ! -e "$root/etc/init.d/uspagent" ]
    [ ! -e "$root/etc/rc.d/S99uspagent" ]
    [ ! -e "$root/etc/rc.d/K01uspagent" ]
    [ ! -e "$root/lib/upgrade/keep.d/uspagent" ]
}
check "opkg remove: files and rc.d links gone" remove

# armv7_agent DIR: the installed armv7 agent, under qemu-user, runs from the reset file made
# from UCI (conversion case) and connects to the private mosquitto.
armv7_agent() {
    local pid code
    qemu-arm-static -cpu cortex-a7 "$1/root/usr/sbin/uspagent" --version
    qemu-arm-static -cpu cortex-a7 "$1/root/usr/sbin/uspagent" -r "$tmp/reset.txt" \
        -f "$1/usp.db" -s "$1/usp.sock" -l "$1/agent.log" --oui ABCDEF --serial ARMV7 &
    pid=$!
    track "$pid"
    code=0
    (
        for _ in $(seq 300); do
            [ "$("$bin" -s "$1/usp.sock" -c get Device.MQTT.Client.1.Status \
                2>/dev/null)" = "Device.MQTT.Client.1.Status => Connected" ] && exit 0
            sleep 0.1
        done
        exit 1
    ) || code=$?
    "$bin" -s "$1/usp.sock" -c get Device.LocalAgent.EndpointID || true
    kill -TERM "$pid"
    wait "$pid" || true
    [ "$code" = 0 ] || { echo "the armv7 agent did not connect:"; cat "$1/agent.log"; }
    return "$code"
}
# router_root DIR ARCH: an empty opkg root of ARCH with libc installed, and DIR.conf.
router_root() {
    mkdir -p "$1/var/lock" "$1/usr/lib/opkg"
    printf 'Package: libc\nVersion: 1.2.5-r4\nStatus: install user installed\nArchitecture: %s\n\n' \
        "$2" >"$1/usr/lib/opkg/status"
    printf 'dest root /\narch all 1\narch noarch 1\narch %s 10\nlists_dir ext %s\n' "$2" "$1.lists" \
        >"$1.conf"
}
# The routers' packages, from the static binaries of cross/build.sh that are present.
cross_ipks() {
    local t a m ipk d
    for t in armv7-unknown-linux-musleabihf:arm_cortex-a7_neon-vfpv4:2800 \
        aarch64-unknown-linux-musl:aarch64_cortex-a53:b700 mips-unknown-linux-musl:mips_24kc:0008 \
        mipsel-unknown-linux-musl:mipsel_24kc:0800; do
        a="${t#*:}" m="${a#*:}" a="${a%%:*}" t="${t%%:*}"
        [ -f "target/cross/$t/uspagent" ] || continue
        ipk="$(bash openwrt/build-ipk.sh -o "$tmp/cross" "${t%%-*}")"
        [ "$ipk" = "$tmp/cross/uspagent_0.1.0-1_$a.ipk" ]
        d="$tmp/cross/$a"
        mkdir -p "$d"
        tar xzf "$ipk" -C "$d"
        tar xzf "$d/control.tar.gz" -C "$d"
        grep -qx "Architecture: $a" "$d/control"
        tar xzf "$d/data.tar.gz" -C "$d" ./usr/sbin/uspagent
        # The ELF machine (e_machine, in the file's byte order): ARM, AArch64, MIPS.
        [ "$(od -An -tx1 -j18 -N2 "$d/usr/sbin/uspagent" | tr -d ' ')" = "$m" ]
        # opkg on a router of that architecture takes it, and refuses it on another.
        router_root "$d/root" "$a"
        opkg-cl -f "$d/root.conf" -o "$d/root" install "$ipk"
        [ -x "$d/root/usr/sbin/uspagent" ]
        router_root "$d/other" mipsel_74kc
        none opkg-cl -f "$d/other.conf" -o "$d/other" install "$ipk"
        if [ "$a" = arm_cortex-a7_neon-vfpv4 ] && command -v qemu-arm-static >/dev/null; then
            armv7_agent "$d"
        fi
        echo "packaged $t as $(basename "$ipk")"
    done
}
have_cross() {
    local t
    for t in armv7-unknown-linux-musleabihf aarch64-unknown-linux-musl mips-unknown-linux-musl \
        mipsel-unknown-linux-musl; do
        [ ! -f "target/cross/$t/uspagent" ] || return 0
    done
    return 1
}
if have_cross; then
    check "the routers' .ipk from target/cross (arch, ELF, opkg per arch; armv7 under qemu connects)" cross_ipks
else
    skip "the routers' .ipk: no target/cross/<target>/uspagent (bash cross/build.sh <target>)"
fi

mqtt_connect_seen() {
    grep -q "New client connected" "$tmp/mosquitto.log"
}
check "mosquitto saw the agent connect" mqtt_connect_seen

summary
[ "$failed" -eq 0 ]
