//! The linux backend's station interfaces: `supplicant.rs` read into the snapshot and
//! written, per transaction, through the wpa_supplicant sockets of `--wpa-supplicant-dir`.
//!
//! Never does: anything when that directory does not exist (no wpa_supplicant: no EndPoint).

use super::supplicant;
use super::wpa_ctrl::Ctrl;
use super::{HostapdWifi, TIMEOUT, sockets_in};
use crate::wifi::model::{Change, Snapshot, WifiError};

impl HostapdWifi {
    /// The radio of a station interface: `/sys/class/net/<ifname>/phy80211/name`.
    fn phy_of(&self, ifname: &str) -> String {
        let path = self.sys_net.join(ifname).join("phy80211/name");
        std::fs::read_to_string(path).map(|s| s.trim().to_owned()).unwrap_or_default()
    }

    /// Adds every wpa_supplicant interface (SSID, EndPoint and its profiles) to `snap`.
    pub(super) fn add_stations(&mut self, snap: &mut Snapshot) {
        let Ok(names) = sockets_in(&self.wpa_dir) else { return };
        for ifname in names {
            let radio = self.phy_of(&ifname);
            let read = Ctrl::open(&self.wpa_dir.join(&ifname), TIMEOUT)
                .and_then(|c| supplicant::read(&c, &ifname, &radio));
            match read {
                Ok(st) => {
                    snap.ssids.push(st.ssid);
                    snap.endpoints.push(st.endpoint);
                    snap.profiles.extend(st.profiles);
                }
                Err(e) => self.warn_once(&format!(
                    "wpa_supplicant: {e}; the station interface {ifname} is not served"
                )),
            }
        }
    }

    /// Applies the end point and profile changes of a transaction; one `SAVE_CONFIG` per
    /// interface.
    pub(super) fn apply_stations(&mut self, changes: &[Change]) -> Result<(), WifiError> {
        for (ifname, cmds) in supplicant::plan(changes)? {
            if !supplicant::run(&self.wpa_dir, &ifname, &cmds, TIMEOUT)? {
                self.warn_once(&format!(
                    "wpa_supplicant on {ifname} refuses SAVE_CONFIG (no update_config=1): \
                     its changes are not persistent"
                ));
            }
        }
        Ok(())
    }
}
