//! Oktopus' firmware update through the core, with the real areas on the lab platform (A/B
//! banks as files) and a real HTTP server on 127.0.0.1: the Get of the images' Status, the
//! Download with URL, AutoActivate=true and FileSize=0 on the first `Available` image, then
//! OperationComplete, TransferComplete! (both with the Operate's CommandKey), the reboot the
//! host is asked for, and after the restart `Boot!` with `FirmwareUpdated=true` and the new
//! `SoftwareVersion`.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use usp_areas::firmware::lab::make_image;
use usp_areas::{AgentIdentity, Host, Platform};
use usp_datamodel::plugin::{SystemRequest, Wake};
use usp_proto::msg::notify::Notification;
use usp_proto::msg::notify::operation_complete::OperationResp as DoneResp;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::{self};
use usp_testkit::http::{HttpServer, Route};

use super::harness::*;
use super::subs::*;
use crate::BootInfo;

/// Wakes by sending on a channel the test waits on.
struct ChannelWake(Mutex<Sender<()>>);

impl Wake for ChannelWake {
    fn wake(&self) {
        let _ = self.0.lock().map(|tx| tx.send(()));
    }
}

fn lab(dir: PathBuf) -> (Harness, Receiver<()>) {
    let (tx, woken) = mpsc::channel();
    let wake: Arc<dyn Wake> = Arc::new(ChannelWake(Mutex::new(tx)));
    let h = Harness::with_host(move || {
        let identity = AgentIdentity { endpoint_id: AGENT.into(), ..Default::default() };
        Host { waker: wake.clone(), ..Host::new(identity, Platform::Lab, dir.clone()) }
    });
    (h, woken)
}

/// Handles wakes until the core has a system request, at most 10 s; the Notify messages
/// sent meanwhile.
fn until_reboot(h: &mut Harness, woken: &Receiver<()>) -> (Vec<Sent>, Vec<SystemRequest>) {
    let mut sent = Vec::new();
    for _ in 0..100 {
        if woken.recv_timeout(Duration::from_millis(100)).is_ok() {
            sent.extend(notifies(&h.core.handle_wake(h.now)));
        }
        let requests = h.core.take_system_requests();
        if !requests.is_empty() {
            return (sent, requests);
        }
    }
    panic!("no reboot asked; sent: {sent:?}");
}

