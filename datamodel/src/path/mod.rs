//! The USP path grammar (TR-369 "Path Names"): object, instance, parameter, command and event
//! paths, wildcards, unique-key and search expressions, reference following and the
//! supported-data-model `{i}` notation.
//!
//! A path string is parsed once, at the edge, into a [`Path`]; everything after works on the typed
//! form. Parsing knows nothing of any data model: whether `Device.Foo.` exists is decided later by
//! the resolver (USP 7026); here only syntax is judged (USP 7008).

pub mod limits;
mod parse;

use std::fmt;

/// A parsed USP path such as `Device.LocalAgent.Controller.[Alias=="c1"].MTP.*.Enable`.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    /// The segments before the tail, starting with the root name (normally `Device`).
    pub segments: Vec<Segment>,
    /// What the path designates after its last segment.
    pub tail: Tail,
}

/// What a path designates.
#[derive(Clone, Debug, PartialEq)]
pub enum Tail {
    /// The path ends with `.`: an object or object instance (`Device.LocalAgent.`).
    Object,
    /// A parameter (`Device.LocalAgent.EndpointID`).
    Param(Box<str>),
    /// A command (`Device.Reboot()`); the name is without the parentheses.
    Command(Box<str>),
    /// An event (`Device.Boot!`); the name is without the `!`.
    Event(Box<str>),
}

/// One dot-separated step of a path.
#[derive(Clone, Debug, PartialEq)]
pub enum Segment {
    /// An object name (`LocalAgent`).
    Name(Box<str>),
    /// An instance number (`1`); always at least 1.
    Instance(u32),
    /// `*`: every instance of the table.
    Wildcard,
    /// `[expr && expr ...]`: a unique-key or search expression selecting instances.
    Search(Vec<Condition>),
    /// `{i}`: any instance, in supported-data-model paths only.
    Placeholder,
    /// `Name+`, `Name#3+` or `Name#*+`: follow the reference held by parameter `Name`; the
    /// following segments apply to the referenced object.
    Follow(Reference),
}

/// A reference-following step (`Interface+`, `LowerLayers#1+`, `LowerLayers#*+`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// The name of the reference parameter.
    pub param: Box<str>,
    /// Which item of the reference to follow.
    pub index: RefIndex,
}

/// Which item of a (list-valued) reference parameter to follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefIndex {
    /// `+`: the parameter holds a single reference.
    Single,
    /// `#n+`: the n-th item (from 1) of a list of references.
    Nth(u32),
    /// `#*+`: every item of a list of references.
    All,
}

/// One `relative-path op value` term of a search expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// The parameter being tested, relative to the instance: zero or more steps through
    /// single-instance sub-objects or references, then the parameter name.
    pub param: RelParam,
    /// The comparison.
    pub op: Op,
    /// The literal to compare with: quoted strings unescaped (`%22` → `"`, `%25` → `%`), other
    /// literals (numbers, `true`) as written, without surrounding whitespace.
    pub value: Box<str>,
    /// True when the literal was written in double quotes.
    pub quoted: bool,
}

/// The relative parameter of a search condition (`Stats.ErrorsSent`, `SSIDReference+.SSID`).
#[derive(Clone, Debug, PartialEq)]
pub struct RelParam {
    /// Steps before the parameter: [`Segment::Name`] or [`Segment::Follow`] only.
    pub steps: Vec<Segment>,
    /// The parameter name.
    pub name: Box<str>,
}

/// A search-expression operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `~=`: the list-valued parameter contains the value.
    Contains,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
}

/// Why a path string is not a valid path. Always USP 7008 (invalid path syntax).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathError {
    /// Byte offset in the input where the problem was found.
    pub at: usize,
    /// What is wrong, for the err_msg sent to the controller.
    pub reason: &'static str,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid path syntax at offset {}: {}", self.at, self.reason)
    }
}

impl std::error::Error for PathError {}

impl Path {
    /// Parses a path. Accepts everything the TR-369 grammar allows (including `{i}`; whether a
    /// placeholder or a search is acceptable for a given message is the caller's decision).
    pub fn parse(text: &str) -> Result<Path, PathError> {
        parse::parse(text)
    }

    /// True when the path selects instances by `*` or `[...]`, or follows a reference, i.e. it
    /// may resolve to zero or many objects (a "search path" in TR-369's sense).
    pub fn is_search(&self) -> bool {
        self.segments
            .iter()
            .any(|s| matches!(s, Segment::Wildcard | Segment::Search(_) | Segment::Follow(_)))
    }
}

/// Writes the path back in canonical USP syntax: `Display` of `Path::parse(s)` re-parses to the
/// same `Path`.
impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        parse::write_path(self, f)
    }
}
