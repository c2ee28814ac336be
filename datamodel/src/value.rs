//! TR-106 typed values: the ten parameter types, their text form on the wire, comparison for
//! search expressions, and value constraints (enumerations, ranges, lengths, lists).
//!
//! USP carries every value as a string. A string becomes a [`Value`] exactly once, at the edge,
//! through [`ParamType::parse`]; inside the agent values are typed.
//!
//! # Accepted wire forms
//!
//! Where TR-106 (and the XML Schema types it builds on) leaves room, this module decides:
//!
//! - `boolean`: exactly `true`, `false`, `1`, `0` (case-sensitive); always written
//!   `true`/`false`.
//! - integers: `-?[0-9]+`, the `-` only for `int` and `long` (so `-0` is not an `unsignedInt`);
//!   no `+`, no whitespace; leading zeros are accepted (`007` is 7). Out of range is a type
//!   error.
//! - `decimal`: `-?([0-9]+(\.[0-9]*)?|\.[0-9]+)`, i.e. the XML Schema decimal form without a
//!   leading `+` (consistent with the integers): `.5`, `5.` and `-0` are accepted; exponents,
//!   `NaN` and infinities are not. Stored as `f64`; a text too large for `f64` is a type error.
//!   Written in the shortest text that parses back to the same `f64`, never with an exponent,
//!   integral values without a fraction (`2.50` → `2.5`, `2.0` → `2`, `-0` → `0`).
//! - `dateTime`: `YYYY-MM-DDThh:mm:ss[.f{1,6}][Z|±hh:mm]`, upper-case `T`/`Z`, a real calendar
//!   date in years 0001-9999, hours 0-23 (`24:00:00` rejected), minutes and seconds 0-59 (no
//!   leap second). An offset is converted to UTC and the result must still lie within
//!   0001-01-01T00:00:00Z..=9999-12-31T23:59:59.999999Z. A text **without zone designator is
//!   taken as UTC**. Written as `YYYY-MM-DDThh:mm:ssZ` with `.f` (trailing zeros trimmed) only
//!   when the microseconds are not zero.
//! - `base64`: standard alphabet, `=` padding, length a multiple of 4, no whitespace, empty
//!   allowed. Stored canonically: re-encoded from the decoded bytes, so unused low bits of the
//!   last character are cleared (`QR==` is stored as `QQ==`).
//! - `hexBinary`: an even number of hex digits in either case, empty allowed; **stored
//!   lower-case** so that equal bytes have equal text.
//! - `string`: any text.

use std::cmp::Ordering;
use std::fmt;

/// The TR-106 data type of a parameter, command argument or event argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParamType {
    /// Unicode text.
    String,
    /// `true`/`false` (also accepts `1`/`0` when parsing).
    Boolean,
    /// 32-bit signed integer.
    Int,
    /// 32-bit unsigned integer.
    UnsignedInt,
    /// 64-bit signed integer.
    Long,
    /// 64-bit unsigned integer.
    UnsignedLong,
    /// Decimal number (`-12.5`).
    Decimal,
    /// ISO 8601 date and time in UTC (`2024-05-01T12:00:00Z`); `0001-01-01T00:00:00Z` is "unknown".
    DateTime,
    /// Base64-encoded binary.
    Base64,
    /// Hex-encoded binary.
    HexBinary,
}

/// A point in time with microsecond resolution, as seconds since the Unix epoch (negative for
/// years before 1970, down to year 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    /// Whole seconds since 1970-01-01T00:00:00Z.
    pub secs: i64,
    /// Microseconds within the second, 0..1_000_000.
    pub micros: u32,
}

/// A typed value of one of the [`ParamType`]s. Base64 and HexBinary keep their validated text.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A `string` value.
    String(Box<str>),
    /// A `boolean` value.
    Boolean(bool),
    /// An `int` value.
    Int(i32),
    /// An `unsignedInt` value.
    UnsignedInt(u32),
    /// A `long` value.
    Long(i64),
    /// An `unsignedLong` value.
    UnsignedLong(u64),
    /// A `decimal` value.
    Decimal(f64),
    /// A `dateTime` value.
    DateTime(DateTime),
    /// A `base64` value (validated, canonical text).
    Base64(Box<str>),
    /// A `hexBinary` value (validated text).
    HexBinary(Box<str>),
}

/// Why a string is not a valid value of a type or does not meet a constraint. Maps to USP 7011
/// (wrong type) or 7012 (constraint violated) through [`ValueError::is_type_error`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueError {
    /// The text is not a value of the type at all.
    WrongType {
        /// The expected type.
        expected: ParamType,
        /// The offending text.
        text: String,
    },
    /// The value is of the right type but outside what the constraints allow.
    Constraint(String),
}

impl ValueError {
    /// True when the text was not a value of the type (USP 7011), false for a constraint
    /// violation (USP 7012).
    pub fn is_type_error(&self) -> bool {
        matches!(self, ValueError::WrongType { .. })
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueError::WrongType { expected, text } => {
                write!(f, "'{text}' is not a valid {}", expected.name())
            }
            ValueError::Constraint(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for ValueError {}

/// Constraints on the values a parameter or argument accepts. All fields are optional; the
/// default accepts every value of the type.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Constraints {
    /// Allowed values (for strings; for lists, every item must be one of these).
    pub enumeration: Option<&'static [&'static str]>,
    /// Inclusive numeric range for the integer types and decimal (applies to each list item).
    pub range: Option<(i128, i128)>,
    /// Maximum length in characters of a string (of each item for lists), or bytes of binary.
    pub max_len: Option<u32>,
    /// The value is a comma-separated list of items of the type (TR-106 list).
    pub list: Option<ListConstraint>,
}

/// TR-106 list constraints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListConstraint {
    /// Maximum number of items, if any.
    pub max_items: Option<u32>,
    /// Maximum length of the whole list text, if any.
    pub max_len: Option<u32>,
}

impl ParamType {
    /// Every type, in declaration order.
    pub const ALL: [ParamType; 10] = [
        ParamType::String,
        ParamType::Boolean,
        ParamType::Int,
        ParamType::UnsignedInt,
        ParamType::Long,
        ParamType::UnsignedLong,
        ParamType::Decimal,
        ParamType::DateTime,
        ParamType::Base64,
        ParamType::HexBinary,
    ];

