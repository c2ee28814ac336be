//! The obuspa reset-file parser: any text; every accepted entry is a parameter path that
//! parses, on a line of the text, with a one-line value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use usp_datamodel::path::Path;
use uspagent::reset_file::parse_reset_file;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines = text.split('\n').count();
    match parse_reset_file(&text) {
        Ok(entries) => {
            for e in entries {
                assert!(e.line >= 1 && e.line <= lines, "{e:?}");
                assert!(Path::parse(&e.path).is_ok(), "{e:?}");
                assert!(!e.value.contains('\n'), "{e:?}");
            }
        }
        Err(errors) => assert!(!errors.is_empty()),
    }
});
