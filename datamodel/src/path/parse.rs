//! The path parser and printer.
//!
//! A hand-written, single-pass scanner over the bytes of the input. Every delimiter of the grammar
//! is ASCII, so the input is only ever sliced at the position of an ASCII byte (or at its ends),
//! which is always a `char` boundary: arbitrary UTF-8 cannot make the parser panic. Names are
//! copied into the AST once each; nothing is allocated per character.
//!
//! Grammar decisions beyond the TR-369 BNF ("Data Model Path Grammar"):
//! - Names follow TR-106: `[A-Za-z_][A-Za-z0-9_-]*` (the TR-369 BNF omits `-`).
//! - A path starts with a plain name followed by `.` (`objpath ::= name '.' ...`): `Device`,
//!   `Reboot()` or `1.` alone are errors.
//! - A reference follow may also end an object path (`LowerLayers#*+.`).
//! - Inside `[...]`, spaces and tabs are tolerated around every token (R-ARC.9a asks for this
//!   around the operator only); the relative parameter itself (`Stats.ErrorsSent`,
//!   `Ref#2+.Name`) is one token and admits no whitespace.
//! - An unquoted literal is a non-empty run of any characters except whitespace, control
//!   characters and `&|[]"=!<>~` (so `-5`, `2.5`, `true`, `08`, `2021-06-06T08:00:00Z`,
//!   `+123` are literals, while `[A===1]`, `[A==1&B==2]` and `[A==1|B]` are errors).
//! - A quoted literal may contain any character but `"`; `%22` decodes to `"`, `%25` to `%`,
//!   any other `%` is kept as written (and printed as `%25`).
//! - The length limit applies to the input and to its canonical printed form (a stray `%` in a
//!   quoted literal prints as three bytes), so every accepted path re-parses after printing.

use super::{Condition, Op, Path, PathError, RefIndex, Reference, RelParam, Segment, Tail};
use std::fmt::{self, Write as _};

/// The longest path accepted, in bytes.
const MAX_LEN: usize = 4096;

/// Segments reserved up front: enough for typical TR-181 paths without regrowing.
const SEGMENTS_HINT: usize = 8;

pub(super) fn parse(text: &str) -> Result<Path, PathError> {
    if text.len() > MAX_LEN {
        let mut at = MAX_LEN;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        return Err(err(at, "path too long"));
    }
    if text.is_empty() {
        return Err(err(0, "empty path"));
    }
    let mut parser = Parser { text, bytes: text.as_bytes(), pos: 0, growth: 0 };
    let path = parser.path()?;
    if text.len() + parser.growth > MAX_LEN {
        return Err(err(text.len(), "path too long"));
    }
    super::limits::check(&path, text.len())?;
    Ok(path)
}

