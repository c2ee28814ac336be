//! Controller discovery by DHCPv4 option 125 (TR-369 "Discovery", TP-469 8.2): decoding the
//! Broadband Forum's vendor-specific sub-options and applying them to
//! `Device.LocalAgent.Controller.{i}.`.
//!
//! Option 125 (RFC 3925) is a list of `enterprise-number (4 bytes) | data-len (1) | data`;
//! the Broadband Forum's element (enterprise 3561) holds sub-options `code (1) | len (1) |
//! value`: 25 the Controller's URL or FQDN, 26 ProvisioningCode, 27
//! USPNotifRetryMinimumWaitInterval, 28 USPNotifRetryIntervalMultiplier, 29 EndpointID. Every
//! value is a string (R-DIS.1a); a trailing NUL is not part of it (R-DIS.1c).
//!
//! Owns the codec and the writes; never talks DHCP itself. On OpenWrt, udhcpc's hook
//! (`openwrt/uspagent/files/uspagent-opt125.user`) writes the option as the hex text udhcpc
//! passes in `$opt125` to a file the daemon reads at start (`--dhcp-options FILE`).
//!
//! Decisions: a controller is matched by its EndpointID (a new row is added, enabled, with no
//! role: it gets the UntrustedRole until someone trusts it, as TR-369 advises for DHCP); a
//! `ws://` or `wss://` URL becomes the row's WebSocket MTP; other URLs (MQTT, STOMP) need an
//! agent-side connection this module cannot configure and are only logged.

use usp_datamodel::DataModel;
use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::plugin::Requester;

/// The Broadband Forum's IANA enterprise number.
pub const BBF_ENTERPRISE: u32 = 3561;

/// What the Broadband Forum's element of option 125 carries (each `None` when absent).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DhcpController {
    /// Sub-option 25: the Controller's URL or FQDN.
    pub url: Option<String>,
    /// Sub-option 26: the ProvisioningCode.
    pub provisioning_code: Option<String>,
    /// Sub-option 27: USPNotifRetryMinimumWaitInterval (as received).
    pub retry_min_wait: Option<String>,
    /// Sub-option 28: USPNotifRetryIntervalMultiplier (as received).
    pub retry_multiplier: Option<String>,
    /// Sub-option 29: the Controller's EndpointID.
    pub endpoint_id: Option<String>,
}

/// Why option 125 could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DhcpError {
    /// The hex text has an odd length or a non-hex character.
    Hex,
    /// An element or sub-option runs past the end of the option.
    Truncated,
    /// No element of the Broadband Forum (enterprise 3561).
    NoBbfElement,
    /// A sub-option value is not UTF-8.
    NotText(u8),
}

impl std::fmt::Display for DhcpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DhcpError::Hex => f.write_str("not hex text"),
            DhcpError::Truncated => f.write_str("truncated option 125"),
            DhcpError::NoBbfElement => f.write_str("no Broadband Forum (3561) element"),
            DhcpError::NotText(code) => write!(f, "sub-option {code} is not UTF-8 text"),
        }
    }
}

impl std::error::Error for DhcpError {}

/// Decodes hex text (udhcpc's `$opt125`; spaces, colons and a final newline allowed).
pub fn from_hex(text: &str) -> Result<Vec<u8>, DhcpError> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b" :\n\r\t".contains(b)).collect();
    if digits.len() % 2 != 0 {
        return Err(DhcpError::Hex);
    }
    let nibble = |b: u8| (b as char).to_digit(16).map(|d| d as u8).ok_or(DhcpError::Hex);
    digits.chunks(2).map(|p| Ok(nibble(p[0])? << 4 | nibble(p[1])?)).collect()
}

/// Decodes the data of option 125 (without its code and length).
pub fn decode(option: &[u8]) -> Result<DhcpController, DhcpError> {
    let mut rest = option;
    let mut found = None;
    while !rest.is_empty() {
        let (head, tail) = rest.split_at_checked(5).ok_or(DhcpError::Truncated)?;
        let enterprise = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let (data, tail) =
            tail.split_at_checked(usize::from(head[4])).ok_or(DhcpError::Truncated)?;
        if enterprise == BBF_ENTERPRISE && found.is_none() {
            found = Some(data);
        }
        rest = tail;
    }
    sub_options(found.ok_or(DhcpError::NoBbfElement)?)
}

fn sub_options(mut data: &[u8]) -> Result<DhcpController, DhcpError> {
    let mut c = DhcpController::default();
    while !data.is_empty() {
        let (head, tail) = data.split_at_checked(2).ok_or(DhcpError::Truncated)?;
        let (value, tail) =
            tail.split_at_checked(usize::from(head[1])).ok_or(DhcpError::Truncated)?;
        let value = value.strip_suffix(&[0]).unwrap_or(value);
        let text = || {
            std::str::from_utf8(value).map(str::to_owned).map_err(|_| DhcpError::NotText(head[0]))
        };
        match head[0] {
            25 => c.url = Some(text()?),
            26 => c.provisioning_code = Some(text()?),
            27 => c.retry_min_wait = Some(text()?),
            28 => c.retry_multiplier = Some(text()?),
            29 => c.endpoint_id = Some(text()?),
            _ => {}
        }
        data = tail;
    }
    Ok(c)
}

