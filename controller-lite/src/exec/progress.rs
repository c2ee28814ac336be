//! The progress line of `operate`: on a terminal one line redrawn in place
//! (`[  3s] Device.X() Active`); elsewhere one line each time a command's status changes.

use std::io::Write;

use crate::operate::Progress;

/// Draws progress reports.
pub struct ProgressLine {
    live: bool,
    drawn: bool,
    last: Option<(String, Option<String>)>,
}

impl ProgressLine {
    /// A progress line; `live` when standard error is a terminal.
    pub fn new(live: bool) -> ProgressLine {
        ProgressLine { live, drawn: false, last: None }
    }

    /// Shows one report.
    pub fn show(&mut self, p: &Progress, err: &mut dyn Write) {
        let status = p.status.unwrap_or("(ended)");
        let text = format!("[{:>4}s] {} {status}", p.elapsed.as_secs(), p.command);
        if self.live {
            // Carriage return and "erase line": the line is redrawn in place.
            let _ = write!(err, "\r\x1b[2K{text}");
            let _ = err.flush();
            self.drawn = true;
        } else {
            let key = (p.command.to_owned(), p.status.map(str::to_owned));
            if self.last.as_ref() != Some(&key) {
                let _ = writeln!(err, "{text}");
                self.last = Some(key);
            }
        }
    }

    /// Ends the live line (so that what follows starts on a fresh line).
    pub fn finish(&mut self, err: &mut dyn Write) {
        if self.live && self.drawn {
            let _ = writeln!(err);
            self.drawn = false;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::Duration;

    fn report(secs: u64, status: Option<&'static str>) -> Progress<'static> {
        Progress {
            command: "Device.T()",
            request: "Device.LocalAgent.Request.1.",
            elapsed: Duration::from_secs(secs),
            status,
        }
    }

    #[test]
    fn a_terminal_redraws_one_line() {
        let mut err = Vec::new();
        let mut line = ProgressLine::new(true);
        line.show(&report(0, Some("Active")), &mut err);
        line.show(&report(1, Some("Active")), &mut err);
        line.finish(&mut err);
        let text = String::from_utf8(err).unwrap();
        assert_eq!(text, "\r\x1b[2K[   0s] Device.T() Active\r\x1b[2K[   1s] Device.T() Active\n");
    }

    #[test]
    fn elsewhere_only_changes_are_printed() {
        let mut err = Vec::new();
        let mut line = ProgressLine::new(false);
        for (s, st) in [(0, Some("Requested")), (1, Some("Active")), (2, Some("Active")), (3, None)]
        {
            line.show(&report(s, st), &mut err);
        }
        line.finish(&mut err);
        let text = String::from_utf8(err).unwrap();
        assert_eq!(
            text,
            "[   0s] Device.T() Requested\n[   1s] Device.T() Active\n[   3s] Device.T() (ended)\n"
        );
    }
}
