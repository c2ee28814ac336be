//! The USP Record layer: which Records are accepted, answered or ignored, and the Connect and
//! Disconnect Records the MTP layer sends.
//!
//! Rules (TR-369 "Message Transfer Protocols" and TP-469 §2–3):
//!
//! - Bytes that are not a Record (garbage, truncated) are logged and dropped: R-MTP.5 allows an
//!   Error reply only when the Message ID can be extracted, which needs a decodable Record.
//! - `to_id` other than our Endpoint ID (R-E2E.1, TP-469 2.2), an empty `from_id`, or a
//!   `from_id` equal to ours (TP-469 2.1): ignored silently.
//! - A `from_id` other than the Endpoint ID the MTP session is bound to (a WebSocket peer, the
//!   identity in a client certificate): ignored (R-SEC.0a).
//! - A `from_id` that is not a known controller: added with the `UntrustedRole` when one is
//!   set, else ignored (see `untrusted` and [`Core::is_known_controller`]).
//! - Every `version` is accepted (a newer peer "can expect to receive messages it may not
//!   understand", which the message layer answers with 7001); the reply carries the request's
//!   version when it is one of [`SUPPORTED_VERSIONS`], else [`OWN_VERSION`].
//! - A SessionContext Record: handed to the session layer (`e2e`), which answers a
//!   DisconnectRecord 7106 "Session Context not allowed" (R-E2E.6a) when the controller's
//!   `E2ESession.SessionMode` is `Forbid`.
//! - A NoSessionContext Record from a controller whose `SessionMode` is `Require`: ignored.
//! - WebSocket, MQTT, STOMP and UDS Connect Records and Disconnect Records from the controller:
//!   consumed silently (they only matter to a controller).
//! - A NoSessionContext Record whose `payload_security` is not PLAINTEXT (TLS12 needs a session
//!   context, R-E2E.41) or whose payload is not a `usp.Msg`: logged and dropped (the msg_id
//!   cannot be extracted).

use usp_datamodel::ErrorCode;
use usp_datamodel::plugin::Requester;
use usp_proto::msg::Msg;
use usp_proto::record::mqtt_connect_record::MqttVersion;
use usp_proto::record::record::{PayloadSecurity, RecordType};
use usp_proto::record::stomp_connect_record::StompVersion;
use usp_proto::record::{
    DisconnectRecord, MqttConnectRecord, Record, StompConnectRecord, UdsConnectRecord,
    WebSocketConnectRecord,
};

use super::{Core, OWN_VERSION, Outgoing, SUPPORTED_VERSIONS};

/// The MTP a Connect Record announces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectKind {
    /// WebSocketConnectRecord.
    WebSocket,
    /// MQTTConnectRecord.
    Mqtt {
        /// The MQTT protocol version in use.
        version: MqttVersion,
        /// The topic the agent subscribed to (where controllers reach it).
        subscribed_topic: String,
    },
    /// STOMPConnectRecord.
    Stomp {
        /// The STOMP protocol version in use.
        version: StompVersion,
        /// The destination the agent subscribed to.
        subscribed_destination: String,
    },
    /// UDSConnectRecord.
    Uds,
}

/// A Connect Record from `from_id` (the agent) to `to_id` (the controller), sent by the MTP
/// layer once a channel is up (R-MTP.6, R-MTP.8).
pub fn connect_record(kind: ConnectKind, to_id: &str, from_id: &str) -> Record {
    let record_type = match kind {
        ConnectKind::WebSocket => RecordType::WebsocketConnect(WebSocketConnectRecord {}),
        ConnectKind::Mqtt { version, subscribed_topic } => {
            RecordType::MqttConnect(MqttConnectRecord { version: version.into(), subscribed_topic })
        }
        ConnectKind::Stomp { version, subscribed_destination } => {
            RecordType::StompConnect(StompConnectRecord {
                version: version.into(),
                subscribed_destination,
            })
        }
        ConnectKind::Uds => RecordType::UdsConnect(UdsConnectRecord {}),
    };
    bare_record(OWN_VERSION, to_id, from_id, record_type)
}

/// A DisconnectRecord with a reason text and a Record error code (7100–7199, R-MTP.9).
pub fn disconnect_record(to_id: &str, from_id: &str, reason: &str, code: ErrorCode) -> Record {
    disconnect_versioned(OWN_VERSION, to_id, from_id, reason, code)
}