#[test]
fn oktopus_firmware_update_reboots_into_the_new_image() {
    let dir = tempfile::tempdir().unwrap();
    let server = HttpServer::start();
    server.route("/fw.img", Route::File(make_image("2.0.0-lab", &[5u8; 100_000], false)));
    let (mut h, woken) = lab(dir.path().to_owned());
    let old = h.value("Device.DeviceInfo.SoftwareVersion").unwrap();
    let _ = h.core.boot(h.now, BootInfo::local(true, false));
    subscribe(&mut h, "oc", "OperationComplete", "Device.DeviceInfo.FirmwareImage.", &[]);
    subscribe(&mut h, "tc", "Event", "Device.LocalAgent.TransferComplete!", &[]);
    subscribe(&mut h, "boot", "Event", "Device.Boot!", &[("Persistent", "true")]);

    // Oktopus: Get the images' Status, pick the first Available one.
    let get = msg::Get {
        param_paths: vec!["Device.DeviceInfo.FirmwareImage.*.Status".into()],
        max_depth: 1,
    };
    let RespType::GetResp(r) = h.response(ReqType::Get(get)) else { panic!("not a GetResp") };
    let images = &r.req_path_results[0].resolved_path_results;
    assert_eq!(images.len(), 2, "two images, or Oktopus refuses the device");
    let pick = images
        .iter()
        .find(|i| matches!(i.result_params["Status"].as_str(), "Available" | "ValidationFailed"))
        .expect("an Available image");
    let partition = &pick.resolved_path[pick.resolved_path.len() - 2..];
    let operate = msg::Operate {
        command: format!("Device.DeviceInfo.FirmwareImage.{partition}Download()"),
        command_key: "Download()".into(),
        send_resp: true,
        input_args: [("URL", server.url("/fw.img")), ("AutoActivate", "true".into())]
            .into_iter()
            .chain([("FileSize", "0".into())])
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    };
    let RespType::OperateResp(r) = h.response(ReqType::Operate(operate)) else {
        panic!("not an OperateResp")
    };
    assert!(format!("{r:?}").contains("Device.LocalAgent.Request."), "async: {r:?}");

    let (sent, requests) = until_reboot(&mut h, &woken);
    let done = sent.iter().position(|s| matches!(s.notification(), Notification::OperComplete(_)));
    let tc = sent.iter().position(|s| matches!(s.notification(), Notification::Event(_)));
    let (Some(done), Some(tc)) = (done, tc) else { panic!("both notified: {sent:?}") };
    assert!(done < tc, "OperationComplete, then TransferComplete!");
    let Notification::OperComplete(oc) = sent[done].notification() else { unreachable!() };
    assert_eq!(oc.command_key, "Download()");
    assert!(matches!(oc.operation_resp, Some(DoneResp::ReqOutputArgs(_))), "{oc:?}");
    let Notification::Event(e) = sent[tc].notification() else { unreachable!() };
    assert_eq!(
        (e.obj_path.as_str(), e.event_name.as_str()),
        ("Device.LocalAgent.", "TransferComplete!")
    );
    assert_eq!(e.params["CommandKey"], "Download()");
    assert_eq!(e.params["Requestor"], CTRL);
    assert_eq!(e.params["FaultCode"], "0");
    assert_eq!(e.params["TransferURL"], server.url("/fw.img"));
    assert!(
        matches!(&requests[..], [SystemRequest::Reboot { cause, .. }] if cause == "RemoteReboot")
    );

    // The host restarts the agent: the new image runs.
    h.restart(None);
    let out = h.core.boot(h.now, BootInfo::local(false, false));
    let boot = notifies(&out);
    let boot = boot.iter().find(|s| s.notify.subscription_id == "boot").expect("Boot!");
    let Notification::Event(e) = boot.notification() else { panic!("not an Event") };
    assert_eq!(e.params["Cause"], "RemoteReboot");
    assert_eq!(e.params["CommandKey"], "Download()", "the Download's CommandKey");
    assert_eq!(e.params["FirmwareUpdated"], "true");
    let new = h.value("Device.DeviceInfo.SoftwareVersion").unwrap();
    assert_eq!(new, "2.0.0-lab");
    assert_ne!(new, old);
    assert_eq!(
        h.value("Device.DeviceInfo.ActiveFirmwareImage").as_deref(),
        Some("Device.DeviceInfo.FirmwareImage.2.")
    );
}

/// Handles wakes until a Notify `pick` accepts arrives, at most 10 s; the Notify messages.
fn until_notify(h: &mut Harness, woken: &Receiver<()>, pick: impl Fn(&Sent) -> bool) -> Vec<Sent> {
    let mut sent = Vec::new();
    for _ in 0..100 {
        if woken.recv_timeout(Duration::from_millis(100)).is_ok() {
            sent.extend(notifies(&h.core.handle_wake(h.now)));
        }
        if sent.iter().any(&pick) {
            return sent;
        }
    }
    panic!("not notified; sent: {sent:?}");
}

