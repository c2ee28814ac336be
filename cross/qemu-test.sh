#!/usr/bin/env bash
# Runs the cross-built binaries (target/cross/<target>/) under qemu-user, on the CPU models of
# the real routers, and checks what they print. Today a smoke test: uspctl --help, uspctl decode
# of a known Record, the agent library probe (start-up, SQLite, core) and uspagent --help once
# the daemon exists. Installs qemu-user-static when missing. Never builds unless --build is given.
#
# Adding a check (e.g. the end-to-end run: agent under qemu, mosquitto on the host, uspctl
# driving it): write a function check_<name> taking the target, using run_emu / bin_of /
# spawn / wait_port / the scratch dir $WORK, returning non-zero on failure (print why), and
# add its name to CHECKS below. Processes started with `spawn` are stopped by PID at exit.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=cross/env.sh
. "$here/env.sh"

CHECKS=(uspctl_help uspctl_decode agent_probe uspagent_help agent_mqtt_tls e2e_uspctl)

usage() {
    echo "usage: cross/qemu-test.sh [--build] [--dir DIR] <target>|all [<target>...]"
    echo "  --build    build first (cross/build.sh <targets> --example uspagent:size_probe)"
    echo "  --dir DIR  where the binaries are (default: target/cross; DIR/<target>/<binary>)"
    echo "targets: ${ALL_TARGETS[*]}"
    echo "  (or 'host': DIR/host/<binary> run natively, to develop checks quickly)"
}

targets=() build=0 dir="$CROSS_OUT_DIR"
while [ $# -gt 0 ]; do
    case "$1" in
        --build) build=1 ;;
        --dir) dir="$2"; shift ;;
        -h | --help) usage; exit 0 ;;
        all) targets+=("${ALL_TARGETS[@]}") ;;
        *)
            qemu_cmd "$1" >/dev/null || { echo "qemu-test: unknown target $1" >&2; usage >&2; exit 2; }
            targets+=("$1") ;;
    esac
    shift
