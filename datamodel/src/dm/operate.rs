//! Commands: checking input arguments, running, and canceling asynchronous runs.

use super::{DataModel, Item, Target};
use crate::error::{ErrorCode, UspError};
use crate::plugin::{Instance, OpHandle, Outcome, PluginId, Requester};
use crate::value::Value;

/// An asynchronous command still running.
#[derive(Clone, Debug)]
pub(crate) struct Running {
    pub(crate) handle: OpHandle,
    pub(crate) plugin: PluginId,
    /// The `Request.{i}` row the core created for it, once linked.
    pub(crate) request: Option<Instance>,
}

impl DataModel {
    /// Runs the command of `target` with the controller's input arguments: a missing mandatory
    /// argument or an invalid value fails with 7027, unknown arguments are ignored, defaults
    /// fill omitted optional ones; an argument of a multi-instance input object
    /// (`TimeWindow.{i}.Start`) takes each key naming an instance within its bound. Returns the run's handle and what the command did.
    pub fn operate(
        &mut self,
        who: &Requester,
        target: &Target,
        input: &[(String, String)],
    ) -> Result<(OpHandle, Outcome), UspError> {
        let Item::Command(cmd) = target.item else {
            return Err(UspError::invalid_path(target.obj_path(self)));
        };
        let def = self.schema.command(cmd);
        let mut args: Vec<(Box<str>, Value)> = Vec::with_capacity(def.inputs.len());
        for arg in &def.inputs {
            if arg.instances > 0 {
                for (key, text) in input.iter().filter(|(k, _)| arg.instance_of(k).is_some()) {
                    let value = arg.constraints.parse(arg.ty, text).map_err(|e| {
                        UspError::new(ErrorCode::InvalidCommandArgs, format!("argument {key}: {e}"))
                    })?;
                    args.push((key.as_str().into(), value));
                }
                continue;
            }
            let given = input.iter().find(|(k, _)| k == &*arg.name).map(|(_, v)| v.as_str());
            let text = match (given, &arg.default) {
                (Some(t), _) => t,
                (None, Some(d)) => d,
                (None, None) if arg.mandatory => {
                    return Err(UspError::new(
                        ErrorCode::InvalidCommandArgs,
                        format!("{}() needs the argument {}", def.name, arg.name),
                    ));
                }
                (None, None) => continue,
            };
            let value = arg.constraints.parse(arg.ty, text).map_err(|e| {
                UspError::new(ErrorCode::InvalidCommandArgs, format!("argument {}: {e}", arg.name))
            })?;
            args.push((arg.name.clone(), value));
        }
        let plugin = def.plugin;
        let is_async = def.is_async;
        let handle = self.new_handle();
        let inst = self.instance(target.obj, &target.numbers);
        let outcome = self.call(plugin, who, |p, ctx| p.operate(ctx, cmd, &inst, &args, handle));
        self.apply_deferred();
        let outcome = outcome?;
        if is_async && outcome == Outcome::Running {
            self.running.push(Running { handle, plugin, request: None });
        }
        Ok((handle, outcome))
    }

    /// Links a running command to the `Request.{i}` row created for it, so that the row's
    /// `Cancel()` reaches the command.
    pub fn link_request(&mut self, handle: OpHandle, request: Instance) {
        if let Some(r) = self.running.iter_mut().find(|r| r.handle == handle) {
            r.request = Some(request);
        }
    }

    /// Cancels the run linked to the `Request.{i}` row `request` (see [`crate::plugin::Ctx`]
    /// `cancel_request`); the plugin later completes it with 7023.
    pub(crate) fn cancel_request(&mut self, request: &Instance) -> Result<(), UspError> {
        let Some(run) = self.running.iter().find(|r| r.request.as_ref() == Some(request)).cloned()
        else {
            return Err(UspError::new(
                ErrorCode::CommandFailure,
                "no running command for this request",
            ));
        };
        let result =
            self.call(run.plugin, &Requester::Internal, |p, ctx| p.cancel(ctx, run.handle));
        self.apply_deferred();
        result
    }

    /// Forgets runs that completed (their OperationComplete is among `events`).
    pub(crate) fn forget_completed(&mut self, events: &[crate::plugin::DmEvent]) {
        for e in events {
            if let crate::plugin::DmEvent::OperationComplete { handle, .. } = e {
                self.running.retain(|r| r.handle != *handle);
            }
        }
    }

    /// The handles of the commands still running.
    pub fn running(&self) -> Vec<OpHandle> {
        self.running.iter().map(|r| r.handle).collect()
    }
}