fn err(at: usize, reason: &'static str) -> PathError {
    PathError { at, reason }
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

fn is_space(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// May `c` appear in an unquoted literal? Bytes of multi-byte characters may.
fn is_bare(c: u8) -> bool {
    !(c.is_ascii_control()
        || matches!(c, b' ' | b'&' | b'|' | b'[' | b']' | b'"' | b'=' | b'!' | b'<' | b'>' | b'~'))
}

/// The error for a character that has no place where it was found.
fn unexpected(at: usize, c: u8) -> PathError {
    if is_space(c) {
        err(at, "whitespace is only allowed inside '[...]'")
    } else {
        err(at, "unexpected character")
    }
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    /// The next byte to read; always on a `char` boundary.
    pos: usize,
    /// How many bytes longer than the input the canonical printed form may be.
    growth: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
        }
    }

    /// Scans a name whose first byte has been checked with [`is_name_start`].
    fn name(&mut self) -> &'a str {
        let start = self.pos;
        self.pos += 1;
        while self.peek().is_some_and(is_name_char) {
            self.pos += 1;
        }
        &self.text[start..self.pos]
    }

    /// Scans a positive decimal number (no sign, no leading zero, fits in `u32`).
    fn posnum(&mut self, zero: &'static str) -> Result<u32, PathError> {
        let start = self.pos;
        let mut value: u32 = 0;
        let mut overflow = false;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            match value.checked_mul(10).and_then(|v| v.checked_add(u32::from(c - b'0'))) {
                Some(v) => value = v,
                None => overflow = true,
            }
            self.pos += 1;
        }
        if self.bytes[start] == b'0' {
            if self.pos - start > 1 {
                return Err(err(start, "leading zero in number"));
            }
            return Err(err(start, zero));
        }
        if overflow {
            return Err(err(start, "number too large"));
        }
        Ok(value)
    }

    /// Scans `+`, `#n+` or `#*+` after the reference parameter `param`.
    fn reffollow(&mut self, param: &str) -> Result<Reference, PathError> {
        let index = if self.peek() == Some(b'#') {
            self.pos += 1;
            match self.peek() {
                Some(b'*') => {
                    self.pos += 1;
                    RefIndex::All
                }
                Some(b'0'..=b'9') => RefIndex::Nth(self.posnum("list index 0 is not allowed")?),
                _ => return Err(err(self.pos, "expected a list index or '*' after '#'")),
            }
        } else {
            RefIndex::Single
        };
        if self.peek() != Some(b'+') {
            return Err(err(self.pos, "expected '+'"));
        }
        self.pos += 1;
        Ok(Reference { param: param.into(), index })
    }

    fn path(&mut self) -> Result<Path, PathError> {
        let mut segments = Vec::with_capacity(SEGMENTS_HINT);
        loop {
            let start = self.pos;
            let segment = match self.peek() {
                None => {
                    // Only reached after a '.', and never at offset 0 (empty input is refused).
                    return Ok(Path { segments, tail: Tail::Object });
                }
                Some(c) if is_name_start(c) => {
                    let name = self.name();
                    let next = self.peek();
                    if segments.is_empty() && next != Some(b'.') {
                        return Err(err(self.pos, "expected '.' after the root object name"));
                    }
                    match next {
                        Some(b'.') => {
                            self.pos += 1;
                            segments.push(Segment::Name(name.into()));
                            continue;
                        }
                        None => {
                            return Ok(Path { segments, tail: Tail::Param(name.into()) });
                        }
                        Some(b'(') => {
                            self.pos += 1;
                            if self.peek() != Some(b')') {
                                return Err(err(self.pos, "expected ')'"));
                            }
                            self.pos += 1;
                            if self.pos != self.bytes.len() {
                                return Err(err(self.pos, "a command must end the path"));
                            }
                            return Ok(Path { segments, tail: Tail::Command(name.into()) });
                        }
                        Some(b'!') => {
                            self.pos += 1;
                            if self.pos != self.bytes.len() {
                                return Err(err(self.pos, "an event must end the path"));
                            }
                            return Ok(Path { segments, tail: Tail::Event(name.into()) });
                        }
                        Some(b'+' | b'#') => Segment::Follow(self.reffollow(name)?),
                        Some(c) => return Err(unexpected(self.pos, c)),
                    }
                }
                _ if segments.is_empty() => return Err(err(start, "expected a name")),
                Some(b'0'..=b'9') => {
                    Segment::Instance(self.posnum("instance number 0 is not allowed")?)
                }
                Some(b'*') => {
                    self.pos += 1;
                    Segment::Wildcard
                }
                Some(b'{') => {
                    if !self.bytes[start..].starts_with(b"{i}") {
                        return Err(err(start, "expected '{i}'"));
                    }
                    self.pos += 3;
                    Segment::Placeholder
                }
                Some(b'[') => Segment::Search(self.search()?),
                Some(b'.') => return Err(err(start, "empty segment")),
                Some(c) => return Err(unexpected(start, c)),
            };
            // Instances, searches, wildcards, placeholders and references are always followed
            // by '.'.
            match self.peek() {
                Some(b'.') => self.pos += 1,
                None => return Err(err(self.pos, "an object path must end with '.'")),
                Some(_) => return Err(err(self.pos, "expected '.'")),
            }
            segments.push(segment);
        }
    }

    /// Scans `[cond && cond ...]`, starting on the `[`.
    fn search(&mut self) -> Result<Vec<Condition>, PathError> {
        self.pos += 1;
        let mut conditions = Vec::with_capacity(1);
        loop {
            self.skip_space();
            if self.peek() == Some(b']') {
                return Err(err(
                    self.pos,
                    if conditions.is_empty() {
                        "empty search expression"
                    } else {
                        "expected a condition after '&&'"
                    },
                ));
            }
            let param = self.relparam()?;
            self.skip_space();
            let op = self.op()?;
            self.skip_space();
            let (value, quoted) = self.literal()?;
            conditions.push(Condition { param, op, value, quoted });
            self.skip_space();
            match (self.peek(), self.peek_at(1)) {
                (Some(b']'), _) => {
                    self.pos += 1;
                    return Ok(conditions);
                }
                (Some(b'&'), Some(b'&')) => self.pos += 2,
                (Some(b'&'), _) => return Err(err(self.pos, "expected '&&'")),
                (Some(b'|'), Some(b'|')) => return Err(err(self.pos, "'||' is not supported")),
                (None, _) => return Err(err(self.pos, "unterminated search expression")),
                (Some(_), _) => return Err(err(self.pos, "expected '&&' or ']'")),
            }
        }
    }

    /// Scans the relative parameter of a condition: `Name`, `Stats.Name`, `Ref+.Name`, ...
    fn relparam(&mut self) -> Result<RelParam, PathError> {
        let mut steps = Vec::new();
        loop {
            match self.peek() {
                Some(c) if is_name_start(c) => {}
                None => return Err(err(self.pos, "unterminated search expression")),
                Some(_) => return Err(err(self.pos, "expected a parameter name")),
            }
            let name = self.name();
            match self.peek() {
                Some(b'.') => {
                    self.pos += 1;
                    steps.push(Segment::Name(name.into()));
                }
                Some(b'+' | b'#') => {
                    let reference = self.reffollow(name)?;
                    if self.peek() != Some(b'.') {
                        return Err(err(self.pos, "expected '.' after a reference"));
                    }
                    self.pos += 1;
                    steps.push(Segment::Follow(reference));
                }
                _ => {
                    return Ok(RelParam { steps, name: name.into() });
                }
            }
        }
    }

    fn op(&mut self) -> Result<Op, PathError> {
        let (op, len) = match (self.peek(), self.peek_at(1)) {
            (Some(b'='), Some(b'=')) => (Op::Eq, 2),
            (Some(b'!'), Some(b'=')) => (Op::Ne, 2),
            (Some(b'~'), Some(b'=')) => (Op::Contains, 2),
            (Some(b'<'), Some(b'=')) => (Op::Le, 2),
            (Some(b'>'), Some(b'=')) => (Op::Ge, 2),
            (Some(b'<'), _) => (Op::Lt, 1),
            (Some(b'>'), _) => (Op::Gt, 1),
            (None, _) => return Err(err(self.pos, "unterminated search expression")),
            _ => return Err(err(self.pos, "expected an operator")),
        };
        self.pos += len;
        Ok(op)
    }

    /// Scans a quoted or unquoted literal.
    fn literal(&mut self) -> Result<(Box<str>, bool), PathError> {
        let start = self.pos;
        if self.peek() == Some(b'"') {
            let body = start + 1;
            let Some(len) = self.bytes[body..].iter().position(|&c| c == b'"') else {
                return Err(err(start, "unterminated string"));
            };
            self.pos = body + len + 1;
            let value = self.unescape(body, body + len);
            return Ok((value, true));
        }
        while self.peek().is_some_and(is_bare) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(match self.peek() {
                None => err(start, "unterminated search expression"),
                Some(_) => err(start, "expected a value"),
            });
        }
        Ok((self.text[start..self.pos].into(), false))
    }

    /// Decodes the body of a quoted literal, `text[start..end]`: `%22` → `"`, `%25` → `%`.
    fn unescape(&mut self, start: usize, end: usize) -> Box<str> {
        let raw = &self.bytes[start..end];
        let Some(first) = raw.iter().position(|&c| c == b'%') else {
            return self.text[start..end].into();
        };
        let mut out = String::with_capacity(raw.len());
        let mut copied = start; // text[start..copied] is already in `out`
        let mut i = start + first;
        while i < end {
            if self.bytes[i] != b'%' {
                i += 1;
                continue;
            }
            let decoded = match (self.bytes.get(i + 1), self.bytes.get(i + 2)) {
                (Some(b'2'), Some(b'2')) if i + 2 < end => Some('"'),
                (Some(b'2'), Some(b'5')) if i + 2 < end => Some('%'),
                _ => None,
            };
            match decoded {
                Some(c) => {
                    out.push_str(&self.text[copied..i]);
                    out.push(c);
                    i += 3;
                    copied = i;
                }
                None => {
                    // Kept as written; printed back as `%25`.
                    self.growth += 2;
                    i += 1;
                }
            }
        }
        out.push_str(&self.text[copied..end]);
        out.into_boxed_str()
    }
}

