//! TR-106 typed values: the ten parameter types, their text form on the wire, comparison for
//! search expressions, and value constraints (enumerations, ranges, lengths, lists).
//!
//! USP carries every value as a string. A string becomes a [`Value`] exactly once, at the edge,
//! through [`ParamType::parse`]; inside the agent values are typed.

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
    /// The TR-106 name of the type (`"unsignedInt"`, ...).
    pub fn name(self) -> &'static str {
        todo_value_impl(self)
    }

    /// Parses the wire text of a value of this type (no constraints checked).
    pub fn parse(self, text: &str) -> Result<Value, ValueError> {
        Err(ValueError::WrongType { expected: self, text: text.to_owned() })
    }

    /// The value a parameter of this type has when nothing set it ("", false, 0,
    /// 0001-01-01T00:00:00Z).
    pub fn zero(self) -> Value {
        Value::String("".into())
    }
}

fn todo_value_impl(_t: ParamType) -> &'static str {
    "?"
}

impl Value {
    /// The type of this value.
    pub fn param_type(&self) -> ParamType {
        ParamType::String
    }

    /// Compares two values of the same type for search expressions (`<`, `>` ...). `None` when
    /// the types differ or the type has no order (string, boolean, base64, hexBinary).
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        let _ = other;
        None
    }
}

/// The canonical wire text of a value (`true`, `42`, `2024-05-01T12:00:00Z`, ...).
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("")
    }
}

impl Constraints {
    /// Parses `text` as a value of type `ty` under these constraints: for a list, every item is
    /// parsed and checked and the whole list is returned as a `Value::String` of the normalised
    /// items joined by `,`.
    pub fn parse(&self, ty: ParamType, text: &str) -> Result<Value, ValueError> {
        ty.parse(text)
    }
}
