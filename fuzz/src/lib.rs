//! Shared pieces of the fuzz targets: the structured input of `core_request` (bytes → a USP
//! request, and back for the seeds), the agent the target drives, and the in-memory stream
//! the codec targets read through in arbitrary pieces.
//!
//! # The `core_request` input
//!
//! - byte 0: the request type (bits 0–6 `% 9`: Get, Set, Add, Delete, Operate, GetSupportedDM,
//!   GetInstances, GetSupportedProtocol, or 8: the rest is a raw encoded `usp.Msg`); bit 7 set:
//!   the request comes from [`VIEWER`] instead of [`CTRL`];
//! - byte 1: flags (bit 0 `allow_partial` / `first_level_only` / `send_resp`, bits 1–4 the
//!   GetSupportedDM `return_*` flags, bits 4–7 `max_depth`);
//! - the rest: objects separated by `0x01`, each a list of strings separated by `0x00` (lossy
//!   UTF-8). Get, Delete, GetSupportedDM and GetInstances take every string of every object as
//!   a path; Set and Add take per object the path then `param`, `value` pairs (a `*` prefix on
//!   the param marks it required); Operate takes the command, the command key, then argument
//!   `name`, `value` pairs.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::time::Duration;

use usp_datamodel::DataModel;
use usp_areas::{AgentIdentity, builtin};
use usp_datamodel::plugin::Now;
use usp_datamodel::store::NullStore;
use usp_datamodel::value::DateTime;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::{self, Msg};
use usp_proto::record::Record;
use usp_core::{BootInfo, Core, Limits};

/// The agent's Endpoint ID.
pub const AGENT: &str = "os::00D09E-FUZZ";
/// The known controller (Controller.1, with the Full Access role).
pub const CTRL: &str = "self::fuzz-controller";
/// A second controller (Controller.2) whose Role reads everything, writes Subscriptions only.
pub const VIEWER: &str = "self::fuzz-viewer";

/// The request types of the structured input, in the order of byte 0.
pub const KINDS: usize = 9;

/// The clock of the fuzzed agent at `step`.
pub fn now(step: u64) -> Now {
    Now {
        uptime: Duration::from_secs(100 + step),
        wall: DateTime::from_unix(1_700_000_000 + step as i64),
    }
}

/// The agent: built-in modules in memory, [`CTRL`] as a known controller with full access,
/// [`VIEWER`] with a restricted Role, and a Subscription (reference following has something to
/// follow).
pub fn agent() -> Core {
    let identity = AgentIdentity { endpoint_id: AGENT.into(), ..AgentIdentity::default() };
    let Ok(mut dm) = DataModel::new(builtin(&identity), Box::new(NullStore), now(0)) else {
        panic!("the built-in data model does not build");
    };
    // The factory-default roles first (they apply only to an empty Role table): Role.1 is Full
    // Access.
    if let Err(e) = usp_areas::local_agent::apply_trust_defaults(&mut dm) {
        panic!("trust defaults: {e}");
    }
    let role = "Device.LocalAgent.ControllerTrust.Role.1";
    for (path, value) in [
        ("Device.LocalAgent.Controller.1.EndpointID", CTRL),
        ("Device.LocalAgent.Controller.1.Enable", "true"),
        ("Device.LocalAgent.Controller.1.AssignedRole", role),
        ("Device.LocalAgent.Controller.2.EndpointID", VIEWER),
        ("Device.LocalAgent.Controller.2.Enable", "true"),
        ("Device.LocalAgent.Controller.2.AssignedRole", "Device.LocalAgent.ControllerTrust.Role.2"),
        ("Device.LocalAgent.ControllerTrust.Role.2.Name", "Viewer"),
        ("Device.LocalAgent.ControllerTrust.Role.2.Enable", "true"),
        ("Device.LocalAgent.ControllerTrust.Role.2.Permission.1.Enable", "true"),
        ("Device.LocalAgent.ControllerTrust.Role.2.Permission.1.Order", "1"),
        ("Device.LocalAgent.ControllerTrust.Role.2.Permission.1.Targets", "Device."),
        ("Device.LocalAgent.ControllerTrust.Role.2.Permission.1.Param", "r--n"),
        ("Device.LocalAgent.ControllerTrust.Role.2.Permission.1.Obj", "r---"),
        ("Device.LocalAgent.ControllerTrust.Role.2.Permission.1.InstantiatedObj", "r---"),
        ("Device.LocalAgent.ControllerTrust.Role.2.Permission.1.CommandEvent", "r---"),
        ("Device.LocalAgent.ControllerTrust.Role.2.Permission.2.Enable", "true"),
        ("Device.LocalAgent.ControllerTrust.Role.2.Permission.2.Order", "2"),
        (
            "Device.LocalAgent.ControllerTrust.Role.2.Permission.2.Targets",
            "Device.LocalAgent.Subscription.",
        ),
        ("Device.LocalAgent.ControllerTrust.Role.2.Permission.2.Param", "rw-n"),
        ("Device.LocalAgent.ControllerTrust.Role.2.Permission.2.Obj", "rw--"),
        ("Device.LocalAgent.ControllerTrust.Role.2.Permission.2.InstantiatedObj", "rw--"),
        ("Device.LocalAgent.Subscription.1.ID", "s1"),
        ("Device.LocalAgent.Subscription.1.Recipient", "Device.LocalAgent.Controller.1"),
        ("Device.LocalAgent.Subscription.1.NotifType", "ValueChange"),
        ("Device.LocalAgent.Subscription.1.ReferenceList", "Device.LocalAgent.Controller.*."),
        ("Device.LocalAgent.Subscription.1.Enable", "true"),
    ] {
        if let Err(e) = dm.apply_default(path, value, false) {
            panic!("{path}: {e}");
        }
    }
    let mut core = Core::new(dm, AGENT);
    core.set_limits(FUZZ_LIMITS);
    core.boot(now(0), BootInfo::local(false, false));
    core
}