pub(super) fn write_path(path: &Path, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for segment in &path.segments {
        write_segment(segment, f)?;
        f.write_char('.')?;
    }
    match &path.tail {
        Tail::Object => Ok(()),
        Tail::Param(name) => f.write_str(name),
        Tail::Command(name) => {
            f.write_str(name)?;
            f.write_str("()")
        }
        Tail::Event(name) => {
            f.write_str(name)?;
            f.write_char('!')
        }
    }
}

fn write_segment(segment: &Segment, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match segment {
        Segment::Name(name) => f.write_str(name),
        Segment::Instance(n) => write!(f, "{n}"),
        Segment::Wildcard => f.write_char('*'),
        Segment::Placeholder => f.write_str("{i}"),
        Segment::Follow(reference) => write_reference(reference, f),
        Segment::Search(conditions) => {
            f.write_char('[')?;
            for (i, condition) in conditions.iter().enumerate() {
                if i > 0 {
                    f.write_str("&&")?;
                }
                write_condition(condition, f)?;
            }
            f.write_char(']')
        }
    }
}

fn write_reference(reference: &Reference, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str(&reference.param)?;
    match reference.index {
        RefIndex::Single => f.write_char('+'),
        RefIndex::Nth(n) => write!(f, "#{n}+"),
        RefIndex::All => f.write_str("#*+"),
    }
}

