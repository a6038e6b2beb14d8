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
