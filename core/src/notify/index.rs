//! The subscription index: which enabled subscriptions a change concerns, found without
//! resolving any ReferenceList at change time.
//!
//! Each ReferenceList item is classified once, against the schema only, when the index is
//! built (after any change of the Subscription or Controller tables):
//!
//! - a path of names and instance numbers only (`Device.Test.Item.3.Count`, `Device.Test.`)
//!   goes into a hash map keyed by its schema item and instance numbers: a change finds it with
//!   one lookup (and one per ancestor object for object paths, which cover everything below);
//! - a path with wildcards or search expressions (`Device.Test.Item.*.Count`,
//!   `Device.Test.Item.[Enabled==true].`) is filed under the schema object it designates; a
//!   change in that object checks it with [`DataModel::path_designates`], one step per segment
//!   and one read per search condition, never a walk over the table;
//! - a path that follows references (`Device.X.Ref+.Name`) is resolved for each change of its
//!   kind (rare, and bounded by the subscriptions that use it).
//!
//! So the index only depends on the subscriptions: rows created, deleted or changed elsewhere
//! never invalidate it. Object paths match their own instance and everything below (a table
//! path matches every row); the tail names a parameter (ValueChange), a command
//! (OperationComplete) or an event (Event), or is an object path. For the creation or deletion
//! of a row, a table path matches the rows of that table only ("instances of the subscribed
//! multi-instance object"), while an instance or single-object path (a partial path) matches
//! the rows of every table below it.
//!
//! Access control: a subscription matches only when its recipient controller has the Notify
//! permission on what changed (`Param` n for ValueChange, `Obj` n on the created row for
//! ObjectCreation, `InstantiatedObj` n on the deleted row for ObjectDeletion, `CommandEvent` n
//! for OperationComplete and Event). The subscription itself may be created without it (TP-469
//! 2.20): it just never fires, and follows the permission when it changes.

use std::collections::HashMap;

use usp_datamodel::path::{Path, Segment, Tail};
use usp_datamodel::plugin::Requester;
use usp_datamodel::schema::{ObjId, ParamId, Schema, Storage};

pub(crate) use crate::kinds::{Kind, Leaf};
use usp_datamodel::value::list_items;
use usp_datamodel::{DataModel, Item};

/// An enabled subscription with a known recipient: what a notification needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Sub {
    /// The row's instance number in `Device.LocalAgent.Subscription.{i}.`.
    pub row: u32,
    /// `ID`.
    pub id: String,
    /// `NotifType`.
    pub kind: Kind,
    /// The recipient controller's Endpoint ID.
    pub to: String,
    /// The recipient controller's instance number.
    pub controller: u32,
    /// `NotifRetry`.
    pub retry: bool,
    /// `NotifExpiration`, seconds (0: never).
    pub expiration: u32,
    /// `Persistent`.
    pub persistent: bool,
    /// Whether `TriggerAction` sends the Notify (`Notify`, `NotifyAndConfig`).
    pub notify: bool,
    /// `TriggerConfigSettings` when `TriggerAction` applies it (`Config`,
    /// `NotifyAndConfig`), else empty.
    pub config: String,
}

/// A ReferenceList item with wildcards or searches, filed under the object it designates.
#[derive(Debug)]
struct Dynamic {
    sub: usize,
    path: Path,
    leaf: Option<Leaf>,
}

/// Numbers → subscriptions.
type ByNumbers = HashMap<Box<[u32]>, Vec<usize>>;

/// The index of one notification kind.
#[derive(Debug, Default)]
struct KindIndex {
    leaves: HashMap<Leaf, ByNumbers>,
    objects: HashMap<ObjId, ByNumbers>,
    dynamic: HashMap<ObjId, Vec<Dynamic>>,
    followed: Vec<(usize, Path)>,
}

impl KindIndex {
    fn is_empty(&self) -> bool {
        self.leaves.is_empty()
            && self.objects.is_empty()
            && self.dynamic.is_empty()
            && self.followed.is_empty()
    }
}

/// How a ReferenceList item addresses the model.
enum Class {
    Exact { obj: ObjId, numbers: Vec<u32>, leaf: Option<Leaf> },
    Dynamic { obj: ObjId, leaf: Option<Leaf> },
    Followed,
}

/// The index of every enabled subscription (see the module doc).
#[derive(Debug, Default)]
pub(crate) struct Index {
    /// The subscriptions, by position.
    pub subs: Vec<Sub>,
    kinds: [KindIndex; 5],
    /// The ReferenceList items of the ValueChange subscriptions that may designate live
    /// parameters (those the data model must poll).
    pub live_refs: Vec<Path>,
}

