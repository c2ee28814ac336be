//! The readable (table) form of responses, command outcomes and notifications.
//!
//! Every function is pure: it returns a [`Rendered`] holding the text for standard output and
//! one line per failure for standard error (a per-path error, a failed object, a failed
//! command). The caller prints them and turns "any failure line" into a non-zero exit status.
//! Columns are aligned; the first column is capped at [`MAX_KEY_WIDTH`] so one long path does
//! not push every value off the screen.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use usp_proto::msg::{self, get_supported_dm_resp as d};

use crate::client::{Notification, UspFailure};
use crate::operate::{CommandOutcome, CommandResult};

/// The widest first column.
pub const MAX_KEY_WIDTH: usize = 64;

/// What to print.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rendered {
    /// For standard output.
    pub stdout: String,
    /// For standard error, one failure per line.
    pub failures: Vec<String>,
}

impl Rendered {
    /// Whether anything failed.
    pub fn failed(&self) -> bool {
        !self.failures.is_empty()
    }

    fn fail(&mut self, what: &str, code: u32, message: &str) {
        self.failures.push(format!("{what}: error {code}: {message}"));
    }
}

/// Rows as aligned columns (each row ends with a newline; trailing spaces trimmed).
pub fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; columns];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            let cap = if i == 0 { MAX_KEY_WIDTH } else { 40 };
            widths[i] = widths[i].max(cell.chars().count().min(cap));
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<w$}  ", w = widths[i]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| (*c).to_owned()).collect()
}

/// `k=v k2=v2`, values with spaces or quotes in double quotes.
pub fn pairs(map: &BTreeMap<String, String>) -> String {
    let quote = |v: &str| {
        if v.is_empty() || v.contains([' ', '"', '\t', '\n']) {
            format!("{v:?}")
        } else {
            v.to_owned()
        }
    };
    map.iter().map(|(k, v)| format!("{k}={}", quote(v))).collect::<Vec<_>>().join(" ")
}

/// A USP Error message.
pub fn usp_error(e: &UspFailure) -> Rendered {
    let mut r = Rendered::default();
    r.failures.push(format!("error {}: {}", e.code, e.message));
    for (path, code, message) in &e.param_errs {
        r.fail(path, *code, message);
    }
    r
}

/// GetResp: `path value` rows; per-path errors as failures.
pub fn get(g: &msg::GetResp) -> Rendered {
    let mut r = Rendered::default();
    let mut rows = Vec::new();
    for req in &g.req_path_results {
        if req.err_code != 0 {
            r.fail(&req.requested_path, req.err_code, &req.err_msg);
        }
        for res in &req.resolved_path_results {
            for (name, value) in &res.result_params {
                rows.push(vec![format!("{}{name}", res.resolved_path), value.clone()]);
            }
        }
    }
    r.stdout = table(&rows);
    r
}

/// SetResp: the parameters set, with their new values; failures per object and parameter.
pub fn set(s: &msg::SetResp) -> Rendered {
    use msg::set_resp::updated_object_result::operation_status::OperStatus;
    let mut r = Rendered::default();
    let mut rows = Vec::new();
    for obj in &s.updated_obj_results {
        match obj.oper_status.as_ref().and_then(|s| s.oper_status.as_ref()) {
            Some(OperStatus::OperSuccess(ok)) => {
                for inst in &ok.updated_inst_results {
                    for (name, value) in &inst.updated_params {
                        rows.push(vec![format!("{}{name}", inst.affected_path), value.clone()]);
                    }
                    for e in &inst.param_errs {
                        r.fail(
                            &format!("{}{}", inst.affected_path, e.param),
                            e.err_code,
                            &e.err_msg,
                        );
                    }
                }
            }
            Some(OperStatus::OperFailure(f)) => {
                r.fail(&obj.requested_path, f.err_code, &f.err_msg);
                for inst in &f.updated_inst_failures {
                    for e in &inst.param_errs {
                        r.fail(
                            &format!("{}{}", inst.affected_path, e.param),
                            e.err_code,
                            &e.err_msg,
                        );
                    }
                }
            }
            None => r.failures.push(format!("{}: no status in the answer", obj.requested_path)),
        }
    }
    r.stdout = table(&rows);
    r
}

