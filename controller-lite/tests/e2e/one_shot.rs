//! One `uspctl` process per command, as a lab user types them: each command's table or JSON
//! output and exit status, then `uspctl watch` in a process of its own receiving a ValueChange.
//! Owns only these runs; how the agent is reached is the caller's `base` arguments.

use std::time::{Duration, Instant};

use usp_testkit::agent::RunningAgent;

use super::{INTERVAL, Session, WAIT, collect, uspctl, wait_exit};

/// What one `uspctl` process did.
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs `uspctl BASE... ARGS...` to its end (killed after [`WAIT`]).
pub(crate) fn run(base: &[&str], args: &[&str]) -> Run {
    let all: Vec<&str> = base.iter().chain(args).copied().collect();
    let mut child = uspctl(&all);
    drop(child.stdin.take());
    let (stdout, stderr) =
        (collect(child.stdout.take().expect("out")), collect(child.stderr.take().expect("err")));
    let status = wait_exit(&mut child, WAIT);
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    std::thread::sleep(Duration::from_millis(100));
    let (stdout, stderr) = (stdout.lock().unwrap().clone(), stderr.lock().unwrap().clone());
    let status =
        status.unwrap_or_else(|| panic!("uspctl {args:?} did not end:\n{stdout}\n{stderr}"));
    let code = status.code().unwrap_or(-1);
    // Shown with the output of a failing test.
    eprintln!("$ uspctl {}: exit {code}\n{stdout}--- stderr:\n{stderr}", args.join(" "));
    Run { code, stdout, stderr }
}

/// Runs one command that must succeed; returns its standard output.
fn ok(base: &[&str], args: &[&str], agent: &RunningAgent) -> String {
    let r = run(base, args);
    assert_eq!(
        r.code,
        0,
        "uspctl {args:?}:\n{}\n--- stderr:\n{}\n--- agent log:\n{}",
        r.stdout,
        r.stderr,
        agent.log()
    );
    r.stdout
}

/// One `uspctl` process per command (`base` says how to reach the agent): table and JSON
/// output, exit statuses, then a ValueChange seen by `uspctl watch` (`--json` when `json`).
pub(crate) fn one_shots(base: &[&str], second: &[&str], agent: &RunningAgent, json: bool) {
    let out = ok(base, &["get", "Device.DeviceInfo.SerialNumber"], agent);
    assert_eq!(out, "Device.DeviceInfo.SerialNumber  E2E\n");
    let out = ok(base, &["set", &format!("{INTERVAL}=600")], agent);
    assert_eq!(out, format!("{INTERVAL}  600\n"));
    let out = ok(base, &["--json", "get", INTERVAL], agent);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let found = v.pointer("/req_path_results/0/resolved_path_results/0/result_params");
    assert_eq!(found, Some(&serde_json::json!({ "PeriodicNotifInterval": "600" })), "{out}");
    let out = ok(base, &["add", "Device.LocalAgent.Controller.", "EndpointID=e2e-extra"], agent);
    let added = out.split_whitespace().next().expect(&out).to_owned();
    assert!(
        added.starts_with("Device.LocalAgent.Controller.")
            && added != "Device.LocalAgent.Controller.1.",
        "{out}"
    );
    let out =
        ok(base, &["instances", "Device.LocalAgent.Controller.", "--first-level-only"], agent);
    assert!(out.contains(&format!("{added}  ")) && out.contains("EndpointID=e2e-extra"), "{out}");
    assert_eq!(ok(base, &["del", &added], agent), format!("{added}\n"));
    let out = ok(base, &["gsdm", "Device.LocalAgent.", "--first-level-only"], agent);
    assert!(out.contains("Device.LocalAgent.Subscription.{i}."), "{out}");
    let out = ok(base, &["operate", "Device.ScheduleTimer()", "DelaySeconds=1"], agent);
    assert!(out.contains("Device.ScheduleTimer()  done"), "{out}");
    let r = run(base, &["get", "Device.NoSuchObject."]);
    assert_eq!(r.code, 1, "a USP error: {}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("Device.NoSuchObject.: error 7026"), "{}", r.stderr);
    watch(base, second, agent, json);
}

/// A ValueChange subscription made with `add`, then `uspctl watch --count 1` in a process of
/// its own while other uspctl processes change the value, as a lab user does from a second
/// terminal (with `second` added to `base`: what a second uspctl needs). Over MQTT a Notify published before the watch subscribed is lost: the value is
/// changed once a second until the watch has printed one (at most [`WAIT`]). The watch's link
/// must stay up meanwhile (two uspctl on one broker must not push each other out).
fn watch(base: &[&str], second: &[&str], agent: &RunningAgent, json: bool) {
    let sub = [
        "add",
        "Device.LocalAgent.Subscription.",
        "Enable=true",
        "ID=e2e-watch",
        "NotifType=ValueChange",
    ];
    let reference = format!("ReferenceList={INTERVAL}");
    let args: Vec<&str> = sub.iter().copied().chain([reference.as_str()]).collect();
    ok(base, &args, agent);
    let mut args = base.to_vec();
    args.extend(["watch", "--count", "1", "--for", "20"]);
    if json {
        args.push("--json");
    }
    let mut w = Session::start(&args);
    drop(w.stdin.take());
    let end = Instant::now() + WAIT;
    let mut value = 900;
    let status = loop {
        if let Some(s) = wait_exit(&mut w.child, Duration::from_secs(1)) {
            break s;
        }
        assert!(Instant::now() < end, "watch printed nothing:\n{}", w.output());
        value += 1;
        let set = format!("{INTERVAL}={value}");
        ok(base, &[second, &["set", set.as_str()]].concat(), agent);
    };
    std::thread::sleep(Duration::from_millis(100));
    let (out, err) = (w.stdout.lock().unwrap().clone(), w.stderr.lock().unwrap().clone());
    eprintln!("$ uspctl {}: {status}\n{out}--- stderr:\n{err}", args.join(" "));
    assert_eq!(status.code(), Some(0), "{out}\n{err}");
    assert!(!err.contains("# link down"), "the watch was pushed off the broker:\n{err}");
    let line = out.lines().next().expect(&out);
    if json {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        assert_eq!(v["subscription_id"], "e2e-watch", "{line}");
        assert_eq!(v["value_change"]["param_path"], INTERVAL, "{line}");
    } else {
        assert!(line.contains(&format!(" e2e-watch ValueChange {INTERVAL} = 9")), "{line}");
    }
}
