//! The transfer client against a real HTTP server on 127.0.0.1 (testkit's).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use usp_testkit::http::{HttpServer, Route};

fn body(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

fn get(fetch: &Fetch) -> (Result<u64, TransferError>, Vec<u8>, u64) {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("file");
    let mut seen = 0u64;
    let r = download(fetch, &dest, &mut |chunk, total| {
        seen += chunk.len() as u64;
        assert_eq!(seen, total);
    });
    (r, std::fs::read(&dest).unwrap_or_default(), seen)
}

#[test]
fn a_file_streams_to_disk_with_progress() {
    let server = HttpServer::start();
    server.route("/fw.img", Route::File(body(100_000)));
    let progress = Arc::new(Progress::default());
    assert_eq!(progress.percent(), None, "unknown before the answer");
    let fetch = Fetch { progress: Some(progress.clone()), ..Fetch::new(server.url("/fw.img")) };
    let (r, data, seen) = get(&fetch);
    assert_eq!(r.unwrap(), 100_000);
    assert_eq!(data, body(100_000));
    assert_eq!(seen, 100_000);
    assert_eq!((progress.percent(), progress.received()), (Some(100), 100_000));
}

#[test]
fn missing_files_statuses_and_bad_urls_are_typed_errors() {
    let server = HttpServer::start();
    server.route("/gone", Route::Status(500));
    assert!(matches!(get(&Fetch::new(server.url("/nope"))).0, Err(TransferError::Status(404))));
    assert!(matches!(get(&Fetch::new(server.url("/gone"))).0, Err(TransferError::Status(500))));
    let e = get(&Fetch::new("ftp://127.0.0.1/x")).0.unwrap_err();
    assert!(matches!(e, TransferError::BadUrl(_)), "{e}");
    // Nothing listens on the port of a stopped server.
    let url = server.url("/x");
    drop(server);
    assert!(matches!(get(&Fetch::new(url)).0, Err(TransferError::Connect(_))));
}

#[test]
fn a_body_cut_short_is_truncated() {
    let server = HttpServer::start();
    server.route("/cut", Route::Truncated { body: body(50_000), sent: 20_000 });
    let e = get(&Fetch::new(server.url("/cut"))).0.unwrap_err();
    assert!(matches!(e, TransferError::Truncated { .. }), "{e}");
}

#[test]
fn sizes_are_checked_against_the_expected_size_and_the_limit() {
    let server = HttpServer::start();
    server.route("/f", Route::File(body(1000)));
    let fetch = Fetch { expected_size: Some(999), ..Fetch::new(server.url("/f")) };
    let e = get(&fetch).0.unwrap_err();
    assert!(matches!(e, TransferError::SizeMismatch { expected: 999, got: 1000 }), "{e}");
    let fetch = Fetch { max_size: 500, ..Fetch::new(server.url("/f")) };
    assert!(matches!(get(&fetch).0, Err(TransferError::TooLarge { limit: 500 })));
    let fetch = Fetch { expected_size: Some(1000), ..Fetch::new(server.url("/f")) };
    assert_eq!(get(&fetch).0.unwrap(), 1000);
}

#[test]
fn basic_auth_is_sent_when_credentials_are_given() {
    let server = HttpServer::start();
    let route = Route::Protected { user: "acs".into(), password: "s3cret".into(), body: body(10) };
    server.route("/p", route);
    let e = get(&Fetch::new(server.url("/p"))).0.unwrap_err();
    assert!(matches!(e, TransferError::Auth(401)), "{e}");
    let wrong = Some(("acs".to_owned(), "nope".to_owned()));
    let fetch = Fetch { credentials: wrong, ..Fetch::new(server.url("/p")) };
    assert!(matches!(get(&fetch).0, Err(TransferError::Auth(401))));
    let right = Some(("acs".to_owned(), "s3cret".to_owned()));
    let fetch = Fetch { credentials: right, ..Fetch::new(server.url("/p")) };
    assert_eq!(get(&fetch).0.unwrap(), 10);
}

#[test]
fn redirects_are_followed_up_to_the_bound() {
    let server = HttpServer::start();
    server.route("/f", Route::File(body(10)));
    server.route("/r1", Route::Redirect(server.url("/f")));
    server.route("/r2", Route::Redirect(server.url("/r1")));
    assert_eq!(get(&Fetch::new(server.url("/r2"))).0.unwrap(), 10);
    let fetch = Fetch { max_redirects: 1, ..Fetch::new(server.url("/r2")) };
    assert!(matches!(get(&fetch).0, Err(TransferError::Redirects)));
    server.route("/loop", Route::Redirect(server.url("/loop")));
    assert!(matches!(get(&Fetch::new(server.url("/loop"))).0, Err(TransferError::Redirects)));
}

#[test]
fn https_without_trust_anchors_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let fetch = Fetch { ca_file: Some(empty), ..Fetch::new("https://127.0.0.1:1/x") };
    assert!(matches!(get(&fetch).0, Err(TransferError::NoTrustAnchors(_))));
}

