//! The evaluator on its own: a small schema, rows written by hand, questions about elements.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::schema::{ObjAccess, SchemaBuilder};
use crate::value::ParamType;

struct Model {
    schema: Schema,
    la: ObjId,
    ctrl: ObjId,
    boot_param: ObjId,
    sub: ObjId,
    info: ObjId,
}

fn model() -> Model {
    let mut b = SchemaBuilder::new();
    let root = ObjId::ROOT;
    b.command(root, "Reboot", false);
    b.event(root, "Boot");
    let info = b.object("Device.DeviceInfo.");
    b.param(info, "Manufacturer", ParamType::String);
    let la = b.object("Device.LocalAgent.");
    b.param(la, "EndpointID", ParamType::String);
    let ctrl = b.table("Device.LocalAgent.Controller.{i}.", ObjAccess::AddDelete);
    b.param(ctrl, "EndpointID", ParamType::String).rw();
    b.param(ctrl, "PeriodicNotifInterval", ParamType::UnsignedInt).rw();
    let boot_param =
        b.table("Device.LocalAgent.Controller.{i}.BootParameter.{i}.", ObjAccess::AddDelete);
    b.param(boot_param, "Enable", ParamType::Boolean).rw();
    b.param(boot_param, "ParameterName", ParamType::String).rw();
    let sub = b.table("Device.LocalAgent.Subscription.{i}.", ObjAccess::AddDelete);
    b.param(sub, "Enable", ParamType::Boolean).rw();
    b.param(sub, "ID", ParamType::String).rw();
    let schema = b.finish().expect("schema");
    Model { schema, la, ctrl, boot_param, sub, info }
}

impl Model {
    fn param(&self, obj: ObjId, name: &str) -> ParamId {
        self.schema.param_by_name(obj, name).expect(name)
    }
}

fn perm(instance: u32, order: u32, targets: &str, strings: [&str; 4]) -> PermissionRow {
    PermissionRow {
        instance,
        enable: true,
        order,
        targets: targets.into(),
        param: strings[0].into(),
        obj: strings[1].into(),
        instantiated_obj: strings[2].into(),
        command_event: strings[3].into(),
    }
}

fn role(instance: u32, permissions: Vec<PermissionRow>) -> RoleRow {
    RoleRow { instance, enable: true, permissions }
}

const ALL4: [&str; 4] = ["rwxn", "rwxn", "rwxn", "rwxn"];

/// The factory-default role: `Device.` with everything, Order 1.
fn full_role(instance: u32) -> RoleRow {
    role(instance, vec![perm(1, 1, "Device.", ALL4)])
}

fn controller(id: &str, assigned: &str) -> ControllerRow {
    ControllerRow { endpoint_id: id.into(), assigned_role: assigned.into(), ..Default::default() }
}

fn role_ref(n: u32) -> String {
    format!("Device.LocalAgent.ControllerTrust.Role.{n}")
}

/// The access of controller `c` under `roles`, `c` holding the Roles `held`.
fn access(m: &Model, roles: Vec<RoleRow>, held: &[u32]) -> Access {
    let refs: Vec<String> = held.iter().map(|n| role_ref(*n)).collect();
    let rows = TrustRows {
        roles,
        controllers: vec![controller("c", &refs.join(","))],
        ..Default::default()
    };
    Acl::build(&m.schema, &rows).of("c")
}

#[test]
fn permission_strings_parse_and_print() {
    assert_eq!(Rights::parse("rwxn"), Some(Rights::ALL));
    assert_eq!(Rights::parse("----"), Some(Rights::NONE));
    let r = Rights::parse("r--n").unwrap();
    assert!(r.read() && r.notify() && !r.write() && !r.execute());
    assert_eq!(r.to_string(), "r--n");
    assert_eq!(Rights::parse("-w-").map(|r| r.to_string()), None);
    // A letter out of place grants nothing.
    assert_eq!(Rights::parse("wr--"), Some(Rights::NONE));
    assert_eq!((Rights::READ | Rights::EXECUTE).to_string(), "r-x-");
}

