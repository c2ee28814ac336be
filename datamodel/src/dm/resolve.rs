//! Path resolution: a typed [`Path`] against the schema and the instances, giving the object
//! instances (and the parameter, command or event in each) that the path designates.
//!
//! Cost is linear in the rows visited: an instance number is a map lookup, a wildcard or a
//! search walks the rows of the tables it crosses once.

use super::DataModel;
use crate::access::Access;
use crate::error::{ErrorCode, UspError};
use crate::path::{Condition, Op, Path, Segment, Tail};
use crate::plugin::Requester;
use crate::schema::{CmdId, EventId, ObjId, ParamId, Storage};
use crate::value::{Value, list_items};

/// What a target designates inside its object instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    /// The object instance itself (or the table, when the target has no number for it).
    Object,
    /// A parameter.
    Param(ParamId),
    /// A command.
    Command(CmdId),
    /// An event.
    Event(EventId),
}

/// One resolved object instance (or table) and what the path designates in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The object.
    pub obj: ObjId,
    /// The instance numbers of the tables on its path; one short for a table itself.
    pub numbers: Vec<u32>,
    /// What is designated.
    pub item: Item,
}

impl Target {
    /// True when the target is a table as a whole (`Device.LocalAgent.Controller.`).
    pub fn is_table(&self, dm: &DataModel) -> bool {
        self.numbers.len() < dm.schema.depth(self.obj)
    }
    /// The instance path of the object (`Device.LocalAgent.Controller.1.`).
    pub fn obj_path(&self, dm: &DataModel) -> String {
        dm.schema.instance_path(self.obj, &self.numbers)
    }
}

/// A cursor while walking segments: an object with the numbers chosen so far.
#[derive(Clone, Debug)]
pub(super) struct Cursor {
    pub(super) obj: ObjId,
    pub(super) numbers: Vec<u32>,
}

impl DataModel {
    /// Resolves a path of the instantiated data model. A non-search path naming a missing
    /// instance fails with 7016; a name the schema does not know fails with 7026; a search path
    /// may resolve to nothing.
    pub fn resolve(&mut self, who: &Requester, path: &Path) -> Result<Vec<Target>, UspError> {
        let search = path.is_search();
        let mut segments = path.segments.iter();
        match segments.next() {
            Some(Segment::Name(n)) if &**n == "Device" => {}
            _ => return Err(UspError::invalid_path(path)),
        }
        let mut cursors = vec![Cursor { obj: ObjId::ROOT, numbers: Vec::new() }];
        for segment in segments {
            if let Segment::Follow(reference) = segment {
                if cursors.iter().any(|c| self.at_table(c)) {
                    return Err(UspError::invalid_path(path));
                }
                // Merged: each instance once, however many cursors lead to it.
                cursors = self.follow_all(who, &cursors, reference)?;
                continue;
            }
            let mut next = Vec::with_capacity(cursors.len());
            for cursor in cursors {
                self.step(who, path, search, cursor, segment, &mut next)?;
            }
            cursors = next;
        }
        cursors.into_iter().map(|c| self.finish_target(path, c)).collect()
    }

    /// Applies one segment (not a reference step) to one cursor, pushing the resulting cursors.
    fn step(
        &mut self,
        who: &Requester,
        path: &Path,
        search: bool,
        cursor: Cursor,
        segment: &Segment,
        out: &mut Vec<Cursor>,
    ) -> Result<(), UspError> {
        let at_table = self.at_table(&cursor);
        match segment {
            Segment::Name(name) => {
                if at_table {
                    return Err(UspError::invalid_path(path));
                }
                let child = self
                    .schema
                    .child(cursor.obj, name)
                    .ok_or_else(|| UspError::invalid_path(path))?;
                out.push(Cursor { obj: child, numbers: cursor.numbers });
            }
            Segment::Instance(n) => {
                if !at_table {
                    return Err(UspError::invalid_path(path));
                }
                self.sync_rows(cursor.obj, &cursor.numbers);
                let mut numbers = cursor.numbers;
                numbers.push(*n);
                if self.tree.exists(&self.schema, cursor.obj, &numbers) {
                    out.push(Cursor { obj: cursor.obj, numbers });
                } else if !search {
                    return Err(UspError::no_object(
                        self.schema.instance_path(cursor.obj, &numbers),
                    ));
                }
            }
            Segment::Wildcard | Segment::Search(_) => {
                if !at_table {
                    return Err(UspError::invalid_path(path));
                }
                let access = match segment {
                    Segment::Search(_) => self.access(who),
                    _ => Access::Full,
                };
                for n in self.row_numbers(cursor.obj, &cursor.numbers) {
                    let mut numbers = cursor.numbers.clone();
                    numbers.push(n);
                    let row = Cursor { obj: cursor.obj, numbers };
                    let keep = match segment {
                        Segment::Search(conds) => self.matches(who, &access, &row, conds)?,
                        _ => true,
                    };
                    if keep {
                        out.push(row);
                    }
                }
            }
            Segment::Placeholder => {
                return Err(UspError::new(
                    ErrorCode::InvalidPathSyntax,
                    format!("{{i}} is only allowed in supported data model paths: {path}"),
                ));
            }
            Segment::Follow(_) => return Err(UspError::internal("reference step out of place")),
        }
        Ok(())
    }

    fn at_table(&self, cursor: &Cursor) -> bool {
        cursor.numbers.len() < self.schema.depth(cursor.obj)
    }

