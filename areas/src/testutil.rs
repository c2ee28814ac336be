//! Test helpers: a data model on a [`MemStore`] driven by plain path strings.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;
use usp_datamodel::error::UspError;
use usp_datamodel::path::Path;
use usp_datamodel::plugin::{DmEvent, Now, OpHandle, Outcome, Plugin, Requester};
use usp_datamodel::store::MemStore;
use usp_datamodel::value::DateTime;
use usp_datamodel::{DataModel, Item};

/// A data model under test, with its store and the controller the tests act as.
pub(crate) struct Lab {
    pub(crate) dm: DataModel,
    pub(crate) store: MemStore,
    pub(crate) who: Requester,
}

/// `Now` at `secs` of uptime, with a known wall clock (2024-05-01T12:00:00Z + secs).
pub(crate) fn at(secs: u64) -> Now {
    Now {
        uptime: Duration::from_secs(secs),
        wall: DateTime::from_unix(1_714_564_800 + i64::try_from(secs).unwrap()),
    }
}

impl Lab {
    /// A data model of `plugins` on a fresh store, at uptime 0.
    pub(crate) fn new(plugins: Vec<Box<dyn Plugin>>) -> Lab {
        Lab::on(plugins, MemStore::new(), at(0))
    }

    /// A data model of `plugins` on `store` (a restart when the store was used before).
    pub(crate) fn on(plugins: Vec<Box<dyn Plugin>>, store: MemStore, now: Now) -> Lab {
        let dm = DataModel::new(plugins, Box::new(store.clone()), now).expect("data model");
        Lab { dm, store, who: Requester::Controller("proto::controller".into()) }
    }

    fn target(&mut self, path: &str) -> usp_datamodel::Target {
        let p = Path::parse(path).expect("path");
        let mut targets = self.dm.resolve(&Requester::Internal, &p).expect("resolve");
        assert_eq!(targets.len(), 1, "{path} names one target");
        targets.remove(0)
    }

    /// The value text of the parameter at `path`.
    pub(crate) fn get(&mut self, path: &str) -> String {
        self.try_get(path).unwrap_or_else(|e| panic!("get {path}: {e}"))
    }

    /// The value text of the parameter at `path`, or why it cannot be read.
    pub(crate) fn try_get(&mut self, path: &str) -> Result<String, UspError> {
        let p = Path::parse(path).expect("path");
        let t = self.dm.resolve(&Requester::Internal, &p)?.remove(0);
        let Item::Param(param) = t.item else { panic!("{path} is not a parameter") };
        let mut v = self.dm.read_params(&Requester::Internal, t.obj, &t.numbers, &[param]);
        v.remove(0).map(|v| v.to_string())
    }

    /// Every readable parameter of the object instance at `path`, name and text.
    pub(crate) fn read_all(&mut self, path: &str) -> Vec<(String, String)> {
        let t = self.target(path);
        let read = self.dm.read_all(&Requester::Internal, t.obj, &t.numbers);
        read.into_iter()
            .map(|(p, v)| (self.dm.schema().param(p).name.to_string(), v.to_string()))
            .collect()
    }

    /// Sets parameters of one object instance as the test controller, in one transaction.
    pub(crate) fn set(&mut self, obj_path: &str, values: &[(&str, &str)]) -> Result<(), UspError> {
        let t = self.target(obj_path);
        let mut changes = Vec::new();
        for (name, text) in values {
            let param = self.dm.schema().param_by_name(t.obj, name).expect("param");
            changes.push((param, self.dm.check_value(&self.who, param, text, false)?));
        }
        self.dm.begin(self.who.clone());
        let r = self.dm.set_values(t.obj, &t.numbers, &changes);
        if r.is_ok() {
            self.dm.commit()
        } else {
            self.dm.abort()
        }
        self.dm.flush().expect("flush");
        r
    }

    /// Adds a row to the table at `table_path` as `who`, returning its instance path.
    pub(crate) fn add_as(
        &mut self,
        who: Requester,
        table_path: &str,
        values: &[(&str, &str)],
    ) -> Result<String, UspError> {
        let t = self.target(table_path);
        let mut initial = Vec::new();
        for (name, text) in values {
            let param = self.dm.schema().param_by_name(t.obj, name).expect("param");
            initial.push((param, self.dm.check_value(&who, param, text, true)?));
        }
        self.dm.begin(who);
        let r = self.dm.add_row(t.obj, &t.numbers, &initial);
        match &r {
            Ok(_) => self.dm.commit(),
            Err(_) => self.dm.abort(),
        }
        self.dm.flush().expect("flush");
        r.map(|numbers| self.dm.schema().instance_path(t.obj, &numbers))
    }

    /// Adds a row as the test controller.
    pub(crate) fn add(
        &mut self,
        table_path: &str,
        values: &[(&str, &str)],
    ) -> Result<String, UspError> {
        self.add_as(self.who.clone(), table_path, values)
    }

    /// Deletes the row at `path` as the test controller.
    pub(crate) fn delete(&mut self, path: &str) -> Result<(), UspError> {
        let t = self.target(path);
        self.dm.begin(self.who.clone());
        let r = self.dm.delete_row(t.obj, &t.numbers);
        if r.is_ok() {
            self.dm.commit()
        } else {
            self.dm.abort()
        }
        self.dm.flush().expect("flush");
        r
    }

    /// Runs the command at `path` with input arguments as the test controller.
    pub(crate) fn operate(
        &mut self,
        path: &str,
        input: &[(&str, &str)],
    ) -> Result<(OpHandle, Outcome), UspError> {
        let t = self.target(path);
        let input: Vec<(String, String)> =
            input.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let who = self.who.clone();
        let r = self.dm.operate(&who, &t, &input);
        self.dm.flush().expect("flush");
        r
    }

    /// Advances the clock to `secs` of uptime.
    pub(crate) fn tick(&mut self, secs: u64) {
        self.dm.tick(at(secs), false);
    }

    /// Takes the events produced so far.
    pub(crate) fn events(&mut self) -> Vec<DmEvent> {
        self.dm.drain_events()
    }

    /// The events since the last call in short text form ([`DmEvent::describe`]: `path=value`
    /// with hidden values left out, `+path`, `-path`, `path Name!`).
    pub(crate) fn brief(&mut self) -> Vec<String> {
        let events = self.dm.drain_events();
        events.iter().filter_map(|e| e.describe(self.dm.schema())).collect()
    }

    /// Builds a new data model of `plugins` on the same store (a restart), at uptime 0.
    pub(crate) fn restart(self, plugins: Vec<Box<dyn Plugin>>) -> Lab {
        let store = self.store.clone();
        drop(self);
        Lab::on(plugins, store, at(0))
    }
}