#[test]
fn the_default_full_access_role_takes_the_fast_path() {
    let m = model();
    let a = access(&m, vec![full_role(1)], &[1]);
    assert!(a.is_full());
    assert_eq!(a.param(&m.schema, m.param(m.info, "Manufacturer"), &[]), Rights::ALL);
    // A restriction below the full grant changes nothing; one above it leaves the fast path.
    let mut r = full_role(1);
    r.permissions.push(perm(2, 0, "Device.DeviceInfo.", ["----"; 4]));
    assert!(access(&m, vec![r], &[1]).is_full());
    let mut r = full_role(1);
    r.permissions.push(perm(2, 5, "Device.DeviceInfo.", ALL4));
    assert!(access(&m, vec![r], &[1]).is_full(), "a higher rule granting everything");
    let mut r = full_role(1);
    r.permissions.push(perm(2, 5, "Device.DeviceInfo.", ["r---", "r---", "r---", "r---"]));
    assert!(!access(&m, vec![r], &[1]).is_full());
    // Disabled rows and disabled Roles grant nothing.
    let mut r = full_role(1);
    r.permissions[0].enable = false;
    assert!(!access(&m, vec![r], &[1]).is_full());
    let mut r = full_role(1);
    r.enable = false;
    let a = access(&m, vec![r], &[1]);
    assert_eq!(a.object(&m.schema, m.info, &[]), Rights::NONE);
}

#[test]
fn the_highest_order_covering_row_wins_and_roles_add_up() {
    // The example of TR-369 "A Controller's Role".
    let m = model();
    let a = role(
        1,
        vec![
            perm(1, 3, "Device.LocalAgent.", ["r---", "r---", "r---", "r---"]),
            perm(2, 55, "Device.LocalAgent.Controller.", ["r-xn", "r---", "r---", "r---"]),
        ],
    );
    let b = role(
        3,
        vec![
            perm(1, 20, "Device.LocalAgent.", ["r---", "r---", "r---", "r---"]),
            perm(5, 78, "Device.LocalAgent.Controller.", ["----", "----", "----", "----"]),
        ],
    );
    let interval = m.param(m.ctrl, "PeriodicNotifInterval");
    let la_id = m.param(m.la, "EndpointID");
    let only_a = access(&m, vec![a.clone()], &[1]);
    assert_eq!(only_a.param(&m.schema, interval, &[1]).to_string(), "r-xn");
    let only_b = access(&m, vec![b.clone()], &[3]);
    assert_eq!(only_b.param(&m.schema, interval, &[1]), Rights::NONE);
    let both = access(&m, vec![a, b], &[1, 3]);
    assert_eq!(both.param(&m.schema, interval, &[1]).to_string(), "r-xn");
    assert_eq!(both.param(&m.schema, la_id, &[]).to_string(), "r---");
    // Nothing covers DeviceInfo: nothing is granted.
    assert_eq!(both.object(&m.schema, m.info, &[]), Rights::NONE);
    // Every bit of the winning row applies, granted or not: Order 55's Obj is r---.
    assert_eq!(both.object(&m.schema, m.ctrl, &[1]).to_string(), "r---");
}

#[test]
fn order_ties_go_to_the_larger_instance() {
    let m = model();
    let r = role(
        1,
        vec![
            perm(1, 4, "Device.", ["rw--", "----", "----", "----"]),
            perm(2, 4, "Device.", ["r---", "----", "----", "----"]),
        ],
    );
    let a = access(&m, vec![r], &[1]);
    assert_eq!(a.param(&m.schema, m.param(m.la, "EndpointID"), &[]).to_string(), "r---");
}

