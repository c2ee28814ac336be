//! The factory-reset file of obuspa (`obuspa -r FILE`), read by uspagent unchanged.
//!
//! The format is obuspa's, as parsed by `ResetFactoryParametersFromFile()` in
//! `src/core/database.c` with `TEXT_UTILS_KeyValueFromString()` in `src/core/text_utils.c`:
//!
//! - The file is read line by line; a carriage return ends the line (so CRLF files work, and
//!   anything after a stray CR is ignored, as in obuspa).
//! - A line starting with `#` is a comment. Empty lines and lines of spaces and tabs are
//!   ignored.
//! - Otherwise, after leading spaces and tabs, the line holds a parameter path, then spaces or
//!   tabs, then the value. The value is the rest of the line with surrounding spaces and tabs
//!   removed; it may contain spaces (`Device.X.Name my very long value`).
//! - A value starting with `"` must end with `"` and the two are removed; nothing else is
//!   special: there are no escapes, and quotes inside are kept (`"dest""` is `dest"`). A value
//!   ending with `"` must start with one. Quoting is the only way to write an empty value (`""`).
//!   There are no trailing comments: `# ...` after a value is part of the value.
//! - A path prefixed with `+` (`+Device.X.1.Y "v"`) is set at a factory reset like any other,
//!   and also at every other start when the parameter is not in the database yet (obuspa's
//!   `only_prefixed` pass): it adds parameters that a newer firmware introduces without
//!   overwriting what the controller configured. A `+` alone is a syntax error.
//! - Lines are applied in order, so when a path appears twice the last value wins.
//!
//! Where uspagent differs, it is stricter or more tolerant, never different on a valid file:
//! - obuspa logs a bad line and goes on; uspagent rejects the whole file and reports every bad
//!   line, so the agent never starts half-configured.
//! - Paths are checked here with the USP path grammar: each must be a parameter path with
//!   instance numbers only (no wildcards, searches, `{i}` or references). Whether the parameter
//!   exists in the data model is for the caller to judge (obuspa logs and skips unknown ones).
//! - A UTF-8 byte-order mark at the start of the file is skipped; a `#` after leading
//!   whitespace also starts a comment (obuspa would try to set a parameter named `#` and log a
//!   failure, with the same effect).
//! - A value of a single `"` is an error (obuspa reads it as an empty string).

use std::fmt;
use usp_datamodel::path::{Path, Segment, Tail};

/// One parameter setting of a factory-reset file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResetEntry {
    /// The line number, from 1.
    pub line: usize,
    /// The parameter path, without the `+` prefix (`Device.LocalAgent.Controller.1.Alias`).
    pub path: String,
    /// The value, with its quotes removed.
    pub value: String,
    /// The path was prefixed with `+`: besides at a factory reset, set the parameter at every
    /// start when it is absent from the database, never overwriting a stored value.
    pub add_only: bool,
}

/// A line of a factory-reset file that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResetFileError {
    /// The line number, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for ResetFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for ResetFileError {}

