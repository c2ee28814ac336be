//! Tests of the links module: data models built from reset-file text, planned and recorded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod mqtt;
mod plan;
mod record;
mod stats;

use super::*;
use crate::reset_file::parse_reset_file;
use usp_areas::{AgentIdentity, builtin};
use usp_datamodel::path::Path;
use usp_datamodel::plugin::{Now, Requester};
use usp_datamodel::store::MemStore;
use usp_datamodel::value::DateTime;
use usp_datamodel::{DataModel, Item};

const EID: &str = "os::012345-links";

/// `Now` at 2024-05-01T12:00:00Z + `secs`.
fn at(secs: u64) -> Now {
    Now {
        uptime: std::time::Duration::from_secs(secs),
        wall: DateTime::from_unix(1_714_564_800 + i64::try_from(secs).unwrap()),
    }
}

/// A data model of the built-in modules on `store`, configured by reset-file `lines`.
fn dm_on(store: &MemStore, lines: &str) -> DataModel {
    let mut dm = DataModel::new(builtin(&AgentIdentity::default()), Box::new(store.clone()), at(0))
        .expect("data model");
    for e in parse_reset_file(lines).expect("reset text") {
        dm.apply_default(&e.path, &e.value, false)
            .unwrap_or_else(|err| panic!("line {}: {}: {err:?}", e.line, e.path));
    }
    dm.flush().expect("flush");
    dm
}

fn dm(lines: &str) -> DataModel {
    dm_on(&MemStore::new(), lines)
}

fn get(dm: &mut DataModel, path: &str) -> String {
    let p = Path::parse(path).unwrap();
    let t = dm.resolve(&Requester::Internal, &p).unwrap().remove(0);
    let Item::Param(param) = t.item else { panic!("{path} is not a parameter") };
    dm.read_params(&Requester::Internal, t.obj, &t.numbers, &[param]).remove(0).unwrap().to_string()
}

fn set(dm: &mut DataModel, path: &str, value: &str) {
    dm.apply_default(path, value, false).unwrap();
    dm.flush().unwrap();
}

fn no_tls() -> TlsFiles {
    TlsFiles::default()
}
