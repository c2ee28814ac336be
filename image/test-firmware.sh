# image/test-firmware.sh: the firmware_ab check of image/test.sh (sourced by it at the end;
# uses its ctl, start_watch, result, show_logs, elapsed, $UPDATE, $WORK, PIDS): a firmware
# update A->B as Oktopus does it, through an HTTP server on the host.

fw_version="$(cat "$OUT/version")-update"
if [ -z "$agent" ]; then
    result firmware_ab FAILED "no agent"
else
    mkdir -p "$WORK/www"
    ln "$UPDATE" "$WORK/www/firmware.squashfs" 2>/dev/null || cp "$UPDATE" "$WORK/www/firmware.squashfs"
    hport="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    python3 -m http.server --bind 127.0.0.1 --directory "$WORK/www" "$hport" \
        >"$WORK/http.log" 2>&1 &
    PIDS+=($!)
    for ((i = 0; i < 50; i++)); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $hport), 1)" 2>/dev/null && break
        sleep 0.1
    done
    # Oktopus: the images' Status, then a Download on the first Available one.
    statuses="$(ctl get 'Device.DeviceInfo.FirmwareImage.*.Status' || true)"
    image="$(echo "$statuses" | sed -n 's/^\(Device\.DeviceInfo\.FirmwareImage\.[0-9]*\.\)Status[[:space:]]*Available$/\1/p' | head -1)"
    if [ -z "$image" ]; then
        result firmware_ab FAILED "no Available FirmwareImage: $statuses"
    else
        # The Download's OperationComplete (to uspctl's own subscription) comes first, then
        # Boot! from the new firmware.
        start_watch watch3 240 5
        t2="$(date +%s.%N)"
        out="$(ctl operate "${image}Download()" \
            "URL=http://10.0.2.2:$hport/firmware.squashfs" AutoActivate=true FileSize=0 \
            --wait-max 180 || true)"
        if ! wait_for "$WORK/watch3.out" 240 "Device.Boot!"; then
            result firmware_ab FAILED "no Boot! within 240 s of the Download: $out"
            tail -5 "$WORK/http.log" | sed 's/^/    /'; show_logs
            echo "    --- uspctl watch during the update:"; tail -5 "$WORK/watch3.out" | sed 's/^/    /'
        elif ! grep -q "FirmwareUpdated=true" "$WORK/watch3.out"; then
            result firmware_ab FAILED "Boot! without FirmwareUpdated=true: $(grep Boot "$WORK/watch3.out")"
        else
            after="$(ctl get Device.DeviceInfo.SoftwareVersion Device.DeviceInfo.ActiveFirmwareImage \
                'Device.DeviceInfo.FirmwareImage.*.Version' || true)"
            if echo "$after" | grep -Eq "^Device\.DeviceInfo\.SoftwareVersion[[:space:]]+$fw_version$" &&
                echo "$after" | grep -Eq "^Device\.DeviceInfo\.ActiveFirmwareImage[[:space:]]+Device\.DeviceInfo\.FirmwareImage\.2\.$"; then
                result firmware_ab ok "Download on $image, Boot! FirmwareUpdated=true $(elapsed "$t2") s later, SoftwareVersion $fw_version from FirmwareImage.2"
            else
                result firmware_ab FAILED "after the update: $(echo "$after" | tr '\n' ';')"
                grep -a 'boot:\|init:' "$WORK/console.log" | tail -8 | sed 's/^/    /'
            fi
        fi
        kill "$watcher" 2>/dev/null || true
        wait "$watcher" 2>/dev/null || true
    fi
fi
