//! The subscriptions of a connection that is up, and their changes in place (TR-181
//! `Subscription.{i}.Enable`: "a SUBSCRIBE or UNSUBSCRIBE message MUST be sent directly";
//! R-MQTT.34): a new configured list is planned with R-MQTT.15 against the CONNACK the
//! connection got, new filters are subscribed first (one SUBSCRIBE), removed ones unsubscribed
//! after (one UNSUBSCRIBE each), and the answers are matched to them in order.
//!
//! Owns that bookkeeping ([`Live`]), shared by the owner's handle (which starts changes) and the
//! link thread (which reads the answers) under the link's lock. Never waits for the network.
//! A change that would move the link's own topic (the MQTTConnectRecord's `subscribed_topic`) or
//! leave nothing to subscribe to is refused: the link is restarted for it.

use std::collections::VecDeque;

use super::config::MqttConfig;
use super::requests::Handle;
use super::topics::{self, Connack, Plan};
use crate::RestartNeeded;

/// What a connection that is up has subscribed, and the changes in flight.
#[derive(Debug)]
pub(super) struct Live {
    /// `MqttConfig::v5`.
    v5: bool,
    /// `MqttConfig::response_topic`.
    response_topic: String,
    /// The QoS of the filters the link adds itself.
    qos: u8,
    /// What the CONNACK said.
    connack: Connack,
    /// The own topic; fixed for the connection.
    own: String,
    /// The filters of the current plan, in order: subscribed or being subscribed.
    filters: Vec<(String, u8)>,
    /// The filters the broker granted.
    granted: Vec<String>,
    /// The SUBSCRIBEs of changes awaiting their SUBACK, oldest first.
    subscribing: VecDeque<Pending>,
    /// The filters of UNSUBSCRIBEs awaiting their UNSUBACK, oldest first.
    unsubscribing: VecDeque<String>,
}

/// One SUBSCRIBE of a change.
#[derive(Debug, PartialEq, Eq)]
struct Pending {
    /// Its filters, in order.
    filters: Vec<String>,
    /// The index in `filters` of the one delivering the own topic, if it is among them.
    own: Option<usize>,
}

/// The packets one change sends.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Change {
    /// One SUBSCRIBE with these filters (none when empty).
    pub subscribe: Vec<(String, u8)>,
    /// One UNSUBSCRIBE per filter.
    pub unsubscribe: Vec<String>,
}

impl Live {
    /// The state of a connection that subscribed `plan` and was granted `granted`.
    pub(super) fn new(
        cfg: &MqttConfig,
        connack: Connack,
        plan: Plan,
        granted: Vec<String>,
    ) -> Live {
        Live {
            v5: cfg.v5,
            response_topic: cfg.response_topic.clone(),
            qos: cfg.publish_qos.min(1),
            connack,
            own: plan.own,
            filters: plan.filters,
            granted,
            subscribing: VecDeque::new(),
            unsubscribing: VecDeque::new(),
        }
    }

    /// Plans the change to `configured` and queues its packets on `handle`. `Err` when the
    /// link must be restarted instead (see the module documentation, or the queue is full).
    pub(super) fn change(
        &mut self,
        handle: &Handle,
        configured: &[(String, u8)],
    ) -> Result<(), RestartNeeded> {
        let change = self.plan_change(configured)?;
        if !change.subscribe.is_empty() {
            handle.subscribe(&change.subscribe).map_err(|_| RestartNeeded)?;
        }
        for f in &change.unsubscribe {
            handle.unsubscribe(f).map_err(|_| RestartNeeded)?;
        }
        if change != Change::default() {
            log::info!(
                "MQTT: subscribing to {:?}, unsubscribing from {:?} without reconnecting",
                change.subscribe,
                change.unsubscribe
            );
        }
        Ok(())
    }

    /// The packets the change to `configured` needs, recorded as in flight.
    pub(super) fn plan_change(
        &mut self,
        configured: &[(String, u8)],
    ) -> Result<Change, RestartNeeded> {
        let plan = topics::plan(self.v5, configured, &self.connack, &self.response_topic, self.qos)
            .map_err(|_| RestartNeeded)?;
        if plan.own != self.own {
            return Err(RestartNeeded);
        }
        let (subscribe, unsubscribe) = topics::diff(&self.filters, &plan.filters);
        if !subscribe.is_empty() {
            let delivering = plan.delivered_by.map(|i| &plan.filters[i]);
            let own = delivering.and_then(|d| subscribe.iter().position(|f| f == d));
            let filters = subscribe.iter().map(|(f, _)| f.clone()).collect();
            self.subscribing.push_back(Pending { filters, own });
        }
        self.unsubscribing.extend(unsubscribe.iter().cloned());
        self.filters = plan.filters;
        Ok(Change { subscribe, unsubscribe })
    }

