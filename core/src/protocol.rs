//! GetSupportedProtocol: the versions this agent speaks, whatever the controller's are.

use usp_proto::msg::{GetSupportedProtocol, GetSupportedProtocolResp};

use super::SUPPORTED_VERSIONS;

/// Answers a GetSupportedProtocol with `"1.0,1.1,1.2,1.3,1.4"`.
pub(super) fn handle(req: &GetSupportedProtocol) -> GetSupportedProtocolResp {
    log::debug!("controller versions: {}", req.controller_supported_protocol_versions);
    GetSupportedProtocolResp { agent_supported_protocol_versions: SUPPORTED_VERSIONS.join(",") }
}
