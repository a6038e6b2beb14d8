//! keel-oci's registry client against a real registry (Debian's `docker-registry`) on
//! loopback: uploads in chunks, and the bearer-token flow Docker Hub and GHCR use.
#![allow(clippy::unwrap_used)] // Tests fail on unexpected errors.

use keel_oci::auth::Credentials;
use keel_oci::reference::Scheme;
use keel_oci::registry::{CHUNK_BYTES, Options, Registry as Client, Retry};
use keel_oci::{Blob, Error, media};
use keel_test::registry::{FlakyProxy, PASSWORD, Registry, TOKEN_SERVICE, USER};

/// Bytes that do not repeat (a simple generator: enough to defeat any deduplication).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn client(port: u16, credentials: Option<Credentials>) -> Client {
    Client::connect(
        Scheme::Http,
        &format!("127.0.0.1:{port}"),
        Options {
            credentials,
            retry: Retry {
                attempts: 2,
                first_delay: std::time::Duration::from_millis(10),
                ..Retry::default()
            },
            ..Options::default()
        },
    )
    .unwrap()
}

#[test]
fn a_blob_larger_than_a_chunk_goes_in_chunks_and_reads_back_whole() {
    let registry = Registry::start();
    let proxy = FlakyProxy::start(registry.port);
    let client = client(proxy.port, None);
    // Two full chunks and a tail: two PATCHes, then the tail in the closing PUT.
    let blob = Blob::new(media::LAYER_GZIP, noise(2 * CHUNK_BYTES + 12_345, 7));
    assert!(client.push_blob("keel/big", &blob).unwrap());
    let requests = proxy.requests.lock().unwrap().clone();
    let patches = requests.iter().filter(|r| r.starts_with("PATCH ")).count();
    assert_eq!(patches, 2, "{requests:#?}");
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.starts_with("PUT ") && r.contains("/blobs/uploads/"))
            .count(),
        1
    );
    let back = client.get_blob("keel/big", &blob.descriptor()).unwrap();
    assert!(back.data == blob.data, "the blob read back differs");
    // Once there, it is not sent again.
    assert!(!client.push_blob("keel/big", &blob).unwrap());
    // A small blob goes in one PUT.
    let before = proxy.requests.lock().unwrap().len();
    let small = Blob::new(media::LAYER_GZIP, noise(1000, 9));
    assert!(client.push_blob("keel/big", &small).unwrap());
    let after = proxy.requests.lock().unwrap()[before..].to_vec();
    assert!(!after.iter().any(|r| r.starts_with("PATCH ")), "{after:#?}");
}

