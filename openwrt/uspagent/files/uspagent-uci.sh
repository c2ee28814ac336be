#!/bin/sh
# uspagent-uci: the bridge between UCI (/etc/config/uspagent) and uspagent, for the init script.
#
#   uspagent-uci reset       print the agent's factory-reset file (obuspa syntax) made from the
#                            mqtt, stomp, mtp and controller sections
#   uspagent-uci args        print the agent's command line (one argument a line) from the
#                            'global' section
#   uspagent-uci apply NEW OLD
#                            push to the running agent (its local CLI) the values of the reset
#                            file NEW that differ from OLD, the file the agent was configured
#                            from. Exit 0: done live; exit 2: the change adds or removes rows
#                            (or a value was refused), the agent must be rebuilt from NEW.
#   uspagent-uci get OPTION [DEFAULT]
#                            one option of the 'global' section, DEFAULT when unset
#
# Reads UCI with the real `uci` program, never by parsing files. Environment (for tests and
# image builds): UCI_CONFIG_DIR (default /etc/config), UCI_SAVE_DIR (uci's -t: where
# uncommitted changes live; default uci's own), USPAGENT_BIN (default /usr/sbin/uspagent),
# UCI_BIN (default uci).
#
# Numbering: sections are numbered in file order per type (mqtt -> Device.MQTT.Client.N,
# stomp -> Device.STOMP.Connection.N, mtp -> Device.LocalAgent.MTP.N, controller ->
# Device.LocalAgent.Controller.N) and each row's Alias is its section name; a disabled section
# keeps its row (Enable false) so that the numbers of the others do not move.
set -euo pipefail

CONF=uspagent
UCI="${UCI_BIN:-uci}"
AGENT="${USPAGENT_BIN:-/usr/sbin/uspagent}"

# Errors found inside $(...) are also written here, so that they fail the whole run.
ERRS="$(mktemp)"
trap 'rm -f "$ERRS"' EXIT

die() {
	echo "uspagent-uci: $*" | tee -a "$ERRS" >&2
	exit 1
}

# check: fail when an error was reported in a subshell.
check() {
	[ ! -s "$ERRS" ] || exit 1
}

uci_() {
	if [ -n "${UCI_SAVE_DIR:-}" ]; then
		"$UCI" -q -c "${UCI_CONFIG_DIR:-/etc/config}" -t "$UCI_SAVE_DIR" "$@"
	else
		"$UCI" -q -c "${UCI_CONFIG_DIR:-/etc/config}" "$@"
	fi
}

# opt SECTION OPTION [DEFAULT]: an option's value, or DEFAULT.
opt() {
	local v
	v="$(uci_ get "$CONF.$1.$2" 2>/dev/null)" || v=""
	[ -n "$v" ] || v="${3:-}"
	case "$v" in
	*'
'*) die "$1.$2: a value cannot span lines" ;;
	esac
	printf '%s' "$v"
}

# bool SECTION OPTION DEFAULT: true/false for UCI's 1/0/yes/no/on/off/true/false/enabled/disabled.
bool() {
	case "$(opt "$1" "$2" "$3")" in
	1 | yes | on | true | enabled) echo true ;;
	0 | no | off | false | disabled) echo false ;;
	*) die "$1.$2: '$(opt "$1" "$2")' is not a boolean (use 0 or 1)" ;;
	esac
}

# sections TYPE: the names of the sections of TYPE, in file order (anonymous ones included).
SHOW=""
sections() {
	[ -n "$SHOW" ] || SHOW="$(uci_ -X show "$CONF" 2>/dev/null)" || die "no UCI configuration '$CONF' in ${UCI_CONFIG_DIR:-/etc/config}"
	printf '%s\n' "$SHOW" | sed -n "s/^$CONF\.\([A-Za-z0-9_]*\)=$1\$/\1/p"
}

