use super::*;
use usp_areas::AgentIdentity;
use usp_datamodel::path::Path as UspPath;
use usp_datamodel::{ErrorCode, Item};

const RESET: &str = "\
# lab controller
Device.LocalAgent.Controller.1.EndpointID \"self::ctl\"
Device.LocalAgent.Controller.1.Enable true
Device.LocalAgent.Controller.1.PeriodicNotifInterval 300
Internal.Reboot.Cause \"LocalFactoryReset\"
+Device.LocalAgent.Controller.2.EndpointID \"self::backup\"
";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn get(dm: &mut DataModel, path: &str) -> Option<String> {
    let path = UspPath::parse(path).unwrap();
    let target = dm.resolve(&Requester::Internal, &path).ok()?.pop()?;
    let Item::Param(p) = target.item else { return None };
    dm.read_params(&Requester::Internal, target.obj, &target.numbers, &[p])
        .pop()?
        .ok()
        .map(|v| v.to_string())
}

fn set(dm: &mut DataModel, path: &str, value: &str) {
    dm.apply_default(path, value, false).unwrap();
    dm.flush().unwrap();
}

#[test]
fn first_start_applies_the_reset_file_and_trust_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let reset = write(dir.path(), "reset.txt", RESET);
    let db = dir.path().join("usp.db");
    let mut s =
        start(&db, Some(&reset), &Host::agent_only(AgentIdentity::default()), Now::default())
            .unwrap();
    assert!(s.from_defaults);
    assert_eq!(
        get(&mut s.dm, "Device.LocalAgent.Controller.1.EndpointID").as_deref(),
        Some("self::ctl")
    );
    assert_eq!(
        get(&mut s.dm, "Device.LocalAgent.Controller.1.PeriodicNotifInterval").as_deref(),
        Some("300")
    );
    assert_eq!(
        get(&mut s.dm, "Device.LocalAgent.Controller.2.EndpointID").as_deref(),
        Some("self::backup")
    );
    assert_eq!(
        get(&mut s.dm, "Device.LocalAgent.ControllerTrust.Role.1.Name").as_deref(),
        Some("Full Access")
    );
}

#[test]
fn later_starts_keep_the_database_and_add_only_new_plus_rows() {
    let dir = tempfile::tempdir().unwrap();
    let reset = write(dir.path(), "reset.txt", RESET);
    let db = dir.path().join("usp.db");
    {
        let mut s =
            start(&db, Some(&reset), &Host::agent_only(AgentIdentity::default()), Now::default())
                .unwrap();
        set(&mut s.dm, "Device.LocalAgent.Controller.1.PeriodicNotifInterval", "60");
        s.dm.begin(Requester::Internal);
        let table = s.dm.schema().obj_by_path("Device.LocalAgent.Controller.{i}.").unwrap();
        s.dm.delete_row(table, &[2]).unwrap();
        s.dm.commit();
        s.dm.flush().unwrap();
    }
    // A firmware upgrade ships a new `+` default for a third controller.
    let upgraded = format!("{RESET}+Device.LocalAgent.Controller.3.EndpointID \"self::new\"\n");
    let reset = write(dir.path(), "reset.txt", &upgraded);
    let mut s =
        start(&db, Some(&reset), &Host::agent_only(AgentIdentity::default()), Now::default())
            .unwrap();
    assert!(!s.from_defaults);
    // The controller's change survives; plain lines are not re-applied.
    assert_eq!(
        get(&mut s.dm, "Device.LocalAgent.Controller.1.PeriodicNotifInterval").as_deref(),
        Some("60")
    );
    // `+` lines whose rows are missing are added again (obuspa's rule), new ones too.
    assert_eq!(
        get(&mut s.dm, "Device.LocalAgent.Controller.3.EndpointID").as_deref(),
        Some("self::new")
    );
    assert_eq!(
        get(&mut s.dm, "Device.LocalAgent.ControllerTrust.RoleNumberOfEntries").as_deref(),
        Some("1")
    );
}

#[test]
fn a_bad_value_names_its_line_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Device.LocalAgent.Controller.1.EndpointID \"self::ctl\"\n\
                Device.LocalAgent.Controller.1.PeriodicNotifInterval \"soon\"\n";
    let reset = write(dir.path(), "reset.txt", text);
    let db = dir.path().join("usp.db");
    let err = start(&db, Some(&reset), &Host::agent_only(AgentIdentity::default()), Now::default())
        .err()
        .unwrap();
    match &err {
        StartError::ResetFileValue { line, error, .. } => {
            assert_eq!(*line, 2);
            assert_eq!(error.code, ErrorCode::InvalidType);
        }
        other => panic!("unexpected {other}"),
    }
    assert!(err.to_string().contains("line 2"), "{err}");
    let mut store = SqliteStore::open(&db).unwrap();
    assert!(store.load().unwrap().is_empty(), "nothing of a failed file is stored");
}

#[test]
fn an_unknown_path_and_a_syntax_error_are_reported_with_lines() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("usp.db");
    let reset = write(dir.path(), "a.txt", "Device.NoSuchThing.X \"1\"\n");
    let err = start(&db, Some(&reset), &Host::agent_only(AgentIdentity::default()), Now::default())
        .err()
        .unwrap();
    assert!(matches!(err, StartError::ResetFileValue { line: 1, .. }), "{err}");
    let reset = write(dir.path(), "b.txt", "# ok\nDevice.LocalAgent.Controller.1.EndpointID\n");
    let err = start(&db, Some(&reset), &Host::agent_only(AgentIdentity::default()), Now::default())
        .err()
        .unwrap();
    assert!(matches!(err, StartError::ResetFileSyntax { .. }), "{err}");
    assert!(err.to_string().contains("line 2"), "{err}");
}

#[test]
fn a_corrupt_database_is_moved_aside_and_rebuilt_from_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let reset = write(dir.path(), "reset.txt", RESET);
    let db = dir.path().join("usp.db");
    std::fs::write(&db, b"this is not a database, just bytes that look nothing like SQLite")
        .unwrap();
    let mut s =
        start(&db, Some(&reset), &Host::agent_only(AgentIdentity::default()), Now::default())
            .unwrap();
    assert!(s.from_defaults);
    assert!(s.moved_aside.as_ref().is_some_and(|p| p.exists()));
    assert_eq!(
        get(&mut s.dm, "Device.LocalAgent.Controller.1.EndpointID").as_deref(),
        Some("self::ctl")
    );
}

#[test]
fn factory_reset_keeps_private_items_and_the_next_start_applies_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let reset = write(dir.path(), "reset.txt", RESET);
    let db = dir.path().join("usp.db");
    let mut s =
        start(&db, Some(&reset), &Host::agent_only(AgentIdentity::default()), Now::default())
            .unwrap();
    set(&mut s.dm, "Device.LocalAgent.Controller.1.PeriodicNotifInterval", "77");
    s.dm.set_meta("boot/cause", "RemoteFactoryReset");
    s.dm.flush().unwrap();
    drop(s);
    factory_reset(&db).unwrap();
    let mut s =
        start(&db, Some(&reset), &Host::agent_only(AgentIdentity::default()), Now::default())
            .unwrap();
    assert!(s.from_defaults, "private items alone are no configuration");
    assert_eq!(
        get(&mut s.dm, "Device.LocalAgent.Controller.1.PeriodicNotifInterval").as_deref(),
        Some("300")
    );
    assert_eq!(s.dm.meta("boot/cause"), Some("RemoteFactoryReset"));
}
