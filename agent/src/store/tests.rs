use super::*;
use rusqlite::OpenFlags;
use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn value(path: &str, value: &str) -> Change {
    Change::Put(Item::Value { path: path.into(), value: value.into() })
}

fn row(path: &str, key: Option<&str>) -> Change {
    Change::Put(Item::Row { path: path.into(), key: key.map(Into::into) })
}

fn counter(path: &str, next: u32) -> Change {
    Change::Put(Item::Counter { path: path.into(), next })
}

/// The stored items, sorted, for comparisons.
fn sorted(store: &mut SqliteStore) -> Vec<Item> {
    let mut items = store.load().unwrap();
    items.sort_by_key(|i| format!("{i:?}"));
    items
}

fn paths(store: &mut SqliteStore) -> Vec<String> {
    let mut p: Vec<String> = store
        .load()
        .unwrap()
        .into_iter()
        .map(|i| match i {
            Item::Value { path, .. } => format!("v {path}"),
            Item::Row { path, .. } => format!("r {path}"),
            Item::Counter { path, .. } => format!("c {path}"),
            Item::Meta { key, .. } => format!("m {key}"),
        })
        .collect();
    p.sort();
    p
}

fn db_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("usp.db")
}

#[test]
fn round_trip_of_every_item_kind() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = SqliteStore::open(db_path(&dir)).unwrap();
    assert!(s.load().unwrap().is_empty());
    let items = vec![
        Item::Value { path: "Device.LocalAgent.EndpointID".into(), value: "os::0-1".into() },
        Item::Value { path: "Device.X.1.Empty".into(), value: String::new() },
        Item::Value { path: "Device.X.1.Text".into(), value: "é \"quoted\" 100% _x_\n".into() },
        Item::Row { path: "Device.X.1.".into(), key: None },
        Item::Row { path: "Device.X.2.".into(), key: Some(String::new()) },
        Item::Row { path: "Device.X.3.".into(), key: Some("wlan0".into()) },
        Item::Counter { path: "Device.X.".into(), next: 4 },
        Item::Counter { path: "Device.Y.".into(), next: u32::MAX },
    ];
    let batch: Vec<Change> = items.iter().cloned().map(Change::Put).collect();
    s.write(&batch).unwrap();
    let mut expected = items.clone();
    expected.sort_by_key(|i| format!("{i:?}"));
    assert_eq!(sorted(&mut s), expected);

    // Put replaces.
    s.write(&[
        value("Device.X.1.Text", "new"),
        row("Device.X.1.", Some("k")),
        counter("Device.X.", 9),
    ])
    .unwrap();
    let items = s.load().unwrap();
    assert!(items.contains(&Item::Value { path: "Device.X.1.Text".into(), value: "new".into() }));
    assert!(items.contains(&Item::Row { path: "Device.X.1.".into(), key: Some("k".into()) }));
    assert!(items.contains(&Item::Counter { path: "Device.X.".into(), next: 9 }));
    assert_eq!(items.len(), 8);
}

#[test]
fn reopening_after_drop_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let mut s = SqliteStore::open(&path).unwrap();
    s.write(&[
        value("Device.A.1.B", "b"),
        row("Device.A.1.", Some("key")),
        counter("Device.A.", 2),
    ])
    .unwrap();
    s.write(&[value("Device.A.1.C", "c")]).unwrap();
    let before = sorted(&mut s);
    drop(s);
    let mut s = SqliteStore::open(&path).unwrap();
    assert_eq!(sorted(&mut s), before);
    drop(s);
    let (mut s, aside) = SqliteStore::open_or_recover(&path).unwrap();
    assert_eq!(aside, None);
    assert_eq!(sorted(&mut s), before);
    assert_eq!(s.path(), path);
}