# index TYPE NAME: the 1-based number of section NAME among the sections of TYPE, or nothing.
index() {
	sections "$1" | awk -v n="$2" '$0 == n { print NR; exit }'
}

# line PATH VALUE: one reset-file line; the value is always quoted (obuspa strips the quotes).
line() {
	printf '%s "%s"\n' "$1" "$2"
}

mqtt_client() { # N SECTION
	local p="Device.MQTT.Client.$1"
	line "$p.Alias" "$2"
	line "$p.Enable" "$(bool "$2" enabled 1)"
	line "$p.BrokerAddress" "$(opt "$2" address)"
	line "$p.BrokerPort" "$(opt "$2" port 1883)"
	line "$p.ProtocolVersion" "$(opt "$2" protocol_version 5.0)"
	line "$p.TransportProtocol" "$(opt "$2" transport TCP/IP)"
	line "$p.ClientID" "$(opt "$2" client_id)"
	line "$p.Username" "$(opt "$2" username)"
	line "$p.Password" "$(opt "$2" password)"
	line "$p.KeepAliveTime" "$(opt "$2" keepalive 60)"
	line "$p.ConnectRetryTime" "$(opt "$2" retry_time 5)"
	line "$p.ConnectRetryIntervalMultiplier" "$(opt "$2" retry_multiplier 2000)"
	line "$p.ConnectRetryMaxInterval" "$(opt "$2" retry_max_interval 60)"
}

stomp_connection() { # N SECTION
	local p="Device.STOMP.Connection.$1"
	line "$p.Alias" "$2"
	line "$p.Enable" "$(bool "$2" enabled 1)"
	line "$p.Host" "$(opt "$2" host)"
	line "$p.Port" "$(opt "$2" port 61613)"
	line "$p.Username" "$(opt "$2" username)"
	line "$p.Password" "$(opt "$2" password)"
	line "$p.VirtualHost" "$(opt "$2" virtual_host /)"
	line "$p.EnableEncryption" "$(bool "$2" encryption 1)"
	line "$p.EnableHeartbeats" "$(bool "$2" heartbeats 1)"
	line "$p.OutgoingHeartbeat" "$(opt "$2" outgoing_heartbeat 30000)"
	line "$p.IncomingHeartbeat" "$(opt "$2" incoming_heartbeat 300000)"
	line "$p.ServerRetryInitialInterval" "$(opt "$2" retry_time 5)"
	line "$p.ServerRetryIntervalMultiplier" "$(opt "$2" retry_multiplier 2000)"
	line "$p.ServerRetryMaxInterval" "$(opt "$2" retry_max_interval 60)"
}

# ref SECTION OPTION TYPE PATHPREFIX: the data-model path of the TYPE section an option names.
ref() {
	local name n
	name="$(opt "$1" "$2")"
	[ -n "$name" ] || die "$1: option '$2' is required (the name of a '$3' section)"
	n="$(index "$3" "$name")"
	[ -n "$n" ] || die "$1.$2: '$name' is not a '$3' section"
	printf '%s%s' "$4" "$n"
}

agent_mtp() { # N SECTION
	local p="Device.LocalAgent.MTP.$1" proto
	proto="$(opt "$2" protocol)"
	line "$p.Alias" "$2"
	line "$p.Enable" "$(bool "$2" enabled 1)"
	case "$proto" in
	MQTT | mqtt)
		line "$p.Protocol" MQTT
		line "$p.MQTT.Reference" "$(ref "$2" mqtt mqtt Device.MQTT.Client.)"
		line "$p.MQTT.ResponseTopicConfigured" "$(opt "$2" response_topic)"
		line "$p.MQTT.PublishQoS" "$(opt "$2" qos 1)"
		;;
	STOMP | stomp)
		line "$p.Protocol" STOMP
		line "$p.STOMP.Reference" "$(ref "$2" stomp stomp Device.STOMP.Connection.)"
		line "$p.STOMP.Destination" "$(opt "$2" destination)"
		;;
	WebSocket | websocket)
		line "$p.Protocol" WebSocket
		line "$p.WebSocket.Port" "$(opt "$2" port 8081)"
		line "$p.WebSocket.Path" "$(opt "$2" path /usp)"
		line "$p.WebSocket.EnableEncryption" "$(bool "$2" encryption 0)"
		line "$p.WebSocket.KeepAliveInterval" "$(opt "$2" keepalive 30)"
		;;
	*) die "$2: protocol '$proto' is not MQTT, STOMP or WebSocket" ;;
	esac
}

