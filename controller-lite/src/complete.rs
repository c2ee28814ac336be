//! Path completion for the shell: a tree of the paths learnt from GetSupportedDM (schema paths
//! with `{i}`) and from answers (instance numbers), and the candidates for a partly typed path.
//!
//! An instance number, `*`, `{i}` or a `[...]` search expression typed in a path all stand for
//! "an instance" while walking the tree; at an instance position the candidates are the known
//! instance numbers and `*`. Owns no I/O.

use std::collections::{BTreeMap, BTreeSet};

use usp_proto::msg::GetSupportedDmResp;

/// The commands of the shell, for completing the first word.
pub const COMMANDS: &[&str] = &[
    "add",
    "decode",
    "del",
    "exit",
    "get",
    "gsdm",
    "help",
    "instances",
    "operate",
    "proto",
    "set",
    "subscribe",
    "watch",
];

#[derive(Debug, Default)]
struct Node {
    children: BTreeMap<String, Node>,
    /// A parameter, command or event (no `.` after it).
    leaf: bool,
    /// The instances of a table, when it is one.
    table: Option<Box<Node>>,
    /// Instance numbers seen.
    instances: BTreeSet<u32>,
}

/// The learnt paths.
#[derive(Debug, Default)]
pub struct PathTree {
    root: Node,
}

/// Whether a typed segment stands for an instance.
fn is_instance(seg: &str) -> bool {
    seg == "*" || seg == "{i}" || seg.starts_with('[') || seg.parse::<u32>().is_ok()
}

impl PathTree {
    /// Learns a path (`Device.X.{i}.Name`, `Device.X.3.`, `Device.Reboot()`).
    pub fn insert(&mut self, path: &str) {
        let (segments, leaf) = match path.strip_suffix('.') {
            Some(obj) => (obj, false),
            None => (path, true),
        };
        let mut node = &mut self.root;
        for seg in segments.split('.').filter(|s| !s.is_empty()) {
            node = if is_instance(seg) {
                if let Ok(n) = seg.parse::<u32>() {
                    node.instances.insert(n);
                }
                node.table.get_or_insert_with(Box::default)
            } else {
                node.children.entry(seg.to_owned()).or_default()
            };
        }
        node.leaf |= leaf && node.children.is_empty() && node.table.is_none();
    }

    /// How many paths' ends are known (for the shell's banner).
    pub fn len(&self) -> usize {
        fn count(n: &Node) -> usize {
            usize::from(n.leaf)
                + n.children.values().map(count).sum::<usize>()
                + n.table.as_deref().map_or(0, count)
        }
        count(&self.root)
    }

    /// Whether nothing was learnt.
    pub fn is_empty(&self) -> bool {
        self.root.children.is_empty()
    }

    /// The completions of `word` (each a whole replacement for it), sorted.
    pub fn complete(&self, word: &str) -> Vec<String> {
        let (prefix, partial) = match word.rfind('.') {
            Some(i) => word.split_at(i + 1),
            None => ("", word),
        };
        let mut node = &self.root;
        for seg in prefix.split('.').filter(|s| !s.is_empty()) {
            let next =
                if is_instance(seg) { node.table.as_deref() } else { node.children.get(seg) };
            match next {
                Some(n) => node = n,
                None => return Vec::new(),
            }
        }
        let mut out: Vec<String> = node
            .children
            .iter()
            .filter(|(name, _)| name.starts_with(partial))
            .map(|(name, child)| {
                let dot = if child.leaf { "" } else { "." };
                format!("{prefix}{name}{dot}")
            })
            .collect();
        if node.table.is_some() {
            out.extend(
                node.instances
                    .iter()
                    .map(u32::to_string)
                    .chain(std::iter::once("*".to_owned()))
                    .filter(|n| n.starts_with(partial))
                    .map(|n| format!("{prefix}{n}.")),
            );
        }
        out.sort();
        out
    }
}

/// Every path a GetSupportedDM response names: objects, parameters, commands, events.
pub fn gsdm_paths(g: &GetSupportedDmResp) -> Vec<String> {
    let mut paths = Vec::new();
    for obj in g.req_obj_results.iter().flat_map(|r| &r.supported_objs) {
        let base = &obj.supported_obj_path;
        paths.push(base.clone());
        paths.extend(obj.supported_params.iter().map(|p| format!("{base}{}", p.param_name)));
        paths.extend(obj.supported_commands.iter().map(|c| format!("{base}{}", c.command_name)));
        paths.extend(obj.supported_events.iter().map(|e| format!("{base}{}", e.event_name)));
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> PathTree {
        let mut t = PathTree::default();
        for p in [
            "Device.",
            "Device.Reboot()",
            "Device.Boot!",
            "Device.DeviceInfo.",
            "Device.DeviceInfo.Manufacturer",
            "Device.DeviceInfo.ModelName",
            "Device.LocalAgent.Controller.{i}.",
            "Device.LocalAgent.Controller.{i}.EndpointID",
            "Device.LocalAgent.Controller.{i}.Enable",
            "Device.LocalAgent.Controller.2.",
        ] {
            t.insert(p);
        }
        t
    }

    #[test]
    fn names_objects_and_members() {
        let t = tree();
        assert_eq!(t.complete("De"), ["Device."]);
        assert_eq!(
            t.complete("Device.DeviceInfo.M"),
            ["Device.DeviceInfo.Manufacturer", "Device.DeviceInfo.ModelName"]
        );
        assert_eq!(t.complete("Device.Re"), ["Device.Reboot()"]);
        assert_eq!(t.complete("Device.B"), ["Device.Boot!"]);
        assert!(t.complete("Device.Nope.").is_empty());
        assert!(!t.is_empty() && t.len() >= 6);
    }

    #[test]
    fn instances_numbers_wildcards_and_searches() {
        let t = tree();
        assert_eq!(
            t.complete("Device.LocalAgent.Controller."),
            ["Device.LocalAgent.Controller.*.", "Device.LocalAgent.Controller.2.",]
        );
        assert_eq!(
            t.complete("Device.LocalAgent.Controller.7.En"),
            ["Device.LocalAgent.Controller.7.Enable", "Device.LocalAgent.Controller.7.EndpointID",]
        );
        assert_eq!(
            t.complete("Device.LocalAgent.Controller.*.EndpointI"),
            ["Device.LocalAgent.Controller.*.EndpointID"]
        );
        assert_eq!(
            t.complete("Device.LocalAgent.Controller.[Enable==true].Ena"),
            ["Device.LocalAgent.Controller.[Enable==true].Enable"]
        );
    }
}