impl Index {
    /// Builds the index of `subs`, each with its ReferenceList text. Items that are not valid
    /// paths of the supported model are skipped with a log line.
    pub(crate) fn build(schema: &Schema, subs: Vec<(Sub, String)>) -> Index {
        let mut index = Index::default();
        let mut live = HashMap::new();
        for (i, (sub, refs)) in subs.into_iter().enumerate() {
            let kind = sub.kind;
            for item in list_items(&refs) {
                let item = item.trim();
                let Ok(path) = Path::parse(item) else {
                    log::debug!("subscription {}: {item:?} is not a path", sub.id);
                    continue;
                };
                let Some(class) = classify(schema, &path) else {
                    log::debug!("subscription {}: {item:?} is not in the data model", sub.id);
                    continue;
                };
                if kind == Kind::ValueChange && may_be_live(schema, &class, &mut live) {
                    index.live_refs.push(path.clone());
                }
                let ki = &mut index.kinds[kind.slot()];
                match class {
                    Class::Exact { obj: _, numbers, leaf: Some(leaf) } => ki
                        .leaves
                        .entry(leaf)
                        .or_default()
                        .entry(numbers.into())
                        .or_default()
                        .push(i),
                    Class::Exact { obj, numbers, leaf: None } => ki
                        .objects
                        .entry(obj)
                        .or_default()
                        .entry(numbers.into())
                        .or_default()
                        .push(i),
                    Class::Dynamic { obj, leaf } => {
                        ki.dynamic.entry(obj).or_default().push(Dynamic { sub: i, path, leaf })
                    }
                    Class::Followed => ki.followed.push((i, path)),
                }
            }
            index.subs.push(sub);
        }
        index
    }

    /// True when some subscription of `kind` exists.
    pub(crate) fn has(&self, kind: Kind) -> bool {
        !self.kinds[kind.slot()].is_empty()
    }

    /// The positions (ascending, each once) of the subscriptions of `kind` whose ReferenceList
    /// covers `leaf` of the instance `obj`/`numbers` (or the instance itself when `leaf` is
    /// `None`: creation and deletion).
    pub(crate) fn matching(
        &self,
        dm: &mut DataModel,
        kind: Kind,
        obj: ObjId,
        numbers: &[u32],
        leaf: Option<Leaf>,
    ) -> Vec<usize> {
        let ki = &self.kinds[kind.slot()];
        let mut hits = Vec::new();
        if ki.is_empty() {
            return hits;
        }
        if let Some(leaf) = leaf {
            if let Some(subs) = ki.leaves.get(&leaf).and_then(|m| m.get(numbers)) {
                hits.extend_from_slice(subs);
            }
            for d in ki.dynamic.get(&obj).into_iter().flatten() {
                if d.leaf == Some(leaf) && dm.path_designates(&d.path, obj, numbers) {
                    hits.push(d.sub);
                }
            }
        }
        // Object paths: the instance itself and every object above it.
        let mut cur = Some(obj);
        while let Some(o) = cur {
            let def = dm.schema().obj(o);
            let (multi, parent) = (def.multi, def.parent);
            let depth = dm.schema().depth(o).min(numbers.len());
            let own = &numbers[..depth];
            // A table path covers the rows of its own table, and everything below them for the
            // items of a row (parameters, commands, events).
            let table =
                (multi && depth > 0 && (o == obj || leaf.is_some())).then(|| &numbers[..depth - 1]);
            if let Some(m) = ki.objects.get(&o) {
                hits.extend(m.get(own).into_iter().flatten());
                hits.extend(table.and_then(|t| m.get(t)).into_iter().flatten());
            }
            for d in ki.dynamic.get(&o).into_iter().flatten() {
                if d.leaf.is_none()
                    && (dm.path_designates(&d.path, o, own)
                        || table.is_some_and(|t| dm.path_designates(&d.path, o, t)))
                {
                    hits.push(d.sub);
                }
            }
            cur = parent;
        }
        for (sub, path) in &ki.followed {
            if followed_covers(dm, path, obj, numbers, leaf) {
                hits.push(*sub);
            }
        }
        hits.sort_unstable();
        hits.dedup();
        hits.retain(|&i| {
            self.subs.get(i).is_some_and(|s| may_notify(dm, &s.to, kind, obj, numbers, leaf))
        });
        hits
    }
}