/// Tighter than [`Limits::default`]: the same code paths (7005 included, reached more often),
/// at a tenth of the cost per input (encoding 1 MiB answers dominated the profile).
pub const FUZZ_LIMITS: Limits = Limits { max_paths: 64, max_response_bytes: 64 << 10 };

/// Splits the structured input's body into objects of strings.
fn objects(body: &[u8]) -> Vec<Vec<String>> {
    body.split(|&b| b == 1)
        .map(|o| o.split(|&b| b == 0).map(|s| String::from_utf8_lossy(s).into_owned()).collect())
        .collect()
}

fn pairs(strings: &[String]) -> impl Iterator<Item = (&str, &str)> {
    strings.chunks(2).map(|p| (p[0].as_str(), p.get(1).map_or("", String::as_str)))
}

/// The request type of a structured input (0 Get … 8 raw Msg), from bits 0–6 of byte 0.
pub fn kind(data: &[u8]) -> Option<usize> {
    data.first().map(|&k| usize::from(k & 0x7f) % KINDS)
}

/// The request a structured input describes; `None` for raw mode (the body is a Msg).
pub fn request(data: &[u8]) -> Option<ReqType> {
    let kind = kind(data)?;
    let rest = &data[1..];
    let (&flags, body) = rest.split_first().unwrap_or((&0, &[]));
    let objs = objects(body);
    let all = || objs.iter().flatten().cloned().collect::<Vec<String>>();
    let bit = |n: u8| flags & (1 << n) != 0;
    Some(match kind {
        0 => ReqType::Get(msg::Get { param_paths: all(), max_depth: u32::from(flags >> 4) }),
        1 => ReqType::Set(msg::Set {
            allow_partial: bit(0),
            update_objs: objs
                .iter()
                .map(|o| msg::set::UpdateObject {
                    obj_path: o.first().cloned().unwrap_or_default(),
                    param_settings: pairs(o.get(1..).unwrap_or_default())
                        .map(|(p, v)| msg::set::UpdateParamSetting {
                            param: p.trim_start_matches('*').into(),
                            value: v.into(),
                            required: p.starts_with('*'),
                        })
                        .collect(),
                })
                .collect(),
        }),
        2 => ReqType::Add(msg::Add {
            allow_partial: bit(0),
            create_objs: objs
                .iter()
                .map(|o| msg::add::CreateObject {
                    obj_path: o.first().cloned().unwrap_or_default(),
                    param_settings: pairs(o.get(1..).unwrap_or_default())
                        .map(|(p, v)| msg::add::CreateParamSetting {
                            param: p.trim_start_matches('*').into(),
                            value: v.into(),
                            required: p.starts_with('*'),
                        })
                        .collect(),
                })
                .collect(),
        }),
        3 => ReqType::Delete(msg::Delete { allow_partial: bit(0), obj_paths: all() }),
        4 => {
            let strings = all();
            let input_args: BTreeMap<String, String> = pairs(strings.get(2..).unwrap_or_default())
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            ReqType::Operate(msg::Operate {
                command: strings.first().cloned().unwrap_or_default(),
                command_key: strings.get(1).cloned().unwrap_or_default(),
                send_resp: bit(0),
                input_args,
            })
        }
        5 => ReqType::GetSupportedDm(msg::GetSupportedDm {
            obj_paths: all(),
            first_level_only: bit(0),
            return_commands: bit(1),
            return_events: bit(2),
            return_params: bit(3),
            return_unique_key_sets: bit(4),
        }),
        6 => {
            ReqType::GetInstances(msg::GetInstances { obj_paths: all(), first_level_only: bit(0) })
        }
        7 => ReqType::GetSupportedProtocol(msg::GetSupportedProtocol {
            controller_supported_protocol_versions: all().join(","),
        }),
        _ => return None,
    })
}