#[test]
fn https_with_the_test_ca_downloads_and_another_ca_is_refused() {
    let pki = usp_testkit::certs::TestPki::generate("transfer test CA", "agent");
    let server = HttpServer::start_tls(&pki.server_cert, &pki.server_key);
    server.route("/fw.img", Route::File(body(70_000)));
    server.route("/cut", Route::Truncated { body: body(70_000), sent: 1000 });
    let url = server.url("/fw.img");
    assert!(url.starts_with("https://"), "{url}");
    let fetch = Fetch { ca_file: Some(pki.ca.clone()), ..Fetch::new(url.clone()) };
    let (r, data, _) = get(&fetch);
    assert_eq!(r.unwrap(), 70_000);
    assert_eq!(data, body(70_000));
    let cut = Fetch { ca_file: Some(pki.ca.clone()), ..Fetch::new(server.url("/cut")) };
    assert!(matches!(get(&cut).0, Err(TransferError::Truncated { .. })));

    let other = usp_testkit::certs::TestPki::generate("another CA", "agent");
    let fetch = Fetch { ca_file: Some(other.ca.clone()), ..Fetch::new(url) };
    let e = get(&fetch).0.unwrap_err();
    assert!(
        matches!(&e, TransferError::Connect(why) if why.to_lowercase().contains("cert")),
        "{e}"
    );
}

#[test]
fn digest_auth_md5_and_sha256_against_the_server_challenge() {
    let server = HttpServer::start();
    for algorithm in ["MD5", "SHA-256"] {
        let path = format!("/digest-{algorithm}");
        let route = Route::Digest {
            user: "Mufasa".into(),
            password: "Circle of Life".into(),
            algorithm,
            body: body(3000),
        };
        server.route(&path, route);
        let creds = Some(("Mufasa".to_owned(), "Circle of Life".to_owned()));
        let fetch = Fetch { credentials: creds, ..Fetch::new(server.url(&path)) };
        let (r, data, _) = get(&fetch);
        assert_eq!(r.unwrap(), 3000, "{algorithm}");
        assert_eq!(data, body(3000));
        let wrong = Some(("Mufasa".to_owned(), "wrong".to_owned()));
        let fetch = Fetch { credentials: wrong, ..Fetch::new(server.url(&path)) };
        assert!(matches!(get(&fetch).0, Err(TransferError::Auth(401))), "{algorithm}");
        let none = Fetch::new(server.url(&path));
        assert!(matches!(get(&none).0, Err(TransferError::Auth(401))), "{algorithm}");
    }
}

#[test]
fn upload_puts_the_file_with_digest_auth_and_refuses_wrong_credentials() {
    let server = HttpServer::start();
    let received = std::sync::Arc::new(std::sync::Mutex::new(None));
    let digest = Some(("u".to_owned(), "p".to_owned(), "SHA-256"));
    server.route("/backup", Route::Upload { digest, received: received.clone() });
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("backup.db");
    std::fs::write(&src, body(70_000)).unwrap();
    let creds = Some(("u".to_owned(), "p".to_owned()));
    let fetch = Fetch { credentials: creds, ..Fetch::new(server.url("/backup")) };
    assert_eq!(upload(&fetch, &src).unwrap(), 70_000);
    assert_eq!(received.lock().unwrap().take(), Some(body(70_000)));
    let wrong = Fetch { credentials: Some(("u".into(), "x".into())), ..fetch.clone() };
    assert!(matches!(upload(&wrong, &src), Err(TransferError::Auth(401))));
    assert_eq!(received.lock().unwrap().take(), None, "nothing accepted");
    let small = Fetch { max_size: 10, ..fetch.clone() };
    assert!(matches!(upload(&small, &src), Err(TransferError::TooLarge { limit: 10 })));
    let e = upload(&fetch, &dir.path().join("missing")).unwrap_err();
    assert!(matches!(e, TransferError::Read(_)), "{e}");
    let to_404 = Fetch::new(server.url("/nowhere"));
    assert!(matches!(upload(&to_404, &src), Err(TransferError::Status(404))));
}

#[test]
fn a_cut_body_is_resumed_with_a_range_when_the_server_allows_it() {
    let server = HttpServer::start();
    server.route("/r", Route::Cut { body: body(60_000), cut: 25_000, ranges: true });
    server.route("/n", Route::Cut { body: body(60_000), cut: 25_000, ranges: false });
    let (r, data, seen) = get(&Fetch::new(server.url("/r")));
    assert_eq!(r.unwrap(), 60_000);
    assert_eq!(data, body(60_000), "the rest appended where it stopped");
    assert_eq!(seen, 60_000, "every byte handed once to the callback");
    let e = get(&Fetch::new(server.url("/n"))).0.unwrap_err();
    assert!(matches!(e, TransferError::Truncated { got: 25_000 }), "{e}");
}