#[test]
fn bearer_tokens_are_fetched_with_the_credentials_and_the_repository_scope() {
    let registry = Registry::start_token();
    let good = client(registry.port, Some(Credentials::new(USER, PASSWORD)));
    // A login check asks for a token with no scope, as `docker login` does.
    good.check_login().unwrap();
    let blob = Blob::new(media::LAYER_GZIP, noise(4096, 3));
    assert!(good.push_blob("team/app", &blob).unwrap());
    let back = good.get_blob("team/app", &blob.descriptor()).unwrap();
    assert!(back.data == blob.data);
    let requests = registry.token_requests();
    assert!(
        requests
            .iter()
            .all(|r| r["service"] == TOKEN_SERVICE && r["user"] == USER),
        "{requests:#?}"
    );
    assert!(
        requests
            .iter()
            .any(|r| r["scope"] == serde_json::json!([]) && r["granted"] == true),
        "{requests:#?}"
    );
    assert!(
        requests
            .iter()
            .any(|r| r["scope"] == serde_json::json!(["repository:team/app:pull,push"])),
        "{requests:#?}"
    );
    // A token is reused for the repository: one per repository, not one per request.
    let scoped = requests
        .iter()
        .filter(|r| r["scope"] == serde_json::json!(["repository:team/app:pull,push"]))
        .count();
    assert_eq!(scoped, 1, "{requests:#?}");

    // Wrong credentials: the token service refuses, and the secret is never shown.
    let wrong = client(
        registry.port,
        Some(Credentials::new(USER, "wrong-password-xyz")),
    );
    let err = wrong.check_login().unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("token service refused"), "{text}");
    assert!(!text.contains("wrong-password-xyz"), "{text}");
    let err = wrong.push_blob("team/app", &Blob::new(media::LAYER_GZIP, noise(10, 5)));
    assert!(matches!(err, Err(Error::Unauthorized { .. })), "{err:?}");

    // Anonymous: a token without access, which the registry refuses for a push.
    let anonymous = client(registry.port, None);
    let err = anonymous
        .push_blob("team/app", &Blob::new(media::LAYER_GZIP, noise(10, 6)))
        .unwrap_err();
    assert!(
        matches!(err, Error::Unauthorized { status: 401, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("team/app"), "{err}");
}

/// A server that records every request (its request line and headers) and answers each with
/// what `answer` says for its request line; one request per connection.
struct Scripted {
    port: u16,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Scripted {
    fn start(
        ip: &str,
        answer: impl Fn(&str) -> (u16, Vec<(String, String)>, String) + Send + 'static,
    ) -> Scripted {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind((ip, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                    request.push_str(&line);
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let first = request.lines().next().unwrap_or_default().to_owned();
                log.lock().unwrap().push(request);
                let (status, headers, body) = answer(&first);
                let mut out = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                    body.len()
                );
                for (name, value) in headers {
                    out.push_str(&format!("{name}: {value}\r\n"));
                }
                out.push_str("\r\n");
                out.push_str(&body);
                let _ = stream.write_all(out.as_bytes());
            }
        });
        Scripted { port, seen }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

#[test]
fn credentials_go_only_to_the_registry_they_belong_to() {
    // Another host (127.0.0.2): whatever reaches it is recorded; it hands out a token.
    let elsewhere = Scripted::start("127.0.0.2", |_| {
        (
            200,
            Vec::new(),
            r#"{"token": "token-from-elsewhere"}"#.to_owned(),
        )
    });
    let other = format!("http://127.0.0.2:{}", elsewhere.port);
    // A hostile registry on 127.0.0.1: its token realm and its upload location are on the
    // other host.
    let hostile = Scripted::start("127.0.0.1", move |line| {
        let challenge = (
            "WWW-Authenticate".to_owned(),
            format!(r#"Bearer realm="{other}/token",service="hostile""#),
        );
        if line.starts_with("GET /v2/ ") {
            (401, vec![challenge], "{}".to_owned())
        } else if line.starts_with("HEAD ") {
            (404, Vec::new(), String::new())
        } else if line.starts_with("POST ") {
            let location = ("Location".to_owned(), format!("{other}/upload/1?state=x"));
            (202, vec![location], String::new())
        } else {
            (500, Vec::new(), String::new())
        }
    });
    let client = client(hostile.port, Some(Credentials::new(USER, PASSWORD)));
    // The login check: the token is asked for without the password.
    let _ = client.check_login();
    let blob = Blob::new(media::LAYER_GZIP, noise(1000, 5));
    let _ = client.push_blob("team/app", &blob);
    let reached = elsewhere.seen();
    assert!(
        reached.iter().any(|r| r.starts_with("GET /token")),
        "the realm was not asked: {reached:#?}"
    );
    assert!(
        reached.iter().any(|r| r.contains("/upload/1")),
        "the upload location was not followed: {reached:#?}"
    );
    for request in &reached {
        assert!(
            !request.to_ascii_lowercase().contains("authorization:"),
            "credentials reached another host: {request}"
        );
    }
    // The registry asked for a bearer token: it never gets the password as HTTP Basic.
    let asked = hostile.seen();
    assert!(
        asked
            .iter()
            .all(|r| !r.to_ascii_lowercase().contains("authorization: basic")),
        "{asked:#?}"
    );
}

#[test]
fn a_location_over_plain_http_beyond_loopback_is_refused_before_it_is_reached() {
    let hostile = Scripted::start("127.0.0.1", |line| {
        if line.starts_with("HEAD ") {
            (404, Vec::new(), String::new())
        } else {
            let location = (
                "Location".to_owned(),
                "http://192.0.2.1/upload?x".to_owned(),
            );
            (202, vec![location], String::new())
        }
    });
    let client = client(hostile.port, Some(Credentials::new(USER, PASSWORD)));
    let blob = Blob::new(media::LAYER_GZIP, noise(1000, 6));
    let err = client.push_blob("team/app", &blob).unwrap_err();
    assert!(matches!(err, Error::PlainHttpUrl { .. }), "{err}");
    assert!(err.to_string().contains("http://192.0.2.1/upload"), "{err}");
    assert!(!err.to_string().contains("?x"), "{err}");
}
