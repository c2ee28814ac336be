//! `Subscription.{i}.TriggerAction` (TR-369 "TriggerAction Parameter", TP-469 1.93/1.94):
//! `Notify` sends the notification (the default), `Config` applies the subscription's
//! `TriggerConfigSettings` instead, `NotifyAndConfig` does both, the notification first.
//!
//! - `TriggerConfigSettings` is a list of `<parameter path>=<value>` items; a value written in
//!   double quotes (TR-181 quotes string values) is taken without them and may contain commas.
//!   The path may be a search path: every parameter it designates is set.
//! - The settings are applied with the rights of the subscription's recipient controller (a
//!   trigger can change nothing its controller could not), each item in its own transaction:
//!   an item that fails (unknown path, read-only parameter, bad value) is logged and skipped.
//! - The changes are ordinary committed changes: they cause notifications of their own, in the
//!   next round of event processing (bounded per message, so two subscriptions triggering
//!   each other cannot loop forever).
//!
//! Never sends anything itself: [`Core::notify_sub`](super) decides about the Notify.

use usp_datamodel::Item;
use usp_datamodel::plugin::Requester;

use crate::Core;

/// What a `TriggerAction` value asks for: (send the Notify, apply the configuration). An
/// unknown value (or none) is the default, `Notify`.
pub(crate) fn parse_action(text: &str) -> (bool, bool) {
    match text {
        "Config" => (false, true),
        "NotifyAndConfig" => (true, true),
        _ => (true, false),
    }
}

/// Splits `TriggerConfigSettings` into (path, value) pairs: items separated by commas outside
/// double quotes, each `path=value`, the value unquoted. Items without `=` are dropped.
pub(crate) fn settings(text: &str) -> Vec<(String, String)> {
    let mut items = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                items.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&text[start..]);
    items
        .into_iter()
        .filter_map(|item| {
            let (path, value) = item.trim().split_once('=')?;
            let value = value.trim();
            let value = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                Some(inner) => inner,
                None => value,
            };
            Some((path.trim().to_owned(), value.to_owned()))
        })
        .collect()
}

impl Core {
    /// Applies the `TriggerConfigSettings` text `config` with the rights of the controller
    /// `to` (see the module doc).
    pub(crate) fn apply_trigger_config(&mut self, to: &str, config: &str) {
        let who = Requester::Controller(to.into());
        for (text, value) in settings(config) {
            self.dm.begin(who.clone());
            match self.set_everywhere(&who, &text, &value) {
                Ok(()) => self.dm.commit(),
                Err(e) => {
                    self.dm.abort();
                    log::warn!("TriggerConfigSettings {text}={value}: {e}");
                }
            }
        }
    }

    /// Sets every parameter `text` designates to `value`, in the current transaction.
    fn set_everywhere(
        &mut self,
        who: &Requester,
        text: &str,
        value: &str,
    ) -> Result<(), usp_datamodel::UspError> {
        let path = super::super::parse_path(text)?;
        for target in self.dm.resolve(who, &path)? {
            let Item::Param(param) = target.item else {
                return Err(usp_datamodel::UspError::invalid_path(text));
            };
            let checked = self.dm.check_value(who, param, value, false)?;
            let obj = self.dm.schema().param(param).obj;
            self.dm.set_values(obj, &target.numbers, &[(param, checked)])?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions() {
        assert_eq!(parse_action("Notify"), (true, false));
        assert_eq!(parse_action("Config"), (false, true));
        assert_eq!(parse_action("NotifyAndConfig"), (true, true));
        assert_eq!(parse_action(""), (true, false));
    }

    #[test]
    fn settings_split_outside_quotes_and_unquote() {
        let s = settings(r#"Device.A.1.Enable=false, Device.A.1.Name="x,y" ,junk,Device.B=3"#);
        let pairs: Vec<(&str, &str)> = s.iter().map(|(p, v)| (p.as_str(), v.as_str())).collect();
        assert_eq!(
            pairs,
            [("Device.A.1.Enable", "false"), ("Device.A.1.Name", "x,y"), ("Device.B", "3")]
        );
        assert!(settings("").is_empty());
    }
}
