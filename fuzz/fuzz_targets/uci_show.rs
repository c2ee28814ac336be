//! The `uci show` output parser (areas/src/openwrt/uci.rs `parse_show`): any text as the output
//! for the `wireless` configuration. Every section it returns comes from a line of the text
//! (`wireless.NAME=TYPE`), and every option value is free of the quoting it parsed away at
//! the ends.
#![no_main]

use libfuzzer_sys::fuzz_target;
use usp_areas::openwrt::uci::parse_show;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let sections = parse_show("wireless", &text);
    let lines: Vec<&str> = text.lines().collect();
    assert!(sections.len() <= lines.len());
    for s in &sections {
        let head = format!("wireless.{}={}", s.name, s.kind);
        assert!(lines.contains(&head.as_str()), "{s:?} from no line");
        assert!(!s.name.contains('.'), "{s:?}");
        for (option, _) in &s.options {
            let prefix = format!("wireless.{}.{option}=", s.name);
            assert!(lines.iter().any(|l| l.starts_with(&prefix)), "{option} of {s:?} from no line");
        }
    }
});