/// AddResp: each new instance with its unique keys.
pub fn add(a: &msg::AddResp) -> Rendered {
    use msg::add_resp::created_object_result::operation_status::OperStatus;
    let mut r = Rendered::default();
    let mut rows = Vec::new();
    for obj in &a.created_obj_results {
        match obj.oper_status.as_ref().and_then(|s| s.oper_status.as_ref()) {
            Some(OperStatus::OperSuccess(ok)) => {
                rows.push(vec![ok.instantiated_path.clone(), pairs(&ok.unique_keys)]);
                for e in &ok.param_errs {
                    let path = format!("{}{}", ok.instantiated_path, e.param);
                    r.fail(&path, e.err_code, &e.err_msg);
                }
            }
            Some(OperStatus::OperFailure(f)) => r.fail(&obj.requested_path, f.err_code, &f.err_msg),
            None => r.failures.push(format!("{}: no status in the answer", obj.requested_path)),
        }
    }
    r.stdout = table(&rows);
    r
}

/// DeleteResp: the deleted instances.
pub fn delete(dr: &msg::DeleteResp) -> Rendered {
    use msg::delete_resp::deleted_object_result::operation_status::OperStatus;
    let mut r = Rendered::default();
    for obj in &dr.deleted_obj_results {
        match obj.oper_status.as_ref().and_then(|s| s.oper_status.as_ref()) {
            Some(OperStatus::OperSuccess(ok)) => {
                for path in &ok.affected_paths {
                    r.stdout.push_str(path);
                    r.stdout.push('\n');
                }
                for e in &ok.unaffected_path_errs {
                    r.fail(&e.unaffected_path, e.err_code, &e.err_msg);
                }
            }
            Some(OperStatus::OperFailure(f)) => r.fail(&obj.requested_path, f.err_code, &f.err_msg),
            None => r.failures.push(format!("{}: no status in the answer", obj.requested_path)),
        }
    }
    r
}

/// GetInstancesResp: each instance with its unique keys.
pub fn instances(g: &msg::GetInstancesResp) -> Rendered {
    let mut r = Rendered::default();
    let mut rows = Vec::new();
    for req in &g.req_path_results {
        if req.err_code != 0 {
            r.fail(&req.requested_path, req.err_code, &req.err_msg);
        }
        for inst in &req.curr_insts {
            rows.push(vec![inst.instantiated_obj_path.clone(), pairs(&inst.unique_keys)]);
        }
    }
    r.stdout = table(&rows);
    r
}

/// GetSupportedProtocolResp: the versions.
pub fn proto(p: &msg::GetSupportedProtocolResp) -> Rendered {
    Rendered { stdout: format!("{}\n", p.agent_supported_protocol_versions), failures: Vec::new() }
}

/// GetSupportedDMResp: each object, then its parameters, commands and events indented.
pub fn gsdm(g: &msg::GetSupportedDmResp) -> Rendered {
    let mut r = Rendered::default();
    let mut rows = Vec::new();
    for req in &g.req_obj_results {
        if req.err_code != 0 {
            r.fail(&req.req_obj_path, req.err_code, &req.err_msg);
        }
        for obj in &req.supported_objs {
            gsdm_object(obj, &mut rows);
        }
    }
    r.stdout = table(&rows);
    r
}

