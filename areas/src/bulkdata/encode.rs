//! The report encodings of TR-369's Bulk Data appendix ("Encoding of Bulk Data"): JSON
//! (`ObjectHierarchy` and `NameValuePair`, `CollectionTime` as Unix epoch seconds, ISO 8601 or
//! none) and CSV (RFC 4180 with the profile's `FieldSeparator`, `RowSeparator` and
//! `EscapeCharacter`; `ParameterPerRow` and `ParameterPerColumn`, `ReportTimestamp` column as
//! Unix epoch, ISO 8601 or none).
//!
//! Several reports (the retained failed ones, then the current one) make one body: JSON puts
//! them in the one `"Report"` array, CSV writes the header once and the rows of every report
//! after it ("without any header data", TR-369 "Layout of Content for Failed Report
//! Transmissions").
//!
//! The JSON text is laid out as TR-369's examples are (four-space indentation, `"name": value`)
//! so that a report is byte for byte the example; CSV rows end with the row separator (RFC 4180
//! records). XML is not offered: TR-181 2.19 deleted the XML and XDR encodings with the IPDR
//! protocols (they were defined only for IPDR), and TR-369 defines CSV and JSON for HTTP, MQTT
//! and USPEventNotif.
//!
//! Never does: collection (the core's snapshot), naming (`names`), or I/O.

use std::fmt::Write as _;

use usp_datamodel::value::{DateTime, Value};

/// One collected parameter, named as the report shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// The name in the report (the path, or the profile's alternative name).
    pub name: String,
    /// Its value, typed as the data model declares it.
    pub value: Value,
}

/// The parameters collected at one time.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// When the values were collected.
    pub collected: DateTime,
    /// The parameters, in the profile's order.
    pub items: Vec<Item>,
}

/// How the collection time is written (`ReportTimestamp` / `RowTimestamp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timestamp {
    /// Seconds since the Unix epoch, a number.
    UnixEpoch,
    /// An ISO 8601 UTC time, a string.
    Iso8601,
    /// Not written.
    None,
}

impl Timestamp {
    /// The value of the TR-181 enumeration (`Unix-Epoch`, `ISO-8601`, `None`).
    pub fn parse(text: &str) -> Option<Timestamp> {
        match text {
            "Unix-Epoch" => Some(Timestamp::UnixEpoch),
            "ISO-8601" => Some(Timestamp::Iso8601),
            "None" => Some(Timestamp::None),
            _ => None,
        }
    }
}

/// The JSON report formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonFormat {
    /// Each object of the path a JSON object.
    ObjectHierarchy,
    /// Each parameter a `"path": value` member.
    NameValuePair,
}

/// The CSV report formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsvFormat {
    /// One row per parameter: name, value, type.
    ParameterPerRow,
    /// One column per parameter, one row per report.
    ParameterPerColumn,
}

/// The CSV settings of a profile, with the separators already decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Csv {
    /// Between fields (`,`).
    pub field_separator: String,
    /// After each row (CR LF).
    pub row_separator: String,
    /// Encloses fields that hold a separator or itself (`"`); doubled inside.
    pub escape: String,
    /// The layout.
    pub format: CsvFormat,
    /// The `ReportTimestamp` column.
    pub timestamp: Timestamp,
}

/// An encoding with its settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// `application/json`.
    Json {
        /// The layout.
        format: JsonFormat,
        /// The `CollectionTime` member.
        timestamp: Timestamp,
    },
    /// `text/csv`.
    Csv(Csv),
}