#[test]
fn targets_cover_objects_below_partial_paths_and_instances() {
    let m = model();
    let deny = ["----"; 4];
    let r = |target: &str| {
        let mut r = full_role(1);
        r.permissions.push(perm(2, 9, target, deny));
        access(&m, vec![r], &[1])
    };
    let enable = m.param(m.sub, "Enable");
    // A table path: the table itself, its rows and everything in them.
    let a = r("Device.LocalAgent.Subscription.");
    assert_eq!(a.object(&m.schema, m.sub, &[]), Rights::NONE);
    assert_eq!(a.instance(&m.schema, m.sub, &[4]), Rights::NONE);
    assert_eq!(a.param(&m.schema, enable, &[4]), Rights::NONE);
    assert_eq!(a.object(&m.schema, m.ctrl, &[]), Rights::ALL);
    // An instance: that row and below, not the table nor the other rows.
    let a = r("Device.LocalAgent.Subscription.2.");
    assert_eq!(a.object(&m.schema, m.sub, &[]), Rights::ALL);
    assert_eq!(a.object(&m.schema, m.sub, &[2]), Rights::NONE);
    assert_eq!(a.param(&m.schema, enable, &[2]), Rights::NONE);
    assert_eq!(a.param(&m.schema, enable, &[3]), Rights::ALL);
    // An instance written without its trailing dot is the same target.
    let b = r("Device.LocalAgent.Subscription.2");
    assert_eq!(b.param(&m.schema, enable, &[2]), Rights::NONE);
    assert_eq!(b.param(&m.schema, enable, &[3]), Rights::ALL);
    // A single-instance object covers its tables and their rows.
    let a = r("Device.LocalAgent.");
    assert_eq!(a.param(&m.schema, m.param(m.boot_param, "Enable"), &[1, 1]), Rights::NONE);
    assert_eq!(a.object(&m.schema, m.info, &[]), Rights::ALL);
    assert_eq!(a.object(&m.schema, ObjId::ROOT, &[]), Rights::ALL);
}

#[test]
fn wildcards_and_unknown_instances() {
    let m = model();
    let mut r = full_role(1);
    r.permissions.push(perm(2, 9, "Device.LocalAgent.Controller.*.BootParameter.1.", ["----"; 4]));
    r.permissions.push(perm(3, 10, "Device.LocalAgent.Subscription.*.Enable", ["r---"; 4]));
    r.permissions.push(perm(4, 11, "Device.LocalAgent.Subscription.7.ID", ["----"; 4]));
    let a = access(&m, vec![r], &[1]);
    let bp_name = m.param(m.boot_param, "ParameterName");
    assert_eq!(a.param(&m.schema, bp_name, &[1, 1]), Rights::NONE);
    assert_eq!(a.param(&m.schema, bp_name, &[5, 1]), Rights::NONE);
    assert_eq!(a.param(&m.schema, bp_name, &[5, 2]), Rights::ALL);
    assert_eq!(a.object(&m.schema, m.boot_param, &[5]), Rights::ALL, "the table is not covered");
    // 0 stands for an instance not known yet: only a wildcard matches it.
    let enable = m.param(m.sub, "Enable");
    let id = m.param(m.sub, "ID");
    assert_eq!(a.param(&m.schema, enable, &[0]).to_string(), "r---");
    assert_eq!(a.param(&m.schema, enable, &[3]).to_string(), "r---");
    assert_eq!(a.param(&m.schema, id, &[0]), Rights::ALL);
    assert_eq!(a.param(&m.schema, id, &[7]), Rights::NONE);
    // A parameter target is about that parameter only.
    assert_eq!(a.object(&m.schema, m.sub, &[3]), Rights::ALL);
    assert_eq!(a.param(&m.schema, m.param(m.sub, "ID"), &[3]), Rights::ALL);
}