    /// The TR-106 name of the type (`"unsignedInt"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Boolean => "boolean",
            ParamType::Int => "int",
            ParamType::UnsignedInt => "unsignedInt",
            ParamType::Long => "long",
            ParamType::UnsignedLong => "unsignedLong",
            ParamType::Decimal => "decimal",
            ParamType::DateTime => "dateTime",
            ParamType::Base64 => "base64",
            ParamType::HexBinary => "hexBinary",
        }
    }

    /// The type with the TR-106 name `name` (exact, case-sensitive), if any.
    pub fn from_name(name: &str) -> Option<ParamType> {
        ParamType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Parses the wire text of a value of this type (no constraints checked).
    ///
    /// See the module documentation for the accepted forms. Every failure is
    /// [`ValueError::WrongType`].
    pub fn parse(self, text: &str) -> Result<Value, ValueError> {
        let value = match self {
            ParamType::String => Some(Value::String(text.into())),
            ParamType::Boolean => match text {
                "true" | "1" => Some(Value::Boolean(true)),
                "false" | "0" => Some(Value::Boolean(false)),
                _ => None,
            },
            ParamType::Int => integer_text(text, true).and_then(|t| t.parse().ok()).map(Value::Int),
            ParamType::UnsignedInt => {
                integer_text(text, false).and_then(|t| t.parse().ok()).map(Value::UnsignedInt)
            }
            ParamType::Long => {
                integer_text(text, true).and_then(|t| t.parse().ok()).map(Value::Long)
            }
            ParamType::UnsignedLong => {
                integer_text(text, false).and_then(|t| t.parse().ok()).map(Value::UnsignedLong)
            }
            ParamType::Decimal => parse_decimal(text).map(Value::Decimal),
            ParamType::DateTime => DateTime::parse(text).map(Value::DateTime),
            ParamType::Base64 => usp_util::base64::decode(text)
                .map(|bytes| Value::Base64(usp_util::base64::encode(&bytes).into_boxed_str())),
            ParamType::HexBinary => {
                hex_len(text).map(|_| Value::HexBinary(text.to_ascii_lowercase().into_boxed_str()))
            }
        };
        value.ok_or_else(|| ValueError::WrongType { expected: self, text: text.to_owned() })
    }

    /// The value a parameter of this type has when nothing set it ("", false, 0,
    /// 0001-01-01T00:00:00Z).
    pub fn zero(self) -> Value {
        match self {
            ParamType::String => Value::String("".into()),
            ParamType::Boolean => Value::Boolean(false),
            ParamType::Int => Value::Int(0),
            ParamType::UnsignedInt => Value::UnsignedInt(0),
            ParamType::Long => Value::Long(0),
            ParamType::UnsignedLong => Value::UnsignedLong(0),
            ParamType::Decimal => Value::Decimal(0.0),
            ParamType::DateTime => Value::DateTime(DateTime::UNKNOWN),
            ParamType::Base64 => Value::Base64("".into()),
            ParamType::HexBinary => Value::HexBinary("".into()),
        }
    }
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `text` when it is `-?[0-9]+` (the `-` only when `signed`), else `None`.
fn integer_text(text: &str, signed: bool) -> Option<&str> {
    let digits = match text.strip_prefix('-') {
        Some(rest) if signed => rest,
        Some(_) => return None,
        None => text,
    };
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(text)
}

/// Parses `-?([0-9]+(\.[0-9]*)?|\.[0-9]+)` into a finite `f64` (negative zero becomes zero).
fn parse_decimal(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = match unsigned.split_once('.') {
        Some((int, frac)) => (int, frac),
        None => (unsigned, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.len() + frac.len() == 0 || !all_digits(int) || !all_digits(frac) {
        return None;
    }
    let v: f64 = text.parse().ok()?;
    // `+ 0.0` turns -0.0 into 0.0.
    v.is_finite().then_some(v + 0.0)
}

/// The number of bytes `text` encodes as hexBinary (an even number of hex digits), if valid.
fn hex_len(text: &str) -> Option<usize> {
    (text.len() % 2 == 0 && text.bytes().all(|b| b.is_ascii_hexdigit())).then_some(text.len() / 2)
}

/// The number of bytes a (valid, padded) base64 text decodes to.
fn base64_len(text: &str) -> usize {
    let pad = text.bytes().rev().take_while(|&b| b == b'=').count();
    (text.len() / 4 * 3).saturating_sub(pad)
}

const SECS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 of the proleptic Gregorian date `y-m-d` (Howard Hinnant's
/// `days_from_civil`). `m` is 1..=12, `d` 1..=31.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400); // [0, 399]
    let mp = i64::from(if m > 2 { m - 3 } else { m + 9 }); // March = 0
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian `(year, month, day)` of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let y = yoe + era * 400 + i64::from(m <= 2);
    // mp and d are small and non-negative, so the conversions cannot fail.
    (y, u32::try_from(m).unwrap_or(1), u32::try_from(d).unwrap_or(1))
}

fn is_leap_year(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// The value of a run of ASCII digits, or `None` if `bytes` is empty or has a non-digit.
fn digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || bytes.len() > 9 {
        return None;
    }
    bytes
        .iter()
        .try_fold(0u32, |acc, &b| b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0')))
}

impl DateTime {
    /// `0001-01-01T00:00:00Z`, the TR-106 "unknown time" and the zero value of `dateTime`.
    pub const UNKNOWN: DateTime = DateTime { secs: -62_135_596_800, micros: 0 };

    /// The latest representable TR-106 time, `9999-12-31T23:59:59.999999Z`.
    pub const MAX: DateTime = DateTime { secs: 253_402_300_799, micros: 999_999 };

    /// The time `secs` seconds after 1970-01-01T00:00:00Z.
    pub fn from_unix(secs: i64) -> DateTime {
        DateTime { secs, micros: 0 }
    }

    /// True for [`DateTime::UNKNOWN`].
    pub fn is_unknown(&self) -> bool {
        *self == DateTime::UNKNOWN
    }

    /// Parses `YYYY-MM-DDThh:mm:ss[.f{1,6}][Z|±hh:mm]`, converting an offset to UTC. A text
    /// without zone designator is taken as UTC. The date must be a real calendar date, hours
    /// 0-23, minutes and seconds 0-59, and the result (after the offset) between
    /// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z.
    pub fn parse(text: &str) -> Option<DateTime> {
        let b = text.as_bytes();
        if b.len() < 19
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b'T'
            || b[13] != b':'
            || b[16] != b':'
        {
            return None;
        }
        let year = i64::from(digits(&b[0..4])?);
        let month = digits(&b[5..7])?;
        let day = digits(&b[8..10])?;
        let hour = i64::from(digits(&b[11..13])?);
        let minute = i64::from(digits(&b[14..16])?);
        let second = i64::from(digits(&b[17..19])?);
        if year < 1
            || !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 59
        {
            return None;
        }
        let mut rest = &b[19..];
        let mut micros = 0;
        if let Some(after_dot) = rest.strip_prefix(b".") {
            let n = after_dot.iter().take_while(|b| b.is_ascii_digit()).count();
            if n == 0 || n > 6 {
                return None;
            }
            // Pad to six digits: ".5" is 500000 µs.
            micros = digits(&after_dot[..n])? * 10u32.pow(6 - n as u32);
            rest = &after_dot[n..];
        }
        let offset = match rest {
            b"" | b"Z" => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let oh = i64::from(digits(&[*h1, *h2])?);
                let om = i64::from(digits(&[*m1, *m2])?);
                if oh > 23 || om > 59 {
                    return None;
                }
                let off = oh * 3600 + om * 60;
                if *sign == b'-' { -off } else { off }
            }
            _ => return None,
        };
        let local =
            days_from_civil(year, month, day) * SECS_PER_DAY + hour * 3600 + minute * 60 + second;
        let dt = DateTime { secs: local - offset, micros };
        (DateTime::UNKNOWN..=DateTime::MAX).contains(&dt).then_some(dt)
    }
}

/// `YYYY-MM-DDThh:mm:ss[.ffffff]Z`; the fraction appears only when `micros` is not zero and has
/// its trailing zeros trimmed.
impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.secs.div_euclid(SECS_PER_DAY);
        let tod = self.secs.rem_euclid(SECS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        write!(f, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", tod / 3600, tod / 60 % 60, tod % 60)?;
        if self.micros != 0 {
            let frac = format!("{:06}", self.micros);
            write!(f, ".{}", frac.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}

impl Value {
    /// The type of this value.
    pub fn param_type(&self) -> ParamType {
        match self {
            Value::String(_) => ParamType::String,
            Value::Boolean(_) => ParamType::Boolean,
            Value::Int(_) => ParamType::Int,
            Value::UnsignedInt(_) => ParamType::UnsignedInt,
            Value::Long(_) => ParamType::Long,
            Value::UnsignedLong(_) => ParamType::UnsignedLong,
            Value::Decimal(_) => ParamType::Decimal,
            Value::DateTime(_) => ParamType::DateTime,
            Value::Base64(_) => ParamType::Base64,
            Value::HexBinary(_) => ParamType::HexBinary,
        }
    }

    /// Compares two values of the same type for search expressions (`<`, `>` ...). `None` when
    /// the types differ or the type has no order (string, boolean, base64, hexBinary), and for
    /// a NaN decimal.
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
            (Value::UnsignedInt(a), Value::UnsignedInt(b)) => Some(a.cmp(b)),
            (Value::Long(a), Value::Long(b)) => Some(a.cmp(b)),
            (Value::UnsignedLong(a), Value::UnsignedLong(b)) => Some(a.cmp(b)),
            (Value::Decimal(a), Value::Decimal(b)) => a.partial_cmp(b),
            (Value::DateTime(a), Value::DateTime(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    /// The `==` of search expressions: true when both values have the same type and are equal
    /// (decimals numerically, so `0` equals `-0`; a NaN equals nothing). Values of different
    /// types are never equal.
    pub fn loose_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Decimal(a), Value::Decimal(b)) => a == b,
            _ => self == other,
        }
    }

    /// The text of a `string`, `base64` or `hexBinary` value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) | Value::Base64(s) | Value::HexBinary(s) => Some(s),
            _ => None,
        }
    }

    /// The value's text (as [`Display`](fmt::Display) writes it), moving the text of a
    /// `string`, `base64` or `hexBinary` value instead of copying it.
    pub fn into_text(self) -> String {
        match self {
            Value::String(s) | Value::Base64(s) | Value::HexBinary(s) => s.into_string(),
            Value::Boolean(b) => (if b { "true" } else { "false" }).to_owned(),
            other => other.to_string(),
        }
    }

    /// The value of a `boolean`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// The value of any integer type when it is not negative.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::Int(v) => u64::try_from(v).ok(),
            Value::UnsignedInt(v) => Some(u64::from(v)),
            Value::Long(v) => u64::try_from(v).ok(),
            Value::UnsignedLong(v) => Some(v),
            _ => None,
        }
    }

    /// The value of any integer type when it fits an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int(v) => Some(i64::from(v)),
            Value::UnsignedInt(v) => Some(i64::from(v)),
            Value::Long(v) => Some(v),
            Value::UnsignedLong(v) => i64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value of any integer type as an `i128` (always exact).
    fn as_i128(&self) -> Option<i128> {
        match *self {
            Value::Int(v) => Some(i128::from(v)),
            Value::UnsignedInt(v) => Some(i128::from(v)),
            Value::Long(v) => Some(i128::from(v)),
            Value::UnsignedLong(v) => Some(i128::from(v)),
            _ => None,
        }
    }
}

/// The canonical wire text of a value (`true`, `42`, `2024-05-01T12:00:00Z`, ...).
///
/// Decimals are written in the shortest form that parses back to the same `f64`, never in
/// exponent notation, and without a fractional part when integral (`2.0` → `2`, `-0.0` → `0`).
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::String(s) | Value::Base64(s) | Value::HexBinary(s) => f.write_str(s),
            Value::Boolean(b) => f.write_str(if *b { "true" } else { "false" }),
            Value::Int(v) => write!(f, "{v}"),
            Value::UnsignedInt(v) => write!(f, "{v}"),
            Value::Long(v) => write!(f, "{v}"),
            Value::UnsignedLong(v) => write!(f, "{v}"),
            // `+ 0.0` writes -0.0 as "0"; Rust's `Display` for f64 is shortest-round-trip and
            // never uses an exponent.
            Value::Decimal(v) => write!(f, "{}", v + 0.0),
            Value::DateTime(dt) => write!(f, "{dt}"),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.into())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s.into_boxed_str())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Boolean(b)
    }
}

