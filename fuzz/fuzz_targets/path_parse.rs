//! The path grammar: any text; an accepted path prints to text that parses to the same path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use usp_datamodel::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(path) = Path::parse(&text) {
        let printed = path.to_string();
        assert_eq!(Path::parse(&printed).as_ref(), Ok(&path), "{text:?} printed {printed:?}");
        let _ = path.is_search();
    }
});
