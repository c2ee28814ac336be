//! Matching one known object instance against a path with wildcards and search expressions,
//! without resolving the path: the notification engine asks "does this subscription's
//! `Device.X.*.Y.[Enable==true].` name the instance that just changed?" once per change, and the
//! answer must not cost a walk over every row of the tables the path crosses.
//!
//! Never follows references (`Name+`): a path with a reference step is the caller's to resolve.

use super::DataModel;
use super::resolve::Cursor;
use crate::access::Access;
use crate::path::{Path, Segment};
use crate::plugin::Requester;
use crate::schema::ObjId;

impl DataModel {
    /// True when `path` (its segments; the tail is ignored) designates exactly the object
    /// instance `obj`/`numbers`, or the table `obj` itself when `numbers` is one short.
    ///
    /// Names must lead to `obj`, instance numbers must equal those of `numbers`, a wildcard
    /// matches any number, and a search expression must hold for the row it stands for (its
    /// values are read as the agent itself; a row that cannot be read, such as a deleted one,
    /// does not match). A path with a reference step or `{i}` never matches. Costs one step per
    /// segment and one read per search condition.
    pub fn path_designates(&mut self, path: &Path, obj: ObjId, numbers: &[u32]) -> bool {
        let mut segments = path.segments.iter();
        if !matches!(segments.next(), Some(Segment::Name(n)) if &**n == "Device") {
            return false;
        }
        let mut cur = ObjId::ROOT;
        let mut k = 0usize;
        for segment in segments {
            let at_table = k < self.schema.depth(cur);
            match segment {
                Segment::Name(name) if !at_table => match self.schema.child(cur, name) {
                    Some(child) => cur = child,
                    None => return false,
                },
                Segment::Instance(n) if at_table => {
                    if numbers.get(k) != Some(n) {
                        return false;
                    }
                    k += 1;
                }
                Segment::Wildcard if at_table => {
                    if k >= numbers.len() {
                        return false;
                    }
                    k += 1;
                }
                Segment::Search(conds) if at_table => {
                    if k >= numbers.len() {
                        return false;
                    }
                    let row = Cursor { obj: cur, numbers: numbers[..=k].to_vec() };
                    if !matches!(
                        self.matches(&Requester::Internal, &Access::Full, &row, conds),
                        Ok(true)
                    ) {
                        return false;
                    }
                    k += 1;
                }
                _ => return false,
            }
        }
        cur == obj && k == numbers.len()
    }
}