#[test]
fn remove_row_removes_exactly_the_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = SqliteStore::open(db_path(&dir)).unwrap();
    s.write(&[
        row("Device.A.1.", None),
        value("Device.A.1.Name", "x"),
        row("Device.A.1.B.2.", Some("k")),
        value("Device.A.1.B.2.Name", "x"),
        counter("Device.A.1.B.", 3),
        row("Device.A.10.", None),
        value("Device.A.10.Name", "x"),
        counter("Device.A.10.B.", 1),
        row("Device.A.2.", None),
        value("Device.A.1Name", "x"),
        value("Device.A.1", "x"),
        counter("Device.A.", 11),
    ])
    .unwrap();
    s.write(&[Change::RemoveRow("Device.A.1.B.2.".into())]).unwrap();
    assert_eq!(
        paths(&mut s),
        [
            "c Device.A.",
            "c Device.A.1.B.",
            "c Device.A.10.B.",
            "r Device.A.1.",
            "r Device.A.10.",
            "r Device.A.2.",
            "v Device.A.1",
            "v Device.A.1.Name",
            "v Device.A.10.Name",
            "v Device.A.1Name",
        ]
    );
    s.write(&[Change::RemoveRow("Device.A.1.".into())]).unwrap();
    assert_eq!(
        paths(&mut s),
        [
            "c Device.A.",
            "c Device.A.10.B.",
            "r Device.A.10.",
            "r Device.A.2.",
            "v Device.A.1",
            "v Device.A.10.Name",
            "v Device.A.1Name",
        ]
    );
    // Removing something absent is fine; an empty prefix removes everything.
    s.write(&[Change::RemoveRow("Device.Nothing.1.".into())]).unwrap();
    assert_eq!(paths(&mut s).len(), 7);
    s.write(&[Change::RemoveRow(String::new())]).unwrap();
    assert!(paths(&mut s).is_empty());
}

#[test]
fn successor_is_the_prefix_upper_bound() {
    assert_eq!(successor("Device.A.1.").as_deref(), Some("Device.A.1/"));
    assert_eq!(successor("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
    assert_eq!(successor("é").as_deref(), Some("ê"));
    assert_eq!(successor(""), None);
    assert_eq!(successor("a\u{10FFFF}"), None);
}

#[test]
fn a_batch_and_its_removal_in_one_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = SqliteStore::open(db_path(&dir)).unwrap();
    // Order matters within a batch: later changes see earlier ones.
    s.write(&[
        row("Device.A.1.", None),
        value("Device.A.1.X", "1"),
        Change::RemoveRow("Device.A.1.".into()),
        value("Device.A.1.Y", "2"),
    ])
    .unwrap();
    assert_eq!(paths(&mut s), ["v Device.A.1.Y"]);
    s.write(&[]).unwrap();
}

#[test]
fn a_failing_batch_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = SqliteStore::open(db_path(&dir)).unwrap();
    s.write(&[row("Device.A.1.", None), value("Device.A.1.X", "old")]).unwrap();
    let before = sorted(&mut s);
    // Make one insert fail inside SQLite, in the middle of the batch.
    s.conn
        .execute_batch(
            "CREATE TEMP TRIGGER fail BEFORE INSERT ON main.\"values\" \
             WHEN NEW.path = 'Device.Fail' BEGIN SELECT RAISE(ABORT, 'forced failure'); END;",
        )
        .unwrap();
    let err = s
        .write(&[
            value("Device.A.1.X", "new"),
            row("Device.B.1.", None),
            counter("Device.B.", 2),
            Change::RemoveRow("Device.A.1.".into()),
            value("Device.Fail", "boom"),
            value("Device.C", "after"),
        ])
        .unwrap_err();
    assert!(err.0.contains("forced failure"), "{err}");
    assert_eq!(sorted(&mut s), before);
    // The store is still usable after the failed batch, and the state survives a reopen.
    s.write(&[value("Device.D", "d")]).unwrap();
    drop(s);
    let mut s = SqliteStore::open(db_path(&dir)).unwrap();
    assert_eq!(paths(&mut s), ["r Device.A.1.", "v Device.A.1.X", "v Device.D"]);
}

#[test]
fn a_read_only_connection_fails_the_whole_batch() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let mut s = SqliteStore::open(&path).unwrap();
    s.write(&[value("Device.A", "a")]).unwrap();
    let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut ro =
        SqliteStore { conn, path: path.clone(), secrets: secret::Secrets::from_key([0; 32]) };
    let err = ro.write(&[value("Device.B", "b"), value("Device.C", "c")]).unwrap_err();
    assert!(err.0.contains("usp.db"), "{err}");
    assert_eq!(paths(&mut ro), ["v Device.A"]);
    assert_eq!(paths(&mut s), ["v Device.A"]);
}

