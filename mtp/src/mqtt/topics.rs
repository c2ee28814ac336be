//! The topic rules of TR-369's MQTT binding, without I/O: which filters to SUBSCRIBE to after a
//! CONNACK (R-MQTT.15/16), the endpoint's own "reply to" address, the 3.1.1 `/reply-to=`
//! suffix (R-MQTT.24/25), the Content Types accepted (R-MQTT.27a), MQTT filter matching, and
//! what to SUBSCRIBE and UNSUBSCRIBE when the filters change on a live connection (R-MQTT.34).
//!
//! Owns only string logic; never talks to a broker (the link thread in `link.rs` does).

/// The Content Type every v5 PUBLISH carries (R-MQTT.27).
pub const CONTENT_TYPE: &str = "usp.msg";

/// The v5 CONNACK User Property naming a filter to subscribe to (R-MQTT.15).
pub const SUBSCRIBE_TOPIC_PROPERTY: &str = "subscribe-topic";

/// The v5 CONNECT User Property carrying the Endpoint ID (R-MQTT.13).
pub const ENDPOINT_ID_PROPERTY: &str = "usp-endpoint-id";

/// The separator of the 3.1.1 "reply to" suffix (R-MQTT.24).
const REPLY_TO: &str = "/reply-to=";

/// What the broker told in its CONNACK that matters for subscribing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Connack {
    /// Every `subscribe-topic` User Property, in order (v5).
    pub subscribe_topics: Vec<String>,
    /// The Response Information property (v5).
    pub response_information: Option<String>,
}

/// The outcome of R-MQTT.15 for one connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The filters of the SUBSCRIBE, with their QoS, deduplicated, in the order of R-MQTT.15.
    pub filters: Vec<(String, u8)>,
    /// The endpoint's own exact topic: its "reply to" (R-MQTT.21/22).
    pub own: String,
    /// The index in `filters` of the first filter delivering Records sent to `own` (for 3.1.1:
    /// to `<own>/reply-to=...`); `None` when no filter does (a 3.1.1 client whose own topic
    /// is an exact configured subscription: it cannot receive answers).
    pub delivered_by: Option<usize>,
}

/// Why no usable plan exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanError {
    /// Nothing to subscribe to at all (R-MQTT.16: disconnect, the MTP is disabled).
    NoTopics,
    /// Filters exist but none is an exact topic the endpoint could give as its "reply to"
    /// (R-MQTT.22 requires one on every PUBLISH).
    NoReplyTopic,
}

/// Applies R-MQTT.15. `configured` are the enabled `Subscription.{i}` filters with their QoS;
/// `response_topic` is `ResponseTopicConfigured` (empty: none); `qos` is used for the filters
/// the endpoint adds itself. Invalid filters are left out with a warning.
///
/// The own address is the Response Information, else the first exact `subscribe-topic`, else
/// `ResponseTopicConfigured`, else the first exact configured filter. For 3.1.1 the configured
/// response topic is subscribed as `<topic>/#` so that `<topic>/reply-to=...` arrives.
pub fn plan(
    v5: bool,
    configured: &[(String, u8)],
    connack: &Connack,
    response_topic: &str,
    qos: u8,
) -> Result<Plan, PlanError> {
    let mut filters: Vec<(String, u8)> = Vec::new();
    let add = |filters: &mut Vec<(String, u8)>, f: &str, q: u8| {
        if !valid_filter(f) {
            log::warn!("MQTT: ignoring invalid topic filter {f:?}");
        } else if !filters.iter().any(|(g, _)| g == f) {
            filters.push((f.to_owned(), q.min(2)));
        }
    };
    for (f, q) in configured {
        add(&mut filters, f, *q);
    }
    if v5 {
        for f in &connack.subscribe_topics {
            add(&mut filters, f, qos);
        }
    }
    let info = connack.response_information.as_deref().filter(|t| v5 && valid_topic(t));
    if let Some(info) = info {
        if !filters.iter().any(|(f, _)| covers(f, info)) {
            add(&mut filters, info, qos);
        }
    } else if valid_topic(response_topic) {
        let needed = if v5 { response_topic.to_owned() } else { format!("{response_topic}/#") };
        if !filters.iter().any(|(f, _)| covers(f, &needed)) {
            add(&mut filters, &needed, qos);
        }
    }
    if filters.is_empty() {
        return Err(PlanError::NoTopics);
    }
    let own = own_topic(v5, configured, connack, response_topic, info);
    let own = own.ok_or(PlanError::NoReplyTopic)?;
    // For 3.1.1, Records arrive on `<own>/reply-to=...`: the delivering filter must cover that.
    let probe = if v5 { own.clone() } else { format!("{own}/#") };
    let delivered_by = filters.iter().position(|(f, _)| covers(f, &probe));
    Ok(Plan { filters, own, delivered_by })
}

