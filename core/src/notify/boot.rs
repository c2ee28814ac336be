//! `Device.Boot!` at start-up, and the cause of a restart remembered across it.
//!
//! - The daemon calls [`Core::boot`] once, after building the core, with what it knows
//!   ([`BootInfo::local`]: `LocalReboot`, or `LocalFactoryReset` on the first start from the
//!   factory defaults). A cause remembered by the previous run overrides it: when a controller's
//!   `Device.Reboot()` or `Device.FactoryReset()` asks the host to restart, the core stores the
//!   command's `Cause` (`RemoteReboot` / `RemoteFactoryReset` by default), `Reason` and the
//!   Operate's `CommandKey` as private store items, written with the same batch as the answer's
//!   effects, before the host acts; `boot` reports and forgets them.
//! - `FirmwareUpdated` is true when the host says so, or when `Device.DeviceInfo.SoftwareVersion`
//!   differs from the one recorded at the previous boot.
//! - Each enabled Event subscription covering `Device.Boot!` gets one Notify; its
//!   `ParameterMap` is a JSON object of the values named by the enabled
//!   `BootParameter.{i}.ParameterName` paths of that subscription's recipient controller
//!   (parameter, object, wildcard or search paths; unreadable or unresolvable ones left out).
//! - The subscriptions that are not `Persistent` were deleted while the data model was built,
//!   but the `Boot!` of this restart is still theirs (TP-469 9.10 subscribes to `Device.Boot!`
//!   without `Persistent`; obuspa sends it before removing them): the Subscription plugin hands
//!   each deleted row over (`REMOVED_AT_START_EVENT`) and those covering `Device.Boot!` get it
//!   too. Being gone, they get no retry even with `NotifRetry`.
//! - Then the notifications persisted before the restart are sent again (see `retry`).
//! - The data-model events of the start-up itself (the factory-reset file applied, volatile
//!   subscriptions removed) are not notified: they make the starting state.

use std::collections::BTreeMap;

use usp_areas::local_agent::REMOVED_AT_START_EVENT;
use usp_datamodel::path::Path;
use usp_datamodel::plugin::{DmEvent, Now, Requester, SystemRequest};
use usp_datamodel::schema::ObjId;
use usp_datamodel::{DataModel, Item, Target};
use usp_proto::msg::notify::{self, Notification};

use super::{Kind, Leaf};
use crate::{Core, Outgoing};

const CAUSE: &str = "boot/cause";
const REASON: &str = "boot/reason";
const COMMAND_KEY: &str = "boot/command_key";
const VERSION: &str = "boot/software_version";

/// Why the agent (re)started, as the host knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootInfo {
    /// `LocalReboot`, `RemoteReboot`, `LocalFactoryReset` or `RemoteFactoryReset`.
    pub cause: String,
    /// The reason given to the reboot or factory reset, if any.
    pub reason: String,
    /// The CommandKey of the Operate that caused the restart, if any.
    pub command_key: String,
    /// True when the firmware changed since the previous start.
    pub firmware_updated: bool,
}

impl BootInfo {
    /// A restart the agent was not asked for by a controller: `LocalFactoryReset` on the
    /// first start from the factory defaults, `LocalReboot` otherwise. A cause remembered from
    /// a controller's request overrides it in [`Core::boot`].
    pub fn local(from_factory_defaults: bool, firmware_updated: bool) -> BootInfo {
        let cause = if from_factory_defaults { "LocalFactoryReset" } else { "LocalReboot" };
        BootInfo {
            cause: cause.into(),
            reason: String::new(),
            command_key: String::new(),
            firmware_updated,
        }
    }
}

impl Core {
    /// Announces the start: sends `Device.Boot!` to the subscribed controllers and the
    /// notifications still unacknowledged from before the restart. Call once, after building
    /// the core and before handling any Record (see the module doc for the cause).
    pub fn boot(&mut self, now: Now, info: BootInfo) -> Vec<Outgoing> {
        self.dm.tick(now, false);
        let mut out = Vec::new();
        // What building the data model did (defaults applied, volatile subscriptions removed)
        // is the starting state, not a change to notify.
        let mut removed = Vec::new();
        for event in self.dm.drain_events() {
            match event {
                DmEvent::Event { obj, numbers, name, args } if &*name == REMOVED_AT_START_EVENT => {
                    let path = self.dm.schema().instance_path(obj, &numbers);
                    let args = args.into_iter().map(|(k, v)| (k.into_string(), v.to_string()));
                    removed.push((path, args.collect()));
                }
                event => self.note_event(&event),
            }
        }
        if self.notifier.dirty {
            self.rebuild_subscriptions();
        }
        let info = self.remembered_cause(info);
        self.send_boot(&info, &mut out);
        if !removed.is_empty() {
            let gone = self.removed_index(&removed);
            let live = std::mem::replace(&mut self.notifier.index, gone);
            self.send_boot(&info, &mut out);
            self.notifier.index = live;
        }
        // Also drops the retries of the Notify messages sent to removed subscriptions.
        self.restore_notifies(now, &mut out);
        self.after_message(&mut out);
        out
    }

    /// The host's boot information, overridden by a remembered controller request (which is
    /// then forgotten); records the software version for the next start.
    fn remembered_cause(&mut self, mut info: BootInfo) -> BootInfo {
        if let Some(cause) = self.dm.meta(CAUSE) {
            info.cause = cause.to_owned();
            info.reason = self.dm.meta(REASON).unwrap_or_default().to_owned();
            info.command_key = self.dm.meta(COMMAND_KEY).unwrap_or_default().to_owned();
        }
        for key in [CAUSE, REASON, COMMAND_KEY] {
            self.dm.remove_meta(key);
        }
        if let Some(version) = read_text(&mut self.dm, "Device.DeviceInfo.SoftwareVersion") {
            if self.dm.meta(VERSION).is_some_and(|v| v != version) {
                info.firmware_updated = true;
            }
            self.dm.set_meta(VERSION, &version);
        }
        info
    }

