//! `--mdns ADDR`: the daemon's DNS-SD advertisement (TR-369 "Discovery", R-DIS.8–11a) of its
//! enabled WebSocket server MTPs (`_usp-agt-ws._tcp`, instance = the Endpoint ID, TXT `path=`,
//! `name=` the FriendlyName or ModelName, `encrypt` with TLS), answered by
//! [`usp_mtp::mdns::Responder`] on its own thread.
//!
//! Owns building the adverts from the configuration read at start; never re-reads it (a
//! changed MTP is advertised after a restart), never applies the controllers the responder
//! learns (they are logged by it). MQTT and STOMP MTPs are not advertised: the agent listens
//! on no port for them.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};

use usp_areas::local_agent::AgentMtpIds;
use usp_datamodel::DataModel;
use usp_datamodel::plugin::Requester;
use usp_mtp::mdns::{Advert, MDNS_GROUP, Responder};

/// Starts the responder on `bind` (`0.0.0.0:5353`: the mDNS group) for the agent
/// `endpoint_id`; `None` (logged) when there is nothing to advertise or the socket fails.
pub fn start(bind: SocketAddr, dm: &mut DataModel, endpoint_id: &str) -> Option<Responder> {
    let adverts = adverts(dm, endpoint_id, address(bind));
    if adverts.is_empty() {
        log::info!("mDNS: no enabled WebSocket MTP to advertise");
        return None;
    }
    match Responder::spawn(bind, Ipv4Addr::UNSPECIFIED, adverts) {
        Ok(r) => {
            log::info!("mDNS: answering on {}", r.local_addr());
            Some(r)
        }
        Err(e) => {
            log::warn!("mDNS: cannot listen on {bind}: {e}");
            None
        }
    }
}

/// The address put in A records: the bound one, else the one the system would use to reach
/// the mDNS group.
fn address(bind: SocketAddr) -> Ipv4Addr {
    if let SocketAddr::V4(v4) = bind {
        if !v4.ip().is_unspecified() {
            return *v4.ip();
        }
    }
    let probe = UdpSocket::bind("0.0.0.0:0").and_then(|s| s.connect(MDNS_GROUP).map(|()| s));
    match probe.and_then(|s| s.local_addr()) {
        Ok(SocketAddr::V4(a)) => *a.ip(),
        _ => Ipv4Addr::LOCALHOST,
    }
}

fn adverts(dm: &mut DataModel, endpoint_id: &str, addr: Ipv4Addr) -> Vec<Advert> {
    let Ok(ids) = AgentMtpIds::resolve(dm.schema()) else { return Vec::new() };
    let name = friendly_name(dm);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty() && h.len() <= 63)
        .unwrap_or_else(|| "uspagent".into());
    let mut out = Vec::new();
    for m in ids.mtps(dm).into_iter().filter(|m| m.enable && m.protocol == "WebSocket") {
        let Ok(port) = u16::try_from(m.websocket.port) else { continue };
        let mut txt = vec![format!("path={}", m.websocket.path), format!("name={name}")];
        if m.websocket.enable_encryption {
            txt.push("encrypt".into());
        }
        let service = "_usp-agt-ws._tcp".into();
        out.push(Advert {
            service,
            instance: endpoint_id.into(),
            host: host.clone(),
            addr,
            port,
            txt,
        });
    }
    out
}

/// `DeviceInfo.FriendlyName` when declared (R-DIS.10), else `DeviceInfo.ModelName`.
fn friendly_name(dm: &mut DataModel) -> String {
    let schema = dm.schema();
    let Some(info) = schema.obj_by_path("Device.DeviceInfo.") else { return String::new() };
    let param = schema
        .param_by_name(info, "FriendlyName")
        .or_else(|| schema.param_by_name(info, "ModelName"));
    let Some(param) = param else { return String::new() };
    match dm.read_params(&Requester::Internal, info, &[], &[param]).into_iter().next() {
        Some(Ok(v)) => v.to_string(),
        _ => String::new(),
    }
}
