//! Reading: parameter values of one object instance in one batch, and the walk over the object
//! instances below a target (for Get on object paths and GetInstances).

use super::{DataModel, Target};
use crate::error::UspError;
use crate::plugin::{Instance, PluginId, Requester};
use crate::schema::{ObjId, ParamId, Storage};
use crate::value::Value;

/// One object instance reached by [`DataModel::walk`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Walked {
    /// The object.
    pub obj: ObjId,
    /// The instance numbers of the tables on its path.
    pub numbers: Vec<u32>,
    /// How many object levels below the walk's start (the start is level 1).
    pub level: u32,
}

impl DataModel {
    /// Reads `params` of the object instance `obj`/`numbers`, one result per parameter, in
    /// order. Live parameters are fetched with one call per plugin; write-only parameters read
    /// as empty, and so do hidden (secured) ones when `who` is a controller without a
    /// SecuredRole.
    pub fn read_params(
        &mut self,
        who: &Requester,
        obj: ObjId,
        numbers: &[u32],
        params: &[ParamId],
    ) -> Vec<Result<Value, UspError>> {
        let mut out: Vec<Option<Result<Value, UspError>>> = vec![None; params.len()];
        let mut live: Vec<(PluginId, Vec<usize>)> = Vec::new();
        for (i, &p) in params.iter().enumerate() {
            if self.conceals(who, p) {
                out[i] = Some(Ok(self.schema.param(p).ty.zero()));
                continue;
            }
            let def = self.schema.param(p);
            match def.storage {
                Storage::Stored(_) => {
                    let v = self.tree.stored(&self.schema, numbers, p).cloned();
                    out[i] = Some(v.ok_or_else(|| {
                        UspError::no_object(self.schema.instance_path(obj, numbers))
                    }));
                }
                Storage::EntryCount(table) => {
                    let n = self.row_numbers(table, numbers).len();
                    out[i] = Some(Ok(Value::UnsignedInt(u32::try_from(n).unwrap_or(u32::MAX))));
                }
                Storage::Live => match live.iter_mut().find(|(id, _)| *id == def.plugin) {
                    Some((_, idx)) => idx.push(i),
                    None => live.push((def.plugin, vec![i])),
                },
            }
        }
        if !live.is_empty() {
            let inst = self.instance(obj, numbers);
            for (plugin, idx) in live {
                let ids: Vec<ParamId> = idx.iter().map(|&i| params[i]).collect();
                let mut values = Vec::with_capacity(ids.len());
                let result = self
                    .call(plugin, who, |p, ctx| p.get(ctx, &inst, &ids, &mut values))
                    .and_then(|()| self.check_live(plugin, &ids, &values));
                for (k, &i) in idx.iter().enumerate() {
                    out[i] = Some(match &result {
                        Err(e) => Err(e.clone()),
                        Ok(()) => Ok(values[k].clone()),
                    });
                }
            }
            self.apply_deferred();
        }
        out.into_iter()
            .map(|v| v.unwrap_or_else(|| Err(UspError::internal("unread parameter"))))
            .collect()
    }

    /// Checks what a plugin's `get` returned against the schema: exactly one value per asked
    /// parameter, each of its declared type. A mismatch is the plugin's bug: it is logged and
    /// the values are refused with an internal error, never served.
    fn check_live(
        &self,
        plugin: PluginId,
        ids: &[ParamId],
        values: &[Value],
    ) -> Result<(), UspError> {
        let name = self.plugins[plugin.0 as usize].name();
        if values.len() != ids.len() {
            let msg =
                format!("{name} returned {} values for {} parameters", values.len(), ids.len());
            log::error!("{msg}");
            return Err(UspError::internal(msg));
        }
        for (&p, v) in ids.iter().zip(values) {
            let def = self.schema.param(p);
            if v.param_type() != def.ty {
                let msg = format!(
                    "{name} returned a {} for {}, declared {}",
                    v.param_type().name(),
                    def.name,
                    def.ty.name()
                );
                log::error!("{msg}");
                return Err(UspError::internal(msg));
            }
        }
        Ok(())
    }

