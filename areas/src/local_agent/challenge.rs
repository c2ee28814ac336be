//! `Device.LocalAgent.ControllerTrust.Challenge.{i}.` with `RequestChallenge()` and
//! `ChallengeResponse()`: a controller raises its own Role by answering a challenge (a
//! passphrase printed on the device, say) that a user gives it (TR-369 "Challenges", R-SEC.13–17).
//!
//! - `RequestChallenge(ChallengeRef, RequestExpiration)` answers the row's `Instruction`,
//!   `InstructionType`, `ValueType` and a fresh `ChallengeID`. One outstanding challenge per
//!   controller: a request for another row while one is outstanding (not expired) fails; a
//!   reference to a missing or disabled row fails with 7012 (Invalid Value).
//! - `ChallengeResponse(ChallengeID, Value)`: when `Value` is the row's, the row's `Role`
//!   replaces the `UntrustedRole` in the controller's `AssignedRole`, or is appended to it.
//!   Otherwise the command fails, and after `Retries` consecutive failures of that row (across
//!   controllers; 0 counts as 1) the row refuses every request and response for
//!   `LockoutPeriod` seconds (R-SEC.16/17).
//!
//! `Value` is secured: controllers without a SecuredRole read it empty. Outstanding challenges
//! and failure counts are not persisted (R-SEC.21: cleared at reboot). Never touches another
//! controller's row, never grants a Role other than the row's.

use std::collections::HashMap;
use std::time::Duration;

use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::plugin::{Ctx, Instance, Outcome, Requester};
use usp_datamodel::schema::{ObjAccess, ObjId, SchemaBuilder};
use usp_datamodel::value::{ParamType, Value, list_items};

const TABLE: &str = "Device.LocalAgent.ControllerTrust.Challenge.{i}.";
const ROW_PREFIX: &str = "Device.LocalAgent.ControllerTrust.Challenge.";
const TRUST: &str = "Device.LocalAgent.ControllerTrust.";
const CONTROLLER: &str = "Device.LocalAgent.Controller.{i}.";

/// A challenge a controller requested and has not answered yet.
#[derive(Clone, Debug)]
struct Pending {
    row: u32,
    id: String,
    /// Uptime after which it is void; `None`: never.
    expires: Option<Duration>,
}

/// Consecutive failures of one row, and the end of its lockout.
#[derive(Clone, Debug, Default)]
struct Failures {
    count: u32,
    locked_until: Option<Duration>,
}

/// The challenges' state (volatile).
#[derive(Debug, Default)]
pub(super) struct Challenges {
    pending: HashMap<String, Pending>,
    failures: HashMap<u32, Failures>,
}

/// Declares the table and the two commands on `ControllerTrust.` (`ct`).
pub(super) fn register(b: &mut SchemaBuilder, ct: ObjId) {
    let ch = b.table(TABLE, ObjAccess::AddDelete);
    b.alias(ch);
    b.param(ch, "Description", ParamType::String).rw();
    b.param(ch, "Role", ParamType::String).rw().list().reference();
    b.param(ch, "Enable", ParamType::Boolean).rw().default("false");
    b.param(ch, "Type", ParamType::String).rw().enumeration(&["Passphrase"]).default("Passphrase");
    b.param(ch, "Value", ParamType::Base64).rw().hidden();
    let media = &["text/plain", "image/jpeg"];
    b.param(ch, "ValueType", ParamType::String).rw().enumeration(media).default("text/plain");
    b.param(ch, "Instruction", ParamType::Base64).rw();
    let media = &["text/plain", "image/jpeg", "text/html"];
    b.param(ch, "InstructionType", ParamType::String).rw().enumeration(media).default("text/plain");
    // TR-181 gives no default; R-SEC.16 asks for a limit.
    b.param(ch, "Retries", ParamType::UnsignedInt).rw().default("3");
    b.param(ch, "LockoutPeriod", ParamType::Int).rw().range(0, i32::MAX.into()).default("30");
    b.command(ct, "RequestChallenge", false)
        .mandatory("ChallengeRef", ParamType::String)
        .input_default("RequestExpiration", ParamType::Int, "900")
        .output("Instruction", ParamType::Base64)
        .output("InstructionType", ParamType::String)
        .output("ValueType", ParamType::String)
        .output("ChallengeID", ParamType::String);
    b.command(ct, "ChallengeResponse", false)
        .mandatory("ChallengeID", ParamType::String)
        .mandatory("Value", ParamType::Base64);
}

