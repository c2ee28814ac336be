//! Checks that the committed generated code in `src/generated/` is exactly what protox +
//! prost-build produce from `proto/*.proto` today.
//!
//! Run with `USP_PROTO_REGENERATE=1` to rewrite the committed files instead of comparing.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::fs;
use std::path::{Path, PathBuf};

/// The schema files, relative to `proto/proto/`.
const PROTO_FILES: [&str; 2] = ["usp-record-1-4.proto", "usp-msg-1-4.proto"];
/// The generated files, relative to `proto/src/generated/` (named after the proto packages).
const GENERATED_FILES: [&str; 2] = ["usp_record.rs", "usp.rs"];

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compiles the schema with protox (no `protoc`) and writes Rust with prost-build into `out_dir`.
fn generate(out_dir: &Path) {
    let proto_dir = crate_dir().join("proto");
    let fds = protox::compile(PROTO_FILES, [&proto_dir]).expect("protox compiles the schema");
    prost_build::Config::new()
        .out_dir(out_dir)
        // Maps as BTreeMap: deterministic field order on the wire and in Debug output.
        .btree_map(["."])
        .compile_fds(fds)
        .expect("prost-build generates Rust");
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("usp-proto-regenerate-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn committed_generated_code_is_up_to_date() {
    let committed_dir = crate_dir().join("src").join("generated");
    let regenerate = std::env::var("USP_PROTO_REGENERATE").is_ok_and(|v| v == "1");
    let out_dir = if regenerate { committed_dir.clone() } else { temp_dir() };
    generate(&out_dir);

    // prost-build must produce exactly the files we commit, no more and no fewer.
    let mut produced: Vec<String> = fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".rs"))
        .collect();
    produced.sort();
    let mut expected: Vec<String> = GENERATED_FILES.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(produced, expected, "unexpected set of generated files");

    if regenerate {
        eprintln!("rewrote {}", committed_dir.display());
        return;
    }
    for name in GENERATED_FILES {
        let fresh = fs::read(out_dir.join(name)).unwrap();
        let committed = fs::read(committed_dir.join(name)).unwrap();
        assert!(
            fresh == committed,
            "src/generated/{name} is stale: rerun with USP_PROTO_REGENERATE=1 \
             (see src/generated/PEDIGREE.md)"
        );
    }
    let _ = fs::remove_dir_all(&out_dir);
}