fn gsdm_object(obj: &d::SupportedObjectResult, rows: &mut Vec<Vec<String>>) {
    let access = match d::ObjAccessType::try_from(obj.access) {
        Ok(d::ObjAccessType::ObjReadOnly) => "read-only",
        Ok(d::ObjAccessType::ObjAddDelete) => "add-delete",
        Ok(d::ObjAccessType::ObjAddOnly) => "add-only",
        Ok(d::ObjAccessType::ObjDeleteOnly) => "delete-only",
        Err(_) => "?",
    };
    let kind = if obj.is_multi_instance { "table" } else { "object" };
    let mut details = access.to_owned();
    if !obj.unique_key_sets.is_empty() {
        let keys: Vec<String> = obj.unique_key_sets.iter().map(|k| k.key_names.join("+")).collect();
        let _ = write!(details, "  keys: {}", keys.join(", "));
    }
    rows.push(row(&[&obj.supported_obj_path, kind, &details]));
    for p in &obj.supported_params {
        let t = d::ParamValueType::try_from(p.value_type).map_or("?", |t| {
            let name = t.as_str_name();
            name.strip_prefix("PARAM_").unwrap_or(name)
        });
        let mut access = match d::ParamAccessType::try_from(p.access) {
            Ok(d::ParamAccessType::ParamReadOnly) => "read-only",
            Ok(d::ParamAccessType::ParamReadWrite) => "read-write",
            Ok(d::ParamAccessType::ParamWriteOnly) => "write-only",
            Err(_) => "?",
        }
        .to_owned();
        if p.value_change == d::ValueChangeType::ValueChangeWillIgnore as i32 {
            access.push_str("  no value change");
        }
        rows.push(row(&[&format!("  {}", p.param_name), &t.to_ascii_lowercase(), &access]));
    }
    for c in &obj.supported_commands {
        let kind = match d::CmdType::try_from(c.command_type) {
            Ok(d::CmdType::CmdAsync) => "async command",
            Ok(d::CmdType::CmdSync) => "sync command",
            _ => "command",
        };
        let args =
            format!("in: {}  out: {}", c.input_arg_names.join(", "), c.output_arg_names.join(", "));
        rows.push(row(&[&format!("  {}", c.command_name), kind, &args]));
    }
    for e in &obj.supported_events {
        let args = format!("args: {}", e.arg_names.join(", "));
        rows.push(row(&[&format!("  {}", e.event_name), "event", &args]));
    }
}

/// The outcome of `operate`: output arguments, started requests, failures.
pub fn operate(results: &[CommandResult]) -> Rendered {
    let mut r = Rendered::default();
    let mut rows = Vec::new();
    for res in results {
        match &res.outcome {
            CommandOutcome::Output(args) if args.is_empty() => {
                rows.push(row(&[&res.command, "done"]));
            }
            CommandOutcome::Output(args) => {
                rows.push(row(&[&res.command]));
                for (name, value) in args {
                    rows.push(row(&[&format!("  {name}"), value]));
                }
            }
            CommandOutcome::Started { request } => {
                rows.push(row(&[&res.command, &format!("started as {request}")]));
            }
            CommandOutcome::Finished => {
                rows.push(row(&[&res.command, "done (its output was not received)"]));
            }
            CommandOutcome::Failed { code, message } => r.fail(&res.command, *code, message),
        }
    }
    r.stdout = table(&rows);
    r
}

/// One notification on one line: `TIME SUBSCRIPTION KIND details`.
pub fn notification(time: &str, n: &Notification) -> String {
    use msg::notify::Notification as N;
    use msg::notify::operation_complete::OperationResp as Done;
    let sub = &n.notify.subscription_id;
    let what = match &n.notify.notification {
        Some(N::ValueChange(v)) => format!("ValueChange {} = {}", v.param_path, v.param_value),
        Some(N::ObjCreation(c)) => {
            format!("ObjectCreation {} {}", c.obj_path, pairs(&c.unique_keys))
        }
        Some(N::ObjDeletion(x)) => format!("ObjectDeletion {}", x.obj_path),
        Some(N::Event(e)) => format!("Event {}{} {}", e.obj_path, e.event_name, pairs(&e.params)),
        Some(N::OperComplete(c)) => {
            let result = match &c.operation_resp {
                Some(Done::ReqOutputArgs(o)) => format!("done {}", pairs(&o.output_args)),
                Some(Done::CmdFailure(f)) => format!("failed: error {}: {}", f.err_code, f.err_msg),
                None => "finished".to_owned(),
            };
            let key = &c.command_key;
            format!("OperationComplete {}{} key={key} {result}", c.obj_path, c.command_name)
        }
        Some(N::OnBoardReq(o)) => format!(
            "OnBoardRequest oui={} product_class={} serial={} versions={}",
            o.oui, o.product_class, o.serial_number, o.agent_supported_protocol_versions
        ),
        None => "(empty notification)".to_owned(),
    };
    format!("{time} {sub} {}", what.trim_end())
}

#[cfg(test)]
mod tests;