/// The own exact topic, in the order documented on [`plan`].
fn own_topic(
    v5: bool,
    configured: &[(String, u8)],
    connack: &Connack,
    response_topic: &str,
    info: Option<&str>,
) -> Option<String> {
    let subscribe_topics = connack.subscribe_topics.iter().filter(|_| v5);
    info.map(str::to_owned)
        .or_else(|| {
            subscribe_topics.map(String::as_str).find(|t| valid_topic(t)).map(str::to_owned)
        })
        .or_else(|| valid_topic(response_topic).then(|| response_topic.to_owned()))
        .or_else(|| configured.iter().map(|(f, _)| f).find(|t| valid_topic(t)).cloned())
}

/// What changes from the filters `old` to `new` (both `(filter, QoS)`): the filters to
/// SUBSCRIBE to (new ones and those whose QoS changed: a SUBSCRIBE replaces the subscription,
/// MQTT 3.8.4), in `new`'s order, and those to UNSUBSCRIBE from, in `old`'s order.
pub fn diff(old: &[(String, u8)], new: &[(String, u8)]) -> (Vec<(String, u8)>, Vec<String>) {
    let subscribe = new.iter().filter(|n| !old.contains(n)).cloned().collect();
    let unsubscribe = old
        .iter()
        .filter(|(f, _)| !new.iter().any(|(g, _)| g == f))
        .map(|(f, _)| f.clone())
        .collect();
    (subscribe, unsubscribe)
}

/// An exact topic: not empty, no wildcard, no NUL. Checked on every publish: the three are
/// ASCII, so a byte scan is exact (no UTF-8 decoding).
pub fn valid_topic(t: &str) -> bool {
    !t.is_empty() && !t.bytes().any(|b| matches!(b, b'+' | b'#' | 0))
}

/// A well-formed topic filter (MQTT 4.7): `#` only as a whole last level, `+` only as a
/// whole level, not empty, no NUL.
pub fn valid_filter(f: &str) -> bool {
    if f.is_empty() || f.contains('\0') {
        return false;
    }
    let levels: Vec<&str> = f.split('/').collect();
    let last = levels.len() - 1;
    levels.iter().enumerate().all(|(i, l)| match *l {
        "#" => i == last,
        "+" => true,
        l => !l.contains(['+', '#']),
    })
}

/// Whether every topic matched by `sub` (a topic or a filter) is matched by `filter`: the
/// "directly or as a subset of a Topic Filter" test of R-MQTT.15. Topics starting with `$` are
/// not matched by a leading wildcard (MQTT 4.7.2).
pub fn covers(filter: &str, sub: &str) -> bool {
    if sub.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut subs = sub.split('/');
    for f in filter.split('/') {
        if f == "#" {
            return true;
        }
        match subs.next() {
            None | Some("#") => return false,
            Some("+") if f != "+" => return false,
            Some(s) if f != "+" && f != s => return false,
            Some(_) => {}
        }
    }
    subs.next().is_none()
}

/// The 3.1.1 PUBLISH topic for `dest` with our `reply_to` appended (R-MQTT.24).
pub fn with_reply_to(dest: &str, reply_to: &str) -> String {
    format!("{dest}{REPLY_TO}{}", reply_to.replace('/', "%2F"))
}

/// Splits a received 3.1.1 topic at its last `/reply-to=` (R-MQTT.25): the topic proper and the
/// decoded "reply to" topic (`%2F`, either case, becomes `/`). `None` when there is no suffix
/// or it is empty.
pub fn split_reply_to(topic: &str) -> Option<(&str, String)> {
    let at = topic.rfind(REPLY_TO)?;
    let encoded = &topic[at + REPLY_TO.len()..];
    if encoded.is_empty() {
        return None;
    }
    Some((&topic[..at], encoded.replace("%2F", "/").replace("%2f", "/")))
}

