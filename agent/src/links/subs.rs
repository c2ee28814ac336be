//! What an MQTT link reports after changing its subscriptions in place
//! (`MtpEvent::Subscribed`), written into the data model: each `Subscription.{i}.Status`, by the
//! same rule as when the link comes up (`record_up`).
//!
//! Never touches a link; one transaction of internal sets per call (see `record.rs`).

use usp_datamodel::DataModel;

use super::read::rows;
use super::record::{RecordError, Writes};

/// Records the filters the MQTT link `key` is now subscribed to: an enabled
/// `Subscription.{i}` whose Topic is among them is `Subscribed`, one that is not is `Error`
/// (refused, or its change is still in flight), a disabled one `Unsubscribed`. Keys of other
/// links, or of rows gone, are ignored.
pub fn record_subscribed(
    dm: &mut DataModel,
    key: &str,
    subscribed: &[String],
) -> Result<(), RecordError> {
    if !key.starts_with("Device.MQTT.Client.") {
        return Ok(());
    }
    let mut w = Writes::default();
    for s in rows(dm, &format!("{key}Subscription.")) {
        let topic = s.values.text("Topic");
        let status = match (s.values.flag("Enable"), subscribed.iter().any(|t| t == topic)) {
            (false, _) => "Unsubscribed",
            (true, true) => "Subscribed",
            (true, false) => "Error",
        };
        if s.values.text("Status") != status {
            w.set(&s.path, "Status", status);
        }
    }
    w.apply(dm)
}