#[test]
fn a_missing_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir").join("usp.db");
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(err.0.contains("no-such-dir"), "{err}");
    assert!(err.0.contains("does not exist"), "{err}");
    let err = SqliteStore::open_or_recover(&path).unwrap_err();
    assert!(err.0.contains("does not exist"), "{err}");
    assert!(!path.exists());
}

/// Deterministic pseudo-random bytes (xorshift), so no RNG crate is needed.
fn garbage(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed.to_le_bytes()[0]
        })
        .collect()
}

#[test]
fn a_garbage_file_is_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let junk = garbage(8192, 0x9E37_79B9_7F4A_7C15);
    std::fs::write(&path, &junk).unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(err.0.contains("unusable"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), junk, "open must not touch the file");

    let (mut s, aside) = SqliteStore::open_or_recover(&path).unwrap();
    let aside = aside.unwrap();
    assert_eq!(aside, dir.path().join("usp.db.corrupt-1"));
    assert_eq!(std::fs::read(&aside).unwrap(), junk);
    assert!(s.load().unwrap().is_empty());
    s.write(&[value("Device.A", "a")]).unwrap();
    assert_eq!(paths(&mut s), ["v Device.A"]);
    drop(s);

    // A second bad file takes the next free name.
    std::fs::write(&path, garbage(100, 7)).unwrap();
    let (mut s, aside) = SqliteStore::open_or_recover(&path).unwrap();
    assert_eq!(aside.unwrap(), dir.path().join("usp.db.corrupt-2"));
    assert!(s.load().unwrap().is_empty());
    assert!(dir.path().join("usp.db.corrupt-1").exists());
}

#[test]
fn a_truncated_file_is_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let mut s = SqliteStore::open(&path).unwrap();
    let batch: Vec<Change> = (0..2000)
        .map(|i| value(&format!("Device.T.{i}.Value"), &"x".repeat(100 + i % 50)))
        .collect();
    s.write(&batch).unwrap();
    drop(s); // the last connection checkpoints the WAL into the file and removes it
    let len = std::fs::metadata(&path).unwrap().len();
    assert!(len > 100_000, "{len}");
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(len / 2).unwrap();
    drop(file);

    let (mut s, aside) = SqliteStore::open_or_recover(&path).unwrap();
    let aside = aside.unwrap();
    assert_eq!(std::fs::metadata(&aside).unwrap().len(), len / 2);
    assert!(s.load().unwrap().is_empty());
    s.write(&[value("Device.A", "a")]).unwrap();
    s.quick_check().unwrap();
}

#[test]
fn a_foreign_or_newer_database_is_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE data_model (hash INTEGER, value TEXT);").unwrap();
    drop(conn);
    assert!(SqliteStore::open(&path).unwrap_err().0.contains("not a uspagent database"));
    let (_s, aside) = SqliteStore::open_or_recover(&path).unwrap();
    assert!(aside.is_some());

    let path = dir.path().join("newer.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA user_version = 99;").unwrap();
    drop(conn);
    assert!(SqliteStore::open(&path).unwrap_err().0.contains("schema version 99"));
    let (mut s, aside) = SqliteStore::open_or_recover(&path).unwrap();
    assert_eq!(aside.unwrap(), dir.path().join("newer.db.corrupt-1"));
    s.write(&[value("Device.A", "a")]).unwrap();
}

#[test]
fn wal_and_shm_files_follow_the_moved_database() {
    // Tested on move_aside itself: SQLite may discard an invalid -wal while failing to open.
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    std::fs::write(&path, b"db").unwrap();
    std::fs::write(dir.path().join("usp.db-wal"), b"wal").unwrap();
    std::fs::write(dir.path().join("usp.db-shm"), b"shm").unwrap();
    // `.corrupt-1` is taken by a stray -wal only: the next name is used.
    std::fs::write(dir.path().join("usp.db.corrupt-1-wal"), b"old").unwrap();
    let aside = move_aside(&path).unwrap();
    assert_eq!(aside, dir.path().join("usp.db.corrupt-2"));
    assert_eq!(std::fs::read(&aside).unwrap(), b"db");
    assert_eq!(std::fs::read(dir.path().join("usp.db.corrupt-2-wal")).unwrap(), b"wal");
    assert_eq!(std::fs::read(dir.path().join("usp.db.corrupt-2-shm")).unwrap(), b"shm");
    assert!(!path.exists());
    assert!(!dir.path().join("usp.db-wal").exists());
    // Without -wal and -shm, only the database moves.
    std::fs::write(&path, b"db2").unwrap();
    assert_eq!(move_aside(&path).unwrap(), dir.path().join("usp.db.corrupt-3"));
}