fn failure(text: impl Into<String>) -> UspError {
    UspError::new(ErrorCode::CommandFailure, text)
}

fn arg<'a>(input: &'a [(Box<str>, Value)], name: &str) -> Option<&'a Value> {
    input.iter().find(|(n, _)| &**n == name).map(|(_, v)| v)
}

/// The stored text of `name` in the row `n` of the table `obj` (or of `obj` itself when
/// `n` is `None`).
fn text(ctx: &Ctx, obj: ObjId, n: Option<u32>, name: &str) -> String {
    let numbers: Vec<u32> = n.into_iter().collect();
    let inst = Instance { obj, keys: vec![None; numbers.len()], numbers };
    let Some(p) = ctx.schema().param_by_name(obj, name) else { return String::new() };
    ctx.stored(&inst, p).map(ToString::to_string).unwrap_or_default()
}

/// The requesting controller's Endpoint ID.
fn controller(ctx: &Ctx) -> Result<String, UspError> {
    match ctx.requester() {
        Requester::Controller(eid) => Ok(eid.to_string()),
        Requester::Internal => Err(failure("challenges are for controllers")),
    }
}

/// A fresh ChallengeID: 16 hex digits from the kernel's random source, else from the clock.
fn challenge_id(ctx: &Ctx) -> String {
    use std::io::Read as _;
    let mut b = [0u8; 8];
    let random = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b));
    if random.is_err() {
        let t = ctx.now().uptime.as_nanos() as u64;
        b = t.to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Bytewise equality whose time does not depend on where the texts differ.
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Challenges {
    fn table(ctx: &Ctx) -> Result<ObjId, UspError> {
        ctx.schema().obj_by_path(TABLE).ok_or_else(|| UspError::internal("no Challenge table"))
    }

    /// Fails while the row is locked out.
    fn check_lockout(&self, row: u32, now: Duration) -> Result<(), UspError> {
        match self.failures.get(&row).and_then(|f| f.locked_until) {
            Some(until) if until > now => Err(failure(format!(
                "this challenge is locked for {}s after too many failures",
                (until - now).as_secs().max(1)
            ))),
            _ => Ok(()),
        }
    }

    /// `RequestChallenge()`.
    pub(super) fn request(
        &mut self,
        ctx: &mut Ctx,
        input: &[(Box<str>, Value)],
    ) -> Result<Outcome, UspError> {
        let eid = controller(ctx)?;
        let table = Self::table(ctx)?;
        let reference = arg(input, "ChallengeRef").map(ToString::to_string).unwrap_or_default();
        let invalid = || {
            UspError::new(ErrorCode::InvalidValue, format!("no enabled challenge {reference:?}"))
        };
        let row = reference
            .trim_end_matches('.')
            .strip_prefix(ROW_PREFIX)
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|n| ctx.rows(table, &[]).contains(n))
            .ok_or_else(invalid)?;
        if text(ctx, table, Some(row), "Enable") != "true" {
            return Err(invalid());
        }
        let now = ctx.now().uptime;
        self.check_lockout(row, now)?;
        let expiration = arg(input, "RequestExpiration").and_then(Value::as_i64).unwrap_or(900);
        if expiration < 0 {
            return Err(UspError::new(ErrorCode::InvalidValue, "RequestExpiration below 0"));
        }
        if let Some(p) = self.pending.get(&eid) {
            let live = p.expires.is_none_or(|t| t > now);
            if live && p.row != row {
                return Err(failure("another challenge of this controller is outstanding"));
            }
        }
        let id = challenge_id(ctx);
        let expires = (expiration > 0).then(|| now + Duration::from_secs(expiration as u64));
        self.pending.insert(eid, Pending { row, id: id.clone(), expires });
        let out = |name: &str| -> (Box<str>, Value) {
            let value = text(ctx, table, Some(row), name);
            (name.into(), Value::String(value.into()))
        };
        let instruction = text(ctx, table, Some(row), "Instruction");
        Ok(Outcome::Done(vec![
            ("Instruction".into(), Value::Base64(instruction.into())),
            out("InstructionType"),
            out("ValueType"),
            ("ChallengeID".into(), Value::String(id.into())),
        ]))
    }

    /// `ChallengeResponse()`.
    pub(super) fn respond(
        &mut self,
        ctx: &mut Ctx,
        input: &[(Box<str>, Value)],
    ) -> Result<Outcome, UspError> {
        let eid = controller(ctx)?;
        let table = Self::table(ctx)?;
        let now = ctx.now().uptime;
        let id = arg(input, "ChallengeID").map(ToString::to_string).unwrap_or_default();
        let row = match self.pending.get(&eid) {
            Some(p) if same(&p.id, &id) && p.expires.is_none_or(|t| t > now) => p.row,
            _ => return Err(failure("no outstanding challenge with this ChallengeID")),
        };
        self.check_lockout(row, now)?;
        let given = arg(input, "Value").map(ToString::to_string).unwrap_or_default();
        let want = text(ctx, table, Some(row), "Value");
        if want.is_empty() || !same(&given, &want) {
            self.count_failure(ctx, table, row, now);
            return Err(failure("the challenge value does not match"));
        }
        self.failures.remove(&row);
        self.pending.remove(&eid);
        let roles = text(ctx, table, Some(row), "Role");
        grant(ctx, &eid, &roles)?;
        log::info!("{eid}: challenge {row} answered; Role {roles} granted");
        Ok(Outcome::Done(Vec::new()))
    }

    fn count_failure(&mut self, ctx: &Ctx, table: ObjId, row: u32, now: Duration) {
        let retries = text(ctx, table, Some(row), "Retries").parse::<u32>().unwrap_or(3).max(1);
        let lockout = text(ctx, table, Some(row), "LockoutPeriod").parse::<u64>().unwrap_or(30);
        let f = self.failures.entry(row).or_default();
        f.count += 1;
        if f.count >= retries {
            log::warn!("challenge {row}: {} failures; locked for {lockout}s", f.count);
            f.count = 0;
            f.locked_until = Some(now + Duration::from_secs(lockout));
        }
    }
}

