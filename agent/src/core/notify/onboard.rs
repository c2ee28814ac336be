//! OnBoardRequest (TR-369 R-NOT.5): `Device.LocalAgent.Controller.{i}.SendOnBoardRequest()`
//! makes the Controller module emit the undeclared event `ONBOARD_REQUEST_EVENT` on the
//! controller's instance; the core turns it into an OnBoardRequest Notify to that controller.
//!
//! The Notify has an empty subscription_id, `send_resp=true`, and is retried with the
//! controller's retry parameters until its NotifyResp arrives (it never expires and is not
//! persisted). `oui`, `product_class` and `serial_number` are the values of
//! `Device.DeviceInfo.ManufacturerOUI`, `ProductClass` and `SerialNumber` (empty when
//! unreadable); `agent_supported_protocol_versions` lists the USP versions this agent speaks.

use usp_datamodel::DataModel;
use usp_datamodel::plugin::Requester;
use usp_datamodel::schema::ObjId;
use usp_proto::msg::notify::{Notification, OnBoardRequest};
use usp_proto::msg::request::ReqType;
use usp_proto::msg::{Msg, Notify};

use crate::core::{Core, Outgoing, PendingNotify, SUPPORTED_VERSIONS};

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
