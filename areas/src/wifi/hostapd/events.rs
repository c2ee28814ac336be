//! hostapd's unsolicited events: one thread per BSS attaches to its control socket (`ATTACH`)
//! and turns station and WPS events (`AP-STA-CONNECTED`, `AP-STA-DISCONNECTED`, `WPS-*`) into
//! a refresh of the plugin, so stations appear and vanish without waiting for the periodic
//! refresh. The same for each wpa_supplicant interface (`CTRL-EVENT-CONNECTED`,
//! `CTRL-EVENT-DISCONNECTED`: an end point's link and profile in use).
//!
//! Every few seconds the thread sends `PING`: no `PONG` (hostapd restarted, its socket is
//! new and has forgotten us) makes it attach again, and the heartbeat it pushes to the plugin
//! tells it when the plugin is gone, when it ends. Never does: read state (the refresh does).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::wpa_ctrl::{Ctrl, Message};
use crate::wifi::backend::Reply;
use crate::wifi::model::WifiError;
use crate::worker::Inbox;

/// How often the link is checked with `PING` (tests: quickly).
#[cfg(not(test))]
const PING_EVERY: Duration = Duration::from_secs(5);
#[cfg(test)]
const PING_EVERY: Duration = Duration::from_millis(300);
/// Every how many pings the plugin is asked whether it is still there (30 s apart).
const HEARTBEAT_PINGS: u32 = 6;
/// How long to wait before attaching again after hostapd went away.
#[cfg(not(test))]
const RETRY: Duration = Duration::from_secs(5);
#[cfg(test)]
const RETRY: Duration = Duration::from_millis(300);

/// Starts the event thread of the BSS whose socket is `server`.
pub(super) fn spawn(server: PathBuf, inbox: Inbox<Reply>) -> Result<(), WifiError> {
    let name = server.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    std::thread::Builder::new()
        .name(format!("wifi-hostapd-{name}"))
        .spawn(move || run(&server, &inbox))
        .map(|_| ())
        .map_err(|e| WifiError::Io(format!("event thread: {e}")))
}

/// Whether an event changes what the data model shows.
pub(super) fn interesting(event: &str) -> bool {
    event.starts_with("AP-STA-CONNECTED ")
        || event.starts_with("AP-STA-DISCONNECTED ")
        || event.starts_with("WPS-")
        || event.starts_with("AP-ENABLED")
        || event.starts_with("AP-DISABLED")
        || event.starts_with("CTRL-EVENT-CHANNEL-SWITCH")
        // wpa_supplicant (station interfaces): the link and the network in use.
        || event.starts_with("CTRL-EVENT-CONNECTED ")
        || event.starts_with("CTRL-EVENT-DISCONNECTED ")
        || event.starts_with("CTRL-EVENT-SSID-TEMP-DISABLED ")
}

/// Attaches, listens, attaches again; ends when the plugin is gone.
fn run(server: &std::path::Path, inbox: &Inbox<Reply>) {
    let mut warned = false;
    loop {
        match Ctrl::open(server, Duration::from_secs(2))
            .and_then(|c| c.command("ATTACH").map(|()| c))
        {
            Ok(ctrl) => {
                warned = false;
                log::debug!("Device.WiFi (linux): attached to {}", server.display());
                if !listen(&ctrl, inbox) {
                    return;
                }
                let _ = ctrl.send("DETACH");
                let why = format!("hostapd at {} stopped answering", server.display());
                log::warn!("Device.WiFi (linux): {why}; attaching again");
                if !inbox.push(Reply::Changed(why)) {
                    return;
                }
            }
            Err(e) if !warned => {
                warned = true;
                log::warn!("Device.WiFi (linux): no station events from {}: {e}", server.display());
            }
            Err(_) => {}
        }
        std::thread::sleep(RETRY);
        // A heartbeat: tells us whether the plugin is still there.
        if !inbox.push(Reply::Watching(Ok(()))) {
            return;
        }
    }
}

/// Listens on an attached socket until hostapd stops answering `PING` (`true`) or the plugin
/// is gone (`false`).
fn listen(ctrl: &Ctrl, inbox: &Inbox<Reply>) -> bool {
    let mut last_ping = Instant::now();
    let mut pong = true;
    let mut pings = 0u32;
    loop {
        if last_ping.elapsed() >= PING_EVERY {
            if !pong || ctrl.send("PING").is_err() {
                return true;
            }
            pings = pings.wrapping_add(1);
            // A heartbeat every HEARTBEAT_PINGS pings: it wakes the data-model thread, so not
            // at every ping.
            if pings % HEARTBEAT_PINGS == 0 && !inbox.push(Reply::Watching(Ok(()))) {
                return false;
            }
            pong = false;
            last_ping = Instant::now();
        }
        match ctrl.next(Duration::from_millis(500)) {
            Ok(Some(Message::Event(e))) if interesting(&e) => {
                if !inbox.push(Reply::Changed(format!("hostapd event {e}"))) {
                    return false;
                }
            }
            Ok(Some(Message::Reply(r))) if r.starts_with("PONG") => pong = true,
            Ok(_) => {}
            Err(_) => return true,
        }
    }
}
