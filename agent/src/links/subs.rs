//! What an MQTT link reports after changing its subscriptions in place
//! (`MtpEvent::Subscribed`), written into the data model: each `Subscription.{i}.Status`, by the
//! same rule as when the link comes up (`record_up`).
//!
//! Never touches a link; one transaction of internal sets per call (see `record.rs`).

use usp_areas::typed::Writes;
use usp_datamodel::DataModel;

use super::record::{RecordError, ids, subscription_status};

/// Records the filters the MQTT link `key` is now subscribed to: an enabled
/// `Subscription.{i}` whose Topic is among them is `Subscribed`, one that is not is `Error`
/// (refused, or its change is still in flight), a disabled one `Unsubscribed`. Keys of other
/// links, or of rows gone, are ignored.
pub fn record_subscribed(
    dm: &mut DataModel,
    key: &str,
    subscribed: &[String],
) -> Result<(), RecordError> {
    let ids = ids(dm)?;
    let Some(n) = ids.mqtt.number_of(key) else { return Ok(()) };
    let mut w = Writes::default();
    for s in ids.mqtt.client(dm, n).map(|c| c.subscriptions).unwrap_or_default() {
        let status = subscription_status(s.enable, subscribed.contains(&s.topic));
        if s.status != status.as_str() {
            ids.mqtt.set_subscription_status(&mut w, n, s.number, status);
        }
    }
    w.apply(dm)
}
