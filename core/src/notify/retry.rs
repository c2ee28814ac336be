//! Notifications sent with `send_resp=true` until their NotifyResp (TR-369 R-NOT.1–4).
//!
//! - Retry `n` waits a random time in the n-th window of the recipient controller's
//!   `USPNotifRetryMinimumWaitInterval` (m) and `USPNotifRetryIntervalMultiplier` (k):
//!   `[m·(k/1000)^(n-1), m·(k/1000)^n]` seconds, from the tenth retry on always the tenth window
//!   (R-NOT.2). The parameters are read at each retry, so a change applies to the next wait.
//!   The randomness comes from a xorshift generator seeded by the core's msg_id prefix: the core
//!   reads no clock and tests are reproducible.
//! - Each retry sends the same Notify with the same msg_id, so a NotifyResp to any copy ends the
//!   retries. A NotifyResp counts only when its `subscription_id` is that of the Notify
//!   (R-NOT.16); an Error message with the Notify's msg_id also ends them (the controller got
//!   it and will not answer better).
//! - `NotifExpiration` (seconds from the first send, 0 = never) drops the notification when
//!   it runs out. OnBoardRequest never expires.
//! - Retries are timer driven: the core hands each copy out whether or not a connection is
//!   up, so they survive a lost connection.
//! - Notifications of `Persistent` subscriptions are also written to the store (a private item
//!   `notify/<msg_id>`) and sent again after a restart, with the retry count back at zero
//!   (R-NOT.4) and the expiration kept (counted on the wall clock when it is known).
//! - A notification whose subscription is deleted is dropped.

use std::time::Duration;

use usp_datamodel::DataModel;
use usp_datamodel::plugin::{Now, Requester};
use usp_proto::record::Record;
use usp_util::retry::RetryPolicy;

use crate::{Core, OWN_VERSION, Outgoing, PendingNotify};

/// Prefix of the private store items of persisted notifications.
const META_PREFIX: &str = "notify/";

/// From this retry on, the window stays the same (R-NOT.2).
const LAST_WINDOW: u32 = 10;

/// A Notify waiting for its NotifyResp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pending {
    /// Recipient, msg_id and subscription ID.
    pub info: PendingNotify,
    /// The recipient controller's instance number (its retry parameters).
    pub controller: u32,
    /// The subscription row, `None` for OnBoardRequest.
    pub sub_row: Option<u32>,
    /// The encoded Msg.
    pub payload: Vec<u8>,
    /// Retries sent so far.
    pub retries: u32,
    /// Uptime of the next retry.
    pub next_at: Duration,
    /// Uptime at which it is given up, if ever.
    pub expires_at: Option<Duration>,
    /// `NotifExpiration` and the wall-clock seconds of the first send, when persisted.
    pub persisted: Option<(u32, Option<i64>)>,
}

impl Pending {
    /// When this notification next needs the core.
    pub(crate) fn wake_at(&self) -> Duration {
        self.expires_at.map_or(self.next_at, |e| e.min(self.next_at))
    }

    fn meta_key(&self) -> String {
        format!("{META_PREFIX}{}", self.info.msg_id)
    }

    /// The persisted form: one field per line, the payload in hex.
    fn encode(&self, expiration: u32, first_wall: Option<i64>) -> String {
        let hex: String = self.payload.iter().map(|b| format!("{b:02x}")).collect();
        let row = self.sub_row.map(|r| r.to_string()).unwrap_or_default();
        let wall = first_wall.map(|w| w.to_string()).unwrap_or_default();
        let i = &self.info;
        format!(
            "{}\n{}\n{}\n{row}\n{expiration}\n{wall}\n{hex}",
            i.to, self.controller, i.subscription_id
        )
    }
}

/// Parses a persisted notification: (to, controller, subscription ID, row, expiration, first
/// wall-clock second, payload).
type Decoded = (String, u32, String, Option<u32>, u32, Option<i64>, Vec<u8>);

fn decode(text: &str) -> Option<Decoded> {
    let mut lines = text.split('\n');
    let to = lines.next()?.to_owned();
    let controller = lines.next()?.parse().ok()?;
    let id = lines.next()?.to_owned();
    let row = lines.next()?;
    let row = if row.is_empty() { None } else { Some(row.parse().ok()?) };
    let expiration = lines.next()?.parse().ok()?;
    let wall = lines.next()?;
    let wall = if wall.is_empty() { None } else { Some(wall.parse().ok()?) };
    let hex = lines.next()?.as_bytes();
    if hex.len() % 2 != 0 || lines.next().is_some() {
        return None;
    }
    let payload = hex
        .chunks(2)
        .map(|c| std::str::from_utf8(c).ok().and_then(|s| u8::from_str_radix(s, 16).ok()))
        .collect::<Option<Vec<u8>>>()?;
    Some((to, controller, id, row, expiration, wall, payload))
}

