//! GetInstances (TR-369 "The GetInstances Message").
//!
//! - Paths name tables (`Device.Test.Item.`), table rows (`Device.Test.Item.1.`, whose child
//!   tables' rows are listed), single-instance objects (`Device.`, `Device.LocalAgent.`: the
//!   rows of the tables below them, as controllers send it to map a device's tables and as
//!   obuspa answers) or search paths over them. Only an object that can hold no table at all
//!   (no multi-instance object below it in the schema) is refused with 7018 "Object is not a
//!   table". A parameter, command or event path is 7026; bad syntax 7008; a non-search path
//!   naming a missing instance 7016.
//! - `first_level_only`: only the rows of the tables named, or of the first tables below a
//!   named row or single-instance object; otherwise every row of every table below, depth
//!   first.
//! - Every row comes with its unique keys; a search path matching nothing gives an empty
//!   `curr_insts` (TP-469 1.83).
//! - Access control (R-GIN.0, R-GIN.1): a row without `InstantiatedObj` read is treated as
//!   absent (not listed; named by a non-search path: 7016, as a missing instance), its
//!   sub-tables are still listed when their rows are readable; unique keys without `Param`
//!   read are left out of `unique_keys`.

use usp_datamodel::access::Access;
use usp_datamodel::plugin::Requester;
use usp_datamodel::{DataModel, ErrorCode, Item, UspError};
use usp_proto::Message;
use usp_proto::msg::get_instances_resp::{CurrInstance, RequestedPathResult};
use usp_proto::msg::{GetInstances, GetInstancesResp};

use super::budget::Budget;
use super::parse_obj_path;

/// Answers a GetInstances with the rights of `access`; 7005 when the answer exceeds `budget`
/// (counted path by path: one path's answer is bounded by the number of rows).
pub(super) fn handle(
    dm: &mut DataModel,
    who: &Requester,
    access: &Access,
    req: &GetInstances,
    budget: &mut Budget,
) -> Result<GetInstancesResp, UspError> {
    let mut req_path_results = Vec::with_capacity(req.obj_paths.len());
    for p in &req.obj_paths {
        let result = match one_path(dm, who, access, p, req.first_level_only) {
            Ok(curr_insts) => RequestedPathResult {
                requested_path: p.clone(),
                err_code: 0,
                err_msg: String::new(),
                curr_insts,
            },
            Err(e) => RequestedPathResult {
                requested_path: p.clone(),
                err_code: e.code.code(),
                err_msg: e.msg,
                curr_insts: Vec::new(),
            },
        };
        budget.charge(result.encoded_len())?;
        req_path_results.push(result);
    }
    Ok(GetInstancesResp { req_path_results })
}

fn one_path(
    dm: &mut DataModel,
    who: &Requester,
    access: &Access,
    text: &str,
    first_level_only: bool,
) -> Result<Vec<CurrInstance>, UspError> {
    let path = parse_obj_path(text)?;
    let targets = dm.resolve(who, &path)?;
    let search = path.is_search();
    let mut out = Vec::new();
    for target in targets {
        if target.item != Item::Object {
            return Err(UspError::invalid_path(super::short(text)));
        }
        if !can_hold_tables(dm, target.obj) {
            return Err(UspError::new(
                ErrorCode::NotATable,
                format!("{} is not a table", target.obj_path(dm)),
            ));
        }
        let is_row = !target.is_table(dm);
        if is_row && !access.instance(dm.schema(), target.obj, &target.numbers).read() {
            if search {
                continue;
            }
            return Err(UspError::no_object(target.obj_path(dm)));
        }
        for row in dm.instances(&target, first_level_only) {
            if !access.instance(dm.schema(), row.obj, &row.numbers).read() {
                continue;
            }
            let keys = dm.unique_keys(row.obj, &row.numbers);
            let schema = dm.schema();
            let unique_keys = keys
                .into_iter()
                .filter(|(name, _)| {
                    schema
                        .param_by_name(row.obj, name)
                        .is_some_and(|p| access.param(schema, p, &row.numbers).read())
                })
                .collect();
            out.push(CurrInstance {
                instantiated_obj_path: dm.schema().instance_path(row.obj, &row.numbers),
                unique_keys,
            });
        }
    }
    Ok(out)
}

/// Whether `obj` is a table or has one below it in the schema.
fn can_hold_tables(dm: &DataModel, obj: usp_datamodel::schema::ObjId) -> bool {
    let schema = dm.schema();
    let prefix = &schema.obj(obj).path;
    schema.obj(obj).multi || schema.objects().any(|(_, d)| d.multi && d.path.starts_with(&**prefix))
}