    /// Reads every parameter of an object instance, in declaration order, skipping those that
    /// fail (an unreadable item is treated as absent).
    pub fn read_all(
        &mut self,
        who: &Requester,
        obj: ObjId,
        numbers: &[u32],
    ) -> Vec<(ParamId, Value)> {
        let params = self.schema.obj(obj).params.clone();
        let values = self.read_params(who, obj, numbers, &params);
        params.into_iter().zip(values).filter_map(|(p, v)| v.ok().map(|v| (p, v))).collect()
    }

    /// The object instances in the subtree of `target` (itself first, then depth-first, rows
    /// ascending) down to `max_depth` levels (0 = no limit). A table target stands for all its
    /// rows, each at level 1.
    pub fn walk(&mut self, target: &Target, max_depth: u32) -> Vec<Walked> {
        let mut out = Vec::new();
        if target.is_table(self) {
            for n in self.row_numbers(target.obj, &target.numbers) {
                let mut numbers = target.numbers.clone();
                numbers.push(n);
                self.walk_into(target.obj, numbers, 1, max_depth, &mut out);
            }
        } else {
            self.walk_into(target.obj, target.numbers.clone(), 1, max_depth, &mut out);
        }
        out
    }

    fn walk_into(
        &mut self,
        obj: ObjId,
        numbers: Vec<u32>,
        level: u32,
        max_depth: u32,
        out: &mut Vec<Walked>,
    ) {
        out.push(Walked { obj, numbers: numbers.clone(), level });
        if max_depth != 0 && level >= max_depth {
            return;
        }
        for child in self.schema.obj(obj).children.clone() {
            if self.schema.obj(child).multi {
                for n in self.row_numbers(child, &numbers) {
                    let mut row = numbers.clone();
                    row.push(n);
                    self.walk_into(child, row, level + 1, max_depth, out);
                }
            } else {
                self.walk_into(child, numbers.clone(), level + 1, max_depth, out);
            }
        }
    }

    /// The rows of every table at or below `target` (GetInstances): with `first_level_only`,
    /// only the rows of the tables directly named or directly below.
    pub fn instances(&mut self, target: &Target, first_level_only: bool) -> Vec<Walked> {
        let depth = self.schema.depth(target.obj);
        let start = self.walk(target, 0);
        start
            .into_iter()
            .filter(|w| self.schema.obj(w.obj).multi && w.numbers.len() == self.schema.depth(w.obj))
            .filter(|w| {
                !(target.numbers.len() == depth
                    && w.obj == target.obj
                    && w.numbers == target.numbers)
            })
            .filter(|w| !first_level_only || w.numbers.len() == target.numbers.len() + 1)
            .collect()
    }

    /// The object instance as a plugin sees it, with external keys.
    pub fn instance(&self, obj: ObjId, numbers: &[u32]) -> Instance {
        let chain = self.schema.chain(obj);
        let mut keys = Vec::with_capacity(chain.len());
        for i in 0..chain.len().min(numbers.len()) {
            let key = self
                .tree
                .node(&self.schema, &chain[..=i], &numbers[..=i])
                .and_then(|n| n.key.clone());
            keys.push(key);
        }
        Instance { obj, numbers: numbers[..numbers.len().min(chain.len())].to_vec(), keys }
    }

    /// Every parameter of a unique-key set of `obj`, each once, in declaration order of the sets.
    pub(crate) fn key_params(&self, obj: ObjId) -> Vec<ParamId> {
        let mut params: Vec<ParamId> = Vec::new();
        for p in self.schema.obj(obj).unique_keys.iter().flatten() {
            if !params.contains(p) {
                params.push(*p);
            }
        }
        params
    }

    /// The unique-key values of a row, name and text, for ObjectCreation and GetInstances.
    pub fn unique_keys(&mut self, obj: ObjId, numbers: &[u32]) -> Vec<(String, String)> {
        let keys = self.unique_key_values(obj, numbers);
        keys.into_iter()
            .map(|(p, v)| (self.schema.param(p).name.to_string(), v.to_string()))
            .collect()
    }

    /// The unique keys of the row `numbers` of table `obj` with their values, as ids and typed
    /// values (those that cannot be read are left out).
    pub fn unique_key_values(&mut self, obj: ObjId, numbers: &[u32]) -> Vec<(ParamId, Value)> {
        let params = self.key_params(obj);
        let values = self.read_params(&Requester::Internal, obj, numbers, &params);
        params.into_iter().zip(values).filter_map(|(p, v)| Some((p, v.ok()?))).collect()
    }
}