/// Parses the text of a factory-reset file into its settings, in file order.
///
/// Fails with every bad line, in order, when at least one line is bad: a file with an error is
/// not used at all.
pub fn parse_reset_file(text: &str) -> Result<Vec<ResetEntry>, Vec<ResetFileError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let line_no = i + 1;
        match parse_line(line) {
            Ok(Some((path, value, add_only))) => entries.push(ResetEntry {
                line: line_no,
                path: path.to_owned(),
                value: value.to_owned(),
                add_only,
            }),
            Ok(None) => {}
            Err(reason) => errors.push(ResetFileError { line: line_no, reason }),
        }
    }
    if errors.is_empty() { Ok(entries) } else { Err(errors) }
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// One line: `None` for a blank or comment line, else (path, value, add_only).
fn parse_line(line: &str) -> Result<Option<(&str, &str, bool)>, String> {
    let line = match line.find('\r') {
        Some(cr) => &line[..cr],
        None => line,
    };
    let line = line.trim_start_matches(is_blank);
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let (key, rest) = line.split_once(is_blank).unwrap_or((line, ""));
    let rest = rest.trim_matches(is_blank);
    let (path, add_only) = match key.strip_prefix('+') {
        Some("") => return Err("`+` must be followed by a parameter path".to_owned()),
        Some(path) => (path, true),
        None => (key, false),
    };
    check_path(path)?;
    if rest.is_empty() {
        return Err(format!(
            "expected a value after the path `{path}` (write \"\" for an empty value)"
        ));
    }
    let value = match (rest.strip_prefix('"'), rest.ends_with('"')) {
        (Some(inner), true) if !inner.is_empty() => &inner[..inner.len() - 1],
        (Some(_), _) => {
            return Err(format!("unterminated quote: expected `\"` at the end of {rest}"));
        }
        (None, true) => {
            return Err(format!("expected `\"` at the start of {rest}, which ends with one"));
        }
        (None, false) => rest,
    };
    Ok(Some((path, value, add_only)))
}