/// The retry policy of controller `n` (TR-369 defaults when unreadable).
fn policy(dm: &mut DataModel, controller: u32) -> RetryPolicy {
    let mut policy = RetryPolicy { min_wait_secs: 5, multiplier_permille: 2000, max_wait_secs: 0 };
    let Some(table) = dm.schema().obj_by_path("Device.LocalAgent.Controller.{i}.") else {
        return policy;
    };
    let names = ["USPNotifRetryMinimumWaitInterval", "USPNotifRetryIntervalMultiplier"];
    let params: Vec<_> = names.iter().filter_map(|n| dm.schema().param_by_name(table, n)).collect();
    if params.len() != 2 {
        return policy;
    }
    let values = dm.read_params(&Requester::Internal, table, &[controller], &params);
    let number = |i: usize| {
        values.get(i).and_then(|v| v.as_ref().ok()).and_then(|v| v.as_u64()).map(|n| n as u32)
    };
    if let Some(m) = number(0) {
        policy.min_wait_secs = m;
    }
    if let Some(k) = number(1) {
        policy.multiplier_permille = k;
    }
    policy
}

impl Core {
    /// A uniform number in `[0, 1)` from the core's generator (xorshift64).
    fn random_unit(&mut self) -> f64 {
        let r = &mut self.notifier.rng;
        *r ^= *r << 13;
        *r ^= *r >> 7;
        *r ^= *r << 17;
        (*r >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The wait before retry number `attempt` to controller `controller`.
    fn retry_delay(&mut self, controller: u32, attempt: u32) -> Duration {
        let unit = self.random_unit();
        policy(&mut self.dm, controller).delay(attempt.min(LAST_WINDOW), unit)
    }

    /// Starts retrying a Notify just sent: schedules the first retry, persists it when its
    /// subscription is persistent (`persist` = its NotifExpiration).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn track_notify(
        &mut self,
        info: PendingNotify,
        controller: u32,
        sub_row: Option<u32>,
        payload: Vec<u8>,
        expiration: u32,
        persist: bool,
    ) {
        let now = self.dm.now();
        let next_at = now.uptime + self.retry_delay(controller, 1);
        let expires_at = (expiration > 0).then(|| now.uptime + secs(i64::from(expiration)));
        let first_wall = (!now.wall.is_unknown()).then_some(now.wall.secs);
        let mut p = Pending {
            info,
            controller,
            sub_row,
            payload,
            retries: 0,
            next_at,
            expires_at,
            persisted: None,
        };
        if persist {
            self.dm.set_meta(&p.meta_key(), &p.encode(expiration, first_wall));
            p.persisted = Some((expiration, first_wall));
        }
        self.notifier.pending.push(p);
    }

    /// Sends the retries that are due and drops the expired notifications.
    pub(crate) fn retry_due(&mut self, now: Duration, out: &mut Vec<Outgoing>) {
        let mut pending = std::mem::take(&mut self.notifier.pending);
        pending.retain(|p| {
            let expired = p.expires_at.is_some_and(|e| e <= now);
            if expired {
                log::info!("{}: Notify {} expired without NotifyResp", p.info.to, p.info.msg_id);
                if p.persisted.is_some() {
                    self.dm.remove_meta(&p.meta_key());
                }
            }
            !expired
        });
        for p in pending.iter_mut().filter(|p| p.next_at <= now) {
            p.retries += 1;
            log::debug!("{}: Notify {} retry {}", p.info.to, p.info.msg_id, p.retries);
            out.push(self.notify_outgoing(&p.info.to, p.payload.clone()));
            p.next_at = now + self.retry_delay(p.controller, p.retries + 1);
        }
        pending.append(&mut self.notifier.pending);
        self.notifier.pending = pending;
    }

    /// A Record carrying an agent-originated Msg to `to`.
    pub(crate) fn notify_outgoing(&self, to: &str, payload: Vec<u8>) -> Outgoing {
        let record = Record::no_session_context(OWN_VERSION, to, &self.endpoint_id, payload);
        Outgoing { to: to.to_owned(), record, in_reply: false }
    }

    /// A NotifyResp (or an Error) from `from` for `msg_id`: stops its retries. With
    /// `subscription_id` given, it must be the Notify's (R-NOT.16).
    pub(crate) fn acknowledge_notify(
        &mut self,
        from: &str,
        msg_id: &str,
        subscription_id: Option<&str>,
    ) {
        let found = self.notifier.pending.iter().position(|p| {
            p.info.to == from
                && p.info.msg_id == msg_id
                && subscription_id.is_none_or(|s| s == p.info.subscription_id)
        });
        match found {
            Some(i) => {
                let p = self.notifier.pending.remove(i);
                if p.persisted.is_some() {
                    self.dm.remove_meta(&p.meta_key());
                }
                if p.sub_row.is_none() {
                    self.onboard_acknowledged(p.controller);
                }
            }
            None => log::debug!("{from}: response {msg_id} ({subscription_id:?}) for no Notify"),
        }
    }

    /// Drops the notifications whose subscription row is no longer indexed.
    pub(crate) fn forget_orphaned_notifies(&mut self) {
        let subs = &self.notifier.index.subs;
        let alive = |p: &Pending| {
            p.sub_row.is_none_or(|r| subs.iter().any(|s| s.row == r && s.to == p.info.to))
        };
        let (keep, gone): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.notifier.pending).into_iter().partition(alive);
        self.notifier.pending = keep;
        for p in gone.into_iter().filter(|p| p.persisted.is_some()) {
            self.dm.remove_meta(&p.meta_key());
        }
    }

