//! USP requests built from command-line words: `PATH=VALUE` settings grouped per object,
//! `Name=value` command arguments, and one builder per request kind.
//!
//! Syntax (also shown by `uspctl --help`):
//! - `set`: `Device.X.Y.Param=value` (full path), or an object path `Device.X.Y.` followed by
//!   `Param=value` words relative to it. Settings of the same object go into one UpdateObject,
//!   in the order first seen. A setting is *required* (its failure fails the object) unless
//!   its name ends with `?`: `Alias?=x`.
//! - `add`: an object path `Device.X.` starts each new object; the `Param=value` words after
//!   it (relative, may name sub-objects: `Stats.Hits=3`, `?` as for set) are its initial
//!   values.
//! - `operate`: `Name=value` input arguments.
//! - The first `=` outside `[...]` splits a word, so search paths such as
//!   `Device.X.[Name=="a"].Enable=true` work; the value is the rest of the word, verbatim.
//!
//! Owns syntax only: never checks a path against a data model (the agent does).

use std::collections::BTreeMap;
use std::fmt;

use usp_proto::msg::{self, request::ReqType};

use crate::client::SUPPORTED_VERSIONS;

/// A word that does not fit the syntax.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgError(pub String);

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ArgError {}

fn bad<T>(text: impl Into<String>) -> Result<T, ArgError> {
    Err(ArgError(text.into()))
}

/// One parameter to set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    /// The parameter name, relative to its object (may contain dots for `add`).
    pub param: String,
    /// The value, verbatim.
    pub value: String,
    /// Whether its failure fails the whole object.
    pub required: bool,
}

/// The settings of one object (one UpdateObject or CreateObject).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectSettings {
    /// The object path, ending with `.`.
    pub obj_path: String,
    /// Its settings, in order.
    pub settings: Vec<Setting>,
}

/// Splits `word` at its first `=` outside `[...]`: `(left, right)`.
pub fn split_assignment(word: &str) -> Option<(&str, &str)> {
    let mut depth = 0usize;
    for (i, c) in word.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '=' if depth == 0 => return Some((&word[..i], &word[i + 1..])),
            _ => {}
        }
    }
    None
}

/// Splits a full parameter path after its last `.` outside `[...]`: `(object, name)`.
fn split_param_path(path: &str) -> Option<(&str, &str)> {
    let mut depth = 0usize;
    let mut last_dot = None;
    for (i, c) in path.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => last_dot = Some(i),
            _ => {}
        }
    }
    last_dot.map(|i| (&path[..=i], &path[i + 1..]))
}

/// A setting from `name` (with its optional `?`) and `value`.
fn setting(name: &str, value: &str, word: &str) -> Result<Setting, ArgError> {
    let (param, required) = match name.strip_suffix('?') {
        Some(p) => (p, false),
        None => (name, true),
    };
    if param.is_empty() || param.ends_with('.') {
        return bad(format!("'{word}': a parameter name is needed before '='"));
    }
    Ok(Setting { param: param.to_owned(), value: value.to_owned(), required })
}

fn object_word(word: &str, command: &str) -> Result<String, ArgError> {
    if word.ends_with('.') {
        Ok(word.to_owned())
    } else {
        bad(format!("'{word}': {command} expects an object path ending with '.' or PARAM=VALUE"))
    }
}

/// The objects of a `set` (see the module documentation).
pub fn parse_set(words: &[String]) -> Result<Vec<ObjectSettings>, ArgError> {
    let mut objects: Vec<ObjectSettings> = Vec::new();
    let mut current: Option<String> = None;
    for word in words {
        let Some((left, value)) = split_assignment(word) else {
            current = Some(object_word(word, "set")?);
            group(&mut objects, current.as_deref().unwrap_or_default());
            continue;
        };
        let (obj, name) = if left.starts_with("Device.") {
            split_param_path(left).ok_or_else(|| ArgError(format!("'{word}': no object path")))?
        } else {
            let Some(obj) = current.as_deref() else {
                return bad(format!("'{word}': give the object first (Device.X.) or a full path"));
            };
            (obj, left)
        };
        let s = setting(name, value, word)?;
        let at = group(&mut objects, obj);
        objects[at].settings.push(s);
    }
    if let Some(empty) = objects.iter().find(|o| o.settings.is_empty()) {
        return bad(format!("nothing to set in {}", empty.obj_path));
    }
    if objects.is_empty() {
        return bad("set needs PATH=VALUE");
    }
    Ok(objects)
}

/// The index of `obj_path`'s group, created at the end when new.
fn group(objects: &mut Vec<ObjectSettings>, obj_path: &str) -> usize {
    match objects.iter().position(|o| o.obj_path == obj_path) {
        Some(i) => i,
        None => {
            objects.push(ObjectSettings { obj_path: obj_path.to_owned(), settings: Vec::new() });
            objects.len() - 1
        }
    }
}

/// The objects of an `add` (see the module documentation).
pub fn parse_add(words: &[String]) -> Result<Vec<ObjectSettings>, ArgError> {
    let mut objects: Vec<ObjectSettings> = Vec::new();
    for word in words {
        match split_assignment(word) {
            None => objects
                .push(ObjectSettings { obj_path: object_word(word, "add")?, settings: Vec::new() }),
            Some((name, value)) => {
                let s = setting(name, value, word)?;
                match objects.last_mut() {
                    Some(obj) => obj.settings.push(s),
                    None => return bad(format!("'{word}': give the object to add first")),
                }
            }
        }
    }
    if objects.is_empty() {
        return bad("add needs an object path (Device.X.)");
    }
    Ok(objects)
}