impl Encoding {
    /// The media type with its charset (R-BULK.7, R-BULK.8a).
    pub fn content_type(&self) -> &'static str {
        match self {
            Encoding::Json { .. } => "application/json; charset=UTF-8",
            Encoding::Csv(_) => "text/csv; charset=UTF-8; header=present",
        }
    }

    /// The `BBF-Report-Format` token (R-BULK.8).
    pub fn report_format(&self) -> &'static str {
        match self {
            Encoding::Json { format: JsonFormat::ObjectHierarchy, .. } => "ObjectHierarchy",
            Encoding::Json { format: JsonFormat::NameValuePair, .. } => "NameValuePair",
            Encoding::Csv(c) if c.format == CsvFormat::ParameterPerRow => "ParameterPerRow",
            Encoding::Csv(_) => "ParameterPerColumn",
        }
    }

    /// The body carrying `reports` (oldest first).
    pub fn encode(&self, reports: &[Report]) -> String {
        match self {
            Encoding::Json { format, timestamp } => json(reports, *format, *timestamp),
            Encoding::Csv(c) => csv(reports, c),
        }
    }
}

/// Decodes the XML character references a controller writes for separators (`&#13;&#10;`,
/// `&quot;`, `&#44;`, `&amp;`...); other text is kept as it is.
pub fn decode_separator(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let decoded = tail.find(';').and_then(|end| Some((entity(&tail[1..end])?, end + 1)));
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &tail[len..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    match name {
        "quot" => Some('"'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "lt" => Some('<'),
        "gt" => Some('>'),
        _ => {
            let n = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => name.strip_prefix('#')?.parse().ok()?,
            };
            char::from_u32(n)
        }
    }
}

// ---- JSON ----

/// A JSON object member tree, in first-seen order.
enum Node<'a> {
    Leaf(&'a Value),
    Object(Vec<(&'a str, Node<'a>)>),
}

fn json(reports: &[Report], format: JsonFormat, timestamp: Timestamp) -> String {
    let mut out = String::from("{\n    \"Report\": [\n");
    for (i, report) in reports.iter().enumerate() {
        let mut members: Vec<(String, String)> = Vec::new();
        match timestamp {
            Timestamp::UnixEpoch => {
                members.push(("CollectionTime".into(), report.collected.secs.to_string()));
            }
            Timestamp::Iso8601 => {
                members.push(("CollectionTime".into(), json_string(&report.collected.to_string())));
            }
            Timestamp::None => {}
        }
        let mut body = String::new();
        match format {
            JsonFormat::NameValuePair => {
                for item in &report.items {
                    members.push((item.name.clone(), json_value(&item.value)));
                }
            }
            JsonFormat::ObjectHierarchy => {
                let tree = hierarchy(&report.items);
                for (name, node) in tree {
                    let mut text = String::new();
                    write_node(&mut text, &node, 3);
                    members.push((name.to_owned(), text));
                }
            }
        }
        write_members(&mut body, &members, 3);
        out.push_str(&indent(2));
        out.push_str(&body);
        out.push_str(if i + 1 < reports.len() { ",\n" } else { "\n" });
    }
    out.push_str("    ]\n}");
    out
}

fn indent(level: usize) -> String {
    " ".repeat(level * 4)
}

/// `{ members }` whose opening brace is already placed; members at `level`.
fn write_members(out: &mut String, members: &[(String, String)], level: usize) {
    if members.is_empty() {
        out.push_str("{}");
        return;
    }
    out.push_str("{\n");
    for (i, (name, value)) in members.iter().enumerate() {
        let comma = if i + 1 < members.len() { "," } else { "" };
        let _ = writeln!(out, "{}{}: {value}{comma}", indent(level), json_string(name));
    }
    out.push_str(&indent(level - 1));
    out.push('}');
}

fn write_node(out: &mut String, node: &Node<'_>, level: usize) {
    match node {
        Node::Leaf(v) => out.push_str(&json_value(v)),
        Node::Object(children) => {
            let members: Vec<(String, String)> = children
                .iter()
                .map(|(name, child)| {
                    let mut text = String::new();
                    write_node(&mut text, child, level + 1);
                    ((*name).to_owned(), text)
                })
                .collect();
            write_members(out, &members, level + 1);
        }
    }
}

/// The items as nested objects, split at the dots of their names.
fn hierarchy(items: &[Item]) -> Vec<(&str, Node<'_>)> {
    let mut root: Vec<(&str, Node<'_>)> = Vec::new();
    for item in items {
        let parts: Vec<&str> = item.name.split('.').filter(|p| !p.is_empty()).collect();
        insert(&mut root, &parts, &item.value);
    }
    root
}

fn insert<'a>(level: &mut Vec<(&'a str, Node<'a>)>, parts: &[&'a str], value: &'a Value) {
    match parts {
        [] => {}
        [last] => level.push((last, Node::Leaf(value))),
        [first, rest @ ..] => {
            let found = level.iter().position(|(n, c)| n == first && matches!(c, Node::Object(_)));
            let at = found.unwrap_or_else(|| {
                level.push((first, Node::Object(Vec::new())));
                level.len() - 1
            });
            if let Some((_, Node::Object(children))) = level.get_mut(at) {
                insert(children, rest, value);
            }
        }
    }
}

