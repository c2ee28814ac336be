//! Profiles driven in a data model of the agent's own areas plus BulkData: the rig plays the
//! core's part (it passes time in and hands each collect request to `snapshot`), the worker
//! is the real one, and reports reach a real collector on 127.0.0.1 or come back as `Push!`.

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use usp_datamodel::plugin::{DmEvent, Outcome};

use super::collector::HttpCollector;
use crate::bulkdata::{BulkData, COLLECT_EVENT, next_delay, snapshot};
use crate::testutil::{Lab, at};
use crate::{AgentIdentity, Host, NoWake, Platform, builtin};

pub(super) struct Rig {
    pub lab: Lab,
    pub host: Host,
    pub secs: u64,
    pub dir: Option<tempfile::TempDir>,
}

impl Rig {
    pub fn new() -> Rig {
        let dir = tempfile::tempdir().unwrap();
        Rig::in_dir(dir)
    }

    pub fn in_dir(dir: tempfile::TempDir) -> Rig {
        let id = AgentIdentity::default();
        let mut host = Host::new(id.clone(), Platform::Lab, dir.path());
        host.waker = Arc::new(NoWake);
        let mut plugins = builtin(&id);
        plugins.push(Box::new(BulkData::new(&host).unwrap()));
        Rig { lab: Lab::new(plugins), host, secs: 0, dir: Some(dir) }
    }

    /// Moves the clock to `secs` (polling every plugin) and plays the core's part for the
    /// collect requests; returns the other events.
    pub fn step(&mut self, secs: u64) -> Vec<DmEvent> {
        self.secs = secs;
        self.lab.dm.tick(at(secs), true);
        let mut out = Vec::new();
        for e in self.lab.dm.drain_events() {
            match e {
                DmEvent::Event { obj, numbers, name, args } if &*name == COLLECT_EVENT => {
                    let full = usp_datamodel::access::Access::Full;
                    snapshot(&mut self.lab.dm, obj, &numbers, &args, &self.host.bulkdata, &full);
                }
                e => out.push(e),
            }
        }
        out
    }

