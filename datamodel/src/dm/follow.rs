//! Reference following (`Param+`, `Param#n+`, `Param#*+`) at a bounded cost.
//!
//! A hostile controller must not be able to make a short path expensive (issue 20: a
//! subscription whose `ReferenceList` named itself twice made `ReferenceList#*+.` × 20 cost
//! 20 s and 844 MB). Hence:
//!
//! - only parameters the schema declares as references (`SchemaBuilder::reference`, set on the
//!   parameters TR-181 declares with a `pathRef`) may be followed; any other is 7026;
//! - a reference value is an instance path (`Device.IP.Interface.1`, possibly with unique-key
//!   addressing `Device.IP.Interface.[Alias=="wan"]`), never a path grammar: a value with a
//!   wildcard, a reference step or a search that follows references designates nothing, and
//!   each value designates at most one object instance;
//! - the cursors a step yields are merged (each object instance once), so chained steps can
//!   never yield more cursors than there are instances;
//! - and one step may yield at most [`MAX_FOLLOWED`] instances, else 7005.

use std::collections::HashSet;

use super::DataModel;
use super::resolve::Cursor;
use crate::access::Access;
use crate::error::{ErrorCode, UspError};
use crate::path::{Path, RefIndex, Reference, Segment, Tail};
use crate::plugin::Requester;
use crate::schema::ObjId;
use crate::value::list_items;

/// The most object instances one reference-following step may designate (7005 beyond).
pub const MAX_FOLLOWED: usize = 4096;

impl DataModel {
    /// Follows `reference` from every cursor, each resulting object instance once, in the
    /// order found.
    pub(super) fn follow_all(
        &mut self,
        who: &Requester,
        cursors: &[Cursor],
        reference: &Reference,
    ) -> Result<Vec<Cursor>, UspError> {
        let mut seen: HashSet<(ObjId, Vec<u32>)> = HashSet::new();
        let mut out = Vec::new();
        for cursor in cursors {
            for found in self.follow(who, cursor, reference)? {
                if seen.insert((found.obj, found.numbers.clone())) {
                    if out.len() == MAX_FOLLOWED {
                        return Err(UspError::new(
                            ErrorCode::ResourcesExceeded,
                            format!(
                                "following {}+ designates more than {MAX_FOLLOWED} objects",
                                reference.param
                            ),
                        ));
                    }
                    out.push(found);
                }
            }
        }
        Ok(out)
    }

    /// Follows a reference parameter of `cursor` to the object instances it names.
    fn follow(
        &mut self,
        who: &Requester,
        cursor: &Cursor,
        reference: &Reference,
    ) -> Result<Vec<Cursor>, UspError> {
        let here = || self.schema.instance_path(cursor.obj, &cursor.numbers);
        let Some(param) = self.schema.param_by_name(cursor.obj, &reference.param) else {
            return Err(UspError::invalid_path(format!("{}{}", here(), reference.param)));
        };
        if !self.schema.param(param).reference {
            return Err(UspError::new(
                ErrorCode::InvalidPath,
                format!("{}{} is not a reference parameter", here(), reference.param),
            ));
        }
        let text = self.read_one(who, cursor.obj, &cursor.numbers, param)?.to_string();
        let items: Vec<&str> = match reference.index {
            RefIndex::Single => vec![text.trim()],
            RefIndex::Nth(n) => list_items(&text).nth(n as usize - 1).into_iter().collect(),
            RefIndex::All => list_items(&text).collect(),
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items.into_iter().filter(|i| !i.is_empty()) {
            out.extend(self.referenced_instance(who, item)?);
        }
        Ok(out)
    }

    /// The object instance a reference value names; `None` for a dangling reference or a value
    /// that is not an instance path.
    fn referenced_instance(
        &mut self,
        who: &Requester,
        value: &str,
    ) -> Result<Option<Cursor>, UspError> {
        let text = if value.ends_with('.') { value.to_owned() } else { format!("{value}.") };
        let Ok(path) = Path::parse(&text) else { return Ok(None) };
        if path.tail != Tail::Object {
            return Ok(None);
        }
        let mut segments = path.segments.iter();
        if !matches!(segments.next(), Some(Segment::Name(n)) if &**n == "Device") {
            return Ok(None);
        }
        let mut cursor = Cursor { obj: ObjId::ROOT, numbers: Vec::new() };
        for segment in segments {
            let at_table = cursor.numbers.len() < self.schema.depth(cursor.obj);
            match segment {
                Segment::Name(name) if !at_table => match self.schema.child(cursor.obj, name) {
                    Some(child) => cursor.obj = child,
                    None => return Ok(None),
                },
                Segment::Instance(n) if at_table => {
                    self.sync_rows(cursor.obj, &cursor.numbers);
                    cursor.numbers.push(*n);
                    if !self.tree.exists(&self.schema, cursor.obj, &cursor.numbers) {
                        return Ok(None);
                    }
                }
                // Unique-key addressing: conditions on the row's own parameters only.
                Segment::Search(conds)
                    if at_table && conds.iter().all(|c| c.param.steps.is_empty()) =>
                {
                    let access: Access = self.access(who);
                    let mut found = None;
                    for n in self.row_numbers(cursor.obj, &cursor.numbers) {
                        let mut numbers = cursor.numbers.clone();
                        numbers.push(n);
                        let row = Cursor { obj: cursor.obj, numbers };
                        if self.matches(who, &access, &row, conds)? {
                            found = Some(row);
                            break;
                        }
                    }
                    match found {
                        Some(row) => cursor = row,
                        None => return Ok(None),
                    }
                }
                _ => return Ok(None),
            }
        }
        // A table is not an object instance.
        if cursor.numbers.len() < self.schema.depth(cursor.obj) {
            return Ok(None);
        }
        Ok(Some(cursor))
    }
}