done
[ ${#targets[@]} -gt 0 ] || { usage >&2; exit 2; }

if [ "$build" = 1 ]; then
    bash "$here/build.sh" --example uspagent:size_probe "${targets[@]}"
fi
# qemu-user for the binaries; mosquitto and openssl for the broker the emulated agent talks to.
missing=()
command -v qemu-arm-static >/dev/null 2>&1 || missing+=(qemu-user-static)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
    echo "qemu-test: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
MOSQUITTO="$(command -v mosquitto || echo /usr/sbin/mosquitto)"

# ---- helpers for checks ----------------------------------------------------------------------
WORK="$(mktemp -d)"
chmod 755 "$WORK" # the broker drops root and must read its certificates in here
PIDS=()
cleanup() {
    local p
    for p in ${PIDS[@]+"${PIDS[@]}"}; do kill "$p" 2>/dev/null || true; done
    for p in ${PIDS[@]+"${PIDS[@]}"}; do wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# The path of binary $2 built for target $1 (may not exist).
bin_of() { echo "$dir/$1/$2"; }

# Runs binary $2 of target $1 under qemu with the remaining arguments, at most 60 s.
run_emu() {
    local t="$1" b="$2"
    shift 2
    # shellcheck disable=SC2046
    timeout 60 $(qemu_cmd "$t") "$(bin_of "$t" "$b")" "$@"
}

# Starts a command in the background (output to $WORK/<name>.log) and remembers its PID, which
# cleanup stops at exit. Sets SPAWNED to the PID.
spawn() {
    local name="$1"
    shift
    "$@" >"$WORK/$name.log" 2>&1 &
    SPAWNED=$!
    PIDS+=("$SPAWNED")
}

# Waits until something listens on 127.0.0.1:$1, at most $2 seconds (default 10).
wait_port() {
    local i
    for ((i = 0; i < ${2:-10} * 10; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on 127.0.0.1:$1 after ${2:-10} s"
    return 1
}

# Whether output $1 contains every one of the remaining strings (prints the first missing one).
expect_all() {
    local out="$1" s
    shift
    for s in "$@"; do
        case "$out" in
            *"$s"*) ;;
            *) echo "missing \"$s\" in:"; echo "$out" | head -20; return 1 ;;
        esac
    done
}

# Return value of a check that cannot run yet (binary not built): counted as skipped.
SKIP=77

# ---- checks: each takes the target -----------------------------------------------------------
check_uspctl_help() {
    local out
    out="$(run_emu "$1" uspctl --help)" || return
    expect_all "$out" "uspctl" "decode"
}

# A Get of Device.DeviceInfo. (max_depth 2, msg_id smoke-1) from self::ctl to os::agent, encoded
# by hand (protobuf wire format), as hex.
GET_RECORD_HEX=0a03312e3412096f733a3a6167656e741a0973656c663a3a63746c3a2e122c0a0b0a07736d6f6b652d311001121d0a1b0a190a124465766963652e446576696365496e666f2e1502000000
check_uspctl_decode() {
    local out
    out="$(run_emu "$1" uspctl decode "$GET_RECORD_HEX")" || return
    expect_all "$out" 'Record version "1.4" from "self::ctl" to "os::agent"' 'msg_id: "smoke-1"' \
        'msg_type: Get' '"Device.DeviceInfo."' 'max_depth: 2'
}

# The agent library on the target: first start from the reset file, second from the database.
check_agent_probe() {
    [ -x "$(bin_of "$1" size_probe)" ] || return $SKIP
    local d="$WORK/probe-$1" out
    mkdir -p "$d"
    out="$(run_emu "$1" size_probe "$d")" || return
    expect_all "$out" "from_defaults=true" "Device.DeviceInfo.SerialNumber=LAB0001" \
        "Device.LocalAgent.Controller.1.EndpointID=self::size-probe" "size_probe: ok" || return
    out="$(run_emu "$1" size_probe "$d")" || return
    expect_all "$out" "from_defaults=false" "size_probe: ok"
}

check_uspagent_help() {
    [ -x "$(bin_of "$1" uspagent)" ] || return $SKIP
    local out
    out="$(run_emu "$1" uspagent --help)" || return
    expect_all "$out" "uspagent"
}

# A free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A test CA and a certificate for 127.0.0.1 signed by it, in $1 (ca.pem, srv.pem, srv.key),
# readable by the broker's user (mosquitto drops root).
make_certs() {
    local d="$1"
    mkdir -p "$d" && chmod 755 "$d"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj /CN=usp-test-ca -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null &&
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
            -keyout "$d/srv.key" -out "$d/srv.csr" 2>/dev/null &&
        printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$d/ext" &&
        openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
            -days 2 -extfile "$d/ext" -out "$d/srv.pem" 2>/dev/null &&
        chmod 644 "$d"/*.pem "$d"/*.key
}

# A mosquitto with TLS (test CA in $1) on a free port, named $2: sets BROKER_PORT.
start_tls_broker() {
    local d="$1" name="$2"
    make_certs "$d" || { echo "openssl could not make the test certificates"; return 1; }
    BROKER_PORT="$(free_port)"
    printf 'listener %s 127.0.0.1\nallow_anonymous true\ncafile %s\ncertfile %s\nkeyfile %s\n' \
        "$BROKER_PORT" "$d/ca.pem" "$d/srv.pem" "$d/srv.key" >"$d/mosquitto.conf"
    spawn "$name" "$MOSQUITTO" -c "$d/mosquitto.conf"
    wait_port "$BROKER_PORT" 10 || { cat "$WORK/$name.log"; return 1; }
}

# Reset-file lines for an agent $1 on MQTT 5 + TLS to 127.0.0.1:$2 with its own topic $3.
agent_mqtt_reset() {
    cat <<RESET
Device.LocalAgent.EndpointID "$1"
Device.MQTT.Client.1.Enable true
Device.MQTT.Client.1.BrokerAddress "127.0.0.1"
Device.MQTT.Client.1.BrokerPort $2
Device.MQTT.Client.1.ProtocolVersion "5.0"
Device.MQTT.Client.1.TransportProtocol "TLS"
Device.LocalAgent.MTP.1.Enable true
Device.LocalAgent.MTP.1.Protocol "MQTT"
Device.LocalAgent.MTP.1.MQTT.Reference "Device.MQTT.Client.1"
Device.LocalAgent.MTP.1.MQTT.ResponseTopicConfigured "$3"
RESET
}

# The daemon under qemu connects over MQTT 5 + TLS (rustls/ring on the target CPU) to a
# mosquitto on the host, and its local CLI reports the MTP Up and the client Connected.
check_agent_mqtt_tls() {
    local t="$1"
    [ -x "$(bin_of "$t" uspagent)" ] || return $SKIP
    local d="$WORK/mqtt-$t" port out i
    start_tls_broker "$d" "mosquitto-$t" || return 1
    port="$BROKER_PORT"
    agent_mqtt_reset "os::00D09E-QEMU$port" "$port" "usp/v1/agent/qemu-$port" >"$d/reset.txt"
    # shellcheck disable=SC2046
    spawn "agent-$t" $(qemu_cmd "$t") "$(bin_of "$t" uspagent)" -r "$d/reset.txt" \
        -f "$d/usp.db" -s "$d/cli" -t "$d/ca.pem" -v 4
    for ((i = 0; i < 60; i++)); do
        out="$(run_emu "$t" uspagent -s "$d/cli" -c get Device.MQTT.Client.1.Status 2>&1)" || true
        case "$out" in *Connected*) break ;; esac
        sleep 0.5
    done
    out+=$'\n'"$(run_emu "$t" uspagent -s "$d/cli" -c get Device.LocalAgent.MTP.1.Status 2>&1)"
    run_emu "$t" uspagent -s "$d/cli" -c stop >/dev/null 2>&1 || true
    expect_all "$out" "Device.MQTT.Client.1.Status => Connected" \
        "Device.LocalAgent.MTP.1.Status => Up" || { tail -20 "$WORK/agent-$t.log"; return 1; }
}

# The end-to-end check of issue 7: the daemon under qemu (MQTT 5 + TLS to a mosquitto on the
# host) driven by the target's uspctl, also under qemu, through the same broker: Get, Set (read
# back), Add and Delete of a Subscription, and a ValueChange Notify (uspctl subscribe waits for
# it while the agent's local CLI changes the value).
check_e2e_uspctl() {
    local t="$1"
    [ -x "$(bin_of "$t" uspagent)" ] || return $SKIP
    local d="$WORK/e2e-$t" port out i sub agent ctl topic atopic
    start_tls_broker "$d" "e2e-mosquitto-$t" || return 1
    port="$BROKER_PORT"
    agent="os::00D09E-E2E$port" ctl="self::qemu-ctl-$port"
    topic="usp/v1/controller/qemu-$port" atopic="usp/v1/agent/qemu-$port"
    {
        agent_mqtt_reset "$agent" "$port" "$atopic"
        cat <<RESET
Device.LocalAgent.Controller.1.Enable true
Device.LocalAgent.Controller.1.EndpointID "$ctl"
Device.LocalAgent.Controller.1.AssignedRole "Device.LocalAgent.ControllerTrust.Role.1"
Device.LocalAgent.Controller.1.MTP.1.Enable true
Device.LocalAgent.Controller.1.MTP.1.Protocol "MQTT"
Device.LocalAgent.Controller.1.MTP.1.MQTT.Reference "Device.MQTT.Client.1"
Device.LocalAgent.Controller.1.MTP.1.MQTT.Topic "$topic"
RESET
    } >"$d/reset.txt"
    # shellcheck disable=SC2046
    spawn "e2e-agent-$t" $(qemu_cmd "$t") "$(bin_of "$t" uspagent)" -r "$d/reset.txt" \
        -f "$d/usp.db" -s "$d/cli" -t "$d/ca.pem" -v 3
    for ((i = 0; i < 60; i++)); do
        out="$(run_emu "$t" uspagent -s "$d/cli" -c get Device.LocalAgent.MTP.1.Status 2>&1)" || true
        case "$out" in *Up*) break ;; esac
        sleep 0.5
    done
    expect_all "$out" "Device.LocalAgent.MTP.1.Status => Up" || { tail -20 "$WORK/e2e-agent-$t.log"; return 1; }
    ctl_cmd() {
        run_emu "$t" uspctl --mqtt "127.0.0.1:$port" --tls-ca "$d/ca.pem" --eid "$ctl" \
            --topic "$topic" --agent "$agent" --agent-topic "$atopic" --timeout 30 "$@"
    }
    out="$(ctl_cmd get Device.DeviceInfo.SoftwareVersion Device.LocalAgent.EndpointID 2>&1)" &&
        expect_all "$out" "Device.LocalAgent.EndpointID" "$agent" "Device.DeviceInfo.SoftwareVersion" ||
        { echo "get: $out"; return 1; }
    out="$(ctl_cmd set Device.DeviceInfo.ProvisioningCode=qemu-set-1 2>&1)" ||
        { echo "set: $out"; return 1; }
    out="$(ctl_cmd --json get Device.DeviceInfo.ProvisioningCode 2>&1)" &&
        expect_all "$out" '"qemu-set-1"' || { echo "get after set: $out"; return 1; }
    out="$(ctl_cmd add Device.LocalAgent.Subscription. ID=qemu-add NotifType=Event \
        ReferenceList=Device.Boot! 2>&1)" && expect_all "$out" "Device.LocalAgent.Subscription." ||
        { echo "add: $out"; return 1; }
    sub="$(echo "$out" | grep -o 'Device\.LocalAgent\.Subscription\.[0-9]*\.' | head -1)"
    [ -n "$sub" ] || { echo "add printed no instance path: $out"; return 1; }
    out="$(ctl_cmd get "${sub}ID" 2>&1)" && expect_all "$out" "qemu-add" || { echo "get added: $out"; return 1; }
    out="$(ctl_cmd del "$sub" 2>&1)" || { echo "del: $out"; return 1; }
    out="$(ctl_cmd get "${sub}ID" 2>&1)" && { echo "$sub still exists after del: $out"; return 1; }
    # ValueChange: uspctl subscribes and waits (at most 90 s) for one notification.
    ctl_cmd subscribe ValueChange Device.DeviceInfo.ProvisioningCode --count 1 --for 90 \
        >"$d/notify.out" 2>&1 &
    local watcher=$!
    PIDS+=("$watcher")
    for ((i = 0; i < 120; i++)); do
        out="$(run_emu "$t" uspagent -s "$d/cli" -c get 'Device.LocalAgent.Subscription.*.NotifType' 2>&1)" || true
        case "$out" in *ValueChange*) break ;; esac
        sleep 0.5
    done
    run_emu "$t" uspagent -s "$d/cli" -c set Device.DeviceInfo.ProvisioningCode qemu-notify-2 >/dev/null 2>&1 ||
        { echo "the agent's CLI could not set ProvisioningCode"; return 1; }
    wait "$watcher" || { echo "uspctl subscribe failed: $(cat "$d/notify.out")"; return 1; }
    out="$(cat "$d/notify.out")"
    run_emu "$t" uspagent -s "$d/cli" -c stop >/dev/null 2>&1 || true
    expect_all "$out" "Device.DeviceInfo.ProvisioningCode" "qemu-notify-2"
}

# ---- run -------------------------------------------------------------------------------------
passed=0 failed=0 skipped=0
for t in "${targets[@]}"; do
    if [ ! -x "$(bin_of "$t" uspctl)" ]; then
        echo "qemu-test: $t: no binaries in $dir/$t (run cross/build.sh $t, or pass --build)"
        failed=$((failed + 1))
        continue
    fi
    t0=$(date +%s.%N)
    for c in "${CHECKS[@]}"; do
        rc=0
        # Not in a subshell: processes the check spawns must reach PIDS for cleanup.
        "check_$c" "$t" >"$WORK/check.log" 2>&1 || rc=$?
        log="$(cat "$WORK/check.log")"
        case $rc in
            0) passed=$((passed + 1)); echo "qemu-test: $t $c ok" ;;
            "$SKIP") skipped=$((skipped + 1)); echo "qemu-test: $t $c skipped (binary not built)" ;;
            *) failed=$((failed + 1)); echo "qemu-test: $t $c FAILED (status $rc)"; echo "$log" | sed 's/^/    /' ;;
        esac
    done
    echo "qemu-test: $t took $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s ($(qemu_cmd "$t"))"
done
echo "qemu-test: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
