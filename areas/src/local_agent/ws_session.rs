//! `Device.LocalAgent.Controller.{i}.MTP.{i}.WebSocket.Reset()`: (re)start the agent's WebSocket
//! session towards a controller.
//!
//! A plugin of its own so that the Controller plugin's commands stay apart: it adds one command
//! to an object the Controller plugin declares, and must be registered after it. Like
//! `Device.MQTT.Client.{i}.ForceReconnect()`, it only asks the host, through
//! [`SystemRequest::Reconnect`] naming the `Controller.{i}.MTP.{i}.` row, to close and re-open
//! that link; the data model never touches a connection.

use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::plugin::{Ctx, Instance, OpHandle, Outcome, Plugin, SystemRequest};
use usp_datamodel::schema::{CmdId, SchemaBuilder};
use usp_datamodel::value::Value;

/// The plugin serving `Controller.{i}.MTP.{i}.WebSocket.Reset()`.
#[derive(Debug, Default)]
pub struct WebSocketSessions;

impl Plugin for WebSocketSessions {
    fn name(&self) -> &'static str {
        "WebSocketSessions"
    }

    fn register(&mut self, b: &mut SchemaBuilder) {
        let ws = b.object("Device.LocalAgent.Controller.{i}.MTP.{i}.WebSocket.");
        b.command(ws, "Reset", false);
    }

    fn operate(
        &mut self,
        ctx: &mut Ctx,
        cmd: CmdId,
        inst: &Instance,
        _input: &[(Box<str>, Value)],
        _handle: OpHandle,
    ) -> Result<Outcome, UspError> {
        let schema = ctx.schema();
        let (true, Some(mtp)) =
            (&*schema.command(cmd).name == "Reset", schema.obj(inst.obj).parent)
        else {
            return Err(UspError::new(ErrorCode::CommandFailure, "unknown command"));
        };
        let link = schema.instance_path(mtp, &inst.numbers);
        ctx.system(SystemRequest::Reconnect { link });
        Ok(Outcome::Done(Vec::new()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::local_agent::{Controllers, LocalAgent};
    use crate::testutil::*;
    use usp_datamodel::plugin::DmEvent;

    #[test]
    fn reset_asks_the_host_to_reconnect_the_controller_mtp() {
        let mut t = Lab::new(vec![
            Box::new(LocalAgent::new(Default::default())),
            Box::new(Controllers),
            Box::new(WebSocketSessions),
        ]);
        let c = t.add("Device.LocalAgent.Controller.", &[("EndpointID", "proto::a")]).unwrap();
        t.add(&format!("{c}MTP."), &[("Protocol", "MQTT")]).unwrap();
        let m = t.add(&format!("{c}MTP."), &[("Protocol", "WebSocket")]).unwrap();
        assert_eq!(t.get(&format!("{m}WebSocket.CurrentRetryCount")), "0");
        let e = t.set(&format!("{m}WebSocket."), &[("CurrentRetryCount", "3")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::ParamReadOnly);
        t.events();
        let (_, out) = t.operate(&format!("{m}WebSocket.Reset()"), &[]).unwrap();
        assert_eq!(out, Outcome::Done(vec![]));
        let want = DmEvent::System(SystemRequest::Reconnect {
            link: "Device.LocalAgent.Controller.1.MTP.2.".into(),
        });
        assert_eq!(t.events(), vec![want]);
    }
}