#[test]
fn a_download_canceled_through_its_request_ends_with_7023_and_the_bank_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let server = HttpServer::start();
    let image = make_image("2.0.0-lab", &[3u8; 400_000], false);
    let slow = Route::Slow { body: image, chunk: 16_384, pause: Duration::from_millis(40) };
    server.route("/slow.img", slow);
    let (mut h, woken) = lab(dir.path().to_owned());
    let _ = h.core.boot(h.now, BootInfo::local(true, false));
    subscribe(&mut h, "oc", "OperationComplete", "Device.DeviceInfo.FirmwareImage.", &[]);
    subscribe(&mut h, "tc", "Event", "Device.LocalAgent.TransferComplete!", &[]);
    let operate = msg::Operate {
        command: "Device.DeviceInfo.FirmwareImage.2.Download()".into(),
        command_key: "dl-cancel".into(),
        send_resp: true,
        input_args: [("URL".to_owned(), server.url("/slow.img"))]
            .into_iter()
            .chain([("AutoActivate".to_owned(), "true".to_owned())])
            .collect(),
    };
    let RespType::OperateResp(r) = h.response(ReqType::Operate(operate)) else {
        panic!("not an OperateResp")
    };
    let r = format!("{r:?}");
    let start = r.find("Device.LocalAgent.Request.").expect("a Request row");
    let row: String = r[start..].chars().take_while(|c| *c != '"').collect();
    assert_eq!(h.value("Device.DeviceInfo.FirmwareImage.2.Status").as_deref(), Some("Downloading"));
    let cancel = msg::Operate {
        command: format!("{row}Cancel()"),
        command_key: "c".into(),
        send_resp: true,
        input_args: Default::default(),
    };
    let resp = h.response(ReqType::Operate(cancel));
    assert!(matches!(resp, RespType::OperateResp(_)), "{resp:?}");
    let sent = until_notify(&mut h, &woken, |s| matches!(s.notification(), Notification::Event(_)));
    let oc = sent.iter().find_map(|s| match s.notification() {
        Notification::OperComplete(oc) => Some(oc),
        _ => None,
    });
    let oc = format!("{:?}", oc.expect("OperationComplete"));
    assert!(oc.contains("7023"), "canceled: {oc}");
    let tc = sent.iter().find_map(|s| match s.notification() {
        Notification::Event(e) => Some(e),
        _ => None,
    });
    let tc = tc.expect("TransferComplete!");
    assert_eq!(tc.params["FaultCode"], "7023");
    assert_eq!(tc.params["CommandKey"], "dl-cancel");
    assert_eq!(h.value("Device.DeviceInfo.FirmwareImage.2.Status").as_deref(), Some("NoImage"));
    assert!(h.core.take_system_requests().is_empty(), "no reboot");
    assert!(!dir.path().join("firmware/download.part").exists(), "the partial file is gone");
}

#[test]
fn a_running_download_reports_its_progress_on_its_request_row() {
    let dir = tempfile::tempdir().unwrap();
    let server = HttpServer::start();
    let image = make_image("2.0.0-lab", &[4u8; 300_000], false);
    let slow = Route::Slow { body: image, chunk: 16_384, pause: Duration::from_millis(60) };
    server.route("/slow.img", slow);
    let (mut h, woken) = lab(dir.path().to_owned());
    let _ = h.core.boot(h.now, BootInfo::local(true, false));
    subscribe(&mut h, "oc", "OperationComplete", "Device.DeviceInfo.FirmwareImage.", &[]);
    let operate = msg::Operate {
        command: "Device.DeviceInfo.FirmwareImage.2.Download()".into(),
        command_key: "dl-progress".into(),
        send_resp: true,
        input_args: [("URL".to_owned(), server.url("/slow.img"))]
            .into_iter()
            .chain([("AutoActivate".to_owned(), "false".to_owned())])
            .collect(),
    };
    let RespType::OperateResp(r) = h.response(ReqType::Operate(operate)) else {
        panic!("not an OperateResp")
    };
    let r = format!("{r:?}");
    let start = r.find("Device.LocalAgent.Request.").expect("a Request row");
    let row: String = r[start..].chars().take_while(|c| *c != '"').collect();
    let param = format!("{row}{}", usp_areas::local_agent::PROGRESS);
    assert_eq!(h.value(&param).as_deref(), Some("0"));
    // Each second of the core's clock, the plugin copies the progress to the row.
    let mut seen = Vec::new();
    let mut done = false;
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(100));
        let mut out = h.advance(1);
        while woken.try_recv().is_ok() {
            out.extend(h.core.handle_wake(h.now));
        }
        if let Some(v) = h.value(&param) {
            seen.push(v.parse::<u32>().unwrap());
        }
        if notifies(&out).iter().any(|s| matches!(s.notification(), Notification::OperComplete(_)))
        {
            done = true;
            break;
        }
    }
    assert!(done, "the Download completed; progress seen: {seen:?}");
    assert!(seen.iter().any(|p| (1..100).contains(p)), "a value between: {seen:?}");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "never backwards: {seen:?}");
}
