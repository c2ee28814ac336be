//! What a plugin's `get` returns is checked against the schema before it is served.

use crate::DataModel;
use crate::error::{ErrorCode, UspError};
use crate::plugin::{Ctx, Instance, Now, Plugin, Requester};
use crate::schema::{ObjId, ParamId, SchemaBuilder};
use crate::store::MemStore;
use crate::value::{ParamType, Value};

/// `Device.Bad.Count` (unsignedInt) and `Device.Bad.Name` (string), served with whatever the
/// test puts in `reply`.
struct Bad {
    reply: Vec<Value>,
}

impl Plugin for Bad {
    fn name(&self) -> &'static str {
        "Bad"
    }
    fn register(&mut self, b: &mut SchemaBuilder) {
        let obj = b.object("Device.Bad.");
        b.param(obj, "Count", ParamType::UnsignedInt).live();
        b.param(obj, "Name", ParamType::String).live();
    }
    fn get(
        &mut self,
        _ctx: &mut Ctx,
        _inst: &Instance,
        _params: &[ParamId],
        out: &mut Vec<Value>,
    ) -> Result<(), UspError> {
        out.extend(self.reply.iter().cloned());
        Ok(())
    }
}

fn read(reply: Vec<Value>) -> Vec<Result<Value, UspError>> {
    let plugins: Vec<Box<dyn Plugin>> = vec![Box::new(Bad { reply })];
    let mut dm = DataModel::new(plugins, Box::new(MemStore::new()), Now::default()).unwrap();
    let obj = dm.schema().obj_by_path("Device.Bad.").unwrap();
    let params = dm.schema().obj(obj).params.clone();
    assert_ne!(obj, ObjId::ROOT);
    dm.read_params(&Requester::Internal, obj, &[], &params)
}

#[test]
fn values_of_the_declared_types_are_served() {
    let got = read(vec![Value::UnsignedInt(3), Value::String("x".into())]);
    assert_eq!(got, [Ok(Value::UnsignedInt(3)), Ok(Value::String("x".into()))]);
}

#[test]
fn a_value_of_another_type_is_refused_naming_the_plugin_and_parameter() {
    let got = read(vec![Value::String("3".into()), Value::String("x".into())]);
    let e = got[0].clone().unwrap_err();
    assert_eq!(e.code, ErrorCode::InternalError);
    assert!(e.msg.contains("Bad returned a string for Count, declared unsignedInt"), "{}", e.msg);
}

#[test]
fn too_few_or_too_many_values_are_refused() {
    for reply in [vec![Value::UnsignedInt(3)], vec![Value::UnsignedInt(3); 3]] {
        let got = read(reply);
        assert!(got.iter().all(|v| v.as_ref().is_err_and(|e| e.msg.contains("values for 2"))));
    }
}
