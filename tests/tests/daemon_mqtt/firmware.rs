//! Oktopus' firmware update end to end: the `uspagent` binary on the lab platform (`--platform
//! lab`: A/B banks as files beside its database) behind a private Mosquitto, a firmware image
//! served by a 127.0.0.1 HTTP server. The controller replays Oktopus' sequence (the Get of
//! `Device.DeviceInfo.FirmwareImage.*.Status`, the Download with URL, AutoActivate=true and
//! FileSize=0 on the first `Available` image) and sees OperationComplete, TransferComplete!,
//! the agent restart (a new MQTTConnectRecord) and `Boot!` with FirmwareUpdated=true, and
//! reads the new SoftwareVersion.

use usp_areas::firmware::lab::make_image;
use usp_proto::msg::notify::Notification;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::{Get, Operate};
use usp_testkit::http::{HttpServer, Route};
use usp_testkit::mosquitto::{Mosquitto, MosquittoOpts};

use crate::ctl::Ctl;
use crate::messages::get;
use crate::setup::{self, CTL};

/// Subscriptions to the Download's OperationComplete and to TransferComplete!.
fn subscriptions() -> String {
    let mut text = String::new();
    for (n, id, kind, refs) in [
        (2, "oc", "OperationComplete", "Device.DeviceInfo.FirmwareImage."),
        (3, "tc", "Event", "Device.LocalAgent.TransferComplete!"),
    ] {
        let base = format!("Device.LocalAgent.Subscription.{n}");
        text.push_str(&format!(
            "{base}.Enable true\n{base}.ID \"{id}\"\n{base}.Recipient \"Device.LocalAgent.Controller.1\"\n\
             {base}.NotifType \"{kind}\"\n{base}.ReferenceList \"{refs}\"\n{base}.Persistent true\n"
        ));
    }
    text
}

#[test]
fn oktopus_firmware_update_restarts_the_agent_into_the_new_image() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let server = HttpServer::start();
    server.route("/fw.img", Route::File(make_image("2.0.0-lab", &[9u8; 200_000], false)));
    let mut ctl = Ctl::start(broker.port(), true, setup::names());
    let reset = setup::reset(broker.port(), true) + &subscriptions();
    let agent = setup::agent(&reset, &["--platform", "lab"]);
    ctl.connect_record(&agent);
    ctl.notify("Boot!", &agent, |n| matches!(n, Notification::Event(e) if e.event_name == "Boot!"));
    let old = get(&mut ctl, &agent, &["Device.DeviceInfo.SoftwareVersion"]);

    // Oktopus' Get (max_depth 1) and its pick: the first image whose Status is Available.
    let req =
        Get { param_paths: vec!["Device.DeviceInfo.FirmwareImage.*.Status".into()], max_depth: 1 };
    let RespType::GetResp(resp) = ctl.call(ReqType::Get(req), &agent) else { panic!("GetResp") };
    let images = &resp.req_path_results[0].resolved_path_results;
    assert!(images.len() > 1, "Oktopus refuses a device with one image: {images:?}");
    let pick = images
        .iter()
        .find(|i| matches!(i.result_params["Status"].as_str(), "Available" | "ValidationFailed"))
        .expect("an Available image");
    let partition = &pick.resolved_path[pick.resolved_path.len() - 2..];
    let operate = Operate {
        command: format!("Device.DeviceInfo.FirmwareImage.{partition}Download()"),
        command_key: "Download()".into(),
        send_resp: true,
        input_args: [
            ("URL".to_owned(), server.url("/fw.img")),
            ("AutoActivate".to_owned(), "true".to_owned()),
            ("FileSize".to_owned(), "0".to_owned()),
        ]
        .into_iter()
        .collect(),
    };
    let resp = ctl.call(ReqType::Operate(operate), &agent);
    assert!(matches!(resp, RespType::OperateResp(_)), "{resp:?}");

    let (done, _) = ctl.notify(
        "OperationComplete",
        &agent,
        |n| matches!(n, Notification::OperComplete(oc) if oc.command_key == "Download()"),
    );
    let (tc, n) = ctl.notify(
        "TransferComplete!",
        &agent,
        |n| matches!(n, Notification::Event(e) if e.event_name == "TransferComplete!"),
    );
    assert!(done.seq < tc.seq, "OperationComplete before TransferComplete!");
    let Some(Notification::Event(e)) = n.notification else { unreachable!() };
    assert_eq!(e.params["CommandKey"], "Download()");
    assert_eq!(e.params["Requestor"], CTL);
    assert_eq!(e.params["FaultCode"], "0", "{}", e.params["FaultString"]);

    // The agent restarts itself on the new image and says so.
    let hello = ctl.connect_record(&agent);
    assert!(hello.seq > tc.seq);
    let (_, boot) = ctl.notify("Boot! after the update", &agent, |n| {
        matches!(n, Notification::Event(e) if e.event_name == "Boot!"
            && e.params.get("FirmwareUpdated").is_some_and(|f| f == "true"))
    });
    let Some(Notification::Event(e)) = boot.notification else { unreachable!() };
    assert_eq!(e.params["Cause"], "RemoteReboot");
    assert_eq!(e.params["CommandKey"], "Download()", "the Download's CommandKey");
    let new = get(&mut ctl, &agent, &["Device.DeviceInfo.SoftwareVersion"]);
    assert_eq!(new["Device.DeviceInfo.SoftwareVersion"], "2.0.0-lab");
    assert_ne!(new, old);
    let active = get(&mut ctl, &agent, &["Device.DeviceInfo.ActiveFirmwareImage"]);
    assert_eq!(
        active["Device.DeviceInfo.ActiveFirmwareImage"],
        "Device.DeviceInfo.FirmwareImage.2."
    );
}