    /// Sends again the notifications persisted before a restart and resumes their retries.
    pub(crate) fn restore_notifies(&mut self, now: Now, out: &mut Vec<Outgoing>) {
        let stored: Vec<(String, String)> = self
            .dm
            .meta_with_prefix(META_PREFIX)
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        for (key, text) in stored {
            let msg_id = key[META_PREFIX.len()..].to_owned();
            let Some((to, controller, subscription_id, sub_row, expiration, wall, payload)) =
                decode(&text)
            else {
                log::warn!("dropping the unreadable stored notification {key}");
                self.dm.remove_meta(&key);
                continue;
            };
            let left = match (expiration, wall) {
                (0, _) => None,
                (e, Some(first)) if !now.wall.is_unknown() => {
                    Some(first + i64::from(e) - now.wall.secs)
                }
                (e, _) => Some(i64::from(e)),
            };
            if left.is_some_and(|l| l <= 0) {
                self.dm.remove_meta(&key);
                continue;
            }
            out.push(self.notify_outgoing(&to, payload.clone()));
            let info = PendingNotify { to, msg_id, subscription_id };
            let next_at = now.uptime + self.retry_delay(controller, 1);
            self.notifier.pending.push(Pending {
                info,
                controller,
                sub_row,
                payload,
                retries: 0,
                next_at,
                expires_at: left.map(|l| now.uptime + secs(l)),
                persisted: Some((expiration, wall)),
            });
        }
        self.forget_orphaned_notifies();
    }
}

/// Whole seconds as a duration (negative: zero).
fn secs(s: i64) -> Duration {
    Duration::from_secs(s.max(0).unsigned_abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persisted_form_round_trips_and_rejects_damage() {
        let p = Pending {
            info: PendingNotify {
                to: "a::b".into(),
                msg_id: "1f-3".into(),
                subscription_id: "s".into(),
            },
            controller: 2,
            sub_row: Some(7),
            payload: vec![0, 1, 0xab, 0xff],
            retries: 3,
            next_at: Duration::ZERO,
            expires_at: None,
            persisted: None,
        };
        let text = p.encode(30, Some(1_700_000_000));
        let d = decode(&text).expect("decodes");
        assert_eq!(
            d,
            ("a::b".into(), 2, "s".into(), Some(7), 30, Some(1_700_000_000), p.payload.clone())
        );
        let none = Pending { sub_row: None, ..p }.encode(0, None);
        assert_eq!(decode(&none).expect("decodes").3, None);
        assert_eq!(decode(&text[..text.len() - 1]), None, "odd hex");
        assert_eq!(decode("a::b\nx\ns\n\n0\n\n00"), None, "bad controller");
        assert_eq!(decode(&format!("{text}\nmore")), None);
        assert_eq!(decode(""), None);
    }
}