pub(crate) fn disconnect_versioned(
    version: &str,
    to_id: &str,
    from_id: &str,
    reason: &str,
    code: ErrorCode,
) -> Record {
    let record_type = RecordType::Disconnect(DisconnectRecord {
        reason: reason.into(),
        reason_code: code.code(),
    });
    bare_record(version, to_id, from_id, record_type)
}

fn bare_record(version: &str, to_id: &str, from_id: &str, record_type: RecordType) -> Record {
    Record {
        version: version.into(),
        to_id: to_id.into(),
        from_id: from_id.into(),
        payload_security: PayloadSecurity::Plaintext.into(),
        mac_signature: Vec::new(),
        sender_cert: Vec::new(),
        record_type: Some(record_type),
    }
}

/// The version to answer a Record of version `theirs` with.
pub fn reply_version(theirs: &str) -> &'static str {
    SUPPORTED_VERSIONS.iter().copied().find(|v| *v == theirs).unwrap_or(OWN_VERSION)
}

/// What [`Core::handle_record`] made of the bytes it was given.
#[must_use]
#[derive(Clone, Debug, PartialEq)]
pub enum Handled {
    /// The bytes were a USP Record (answered, or ignored by the rules of the module doc); the
    /// Records to send in return (often none).
    Record(Vec<Outgoing>),
    /// The bytes were not a USP Record (garbage, truncated): nothing to send. A host whose
    /// transport cannot resynchronise (a WebSocket session) closes it.
    NotARecord,
}

impl Handled {
    /// The Records to send (none for [`Handled::NotARecord`]).
    pub fn outgoing(self) -> Vec<Outgoing> {
        match self {
            Handled::Record(out) => out,
            Handled::NotARecord => Vec::new(),
        }
    }
}

impl IntoIterator for Handled {
    type Item = Outgoing;
    type IntoIter = std::vec::IntoIter<Outgoing>;

    /// Iterates over the Records to send.
    fn into_iter(self) -> Self::IntoIter {
        self.outgoing().into_iter()
    }
}

/// Shown every received Record once it is decoded (the daemon's `-p` protocol trace), with its
/// Msg when it is a plaintext NoSessionContext Record carrying one; so the host never decodes
/// a Record a second time to log it.
pub trait TraceHook {
    /// `record` was received (before any check of its addressing); `msg` is its decoded Msg.
    fn received(&mut self, record: &Record, msg: Option<&Msg>);
}

/// Handles one received Record (see the module documentation); `peer` is the Endpoint ID its
/// MTP session is bound to, if any.
pub(super) fn handle(core: &mut Core, bytes: &[u8], peer: Option<&str>) -> Handled {
    let record = match Record::from_bytes(bytes) {
        Ok(r) => r,
        Err(e) => {
            log::warn!("dropping {} bytes that are not a USP Record: {e}", bytes.len());
            return Handled::NotARecord;
        }
    };
    // The Msg is decoded once, here, for the trace and for the message layer; one with more
    // items than a request may carry is refused undecoded (see `precheck`).
    let msg = match &record.record_type {
        Some(RecordType::NoSessionContext(nsc))
            if record.payload_security == i32::from(PayloadSecurity::Plaintext) =>
        {
            Some(core.decode_request(&record.from_id, &nsc.payload))
        }
        _ => None,
    };
    if let Some(hook) = core.trace.as_mut() {
        hook.received(&record, msg.as_ref().and_then(|m| m.as_ref().ok()));
    }
    Handled::Record(answer(core, record, msg, peer))
}

