//! How to add a TR-181 area (documentation only; the example below is compiled and run by
//! `cargo test`).
//!
//! An area is a folder under `areas/src/` and one line in [`crate::AREAS`]:
//!
//! ```text
//! areas/src/fan/
//!   mod.rs       the schema (names, types, access from TR-181) and the Plugin glue
//!   backend.rs   the backend trait: what the area needs from the platform
//!   lab.rs       a simulated backend that runs anywhere (tests, `uspctl lab`)
//!   openwrt.rs   the OpenWrt backend (UCI, ubus), linux.rs the plain-Linux one
//! ```
//!
//! The rules the engine relies on:
//! - The plugin runs on the data-model thread and never blocks: no process, socket or file
//!   I/O in `get`, `set`, `commit` or `list`. It serves values from a cache and hands slow work
//!   to a [`crate::worker::Worker`].
//! - `validate`/`set` check new values synchronously (from cached capabilities) so that a bad
//!   value gets its USP error and nothing is written; `commit` submits one job for the whole
//!   transaction (one UCI commit, one reload) and returns at once.
//! - The worker's results, and events a watcher thread hears unasked (through the worker's
//!   [`crate::worker::Inbox`]), wake the data-model thread; the plugin takes them in `poll` and
//!   reports what changed through its `Ctx` (`value_changed`, `rows_changed`, `complete`).
//! - Parameters are matched by id, not by name: declare them through a
//!   [`usp_datamodel::fields::Fields`] table.
//! - Names, types, access and unique keys come from the Broadband Forum's machine-readable
//!   TR-181 (BroadbandForum/usp-data-models), not from memory.
//!
//! A complete small area, `Device.Fan.` with a writable `Speed` applied by a slow backend and
//! a live `RPM`:
//!
//! ```
//! use std::sync::Arc;
//! use usp_areas::worker::Worker;
//! use usp_areas::{Host, NoWake};
//! use usp_datamodel::error::{ErrorCode, UspError};
//! use usp_datamodel::fields::Fields;
//! use usp_datamodel::plugin::{Ctx, Instance, Plugin};
//! use usp_datamodel::schema::{ParamId, SchemaBuilder};
//! use usp_datamodel::value::{ParamType, Value};
//!
//! /// What the area needs from the platform (backend.rs).
//! trait FanBackend: Send + 'static {
//!     /// Sets the speed; slow (a command, a sysfs write). Returns the RPM reached.
//!     fn apply(&mut self, speed: u32) -> Result<u32, String>;
//! }
//!
//! /// The lab backend (lab.rs): a fan that spins at 30 RPM per percent.
//! struct LabFan;
//! impl FanBackend for LabFan {
//!     fn apply(&mut self, speed: u32) -> Result<u32, String> {
//!         Ok(speed * 30)
//!     }
//! }
//!
//! #[derive(Clone, Copy, PartialEq)]
//! enum Field { Speed, Rpm }
//!
//! /// The plugin glue (mod.rs).
//! struct Fan {
//!     fields: Fields<Field>,
//!     speed: u32,
//!     rpm: u32,
//!     staged: Option<u32>,
//!     worker: Worker<u32, Result<u32, String>>,
//! }
//!
//! impl Fan {
//!     fn new(host: &Host, mut backend: impl FanBackend) -> std::io::Result<Fan> {
//!         let worker = Worker::spawn("fan", host.waker.clone(), move |s| backend.apply(s))?;
//!         Ok(Fan { fields: Fields::default(), speed: 0, rpm: 0, staged: None, worker })
//!     }
//! }
//!
//! impl Plugin for Fan {
//!     fn name(&self) -> &'static str { "Fan" }
//!     fn register(&mut self, b: &mut SchemaBuilder) {
//!         let fan = b.object("Device.Fan.");
//!         let f = &mut self.fields;
//!         f.param(b, fan, "Speed", ParamType::UnsignedInt, Field::Speed).rw().live();
//!         f.param(b, fan, "RPM", ParamType::UnsignedInt, Field::Rpm).live();
//!     }
//!     fn get(&mut self, _: &mut Ctx, _: &Instance, params: &[ParamId], out: &mut Vec<Value>)
//!         -> Result<(), UspError> {
//!         for &p in params {
//!             let v = if self.fields.of(p) == Some(Field::Speed) { self.speed } else { self.rpm };
//!             out.push(Value::UnsignedInt(v));
//!         }
//!         Ok(())
//!     }
//!     fn set(&mut self, _: &mut Ctx, _: &Instance, changes: &[(ParamId, Value)])
//!         -> Result<(), UspError> {
//!         for (_, v) in changes {
//!             let speed = v.as_u64().filter(|s| *s <= 100).ok_or_else(|| {
//!                 UspError::new(ErrorCode::InvalidValue, "Speed is a percentage")
//!             })?;
//!             self.staged = Some(speed as u32);
//!         }
//!         Ok(())
//!     }
//!     fn commit(&mut self, _: &mut Ctx) {
//!         if let Some(speed) = self.staged.take() {
//!             if self.worker.submit(speed).is_ok() {
//!                 self.speed = speed;
//!             }
//!         }
//!     }
//!     fn abort(&mut self, _: &mut Ctx) { self.staged = None; }
//!     fn poll(&mut self, ctx: &mut Ctx) {
//!         let Some(obj) = ctx.schema().obj_by_path("Device.Fan.") else { return };
//!         let inst = Instance { obj, numbers: vec![], keys: vec![] };
//!         for result in self.worker.results().collect::<Vec<_>>() {
//!             match result {
//!                 Ok(rpm) => {
//!                     self.rpm = rpm;
//!                     if let Some(p) = self.fields.id(Field::Rpm) {
//!                         ctx.value_changed(&inst, p, &Value::UnsignedInt(rpm));
//!                     }
//!                 }
//!                 Err(why) => log::error!("Device.Fan.: the speed was not applied: {why}"),
//!             }
//!         }
//!     }
//! }
//!
//! // The line in AREAS would read:
//! // Area { name: "Fan", router: true, build: |h| vec![Box::new(Fan::new(h, LabFan).unwrap())] },
//! let host = Host { waker: Arc::new(NoWake), ..Host::agent_only(Default::default()) };
//! let fan = Fan::new(&host, LabFan).unwrap();
//! # let _ = fan;
//! ```
