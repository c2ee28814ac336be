//! Over WebSocket: uspctl as the server the agent connects to, and as a client of the agent's
//! server (with a ValueChange from `uspctl subscribe` and an OperationComplete).

use usp_testkit::free_port;

use super::{Session, agent, check, controller, exercise, notifications};

#[test]
fn over_websocket_uspctl_as_server() {
    let port = free_port();
    let mut s = Session::start(&["--ws-listen", &format!("127.0.0.1:{port}")]);
    let reset = controller(&format!(
        "Device.LocalAgent.Controller.1.MTP.1.Enable true
Device.LocalAgent.Controller.1.MTP.1.Protocol \"WebSocket\"
Device.LocalAgent.Controller.1.MTP.1.WebSocket.Host \"127.0.0.1\"
Device.LocalAgent.Controller.1.MTP.1.WebSocket.Port {port}
Device.LocalAgent.Controller.1.MTP.1.WebSocket.Path \"/usp\"
Device.LocalAgent.Controller.1.MTP.1.WebSocket.EnableEncryption false
"
    ));
    let agent = agent(&reset);
    exercise(&mut s, &agent);
    check(s, &agent);
}

/// The agent as a WebSocket server on `port`, path `/usp`, without TLS.
fn agent_server(port: u16) -> String {
    format!(
        "Device.LocalAgent.MTP.1.Enable true
Device.LocalAgent.MTP.1.Protocol \"WebSocket\"
Device.LocalAgent.MTP.1.WebSocket.Port {port}
Device.LocalAgent.MTP.1.WebSocket.Path \"/usp\"
Device.LocalAgent.MTP.1.WebSocket.EnableEncryption false
"
    ) + &controller("")
}

#[test]
fn over_websocket_uspctl_as_client() {
    let port = free_port();
    let agent = agent(&agent_server(port));
    let mut s = Session::start(&["--ws", &format!("ws://127.0.0.1:{port}/usp")]);
    exercise(&mut s, &agent);
    check(s, &agent);
}

#[test]
fn notifications_over_websocket() {
    let port = free_port();
    let mut s = Session::start(&["--ws", &format!("ws://127.0.0.1:{port}/usp")]);
    let agent = agent(&agent_server(port));
    notifications(&mut s, &agent);
    s.send("operate 'Device.ScheduleTimer()' DelaySeconds=1");
    let (code, out, err) = s.finish();
    let all = format!("{out}\n--- stderr:\n{err}");
    assert_eq!(code, 0, "{all}");
    assert!(out.contains("Device.ScheduleTimer()  done"), "OperationComplete: {all}");
    assert!(!out.contains("its output was not received"), "OperationComplete: {all}");
}