/// Operate input arguments from `Name=value` words.
pub fn parse_args(words: &[String]) -> Result<BTreeMap<String, String>, ArgError> {
    let mut args = BTreeMap::new();
    for word in words {
        match word.split_once('=') {
            Some((name, value)) if !name.is_empty() => {
                args.insert(name.to_owned(), value.to_owned());
            }
            _ => return bad(format!("'{word}': command arguments are Name=value")),
        }
    }
    Ok(args)
}

/// Checks a command path (`Device.X.Cmd()`).
pub fn check_command(path: &str) -> Result<(), ArgError> {
    if path.ends_with("()") && path.len() > 2 {
        Ok(())
    } else {
        bad(format!("'{path}': a command path ends with '()', e.g. Device.Reboot()"))
    }
}

/// The notification types of `Device.LocalAgent.Subscription.{i}.NotifType`.
pub const NOTIF_TYPES: &[&str] =
    &["ValueChange", "ObjectCreation", "ObjectDeletion", "OperationComplete", "Event"];

/// A notification type in its canonical spelling (given in any letter case).
pub fn notif_type(word: &str) -> Result<&'static str, ArgError> {
    NOTIF_TYPES.iter().find(|t| t.eq_ignore_ascii_case(word)).copied().ok_or_else(|| {
        ArgError(format!("'{word}': the notification type is one of {}", NOTIF_TYPES.join(", ")))
    })
}

/// Get.
pub fn get(paths: &[String], max_depth: u32) -> ReqType {
    ReqType::Get(msg::Get { param_paths: paths.to_vec(), max_depth })
}

/// Set.
pub fn set(objects: &[ObjectSettings], allow_partial: bool) -> ReqType {
    let update_objs = objects
        .iter()
        .map(|o| msg::set::UpdateObject {
            obj_path: o.obj_path.clone(),
            param_settings: o
                .settings
                .iter()
                .map(|s| msg::set::UpdateParamSetting {
                    param: s.param.clone(),
                    value: s.value.clone(),
                    required: s.required,
                })
                .collect(),
        })
        .collect();
    ReqType::Set(msg::Set { allow_partial, update_objs })
}

/// Add.
pub fn add(objects: &[ObjectSettings], allow_partial: bool) -> ReqType {
    let create_objs = objects
        .iter()
        .map(|o| msg::add::CreateObject {
            obj_path: o.obj_path.clone(),
            param_settings: o
                .settings
                .iter()
                .map(|s| msg::add::CreateParamSetting {
                    param: s.param.clone(),
                    value: s.value.clone(),
                    required: s.required,
                })
                .collect(),
        })
        .collect();
    ReqType::Add(msg::Add { allow_partial, create_objs })
}

/// Delete.
pub fn delete(paths: &[String], allow_partial: bool) -> ReqType {
    ReqType::Delete(msg::Delete { allow_partial, obj_paths: paths.to_vec() })
}

/// Operate.
pub fn operate(
    command: &str,
    args: &BTreeMap<String, String>,
    command_key: &str,
    send_resp: bool,
) -> ReqType {
    ReqType::Operate(msg::Operate {
        command: command.to_owned(),
        command_key: command_key.to_owned(),
        send_resp,
        input_args: args.clone(),
    })
}

/// GetInstances.
pub fn instances(paths: &[String], first_level_only: bool) -> ReqType {
    ReqType::GetInstances(msg::GetInstances { obj_paths: paths.to_vec(), first_level_only })
}

/// What a GetSupportedDM returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GsdmOptions {
    /// Only the objects named and their direct children.
    pub first_level_only: bool,
    /// Commands.
    pub commands: bool,
    /// Events.
    pub events: bool,
    /// Parameters.
    pub params: bool,
    /// Unique key sets.
    pub unique_keys: bool,
}

impl Default for GsdmOptions {
    /// Everything but unique keys, all levels.
    fn default() -> GsdmOptions {
        GsdmOptions {
            first_level_only: false,
            commands: true,
            events: true,
            params: true,
            unique_keys: false,
        }
    }
}

/// GetSupportedDM.
pub fn gsdm(paths: &[String], o: GsdmOptions) -> ReqType {
    ReqType::GetSupportedDm(msg::GetSupportedDm {
        obj_paths: paths.to_vec(),
        first_level_only: o.first_level_only,
        return_commands: o.commands,
        return_events: o.events,
        return_params: o.params,
        return_unique_key_sets: o.unique_keys,
    })
}

/// GetSupportedProtocol, announcing `versions` (default: [`SUPPORTED_VERSIONS`]).
pub fn proto(versions: Option<&str>) -> ReqType {
    ReqType::GetSupportedProtocol(msg::GetSupportedProtocol {
        controller_supported_protocol_versions: versions.unwrap_or(SUPPORTED_VERSIONS).to_owned(),
    })
}

/// The Add of a `Device.LocalAgent.Subscription.` row: enabled, not persistent, with `id`.
pub fn subscription(id: &str, notif_type: &str, reference_list: &str) -> msg::Add {
    let s = |param: &str, value: &str| msg::add::CreateParamSetting {
        param: param.into(),
        value: value.into(),
        required: true,
    };
    msg::Add {
        allow_partial: false,
        create_objs: vec![msg::add::CreateObject {
            obj_path: SUBSCRIPTION_TABLE.into(),
            param_settings: vec![
                s("ID", id),
                s("NotifType", notif_type),
                s("ReferenceList", reference_list),
                s("Enable", "true"),
            ],
        }],
    }
}

/// The subscription table.
pub const SUBSCRIPTION_TABLE: &str = "Device.LocalAgent.Subscription.";

#[cfg(test)]
mod tests;
