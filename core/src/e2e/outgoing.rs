//! Agent-originated traffic of the session layer: notifications put into a controller's
//! session, `E2ESession.Reset()`, and the expiry of idle sessions.
//!
//! Never touches answers (`in_reply` Records): they already went out in the form of the
//! Record they answer.

use usp_datamodel::ErrorCode;
use usp_proto::record::record::RecordType;

use super::{Failure, Mode, Sessions};
use crate::{Core, OWN_VERSION, Outgoing};

impl Core {
    /// Puts the agent-originated Msgs of `out` to controllers that use a session into it (see
    /// the `e2e` module doc for when); the others are left as they are.
    pub(crate) fn wrap_in_sessions(&mut self, out: &mut Vec<Outgoing>) {
        let candidate = |o: &Outgoing| {
            !o.in_reply && matches!(o.record.record_type, Some(RecordType::NoSessionContext(_)))
        };
        if self.e2e.ids.is_none() || !out.iter().any(candidate) {
            return;
        }
        for o in std::mem::take(out) {
            if !candidate(&o) {
                out.push(o);
                continue;
            }
            let Some(RecordType::NoSessionContext(nsc)) = &o.record.record_type else { continue };
            match self.session_for(&o.to) {
                Some(max_record) => {
                    let msg = Some(nsc.payload.clone());
                    out.extend(self.wrap_for(&o.to, msg, max_record));
                }
                None => out.push(o),
            }
        }
    }

    /// The `MaxUSPRecordSize` of the session an agent-originated Msg to `to` goes in, opening
    /// one when needed; `None`: it goes without a session.
    fn session_for(&mut self, to: &str) -> Option<u32> {
        let (config, row) = self.e2e_config(to);
        let now = self.dm.now().uptime;
        let usable = match self.e2e.by_controller.get(to) {
            _ if config.mode == Mode::Forbid => {
                self.e2e.by_controller.remove(to);
                return None;
            }
            Some((s, _)) => !s.expired(now, config.expiration),
            None if config.mode == Mode::Require => false,
            None => return None,
        };
        if !usable {
            let session = self.open_session(OWN_VERSION);
            log::info!("{to}: session context {} opened by the agent", session.id);
            self.e2e.by_controller.insert(to.into(), (session, config.expiration));
            self.e2e_status(row, "Negotiating");
        }
        Some(config.max_record)
    }

    /// The Records carrying `msg` in the session of `to` (which exists).
    fn wrap_for(&mut self, to: &str, msg: Option<Vec<u8>>, max_record: u32) -> Vec<Outgoing> {
        let now = self.dm.now().uptime;
        let from = self.endpoint_id.clone();
        let Some((session, _)) = self.e2e.by_controller.get_mut(to) else { return Vec::new() };
        let records = session.wrap(to, &from, msg, max_record, now);
        records
            .into_iter()
            .map(|record| Outgoing { to: to.into(), record, in_reply: false })
            .collect()
    }

    /// `Controller.{numbers}.E2ESession.Reset()`: restarts the session with that controller,
    /// or, under `SessionMode` `Forbid`, ends the one that is up with a DisconnectRecord 7105.
    pub(crate) fn e2e_reset(&mut self, numbers: &[u32], out: &mut Vec<Outgoing>) {
        let Some((table, param)) = self.controller_table() else { return };
        let Some(row) = numbers.first().copied() else { return };
        let Some((_, eid)) =
            self.controller_rows(table, param).into_iter().find(|(n, _)| *n == row)
        else {
            return;
        };
        let (config, row) = self.e2e_config(&eid);
        let previous = self.e2e.by_controller.remove(&eid);
        if config.mode != Mode::Forbid {
            out.extend(self.restart_session(&eid, &config, row, Failure::Requested, false));
        } else if previous.is_some_and(|(s, _)| s.live) {
            log::info!("{eid}: session context terminated by Reset()");
            out.extend(self.disconnect(
                &eid,
                OWN_VERSION,
                ErrorCode::SessionContextTerminated,
                false,
            ));
            self.e2e_status(row, "Down");
        }
    }

    /// Marks the sessions idle for their `SessionExpiration` as expired (`Status` `Down`).
    pub(crate) fn e2e_expire(&mut self) {
        let now = self.dm.now().uptime;
        let expired: Vec<String> = self
            .e2e
            .by_controller
            .iter_mut()
            .filter(|(_, (s, secs))| s.live && s.expired(now, *secs))
            .map(|(eid, (s, _))| {
                s.live = false;
                eid.clone()
            })
            .collect();
        for eid in expired {
            log::info!("{eid}: session context expired");
            let (_, row) = self.e2e_config(&eid);
            self.e2e_status(row, "Down");
        }
    }

    /// The next session expiry, for [`Core::poll_timeout`].
    pub(crate) fn e2e_timer(&self) -> Option<std::time::Duration> {
        Sessions::next_timer(&self.e2e)
    }
}