fn write_condition(condition: &Condition, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for step in &condition.param.steps {
        write_segment(step, f)?;
        f.write_char('.')?;
    }
    f.write_str(&condition.param.name)?;
    f.write_str(match condition.op {
        Op::Eq => "==",
        Op::Ne => "!=",
        Op::Contains => "~=",
        Op::Lt => "<",
        Op::Gt => ">",
        Op::Le => "<=",
        Op::Ge => ">=",
    })?;
    if !condition.quoted {
        return f.write_str(&condition.value);
    }
    f.write_char('"')?;
    let value = &condition.value;
    let mut copied = 0;
    for (i, c) in value.bytes().enumerate() {
        let escape = match c {
            b'%' => "%25",
            b'"' => "%22",
            _ => continue,
        };
        f.write_str(&value[copied..i])?;
        f.write_str(escape)?;
        copied = i + 1;
    }
    f.write_str(&value[copied..])?;
    f.write_char('"')
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn name(s: &str) -> Segment {
        Segment::Name(s.into())
    }

    fn names(list: &[&str]) -> Vec<Segment> {
        list.iter().map(|s| name(s)).collect()
    }

    fn follow(param: &str, index: RefIndex) -> Segment {
        Segment::Follow(Reference { param: param.into(), index })
    }

    fn cond(steps: Vec<Segment>, param: &str, op: Op, value: &str, quoted: bool) -> Condition {
        Condition { param: RelParam { steps, name: param.into() }, op, value: value.into(), quoted }
    }

    fn with(mut segments: Vec<Segment>, more: Vec<Segment>) -> Vec<Segment> {
        segments.extend(more);
        segments
    }

    fn param(s: &str) -> Tail {
        Tail::Param(s.into())
    }

    /// Parses, checks that the printed form re-parses to the same AST, returns both.
    fn round_trip(text: &str) -> (Path, String) {
        let parsed = Path::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        let printed = parsed.to_string();
        assert_eq!(Path::parse(&printed), Ok(parsed.clone()), "{text:?} printed as {printed:?}");
        (parsed, printed)
    }

    /// Valid paths, each with its canonical form when that differs from the input.
    const VALID: &[(&str, Option<&str>)] = &[
        ("Device.", None),
        ("Device.LocalAgent.", None),
        ("Device.LocalAgent.EndpointID", None),
        ("Device.LocalAgent.Controller.1.EndpointID", None),
        ("Device.LocalAgent.Controller.4294967295.", None),
        ("Device.IP.Interface.3.", None),
        ("Device.IP.Interface.*.Status", None),
        ("Device.IP.Interface.*.IPv4Address.*.", None),
        ("Device.Reboot()", None),
        ("Device.Boot!", None),
        ("Device.LocalAgent.Controller.1.SendOnBoardRequest()", None),
        ("Device.LocalAgent.TransferComplete!", None),
        ("Device.LocalAgent.Controller.{i}.MTP.{i}.", None),
        ("Device.LocalAgent.Controller.{i}.MTP.{i}.Enable", None),
        ("Device.LocalAgent.Controller.[EndpointID==\"ctrl1\"].Enable", None),
        ("Device.WiFi.SSID.[SSIDReference+.SSID==\"MyHome\"].", None),
        (
            "Device.IP.Interface.[Type==\"Normal\"&&Stats.ErrorsSent>0].IPv4Address.[AddressingType==\"Static\"].IPAddress",
            None,
        ),
        ("Device.LocalAgent.Subscription.[ID==\"a%22b%25c\"].", None),
        ("Device.X.[ Enable == true && Count >= 3 ].", Some("Device.X.[Enable==true&&Count>=3].")),
        ("Device.X.[\tA\t!=\t\"x y\"\t].", Some("Device.X.[A!=\"x y\"].")),
        ("Device.X.[A==1 ].", Some("Device.X.[A==1].")),
        ("Device.NAT.PortMapping.1.Interface+.Name", None),
        ("Device.IP.Interface.1.LowerLayers#*+.", None),
        ("Device.WiFi.SSID.1.LowerLayers#1+.Name", None),
        ("Device.WiFi.SSID.1.LowerLayers#12+.Status", None),
        (
            "Device.WiFi.AccessPoint.[SSIDReference+.SSID==\"MyHome\"].AssociatedDevice.[OperatingStandard==\"ac\"].SignalStrength",
            None,
        ),
        ("Device.DSL.Line.[Enable==true].CurrentProfile", None),
        ("Device.DSL.Line.[Enable==1].CurrentProfile", None),
        ("Device.IP.Interface.*.IPv6Address.[ValidLifetime<2021-06-06T08:00:00Z].IPAddress", None),
        ("Device.USB.USBHosts.Host.*.Device.[DeviceClass==08].", None),
        ("Device.PCP.Client.*.Server.[Capabilities~=\"IPv6Firewall\"].", None),
        ("Device.PeriodicStatistics.SampleSet.[SampleSeconds~=5].", None),
        ("Device.X.[A<-5].", None),
        ("Device.X.[A<=2.5&&B>+3].", None),
        ("Device.X.[A>=0].", None),
        ("Device.X.[Alias==\"\"].", None),
        ("Device.X.[Alias==\"[]&&]\"].", None),
        ("Device.X.[Alias==\"%41%2%\"].", Some("Device.X.[Alias==\"%2541%252%25\"].")),
        ("Device.X.[Alias==\"caf\u{e9} \u{1F600}\"].Name", None),
        ("Device.X.[V==caf\u{e9}].", None),
        ("Device.X.[A.B.C==1&&D#2+.E==2&&F#*+.G+.H==3].", None),
        ("Device.NAT.PortMapping.[RemoteHost==\"\"&&ExternalPort==0&&Protocol==\"TCP\"].", None),
        ("Device.X.1.Ref+.Y.[Z==1].*.W!", None),
        ("_x.y-z._1-2.", None),
        ("Device.X-Vendor_Thing.Enable", None),
        ("Device.X.[A==x,y,z(1)].", None),
        ("Device.DeviceInfo.FirmwareImage.*.Activate()", None),
    ];

    #[test]
    fn valid_paths_parse_and_round_trip() {
        assert!(VALID.len() >= 40);
        for &(text, canonical) in VALID {
            let (_, printed) = round_trip(text);
            assert_eq!(printed, canonical.unwrap_or(text), "canonical form of {text:?}");
        }
    }

    #[test]
    fn valid_paths_have_the_expected_ast() {
        use RefIndex::{All, Nth, Single};
        let dev = |more: &[&str]| with(names(&["Device"]), names(more));
        let cases: Vec<(&str, Path)> = vec![
            ("Device.", Path { segments: dev(&[]), tail: Tail::Object }),
            (
                "Device.LocalAgent.Controller.1.EndpointID",
                Path {
                    segments: with(dev(&["LocalAgent", "Controller"]), vec![Segment::Instance(1)]),
                    tail: param("EndpointID"),
                },
            ),
            (
                "Device.LocalAgent.Controller.4294967295.",
                Path {
                    segments: with(
                        dev(&["LocalAgent", "Controller"]),
                        vec![Segment::Instance(u32::MAX)],
                    ),
                    tail: Tail::Object,
                },
            ),
            ("Device.Reboot()", Path { segments: dev(&[]), tail: Tail::Command("Reboot".into()) }),
            ("Device.Boot!", Path { segments: dev(&[]), tail: Tail::Event("Boot".into()) }),
            (
                "Device.IP.Interface.*.Status",
                Path {
                    segments: with(dev(&["IP", "Interface"]), vec![Segment::Wildcard]),
                    tail: param("Status"),
                },
            ),
            (
                "Device.LocalAgent.Controller.{i}.MTP.{i}.",
                Path {
                    segments: with(
                        dev(&["LocalAgent", "Controller"]),
                        vec![Segment::Placeholder, name("MTP"), Segment::Placeholder],
                    ),
                    tail: Tail::Object,
                },
            ),
            (
                "Device.LocalAgent.Controller.[EndpointID==\"ctrl1\"].Enable",
                Path {
                    segments: with(
                        dev(&["LocalAgent", "Controller"]),
                        vec![Segment::Search(vec![cond(
                            vec![],
                            "EndpointID",
                            Op::Eq,
                            "ctrl1",
                            true,
                        )])],
                    ),
                    tail: param("Enable"),
                },
            ),
            (
                "Device.WiFi.SSID.[SSIDReference+.SSID==\"MyHome\"].",
                Path {
                    segments: with(
                        dev(&["WiFi", "SSID"]),
                        vec![Segment::Search(vec![cond(
                            vec![follow("SSIDReference", Single)],
                            "SSID",
                            Op::Eq,
                            "MyHome",
                            true,
                        )])],
                    ),
                    tail: Tail::Object,
                },
            ),
            (
                "Device.IP.Interface.[Type==\"Normal\"&&Stats.ErrorsSent>0].IPv4Address.[AddressingType==\"Static\"].IPAddress",
                Path {
                    segments: with(
                        dev(&["IP", "Interface"]),
                        vec![
                            Segment::Search(vec![
                                cond(vec![], "Type", Op::Eq, "Normal", true),
                                cond(names(&["Stats"]), "ErrorsSent", Op::Gt, "0", false),
                            ]),
                            name("IPv4Address"),
                            Segment::Search(vec![cond(
                                vec![],
                                "AddressingType",
                                Op::Eq,
                                "Static",
                                true,
                            )]),
                        ],
                    ),
                    tail: param("IPAddress"),
                },
            ),
            (
                "Device.LocalAgent.Subscription.[ID==\"a%22b%25c\"].",
                Path {
                    segments: with(
                        dev(&["LocalAgent", "Subscription"]),
                        vec![Segment::Search(vec![cond(vec![], "ID", Op::Eq, "a\"b%c", true)])],
                    ),
                    tail: Tail::Object,
                },
            ),
            (
                "Device.X.[ Enable == true && Count >= 3 ].",
                Path {
                    segments: with(
                        dev(&["X"]),
                        vec![Segment::Search(vec![
                            cond(vec![], "Enable", Op::Eq, "true", false),
                            cond(vec![], "Count", Op::Ge, "3", false),
                        ])],
                    ),
                    tail: Tail::Object,
                },
            ),
            (
                "Device.X.[A!=1&&B~=2&&C<3&&D>4&&E<=5&&F>=-6].",
                Path {
                    segments: with(
                        dev(&["X"]),
                        vec![Segment::Search(vec![
                            cond(vec![], "A", Op::Ne, "1", false),
                            cond(vec![], "B", Op::Contains, "2", false),
                            cond(vec![], "C", Op::Lt, "3", false),
                            cond(vec![], "D", Op::Gt, "4", false),
                            cond(vec![], "E", Op::Le, "5", false),
                            cond(vec![], "F", Op::Ge, "-6", false),
                        ])],
                    ),
                    tail: Tail::Object,
                },
            ),
            (
                "Device.NAT.PortMapping.1.Interface+.Name",
                Path {
                    segments: with(
                        dev(&["NAT", "PortMapping"]),
                        vec![Segment::Instance(1), follow("Interface", Single)],
                    ),
                    tail: param("Name"),
                },
            ),
            (
                "Device.IP.Interface.1.LowerLayers#*+.",
                Path {
                    segments: with(
                        dev(&["IP", "Interface"]),
                        vec![Segment::Instance(1), follow("LowerLayers", All)],
                    ),
                    tail: Tail::Object,
                },
            ),
            (
                "Device.WiFi.SSID.1.LowerLayers#12+.Status",
                Path {
                    segments: with(
                        dev(&["WiFi", "SSID"]),
                        vec![Segment::Instance(1), follow("LowerLayers", Nth(12))],
                    ),
                    tail: param("Status"),
                },
            ),
            (
                "Device.X.[A.B==1&&D#2+.E==\"\"&&F#*+.G+.H==caf\u{e9}].",
                Path {
                    segments: with(
                        dev(&["X"]),
                        vec![Segment::Search(vec![
                            cond(names(&["A"]), "B", Op::Eq, "1", false),
                            cond(vec![follow("D", Nth(2))], "E", Op::Eq, "", true),
                            cond(
                                vec![follow("F", All), follow("G", Single)],
                                "H",
                                Op::Eq,
                                "caf\u{e9}",
                                false,
                            ),
                        ])],
                    ),
                    tail: Tail::Object,
                },
            ),
            (
                "Device.X.[Alias==\"%41%2%\"].",
                Path {
                    segments: with(
                        dev(&["X"]),
                        vec![Segment::Search(vec![cond(vec![], "Alias", Op::Eq, "%41%2%", true)])],
                    ),
                    tail: Tail::Object,
                },
            ),
        ];
        for (text, expected) in cases {
            let (parsed, _) = round_trip(text);
            assert_eq!(parsed, expected, "{text:?}");
        }
    }

    /// Invalid paths, with the offset of the error where it is worth pinning down.
    const INVALID: &[(&str, Option<usize>)] = &[
        ("", Some(0)),
        (".", Some(0)),
        (".Device.", Some(0)),
        ("Device", Some(6)),
        ("Reboot()", Some(6)),
        ("Boot!", Some(4)),
        ("1.Device.", Some(0)),
        ("*.", Some(0)),
        ("Device..", Some(7)),
        ("Device.X..Y", Some(9)),
        ("Device.IP.Interface.0.", Some(20)),
        ("Device.IP.Interface.01.", Some(20)),
        ("Device.IP.Interface.4294967296.", Some(20)),
        ("Device.IP.Interface.99999999999999999999999.", Some(20)),
        ("Device.IP.Interface.1", Some(21)),
        ("Device.IP.Interface.*", Some(21)),
        ("Device.IP.Interface.{i}", Some(23)),
        ("Device.IP.Interface.[A==1]", Some(26)),
        ("Device.IP.Interface.1.Ref+", Some(26)),
        ("Device.IP.Interface.1a.", Some(21)),
        ("Device.IP.Interface.*x.", Some(21)),
        ("Device.IP.Interface.{j}.", Some(20)),
        ("Device.IP.Interface.{i.", Some(20)),
        ("Device.IP.Interface.{Type==\"Normal\"}.Status", Some(20)),
        ("Device. IP.", Some(7)),
        ("Device.IP .", Some(9)),
        ("Device.IP.\u{e9}.", Some(10)),
        ("Device.caf\u{e9}.", Some(10)),
        ("Device.1X.", Some(8)),
        ("Device.Reboot().", Some(15)),
        ("Device.Reboot(", Some(14)),
        ("Device.Reboot(x)", Some(14)),
        ("Device.Boot!.", Some(12)),
        ("Device.Boot!!", Some(12)),
        ("Device.X$.", Some(8)),
        ("Device.IP.Interface.[].", Some(21)),
        ("Device.IP.Interface.[ ].", Some(22)),
        ("Device.IP.Interface.[A==1&&].", Some(27)),
        ("Device.IP.Interface.[A==1&& ].", Some(28)),
        ("Device.IP.Interface.[A==1||B==2].", Some(25)),
        ("Device.IP.Interface.[A==1&B==2].", Some(25)),
        ("Device.IP.Interface.[A==1 & B==2].", Some(26)),
        ("Device.IP.Interface.[A==].", Some(24)),
        ("Device.IP.Interface.[A== ].", Some(25)),
        ("Device.IP.Interface.[A=1].", Some(22)),
        ("Device.IP.Interface.[A===1].", Some(24)),
        ("Device.IP.Interface.[A1].", Some(23)),
        ("Device.IP.Interface.[==1].", Some(21)),
        ("Device.IP.Interface.[A==\"x].", Some(24)),
        ("Device.IP.Interface.[A==\"x\"y].", Some(27)),
        ("Device.IP.Interface.[A==1", Some(25)),
        ("Device.IP.Interface.[A==1 B==2].", Some(26)),
        ("Device.IP.Interface.[A.==1].", Some(23)),
        ("Device.IP.Interface.[A.*.B==1].", Some(23)),
        (
            "Device.IP.Interface.[Type==\"Normal\"&&IPv4Address.*.AddressingType==\"Static\"].Status",
            Some(49),
        ),
        ("Device.IP.Interface.[A+==1].", Some(23)),
        ("Device.IP.Interface.[A . B==1].", Some(23)),
        ("Device.IP.Interface.[A==1]x.", Some(26)),
        ("Device.IP.Interface.[A==1]]", Some(26)),
        ("Device.X.Ref#0+.", Some(13)),
        ("Device.X.Ref#01+.", Some(13)),
        ("Device.X.Ref#+.", Some(13)),
        ("Device.X.Ref#1.", Some(14)),
        ("Device.X.Ref#*.", Some(14)),
        ("Device.X.Ref++.", Some(13)),
        ("Device.X.Ref+Y.", Some(13)),
        ("Device.X.[R#0+.A==1].", Some(12)),
        ("Device.X.[A==1\u{e9}\"].", Some(16)),
        ("Device.X.[A==\n1].", Some(13)),
        ("Device.X\n", Some(8)),
        ("Device.X.Y ", Some(10)),
    ];

    #[test]
    fn invalid_paths_are_rejected_at_the_right_offset() {
        assert!(INVALID.len() >= 40);
        for &(text, at) in INVALID {
            let error = match Path::parse(text) {
                Ok(p) => panic!("{text:?} parsed as {p:?}"),
                Err(e) => e,
            };
            if let Some(at) = at {
                assert_eq!(error.at, at, "{text:?}: {error}");
            }
            assert!(text.is_char_boundary(error.at), "{text:?}: {error}");
        }
    }

    #[test]
    fn error_reasons() {
        let reason = |text: &str| Path::parse(text).map(|_| ()).unwrap_err().reason;
        assert_eq!(reason("Device.X.0."), "instance number 0 is not allowed");
        assert_eq!(reason("Device.X.[A==\"x]."), "unterminated string");
        assert_eq!(reason("Device.X.[]."), "empty search expression");
        assert_eq!(reason("Device.X.[A==1||B==1]."), "'||' is not supported");
        assert_eq!(reason("Device.X.1"), "an object path must end with '.'");
        assert_eq!(reason("Device..X"), "empty segment");
        assert_eq!(reason("Device.X.Ref#0+."), "list index 0 is not allowed");
        assert_eq!(reason("Device.X.4294967296."), "number too large");
        assert_eq!(reason(""), "empty path");
    }

    #[test]
    fn length_limit() {
        // Long names: the depth stays within limits::MAX_SEGMENTS.
        let mut text = String::from("Device.");
        let segment = format!("{}.", "A".repeat(99));
        while text.len() + segment.len() + 1 < MAX_LEN {
            text.push_str(&segment);
        }
        while text.len() < MAX_LEN {
            text.push('B');
        }
        assert_eq!(text.len(), MAX_LEN);
        round_trip(&text);
        text.push('.');
        assert_eq!(Path::parse(&text).map(|_| ()).unwrap_err().reason, "path too long");

        // The limit falls inside a multi-byte character: the offset stays on a boundary.
        let long = format!("Device.X.[A==\"{}\"].", "\u{e9}".repeat(MAX_LEN));
        let error = Path::parse(&long).unwrap_err();
        assert!(long.is_char_boundary(error.at));

        // A stray '%' prints as "%25": refuse a path whose printed form would be too long.
        let head = "Device.X.[A==\"";
        let tail = "\"].";
        let filler = MAX_LEN - head.len() - tail.len() - 1;
        let fits = format!("{head}%{}{tail}", "a".repeat(filler - 2));
        round_trip(&fits);
        let too_long = format!("{head}%{}{tail}", "a".repeat(filler));
        assert_eq!(too_long.len(), MAX_LEN);
        assert_eq!(Path::parse(&too_long).unwrap_err().reason, "path too long");
    }

    #[test]
    fn is_search() {
        assert!(!Path::parse("Device.X.1.Y").unwrap().is_search());
        assert!(!Path::parse("Device.X.{i}.Y").unwrap().is_search());
        assert!(Path::parse("Device.X.*.Y").unwrap().is_search());
        assert!(Path::parse("Device.X.[A==1].Y").unwrap().is_search());
        assert!(Path::parse("Device.X.Ref+.Y").unwrap().is_search());
    }

    /// Random strings over the path alphabet: never a panic, every success re-parses identically.
    #[test]
    fn random_inputs_never_panic_and_round_trip() {
        const PIECES: &[&str] = &[
            "Device.", ".", "0", "1", "9", "[", "]", "\"", "&", "&&", "=", "==", "!", "<", ">",
            "~", "*", "+", "#", "{", "}", "{i}", "(", ")", "i", "A", "_", "-", " ", "%", "%22",
            "%25", "\u{e9}", "X", "Name", "\t",
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut ok = 0;
        let mut text = String::new();
        for _ in 0..50_000 {
            text.clear();
            let len = next() % 24;
            if next() % 2 == 0 {
                text.push_str("Device.X.");
            }
            for _ in 0..len {
                text.push_str(PIECES[(next() % PIECES.len() as u64) as usize]);
            }
            match Path::parse(&text) {
                Ok(parsed) => {
                    ok += 1;
                    let printed = parsed.to_string();
                    assert_eq!(Path::parse(&printed), Ok(parsed), "{text:?} -> {printed:?}");
                }
                Err(e) => {
                    assert!(e.at <= text.len(), "{text:?}: {e}");
                    assert!(text.is_char_boundary(e.at), "{text:?}: {e}");
                }
            }
        }
        assert!(ok > 100, "only {ok} random paths were valid");
    }
}