/// A value as JSON (TR-369 "Translating Data Types"): numbers and booleans bare, the rest as
/// strings; a decimal that is not finite is `null`.
fn json_value(v: &Value) -> String {
    match v {
        Value::Boolean(_)
        | Value::Int(_)
        | Value::UnsignedInt(_)
        | Value::Long(_)
        | Value::UnsignedLong(_) => v.to_string(),
        Value::Decimal(d) if !d.is_finite() => "null".into(),
        Value::Decimal(_) => v.to_string(),
        _ => json_string(&v.to_string()),
    }
}

/// A JSON string literal (RFC 8259 escapes).
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---- CSV ----

fn csv(reports: &[Report], c: &Csv) -> String {
    let mut out = String::new();
    let stamp = |r: &Report| match c.timestamp {
        Timestamp::UnixEpoch => Some(r.collected.secs.to_string()),
        Timestamp::Iso8601 => Some(r.collected.to_string()),
        Timestamp::None => None,
    };
    let ts_header = (c.timestamp != Timestamp::None).then_some("ReportTimestamp");
    match c.format {
        CsvFormat::ParameterPerRow => {
            let header = ["ParameterName", "ParameterValue", "ParameterType"];
            row(&mut out, c, ts_header.into_iter().chain(header));
            for r in reports {
                let ts = stamp(r);
                for item in &r.items {
                    let value = item.value.to_string();
                    let fields =
                        [item.name.as_str(), value.as_str(), item.value.param_type().name()];
                    row(&mut out, c, ts.as_deref().into_iter().chain(fields));
                }
            }
        }
        CsvFormat::ParameterPerColumn => {
            let names = reports.last().map(|r| &r.items[..]).unwrap_or_default();
            row(&mut out, c, ts_header.into_iter().chain(names.iter().map(|i| i.name.as_str())));
            for r in reports {
                let ts = stamp(r);
                let values: Vec<String> = r.items.iter().map(|i| i.value.to_string()).collect();
                row(
                    &mut out,
                    c,
                    ts.as_deref().into_iter().chain(values.iter().map(String::as_str)),
                );
            }
        }
    }
    out
}

fn row<'a>(out: &mut String, c: &Csv, fields: impl Iterator<Item = &'a str>) {
    for (i, field) in fields.enumerate() {
        if i > 0 {
            out.push_str(&c.field_separator);
        }
        out.push_str(&escape_field(field, c));
    }
    out.push_str(&c.row_separator);
}

/// RFC 4180: a field holding a separator, the escape character or a line break is enclosed
/// in the escape character, which is doubled inside.
fn escape_field(field: &str, c: &Csv) -> String {
    let needs = (!c.field_separator.is_empty() && field.contains(c.field_separator.as_str()))
        || (!c.escape.is_empty() && field.contains(c.escape.as_str()))
        || field.contains(['\r', '\n'])
        || (!c.row_separator.is_empty() && field.contains(c.row_separator.as_str()));
    if !needs || c.escape.is_empty() {
        return field.to_owned();
    }
    let doubled = format!("{0}{0}", c.escape);
    format!("{0}{1}{0}", c.escape, field.replace(c.escape.as_str(), &doubled))
}
