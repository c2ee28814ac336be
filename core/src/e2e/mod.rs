//! End-to-End Session Contexts (TR-369 "E2E Message Exchange", TP-469 §3.8–3.15): one
//! session state machine per controller, configured by
//! `Device.LocalAgent.Controller.{i}.E2ESession.`.
//!
//! Owns: which received session context Records are processed, buffered, ignored or fail the
//! session; the answers to the Msgs they carry (in the same session); the wrapping of
//! agent-originated messages (notifications) into the controller's session; session expiry
//! and `Reset()`. Never does I/O, and never implements TLS inside Records.
//!
//! Decisions where TR-369 leaves room:
//! - `payload_security` TLS12 is not implemented: such a Record is answered with a
//!   DisconnectRecord 7102 "Secure session not supported" and no session starts.
//! - A failure (a retransmission asked beyond `MaxRetransmitTries` or of a Record no longer
//!   kept, a broken reassembly, a full buffer of early Records, an unknown `session_id` with a
//!   `sequence_id` other than 1, `sequence_id` near exhaustion) restarts the session
//!   (R-E2E.21, 24, 8/9): the agent opens a new one with its own `session_id` by an empty
//!   Record with `sequence_id` 1.
//! - Agent-originated messages use a session when the controller has one, or when one
//!   expired (R-E2E.7: a new one is opened), or when `SessionMode` is `Require`; otherwise
//!   they go without (as before this module). Answers to Records without a session context go
//!   without one (TR-369), except under `Require`, where such Records are not served.
//! - `SessionMode` `Require` is applied at the next interaction: setting it opens no session by
//!   itself (`Reset()` does).
//! - Establishment is not retried on a timer: `SessionRetryMinimumWaitInterval`,
//!   `SessionRetryIntervalMultiplier` and `CurrentRetryCount` are declared but unused, and
//!   `Status` stays `Negotiating` after the agent opened a session until the controller answers.

mod config;
mod outgoing;
mod sar;
mod session;

use std::collections::HashMap;
use std::time::Duration;

use usp_datamodel::ErrorCode;
use usp_proto::record::SessionContextRecord;
use usp_proto::record::record::PayloadSecurity;

use super::{Core, OWN_VERSION, Outgoing};
use config::{Config, Ids, Mode};
use session::{Place, Session};

/// The sessions of every controller.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    by_controller: HashMap<String, (Session, u32)>,
    /// The next `session_id` the agent gives a session it opens.
    next_id: u64,
    ids: Option<Ids>,
}

impl Sessions {
    /// The sessions of an agent started at `start` (wall-clock seconds), whose schema may
    /// declare `E2ESession.`: the agent's `session_id`s start from the start time, so they do
    /// not repeat across restarts when the clock is set (and are always above 1, R-E2E.3).
    pub fn new(dm: &usp_datamodel::DataModel, start: i64) -> Sessions {
        let next_id = (u64::try_from(start).unwrap_or(0) << 20).max(2);
        Sessions { by_controller: HashMap::new(), next_id, ids: Ids::resolve(dm) }
    }

    /// The earliest uptime at which a live session expires.
    pub fn next_timer(&self) -> Option<Duration> {
        self.by_controller
            .values()
            .filter(|(s, secs)| s.live && *secs != 0)
            .map(|(s, secs)| s.last_activity + Duration::from_secs(u64::from(*secs)))
            .min()
    }
}

/// Why a session fails and is restarted.
#[derive(Debug)]
enum Failure {
    /// A retransmission of a Record not kept, or asked too often.
    Retransmit(u64),
    /// Reassembly failed.
    Sar(sar::SarError),
    /// Too many Records ahead of the expected one.
    Overflow,
    /// An unknown `session_id` whose `sequence_id` is not 1.
    UnknownSession(u64),
    /// `sequence_id` near its largest value.
    Exhausted,
    /// `E2ESession.Reset()` was called.
    Requested,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Retransmit(seq) => write!(f, "retransmission of Record {seq} refused"),
            Failure::Sar(e) => write!(f, "reassembly failed: {e:?}"),
            Failure::Overflow => write!(f, "too many Records ahead of the expected one"),
            Failure::UnknownSession(id) => write!(f, "unknown session {id} not starting at 1"),
            Failure::Exhausted => write!(f, "sequence ids near exhaustion"),
            Failure::Requested => write!(f, "Reset() called"),
        }
    }
}

impl Core {
    /// The E2ESession settings and the Controller row of `eid`.
    fn e2e_config(&mut self, eid: &str) -> (Config, Option<u32>) {
        let Some((table, param)) = self.controller_table() else {
            return (Config::default(), None);
        };
        let row = self.controller_rows(table, param).into_iter().find(|(_, e)| e == eid);
        match (row, self.e2e.ids) {
            (Some((n, _)), Some(ids)) => (ids.read(&mut self.dm, n), Some(n)),
            (row, _) => (Config::default(), row.map(|(n, _)| n)),
        }
    }

    fn e2e_status(&mut self, row: Option<u32>, status: &str) {
        if let (Some(row), Some(ids)) = (row, self.e2e.ids) {
            ids.write_status(&mut self.dm, row, status);
        }
    }

    /// Whether a Record without session context from `eid` may be served (not under
    /// `SessionMode` `Require`).
    pub(crate) fn serves_without_session(&mut self, eid: &str) -> bool {
        self.e2e_config(eid).0.mode != Mode::Require
    }