/// The answer to a decoded Record; `msg` is its payload decoded (plaintext NoSessionContext
/// Records only), or why it was not: `Err(None)` nothing to answer, `Err(Some(error))` the
/// Error to answer a request too large to decode.
fn answer(
    core: &mut Core,
    record: Record,
    msg: Option<Result<Msg, Option<Box<Msg>>>>,
    peer: Option<&str>,
) -> Vec<Outgoing> {
    if record.to_id != core.endpoint_id {
        log::debug!("ignoring a Record for {:?}", super::short(&record.to_id));
        return Vec::new();
    }
    if record.from_id.is_empty() || record.from_id == core.endpoint_id {
        log::warn!("ignoring a Record from {:?}", super::short(&record.from_id));
        return Vec::new();
    }
    let from = record.from_id.clone();
    if let Some(peer) = peer.filter(|p| *p != from) {
        log::warn!(
            "ignoring a Record from {:?} on the session of {:?}",
            super::short(&from),
            super::short(peer)
        );
        return Vec::new();
    }
    if !core.is_known_controller(&from) && !core.admit_unknown(&from) {
        return Vec::new();
    }
    let version = reply_version(&record.version);
    if !SUPPORTED_VERSIONS.contains(&record.version.as_str()) {
        log::info!("{from}: Record version {:?}; answering with {version}", record.version);
    }
    match record.record_type {
        None => {
            log::warn!("{from}: Record without a record type ignored");
            Vec::new()
        }
        Some(RecordType::SessionContext(sc)) => {
            core.session_record(&from, version, record.payload_security, sc)
        }
        Some(
            RecordType::WebsocketConnect(_)
            | RecordType::MqttConnect(_)
            | RecordType::StompConnect(_)
            | RecordType::UdsConnect(_),
        ) => {
            log::debug!("{from}: Connect Record");
            Vec::new()
        }
        Some(RecordType::Disconnect(d)) => {
            log::info!("{from}: Disconnect Record {} ({})", d.reason_code, d.reason);
            Vec::new()
        }
        Some(RecordType::NoSessionContext(_)) => {
            if !core.serves_without_session(&from) {
                log::warn!("{from}: SessionMode is Require; a Record without session ignored");
                return Vec::new();
            }
            let msg = match msg {
                None => {
                    log::warn!("{from}: payload security without a session context; ignored");
                    return Vec::new();
                }
                Some(Ok(m)) => m,
                Some(Err(None)) => return Vec::new(),
                Some(Err(Some(refusal))) => {
                    let record =
                        Record::no_session_context_msg(version, &from, &core.endpoint_id, &refusal);
                    return vec![Outgoing { to: from, record, in_reply: true }];
                }
            };
            match core.handle_msg(&from, msg) {
                Some(reply) => {
                    let record =
                        Record::no_session_context_msg(version, &from, &core.endpoint_id, &reply);
                    vec![Outgoing { to: from, record, in_reply: true }]
                }
                None => Vec::new(),
            }
        }
    }
}

impl Core {
    /// True when `eid` may talk to this agent: it is the `EndpointID` of a row of
    /// `Device.LocalAgent.Controller.{i}.`. Runs for every Record: it reads only the rows'
    /// EndpointID and builds no string.
    ///
    /// When the data model has no such table (a test or tool without the LocalAgent module),
    /// every controller is accepted.
    pub fn is_known_controller(&mut self, eid: &str) -> bool {
        let Some((table, param)) = self.controller_table() else { return true };
        self.controller_numbers(table).into_iter().any(|n| {
            let value = self.dm.read_params(&Requester::Internal, table, &[n], &[param]);
            matches!(value.first(), Some(Ok(v)) if v.as_str() == Some(eid))
        })
    }

    /// The Controller table and its EndpointID parameter, if declared (looked up once, in
    /// [`Core::new`]).
    pub(crate) fn controller_table(
        &self,
    ) -> Option<(usp_datamodel::schema::ObjId, usp_datamodel::schema::ParamId)> {
        self.controllers
    }

    /// The instance numbers of the rows of the Controller table `table`.
    fn controller_numbers(&mut self, table: usp_datamodel::schema::ObjId) -> Vec<u32> {
        self.dm.row_numbers(table, &[])
    }

    /// Every Controller row with its EndpointID.
    pub(crate) fn controller_rows(
        &mut self,
        table: usp_datamodel::schema::ObjId,
        param: usp_datamodel::schema::ParamId,
    ) -> Vec<(u32, String)> {
        let rows = self.controller_numbers(table);
        let mut out = Vec::with_capacity(rows.len());
        for n in rows {
            let value = self.dm.read_params(&Requester::Internal, table, &[n], &[param]);
            if let Some(Ok(v)) = value.into_iter().next() {
                out.push((n, v.to_string()));
            }
        }
        out
    }

    /// The `Recipient` of a subscription the controller `eid` creates: its instance path
    /// without the trailing dot (`Device.LocalAgent.Controller.2`), `None` when it is not a
    /// row of the Controller table.
    pub(super) fn recipient_of(&mut self, eid: &str) -> Option<String> {
        let (table, param) = self.controller_table()?;
        let row = self.controller_rows(table, param).into_iter().find(|(_, e)| e == eid)?.0;
        Some(format!("Device.LocalAgent.Controller.{row}"))
    }
}
