# image/test-rollback.sh: the firmware_rollback check of image/test.sh (sourced after
# firmware_ab; uses its ctl, start_watch, result, wait_for, elapsed, $UPDATE, $WORK, $hport,
# $fw_version): a new firmware whose agent never comes up is downloaded and booted on trial;
# init reboots the unconfirmed trial after usp.trial_limit seconds (the test boots with 60), the
# boot stage rolls back, and the agent of the old slot reports the failure in BootFailureLog.

if [ -z "$agent" ] || [ -z "${hport:-}" ]; then
    result firmware_rollback FAILED "no agent or no HTTP server (firmware_ab did not run)"
else
    # The update's root filesystem with an agent that exits at once: a firmware that boots but
    # never becomes healthy.
    B="$WORK/broken"
    rm -rf "$B"
    unsquashfs -q -d "$B" "$UPDATE" >/dev/null
    printf '#!/bin/sh\necho "uspagent: a broken firmware (image/test-rollback.sh)" >&2\nexit 1\n' \
        >"$B/usr/sbin/uspagent"
    sed -i "s/^VERSION=.*/VERSION=\"$fw_version-broken\"/" "$B/etc/uspagent-image-release"
    mksquashfs "$B" "$WORK/www/broken.squashfs" -comp gzip -all-root -noappend -quiet >/dev/null
    rm -rf "$B"
    active="$(ctl get Device.DeviceInfo.ActiveFirmwareImage |
        sed -n 's/^Device\.DeviceInfo\.ActiveFirmwareImage[[:space:]]*//p' | tr -d ' ')"
    start_watch watch4 300 5
    t3="$(date +%s.%N)"
    out="$(ctl operate "${active}Download()" \
        "URL=http://10.0.2.2:$hport/broken.squashfs" AutoActivate=true FileSize=0 \
        --wait-max 180 || true)"
    if ! wait_for "$WORK/watch4.out" 300 "Device.Boot!"; then
        result firmware_rollback FAILED "no Boot! within 300 s of the Download: $out"
        grep -a 'boot:\|init:' "$WORK/console.log" | tail -8 | sed 's/^/    /'
    else
        after="$(ctl get Device.DeviceInfo.SoftwareVersion Device.DeviceInfo.ActiveFirmwareImage \
            'Device.DeviceInfo.FirmwareImage.*.BootFailureLog' || true)"
        if echo "$after" | grep -Eq "^Device\.DeviceInfo\.SoftwareVersion[[:space:]]+$fw_version$" &&
            echo "$after" | grep -Eq "^Device\.DeviceInfo\.ActiveFirmwareImage[[:space:]]+$active$" &&
            echo "$after" | grep -q "did not come up healthy" &&
            grep -aq "rolling back" "$WORK/console.log"; then
            result firmware_rollback ok "the broken firmware's trial boot was rolled back; Boot! $(elapsed "$t3") s after the Download, $active runs $fw_version, BootFailureLog says so"
        else
            result firmware_rollback FAILED "after the rollback: $(echo "$after" | tr '\n' ';')"
            grep -a 'boot:\|init:' "$WORK/console.log" | tail -8 | sed 's/^/    /'
        fi
    fi
    kill "$watcher" 2>/dev/null || true
    wait "$watcher" 2>/dev/null || true
fi