/// Whether a v5 Content Type announces a USP Record (R-MQTT.27a); none at all is accepted too
/// (3.1.1 senders behind a bridge, lenient peers).
pub fn accepted_content_type(content_type: Option<&str>) -> bool {
    matches!(content_type, None | Some("usp.msg" | "application/vnd.bbf.usp.msg"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(filters: &[&str]) -> Vec<(String, u8)> {
        filters.iter().map(|f| (f.to_string(), 1)).collect()
    }

    fn names(p: &Plan) -> Vec<&str> {
        p.filters.iter().map(|(f, _)| f.as_str()).collect()
    }

    #[test]
    fn filters_cover_topics_and_narrower_filters() {
        assert!(covers("a/b", "a/b"));
        assert!(!covers("a/b", "a/c"));
        assert!(covers("a/+", "a/b"));
        assert!(!covers("a/+", "a/b/c"));
        assert!(covers("a/#", "a"));
        assert!(covers("a/#", "a/b/c"));
        assert!(covers("#", "x/y"));
        assert!(!covers("#", "$SYS/x"));
        assert!(!covers("+/x", "$a/x"));
        assert!(covers("$a/#", "$a/x"));
        assert!(covers("a/#", "a/b/#"));
        assert!(covers("a/+/c", "a/+/c"));
        assert!(!covers("a/b/c", "a/+/c"));
        assert!(!covers("a/+", "a/#"));
        assert!(!covers("a/b", "a/b/#"));
        assert!(covers("é/+", "é/ü"));
    }

    #[test]
    fn filter_validity() {
        for ok in ["a", "a/b", "+", "#", "a/+/b", "a/#", "/", "+/+"] {
            assert!(valid_filter(ok), "{ok}");
        }
        for bad in ["", "a#", "a/#/b", "a+/b", "a/b+", "#/a", "a\0"] {
            assert!(!valid_filter(bad), "{bad}");
        }
        assert!(valid_topic("a/b") && !valid_topic("a/+") && !valid_topic(""));
        assert!(valid_topic("usp/é/контроллер") && valid_topic(" "));
        for bad in ["a/#", "#", "+", "a\0b", "é+"] {
            assert!(!valid_topic(bad), "{bad:?}");
        }
    }

    #[test]
    fn reply_to_suffix_round_trips() {
        let t = with_reply_to("usp/agents/a1", "usp/controllers/c:1");
        assert_eq!(t, "usp/agents/a1/reply-to=usp%2Fcontrollers%2Fc:1");
        assert_eq!(split_reply_to(&t), Some(("usp/agents/a1", "usp/controllers/c:1".to_owned())));
        // The last occurrence counts; lowercase escapes decode too.
        let t = "x/reply-to=y/reply-to=c%2fd";
        assert_eq!(split_reply_to(t), Some(("x/reply-to=y", "c/d".to_owned())));
        assert_eq!(split_reply_to("a/b"), None);
        assert_eq!(split_reply_to("a/reply-to="), None);
    }

    #[test]
    fn content_types() {
        assert!(accepted_content_type(None));
        assert!(accepted_content_type(Some("usp.msg")));
        assert!(accepted_content_type(Some("application/vnd.bbf.usp.msg")));
        assert!(!accepted_content_type(Some("usp.error")));
        assert!(!accepted_content_type(Some("text/plain")));
    }

    #[test]
    fn v5_subscribes_configured_then_connack_topics_then_response_information() {
        let connack = Connack {
            subscribe_topics: vec!["st/one".into(), "st/two/#".into()],
            response_information: Some("resp/info".into()),
        };
        let p = plan(true, &conf(&["cfg/a"]), &connack, "ignored/when/info", 1).expect("plan");
        assert_eq!(names(&p), ["cfg/a", "st/one", "st/two/#", "resp/info"]);
        assert_eq!((p.own.as_str(), p.delivered_by), ("resp/info", Some(3)));
    }

    #[test]
    fn response_information_already_covered_is_not_subscribed_twice() {
        let connack = Connack {
            subscribe_topics: vec!["st/two/#".into()],
            response_information: Some("st/two/x".into()),
        };
        let p = plan(true, &[], &connack, "", 0).expect("plan");
        assert_eq!(names(&p), ["st/two/#"]);
        assert_eq!((p.own.as_str(), p.delivered_by), ("st/two/x", Some(0)));
    }

    #[test]
    fn oktopus_style_subscribe_topic_is_the_own_address() {
        let connack = Connack {
            subscribe_topics: vec!["oktopus/usp/v1/agent/a1".into()],
            response_information: None,
        };
        let p = plan(true, &[], &connack, "oktopus/usp/v1/controller", 1).expect("plan");
        // R-MQTT.15 bullet 4: the configured response topic is subscribed too.
        assert_eq!(names(&p), ["oktopus/usp/v1/agent/a1", "oktopus/usp/v1/controller"]);
        assert_eq!((p.own.as_str(), p.delivered_by), ("oktopus/usp/v1/agent/a1", Some(0)));
    }

    #[test]
    fn configured_response_topic_v5_exact_and_v311_wildcard() {
        let none = Connack::default();
        let p = plan(true, &[], &none, "agent/a1", 1).expect("plan");
        assert_eq!(names(&p), ["agent/a1"]);
        assert_eq!((p.own.as_str(), p.delivered_by), ("agent/a1", Some(0)));
        let p = plan(false, &[], &none, "agent/a1", 1).expect("plan");
        assert_eq!(names(&p), ["agent/a1/#"]);
        assert_eq!((p.own.as_str(), p.delivered_by), ("agent/a1", Some(0)));
        // An exact configured subscription does not cover 3.1.1's `/reply-to=` topics.
        let p = plan(false, &conf(&["agent/a1"]), &none, "agent/a1", 1).expect("plan");
        assert_eq!(names(&p), ["agent/a1", "agent/a1/#"]);
        assert_eq!((p.own.as_str(), p.delivered_by), ("agent/a1", Some(1)));
        // A broader configured filter does.
        let p = plan(false, &conf(&["agent/#"]), &none, "agent/a1", 1).expect("plan");
        assert_eq!(names(&p), ["agent/#"]);
    }

    #[test]
    fn v311_ignores_v5_only_connack_data() {
        let connack = Connack {
            subscribe_topics: vec!["st".into()],
            response_information: Some("ri".into()),
        };
        let p = plan(false, &[], &connack, "rt", 1).expect("plan");
        assert_eq!(names(&p), ["rt/#"]);
        assert_eq!((p.own.as_str(), p.delivered_by), ("rt", Some(0)));
    }

    #[test]
    fn nothing_to_subscribe_disables_and_wildcards_only_have_no_address() {
        let none = Connack::default();
        assert_eq!(plan(true, &[], &none, "", 1), Err(PlanError::NoTopics));
        assert_eq!(plan(true, &conf(&["a/#/b", ""]), &none, "", 1), Err(PlanError::NoTopics));
        assert_eq!(plan(true, &conf(&["ctl/+"]), &none, "", 1), Err(PlanError::NoReplyTopic));
        let p = plan(true, &conf(&["ctl/+", "ctl/me", "ctl/me"]), &none, "", 2).expect("plan");
        assert_eq!(names(&p), ["ctl/+", "ctl/me"]);
        // The first filter delivering the own topic is the one that matters.
        assert_eq!((p.own.as_str(), p.delivered_by), ("ctl/me", Some(0)));
    }

    #[test]
    fn v311_exact_subscription_alone_cannot_receive_answers() {
        let p = plan(false, &conf(&["agent/a1"]), &Connack::default(), "", 1).expect("plan");
        assert_eq!((p.own.as_str(), p.delivered_by), ("agent/a1", None));
    }

    #[test]
    fn diff_subscribes_new_and_requalified_filters_and_unsubscribes_removed_ones() {
        let old = vec![("a".to_owned(), 0), ("b".to_owned(), 1), ("c".to_owned(), 1)];
        let new = vec![("d".to_owned(), 1), ("b".to_owned(), 2), ("a".to_owned(), 0)];
        let (sub, unsub) = diff(&old, &new);
        assert_eq!(sub, vec![("d".to_owned(), 1), ("b".to_owned(), 2)]);
        assert_eq!(unsub, ["c"]);
        assert_eq!(diff(&old, &old), (vec![], vec![]));
        assert_eq!(diff(&old, &[]).1, ["a", "b", "c"]);
    }

    #[test]
    fn qos_is_capped_at_two() {
        let p = plan(true, &[("a".into(), 7)], &Connack::default(), "", 1).expect("plan");
        assert_eq!(p.filters, vec![("a".to_owned(), 2)]);
    }
}
