//! The progress line of `operate`: on a terminal one line redrawn in place
//! (`[  3s] Device.X() Active`, with a bar `[#######.............]  35%` when the agent reports
//! the command's progress); elsewhere a plain line each time a command's status changes or its
//! progress passes another tenth.

use std::io::Write;

use crate::operate::Progress;

/// Draws progress reports.
pub struct ProgressLine {
    live: bool,
    drawn: bool,
    last: Option<(String, Option<String>, Option<u32>)>,
}

/// A 20-cell bar and the percentage.
fn bar(percent: u32) -> String {
    let done = usize::try_from(percent.min(100) / 5).unwrap_or(20);
    format!("[{}{}] {:>3}%", "#".repeat(done), ".".repeat(20 - done), percent.min(100))
}

impl ProgressLine {
    /// A progress line; `live` when standard error is a terminal.
    pub fn new(live: bool) -> ProgressLine {
        ProgressLine { live, drawn: false, last: None }
    }

    /// Shows one report.
    pub fn show(&mut self, p: &Progress, err: &mut dyn Write) {
        let status = p.status.unwrap_or("(ended)");
        let mut text = format!("[{:>4}s] {} {status}", p.elapsed.as_secs(), p.command);
        if let (Some(percent), Some(_)) = (p.percent, p.status) {
            if self.live {
                text = format!("{text} {}", bar(percent));
            } else {
                text = format!("{text} {}%", percent.min(100));
            }
        }
        if self.live {
            // Carriage return and "erase line": the line is redrawn in place.
            let _ = write!(err, "\r\x1b[2K{text}");
            let _ = err.flush();
            self.drawn = true;
        } else {
            let tenth = p.percent.filter(|_| p.status.is_some()).map(|v| v.min(100) / 10);
            let key = (p.command.to_owned(), p.status.map(str::to_owned), tenth);
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
            percent: None,
        }
    }

    fn at(secs: u64, percent: u32) -> Progress<'static> {
        Progress { percent: Some(percent), ..report(secs, Some("Active")) }
    }

    #[test]
    fn a_terminal_draws_a_bar_and_a_pipe_gets_a_line_per_tenth() {
        let mut err = Vec::new();
        let mut line = ProgressLine::new(true);
        line.show(&at(1, 35), &mut err);
        let text = String::from_utf8(err).unwrap();
        assert_eq!(text, "\r\x1b[2K[   1s] Device.T() Active [#######.............]  35%");
        let mut err = Vec::new();
        let mut line = ProgressLine::new(false);
        for (s, p) in [(0, 0), (1, 4), (2, 12), (3, 19), (4, 100)] {
            line.show(&at(s, p), &mut err);
        }
        line.show(&report(5, None), &mut err);
        let text = String::from_utf8(err).unwrap();
        assert_eq!(
            text,
            "[   0s] Device.T() Active 0%\n[   2s] Device.T() Active 12%\n\
             [   4s] Device.T() Active 100%\n[   5s] Device.T() (ended)\n"
        );
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
