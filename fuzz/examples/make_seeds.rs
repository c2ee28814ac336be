//! Writes the seed corpora of every fuzz target under `seeds/<target>/` (run from `fuzz/`:
//! `cargo run --example make_seeds`): real requests of every type, deep reference chains and
//! large requests (issue 20's probes), the Records carrying them, real STOMP frames and
//! WebSocket traffic, the example reset files.

use std::fs;
use std::path::Path;

use usp_mtp::stomp::codec::{Command, Frame};
use usp_proto::msg::{self, Msg};
use uspagent_fuzz::{AGENT, CTRL, encode, record};

const ME: &str = r#"Device.LocalAgent.Subscription.[ID=="L"]."#;

/// Structured `core_request` inputs (see the library documentation), named.
fn requests() -> Vec<(String, Vec<u8>)> {
    let chain = "ReferenceList#*+.".repeat(20);
    let issue_chain = format!("{ME}{chain}ID");
    let issue_search = format!(r#"Device.LocalAgent.Subscription.[{chain}ID=="L"].ID"#);
    let real_chain = "Device.LocalAgent.Subscription.*.Recipient+.AssignedRole#*+.Name".to_string();
    let self_ref = format!("{ME},{ME}");
    let many = vec!["Device."; 1500];
    let some = vec!["Device."; 40];
    let gets: Vec<(&str, Vec<&str>)> = vec![
        ("get_all", vec!["Device."]),
        ("get_info", vec!["Device.DeviceInfo.", "Device.DeviceInfo.SoftwareVersion"]),
        ("get_wildcard", vec!["Device.LocalAgent.Controller.*.EndpointID"]),
        ("get_search", vec![r#"Device.LocalAgent.Controller.[Enable==true&&EndpointID=="x"]."#]),
        ("get_ref", vec!["Device.LocalAgent.Subscription.1.Recipient+.EndpointID"]),
        ("get_list_ref", vec!["Device.LocalAgent.Controller.1.AssignedRole#*+.Name"]),
        ("get_issue_chain", vec![&issue_chain, &issue_search]),
        ("get_real_chain", vec![&real_chain]),
        ("get_search_ref", vec!["Device.LocalAgent.Controller.[AssignedRole#1+.Name==\"x\"]."]),
        ("get_many", many),
        ("get_some", some),
    ];
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, paths) in gets {
        out.push((name.into(), encode(0, 0x10, &[&paths])));
    }
    let sub = "Device.LocalAgent.Subscription.";
    let ctrl = "Device.LocalAgent.Controller.1.";
    let role = "Device.LocalAgent.ControllerTrust.Role.";
    let add_sub: &[&str] = &[
        sub,
        "*ID",
        "L",
        "NotifType",
        "ValueChange",
        "ReferenceList",
        &self_ref,
        "Enable",
        "true",
    ];
    let set_ctrl: &[&str] = &[ctrl, "*Alias", "fuzz", "PeriodicNotifInterval", "60"];
    let set_bad: &[&str] = &["Device.LocalAgent.Controller.*.", "Enable", "maybe"];
    let add_role: &[&str] = &[role, "Name", "Viewer", "Enable", "true"];
    let add_perm: &[&str] = &[
        "Device.LocalAgent.ControllerTrust.Role.1.Permission.",
        "Targets",
        "Device.",
        "Param",
        "r---",
    ];
    let op_timer: &[&str] = &["Device.ScheduleTimer()", "k1", "DelaySeconds", "5"];
    out.extend([
        ("set_ctrl".into(), encode(1, 0, &[set_ctrl])),
        ("set_partial".into(), encode(1, 1, &[set_ctrl, set_bad])),
        ("add_self_sub".into(), encode(2, 0, &[add_sub])),
        ("add_role".into(), encode(2, 1, &[add_role, add_perm])),
        ("delete_sub".into(), encode(3, 0, &[&["Device.LocalAgent.Subscription.1."]])),
        (
            "delete_search".into(),
            encode(3, 1, &[&[r#"Device.LocalAgent.Subscription.[ID=="L"]."#]]),
        ),
        ("operate_timer".into(), encode(4, 1, &[op_timer])),
        ("operate_onboard".into(), encode(4, 1, &[&[&format!("{ctrl}SendOnBoardRequest()"), "k"]])),
        ("gsdm_all".into(), encode(5, 0x1e, &[&["Device."]])),
        (
            "gsdm_table".into(),
            encode(5, 0x1f, &[&["Device.LocalAgent.Controller.{i}.", "Device.Reboot()"]]),
        ),
        ("gsdm_many".into(), encode(5, 0x1e, &[&vec!["Device."; 1000]])),
        ("instances".into(), encode(6, 0, &[&["Device.", "Device.LocalAgent.Controller."]])),
        ("protocol".into(), encode(7, 0, &[&["1.3", "1.4"]])),
        ("viewer_get".into(), encode(128, 0, &[&["Device.LocalAgent."]])),
        ("viewer_set".into(), encode(129, 1, &[set_ctrl])),
        ("viewer_add_sub".into(), encode(130, 0, &[add_sub])),
        ("viewer_delete_sub".into(), encode(131, 0, &[&["Device.LocalAgent.Subscription.1."]])),
        ("viewer_gsdm".into(), encode(133, 0x1e, &[&["Device.LocalAgent."]])),
    ]);
    let notify = Msg::request("n", msg::request::ReqType::Notify(msg::Notify::default()));
    let error = Msg::error("e", msg::Error { err_code: 7000, ..Default::default() });
    for (name, m) in [("raw_notify", notify), ("raw_error", error)] {
        let mut data = vec![8, 0];
        data.extend(m.to_bytes());
        out.push((name.into(), data));
    }
    out
}

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new("seeds").join(target);
    if let Err(e) = fs::create_dir_all(&dir).and_then(|()| fs::write(dir.join(name), bytes)) {
        panic!("{}: {e}", dir.display());
    }
}

/// A masked client frame (`opcode`, final) carrying `payload`.
fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [0x12, 0x34, 0x56, 0x78];
    let mut out = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n < 65536 => {
            out.push(0x80 | 126);
            out.extend((n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend((n as u64).to_be_bytes());
        }
    }
    out.extend(mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

fn stomp(frame: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    if let Err(e) = frame.encode(&mut out) {
        panic!("{frame:?}: {e:?}");
    }
    out
}

fn main() {
    let requests = requests();
    for (name, data) in &requests {
        write("core_request", name, data);
        let rec = record(data);
        write("record_decode", name, &rec);
        if let Some(req) = uspagent_fuzz::request(data) {
            for (i, path) in paths_of(&req).into_iter().take(4).enumerate() {
                write("path_parse", &format!("{name}_{i}"), path.as_bytes());
            }
        }
    }
    let connect =
        usp_core::connect_record(usp_core::ConnectKind::WebSocket, CTRL, AGENT);
    write("record_decode", "ws_connect", &connect.to_bytes());
    let disconnect = usp_core::disconnect_record(
        CTRL,
        AGENT,
        "bye",
        usp_datamodel::ErrorCode::SessionContextNotAllowed,
    );
    write("record_decode", "disconnect", &disconnect.to_bytes());
    let values: [(u8, &str); 12] = [
        (0, "hello, world"),
        (1, "true"),
        (2, "-2147483648"),
        (3, "4294967295"),
        (4, "-9223372036854775808"),
        (5, "18446744073709551615"),
        (6, "-12.50"),
        (7, "2024-05-01T12:00:00.123Z"),
        (7, "0001-01-01T00:00:00Z"),
        (8, "aGVsbG8gd29ybGQ="),
        (9, "0a0B"),
        (0x83, "1, 2,3"),
    ];
    for (i, (selector, text)) in values.iter().enumerate() {
        let mut data = vec![*selector];
        data.extend(text.bytes());
        write("value_parse", &format!("value_{i}"), &data);
    }
    let get = record(&requests[0].1);
    let frames = [
        Frame::new(Command::Stomp)
            .with("accept-version", "1.2")
            .with("host", "/")
            .with("heart-beat", "30000,30000"),
        Frame::new(Command::Connected).with("version", "1.2").with("heart-beat", "0,30000"),
        Frame::new(Command::Message)
            .with("destination", "/queue/agent")
            .with("reply-to-dest", "/queue/ctrl")
            .with("content-type", "application/vnd.bbf.usp.msg")
            .with("message-id", "1")
            .with("subscription", "0"),
        Frame::new(Command::Error).with("message", "bad: \\c escaped\\n"),
        Frame::new(Command::Receipt).with("receipt-id", "disconnect"),
    ];
    let mut all = vec![3u8, 1, 7, 200];
    for (i, frame) in frames.iter().enumerate() {
        let mut frame = frame.clone();
        if frame.command == Command::Message {
            frame.body = get.clone();
        }
        let bytes = stomp(&frame);
        let mut data = vec![0u8];
        data.extend(&bytes);
        write("stomp_codec", &format!("frame_{i}"), &data);
        all.extend(bytes);
        all.push(b'\n');
    }
    write("stomp_codec", "session", &all);
    let handshake = "GET /usp HTTP/1.1\r\nHost: agent\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
        Sec-WebSocket-Protocol: v1.usp\r\n\
        Sec-WebSocket-Extensions: bbf-usp-protocol; eid=\"self::fuzz-controller\"\r\n\r\n";
    let mut ws = vec![2u8, 5, 64];
    ws.extend(handshake.bytes());
    write("ws_frames", "handshake", &ws);
    let mut frames = vec![1u8, 9];
    frames.extend(client_frame(0x2, &get));
    frames.extend(client_frame(0x9, b"ping"));
    let mut fragmented = client_frame(0x2, &get[..10]);
    fragmented[0] &= 0x7f;
    frames.extend(fragmented);
    let mut last = client_frame(0x0, &get[10..]);
    last[0] |= 0x80;
    frames.extend(last);
    frames.extend(client_frame(0x8, &[0x03, 0xe8]));
    write("ws_frames", "frames", &frames);
    for entry in fs::read_dir("../agent/examples/reset").into_iter().flatten().flatten() {
        if let (Ok(text), Some(name)) = (fs::read(entry.path()), entry.file_name().to_str()) {
            write("reset_file", name, &text);
        }
    }
    write(
        "reset_file",
        "odd",
        b"+Device.X.1.Y \"a b\"\n# comment\nDevice.Z \"\n\tDevice.Q x # c\n",
    );
}

fn paths_of(req: &msg::request::ReqType) -> Vec<String> {
    use msg::request::ReqType;
    match req {
        ReqType::Get(g) => g.param_paths.clone(),
        ReqType::GetSupportedDm(g) => g.obj_paths.clone(),
        ReqType::GetInstances(g) => g.obj_paths.clone(),
        ReqType::Delete(d) => d.obj_paths.clone(),
        ReqType::Set(s) => s.update_objs.iter().map(|o| o.obj_path.clone()).collect(),
        ReqType::Add(a) => a.create_objs.iter().map(|o| o.obj_path.clone()).collect(),
        ReqType::Operate(o) => vec![o.command.clone()],
        _ => Vec::new(),
    }
}