/// The controller a structured input comes from.
pub fn sender(data: &[u8]) -> &'static str {
    match data.first() {
        Some(&kind) if kind >= 128 => VIEWER,
        _ => CTRL,
    }
}

/// The Record of [`sender`] a structured input stands for.
pub fn record(data: &[u8]) -> Vec<u8> {
    let payload = match request(data) {
        Some(req) => Msg::request("fuzz", req).to_bytes(),
        None => data.get(2..).unwrap_or_default().to_vec(),
    };
    Record::no_session_context("1.4", AGENT, sender(data), payload).to_bytes()
}

/// The structured input of a request: `kind` (byte 0), `flags` (byte 1), then `objects`.
pub fn encode(kind: u8, flags: u8, objects: &[&[&str]]) -> Vec<u8> {
    let mut out = vec![kind, flags];
    for (i, o) in objects.iter().enumerate() {
        if i > 0 {
            out.push(1);
        }
        out.extend(o.join("\0").bytes());
    }
    out
}

/// A stream over fixed bytes that returns them in pieces of the given sizes (cycled), then
/// `WouldBlock`; writes are accepted and dropped.
pub struct Pieces<'a> {
    data: &'a [u8],
    sizes: &'a [u8],
    turn: usize,
}

impl<'a> Pieces<'a> {
    /// `data` in pieces of `sizes` (a 0 size gives one `WouldBlock`; empty sizes: 1 byte).
    pub fn new(data: &'a [u8], sizes: &'a [u8]) -> Pieces<'a> {
        Pieces { data, sizes, turn: 0 }
    }

    /// The size of the next piece.
    pub fn next_size(&mut self) -> usize {
        let size = match self.sizes.len() {
            0 => 1,
            n => usize::from(self.sizes[self.turn % n]),
        };
        self.turn += 1;
        size
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.next_size().min(buf.len()).min(self.data.len());
        if n == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let (head, tail) = self.data.split_at(n);
        buf[..n].copy_from_slice(head);
        self.data = tail;
        Ok(n)
    }
}

impl Write for Pieces<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_controllers_are_answered_with_their_rights() {
        let mut core = agent();
        let get = encode(0, 0, &[&["Device.LocalAgent.EndpointID"]]);
        let out = core.handle_record(now(1), &record(&get)).outgoing();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].to, CTRL);
        let mut viewer_get = get.clone();
        viewer_get[0] = 128;
        let out = core.handle_record(now(2), &record(&viewer_get)).outgoing();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].to, VIEWER);
        // The controller reads the Roles; the viewer may not write a Controller (a required
        // parameter: the Set fails as a whole).
        let roles = encode(0, 0, &[&["Device.LocalAgent.ControllerTrust.Role.2.Name"]]);
        let out = core.handle_record(now(3), &record(&roles)).outgoing();
        let Ok(reply) = out[0].record.decode_no_session_context_msg() else { panic!("no Msg") };
        assert!(format!("{reply:?}").contains("Viewer"), "{reply:?}");
        let set = encode(129, 0, &[&["Device.LocalAgent.Controller.1.", "*Alias", "x"]]);
        let out = core.handle_record(now(3), &record(&set)).outgoing();
        let Ok(reply) = out[0].record.decode_no_session_context_msg() else { panic!("no Msg") };
        assert_eq!(reply.msg_type(), Some(msg::header::MsgType::Error));
    }
}