    /// Handles a session context Record from the known controller `from` (see the module doc).
    pub(crate) fn session_record(
        &mut self,
        from: &str,
        version: &str,
        security: i32,
        sc: SessionContextRecord,
    ) -> Vec<Outgoing> {
        let (config, row) = self.e2e_config(from);
        if config.mode == Mode::Forbid {
            log::info!("{from}: session contexts are forbidden; sending Disconnect 7106");
            self.e2e.by_controller.remove(from);
            return self.disconnect(from, version, ErrorCode::SessionContextNotAllowed, true);
        }
        if security != i32::from(PayloadSecurity::Plaintext) {
            log::info!("{from}: TLS payload security is not supported; sending Disconnect 7102");
            return self.disconnect(from, version, ErrorCode::SecureSessionNotSupported, true);
        }
        let now = self.dm.now().uptime;
        let current = self.e2e.by_controller.remove(from).map(|(s, _)| s);
        let mut session = match current {
            Some(s) if s.id == sc.session_id && !s.expired(now, config.expiration) => s,
            _ if sc.sequence_id == 1 && sc.session_id > 1 => {
                log::info!("{from}: session context {} started", sc.session_id);
                Session::new(sc.session_id, version, now)
            }
            _ => {
                let failure = Failure::UnknownSession(sc.session_id);
                return self.restart_session(from, &config, row, failure, true);
            }
        };
        let mut out = Vec::new();
        match self.session_receive(&mut session, from, &config, sc, &mut out) {
            Ok(()) => {
                self.e2e.by_controller.insert(from.into(), (session, config.expiration));
                self.e2e_status(row, "Up");
                out
            }
            Err(failure) => {
                out.extend(self.restart_session(from, &config, row, failure, true));
                out
            }
        }
    }

    /// Places `sc` in the session and processes it and the buffered Records it unblocks.
    fn session_receive(
        &mut self,
        s: &mut Session,
        from: &str,
        config: &Config,
        sc: SessionContextRecord,
        out: &mut Vec<Outgoing>,
    ) -> Result<(), Failure> {
        if s.exhausted(sc.sequence_id) {
            return Err(Failure::Exhausted);
        }
        let mut next = match s.place(sc) {
            (Place::Old, _) => {
                log::debug!("{from}: an already received session Record ignored");
                return Ok(());
            }
            (Place::Buffered, _) => return Ok(()),
            (Place::Overflow, _) => return Err(Failure::Overflow),
            (Place::Next, sc) => sc,
        };
        while let Some(sc) = next {
            self.session_process(s, from, config, sc, out)?;
            next = s.next_buffered();
        }
        Ok(())
    }

    /// Processes the expected Record: its payload (answered in the session), then its
    /// retransmission request (R-E2E.20.3).
    fn session_process(
        &mut self,
        s: &mut Session,
        from: &str,
        config: &Config,
        sc: SessionContextRecord,
        out: &mut Vec<Outgoing>,
    ) -> Result<(), Failure> {
        let now = self.dm.now().uptime;
        s.accepted(&sc, now);
        let retransmit = sc.retransmit_id;
        let msgs = s
            .reassembly
            .take(sc.payload_sar_state, sc.payloadrec_sar_state, sc.payload)
            .map_err(Failure::Sar)?;
        for bytes in msgs {
            let reply = match self.decode_request(from, &bytes) {
                Ok(msg) => self.handle_msg(from, msg),
                Err(refusal) => refusal.map(|m| *m),
            };
            if let Some(reply) = reply {
                for record in
                    s.wrap(from, &self.endpoint_id, Some(reply.to_bytes()), config.max_record, now)
                {
                    out.push(Outgoing { to: from.into(), record, in_reply: true });
                }
            }
        }
        if retransmit != 0 {
            let record = s.retransmit(retransmit, config.max_retransmit);
            let record = record.ok_or(Failure::Retransmit(retransmit))?;
            log::debug!("{from}: session Record {retransmit} sent again");
            out.push(Outgoing { to: from.into(), record, in_reply: true });
        }
        Ok(())
    }

    /// Opens a new session of the agent's with `to` after `failure` (an empty Record with
    /// `sequence_id` 1).
    fn restart_session(
        &mut self,
        to: &str,
        config: &Config,
        row: Option<u32>,
        failure: Failure,
        in_reply: bool,
    ) -> Vec<Outgoing> {
        log::info!("{to}: session context restarted: {failure}");
        let mut session = self.open_session(OWN_VERSION);
        let now = self.dm.now().uptime;
        let records = session.wrap(to, &self.endpoint_id, None, config.max_record, now);
        self.e2e.by_controller.insert(to.into(), (session, config.expiration));
        self.e2e_status(row, "Negotiating");
        records.into_iter().map(|record| Outgoing { to: to.into(), record, in_reply }).collect()
    }

    /// A new session with an id of the agent's.
    fn open_session(&mut self, version: &str) -> Session {
        let id = self.e2e.next_id;
        self.e2e.next_id += 1;
        Session::new(id, version, self.dm.now().uptime)
    }

    /// A DisconnectRecord to `to` with `code` and its TR-369 text.
    fn disconnect(
        &self,
        to: &str,
        version: &str,
        code: ErrorCode,
        in_reply: bool,
    ) -> Vec<Outgoing> {
        let record =
            super::record::disconnect_versioned(version, to, &self.endpoint_id, code.text(), code);
        vec![Outgoing { to: to.into(), record, in_reply }]
    }
}
