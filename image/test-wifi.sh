# image/test-wifi.sh: the Wi-Fi checks of image/test.sh (sourced by it after wifi_station;
# uses its ctl, result, show_logs, elapsed and $WORK, $t0): wifi_get and wifi_scan.

# wifi_get: Device.WiFi. through the agent's hostapd backend, with the station that associated.
station="$(grep -o 'station wlan1 ([0-9a-f:]*)' "$WORK/console.log" | tr -d '\r' | head -1 |
    sed 's/.*(\(.*\))/\1/')"
wifi=""
if [ -z "$agent" ] || [ -z "$station" ]; then
    result wifi_get FAILED "no agent or no associated station (agent '$agent', station '$station')"
else
    # The agent refreshes hostapd's state on events and periodically: wait (at most 60 s) for
    # the station to be listed.
    for ((i = 0; i < 30; i++)); do
        wifi="$(ctl get Device.WiFi. || true)"
        echo "$wifi" | grep -Eq "AssociatedDevice\.[0-9]*\.MACAddress[[:space:]]+$station" && break
        sleep 2
    done
    # Two SSID rows name uspagent-lab: the AP's (wlan0) and the station interface's (wlan1,
    # through wpa_supplicant), whose EndPoint profile is the network it joined.
    ssid="$(echo "$wifi" | grep -Ec '^Device\.WiFi\.SSID\.[0-9]*\.SSID[[:space:]]+uspagent-lab$' || true)"
    endpoint="$(echo "$wifi" | grep -Ec '^Device\.WiFi\.EndPoint\.[0-9]*\.Profile\.[0-9]*\.SSID[[:space:]]+uspagent-lab$' || true)"
    chan="$(echo "$wifi" | grep -Ec '^Device\.WiFi\.Radio\.[0-9]*\.Channel[[:space:]]+1$' || true)"
    stas="$(echo "$wifi" | grep -Ec '^Device\.WiFi\.AccessPoint\.[0-9]*\.AssociatedDevice\.[0-9]*\.MACAddress[[:space:]]' || true)"
    mine="$(echo "$wifi" | grep -Ec "^Device\.WiFi\.AccessPoint\.[0-9]*\.AssociatedDevice\.[0-9]*\.MACAddress[[:space:]]+$station$" || true)"
    if [ "$ssid" = 2 ] && [ "$endpoint" = 1 ] && [ "$chan" = 1 ] && [ "$stas" = 1 ] && [ "$mine" = 1 ]; then
        result wifi_get ok "SSID uspagent-lab (AP and station), Channel 1, AssociatedDevice $station, EndPoint profile uspagent-lab, $(echo "$wifi" | grep -Ec '^Device\.WiFi\.') parameters"
    else
        result wifi_get FAILED "SSID uspagent-lab: $ssid (2 expected), EndPoint profile: $endpoint, Channel 1: $chan, stations: $stas, station $station: $mine"
        echo "$wifi" | grep -E 'SSID |Channel |MACAddress |Status ' | head -30 | sed 's/^/    /'
        echo "    --- agent log:"; echo "$wifi" | tail -3 | sed 's/^/    /'
    fi
fi

# wifi_scan: the neighbouring simulated AP, as NeighboringWiFiDiagnostic() reports it.
if [ -z "$agent" ]; then
    result wifi_scan FAILED "no agent"
else
    scan=""
    for ((i = 0; i < 3; i++)); do
        scan="$(ctl operate 'Device.WiFi.NeighboringWiFiDiagnostic()' --wait-max 60 || true)"
        echo "$scan" | grep -q 'uspagent-neighbor' && break
        sleep 10
    done
    if echo "$scan" | grep -q 'uspagent-neighbor'; then
        result wifi_scan ok "$(echo "$scan" | grep -Ec 'Result\.[0-9]+\.SSID[[:space:]]') SSIDs heard, uspagent-neighbor among them: $(echo "$scan" | grep -A0 'uspagent-neighbor' | head -1 | tr -s ' ')"
    else
        result wifi_scan FAILED "uspagent-neighbor not found"
        echo "$scan" | head -20 | sed 's/^/    /'
    fi
fi