# role SECTION: the AssignedRole path of a controller ('full-access', 'none' or a path).
role() {
	local r
	r="$(opt "$1" role full-access)"
	case "$r" in
	full-access | full) printf '%s' Device.LocalAgent.ControllerTrust.Role.1 ;;
	none) printf '' ;;
	Device.LocalAgent.ControllerTrust.Role.[0-9]*) printf '%s' "$r" ;;
	*) die "$1.role: '$r' is not full-access, none or Device.LocalAgent.ControllerTrust.Role.N" ;;
	esac
}

SUBSCRIPTION=0
controller() { # N SECTION
	local p="Device.LocalAgent.Controller.$1" m mtp proto b=0 param
	line "$p.Alias" "$2"
	line "$p.Enable" "$(bool "$2" enabled 1)"
	line "$p.EndpointID" "$(opt "$2" endpoint_id)"
	[ -n "$(opt "$2" endpoint_id)" ] || die "$2: option 'endpoint_id' is required"
	line "$p.AssignedRole" "$(role "$2")"
	line "$p.PeriodicNotifInterval" "$(opt "$2" periodic_notif_interval 86400)"
	m="$p.MTP.1"
	mtp="$(opt "$2" mtp)"
	[ -n "$mtp" ] || die "$2: option 'mtp' is required (the name of the agent's 'mtp' section)"
	[ -n "$(index mtp "$mtp")" ] || die "$2.mtp: '$mtp' is not an 'mtp' section"
	proto="$(opt "$mtp" protocol)"
	line "$m.Enable" true
	case "$proto" in
	MQTT | mqtt)
		line "$m.Protocol" MQTT
		line "$m.MQTT.AgentMTPReference" "$(ref "$2" mtp mtp Device.LocalAgent.MTP.)"
		line "$m.MQTT.Topic" "$(opt "$2" topic)"
		[ -n "$(opt "$2" topic)" ] || die "$2: option 'topic' is required for MQTT"
		;;
	STOMP | stomp)
		line "$m.Protocol" STOMP
		line "$m.STOMP.Reference" "$(ref "$mtp" stomp stomp Device.STOMP.Connection.)"
		line "$m.STOMP.Destination" "$(opt "$2" destination)"
		[ -n "$(opt "$2" destination)" ] || die "$2: option 'destination' is required for STOMP"
		;;
	WebSocket | websocket)
		line "$m.Protocol" WebSocket
		line "$m.WebSocket.Host" "$(opt "$2" host)"
		line "$m.WebSocket.Port" "$(opt "$2" port 443)"
		line "$m.WebSocket.Path" "$(opt "$2" path /usp)"
		line "$m.WebSocket.EnableEncryption" "$(bool "$2" encryption 1)"
		line "$m.WebSocket.KeepAliveInterval" "$(opt "$2" keepalive 30)"
		line "$m.WebSocket.SessionRetryMinimumWaitInterval" "$(opt "$2" retry_time 5)"
		line "$m.WebSocket.SessionRetryIntervalMultiplier" "$(opt "$2" retry_multiplier 2000)"
		;;
	esac
	for param in $(opt "$2" boot_param Device.LocalAgent.EndpointID); do
		b=$((b + 1))
		line "$p.BootParameter.$b.Enable" true
		line "$p.BootParameter.$b.ParameterName" "$param"
	done
	if [ "$(bool "$2" boot_event 1)" = true ]; then
		SUBSCRIPTION=$((SUBSCRIPTION + 1))
		local s="Device.LocalAgent.Subscription.$SUBSCRIPTION"
		line "$s.Enable" true
		line "$s.ID" "boot-$2"
		line "$s.Recipient" "$p"
		line "$s.NotifType" Event
		line "$s.ReferenceList" Device.Boot!
		line "$s.Persistent" true
	fi
}

