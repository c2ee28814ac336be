//! [`Fields`]: how a plugin knows which of its parameters the engine asks for without comparing
//! names. At registration the plugin declares each parameter through its `Fields` table with a
//! value of its own field type (usually a small `Copy` enum); in `get`, `set` or `validate` it
//! looks each [`ParamId`] up and matches on that value. A name is written once, next to its
//! declaration, and a parameter the plugin forgot to handle is a compile error in its `match`.

use crate::schema::{ObjId, ParamDef, ParamId, SchemaBuilder};
use crate::value::ParamType;

/// A plugin's parameters and the field each one stands for.
#[derive(Clone, Debug)]
pub struct Fields<F> {
    /// Ascending by id: ids are handed out in declaration order.
    ids: Vec<(ParamId, F)>,
}

impl<F> Default for Fields<F> {
    fn default() -> Fields<F> {
        Fields { ids: Vec::new() }
    }
}

impl<F: Copy> Fields<F> {
    /// Declares the parameter `name` of `obj` (as [`SchemaBuilder::param`] does) and
    /// remembers that it stands for `field`; the declaration goes on with the returned setters.
    pub fn param<'b>(
        &mut self,
        b: &'b mut SchemaBuilder,
        obj: ObjId,
        name: &str,
        ty: ParamType,
        field: F,
    ) -> &'b mut ParamDef {
        self.ids.push((b.next_param_id(), field));
        b.param(obj, name, ty)
    }

    /// The field `param` stands for; `None` for a parameter declared otherwise.
    pub fn of(&self, param: ParamId) -> Option<F> {
        let i = self.ids.binary_search_by_key(&param, |(id, _)| *id).ok()?;
        Some(self.ids[i].1)
    }

    /// The id of the parameter declared for `field` (the first, if several were).
    pub fn id(&self, field: F) -> Option<ParamId>
    where
        F: PartialEq,
    {
        self.ids.iter().find(|(_, f)| *f == field).map(|(id, _)| *id)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum F {
        Name,
        Count,
    }

    #[test]
    fn parameters_map_to_their_fields_and_back() {
        let mut b = SchemaBuilder::new();
        let obj = b.object("Device.X.");
        let mut fields = Fields::default();
        b.param(obj, "Other", ParamType::String);
        fields.param(&mut b, obj, "Name", ParamType::String, F::Name).max_len(8);
        fields.param(&mut b, obj, "Count", ParamType::UnsignedInt, F::Count).rw();
        let schema = b.finish().unwrap();
        let id = |n| schema.param_by_name(obj, n).unwrap();
        assert_eq!(fields.of(id("Name")), Some(F::Name));
        assert_eq!(fields.of(id("Count")), Some(F::Count));
        assert_eq!(fields.of(id("Other")), None);
        assert_eq!(fields.id(F::Count), Some(id("Count")));
        assert_eq!(schema.param(id("Name")).constraints.max_len, Some(8));
    }
}