#[test]
fn a_ten_thousand_item_batch_completes() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = SqliteStore::open(db_path(&dir)).unwrap();
    let mut batch = Vec::with_capacity(10_000);
    for i in 1..=2_500u32 {
        batch.push(row(&format!("Device.Big.{i}."), None));
        batch.push(value(&format!("Device.Big.{i}.Name"), &format!("name-{i}")));
        batch.push(value(&format!("Device.Big.{i}.Enable"), "true"));
        batch.push(counter(&format!("Device.Big.{i}.Sub."), i));
    }
    s.write(&batch).unwrap();
    assert_eq!(s.load().unwrap().len(), 10_000);
    s.write(&[Change::RemoveRow("Device.Big.1.".into())]).unwrap();
    // Device.Big.1. and nothing of Device.Big.1x.
    assert_eq!(s.load().unwrap().len(), 10_000 - 4);
}

/// Environment variable that turns [`crash_writer_child`] into the writer of the crash test.
const CRASH_DB_ENV: &str = "USPAGENT_STORE_CRASH_WRITER_DB";
/// Values per batch in the crash test.
const CRASH_BATCH: usize = 40;
/// Batches the writer writes at most (it is normally killed long before).
const CRASH_MAX_BATCHES: u32 = 20_000;

/// Not a test on its own: with [`CRASH_DB_ENV`] set, writes batches in a loop until killed
/// (bounded), printing a line once the first batch is committed. Without it, does nothing.
#[test]
fn crash_writer_child() {
    let Some(path) = std::env::var_os(CRASH_DB_ENV) else {
        return;
    };
    let mut s = SqliteStore::open(PathBuf::from(path)).unwrap();
    for n in 0..CRASH_MAX_BATCHES {
        let mut batch: Vec<Change> = (0..CRASH_BATCH)
            .map(|j| value(&format!("Device.Crash.{n}.P{j}"), &n.to_string()))
            .collect();
        batch.push(row(&format!("Device.Crash.{n}."), None));
        batch.push(counter("Device.Crash.", n + 1));
        // Also remove an older batch completely, so removals are cut by the kill too.
        if n >= 10 && n % 3 == 0 {
            batch.push(Change::RemoveRow(format!("Device.Crash.{}.", n - 10)));
        }
        s.write(&batch).unwrap();
        if n == 0 {
            println!("WRITER-READY");
        }
    }
}

#[test]
fn a_killed_writer_leaves_only_complete_batches() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args(["--exact", "store::tests::crash_writer_child", "--nocapture", "--test-threads=1"])
        .env(CRASH_DB_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut ready = false;
    for line in BufReader::new(stdout).lines() {
        if line.unwrap().contains("WRITER-READY") {
            ready = true;
            break;
        }
    }
    assert!(ready, "the writer never committed a batch");
    std::thread::sleep(Duration::from_millis(200));
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();

    let (mut s, aside) = SqliteStore::open_or_recover(&path).unwrap();
    assert_eq!(aside, None);
    s.quick_check().unwrap();
    let mut batches: BTreeMap<u32, (usize, bool)> = BTreeMap::new();
    let mut next = None;
    for item in s.load().unwrap() {
        match item {
            Item::Value { path, value } => {
                let n: u32 = value.parse().unwrap();
                assert!(path.starts_with(&format!("Device.Crash.{n}.P")), "{path}");
                batches.entry(n).or_default().0 += 1;
            }
            Item::Row { path, .. } => {
                let n: u32 = path["Device.Crash.".len()..path.len() - 1].parse().unwrap();
                batches.entry(n).or_default().1 = true;
            }
            Item::Counter { next: c, .. } => next = Some(c),
            Item::Meta { key, .. } => panic!("no meta item was written: {key}"),
        }
    }
    let last = *batches.keys().next_back().unwrap();
    assert_eq!(next, Some(last + 1), "the counter is from the last complete batch");
    for (n, (values, has_row)) in &batches {
        assert_eq!(*values, CRASH_BATCH, "batch {n} is incomplete");
        assert!(has_row, "batch {n} lacks its row");
    }
    // Every batch not removed by a later batch is there.
    for n in 0..=last {
        let removed_by = n + 10;
        let removed = removed_by <= last && removed_by % 3 == 0;
        assert_eq!(batches.contains_key(&n), !removed, "batch {n} of {last}");
    }
    eprintln!("crash test: {} batches survived, the last was {last}", batches.len());
}