#[test]
fn commands_and_events_are_targets_of_their_own() {
    let m = model();
    let mut r = full_role(1);
    r.permissions.push(perm(2, 9, "Device.Reboot()", ["rwxn", "rwxn", "rwxn", "r---"]));
    let a = access(&m, vec![r], &[1]);
    let reboot = m.schema.command_by_name(ObjId::ROOT, "Reboot").unwrap();
    let boot = m.schema.event_by_name(ObjId::ROOT, "Boot").unwrap();
    assert_eq!(a.command(&m.schema, reboot, &[]).to_string(), "r---");
    assert_eq!(a.event(&m.schema, boot, &[]), Rights::ALL);
    assert_eq!(a.object(&m.schema, ObjId::ROOT, &[]), Rights::ALL);
}

#[test]
fn unusable_targets_cover_nothing() {
    let m = model();
    for bad in [
        "Device.LocalAgent.Subscription.[Enable==true].",
        "Device.Nothing.",
        "Device.LocalAgent.Controller.Enable",
        "not a path",
        "Device.LocalAgent.Subscription.1.Nope",
        "Device.Reboot!",
    ] {
        let r = role(1, vec![perm(1, 1, &format!("{bad},Device.DeviceInfo."), ["rwxn"; 4])]);
        let a = access(&m, vec![r], &[1]);
        assert_eq!(a.object(&m.schema, m.info, &[]), Rights::ALL, "{bad}");
        assert_eq!(a.param(&m.schema, m.param(m.sub, "Enable"), &[1]), Rights::NONE, "{bad}");
    }
}

#[test]
fn controllers_without_roles_get_the_untrusted_role_or_full_access_as_with_obuspa() {
    let m = model();
    let reader = role(2, vec![perm(1, 1, "Device.DeviceInfo.", ["r---"; 4])]);
    let mut rows = TrustRows {
        roles: vec![full_role(1), reader],
        controllers: vec![
            controller("trusted", &role_ref(1)),
            controller("plain", ""),
            controller("dangling", "Device.LocalAgent.ControllerTrust.Role.9."),
            controller("banned", &format!("{},{}", role_ref(1), role_ref(2))),
        ],
        ..Default::default()
    };
    let acl = Acl::build(&m.schema, &rows);
    assert!(acl.of("trusted").is_full());
    // No role and no UntrustedRole: obuspa's full access.
    assert!(acl.of("plain").is_full());
    assert_eq!(acl.of("dangling").object(&m.schema, m.info, &[]), Rights::NONE);
    assert!(acl.of("banned").is_full());
    assert_eq!(acl.of("stranger").object(&m.schema, m.info, &[]), Rights::NONE);

    rows.untrusted_role = role_ref(2);
    rows.banned_role = format!("{}.", role_ref(2));
    let acl = Acl::build(&m.schema, &rows);
    assert_eq!(acl.of("plain").object(&m.schema, m.info, &[]).to_string(), "r---");
    assert_eq!(acl.of("plain").object(&m.schema, m.la, &[]), Rights::NONE);
    assert_eq!(acl.of("stranger").object(&m.schema, m.info, &[]).to_string(), "r---");
    // A controller given a Role does not get the UntrustedRole on top, even a missing one.
    assert_eq!(acl.of("dangling").object(&m.schema, m.info, &[]), Rights::NONE);
    // The BannedRole wins over everything else held.
    assert_eq!(acl.of("banned").object(&m.schema, m.info, &[]), Rights::NONE);
    assert!(acl.of("trusted").is_full());
}

#[test]
fn inherited_roles_count_like_assigned_ones() {
    let m = model();
    let reader = role(2, vec![perm(1, 1, "Device.DeviceInfo.", ["r---"; 4])]);
    let writer = role(3, vec![perm(1, 1, "Device.DeviceInfo.", ["-w--"; 4])]);
    let c = ControllerRow {
        endpoint_id: "c".into(),
        assigned_role: role_ref(2),
        inherited_role: format!(" {} ", role_ref(3)),
    };
    let rows =
        TrustRows { roles: vec![reader, writer], controllers: vec![c], ..Default::default() };
    let acl = Acl::build(&m.schema, &rows);
    assert_eq!(acl.of("c").object(&m.schema, m.info, &[]).to_string(), "rw--");
}