impl From<i32> for Value {
    fn from(v: i32) -> Value {
        Value::Int(v)
    }
}

impl From<u32> for Value {
    fn from(v: u32) -> Value {
        Value::UnsignedInt(v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Long(v)
    }
}

impl From<u64> for Value {
    fn from(v: u64) -> Value {
        Value::UnsignedLong(v)
    }
}

impl From<DateTime> for Value {
    fn from(dt: DateTime) -> Value {
        Value::DateTime(dt)
    }
}

/// The items of a TR-106 comma-separated list, with the whitespace around each item trimmed. A
/// blank text is the empty list; otherwise empty items (`a,,b`) are kept as `""`.
pub fn list_items(text: &str) -> impl Iterator<Item = &str> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.split(',').map(str::trim)).into_iter().flatten()
}

impl Constraints {
    /// Parses `text` as a value of type `ty` under these constraints: for a list, every item is
    /// parsed and checked and the whole list is returned as a `Value::String` of the normalised
    /// items joined by `,`.
    ///
    /// Checks, in order: for a list, `max_items`; then each item (or the single value) is
    /// parsed ([`ValueError::WrongType`] naming the offending item text) and checked against
    /// `enumeration` (exact match on the canonical text), `range` (integer types and decimal)
    /// and `max_len` (characters of a string, decoded bytes of base64/hexBinary; ignored for
    /// other types); finally the list `max_len` applies to the normalised list text. Constraint
    /// failures in a list name the 1-based item number.
    pub fn parse(&self, ty: ParamType, text: &str) -> Result<Value, ValueError> {
        let Some(list) = self.list else {
            return self.parse_one(ty, text);
        };
        let count = list_items(text).count();
        if let Some(max) = list.max_items {
            if count > max as usize {
                return Err(ValueError::Constraint(format!(
                    "list has {count} items, more than the maximum of {max}"
                )));
            }
        }
        let mut joined = String::with_capacity(text.len());
        for (i, item) in list_items(text).enumerate() {
            let value = self.parse_one(ty, item).map_err(|e| match e {
                ValueError::Constraint(why) => {
                    ValueError::Constraint(format!("item {} ('{item}'): {why}", i + 1))
                }
                wrong_type => wrong_type,
            })?;
            if i > 0 {
                joined.push(',');
            }
            joined.push_str(&value.to_string());
        }
        if let Some(max) = list.max_len {
            let len = joined.chars().count();
            if len > max as usize {
                return Err(ValueError::Constraint(format!(
                    "list of {len} characters longer than {max} characters"
                )));
            }
        }
        Ok(Value::String(joined.into_boxed_str()))
    }