# each TYPE FUNCTION: FUNCTION N SECTION for every section of TYPE.
each() {
	local n=0 s
	for s in $(sections "$1"); do
		n=$((n + 1))
		"$2" "$n" "$s"
	done
}

reset_file() {
	sections uspagent >/dev/null
	echo "# uspagent factory-reset file, generated from UCI ($CONF) by uspagent-uci: do not edit,"
	echo "# edit /etc/config/$CONF (or point its global reset_file option at your own file)."
	each mqtt mqtt_client
	each stomp stomp_connection
	each mtp agent_mtp
	each controller controller
	check
}

# arg OPTION FLAG: "FLAG\nVALUE" when the global OPTION is set.
arg() {
	local v
	v="$(opt global "$1")"
	[ -z "$v" ] || printf '%s\n%s\n' "$2" "$v"
}

args() {
	sections uspagent >/dev/null
	printf '%s\n%s\n' -f "$(opt global db_file /etc/uspagent/usp.db)"
	printf '%s\n%s\n' -v "$(opt global log_level 3)"
	printf '%s\n%s\n' -l "$(opt global log_dest syslog)"
	printf '%s\n%s\n' -s "$(opt global cli_socket /tmp/usp_cli)"
	[ "$(bool global prototrace 0)" = false ] || echo -p
	arg endpoint_id --endpoint-id
	arg oui --oui
	arg serial --serial
	arg interface -i
	arg ca_file -t
	arg client_cert -a
	arg client_key --key
	arg server_cert --server-cert
	arg server_key --server-key
	arg reboot_command --reboot-command
	[ "$(bool global insecure 0)" = false ] || echo --insecure
	check
}

# apply NEW OLD: see the header.
apply() {
	local new="$1" old="$2" sock path value changed
	[ -f "$new" ] && [ -f "$old" ] || die "apply: $new and $old must both exist"
	# The same parameters (rows and names) in both: only values changed.
	if [ "$(sed -n 's/^\(Device\.[^ ]*\) .*/\1/p' "$new")" != \
		"$(sed -n 's/^\(Device\.[^ ]*\) .*/\1/p' "$old")" ]; then
		echo "uspagent-uci: rows were added or removed: the agent must be reconfigured" >&2
		return 2
	fi
	sock="$(opt global cli_socket /tmp/usp_cli)"
	changed="$(grep '^Device\.' "$new" | grep -vxF -f "$old" || true)"
	[ -n "$changed" ] || return 0
	printf '%s\n' "$changed" | while IFS= read -r l; do
		path="${l%% *}"
		value="${l#* }"
		value="${value#\"}"
		value="${value%\"}"
		if ! "$AGENT" -s "$sock" -c set "$path" "$value" >/dev/null; then
			echo "uspagent-uci: the agent refused the new value of $path" >&2
			exit 2
		fi
		echo "uspagent-uci: $path changed" >&2
	done || return 2
}

case "${1:-}" in
reset) reset_file ;;
args) args ;;
apply)
	[ $# -eq 3 ] || die "usage: uspagent-uci apply NEW OLD"
	apply "$2" "$3"
	;;
get)
	[ $# -ge 2 ] && [ $# -le 3 ] || die "usage: uspagent-uci get OPTION [DEFAULT]"
	opt global "$2" "${3:-}"
	echo
	;;
*)
	echo "usage: uspagent-uci reset | args | apply NEW OLD | get OPTION [DEFAULT]" >&2
	exit 64
	;;
esac