    /// A SUBACK arrived: `Ok(Some(subscribed))` when it answered a change (the filters now
    /// subscribed, in order), `Ok(None)` when no change awaited one; `Err` when R-MQTT.17
    /// applies (the filter delivering our own topic was refused): disconnect and retry.
    pub(super) fn on_suback(&mut self, granted: &[bool]) -> Result<Option<Vec<String>>, String> {
        let Some(p) = self.subscribing.pop_front() else {
            log::debug!("MQTT: a SUBACK no SUBSCRIBE of ours awaited");
            return Ok(None);
        };
        if granted.len() != p.filters.len() {
            return Err(format!(
                "SUBACK answers {} filters, {} were asked",
                granted.len(),
                p.filters.len()
            ));
        }
        if let Some(i) = p.own.filter(|i| !granted[*i]) {
            return Err(format!(
                "the subscription to our own topic ({:?}) was refused",
                p.filters[i]
            ));
        }
        for (f, ok) in p.filters.into_iter().zip(granted) {
            if !ok {
                log::warn!("MQTT: the broker refused the subscription to {f:?}");
            } else if !self.granted.contains(&f) {
                self.granted.push(f);
            }
        }
        Ok(Some(self.subscribed()))
    }

    /// An UNSUBACK arrived: the filters now subscribed when it answered a change.
    pub(super) fn on_unsuback(&mut self) -> Option<Vec<String>> {
        let Some(f) = self.unsubscribing.pop_front() else {
            log::debug!("MQTT: an UNSUBACK no UNSUBSCRIBE of ours awaited");
            return None;
        };
        self.granted.retain(|g| *g != f);
        Some(self.subscribed())
    }

    /// The granted filters still wanted, in the plan's order.
    fn subscribed(&self) -> Vec<String> {
        self.filters
            .iter()
            .filter(|(f, _)| self.granted.contains(f))
            .map(|(f, _)| f.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn subs(list: &[(&str, u8)]) -> Vec<(String, u8)> {
        list.iter().map(|(f, q)| (f.to_string(), *q)).collect()
    }

    /// A v5 connection with `ResponseTopicConfigured` "agent/me", subscribed to `configured`
    /// (all granted).
    fn live(configured: &[(&str, u8)]) -> Live {
        let cfg = MqttConfig {
            subscriptions: subs(configured),
            ..crate::mqtt::tests_support::config("agent/me")
        };
        let plan =
            topics::plan(true, &cfg.subscriptions, &Connack::default(), "agent/me", 1).unwrap();
        let granted = plan.filters.iter().map(|(f, _)| f.clone()).collect();
        Live::new(&cfg, Connack::default(), plan, granted)
    }

    #[test]
    fn adding_and_removing_a_filter() {
        let mut l = live(&[("bcast", 0)]);
        assert_eq!(l.subscribed(), ["bcast", "agent/me"]);
        let c = l.plan_change(&subs(&[("bcast", 0), ("extra/#", 1)])).unwrap();
        assert_eq!(c, Change { subscribe: subs(&[("extra/#", 1)]), unsubscribe: vec![] });
        assert_eq!(
            l.on_suback(&[true]),
            Ok(Some(vec!["bcast".into(), "extra/#".into(), "agent/me".into()]))
        );
        let c = l.plan_change(&subs(&[("extra/#", 1)])).unwrap();
        assert_eq!(c, Change { subscribe: vec![], unsubscribe: vec!["bcast".into()] });
        assert_eq!(l.on_unsuback(), Some(vec!["extra/#".into(), "agent/me".into()]));
        assert_eq!(l.on_unsuback(), None, "nothing awaited");
        assert_eq!(l.on_suback(&[true]), Ok(None), "nothing awaited");
    }

    #[test]
    fn a_refused_new_filter_is_left_out_but_a_refused_own_filter_ends_the_connection() {
        let mut l = live(&[]);
        l.plan_change(&subs(&[("x", 1)])).unwrap();
        assert_eq!(l.on_suback(&[false]), Ok(Some(vec!["agent/me".into()])));
        // The own topic moves from "agent/me" to a covering filter: subscribed first, the old
        // one unsubscribed after; its refusal is R-MQTT.17.
        let c = l.plan_change(&subs(&[("x", 1), ("agent/#", 1)])).unwrap();
        assert_eq!(
            c,
            Change { subscribe: subs(&[("agent/#", 1)]), unsubscribe: vec!["agent/me".into()] }
        );
        let e = l.on_suback(&[false]).unwrap_err();
        assert!(e.contains("our own topic"), "{e}");
    }

    #[test]
    fn a_change_moving_the_own_topic_or_leaving_nothing_needs_a_restart() {
        let cfg = crate::mqtt::tests_support::config("");
        let plan = topics::plan(true, &subs(&[("ctl/me", 1)]), &Connack::default(), "", 1).unwrap();
        let mut l = Live::new(&cfg, Connack::default(), plan, vec!["ctl/me".into()]);
        // The own topic is the first exact configured filter: another first one moves it.
        assert_eq!(l.plan_change(&subs(&[("ctl/other", 1), ("ctl/me", 1)])), Err(RestartNeeded));
        assert_eq!(l.plan_change(&[]), Err(RestartNeeded));
        assert_eq!(
            l.plan_change(&subs(&[("ctl/me", 1), ("ctl/+", 0)])).map(|c| c.unsubscribe),
            Ok(vec![])
        );
    }
}
