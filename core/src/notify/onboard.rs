//! OnBoardRequest (TR-369 R-NOT.5): `Device.LocalAgent.Controller.{i}.SendOnBoardRequest()`
//! makes the Controller module emit the undeclared event `ONBOARD_REQUEST_EVENT` on the
//! controller's instance; the core turns it into an OnBoardRequest Notify to that controller.
//!
//! The Notify has an empty subscription_id, `send_resp=true`, and is retried with the
//! controller's retry parameters until its NotifyResp arrives (it never expires and is not
//! persisted). `oui`, `product_class` and `serial_number` are the values of
//! `Device.DeviceInfo.ManufacturerOUI`, `ProductClass` and `SerialNumber` (empty when
//! unreadable); `agent_supported_protocol_versions` lists the USP versions this agent speaks.
//!
//! `OnBoardingRestartTime` (TP-469 1.102/1.103): when the NotifyResp of an OnBoardRequest
//! arrives and the controller's `OnBoardingRestartTime` is not 0, another OnBoardRequest is
//! due that many seconds later — sent then only if `OnBoardingComplete` is still false (setting
//! it to true is what cancels the timer). These timers are not persisted.

use std::time::Duration;

use usp_datamodel::DataModel;
use usp_datamodel::plugin::Requester;
use usp_datamodel::schema::ObjId;
use usp_datamodel::value::Value;
use usp_proto::msg::notify::{Notification, OnBoardRequest};
use usp_proto::msg::request::ReqType;
use usp_proto::msg::{Msg, Notify};

use crate::{Core, Outgoing, PendingNotify, SUPPORTED_VERSIONS};

/// The value of `Device.DeviceInfo.<name>` as text, empty when unreadable.
fn device_info(dm: &mut DataModel, name: &str) -> String {
    let schema = dm.schema();
    let Some(info) = schema.child(ObjId::ROOT, "DeviceInfo") else { return String::new() };
    let Some(p) = schema.param_by_name(info, name) else { return String::new() };
    match dm.read_params(&Requester::Internal, info, &[], &[p]).pop() {
        Some(Ok(v)) => v.to_string(),
        _ => String::new(),
    }
}

impl Core {
    /// Sends an OnBoardRequest to the controller instance `obj`/`numbers`.
    pub(crate) fn onboard_request(&mut self, obj: ObjId, numbers: &[u32], out: &mut Vec<Outgoing>) {
        let Some((table, param)) = self.controller_table() else { return };
        let (Some(&controller), true) = (numbers.first(), obj == table) else {
            log::warn!("OnBoardRequest asked for by an object that is not a controller");
            return;
        };
        let Some(to) = self
            .controller_rows(table, param)
            .into_iter()
            .find(|(n, _)| *n == controller)
            .map(|(_, eid)| eid)
            .filter(|eid| !eid.is_empty())
        else {
            log::warn!("OnBoardRequest: controller {controller} has no Endpoint ID");
            return;
        };
        let request = OnBoardRequest {
            oui: device_info(&mut self.dm, "ManufacturerOUI"),
            product_class: device_info(&mut self.dm, "ProductClass"),
            serial_number: device_info(&mut self.dm, "SerialNumber"),
            agent_supported_protocol_versions: SUPPORTED_VERSIONS.join(","),
        };
        let notify = Notify {
            subscription_id: String::new(),
            send_resp: true,
            notification: Some(Notification::OnBoardReq(request)),
        };
        let msg_id = self.new_msg_id();
        let payload = Msg::request(msg_id.clone(), ReqType::Notify(notify)).to_bytes();
        let info = PendingNotify { to: to.clone(), msg_id, subscription_id: String::new() };
        self.track_notify(info, controller, None, payload.clone(), 0, false);
        out.push(self.notify_outgoing(&to, payload));
    }
}

/// The value of the parameter `name` of controller row `n`, if readable.
fn controller_value(dm: &mut DataModel, table: ObjId, n: u32, name: &str) -> Option<Value> {
    let p = dm.schema().param_by_name(table, name)?;
    dm.read_params(&Requester::Internal, table, &[n], &[p]).pop()?.ok()
}

impl Core {
    /// The NotifyResp of the OnBoardRequest to controller row `controller` arrived: schedules
    /// the next one after its `OnBoardingRestartTime`, unless that is 0.
    pub(crate) fn onboard_acknowledged(&mut self, controller: u32) {
        let Some((table, _)) = self.controller_table() else { return };
        let restart = controller_value(&mut self.dm, table, controller, "OnBoardingRestartTime")
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        if restart == 0 {
            self.notifier.onboard_again.remove(&controller);
            return;
        }
        let at = self.dm.now().uptime + Duration::from_secs(restart);
        self.notifier.onboard_again.insert(controller, at);
    }

    /// Sends the OnBoardRequests whose restart time has come, to the controllers whose
    /// `OnBoardingComplete` is still false.
    pub(crate) fn onboard_due(&mut self, now: Duration, out: &mut Vec<Outgoing>) {
        let due: Vec<u32> = self
            .notifier
            .onboard_again
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(n, _)| *n)
            .collect();
        let Some((table, _)) = self.controller_table() else { return };
        for n in due {
            self.notifier.onboard_again.remove(&n);
            let done = controller_value(&mut self.dm, table, n, "OnBoardingComplete");
            match done {
                Some(Value::Boolean(false)) => self.onboard_request(table, &[n], out),
                Some(_) => log::debug!("controller {n} is onboarded: no OnBoardRequest again"),
                None => log::debug!("controller {n} is gone: no OnBoardRequest again"),
            }
        }
    }
}