/// Whether the controller `to` has the Notify permission a notification of `kind` about
/// `leaf` of `obj`/`numbers` (the row itself when `leaf` is `None`) needs.
fn may_notify(
    dm: &mut DataModel,
    to: &str,
    kind: Kind,
    obj: ObjId,
    numbers: &[u32],
    leaf: Option<Leaf>,
) -> bool {
    let access = dm.access_of(to);
    if access.is_full() {
        return true;
    }
    let schema = dm.schema();
    let rights = match (kind, leaf) {
        (Kind::ValueChange, Some(Leaf::Param(p))) => access.param(schema, p, numbers),
        (Kind::ObjectCreation, _) => access.object(schema, obj, numbers),
        (Kind::ObjectDeletion, _) => access.instance(schema, obj, numbers),
        (Kind::OperationComplete, Some(Leaf::Command(c))) => access.command(schema, c, numbers),
        (Kind::Event, Some(Leaf::Event(e))) => access.event(schema, e, numbers),
        _ => return false,
    };
    rights.notify()
}

/// Classifies a ReferenceList path against the schema; `None` when it names nothing there.
fn classify(schema: &Schema, path: &Path) -> Option<Class> {
    let mut segments = path.segments.iter();
    if !matches!(segments.next(), Some(Segment::Name(n)) if &**n == "Device") {
        return None;
    }
    let (mut obj, mut k, mut numbers, mut dynamic) = (ObjId::ROOT, 0usize, Vec::new(), false);
    for segment in segments {
        let at_table = k < schema.depth(obj);
        match segment {
            Segment::Name(name) if !at_table => obj = schema.child(obj, name)?,
            Segment::Instance(n) if at_table => {
                numbers.push(*n);
                k += 1;
            }
            Segment::Wildcard | Segment::Search(_) if at_table => {
                dynamic = true;
                k += 1;
            }
            Segment::Follow(_) => return Some(Class::Followed),
            _ => return None,
        }
    }
    let leaf = match &path.tail {
        Tail::Object => None,
        Tail::Param(n) => Some(Leaf::Param(schema.param_by_name(obj, n)?)),
        Tail::Command(n) => Some(Leaf::Command(schema.command_by_name(obj, n)?)),
        Tail::Event(n) => Some(Leaf::Event(schema.event_by_name(obj, n)?)),
    };
    if leaf.is_some() && k < schema.depth(obj) {
        return None;
    }
    Some(if dynamic { Class::Dynamic { obj, leaf } } else { Class::Exact { obj, numbers, leaf } })
}

/// True when a classified ReferenceList item may designate live parameters that report
/// changes (a path with reference steps always may).
fn may_be_live(schema: &Schema, class: &Class, memo: &mut HashMap<ObjId, bool>) -> bool {
    let live = |p: ParamId| {
        let def = schema.param(p);
        def.storage == Storage::Live && def.value_change
    };
    match class {
        Class::Exact { leaf: Some(Leaf::Param(p)), .. }
        | Class::Dynamic { leaf: Some(Leaf::Param(p)), .. } => live(*p),
        Class::Exact { obj, leaf: None, .. } | Class::Dynamic { obj, leaf: None } => {
            has_live(schema, *obj, memo)
        }
        Class::Followed => true,
        _ => false,
    }
}

/// True when `obj` or an object below it declares a live parameter that reports changes.
pub(crate) fn has_live(schema: &Schema, obj: ObjId, memo: &mut HashMap<ObjId, bool>) -> bool {
    if let Some(&known) = memo.get(&obj) {
        return known;
    }
    let def = schema.obj(obj);
    let own = def.params.iter().any(|p| {
        let pd = schema.param(*p);
        pd.storage == Storage::Live && pd.value_change
    });
    let result = own || def.children.iter().any(|c| has_live(schema, *c, memo));
    memo.insert(obj, result);
    result
}

/// True when a path with reference steps, resolved now, covers the change.
fn followed_covers(
    dm: &mut DataModel,
    path: &Path,
    obj: ObjId,
    numbers: &[u32],
    leaf: Option<Leaf>,
) -> bool {
    let Ok(targets) = dm.resolve(&Requester::Internal, path) else { return false };
    targets.iter().any(|t| match (t.item, leaf) {
        (Item::Object, _) => {
            let mut cur = Some(obj);
            while let Some(o) = cur {
                if o == t.obj && numbers.starts_with(&t.numbers) {
                    return true;
                }
                cur = dm.schema().obj(o).parent;
            }
            false
        }
        (Item::Param(p), Some(Leaf::Param(q))) => p == q && t.numbers == numbers,
        (Item::Command(c), Some(Leaf::Command(d))) => c == d && t.numbers == numbers,
        (Item::Event(e), Some(Leaf::Event(f))) => e == f && t.numbers == numbers,
        _ => false,
    })
}
