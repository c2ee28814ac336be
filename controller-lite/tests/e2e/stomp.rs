//! Over STOMP through the shared private RabbitMQ (its STOMP plugin; `--vhost`, `--user` and
//! `--password` as a lab user gives them): a script session that learns the agent's Endpoint
//! ID and destination from its STOMPConnect Record (kept in uspctl's queue until uspctl
//! subscribes), and one uspctl process per command told the agent's Endpoint ID and destination
//! (with JSON notifications from `watch --json`); a refused CONNECT (no `--vhost`) explained
//! with the broker's reason. Each test has destinations of its own.

use usp_testkit::rabbitmq::RabbitMq;

use super::one_shot::{one_shots, run};
use super::{AGENT, Session, agent, check, controller, exercise, notifications};

/// A destination no other test (nor run) uses.
fn queue(name: &str) -> String {
    format!("/queue/uspctl-e2e-{name}-{}", std::process::id())
}

/// The agent: one STOMP connection to the broker, its MTP at `agent_dest`, the controller
/// reached at `ctl_dest`.
fn reset(rabbit: &RabbitMq, agent_dest: &str, ctl_dest: &str) -> String {
    let o = &rabbit.options;
    format!(
        "Device.STOMP.Connection.1.Enable true
Device.STOMP.Connection.1.Host \"127.0.0.1\"
Device.STOMP.Connection.1.Port {port}
Device.STOMP.Connection.1.Username \"{user}\"
Device.STOMP.Connection.1.Password \"{pass}\"
Device.STOMP.Connection.1.VirtualHost \"{vhost}\"
Device.STOMP.Connection.1.EnableEncryption false
Device.STOMP.Connection.1.EnableHeartbeats false
Device.STOMP.Connection.1.ServerRetryInitialInterval 1
Device.STOMP.Connection.1.ServerRetryMaxInterval 2
Device.LocalAgent.MTP.1.Enable true
Device.LocalAgent.MTP.1.Protocol \"STOMP\"
Device.LocalAgent.MTP.1.STOMP.Reference \"Device.STOMP.Connection.1\"
Device.LocalAgent.MTP.1.STOMP.Destination \"{agent_dest}\"
",
        port = rabbit.stomp_port,
        user = o.user,
        pass = o.password,
        vhost = o.vhost,
    ) + &controller(&format!(
        "Device.LocalAgent.Controller.1.MTP.1.Enable true
Device.LocalAgent.Controller.1.MTP.1.Protocol \"STOMP\"
Device.LocalAgent.Controller.1.MTP.1.STOMP.Reference \"Device.STOMP.Connection.1\"
Device.LocalAgent.Controller.1.MTP.1.STOMP.Destination \"{ctl_dest}\"
"
    ))
}

/// How uspctl reaches the broker, and its destination.
fn broker_args(rabbit: &RabbitMq, ctl_dest: &str) -> Vec<String> {
    let o = &rabbit.options;
    let addr = format!("127.0.0.1:{}", rabbit.stomp_port);
    let pairs = [
        ("--stomp", addr.as_str()),
        ("--vhost", &o.vhost),
        ("--user", &o.user),
        ("--password", &o.password),
        ("--dest", ctl_dest),
    ];
    pairs.into_iter().flat_map(|(k, v)| [k.to_owned(), v.to_owned()]).collect()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn over_stomp_the_agent_is_learnt_from_its_connect_record() {
    let rabbit = RabbitMq::shared();
    let (agent_dest, ctl_dest) = (queue("agent-learnt"), queue("ctl-learnt"));
    let agent = agent(&reset(rabbit, &agent_dest, &ctl_dest));
    let args = broker_args(rabbit, &ctl_dest);
    let mut s = Session::start(&strs(&args));
    exercise(&mut s, &agent);
    notifications(&mut s, &agent);
    check(s, &agent);
}

#[test]
fn over_stomp_one_command_a_process() {
    let rabbit = RabbitMq::shared();
    let (agent_dest, ctl_dest) = (queue("agent-oneshot"), queue("ctl-oneshot"));
    let agent = agent(&reset(rabbit, &agent_dest, &ctl_dest));
    let mut args = broker_args(rabbit, &ctl_dest);
    args.extend(["--agent", AGENT, "--agent-dest", &agent_dest].map(str::to_owned));
    // A second uspctl (setting values while the watch runs) reads answers from a queue of its own.
    let second = ["--dest".to_owned(), queue("ctl-oneshot-second")];
    let (args, second) = (strs(&args), strs(&second));
    one_shots(&args, &second, &agent, true);
}

/// A lab user who forgets `--vhost` is told what the broker said, not only that time ran out.
#[test]
fn a_refused_connect_is_explained() {
    let rabbit = RabbitMq::shared();
    let addr = format!("127.0.0.1:{}", rabbit.stomp_port);
    let o = &rabbit.options;
    let args = ["--stomp", &addr, "--user", &o.user, "--password", &o.password, "--timeout", "5"];
    let r = run(&args, &["--agent", AGENT, "--agent-dest", "/queue/nobody", "get", "Device."]);
    assert_eq!(r.code, 4, "no answer in time: {}", r.stderr);
    assert!(r.stderr.contains("(last attempt: ERROR frame"), "{}", r.stderr);
    assert!(r.stderr.contains("Virtual host"), "the broker's reason: {}", r.stderr);
}