/// Writes the new `AssignedRole` of the controller `eid`: `roles` replace the UntrustedRole
/// or are appended.
fn grant(ctx: &mut Ctx, eid: &str, roles: &str) -> Result<(), UspError> {
    let schema = ctx.schema();
    let missing = || UspError::internal("no Controller table");
    let table = schema.obj_by_path(CONTROLLER).ok_or_else(missing)?;
    let trust = schema.obj_by_path(TRUST).ok_or_else(missing)?;
    let assigned = schema.param_by_name(table, "AssignedRole").ok_or_else(missing)?;
    let untrusted = text(ctx, trust, None, "UntrustedRole");
    let untrusted: Vec<&str> = list_items(&untrusted).map(|r| r.trim_end_matches('.')).collect();
    let row = ctx
        .rows(table, &[])
        .into_iter()
        .find(|n| text(ctx, table, Some(*n), "EndpointID") == eid)
        .ok_or_else(|| failure("the controller is not in the Controller table"))?;
    let current = text(ctx, table, Some(row), "AssignedRole");
    let mut list: Vec<String> = list_items(&current)
        .filter(|r| !untrusted.contains(&r.trim_end_matches('.')))
        .map(str::to_owned)
        .collect();
    for r in list_items(roles) {
        if !list.iter().any(|have| have.trim_end_matches('.') == r.trim_end_matches('.')) {
            list.push(r.to_owned());
        }
    }
    let inst = Instance { obj: table, numbers: vec![row], keys: vec![None] };
    ctx.set_stored(&inst, assigned, Value::String(list.join(",").into()));
    Ok(())
}