fn meta(key: &str, value: &str) -> Change {
    Change::Put(Item::Meta { key: key.into(), value: value.into() })
}

#[test]
fn meta_items_round_trip_and_outlive_row_removal() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = SqliteStore::open(db_path(&dir)).unwrap();
    s.write(&[
        meta("boot/cause", "RemoteReboot"),
        meta("notify/x", "a\nb"),
        value("Device.A", "1"),
    ])
    .unwrap();
    s.write(&[meta("notify/x", "c"), Change::RemoveRow(String::new())]).unwrap();
    drop(s);
    let mut s = SqliteStore::open(db_path(&dir)).unwrap();
    assert_eq!(
        sorted(&mut s),
        [
            Item::Meta { key: "boot/cause".into(), value: "RemoteReboot".into() },
            Item::Meta { key: "notify/x".into(), value: "c".into() },
        ]
    );
    s.write(&[Change::RemoveMeta("notify/x".into()), Change::RemoveMeta("none".into())]).unwrap();
    assert_eq!(paths(&mut s), ["m boot/cause"]);
}

#[test]
fn clear_configuration_keeps_only_meta() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = SqliteStore::open(db_path(&dir)).unwrap();
    s.write(&[
        row("Device.X.1.", None),
        value("Device.X.1.Name", "n"),
        counter("Device.X.", 2),
        meta("boot/cause", "RemoteFactoryReset"),
    ])
    .unwrap();
    s.clear_configuration().unwrap();
    assert_eq!(paths(&mut s), ["m boot/cause"]);
}

#[test]
fn a_version_1_database_is_upgraded_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE \"values\" (path TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
         CREATE TABLE rows (path TEXT PRIMARY KEY NOT NULL, key TEXT) WITHOUT ROWID;
         CREATE TABLE counters (path TEXT PRIMARY KEY NOT NULL, next INTEGER NOT NULL) WITHOUT ROWID;
         INSERT INTO \"values\" VALUES ('Device.A', 'kept');
         PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(conn);
    let mut s = SqliteStore::open(&path).unwrap();
    s.write(&[meta("k", "v")]).unwrap();
    assert_eq!(paths(&mut s), ["m k", "v Device.A"]);
    drop(s);
    let conn = Connection::open(&path).unwrap();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}

/// The bundled SQLite is built with the workspace's `.cargo/config.toml` flags: only what the
/// store needs. Checked by behaviour (the flags also remove `PRAGMA compile_options`): no JSON,
/// full-text search, R*Tree or extension loading, while what the store uses still works. Fails
/// when the flags stop reaching libsqlite3-sys's build, which would silently cost ~0.3–0.5 MB per
/// binary.
#[cfg(feature = "bundled-sqlite")]
#[test]
fn bundled_sqlite_is_the_trimmed_build() {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    let options = conn
        .prepare("PRAGMA compile_options")
        .unwrap()
        .query([])
        .unwrap()
        .next()
        .unwrap()
        .is_some();
    assert!(!options, "PRAGMA compile_options answers: SQLITE_OMIT_COMPILEOPTION_DIAGS is not set");
    for sql in [
        "SELECT json('[1]')",
        "CREATE VIRTUAL TABLE f USING fts5(x)",
        "CREATE VIRTUAL TABLE f3 USING fts4(x)",
        "CREATE VIRTUAL TABLE r USING rtree(id, a, b)",
        "SELECT load_extension('x')",
        "SELECT date('now')",
    ] {
        let r = conn.execute_batch(sql);
        assert!(r.is_err(), "{sql} works: the bundled SQLite is not the trimmed build");
    }
    conn.execute_batch(
        "CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT); INSERT OR REPLACE INTO t VALUES ('a', 'b');",
    )
    .unwrap();
    let v: String =
        conn.query_row("SELECT v FROM t WHERE k >= 'a' AND k < 'b'", [], |r| r.get(0)).unwrap();
    assert_eq!(v, "b");
}

