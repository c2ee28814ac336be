//! The local CLI's words → USP requests, and USP responses → readable text.
//!
//! `set` takes `PATH VALUE` (obuspa's form) or `PATH=VALUE...`; `add` and `operate` take
//! `NAME=VALUE` arguments. Every request is answered by the core with the same USP semantics
//! (and error codes) a controller gets.

use std::collections::BTreeMap;
use std::fmt::Write;

use usp_proto::msg::body::MsgBody;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::{
    Add, Delete, Get, GetInstances, GetSupportedDm, Msg, Operate, Set, add, add_resp, delete_resp,
    operate_resp, set, set_resp,
};

/// What a CLI command asks of the owner thread.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// A USP request to answer.
    Request(ReqType),
    /// Shut the agent down.
    Stop,
}

/// Turns the words after `-c` into a command, or explains the mistake.
pub fn parse(words: &[String]) -> Result<Command, String> {
    let (verb, args) = words.split_first().ok_or("no command given")?;
    let need =
        |what: &str| if args.is_empty() { Err(format!("{verb} needs {what}")) } else { Ok(()) };
    let req = match verb.as_str() {
        "get" => {
            need("one or more paths")?;
            ReqType::Get(Get { param_paths: args.to_vec(), max_depth: 0 })
        }
        "dump" => ReqType::Get(Get { param_paths: vec!["Device.".into()], max_depth: 0 }),
        "set" => ReqType::Set(set_request(args)?),
        "add" => {
            need("an object path")?;
            let param_settings = pairs(&args[1..])?
                .into_iter()
                .map(|(param, value)| add::CreateParamSetting { param, value, required: true })
                .collect();
            let obj = add::CreateObject { obj_path: args[0].clone(), param_settings };
            ReqType::Add(Add { allow_partial: false, create_objs: vec![obj] })
        }
        "del" | "delete" => {
            need("one or more object paths")?;
            ReqType::Delete(Delete { allow_partial: false, obj_paths: args.to_vec() })
        }
        "operate" => {
            need("a command path such as Device.Reboot()")?;
            let input_args: BTreeMap<String, String> = pairs(&args[1..])?.into_iter().collect();
            ReqType::Operate(Operate {
                command: args[0].clone(),
                command_key: "cli".into(),
                send_resp: true,
                input_args,
            })
        }
        "instances" => {
            need("one or more object paths")?;
            ReqType::GetInstances(GetInstances {
                obj_paths: args.to_vec(),
                first_level_only: false,
            })
        }
        "gsdm" => {
            need("one or more object paths")?;
            ReqType::GetSupportedDm(GetSupportedDm {
                obj_paths: args.to_vec(),
                first_level_only: false,
                return_commands: true,
                return_events: true,
                return_params: true,
                return_unique_key_sets: true,
            })
        }
        "stop" => return Ok(Command::Stop),
        other => return Err(format!("unknown command {other:?} (see uspagent --help)")),
    };
    Ok(Command::Request(req))
}

/// `set PATH VALUE` or `set PATH=VALUE...`, grouped per object.
fn set_request(args: &[String]) -> Result<Set, String> {
    let settings: Vec<(String, String)> = match args {
        [path, value] if !path.contains('=') => vec![(path.clone(), value.clone())],
        [] => return Err("set needs PATH VALUE or PATH=VALUE".into()),
        _ => pairs(args)?,
    };
    let mut update_objs: Vec<set::UpdateObject> = Vec::new();
    for (path, value) in settings {
        let cut = path.rfind('.').filter(|i| i + 1 < path.len());
        let Some(cut) = cut else { return Err(format!("{path} is not a parameter path")) };
        let (obj, param) = (&path[..=cut], &path[cut + 1..]);
        let setting = set::UpdateParamSetting { param: param.into(), value, required: true };
        match update_objs.iter_mut().find(|o| o.obj_path == obj) {
            Some(o) => o.param_settings.push(setting),
            None => update_objs
                .push(set::UpdateObject { obj_path: obj.into(), param_settings: vec![setting] }),
        }
    }
    Ok(Set { allow_partial: false, update_objs })
}

