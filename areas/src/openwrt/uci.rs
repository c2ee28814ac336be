//! UCI through OpenWrt's own `uci` program: `uci show` to read a configuration, one
//! `uci batch` (the sets and deletes, then `commit`) to change it.
//!
//! Why the program and not our own parser/writer: it is on every OpenWrt system, it takes the
//! configuration's lock while committing, and it treats the file exactly as LuCI and `uci set`
//! do (a commit rewrites the file and drops its comments, as every OpenWrt tool's commit
//! does). Changes are staged in a save directory of the agent's own (`-t`), so other tools'
//! uncommitted changes in `/tmp/.uci` are neither committed nor lost by our commit: they stay
//! pending and apply on top when their tool commits.
//!
//! Sections are named as `uci show` names them: `radio0` for a named section, `@wifi-iface[1]`
//! for an anonymous one (its position among sections of its type; libuci's generated
//! `cfgXXXXXX` names change with the content, positions do not).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::OsError;

/// One section of a configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Section {
    /// `radio0` or `@wifi-iface[1]`.
    pub name: String,
    /// The section type (`wifi-device`).
    pub kind: String,
    /// Options in file order; a list's items joined by a space.
    pub options: Vec<(String, String)>,
}

impl Section {
    /// An option's value.
    pub fn get(&self, option: &str) -> Option<&str> {
        self.options.iter().find(|(k, _)| k == option).map(|(_, v)| v.as_str())
    }
}

/// One change of a batch: set `section.option` to a value, or delete it (`None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    /// The section name as [`Section::name`].
    pub section: String,
    /// The option.
    pub option: String,
    /// The new value; `None` deletes the option.
    pub value: Option<String>,
}

/// The `uci` program with a configuration directory and a private save directory.
#[derive(Clone, Debug)]
pub struct Uci {
    /// The program (`uci`, found through `PATH`, on a router).
    pub program: PathBuf,
    /// `-c`: the configuration directory (`/etc/config`).
    pub conf_dir: PathBuf,
    /// `-t`: where this agent's uncommitted changes live (never another tool's).
    pub save_dir: PathBuf,
}

impl Uci {
    fn command(&self) -> Command {
        let mut c = Command::new(&self.program);
        c.arg("-c").arg(&self.conf_dir).arg("-t").arg(&self.save_dir);
        c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        c
    }

    /// Every section of `config`, in file order.
    pub fn show(&self, config: &str) -> Result<Vec<Section>, OsError> {
        let out = self.command().args(["show", config]).output();
        let out = out.map_err(|e| OsError::Spawn(format!("{}: {e}", self.program.display())))?;
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr).trim().to_owned();
            return Err(OsError::Failed(format!("uci show {config}: {why}")));
        }
        Ok(parse_show(config, &String::from_utf8_lossy(&out.stdout)))
    }

    /// Applies `edits` to `config` and commits them, in one `uci batch`.
    pub fn commit(&self, config: &str, edits: &[Edit]) -> Result<(), OsError> {
        std::fs::create_dir_all(&self.save_dir)
            .map_err(|e| OsError::Spawn(format!("{}: {e}", self.save_dir.display())))?;
        let mut script = String::new();
        for e in edits {
            match &e.value {
                Some(v) => script.push_str(&format!(
                    "set {config}.{}.{}={}\n",
                    e.section,
                    e.option,
                    quote(v)
                )),
                None => script.push_str(&format!("delete {config}.{}.{}\n", e.section, e.option)),
            }
        }
        script.push_str(&format!("commit {config}\n"));
        let mut child = self
            .command()
            .arg("batch")
            .stdin(Stdio::piped())
            .spawn()
            .map_err(|e| OsError::Spawn(format!("{}: {e}", self.program.display())))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(script.as_bytes())
                .map_err(|e| OsError::Failed(format!("uci batch: {e}")))?;
        }
        let out =
            child.wait_with_output().map_err(|e| OsError::Failed(format!("uci batch: {e}")))?;
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        if !out.status.success() || !stderr.is_empty() {
            return Err(OsError::Failed(format!("uci batch on {config}: {stderr}")));
        }
        Ok(())
    }
}

/// A value in UCI's single quotes (`'` written as `'\''`).
fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "'\\''"))
}

/// Parses `uci show CONFIG` output; lines it cannot read are skipped.
pub fn parse_show(config: &str, text: &str) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(config).and_then(|r| r.strip_prefix('.')) else {
            continue;
        };
        let Some((path, value)) = rest.split_once('=') else { continue };
        match path.split_once('.') {
            None => sections.push(Section {
                name: path.to_owned(),
                kind: value.to_owned(),
                options: Vec::new(),
            }),
            Some((section, option)) => {
                if let Some(s) = sections.iter_mut().rev().find(|s| s.name == section) {
                    s.options.push((option.to_owned(), unquote(value)));
                }
            }
        }
    }
    sections
}

/// The words of a `uci show` value (`'a b' 'it'\''s'` → `a b it's`, items joined by a space).
fn unquote(value: &str) -> String {
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => quoted = !quoted,
            '\\' if !quoted => cur.extend(chars.next()),
            ' ' if !quoted => items.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    items.push(cur);
    items.retain(|s| !s.is_empty());
    items.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_output_parses_into_sections_named_as_uci_names_them() {
        let text = "wireless.radio0=wifi-device\nwireless.radio0.channel='6'\n\
            wireless.radio0.foo='a b' 'it'\\''s'\nwireless.@wifi-iface[0]=wifi-iface\n\
            wireless.@wifi-iface[0].ssid='x=y'\ngarbage\nwireless.orphan.x='1'\n";
        let s = parse_show("wireless", text);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].get("channel"), Some("6"));
        assert_eq!(s[0].get("foo"), Some("a b it's"));
        assert_eq!(s[1].name, "@wifi-iface[0]");
        assert_eq!(s[1].get("ssid"), Some("x=y"));
    }

    #[test]
    fn quoting_round_trips_single_quotes() {
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(unquote(&quote("it's")), "it's");
    }
}