    /// Parses and checks one value (or list item).
    fn parse_one(&self, ty: ParamType, text: &str) -> Result<Value, ValueError> {
        let value = ty.parse(text)?;
        if let Some(allowed) = self.enumeration {
            let canonical = value.to_string();
            if !allowed.contains(&canonical.as_str()) {
                return Err(ValueError::Constraint(format!(
                    "'{canonical}' is not one of: {}",
                    allowed.join(", ")
                )));
            }
        }
        if let Some((min, max)) = self.range {
            check_range(&value, min, max)?;
        }
        if let Some(max) = self.max_len {
            let (len, unit) = match &value {
                Value::String(s) => (s.chars().count(), "characters"),
                Value::Base64(s) => (base64_len(s), "bytes"),
                Value::HexBinary(s) => (s.len() / 2, "bytes"),
                _ => (0, ""),
            };
            if len > max as usize {
                return Err(ValueError::Constraint(format!("longer than {max} {unit}")));
            }
        }
        Ok(value)
    }
}

/// Checks an integer or decimal value against an inclusive range; other types pass.
fn check_range(value: &Value, min: i128, max: i128) -> Result<(), ValueError> {
    let (below, above) = if let Some(v) = value.as_i128() {
        (v < min, v > max)
    } else if let Value::Decimal(v) = *value {
        // i128 → f64 rounds only beyond 2^53, far outside any practical decimal range.
        (v < min as f64, v > max as f64)
    } else {
        return Ok(());
    };
    if below {
        Err(ValueError::Constraint(format!("value {value} below minimum {min}")))
    } else if above {
        Err(ValueError::Constraint(format!("value {value} above maximum {max}")))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(ty: ParamType, text: &str) -> Value {
        match ty.parse(text) {
            Ok(v) => v,
            Err(e) => panic!("{} {text:?} should parse: {e}", ty.name()),
        }
    }

    fn assert_valid(ty: ParamType, cases: &[(&str, Value)]) {
        for (text, want) in cases {
            let got = ok(ty, text);
            assert_eq!(&got, want, "{} {text:?}", ty.name());
            assert_eq!(got.param_type(), ty);
            // Display round-trips through parse.
            let shown = got.to_string();
            assert_eq!(ty.parse(&shown).as_ref(), Ok(&got), "round trip of {shown:?}");
        }
    }

    fn assert_invalid(ty: ParamType, cases: &[&str]) {
        for text in cases {
            match ty.parse(text) {
                Err(e) => {
                    assert!(e.is_type_error(), "{text:?}: {e}");
                    assert_eq!(e, ValueError::WrongType { expected: ty, text: (*text).to_owned() });
                }
                Ok(v) => panic!("{} {text:?} should not parse, got {v:?}", ty.name()),
            }
        }
    }

    fn dt(text: &str) -> DateTime {
        match DateTime::parse(text) {
            Some(d) => d,
            None => panic!("{text:?} should parse"),
        }
    }

    #[test]
    fn names_round_trip() {
        for ty in ParamType::ALL {
            assert_eq!(ParamType::from_name(ty.name()), Some(ty));
            assert_eq!(ty.to_string(), ty.name());
        }
        assert_eq!(ParamType::UnsignedInt.name(), "unsignedInt");
        assert_eq!(ParamType::from_name("hexBinary"), Some(ParamType::HexBinary));
        assert_eq!(ParamType::from_name("unsignedint"), None);
        assert_eq!(ParamType::from_name(""), None);
        assert_eq!(ParamType::from_name("list"), None);
    }

    #[test]
    fn into_text_is_the_display_text() {
        let values = [
            Value::String("a b".into()),
            Value::Boolean(true),
            Value::Boolean(false),
            Value::Int(-3),
            Value::UnsignedInt(7),
            Value::Long(-1 << 40),
            Value::UnsignedLong(u64::MAX),
            Value::Decimal(1.5),
            DateTime::from_unix(1_700_000_000).into(),
            Value::Base64("QUJD".into()),
            Value::HexBinary("0aff".into()),
        ];
        for v in values {
            assert_eq!(v.clone().into_text(), v.to_string(), "{v:?}");
        }
    }

    #[test]
    fn zero_values() {
        assert_eq!(ParamType::String.zero(), Value::String("".into()));
        assert_eq!(ParamType::Boolean.zero(), Value::Boolean(false));
        assert_eq!(ParamType::Int.zero(), Value::Int(0));
        assert_eq!(ParamType::UnsignedInt.zero(), Value::UnsignedInt(0));
        assert_eq!(ParamType::Long.zero(), Value::Long(0));
        assert_eq!(ParamType::UnsignedLong.zero(), Value::UnsignedLong(0));
        assert_eq!(ParamType::Decimal.zero(), Value::Decimal(0.0));
        assert_eq!(ParamType::DateTime.zero().to_string(), "0001-01-01T00:00:00Z");
        assert_eq!(ParamType::Base64.zero(), Value::Base64("".into()));
        assert_eq!(ParamType::HexBinary.zero(), Value::HexBinary("".into()));
        for ty in ParamType::ALL {
            let z = ty.zero();
            assert_eq!(z.param_type(), ty);
            assert_eq!(ty.parse(&z.to_string()), Ok(z));
        }
    }

    #[test]
    fn string_accepts_anything() {
        for text in ["", " ", "a,b", "ünïcödé", "true", "\n"] {
            assert_eq!(ok(ParamType::String, text), Value::String(text.into()));
            assert_eq!(ok(ParamType::String, text).to_string(), text);
        }
    }

    #[test]
    fn boolean() {
        use Value::Boolean as B;
        assert_valid(
            ParamType::Boolean,
            &[("true", B(true)), ("false", B(false)), ("1", B(true)), ("0", B(false))],
        );
        assert_eq!(ok(ParamType::Boolean, "1").to_string(), "true");
        assert_eq!(ok(ParamType::Boolean, "0").to_string(), "false");
        assert_invalid(
            ParamType::Boolean,
            &["", "True", "FALSE", "yes", "2", "01", " true", "true ", "t", "-1"],
        );
    }

    #[test]
    fn int() {
        use Value::Int as I;
        assert_valid(
            ParamType::Int,
            &[
                ("0", I(0)),
                ("-0", I(0)),
                ("42", I(42)),
                ("-42", I(-42)),
                ("007", I(7)),
                ("2147483647", I(i32::MAX)),
                ("-2147483648", I(i32::MIN)),
                ("-1", I(-1)),
            ],
        );
        assert_eq!(ok(ParamType::Int, "007").to_string(), "7");
        assert_invalid(
            ParamType::Int,
            &[
                "",
                "-",
                "+1",
                " 1",
                "1 ",
                "1.0",
                "1e3",
                "0x10",
                "2147483648",
                "-2147483649",
                "--1",
                "1-",
                "١",
                "99999999999999999999999",
            ],
        );
    }

    #[test]
    fn unsigned_int() {
        use Value::UnsignedInt as U;
        assert_valid(
            ParamType::UnsignedInt,
            &[
                ("0", U(0)),
                ("1", U(1)),
                ("65535", U(65535)),
                ("4294967295", U(u32::MAX)),
                ("0004294967295", U(u32::MAX)),
                ("100", U(100)),
                ("2147483648", U(2_147_483_648)),
                ("9", U(9)),
            ],
        );
        assert_invalid(
            ParamType::UnsignedInt,
            &["", "-0", "-1", "+1", "4294967296", "1.5", " 7", "7 ", "abc", "1,2"],
        );
    }

    #[test]
    fn long() {
        use Value::Long as L;
        assert_valid(
            ParamType::Long,
            &[
                ("0", L(0)),
                ("-0", L(0)),
                ("9223372036854775807", L(i64::MAX)),
                ("-9223372036854775808", L(i64::MIN)),
                ("4294967296", L(4_294_967_296)),
                ("-4294967296", L(-4_294_967_296)),
                ("12", L(12)),
                ("-12", L(-12)),
            ],
        );
        assert_invalid(
            ParamType::Long,
            &[
                "",
                "-",
                "+0",
                "9223372036854775808",
                "-9223372036854775809",
                "1.0",
                "1_000",
                " ",
                "1e10",
            ],
        );
    }

    #[test]
    fn unsigned_long() {
        use Value::UnsignedLong as UL;
        assert_valid(
            ParamType::UnsignedLong,
            &[
                ("0", UL(0)),
                ("18446744073709551615", UL(u64::MAX)),
                ("18446744073709551614", UL(u64::MAX - 1)),
                ("9223372036854775808", UL(1 << 63)),
                ("1", UL(1)),
                ("00", UL(0)),
                ("123456789", UL(123_456_789)),
                ("4294967296", UL(1 << 32)),
            ],
        );
        assert_invalid(
            ParamType::UnsignedLong,
            &["", "-0", "-1", "+5", "18446744073709551616", "1.", "0x0", "١٢", " 1"],
        );
    }

    #[test]
    fn decimal() {
        use Value::Decimal as D;
        assert_valid(
            ParamType::Decimal,
            &[
                ("0", D(0.0)),
                ("-0", D(0.0)),
                ("-0.0", D(0.0)),
                ("1", D(1.0)),
                ("-12.5", D(-12.5)),
                ("2.50", D(2.5)),
                (".5", D(0.5)),
                ("5.", D(5.0)),
                ("-.25", D(-0.25)),
                ("0.1", D(0.1)),
                ("123456789012345678901234567890", D(1.2345678901234568e29)),
                ("0.0000001", D(1e-7)),
            ],
        );
        assert_invalid(
            ParamType::Decimal,
            &[
                "", ".", "-", "-.", "+1", "1e5", "1E5", "NaN", "nan", "inf", "-inf", "infinity",
                "1.2.3", " 1", "1 ", "1,5", "0x1", "--1", "1-",
            ],
        );
        // Too large for f64.
        let huge = "9".repeat(400);
        assert_invalid(ParamType::Decimal, &[huge.as_str()]);
    }

    #[test]
    fn decimal_display() {
        let cases = [
            ("2.0", "2"),
            ("2.50", "2.5"),
            ("-0", "0"),
            ("0.1", "0.1"),
            (".5", "0.5"),
            ("5.", "5"),
            ("1000000000000000000000", "1000000000000000000000"),
            ("0.0000001", "0.0000001"),
            ("-3.14159", "-3.14159"),
        ];
        for (text, want) in cases {
            assert_eq!(ok(ParamType::Decimal, text).to_string(), want, "{text}");
        }
        assert_eq!(Value::Decimal(-0.0).to_string(), "0");
        assert_eq!(Value::Decimal(1e300).to_string().len(), 301);
        assert!(!Value::Decimal(1e-300).to_string().contains('e'));
        for v in [0.1 + 0.2, 1.0 / 3.0, f64::MAX, f64::MIN_POSITIVE, -1e-300, 5e-324] {
            let shown = Value::Decimal(v).to_string();
            assert!(!shown.contains(['e', 'E']), "{shown}");
            assert_eq!(ParamType::Decimal.parse(&shown), Ok(Value::Decimal(v)));
        }
    }

    #[test]
    fn datetime_valid() {
        let cases = [
            ("2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z"),
            ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"),
            ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
            ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"),
            ("9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999999Z"),
            ("2000-02-29T00:00:00Z", "2000-02-29T00:00:00Z"),
            ("2024-02-29T23:59:59Z", "2024-02-29T23:59:59Z"),
            ("1600-02-29T10:00:00Z", "1600-02-29T10:00:00Z"),
            ("2023-12-31T23:59:59Z", "2023-12-31T23:59:59Z"),
            ("2024-05-01T12:00:00", "2024-05-01T12:00:00Z"),
            ("2024-05-01T12:00:00.5Z", "2024-05-01T12:00:00.5Z"),
            ("2024-05-01T12:00:00.000001Z", "2024-05-01T12:00:00.000001Z"),
            ("2024-05-01T12:00:00.120000Z", "2024-05-01T12:00:00.12Z"),
            ("2024-05-01T12:00:00.000Z", "2024-05-01T12:00:00Z"),
            ("2024-05-01T14:30:00+02:30", "2024-05-01T12:00:00Z"),
            ("2024-05-01T07:00:00-05:00", "2024-05-01T12:00:00Z"),
            ("2024-05-01T12:00:00+00:00", "2024-05-01T12:00:00Z"),
            ("2024-05-01T12:00:00-00:00", "2024-05-01T12:00:00Z"),
            ("2024-03-01T00:30:00+01:00", "2024-02-29T23:30:00Z"),
            ("2023-12-31T20:00:00-05:00", "2024-01-01T01:00:00Z"),
            ("1969-12-31T23:59:59.25Z", "1969-12-31T23:59:59.25Z"),
            ("0001-01-01T01:00:00+01:00", "0001-01-01T00:00:00Z"),
        ];
        for (text, want) in cases {
            let v = ok(ParamType::DateTime, text);
            assert_eq!(v.to_string(), want, "{text}");
            assert_eq!(ParamType::DateTime.parse(want), Ok(v.clone()), "{want}");
            assert_eq!(DateTime::parse(text).map(Value::DateTime), Some(v));
        }
        assert_eq!(dt("1970-01-01T00:00:00Z"), DateTime::from_unix(0));
        assert_eq!(dt("2001-09-09T01:46:40Z"), DateTime::from_unix(1_000_000_000));
        assert_eq!(dt("1969-12-31T23:59:59Z"), DateTime::from_unix(-1));
        assert_eq!(dt("0001-01-01T00:00:00Z"), DateTime::UNKNOWN);
        assert!(DateTime::UNKNOWN.is_unknown());
        assert_eq!(dt("9999-12-31T23:59:59.999999Z"), DateTime::MAX);
        assert_eq!(dt("2024-05-01T12:00:00.5Z").micros, 500_000);
        assert_eq!(DateTime::UNKNOWN.to_string(), "0001-01-01T00:00:00Z");
    }

    #[test]
    fn datetime_invalid() {
        assert_invalid(
            ParamType::DateTime,
            &[
                "",
                "2024-05-01",
                "2024-05-01T12:00Z",
                "1900-02-29T00:00:00Z",
                "2023-02-29T00:00:00Z",
                "2100-02-29T00:00:00Z",
                "2024-02-30T00:00:00Z",
                "2024-04-31T00:00:00Z",
                "2024-13-01T00:00:00Z",
                "2024-00-01T00:00:00Z",
                "2024-01-00T00:00:00Z",
                "2024-01-32T00:00:00Z",
                "2024-05-01T24:00:00Z",
                "2024-05-01T23:60:00Z",
                "2024-05-01T23:59:60Z",
                "0000-01-01T00:00:00Z",
                "10000-01-01T00:00:00Z",
                "-0001-01-01T00:00:00Z",
                "2024-05-01 12:00:00Z",
                "2024-05-01t12:00:00Z",
                "2024-05-01T12:00:00z",
                "2024-05-01T12:00:00.Z",
                "2024-05-01T12:00:00.1234567Z",
                "2024-05-01T12:00:00+0200",
                "2024-05-01T12:00:00+02",
                "2024-05-01T12:00:00+24:00",
                "2024-05-01T12:00:00+02:60",
                "2024-05-01T12:00:00ZZ",
                "2024-05-01T12:00:00Z ",
                " 2024-05-01T12:00:00Z",
                "2024-5-01T12:00:00Z",
                "2024-05-01T1:00:00Z",
                "+024-05-01T12:00:00Z",
                "2024-05-01T12:00:00.5.5Z",
                "0001-01-01T00:00:00+00:01",
                "9999-12-31T23:59:59-00:01",
                "2024-05-01T12:00:00\u{e9}",
                "２０２４-05-01T12:00:00Z",
            ],
        );
    }

    #[test]
    fn datetime_civil_conversion_exhaustive_days() {
        // Every day from year 1 to 9999 maps to a valid date and back, one day apart.
        let first = days_from_civil(1, 1, 1);
        let last = days_from_civil(9999, 12, 31);
        let mut prev = civil_from_days(first - 1);
        for day in first..=last {
            let (y, m, d) = civil_from_days(day);
            assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
            assert_eq!(days_from_civil(y, m, d), day);
            let (py, pm, pd) = prev;
            assert!((y, m, d) > (py, pm, pd));
            prev = (y, m, d);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(DateTime::UNKNOWN.secs, first * SECS_PER_DAY);
    }

    #[test]
    fn datetime_display_never_panics() {
        for secs in [i64::MIN, i64::MAX, 0, -1, DateTime::UNKNOWN.secs - 1] {
            for micros in [0, 1, 999_999, u32::MAX] {
                let _ = DateTime { secs, micros }.to_string();
            }
        }
    }

    #[test]
    fn datetime_ordering() {
        let a = ok(ParamType::DateTime, "2024-05-01T12:00:00Z");
        let b = ok(ParamType::DateTime, "2024-05-01T12:00:00.000001Z");
        let c = ok(ParamType::DateTime, "2024-05-01T13:00:00+02:00"); // 11:00Z
        let unknown = ParamType::DateTime.zero();
        assert_eq!(a.compare(&b), Some(Ordering::Less));
        assert_eq!(b.compare(&a), Some(Ordering::Greater));
        assert_eq!(c.compare(&a), Some(Ordering::Less));
        assert_eq!(unknown.compare(&c), Some(Ordering::Less));
        assert_eq!(
            a.compare(&ok(ParamType::DateTime, "2024-05-01T14:00:00+02:00")),
            Some(Ordering::Equal)
        );
        assert!(a.loose_eq(&ok(ParamType::DateTime, "2024-05-01T07:00:00-05:00")));
        assert!(!a.loose_eq(&b));
        assert!(DateTime::from_unix(-1) < DateTime::from_unix(0));
    }

    #[test]
    fn base64() {
        use Value::Base64 as B;
        assert_valid(
            ParamType::Base64,
            &[
                ("", B("".into())),
                ("QQ==", B("QQ==".into())),
                ("QUI=", B("QUI=".into())),
                ("QUJD", B("QUJD".into())),
                ("SGVsbG8sIHdvcmxkIQ==", B("SGVsbG8sIHdvcmxkIQ==".into())),
                ("+/+/", B("+/+/".into())),
                ("AAAA", B("AAAA".into())),
                ("QR==", B("QQ==".into())),
            ],
        );
        assert_invalid(
            ParamType::Base64,
            &[
                "Q", "QQ", "QQ=", "QQ===", "Q===", "====", "QQ==QQ==", "Q=Q=", "QUJD\n", "QU JD",
                "-_-_", "QUJ*", "QQ=A",
            ],
        );
        assert_eq!(
            usp_util::base64::decode("SGVsbG8sIHdvcmxkIQ=="),
            Some(b"Hello, world!".to_vec())
        );
        for n in 0..=9usize {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + 200) as u8).collect();
            let enc = usp_util::base64::encode(&bytes);
            assert_eq!(enc.len() % 4, 0);
            assert_eq!(usp_util::base64::decode(&enc), Some(bytes));
            assert_eq!(base64_len(&enc), n);
        }
    }

    #[test]
    fn hex_binary() {
        use Value::HexBinary as H;
        assert_valid(
            ParamType::HexBinary,
            &[
                ("", H("".into())),
                ("00", H("00".into())),
                ("ff", H("ff".into())),
                ("FF", H("ff".into())),
                ("DeadBeef", H("deadbeef".into())),
                ("0123456789abcdefABCDEF", H("0123456789abcdefabcdef".into())),
            ],
        );
        assert_invalid(ParamType::HexBinary, &["0", "abc", "0g", "0x00", " 00", "00 ", "é0", "-1"]);
    }

    #[test]
    fn compare_numbers() {
        let int = |s| ok(ParamType::Int, s);
        assert_eq!(int("-5").compare(&int("3")), Some(Ordering::Less));
        assert_eq!(int("3").compare(&int("3")), Some(Ordering::Equal));
        assert_eq!(
            Value::UnsignedLong(u64::MAX).compare(&Value::UnsignedLong(0)),
            Some(Ordering::Greater)
        );
        assert_eq!(Value::Long(i64::MIN).compare(&Value::Long(0)), Some(Ordering::Less));
        assert_eq!(Value::UnsignedInt(1).compare(&Value::UnsignedInt(2)), Some(Ordering::Less));

        let dec = |s| ok(ParamType::Decimal, s);
        assert_eq!(dec("-12.5").compare(&dec("-12.25")), Some(Ordering::Less));
        assert_eq!(dec("0.1").compare(&dec(".1")), Some(Ordering::Equal));
        assert_eq!(dec("2.0").compare(&dec("2")), Some(Ordering::Equal));
        assert_eq!(dec("10").compare(&dec("9.99")), Some(Ordering::Greater));
        assert_eq!(dec("-0").compare(&dec("0")), Some(Ordering::Equal));
        assert!(dec("2.50").loose_eq(&dec("2.5")));
        assert!(Value::Decimal(-0.0).loose_eq(&Value::Decimal(0.0)));
        assert!(!Value::Decimal(f64::NAN).loose_eq(&Value::Decimal(f64::NAN)));
        assert_eq!(Value::Decimal(f64::NAN).compare(&dec("1")), None);
    }

    #[test]
    fn compare_across_types_and_unordered_types() {
        let values = [
            Value::from("5"),
            Value::from(true),
            Value::from(5i32),
            Value::from(5u32),
            Value::from(5i64),
            Value::from(5u64),
            Value::Decimal(5.0),
            Value::from(DateTime::from_unix(5)),
            Value::Base64("QQ==".into()),
            Value::HexBinary("05".into()),
        ];
        for (i, a) in values.iter().enumerate() {
            for (j, b) in values.iter().enumerate() {
                if i != j {
                    assert_eq!(a.compare(b), None, "{a:?} vs {b:?}");
                    assert!(!a.loose_eq(b), "{a:?} == {b:?}");
                }
            }
            let ordered = !matches!(
                a,
                Value::String(_) | Value::Boolean(_) | Value::Base64(_) | Value::HexBinary(_)
            );
            assert_eq!(a.compare(a).is_some(), ordered, "{a:?}");
            assert!(a.loose_eq(a));
        }
        assert!(Value::from("a").loose_eq(&Value::from("a")));
        assert!(!Value::from("a").loose_eq(&Value::from("A")));
        assert!(Value::from(true).loose_eq(&ok(ParamType::Boolean, "1")));
        assert!(ok(ParamType::HexBinary, "AB").loose_eq(&ok(ParamType::HexBinary, "ab")));
    }

    #[test]
    fn accessors_and_from() {
        assert_eq!(Value::from("x").as_str(), Some("x"));
        assert_eq!(Value::from(String::from("y")), Value::String("y".into()));
        assert_eq!(Value::Base64("QQ==".into()).as_str(), Some("QQ=="));
        assert_eq!(Value::HexBinary("ab".into()).as_str(), Some("ab"));
        assert_eq!(Value::from(1i32).as_str(), None);
        assert_eq!(Value::from(true).as_bool(), Some(true));
        assert_eq!(Value::from("true").as_bool(), None);

        assert_eq!(Value::from(-1i32).as_u64(), None);
        assert_eq!(Value::from(7i32).as_u64(), Some(7));
        assert_eq!(Value::from(u32::MAX).as_u64(), Some(u64::from(u32::MAX)));
        assert_eq!(Value::from(-1i64).as_u64(), None);
        assert_eq!(Value::from(u64::MAX).as_u64(), Some(u64::MAX));
        assert_eq!(Value::Decimal(1.0).as_u64(), None);

        assert_eq!(Value::from(i32::MIN).as_i64(), Some(i64::from(i32::MIN)));
        assert_eq!(Value::from(u32::MAX).as_i64(), Some(i64::from(u32::MAX)));
        assert_eq!(Value::from(i64::MIN).as_i64(), Some(i64::MIN));
        assert_eq!(Value::from(i64::MAX as u64).as_i64(), Some(i64::MAX));
        assert_eq!(Value::from(i64::MAX as u64 + 1).as_i64(), None);
        assert_eq!(Value::from(false).as_i64(), None);

        assert_eq!(Value::from(DateTime::UNKNOWN), ParamType::DateTime.zero());
    }

    #[test]
    fn list_items_splitting() {
        let items = |t| list_items(t).collect::<Vec<_>>();
        assert_eq!(items(""), Vec::<&str>::new());
        assert_eq!(items("   "), Vec::<&str>::new());
        assert_eq!(items("a"), ["a"]);
        assert_eq!(items(" a , b ,c "), ["a", "b", "c"]);
        assert_eq!(items("a,,b"), ["a", "", "b"]);
        assert_eq!(items("a,"), ["a", ""]);
        assert_eq!(items("\ta\t,\nb"), ["a", "b"]);
    }

    const AB: &[&str] = &["A", "B"];

    fn constraint_err(c: &Constraints, ty: ParamType, text: &str) -> String {
        match c.parse(ty, text) {
            Err(ValueError::Constraint(why)) => why,
            other => panic!("{text:?}: expected a constraint error, got {other:?}"),
        }
    }

    #[test]
    fn no_constraints_is_plain_parse() {
        let c = Constraints::default();
        for ty in ParamType::ALL {
            assert_eq!(c.parse(ty, &ty.zero().to_string()), Ok(ty.zero()));
        }
        assert!(c.parse(ParamType::Int, "x").is_err_and(|e| e.is_type_error()));
    }

    #[test]
    fn enumeration_constraint() {
        let c = Constraints { enumeration: Some(AB), ..Default::default() };
        assert_eq!(c.parse(ParamType::String, "A"), Ok(Value::from("A")));
        assert_eq!(c.parse(ParamType::String, "B"), Ok(Value::from("B")));
        assert_eq!(constraint_err(&c, ParamType::String, "7"), "'7' is not one of: A, B");
        assert_eq!(constraint_err(&c, ParamType::String, "a"), "'a' is not one of: A, B");
        assert_eq!(constraint_err(&c, ParamType::String, ""), "'' is not one of: A, B");
        assert_eq!(constraint_err(&c, ParamType::String, " A"), "' A' is not one of: A, B");

        // Enumerated numbers match on the canonical text.
        let c = Constraints { enumeration: Some(&["1", "2"]), ..Default::default() };
        assert_eq!(c.parse(ParamType::UnsignedInt, "01"), Ok(Value::UnsignedInt(1)));
        assert!(constraint_err(&c, ParamType::UnsignedInt, "3").contains("not one of: 1, 2"));
    }

    #[test]
    fn range_constraint() {
        let c = Constraints { range: Some((0, 65535)), ..Default::default() };
        assert_eq!(c.parse(ParamType::UnsignedInt, "0"), Ok(Value::UnsignedInt(0)));
        assert_eq!(c.parse(ParamType::UnsignedInt, "65535"), Ok(Value::UnsignedInt(65535)));
        assert_eq!(
            constraint_err(&c, ParamType::UnsignedInt, "70000"),
            "value 70000 above maximum 65535"
        );
        assert_eq!(constraint_err(&c, ParamType::Int, "-1"), "value -1 below minimum 0");
        assert_eq!(constraint_err(&c, ParamType::Long, "65536"), "value 65536 above maximum 65535");
        // A type error still wins over a range error.
        assert!(c.parse(ParamType::UnsignedInt, "-1").is_err_and(|e| e.is_type_error()));

        let c = Constraints { range: Some((-10, 10)), ..Default::default() };
        assert_eq!(c.parse(ParamType::Decimal, "-10.0"), Ok(Value::Decimal(-10.0)));
        assert_eq!(c.parse(ParamType::Decimal, "9.999"), Ok(Value::Decimal(9.999)));
        assert_eq!(
            constraint_err(&c, ParamType::Decimal, "10.001"),
            "value 10.001 above maximum 10"
        );
        assert_eq!(
            constraint_err(&c, ParamType::Decimal, "-10.5"),
            "value -10.5 below minimum -10"
        );

        let c = Constraints { range: Some((0, i128::from(u64::MAX))), ..Default::default() };
        assert_eq!(
            c.parse(ParamType::UnsignedLong, "18446744073709551615"),
            Ok(Value::UnsignedLong(u64::MAX))
        );
        // Range does not apply to non-numeric types.
        assert_eq!(c.parse(ParamType::String, "-5"), Ok(Value::from("-5")));
    }

    #[test]
    fn max_len_constraint() {
        let c = Constraints { max_len: Some(4), ..Default::default() };
        assert_eq!(c.parse(ParamType::String, "abcd"), Ok(Value::from("abcd")));
        assert_eq!(c.parse(ParamType::String, "äöüß"), Ok(Value::from("äöüß")));
        assert_eq!(constraint_err(&c, ParamType::String, "abcde"), "longer than 4 characters");

        // Binary lengths count decoded bytes.
        assert_eq!(
            c.parse(ParamType::HexBinary, "DEADBEEF"),
            Ok(Value::HexBinary("deadbeef".into()))
        );
        assert_eq!(constraint_err(&c, ParamType::HexBinary, "0011223344"), "longer than 4 bytes");
        assert!(c.parse(ParamType::Base64, "AAAAAA==").is_ok()); // 4 bytes
        assert!(c.parse(ParamType::Base64, "AAAA").is_ok()); // 3 bytes
        assert_eq!(constraint_err(&c, ParamType::Base64, "AAAAAAA="), "longer than 4 bytes");
        assert_eq!(constraint_err(&c, ParamType::Base64, "AAAAAAAA"), "longer than 4 bytes");

        let c = Constraints { max_len: Some(64), ..Default::default() };
        assert_eq!(
            constraint_err(&c, ParamType::String, &"x".repeat(65)),
            "longer than 64 characters"
        );
        // max_len does not apply to numbers.
        assert!(c.parse(ParamType::UnsignedLong, "18446744073709551615").is_ok());
    }

    #[test]
    fn list_constraints() {
        let list = |max_items, max_len| Some(ListConstraint { max_items, max_len });
        let c = Constraints { list: list(Some(3), None), ..Default::default() };
        assert_eq!(c.parse(ParamType::UnsignedInt, ""), Ok(Value::from("")));
        assert_eq!(c.parse(ParamType::UnsignedInt, "  "), Ok(Value::from("")));
        assert_eq!(c.parse(ParamType::UnsignedInt, " 1 , 02,3 "), Ok(Value::from("1,2,3")));
        assert_eq!(c.parse(ParamType::Boolean, "1,false"), Ok(Value::from("true,false")));
        assert_eq!(
            constraint_err(&c, ParamType::UnsignedInt, "1,2,3,4"),
            "list has 4 items, more than the maximum of 3"
        );
        // An invalid item is a type error naming the item.
        assert_eq!(
            c.parse(ParamType::UnsignedInt, "1, x ,3"),
            Err(ValueError::WrongType { expected: ParamType::UnsignedInt, text: "x".into() })
        );
        assert_eq!(
            c.parse(ParamType::UnsignedInt, "1,,3"),
            Err(ValueError::WrongType { expected: ParamType::UnsignedInt, text: "".into() })
        );
        // Strings may have empty items.
        assert_eq!(c.parse(ParamType::String, "a, ,b"), Ok(Value::from("a,,b")));

        // Item constraints apply to each item and name it.
        let c = Constraints {
            enumeration: Some(AB),
            max_len: Some(1),
            list: list(None, Some(5)),
            ..Default::default()
        };
        assert_eq!(c.parse(ParamType::String, "A, B, A"), Ok(Value::from("A,B,A")));
        assert_eq!(
            constraint_err(&c, ParamType::String, "A,C"),
            "item 2 ('C'): 'C' is not one of: A, B"
        );
        // Whole-list length counts the normalised text: "A,B,A" is 5 characters.
        assert_eq!(
            constraint_err(&c, ParamType::String, "A,B,A,B"),
            "list of 7 characters longer than 5 characters"
        );

        let c = Constraints {
            range: Some((1, 10)),
            max_len: Some(2),
            list: list(Some(4), None),
            ..Default::default()
        };
        assert_eq!(
            constraint_err(&c, ParamType::Int, "1,5,11"),
            "item 3 ('11'): value 11 above maximum 10"
        );
        assert_eq!(
            constraint_err(&c, ParamType::HexBinary, "00,001122"),
            "item 2 ('001122'): longer than 2 bytes"
        );
        assert_eq!(c.parse(ParamType::Decimal, "1.50, 2"), Ok(Value::from("1.5,2")));
        assert_eq!(
            c.parse(ParamType::DateTime, "2024-05-01T14:00:00+02:00"),
            Ok(Value::from("2024-05-01T12:00:00Z"))
        );
    }

    #[test]
    fn never_panics_on_odd_input() {
        let inputs = [
            "",
            "-",
            ".",
            "T",
            "Z",
            "=",
            "é",
            "\u{0}",
            "-.",
            "9999-99-99T99:99:99Z",
            "2024-05-01T12:00:00.",
            "2024-05-01T12:00:00+",
            "2024-05-01T12:00:00+é:00",
            "2024-05-01T12:00:00.ééé",
            "ééééééééééééééééééééé",
            "2024-05-01Té2:00:00Z",
        ];
        let c = Constraints {
            enumeration: Some(AB),
            range: Some((i128::MIN, i128::MAX)),
            max_len: Some(0),
            list: Some(ListConstraint { max_items: Some(0), max_len: Some(0) }),
        };
        for ty in ParamType::ALL {
            for text in inputs {
                let _ = ty.parse(text);
                let _ = c.parse(ty, text);
                let _ = Constraints::default().parse(ty, text);
            }
        }
    }
}