/// Checks that `path` names exactly one parameter.
fn check_path(path: &str) -> Result<(), String> {
    let parsed = Path::parse(path).map_err(|e| format!("`{path}` is not a valid path: {e}"))?;
    match parsed.tail {
        Tail::Param(_) => {}
        Tail::Object => {
            return Err(format!("`{path}` is an object path; expected a parameter path"));
        }
        Tail::Command(_) => return Err(format!("`{path}` is a command; expected a parameter")),
        Tail::Event(_) => return Err(format!("`{path}` is an event; expected a parameter")),
    }
    if parsed.segments.iter().all(|s| matches!(s, Segment::Name(_) | Segment::Instance(_))) {
        Ok(())
    } else {
        Err(format!(
            "`{path}` must name one parameter: wildcards, searches, `{{i}}` and reference \
             following are not allowed"
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn one(line: &str) -> ResetEntry {
        let entries = parse_reset_file(line).unwrap();
        assert_eq!(entries.len(), 1, "{line:?}");
        entries.into_iter().next().unwrap()
    }

    #[test]
    fn values_follow_obuspa_rules() {
        // (line, path, value, add_only); the first rows are obuspa's own test cases for
        // TEXT_UTILS_KeyValueFromString (text_utils.c), with real paths.
        let cases = [
            ("Device.A.B \"  my value \"   \t", "Device.A.B", "  my value ", false),
            ("Device.A.B \"\"   \t", "Device.A.B", "", false),
            ("Device.A.B  \"stuff\"  ", "Device.A.B", "stuff", false),
            ("Device.A.B myvalue\n", "Device.A.B", "myvalue", false),
            ("    \t  Device.A.B   myvalue\n", "Device.A.B", "myvalue", false),
            ("Device.A.B  \t  my very long value\r\n", "Device.A.B", "my very long value", false),
            ("Device.A.B \"dest\"\"", "Device.A.B", "dest\"", false),
            ("Device.A.B \"a\"b\"", "Device.A.B", "a\"b", false),
            ("Device.A.B \"\"\"", "Device.A.B", "\"", false),
            ("Device.A.B Device.Boot!", "Device.A.B", "Device.Boot!", false),
            ("Device.A.B 5 # not a comment", "Device.A.B", "5 # not a comment", false),
            ("Device.A.B \\n%22", "Device.A.B", "\\n%22", false),
            ("Device.A.B x\ry", "Device.A.B", "x", false),
            ("Device.A.B\t\"tab\"", "Device.A.B", "tab", false),
            ("+Device.A.1.B \"new\"", "Device.A.1.B", "new", true),
            ("  +Internal.Reboot.Cause x", "Internal.Reboot.Cause", "x", true),
            ("Device.A.B \"é ü\"", "Device.A.B", "é ü", false),
        ];
        for (line, path, value, add_only) in cases {
            let e = one(line);
            assert_eq!(
                (e.line, e.path.as_str(), e.value.as_str(), e.add_only),
                (1, path, value, add_only),
                "{line:?}"
            );
        }
    }

    #[test]
    fn comments_and_blank_lines_are_skipped() {
        let text = "# comment\n\n   \n\t\t\n#Device.A.B \"x\"\n  # indented comment\n\
                    Device.A.B \"x\"\n\n##########\nDevice.A.C y";
        let entries = parse_reset_file(text).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!((entries[0].line, entries[0].path.as_str()), (7, "Device.A.B"));
        assert_eq!((entries[1].line, entries[1].path.as_str()), (10, "Device.A.C"));
        assert_eq!(parse_reset_file("").unwrap(), []);
        assert_eq!(parse_reset_file("\n\n# only comments\n").unwrap(), []);
    }

    #[test]
    fn crlf_line_endings_and_a_bom_are_accepted() {
        let text = "\u{feff}# header\r\nDevice.A.B \"x y\"\r\n\r\n+Device.A.C z\r\n";
        let entries = parse_reset_file(text).unwrap();
        assert_eq!(
            entries,
            [
                ResetEntry {
                    line: 2,
                    path: "Device.A.B".into(),
                    value: "x y".into(),
                    add_only: false
                },
                ResetEntry {
                    line: 4,
                    path: "Device.A.C".into(),
                    value: "z".into(),
                    add_only: true
                },
            ]
        );
        // A BOM before a parameter line.
        assert_eq!(one("\u{feff}Device.A.B x").path, "Device.A.B");
    }

    #[test]
    fn duplicates_are_kept_in_file_order() {
        let entries = parse_reset_file("Device.A.B 1\nDevice.A.B 2\n").unwrap();
        assert_eq!(entries.iter().map(|e| e.value.as_str()).collect::<Vec<_>>(), ["1", "2"]);
    }

    #[test]
    fn invalid_lines_name_their_line() {
        let cases = [
            ("Device.A.B", "expected a value after the path `Device.A.B`"),
            ("Device.A.B   \t ", "expected a value"),
            ("Device.A.B \"stuff", "unterminated quote"),
            ("Device.A.B \"", "unterminated quote"),
            ("Device.A.B stuff\"", "expected `\"` at the start"),
            ("Device..B \"x\"", "is not a valid path"),
            ("1.A \"x\"", "is not a valid path"),
            ("Device.A.*.B \"x\"", "wildcards"),
            ("Device.A.[Alias==\"x\"].B \"x\"", "wildcards"),
            ("Device.A.{i}.B \"x\"", "wildcards"),
            ("Device.A.Ref+.B \"x\"", "wildcards"),
            ("Device.A.1. \"x\"", "is an object path"),
            ("Device.Reboot() \"x\"", "is a command"),
            ("Device.Boot! \"x\"", "is an event"),
            ("+ Device.A.B \"x\"", "`+` must be followed"),
            ("++Device.A.B \"x\"", "is not a valid path"),
        ];
        for (bad, reason) in cases {
            let text =
                format!("# header\n\nDevice.Good.Param \"ok\"\n{bad}\nDevice.Good.Other 1\n");
            let errors = parse_reset_file(&text).unwrap_err();
            assert_eq!(errors.len(), 1, "{bad:?}: {errors:?}");
            assert_eq!(errors[0].line, 4, "{bad:?}");
            assert!(errors[0].reason.contains(reason), "{bad:?}: {}", errors[0]);
            assert!(errors[0].to_string().starts_with("line 4: "), "{}", errors[0]);
        }
    }

    #[test]
    fn every_bad_line_is_reported() {
        let text = "Device.A.B \"x\nDevice.A.C ok\nDevice.A.* 1\r\nDevice.A.D\n";
        let errors = parse_reset_file(text).unwrap_err();
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [1, 3, 4]);
        assert_eq!(
            errors[2].to_string(),
            "line 4: expected a value after the path `Device.A.D` (write \"\" for an empty value)"
        );
    }
}
