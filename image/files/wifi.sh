#!/bin/sh
# Wi-Fi in the lab image (kernel command line usp.wifi=1, or by hand: wifi.sh start|stop|status).
# Three simulated radios (mac80211_hwsim radios=3, one shared simulated medium):
#   wlan0  access point "uspagent-lab" (WPA2-PSK, password uspagent-lab, channel 1), hostapd,
#          config /tmp/wifi/hostapd-wlan0.conf, control socket /run/hostapd
#   wlan1  a station associated to it: wpa_supplicant, control socket /run/wpa_supplicant,
#          address 192.168.50.2/24 (wlan0 is 192.168.50.1/24)
#   wlan2  a neighbouring access point "uspagent-neighbor" (open, channel 6), for scans; its
#          control socket is /run/hostapd-neighbor (not the agent's: it is someone else's AP)
#   wlan0scan  a station interface on wlan0's radio that scans every 10 s, as a router's
#          background scan does: the radio's scan results (nl80211 GET_SCAN, what the agent's
#          NeighboringWiFiDiagnostic() reads when the AP interface itself may not scan) stay fresh
# Logs: /tmp/wifi/*.log. `iw dev wlan0 station dump` lists the associated station.
set -u
D=/tmp/wifi
mkdir -p "$D" /run/hostapd /run/hostapd-neighbor /run/wpa_supplicant

ap_conf() { # IFACE SSID CHANNEL CTRL_DIR [PSK]
    cat <<EOF
interface=$1
driver=nl80211
ctrl_interface=$4
ssid=$2
hw_mode=g
channel=$3
ieee80211n=1
wmm_enabled=1
EOF
    if [ -n "${5:-}" ]; then
        printf 'wpa=2\nwpa_key_mgmt=WPA-PSK\nrsn_pairwise=CCMP\nwpa_passphrase=%s\n' "$5"
    fi
}

start() {
    for m in ctr ccm gcm cmac seqiv ghash_generic aes_arm michael_mic; do modprobe "$m"; done
    modprobe mac80211_hwsim radios=3 || { echo "wifi: mac80211_hwsim does not load"; return 1; }
    i=0
    while [ ! -e /sys/class/net/wlan2 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    ap_conf wlan0 uspagent-lab 1 /run/hostapd uspagent-lab >"$D/hostapd-wlan0.conf"
    ap_conf wlan2 uspagent-neighbor 6 /run/hostapd-neighbor >"$D/hostapd-wlan2.conf"
    hostapd -B -P /run/hostapd-wlan0.pid -f "$D/hostapd-wlan0.log" "$D/hostapd-wlan0.conf" ||
        { echo "wifi: hostapd on wlan0 failed:"; cat "$D/hostapd-wlan0.log"; return 1; }
    hostapd -B -P /run/hostapd-wlan2.pid -f "$D/hostapd-wlan2.log" "$D/hostapd-wlan2.conf" ||
        echo "wifi: hostapd on wlan2 failed (see $D/hostapd-wlan2.log)"
    ip addr add 192.168.50.1/24 dev wlan0
    cat >"$D/wpa_supplicant-wlan1.conf" <<EOF
ctrl_interface=/run/wpa_supplicant
network={
    ssid="uspagent-lab"
    psk="uspagent-lab"
    key_mgmt=WPA-PSK
}
EOF
    wpa_supplicant -B -D nl80211 -i wlan1 -c "$D/wpa_supplicant-wlan1.conf" \
        -P /run/wpa_supplicant-wlan1.pid -f "$D/wpa_supplicant-wlan1.log" ||
        { echo "wifi: wpa_supplicant on wlan1 failed:"; cat "$D/wpa_supplicant-wlan1.log"; return 1; }
    i=0
    while ! wpa_cli -p /run/wpa_supplicant -i wlan1 status 2>/dev/null | grep -q '^wpa_state=COMPLETED' &&
        [ $i -lt 150 ]; do
        sleep 0.2
        i=$((i + 1))
    done
    background_scan &
    echo $! >/run/wifi-scan.pid
    if wpa_cli -p /run/wpa_supplicant -i wlan1 status | grep -q '^wpa_state=COMPLETED'; then
        ip addr add 192.168.50.2/24 dev wlan1
        echo "wifi: station wlan1 ($(cat /sys/class/net/wlan1/address)) associated to uspagent-lab on wlan0 ($(cat /sys/class/net/wlan0/address))"
    else
        echo "wifi: station wlan1 did not associate within 30 s"
        return 1
    fi
}

# A station interface on wlan0's radio (its own address) scanning every 10 s.
background_scan() {
    phy="$(basename "$(readlink /sys/class/net/wlan0/phy80211)")"
    iw phy "$phy" interface add wlan0scan type managed || return 1
    ip link set wlan0scan address 02:00:00:00:7f:01
    ip link set wlan0scan up
    # cfg80211 forgets a BSS not heard for 30 s: every 10 s keeps one missed scan harmless.
    while :; do
        iw dev wlan0scan scan >/dev/null 2>>"$D/scan.log" ||
            echo "$(cut -d' ' -f1 /proc/uptime) s: the scan on wlan0scan failed" >>"$D/scan.log"
        sleep 10
    done
}

stop() {
    for f in /run/wifi-scan.pid /run/wpa_supplicant-wlan1.pid /run/hostapd-wlan0.pid /run/hostapd-wlan2.pid; do
        [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
        rm -f "$f"
    done
}

status() {
    hostapd_cli -p /run/hostapd -i wlan0 all_sta 2>/dev/null | grep -E '^[0-9a-f]{2}:'
    wpa_cli -p /run/wpa_supplicant -i wlan1 status 2>/dev/null | grep -E '^(bssid|ssid|wpa_state)='
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: wifi.sh start|stop|status"; exit 2 ;;
esac