    fn send_boot(&mut self, info: &BootInfo, out: &mut Vec<Outgoing>) {
        let Some(event) = self.dm.schema().event_by_name(ObjId::ROOT, "Boot") else { return };
        let leaf = Some(Leaf::Event(event));
        let hits = self.notifier.index.matching(&mut self.dm, Kind::Event, ObjId::ROOT, &[], leaf);
        let mut maps: BTreeMap<u32, String> = BTreeMap::new();
        for i in hits {
            let Some(controller) = self.notifier.index.subs.get(i).map(|s| s.controller) else {
                continue;
            };
            let map = match maps.get(&controller) {
                Some(m) => m.clone(),
                None => {
                    let m = json_object(&boot_parameters(&mut self.dm, controller));
                    maps.insert(controller, m.clone());
                    m
                }
            };
            let params = [
                ("CommandKey", info.command_key.clone()),
                ("Cause", info.cause.clone()),
                ("Reason", info.reason.clone()),
                ("FirmwareUpdated", info.firmware_updated.to_string()),
                ("ParameterMap", map),
            ];
            let n = notify::Event {
                obj_path: "Device.".into(),
                event_name: "Boot!".into(),
                params: params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            };
            self.notify_sub(i, Notification::Event(n), out);
        }
    }

    /// Remembers the cause of a restart a controller asked for (a reconnect is no restart),
    /// then queues the request for the host.
    pub(crate) fn system_request(&mut self, request: SystemRequest) {
        let (cause, reason, key) = match &request {
            SystemRequest::Reboot { cause, reason, command_key } => {
                (cause, reason, command_key.as_deref().or(self.op_command_key.as_deref()))
            }
            SystemRequest::FactoryReset { cause, reason } => {
                (cause, reason, self.op_command_key.as_deref())
            }
            SystemRequest::Reconnect { .. } | SystemRequest::Publish { .. } => {
                self.system.push(request);
                return;
            }
        };
        self.dm.set_meta(CAUSE, cause);
        self.dm.set_meta(REASON, reason);
        self.dm.set_meta(COMMAND_KEY, key.unwrap_or_default());
        self.system.push(request);
    }
}

/// The value of one parameter path as text.
fn read_text(dm: &mut DataModel, path: &str) -> Option<String> {
    let target = dm.resolve(&Requester::Internal, &Path::parse(path).ok()?).ok()?.pop()?;
    let Item::Param(p) = target.item else { return None };
    let value = dm.read_params(&Requester::Internal, target.obj, &target.numbers, &[p]).pop()?;
    value.ok().map(|v| v.to_string())
}

/// The values named by the enabled BootParameter rows of controller `controller`.
fn boot_parameters(dm: &mut DataModel, controller: u32) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    let Some(table) =
        dm.schema().obj_by_path("Device.LocalAgent.Controller.{i}.BootParameter.{i}.")
    else {
        return values;
    };
    let names = ["Enable", "ParameterName"];
    let Some(params) =
        names.iter().map(|n| dm.schema().param_by_name(table, n)).collect::<Option<Vec<_>>>()
    else {
        return values;
    };
    let rows = Target { obj: table, numbers: vec![controller], item: Item::Object };
    for row in dm.instances(&rows, true) {
        let read = dm.read_params(&Requester::Internal, table, &row.numbers, &params);
        let [Ok(enable), Ok(name)] = &read[..] else { continue };
        if enable.as_bool() != Some(true) {
            continue;
        }
        let Ok(path) = Path::parse(name.to_string().trim()) else { continue };
        let Ok(targets) = dm.resolve(&Requester::Internal, &path) else { continue };
        for t in targets {
            collect_values(dm, &t, &mut values);
        }
    }
    values
}

/// Adds the readable parameter values a target names (everything below an object).
fn collect_values(dm: &mut DataModel, t: &Target, values: &mut BTreeMap<String, String>) {
    let who = Requester::Internal;
    let instances: Vec<(ObjId, Vec<u32>, Vec<_>)> = match t.item {
        Item::Param(p) => vec![(t.obj, t.numbers.clone(), vec![p])],
        Item::Object => dm
            .walk(t, 0)
            .into_iter()
            .map(|w| {
                let params = dm.schema().obj(w.obj).params.clone();
                (w.obj, w.numbers, params)
            })
            .collect(),
        _ => Vec::new(),
    };
    for (obj, numbers, params) in instances {
        let base = dm.schema().instance_path(obj, &numbers);
        let read = dm.read_params(&who, obj, &numbers, &params);
        for (p, v) in params.into_iter().zip(read) {
            if let Ok(v) = v {
                values.insert(format!("{base}{}", dm.schema().param(p).name), v.to_string());
            }
        }
    }
}

/// A JSON object of string values.
fn json_object(values: &BTreeMap<String, String>) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_string(k, &mut out);
        out.push(':');
        json_string(v, &mut out);
    }
    out.push('}');
    out
}

fn json_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_object_escapes() {
        let mut m = BTreeMap::new();
        assert_eq!(json_object(&m), "{}");
        m.insert("Device.A".to_owned(), "x\"y\\z\n\u{1}é".to_owned());
        m.insert("Device.B".to_owned(), String::new());
        assert_eq!(json_object(&m), r#"{"Device.A":"x\"y\\z\n\u0001é","Device.B":""}"#);
    }
}