    fn finish_target(&self, path: &Path, cursor: Cursor) -> Result<Target, UspError> {
        let at_table = self.at_table(&cursor);
        let item = match &path.tail {
            Tail::Object => Item::Object,
            _ if at_table => return Err(UspError::invalid_path(path)),
            Tail::Param(name) => Item::Param(
                self.schema
                    .param_by_name(cursor.obj, name)
                    .ok_or_else(|| UspError::invalid_path(path))?,
            ),
            Tail::Command(name) => Item::Command(
                self.schema
                    .command_by_name(cursor.obj, name)
                    .ok_or_else(|| UspError::invalid_path(path))?,
            ),
            Tail::Event(name) => Item::Event(
                self.schema
                    .event_by_name(cursor.obj, name)
                    .ok_or_else(|| UspError::invalid_path(path))?,
            ),
        };
        Ok(Target { obj: cursor.obj, numbers: cursor.numbers, item })
    }

    /// The instance numbers of the rows of `table` under the parent instance named by
    /// `numbers` (one number per table above `table`), ascending; external tables are
    /// enumerated first. Empty when the parent does not exist.
    pub fn row_numbers(&mut self, table: ObjId, numbers: &[u32]) -> Vec<u32> {
        self.sync_rows(table, numbers);
        self.tree
            .table(&self.schema, table, numbers)
            .map(|t| t.rows.keys().copied().collect())
            .unwrap_or_default()
    }

    /// True when every condition of a search expression holds for the row. A condition on a
    /// parameter `access` may not read never holds (R-GIN.0: the row is treated as absent, and
    /// the search cannot become an oracle for the value).
    pub(super) fn matches(
        &mut self,
        who: &Requester,
        access: &Access,
        row: &Cursor,
        conds: &[Condition],
    ) -> Result<bool, UspError> {
        for cond in conds {
            if !self.condition_holds(who, access, row, cond)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn condition_holds(
        &mut self,
        who: &Requester,
        access: &Access,
        row: &Cursor,
        cond: &Condition,
    ) -> Result<bool, UspError> {
        // Walk the relative steps: single-instance children or references (merged and bounded
        // as in a path).
        let mut cursors = vec![row.clone()];
        for step in &cond.param.steps {
            if let Segment::Follow(r) = step {
                cursors = self.follow_all(who, &cursors, r)?;
                continue;
            }
            let mut next = Vec::new();
            for c in cursors {
                match step {
                    Segment::Name(n) => match self.schema.child(c.obj, n) {
                        Some(child) if !self.schema.obj(child).multi => {
                            next.push(Cursor { obj: child, numbers: c.numbers })
                        }
                        _ => {
                            return Err(bad_condition(
                                cond,
                                "the relative path must stay in single-instance objects",
                            ));
                        }
                    },
                    _ => return Err(bad_condition(cond, "unexpected step")),
                }
            }
            cursors = next;
        }
        for c in cursors {
            let param = self
                .schema
                .param_by_name(c.obj, &cond.param.name)
                .ok_or_else(|| bad_condition(cond, "unknown parameter"))?;
            if !access.param(&self.schema, param, &c.numbers).read() {
                continue;
            }
            let value = self.read_one(who, c.obj, &c.numbers, param)?;
            if compare(&value, cond)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Reads one parameter of one instance (for references and search expressions).
    pub(crate) fn read_one(
        &mut self,
        who: &Requester,
        obj: ObjId,
        numbers: &[u32],
        param: ParamId,
    ) -> Result<Value, UspError> {
        // A search expression must not become an oracle for a value its requester cannot read.
        if self.conceals(who, param) {
            return Ok(self.schema.param(param).ty.zero());
        }
        let def = self.schema.param(param);
        if let Storage::Stored(_) = def.storage {
            if let Some(v) = self.tree.stored(&self.schema, numbers, param) {
                return Ok(v.clone());
            }
        }
        let mut values = self.read_params(who, obj, numbers, &[param]);
        values.pop().unwrap_or_else(|| Err(UspError::internal("no value returned")))
    }
}

fn bad_condition(cond: &Condition, why: &str) -> UspError {
    let steps = cond.param.steps.len();
    UspError::new(
        ErrorCode::InvalidPath,
        format!("invalid search expression on {} ({} step(s)): {why}", cond.param.name, steps),
    )
}

/// Evaluates `value op literal` with the typing rules of TR-369 search expressions: `==`/`!=`
/// for every type, ordering only for numbers and dateTime, `~=` for list membership.
fn compare(value: &Value, cond: &Condition) -> Result<bool, UspError> {
    let ty = value.param_type();
    match cond.op {
        Op::Contains => {
            let text = value.to_string();
            Ok(list_items(&text).any(|item| item == &*cond.value))
        }
        Op::Eq | Op::Ne => {
            let equal = match ty.parse(&cond.value) {
                Ok(literal) => value.loose_eq(&literal),
                Err(_) => false,
            };
            Ok(equal == (cond.op == Op::Eq))
        }
        Op::Lt | Op::Gt | Op::Le | Op::Ge => {
            let literal = ty.parse(&cond.value).map_err(|_| {
                UspError::new(
                    ErrorCode::InvalidPathSyntax,
                    format!("'{}' is not a {} for {}", cond.value, ty.name(), cond.param.name),
                )
            })?;
            let Some(ord) = value.compare(&literal) else {
                return Err(UspError::new(
                    ErrorCode::InvalidPathSyntax,
                    format!("{} is a {}: only == and != apply", cond.param.name, ty.name()),
                ));
            };
            Ok(match cond.op {
                Op::Lt => ord.is_lt(),
                Op::Gt => ord.is_gt(),
                Op::Le => ord.is_le(),
                _ => ord.is_ge(),
            })
        }
    }
}
