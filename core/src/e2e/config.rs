//! What `Device.LocalAgent.Controller.{i}.E2ESession.` says about one controller, read for
//! every session Record, and the `Status` the session layer writes back.
//!
//! Never keeps a copy of the configuration between Records: a Set of `MaxRetransmitTries` or
//! `SessionExpiration` applies to the next Record (TP-469 3.10 and 3.14 rely on it).

use usp_datamodel::DataModel;
use usp_datamodel::plugin::Requester;
use usp_datamodel::schema::{ObjId, ParamId};
use usp_datamodel::value::Value;

/// `SessionMode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A session context is always used; Records outside one are not served.
    Require,
    /// A controller's session context is accepted; the agent does not impose one.
    Allow,
    /// Session contexts are refused (DisconnectRecord 7106).
    Forbid,
}

/// The E2ESession settings of one controller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// `SessionMode`.
    pub mode: Mode,
    /// `SessionExpiration` in seconds (0: never).
    pub expiration: u32,
    /// `MaxUSPRecordSize` in bytes (0: no segmentation).
    pub max_record: u32,
    /// `MaxRetransmitTries` (-1: always retransmit, 0: never).
    pub max_retransmit: i32,
}

impl Default for Config {
    /// TR-181's defaults, with `Allow` (see the areas' `e2e_session` module); what a data model
    /// without the E2ESession object gets.
    fn default() -> Config {
        Config { mode: Mode::Allow, expiration: 0, max_record: 0, max_retransmit: 0 }
    }
}

/// The ids of the E2ESession object and its parameters, resolved once.
#[derive(Clone, Copy, Debug)]
pub struct Ids {
    obj: ObjId,
    mode: ParamId,
    expiration: ParamId,
    max_record: ParamId,
    max_retransmit: ParamId,
    status: ParamId,
}

impl Ids {
    /// The ids, when the schema declares the object.
    pub fn resolve(dm: &DataModel) -> Option<Ids> {
        let s = dm.schema();
        let obj = s.obj_by_path("Device.LocalAgent.Controller.{i}.E2ESession.")?;
        Some(Ids {
            obj,
            mode: s.param_by_name(obj, "SessionMode")?,
            expiration: s.param_by_name(obj, "SessionExpiration")?,
            max_record: s.param_by_name(obj, "MaxUSPRecordSize")?,
            max_retransmit: s.param_by_name(obj, "MaxRetransmitTries")?,
            status: s.param_by_name(obj, "Status")?,
        })
    }

    /// The settings of the Controller row `row`.
    pub fn read(&self, dm: &mut DataModel, row: u32) -> Config {
        let params = [self.mode, self.expiration, self.max_record, self.max_retransmit];
        let values = dm.read_params(&Requester::Internal, self.obj, &[row], &params);
        let mut config = Config::default();
        for (i, value) in values.into_iter().enumerate() {
            match (i, value) {
                (0, Ok(Value::String(m))) => {
                    config.mode = match &*m {
                        "Require" => Mode::Require,
                        "Forbid" => Mode::Forbid,
                        _ => Mode::Allow,
                    }
                }
                (1, Ok(Value::UnsignedInt(n))) => config.expiration = n,
                (2, Ok(Value::UnsignedInt(n))) => config.max_record = n,
                (3, Ok(Value::Int(n))) => config.max_retransmit = n,
                _ => {}
            }
        }
        config
    }

    /// Writes `Status` of the Controller row `row` (`Up`, `Negotiating` or `Down`).
    pub fn write_status(&self, dm: &mut DataModel, row: u32, status: &str) {
        let value = [self.status];
        let now = dm.read_params(&Requester::Internal, self.obj, &[row], &value);
        if matches!(now.first(), Some(Ok(Value::String(s))) if &**s == status) {
            return;
        }
        dm.begin(Requester::Internal);
        match dm.set_values(self.obj, &[row], &[(self.status, Value::String(status.into()))]) {
            Ok(()) => dm.commit(),
            Err(e) => {
                log::warn!("E2ESession.Status not written: {}", e.msg);
                dm.abort();
            }
        }
    }
}
