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
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        growth: 0,
    };
    let path = parser.path()?;
    if text.len() + parser.growth > MAX_LEN {
        return Err(err(text.len(), "path too long"));
    }
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
        || matches!(
            c,
            b' ' | b'&' | b'|' | b'[' | b']' | b'"' | b'=' | b'!' | b'<' | b'>' | b'~'
        ))
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
            match value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u32::from(c - b'0')))
            {
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
        Ok(Reference {
            param: param.into(),
            index,
        })
    }

    fn path(&mut self) -> Result<Path, PathError> {
        let mut segments = Vec::with_capacity(SEGMENTS_HINT);
        loop {
            let start = self.pos;
            let segment = match self.peek() {
                None => {
                    // Only reached after a '.', and never at offset 0 (empty input is refused).
                    return Ok(Path {
                        segments,
                        tail: Tail::Object,
                    });
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
                            return Ok(Path {
                                segments,
                                tail: Tail::Param(name.into()),
                            });
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
                            return Ok(Path {
                                segments,
                                tail: Tail::Command(name.into()),
                            });
                        }
                        Some(b'!') => {
                            self.pos += 1;
                            if self.pos != self.bytes.len() {
                                return Err(err(self.pos, "an event must end the path"));
                            }
                            return Ok(Path {
                                segments,
                                tail: Tail::Event(name.into()),
                            });
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
            conditions.push(Condition {
                param,
                op,
                value,
                quoted,
            });
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
                    return Ok(RelParam {
                        steps,
                        name: name.into(),
                    });
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
