//! `Activate()`'s time windows (TR-181 2.19 `TimeWindow.{i}.`: `Start`, `End` (seconds after
//! the command), `Mode`, `UserMessage`, `MaxRetries`), and when they let the image be
//! activated.
//!
//! - The windows are declared as TR-181 names them (`TimeWindow.{i}.Start`, as GetSupportedDM
//!   lists them); the engine passes the keys a controller sends, `TimeWindow.1.Start` ...
//!   `TimeWindow.5.MaxRetries` (at most [`MAX_WINDOWS`], `MaxNumberOfActivateTimeWindows`;
//!   higher numbers are ignored like any unknown argument); a window is given when any of its
//!   arguments is, and then needs `Start`, `End` and `Mode` (7027 otherwise). Windows must not
//!   overlap and must come in order (`Start` ≥ the previous `End`), with `Start` ≤ `End`.
//! - `Immediately` and `AnyTime` activate at the window's `Start`. `WhenIdle` and
//!   `ConfirmationNeeded` windows are not used: this agent can neither judge that the
//!   subscriber is idle nor ask a user, and TR-181 forbids using such a window without that
//!   (`ConfirmationNeeded`: "If confirmation is not received, this time window MUST NOT be
//!   used"). When no window can be used, Activate fails at once (7022).
//! - No window at all (the lab's and Oktopus' habit) activates at once.
//!
//! Never does: wait. The plugin asks the engine to wake it at the chosen time
//! (`Ctx::wake_after`), on the core's monotonic clock.

use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::schema::CommandDef;
use usp_datamodel::value::{ParamType, Value};

/// How many windows an Activate may give (`MaxNumberOfActivateTimeWindows`).
pub const MAX_WINDOWS: usize = 5;
/// `Mode`'s values.
pub const MODES: &[&str] = &["AnyTime", "Immediately", "WhenIdle", "ConfirmationNeeded"];

/// One time window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    /// Seconds after the command when it opens.
    pub start: u32,
    /// Seconds after the command when it closes.
    pub end: u32,
    /// Its `Mode`.
    pub mode: String,
}

/// Declares the windows' input arguments on `Activate()`.
pub fn declare(cmd: &mut CommandDef) {
    let max = u32::try_from(MAX_WINDOWS).unwrap_or(u32::MAX);
    cmd.input_rows("TimeWindow.{i}.Start", ParamType::UnsignedInt, max)
        .input_rows("TimeWindow.{i}.End", ParamType::UnsignedInt, max)
        .input_rows("TimeWindow.{i}.Mode", ParamType::String, max)
        .input_rows("TimeWindow.{i}.UserMessage", ParamType::String, max)
        .input_rows("TimeWindow.{i}.MaxRetries", ParamType::Int, max);
    for a in &mut cmd.inputs {
        if a.name.ends_with(".Mode") {
            a.constraints.enumeration = Some(MODES);
        } else if a.name.ends_with(".MaxRetries") {
            a.constraints.range = Some((-1, 10));
        }
    }
}

/// The windows among `input`, checked (see the module doc).
pub fn parse(input: &[(Box<str>, Value)]) -> Result<Vec<Window>, UspError> {
    let bad = |m: String| UspError::new(ErrorCode::InvalidCommandArgs, m);
    let mut out: Vec<Window> = Vec::new();
    for n in 1..=MAX_WINDOWS {
        let prefix = format!("TimeWindow.{n}.");
        let get = |f: &str| {
            let name = format!("{prefix}{f}");
            input.iter().find(|(k, _)| **k == *name).map(|(_, v)| v)
        };
        if !["Start", "End", "Mode", "UserMessage", "MaxRetries"].iter().any(|f| get(f).is_some()) {
            continue;
        }
        let (Some(start), Some(end), Some(mode)) = (
            get("Start").and_then(Value::as_u64),
            get("End").and_then(Value::as_u64),
            get("Mode").map(|m| m.to_string()),
        ) else {
            return Err(bad(format!("{prefix} needs Start, End and Mode")));
        };
        let (start, end) =
            (u32::try_from(start).unwrap_or(u32::MAX), u32::try_from(end).unwrap_or(u32::MAX));
        if start > end {
            return Err(bad(format!("{prefix}Start is after its End")));
        }
        if out.last().is_some_and(|w| start < w.end) {
            return Err(bad(format!("{prefix} overlaps the window before it")));
        }
        out.push(Window { start, end, mode });
    }
    Ok(out)
}

/// Seconds after the command when the image is activated: the `Start` of the first window
/// that can be used, 0 without windows; `Err` when none can be used.
pub fn activation_offset(windows: &[Window]) -> Result<u32, String> {
    if windows.is_empty() {
        return Ok(0);
    }
    windows
        .iter()
        .find(|w| matches!(w.mode.as_str(), "Immediately" | "AnyTime"))
        .map(|w| w.start)
        .ok_or_else(|| {
            "no usable time window: this agent cannot judge idleness or ask for confirmation \
             (WhenIdle, ConfirmationNeeded)"
                .to_owned()
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn input(pairs: &[(&str, Value)]) -> Vec<(Box<str>, Value)> {
        pairs.iter().map(|(k, v)| (Box::from(*k), v.clone())).collect()
    }

    fn window(n: u32, start: u64, end: u64, mode: &str) -> Vec<(&'static str, Value)> {
        let name =
            |f: &str| -> &'static str { Box::leak(format!("TimeWindow.{n}.{f}").into_boxed_str()) };
        vec![
            (name("Start"), Value::UnsignedInt(start as u32)),
            (name("End"), Value::UnsignedInt(end as u32)),
            (name("Mode"), Value::String(mode.into())),
        ]
    }

    #[test]
    fn the_first_usable_window_decides_and_bad_windows_are_refused() {
        assert_eq!(activation_offset(&parse(&[]).unwrap()), Ok(0), "no window: at once");
        let mut two = window(1, 0, 60, "ConfirmationNeeded");
        two.extend(window(2, 120, 300, "AnyTime"));
        let w = parse(&input(&two)).unwrap();
        assert_eq!(w.len(), 2);
        assert_eq!(activation_offset(&w), Ok(120), "the confirmation window is skipped");
        let idle = parse(&input(&window(1, 10, 20, "WhenIdle"))).unwrap();
        assert!(activation_offset(&idle).unwrap_err().contains("WhenIdle"));
        let mut overlap = window(1, 0, 100, "Immediately");
        overlap.extend(window(2, 50, 200, "AnyTime"));
        assert_eq!(parse(&input(&overlap)).unwrap_err().code, ErrorCode::InvalidCommandArgs);
        let reversed = window(1, 100, 50, "Immediately");
        assert!(parse(&input(&reversed)).is_err());
        let partial = [("TimeWindow.3.Start", Value::UnsignedInt(5))];
        assert!(parse(&input(&partial)).unwrap_err().msg.contains("TimeWindow.3."));
    }
}