/// A `ws://` or `wss://` URL taken apart: host, port, path, encrypted.
fn websocket_url(url: &str) -> Option<(String, u16, String, bool)> {
    let (tls, rest) = match url.split_once("://")? {
        ("ws", rest) => (false, rest),
        ("wss", rest) => (true, rest),
        _ => return None,
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => (h, p.parse().ok()?),
        _ => (authority, if tls { 443 } else { 80 }),
    };
    (!host.is_empty()).then(|| (host.to_owned(), port, path.to_owned(), tls))
}

/// Applies `c` to the Controller table in one transaction (see the module doc); returns the
/// Controller row's path. Without an EndpointID nothing can be matched: 7004.
pub fn apply(dm: &mut DataModel, c: &DhcpController) -> Result<String, UspError> {
    let Some(eid) = c.endpoint_id.as_deref().filter(|e| !e.is_empty()) else {
        return Err(UspError::new(
            ErrorCode::InvalidArguments,
            "no Controller EndpointID (sub-option 29)",
        ));
    };
    dm.begin(Requester::Internal);
    let result = apply_in(dm, eid, c);
    match &result {
        Ok(_) => dm.commit(),
        Err(_) => dm.abort(),
    }
    result
}

fn apply_in(dm: &mut DataModel, eid: &str, c: &DhcpController) -> Result<String, UspError> {
    let n = row_with(dm, "Device.LocalAgent.Controller.{i}.", &[], "EndpointID", eid);
    let row = format!("Device.LocalAgent.Controller.{n}.");
    let set = |dm: &mut DataModel, path: String, value: &str| dm.apply_default(&path, value, false);
    if n == 0 {
        return Err(UspError::new(ErrorCode::InternalError, "no Controller table"));
    }
    set(dm, format!("{row}EndpointID"), eid)?;
    let fields = [
        ("ProvisioningCode", &c.provisioning_code),
        ("USPNotifRetryMinimumWaitInterval", &c.retry_min_wait),
        ("USPNotifRetryIntervalMultiplier", &c.retry_multiplier),
    ];
    for (name, value) in fields {
        if let Some(v) = value {
            set(dm, format!("{row}{name}"), v)?;
        }
    }
    match c.url.as_deref().map(|u| (u, websocket_url(u))) {
        Some((_, Some((host, port, path, tls)))) => {
            let table = "Device.LocalAgent.Controller.{i}.MTP.{i}.";
            let m = row_with(dm, table, &[n], "Protocol", "WebSocket");
            let mtp = format!("{row}MTP.{m}.");
            set(dm, format!("{mtp}Protocol"), "WebSocket")?;
            set(dm, format!("{mtp}Enable"), "true")?;
            set(dm, format!("{mtp}WebSocket.Host"), &host)?;
            set(dm, format!("{mtp}WebSocket.Port"), &port.to_string())?;
            set(dm, format!("{mtp}WebSocket.Path"), &path)?;
            set(
                dm,
                format!("{mtp}WebSocket.EnableEncryption"),
                if tls { "true" } else { "false" },
            )?;
        }
        Some((url, None)) => {
            log::warn!("DHCP: controller URL {url:?} is not a WebSocket URL; not applied")
        }
        None => {}
    }
    Ok(row)
}

/// The number of the row of `table` (under `parent`) whose `param` is `value`, else the next
/// free number (the row is created by the first write); 0 when the table is not declared.
fn row_with(dm: &mut DataModel, table: &str, parent: &[u32], param: &str, value: &str) -> u32 {
    let schema = dm.schema();
    let Some(obj) = schema.obj_by_path(table) else { return 0 };
    let Some(p) = schema.param_by_name(obj, param) else { return 0 };
    let rows = dm.row_numbers(obj, parent);
    for n in &rows {
        let numbers: Vec<u32> = parent.iter().copied().chain([*n]).collect();
        let v = dm.read_params(&Requester::Internal, obj, &numbers, &[p]);
        if matches!(v.first(), Some(Ok(v)) if v.to_string() == value) {
            return *n;
        }
    }
    rows.iter().max().map_or(1, |m| m + 1)
}

/// Reads the option from `file` (hex text), decodes and applies it; a file that is missing,
/// empty or undecodable is logged and changes nothing.
pub fn apply_file(dm: &mut DataModel, file: &std::path::Path) -> Option<String> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) if !t.trim().is_empty() => t,
        Ok(_) => return None,
        Err(e) => {
            log::info!("DHCP option 125: {} not read: {e}", file.display());
            return None;
        }
    };
    let applied = from_hex(&text).and_then(|bytes| decode(&bytes)).map_err(|e| e.to_string());
    match applied.and_then(|c| apply(dm, &c).map_err(|e| e.msg.to_string())) {
        Ok(row) => {
            log::info!("DHCP option 125: controller applied to {row}");
            if let Err(e) = dm.flush() {
                log::error!("DHCP option 125: not persisted: {e}");
            }
            Some(row)
        }
        Err(e) => {
            log::warn!("DHCP option 125 in {}: {e}; nothing applied", file.display());
            None
        }
    }
}

#[cfg(test)]
#[path = "dhcp_tests.rs"]
mod tests;