#[test]
fn kill_9_during_a_download_leaves_the_old_image_and_a_usable_database() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let server = HttpServer::start();
    let image = make_image("2.0.0-lab", &[9u8; 400_000], false);
    let slow =
        Route::Slow { body: image, chunk: 8192, pause: std::time::Duration::from_millis(50) };
    server.route("/slow.img", slow);
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("usp.db");
    let dbs = db.to_str().expect("UTF-8");
    let mut ctl = Ctl::start(broker.port(), true, setup::names());
    let reset = setup::reset(broker.port(), true) + &subscriptions();
    let agent = setup::agent(&reset, &["--platform", "lab", "-f", dbs]);
    ctl.connect_record(&agent);
    let old = get(&mut ctl, &agent, &["Device.DeviceInfo.SoftwareVersion"]);
    let operate = Operate {
        command: "Device.DeviceInfo.FirmwareImage.2.Download()".into(),
        command_key: "cut".into(),
        send_resp: true,
        input_args: [
            ("URL".to_owned(), server.url("/slow.img")),
            ("AutoActivate".to_owned(), "true".to_owned()),
        ]
        .into_iter()
        .collect(),
    };
    let resp = ctl.call(ReqType::Operate(operate), &agent);
    assert!(matches!(resp, RespType::OperateResp(_)), "{resp:?}");
    let part = dir.path().join("firmware/download.part");
    let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::metadata(&part).map_or(0, |m| m.len()) < 16_384 {
        assert!(std::time::Instant::now() < end, "the download never started");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    drop(agent); // SIGKILL in the middle of the transfer

    let agent = setup::agent(&reset, &["--platform", "lab", "-f", dbs]);
    ctl.connect_record(&agent);
    let paths = [
        "Device.DeviceInfo.SoftwareVersion",
        "Device.DeviceInfo.FirmwareImage.2.Status",
        "Device.DeviceInfo.BootFirmwareImage",
    ];
    let now = get(&mut ctl, &agent, &paths);
    assert_eq!(now[paths[0]], old[paths[0]], "the old image runs");
    assert_eq!(now[paths[1]], "NoImage", "the cut download left no image");
    assert_eq!(now[paths[2]], "Device.DeviceInfo.FirmwareImage.1.");
    assert!(!part.exists(), "the partial file is dropped");
    assert!(!agent.log().contains("moved to"), "the database was rebuilt:\n{}", agent.log());
}