    /// Steps at the current time until a `Push!` arrives (at most 5 s); its `Data`.
    pub fn wait_push(&mut self) -> Option<String> {
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            for e in self.step(self.secs) {
                if let DmEvent::Event { name, args, .. } = e {
                    if &*name == "Push" {
                        return args
                            .into_iter()
                            .find(|(n, _)| &**n == "Data")
                            .map(|a| a.1.to_string());
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }

    /// Adds a profile with `values` and its `Parameter.{i}` rows (Name, Reference[, Exclude]).
    pub fn profile(&mut self, values: &[(&str, &str)], params: &[(&str, &str, bool)]) -> String {
        let p = self.lab.add("Device.BulkData.Profile.", &[]).unwrap();
        for (name, reference, exclude) in params {
            let ex = if *exclude { "true" } else { "false" };
            let row = [("Name", *name), ("Reference", *reference), ("Exclude", ex)];
            self.lab.add(&format!("{p}Parameter."), &row).unwrap();
        }
        for (path, value) in values {
            let (obj, name) = path.rsplit_once('.').map_or(("", *path), |(o, n)| (o, n));
            let obj = if obj.is_empty() { p.clone() } else { format!("{p}{obj}.") };
            self.lab.set(&obj, &[(name, value)]).unwrap_or_else(|e| panic!("{path}: {e}"));
        }
        // The core ticks after every message: the plugin sees the new profile now.
        self.step(self.secs);
        p
    }

    pub fn enable(&mut self) {
        self.lab.set("Device.BulkData.", &[("Enable", "true")]).unwrap();
    }
}

#[test]
fn reporting_intervals_end_on_the_time_reference() {
    use usp_datamodel::value::DateTime;
    let t = |s| DateTime::from_unix(s);
    // TR-369's example: every 15 minutes at 42 past 1 AM → :12, :27, :42, :57.
    let reference = DateTime::parse("2024-05-01T01:42:00Z").unwrap();
    let now = DateTime::parse("2024-05-01T12:00:00Z").unwrap();
    assert_eq!(next_delay(now, 900, reference), Duration::from_secs(12 * 60));
    // A reference in the future works the same; on a boundary the next one is a whole interval.
    assert_eq!(next_delay(t(100), 30, t(1010)), Duration::from_secs(10));
    assert_eq!(next_delay(t(1000), 30, t(1000)), Duration::from_secs(30));
    assert_eq!(
        next_delay(DateTime { secs: 1000, micros: 250_000 }, 1, t(0)),
        Duration::from_millis(750)
    );
    // Unknown time: a whole interval from now.
    assert_eq!(next_delay(t(7), 300, DateTime::UNKNOWN), Duration::from_secs(300));
}

#[test]
fn a_usp_event_profile_pushes_its_report_and_keeps_the_rest_of_unknown_references() {
    let mut rig = Rig::new();
    rig.enable();
    rig.profile(
        &[
            ("Protocol", "USPEventNotif"),
            ("ReportingInterval", "10"),
            ("TimeReference", "2024-05-01T00:00:05Z"),
            ("JSONEncoding.ReportFormat", "NameValuePair"),
            ("Enable", "true"),
        ],
        &[
            ("", "Device.DeviceInfo.SerialNumber", false),
            ("", "Device.LocalAgent.Controller.99.EndpointID", false),
            ("oui", "Device.DeviceInfo.ManufacturerOUI", false),
        ],
    );
    // Enabled at 12:00:00 + 0; the intervals end at :05, :15, ...: nothing before 5 s.
    rig.step(4);
    assert_eq!(rig.wait_push_quick(), None, "no report before the interval ends");
    rig.step(5);
    let data = rig.wait_push().expect("a Push! at the end of the interval");
    let want = "{\n    \"Report\": [\n        {\n            \"CollectionTime\": 1714564805,\n            \
                \"Device.DeviceInfo.SerialNumber\": \"LAB0001\",\n            \"oui\": \"00D09E\"\n        \
                }\n    ]\n}";
    assert_eq!(data, want);
    rig.step(14);
    assert_eq!(rig.wait_push_quick(), None);
    rig.step(15);
    assert!(rig.wait_push().is_some(), "the next interval's report");
}

impl Rig {
    /// Steps a few times without advancing the clock; a `Push!` if one came.
    fn wait_push_quick(&mut self) -> Option<String> {
        for _ in 0..20 {
            for e in self.step(self.secs) {
                if let DmEvent::Event { name, args, .. } = e {
                    if &*name == "Push" {
                        return Some(args[0].1.to_string());
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }
}

#[test]
fn force_collection_reports_now_with_wildcards_partial_paths_and_exclude() {
    let mut rig = Rig::new();
    let who = usp_datamodel::plugin::Requester::Internal;
    for eid in ["ctl-a", "ctl-b"] {
        rig.lab
            .add_as(who.clone(), "Device.LocalAgent.Controller.", &[("EndpointID", eid)])
            .unwrap();
    }
    let p = rig.profile(
        &[
            ("Protocol", "USPEventNotif"),
            ("EncodingType", "CSV"),
            ("CSVEncoding.ReportFormat", "ParameterPerRow"),
            ("CSVEncoding.RowTimestamp", "None"),
        ],
        &[
            ("Ctl", "Device.LocalAgent.Controller.*.EndpointID", false),
            ("Info", "Device.DeviceInfo.", false),
            ("", "Device.DeviceInfo.", true),
            ("", "Device.DeviceInfo.SerialNumber", false),
        ],
    );
    let (_, outcome) = rig.lab.operate(&format!("{p}ForceCollection()"), &[]).unwrap();
    assert_eq!(outcome, Outcome::Done(Vec::new()));
    rig.step(0);
    let data = rig.wait_push().expect("ForceCollection makes a report at once");
    // Excluding the whole of DeviceInfo removes it, also where another row names a parameter
    // of it; the wildcard's instance numbers follow the Name (R-BULK.9).
    let want = "ParameterName,ParameterValue,ParameterType\r\n\
                Ctl.1,ctl-a,string\r\nCtl.2,ctl-b,string\r\n";
    assert_eq!(data, want);
}

#[test]
fn bad_values_are_refused_and_nothing_is_stored() {
    let mut rig = Rig::new();
    let p = rig.profile(&[], &[]);
    let http = format!("{p}HTTP.");
    for (obj, name, value) in [
        (http.as_str(), "URL", "ftp://collector/x"),
        (http.as_str(), "URL", "http://"),
        (http.as_str(), "URL", "http://bad host/x"),
        (http.as_str(), "Compression", "Deflate"),
        (p.as_str(), "ReportingInterval", "0"),
        (p.as_str(), "Protocol", "IPDR"),
    ] {
        let e = rig.lab.set(obj, &[(name, value)]).unwrap_err();
        assert_eq!(e.code.code(), 7012, "{name}={value}: {e}");
    }
    assert_eq!(rig.lab.get(&format!("{http}URL")), "");
    let row = rig.lab.add(&format!("{p}Parameter."), &[]).unwrap();
    for bad in ["Device.NoSuch.Thing", "Device.DeviceInfo.NoSuchParameter", "not a path"] {
        let e = rig.lab.set(&row, &[("Reference", bad)]).unwrap_err();
        assert_eq!(e.code.code(), 7012, "{bad}: {e}");
    }
    rig.lab.set(&row, &[("Reference", "Device.LocalAgent.Controller.*.")]).unwrap();
    // The capabilities say what is accepted.
    let mqtt = format!("{p}MQTT.");
    for bad in ["Device.STOMP.Connection.1", "Device.MQTT.Client.x"] {
        let e = rig.lab.set(&mqtt, &[("Reference", bad)]).unwrap_err();
        assert_eq!(e.code.code(), 7012, "{bad}: {e}");
    }
    assert_eq!(rig.lab.get("Device.BulkData.Protocols"), "HTTP,MQTT,USPEventNotif");
    assert_eq!(rig.lab.get("Device.BulkData.EncodingTypes"), "CSV,JSON");
    assert_eq!(rig.lab.get(&format!("{http}CompressionsSupported")), "GZIP");
    assert_eq!(rig.lab.get("Device.BulkData.Status"), "Disabled");
    rig.enable();
    assert_eq!(rig.lab.get("Device.BulkData.Status"), "Enabled");
}

#[test]
fn profiles_persist_across_a_restart() {
    let mut rig = Rig::new();
    let p = rig.profile(
        &[("Name", "kept"), ("HTTP.URL", "http://127.0.0.1:9/x"), ("HTTP.Password", "secret")],
        &[("x", "Device.DeviceInfo.UpTime", false)],
    );
    let id = AgentIdentity::default();
    let mut plugins = builtin(&id);
    plugins.push(Box::new(BulkData::new(&rig.host).unwrap()));
    let mut lab = std::mem::replace(&mut rig.lab, Lab::new(Vec::new())).restart(plugins);
    assert_eq!(lab.get(&format!("{p}Name")), "kept");
    assert_eq!(lab.get(&format!("{p}HTTP.URL")), "http://127.0.0.1:9/x");
    assert_eq!(lab.get(&format!("{p}HTTP.Password")), "secret");
    assert_eq!(lab.get(&format!("{p}Parameter.1.Reference")), "Device.DeviceInfo.UpTime");
}

/// The first request the collector gets after `secs`.
fn report_at(rig: &mut Rig, c: &HttpCollector, secs: u64, n: usize) -> super::collector::Request {
    rig.step(secs);
    let got = c.wait_for(n, Duration::from_secs(10));
    assert!(got.len() >= n, "{} requests, {n} expected", got.len());
    // Let the worker's result reach the plugin (logs, retained reports).
    rig.step(secs);
    got[n - 1].clone()
}

#[test]
fn http_reports_carry_the_headers_query_auth_and_gzip_of_the_profile() {
    let c = HttpCollector::start();
    let mut rig = Rig::new();
    rig.enable();
    let p = rig.profile(
        &[
            ("ReportingInterval", "2"),
            ("HTTP.URL", &c.url("/bdc?x=1")),
            ("HTTP.Username", "user"),
            ("HTTP.Password", "pa:ss"),
            ("HTTP.Method", "PUT"),
            ("HTTP.Compression", "GZIP"),
            ("JSONEncoding.ReportTimestamp", "ISO-8601"),
            ("Enable", "true"),
        ],
        &[("sn", "Device.DeviceInfo.SerialNumber", false)],
    );
    let uri = rig.lab.add(&format!("{p}HTTP.RequestURIParameter."), &[]).unwrap();
    rig.lab.set(&uri, &[("Name", "eid"), ("Reference", "Device.LocalAgent.EndpointID")]).unwrap();
    let r = report_at(&mut rig, &c, 2, 1);
    assert_eq!(r.method, "PUT");
    assert_eq!(r.target, "/bdc?x=1&oui=00D09E&pc=LabAgent&sn=LAB0001&eid=os::00D09E-LAB0001");
    assert_eq!(r.header("content-type"), Some("application/json; charset=UTF-8"));
    assert_eq!(r.header("bbf-report-format"), Some("\"ObjectHierarchy\""));
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(r.header("authorization"), Some("Basic dXNlcjpwYTpzcw=="));
    let date = r.header("date").expect("a Date header (UseDateHeader defaults to true)");
    assert!(date.ends_with(" GMT") && date.len() == 29, "{date}");
    let mut body = String::new();
    flate2::read::GzDecoder::new(&r.body[..]).read_to_string(&mut body).unwrap();
    let want = "{\n    \"Report\": [\n        {\n            \"CollectionTime\": \"2024-05-01T12:00:02Z\",\n            \"sn\": \"LAB0001\"\n        }\n    ]\n}";
    assert_eq!(body, want);
}

#[test]
fn failed_reports_are_retained_and_sent_with_the_next_one() {
    let c = HttpCollector::start();
    c.fail_with(&[500, 503, 500]);
    let mut rig = Rig::new();
    rig.enable();
    rig.profile(
        &[
            ("ReportingInterval", "1"),
            ("NumberOfRetainedFailedReports", "2"),
            ("EncodingType", "CSV"),
            ("HTTP.URL", &c.url("/csv")),
            ("HTTP.UseDateHeader", "false"),
            ("Enable", "true"),
        ],
        &[("up", "Device.DeviceInfo.UpTime", false)],
    );
    for (n, secs) in [(1, 1), (2, 2), (3, 3)] {
        report_at(&mut rig, &c, secs, n);
    }
    let r = report_at(&mut rig, &c, 4, 4);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=UTF-8; header=present"));
    assert_eq!(r.header("bbf-report-format"), Some("\"ParameterPerColumn\""));
    assert_eq!(r.header("date"), None);
    // Three failed; two are retained (the oldest dropped), sent before the current one under
    // one header.
    let want = "ReportTimestamp,up\r\n1714564802,2\r\n1714564803,3\r\n1714564804,4\r\n";
    assert_eq!(String::from_utf8(r.body).unwrap(), want);
    let r = report_at(&mut rig, &c, 5, 5);
    assert_eq!(String::from_utf8(r.body).unwrap(), "ReportTimestamp,up\r\n1714564805,5\r\n");
}

#[test]
fn a_failed_upload_is_retried_after_the_minimum_wait() {
    let c = HttpCollector::start();
    c.fail_with(&[503]);
    let mut rig = Rig::new();
    rig.enable();
    rig.profile(
        &[
            ("ReportingInterval", "30"),
            ("HTTP.URL", &c.url("/retry")),
            ("HTTP.RetryEnable", "true"),
            ("HTTP.RetryMinimumWaitInterval", "1"),
            ("HTTP.RetryIntervalMultiplier", "1000"),
            ("Enable", "true"),
        ],
        &[("sn", "Device.DeviceInfo.SerialNumber", false)],
    );
    let started = Instant::now();
    let got = {
        rig.step(30);
        c.wait_for(2, Duration::from_secs(10))
    };
    assert_eq!(got.len(), 2, "the 503 and the retry");
    assert!(started.elapsed() >= Duration::from_secs(1), "the retry waited the minimum");
    assert_eq!(got[0].body, got[1].body);
}

#[test]
fn https_reports_are_verified_against_the_configured_ca() {
    let pki = usp_testkit::certs::TestPki::generate("bulkdata-ca", "unused");
    let c = HttpCollector::start_tls(&pki.server_cert, &pki.server_key);
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&pki.ca, dir.path().join("bulkdata-ca.pem")).unwrap();
    let mut rig = Rig::in_dir(dir);
    rig.enable();
    rig.profile(
        &[("ReportingInterval", "1"), ("HTTP.URL", &c.url("/tls")), ("Enable", "true")],
        &[("sn", "Device.DeviceInfo.SerialNumber", false)],
    );
    let r = report_at(&mut rig, &c, 1, 1);
    assert!(String::from_utf8(r.body).unwrap().contains("\"sn\": \"LAB0001\""));
}

#[test]
fn an_https_collector_with_an_unknown_ca_gets_nothing_and_the_agent_goes_on() {
    let pki = usp_testkit::certs::TestPki::generate("other-ca", "unused");
    let c = HttpCollector::start_tls(&pki.server_cert, &pki.server_key);
    let ok = HttpCollector::start();
    let mut rig = Rig::new();
    rig.enable();
    rig.profile(
        &[("ReportingInterval", "1"), ("HTTP.URL", &c.url("/tls")), ("Enable", "true")],
        &[("sn", "Device.DeviceInfo.SerialNumber", false)],
    );
    rig.profile(
        &[("ReportingInterval", "1"), ("HTTP.URL", &ok.url("/plain")), ("Enable", "true")],
        &[("sn", "Device.DeviceInfo.SerialNumber", false)],
    );
    report_at(&mut rig, &ok, 1, 1);
    assert!(c.requests().is_empty(), "no request passes an unverified TLS handshake");
    assert_eq!(rig.lab.get("Device.DeviceInfo.SerialNumber"), "LAB0001");
}

#[test]
fn an_mqtt_profile_hands_its_report_to_the_host_with_the_content_type_of_r_bulk_8a() {
    let mut rig = Rig::new();
    rig.enable();
    rig.profile(
        &[
            ("Protocol", "MQTT"),
            ("ReportingInterval", "1"),
            ("JSONEncoding.ReportTimestamp", "None"),
            ("MQTT.Reference", "Device.MQTT.Client.3"),
            ("MQTT.PublishTopic", "bulk/x"),
            ("MQTT.PublishQoS", "2"),
            ("MQTT.PublishRetain", "true"),
            ("Enable", "true"),
        ],
        &[("sn", "Device.DeviceInfo.SerialNumber", false)],
    );
    rig.step(1);
    let end = Instant::now() + Duration::from_secs(5);
    let mut got = None;
    while got.is_none() && Instant::now() < end {
        got = rig.step(1).into_iter().find_map(|e| match e {
            DmEvent::System(r) => Some(r),
            _ => None,
        });
    }
    let want = usp_datamodel::plugin::SystemRequest::Publish {
        client: "Device.MQTT.Client.3.".into(),
        topic: "bulk/x".into(),
        qos: 2,
        retain: true,
        content_type: "application/json; charset=UTF-8".into(),
        payload:
            b"{\n    \"Report\": [\n        {\n            \"sn\": \"LAB0001\"\n        }\n    ]\n}"
                .to_vec(),
    };
    assert_eq!(got, Some(want));
}

#[test]
fn hidden_parameters_are_never_reported() {
    let mut rig = Rig::new();
    let p = rig.profile(
        &[
            ("Protocol", "USPEventNotif"),
            ("JSONEncoding.ReportFormat", "NameValuePair"),
            ("JSONEncoding.ReportTimestamp", "None"),
            ("HTTP.Username", "me"),
            ("HTTP.Password", "secret"),
        ],
        &[
            ("", "Device.BulkData.Profile.1.HTTP.", false),
            ("", "Device.BulkData.Profile.1.HTTP.Password", false),
        ],
    );
    rig.lab.operate(&format!("{p}ForceCollection()"), &[]).unwrap();
    rig.step(0);
    let data = rig.wait_push().expect("a report");
    assert!(data.contains("\"Device.BulkData.Profile.1.HTTP.Username\": \"me\""), "{data}");
    assert!(!data.contains("Password") && !data.contains("secret"), "{data}");
}

#[test]
fn failed_reports_persist_across_a_restart_when_the_profile_asks() {
    let c = HttpCollector::start();
    c.fail_with(&[500]);
    let setup = |rig: &mut Rig| {
        rig.enable();
        rig.profile(
            &[
                ("ReportingInterval", "1"),
                ("NumberOfRetainedFailedReports", "-1"),
                ("EncodingType", "CSV"),
                ("CSVEncoding.RowTimestamp", "None"),
                ("HTTP.URL", &c.url("/p")),
                ("HTTP.PersistAcrossReboot", "true"),
                ("Enable", "true"),
            ],
            &[("sn", "Device.DeviceInfo.SerialNumber", false)],
        );
    };
    let mut rig = Rig::new();
    setup(&mut rig);
    report_at(&mut rig, &c, 1, 1);
    let dir = rig.dir.take().unwrap();
    let file = dir.path().join("bulkdata/profile-1.retained");
    let end = Instant::now() + Duration::from_secs(5);
    while !file.is_file() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(file.is_file(), "the failed report is on flash");
    drop(rig);
    let mut rig = Rig::in_dir(dir);
    setup(&mut rig);
    let r = report_at(&mut rig, &c, 1, 2);
    assert_eq!(String::from_utf8(r.body).unwrap(), "sn\r\nLAB0001\r\nLAB0001\r\n");
    // The collector has the body before the worker has its answer: wait (bounded) for it.
    let file = rig.dir.as_ref().unwrap().path().join("bulkdata/profile-1.retained");
    let end = Instant::now() + Duration::from_secs(5);
    while file.exists() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!file.exists(), "sent: forgotten");
}

#[test]
fn a_profile_that_cannot_send_is_skipped_and_the_others_go_on() {
    let mut rig = Rig::new();
    rig.enable();
    // HTTP without a URL: every interval logs why there is no report.
    let broken = rig.profile(
        &[("ReportingInterval", "1"), ("Enable", "true")],
        &[("sn", "Device.DeviceInfo.SerialNumber", false)],
    );
    rig.profile(
        &[("Protocol", "USPEventNotif"), ("ReportingInterval", "1"), ("Enable", "true")],
        &[("sn", "Device.DeviceInfo.SerialNumber", false)],
    );
    rig.step(1);
    assert!(rig.wait_push().is_some());
    let e = rig.lab.operate(&format!("{broken}ForceCollection()"), &[]).unwrap_err();
    assert_eq!(e.code.code(), 7022, "{e}");
    assert!(e.msg.contains("unsupported URL"), "{e}");
    rig.step(2);
    assert!(rig.wait_push().is_some(), "the other profile still reports");
}

#[test]
fn a_collector_being_retried_holds_up_no_other_profile() {
    let c = HttpCollector::start();
    c.fail_with(&[503; 30]);
    let mut rig = Rig::new();
    rig.enable();
    let slow = rig.profile(
        &[
            ("ReportingInterval", "60"),
            ("HTTP.URL", &c.url("/down")),
            ("HTTP.RetryEnable", "true"),
            ("HTTP.RetryMinimumWaitInterval", "1"),
            ("HTTP.RetryIntervalMultiplier", "1000"),
        ],
        &[("sn", "Device.DeviceInfo.SerialNumber", false)],
    );
    rig.lab.operate(&format!("{slow}ForceCollection()"), &[]).unwrap();
    rig.step(0);
    assert_eq!(c.wait_for(1, Duration::from_secs(5)).len(), 1, "the first attempt");
    rig.profile(
        &[("Protocol", "USPEventNotif"), ("ReportingInterval", "1"), ("Enable", "true")],
        &[("sn", "Device.DeviceInfo.SerialNumber", false)],
    );
    rig.step(1);
    let started = Instant::now();
    assert!(rig.wait_push().is_some(), "the other profile reports while the upload is retried");
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    assert!(c.requests().len() < 30, "still retrying");
}