fn pairs(args: &[String]) -> Result<Vec<(String, String)>, String> {
    args.iter()
        .map(|a| match a.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
            _ => Err(format!("{a:?} is not NAME=VALUE")),
        })
        .collect()
}

/// The readable text of an answer, and whether it reports a failure.
pub fn format(msg: &Msg) -> (String, bool) {
    let mut t = String::new();
    let failed = match msg.body.as_ref().and_then(|b| b.msg_body.as_ref()) {
        Some(MsgBody::Response(r)) => match &r.resp_type {
            Some(resp) => response(&mut t, resp),
            None => false,
        },
        Some(MsgBody::Error(e)) => {
            let _ = writeln!(t, "ERROR {}: {}", e.err_code, e.err_msg);
            for p in &e.param_errs {
                let _ = writeln!(t, "  {}: {} {}", p.param_path, p.err_code, p.err_msg);
            }
            true
        }
        _ => false,
    };
    (t, failed)
}

/// Writes one response; true when part of it failed.
fn response(t: &mut String, resp: &RespType) -> bool {
    let mut failed = false;
    let mut fail = |t: &mut String, what: &str, code: u32, text: &str| {
        let _ = writeln!(t, "ERROR {code} {what}: {text}");
        failed = true;
    };
    match resp {
        RespType::GetResp(r) => {
            for req in &r.req_path_results {
                if req.err_code != 0 {
                    fail(t, &req.requested_path, req.err_code, &req.err_msg);
                }
                for res in &req.resolved_path_results {
                    for (name, value) in &res.result_params {
                        let _ = writeln!(t, "{}{name} => {value}", res.resolved_path);
                    }
                }
            }
        }
        RespType::SetResp(r) => {
            use set_resp::updated_object_result::operation_status::OperStatus;
            for o in &r.updated_obj_results {
                match o.oper_status.as_ref().and_then(|s| s.oper_status.as_ref()) {
                    Some(OperStatus::OperSuccess(s)) => {
                        for i in &s.updated_inst_results {
                            for (n, v) in &i.updated_params {
                                let _ = writeln!(t, "{}{n} => {v}", i.affected_path);
                            }
                        }
                    }
                    Some(OperStatus::OperFailure(f)) => {
                        fail(t, &o.requested_path, f.err_code, &f.err_msg)
                    }
                    None => {}
                }
            }
        }
        RespType::AddResp(r) => {
            use add_resp::created_object_result::operation_status::OperStatus;
            for o in &r.created_obj_results {
                match o.oper_status.as_ref().and_then(|s| s.oper_status.as_ref()) {
                    Some(OperStatus::OperSuccess(s)) => {
                        let _ = writeln!(t, "Added {}", s.instantiated_path);
                    }
                    Some(OperStatus::OperFailure(f)) => {
                        fail(t, &o.requested_path, f.err_code, &f.err_msg)
                    }
                    None => {}
                }
            }
        }
        RespType::DeleteResp(r) => {
            use delete_resp::deleted_object_result::operation_status::OperStatus;
            for o in &r.deleted_obj_results {
                match o.oper_status.as_ref().and_then(|s| s.oper_status.as_ref()) {
                    Some(OperStatus::OperSuccess(s)) => {
                        for p in &s.affected_paths {
                            let _ = writeln!(t, "Deleted {p}");
                        }
                    }
                    Some(OperStatus::OperFailure(f)) => {
                        fail(t, &o.requested_path, f.err_code, &f.err_msg)
                    }
                    None => {}
                }
            }
        }
        RespType::OperateResp(r) => {
            use operate_resp::operation_result::OperationResp;
            for o in &r.operation_results {
                match &o.operation_resp {
                    Some(OperationResp::ReqObjPath(p)) => {
                        let _ = writeln!(t, "{} started: {p}", o.executed_command);
                    }
                    Some(OperationResp::ReqOutputArgs(a)) => {
                        let _ = writeln!(t, "{} done", o.executed_command);
                        for (n, v) in &a.output_args {
                            let _ = writeln!(t, "  {n} => {v}");
                        }
                    }
                    Some(OperationResp::CmdFailure(f)) => {
                        fail(t, &o.executed_command, f.err_code, &f.err_msg)
                    }
                    None => {}
                }
            }
        }
        RespType::GetInstancesResp(r) => {
            for req in &r.req_path_results {
                if req.err_code != 0 {
                    fail(t, &req.requested_path, req.err_code, &req.err_msg);
                }
                for i in &req.curr_insts {
                    let keys: Vec<String> =
                        i.unique_keys.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    let _ = writeln!(t, "{} {}", i.instantiated_obj_path, keys.join(" "));
                }
            }
        }
        RespType::GetSupportedDmResp(r) => {
            for req in &r.req_obj_results {
                if req.err_code != 0 {
                    fail(t, &req.req_obj_path, req.err_code, &req.err_msg);
                }
                for o in &req.supported_objs {
                    let _ = writeln!(t, "{}", o.supported_obj_path);
                    for p in &o.supported_params {
                        let _ = writeln!(t, "  {}", p.param_name);
                    }
                    for c in &o.supported_commands {
                        let _ = writeln!(t, "  {}", c.command_name);
                    }
                    for e in &o.supported_events {
                        let _ = writeln!(t, "  {}", e.event_name);
                    }
                }
            }
        }
        other => {
            let _ = writeln!(t, "{other:?}");
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn set_accepts_both_forms_and_groups_per_object() {
        let Command::Request(ReqType::Set(s)) = parse(&words("set Device.A.B 1")).unwrap() else {
            panic!()
        };
        assert_eq!(s.update_objs[0].obj_path, "Device.A.");
        assert_eq!(s.update_objs[0].param_settings[0].param, "B");
        let Command::Request(ReqType::Set(s)) =
            parse(&words("set Device.A.B=1 Device.A.C=x=y Device.D.E=")).unwrap()
        else {
            panic!()
        };
        assert_eq!(s.update_objs.len(), 2);
        assert_eq!(s.update_objs[0].param_settings[1].value, "x=y");
        assert_eq!(s.update_objs[1].param_settings[0].value, "");
        assert!(parse(&words("set Device.")).is_err());
        assert!(parse(&words("set Device. 1")).unwrap_err().contains("not a parameter path"));
    }

    #[test]
    fn every_verb_builds_its_request() {
        for line in [
            "get Device.DeviceInfo.",
            "dump",
            "add Device.LocalAgent.Controller. EndpointID=x",
            "del Device.LocalAgent.Controller.1.",
            "operate Device.Reboot() Cause=x",
            "instances Device.LocalAgent.",
            "gsdm Device.",
        ] {
            assert!(matches!(parse(&words(line)), Ok(Command::Request(_))), "{line}");
        }
        assert_eq!(parse(&words("stop")), Ok(Command::Stop));
    }

    #[test]
    fn mistakes_are_explained() {
        assert!(parse(&[]).is_err());
        assert!(parse(&words("get")).unwrap_err().contains("paths"));
        assert!(parse(&words("frobnicate x")).unwrap_err().contains("unknown command"));
        assert!(parse(&words("add Device.X. novalue")).unwrap_err().contains("NAME=VALUE"));
    }

    #[test]
    fn errors_format_as_failures() {
        let msg = Msg::error(
            "1",
            usp_proto::msg::Error { err_code: 7026, err_msg: "bad".into(), param_errs: vec![] },
        );
        let (text, failed) = format(&msg);
        assert!(failed && text.contains("7026"), "{text}");
    }
}