/// The bytes of the database file and its write-ahead log.
fn file_bytes(path: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap();
    let mut wal = path.as_os_str().to_os_string();
    wal.push("-wal");
    bytes.extend(std::fs::read(wal).unwrap_or_default());
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Stored secrets: an MQTT or STOMP password is not in the database file (nor its log), and
/// reads back after a restart.
#[test]
fn passwords_are_not_readable_from_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let mqtt = "Device.MQTT.Client.1.Password";
    let stomp = "Device.STOMP.Connection.1.Password";
    {
        let mut store = SqliteStore::open(&path).unwrap();
        let batch = [
            value(mqtt, "mqtt-pw-Zq81"),
            value(stomp, "stomp-pw-Kx55"),
            value("Device.MQTT.Client.1.Username", "agent-user-Jj3"),
        ];
        store.write(&batch).unwrap();
        let bytes = file_bytes(&path);
        assert!(contains(&bytes, "agent-user-Jj3"), "plain values are plain (the check works)");
        assert!(!contains(&bytes, "mqtt-pw-Zq81"));
        assert!(!contains(&bytes, "stomp-pw-Kx55"));
        // Not even through SQLite itself, as a `sqlite3 .dump` would read it.
        let raw: String = store
            .conn
            .query_row("SELECT value FROM \"values\" WHERE path = ?1", [mqtt], |r| r.get(0))
            .unwrap();
        assert!(raw.starts_with(secret::PREFIX), "{raw}");
    }
    let mut store = SqliteStore::open(&path).unwrap();
    let items = sorted(&mut store);
    assert!(items.contains(&Item::Value { path: mqtt.into(), value: "mqtt-pw-Zq81".into() }));
    assert!(items.contains(&Item::Value { path: stomp.into(), value: "stomp-pw-Kx55".into() }));
}

/// A database written by an agent without sealing: the plaintext password is sealed on the
/// first load, is then gone from the file, and its value is kept.
#[test]
fn plaintext_passwords_are_sealed_on_first_start_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let mqtt = "Device.MQTT.Client.1.Password";
    drop(SqliteStore::open(&path).unwrap());
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute(PUT_VALUE, params![mqtt, "old-plain-Pw77"]).unwrap();
        conn.execute(PUT_VALUE, params!["Device.STOMP.Connection.1.Password", ""]).unwrap();
    }
    assert!(contains(&file_bytes(&path), "old-plain-Pw77"), "the old agent's file");
    let mut store = SqliteStore::open(&path).unwrap();
    let want = Item::Value { path: mqtt.into(), value: "old-plain-Pw77".into() };
    assert!(sorted(&mut store).contains(&want));
    assert!(!contains(&file_bytes(&path), "old-plain-Pw77"), "sealed at the first load");
    drop(store);
    let mut store = SqliteStore::open(&path).unwrap();
    let items = sorted(&mut store);
    assert!(items.contains(&want), "{items:?}");
    let empty = "Device.STOMP.Connection.1.Password";
    assert!(items.contains(&Item::Value { path: empty.into(), value: String::new() }));
}

/// A sealed value the key cannot open (the key file was replaced) is not loaded (the
/// parameter takes its default) and the other items still load.
#[test]
fn a_password_sealed_with_another_key_is_skipped_with_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let mut store = SqliteStore::open(&path).unwrap();
    store.write(&[value("Device.MQTT.Client.1.Password", "pw"), value("Device.X", "1")]).unwrap();
    drop(store);
    std::fs::write(secret::key_path(&path), [9u8; 32]).unwrap();
    let mut store = SqliteStore::open(&path).unwrap();
    assert_eq!(paths(&mut store), vec!["v Device.X".to_owned()]);
}
