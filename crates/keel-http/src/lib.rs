//! keel's one HTTP layer: what GitHub's client, the OCI registry client and the store client
//! share, so that each question has one answer.
//!
//! - **Trust** ([`agent`]): TLS through rustls with ring, trusting the platform's root
//!   certificates, or the ones in the PEM file `SSL_CERT_FILE` names (a private CA), which
//!   replace them; a file that holds no certificate is an error, not an empty trust store.
//! - **Limits** ([`Options`]): connect and overall timeouts, redirects, https-only.
//! - **Retries** ([`Retry`]): attempts with doubling waits, the server's `Retry-After` on
//!   429 and 503 honoured, a longest wait past which keel gives up.
//! - **Plain HTTP** ([`plain_http_allowed`]): only to this machine (loopback) unless allowed;
//!   an `https://` URL whose server answers in plain HTTP is told apart from other TLS
//!   failures ([`answered_plain_http`]), so that each client can say to write `http://`.
//! - **URLs**: one percent-encoder for a path segment or a query value ([`encode`]), and one
//!   redaction of credentials ([`redact`]).
//!
//! ```
//! let options = keel_http::Options::default();
//! let agent = keel_http::agent(&options).expect("the platform's roots load");
//! # drop(agent);
//! assert_eq!(keel_http::encode("a b/c"), "a%20b%2Fc");
//! assert_eq!(keel_http::redact("https://user:secret@example.com/x"), "https://example.com/x");
//! ```
//!
//! This crate never prints.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// How an agent talks.
#[derive(Debug, Clone)]
pub struct Options {
    /// Connecting may take this long.
    pub connect_timeout: Duration,
    /// One request, body included, may take this long.
    pub timeout: Duration,
    /// Whether a status of 400 or more is an `Err` (else the caller reads it).
    pub status_as_error: bool,
    /// Refuse to follow a redirect to plain `http://`.
    pub https_only: bool,
    /// Redirects followed at most.
    pub max_redirects: u32,
    /// The `User-Agent` header.
    pub user_agent: &'static str,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            connect_timeout: Duration::from_secs(20),
            timeout: Duration::from_secs(600),
            status_as_error: false,
            https_only: false,
            max_redirects: 5,
            user_agent: concat!("keel/", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// The certificates `SSL_CERT_FILE` names cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

impl std::fmt::Display for TrustError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot use the certificates in {} (SSL_CERT_FILE): {}",
            self.path.display(),
            self.reason
        )
    }
}

impl std::error::Error for TrustError {}

/// The root certificates keel trusts: `SSL_CERT_FILE`'s when set (read as PEM; an unreadable
/// file or one without a certificate is an error), else the platform's. No roots at all (a
/// container without CA certificates) refuses every certificate as untrusted.
pub fn roots() -> Result<Vec<ureq::tls::Certificate<'static>>, TrustError> {
    use keel_schema::env::{SSL_CERT_FILE, path};
    if let Some(file) = path(SSL_CERT_FILE) {
        let failed = |reason: String| TrustError {
            path: file.clone(),
            reason,
        };
        let pem = fs_err::read(&file).map_err(|err| failed(err.to_string()))?;
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(&pem) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(cert)) => certs.push(cert.to_owned()),
                Ok(_) => {}
                Err(err) => return Err(failed(err.to_string())),
            }
        }
        if certs.is_empty() {
            return Err(failed("it holds no PEM certificate".to_owned()));
        }
        return Ok(certs);
    }
    Ok(rustls_native_certs::load_native_certs()
        .certs
        .iter()
        .map(|der| ureq::tls::Certificate::from_der(der.as_ref()).to_owned())
        .collect())
}

/// An agent with keel's trust policy ([`roots`]) and `options`.
pub fn agent(options: &Options) -> Result<ureq::Agent, TrustError> {
    use ureq::tls::{RootCerts, TlsConfig, TlsProvider};
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(RootCerts::Specific(Arc::new(roots()?)))
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .build();
    Ok(ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_connect(Some(options.connect_timeout))
        .timeout_global(Some(options.timeout))
        .http_status_as_error(options.status_as_error)
        .max_redirects(options.max_redirects)
        .https_only(options.https_only)
        .user_agent(options.user_agent)
        .build()
        .new_agent())
}

/// How failed requests are tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Attempts in all, the first included (at least 1).
    pub attempts: u32,
    /// The wait before the second attempt; it doubles after each.
    pub first_delay: Duration,
    /// The longest wait keel accepts from a server's `Retry-After` or rate limit.
    pub max_wait: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 4,
            first_delay: Duration::from_millis(500),
            max_wait: Duration::from_secs(300),
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Wait this long, then try again.
    Wait(Duration),
    /// No attempt is left.
    GiveUp,
    /// The server asks for a longer wait than [`Retry::max_wait`].
    TooLong(Duration),
}

impl Retry {
    /// After the failed attempt number `attempt` (1 for the first): wait the server's
    /// `retry_after` when it gave one, else the backoff (`first_delay` doubled per attempt).
    pub fn next(&self, attempt: u32, retry_after: Option<Duration>) -> Next {
        if attempt >= self.attempts.max(1) {
            return Next::GiveUp;
        }
        match retry_after {
            Some(wait) if wait > self.max_wait => Next::TooLong(wait),
            Some(wait) => Next::Wait(wait),
            None => {
                let doublings = attempt.saturating_sub(1).min(16);
                Next::Wait(self.first_delay.saturating_mul(1 << doublings))
            }
        }
    }
}

/// Whether an answer with `status` is worth trying again: a rate limit (429) or a server
/// error (5xx).
pub fn retryable(status: u16) -> bool {
    status == 429 || status >= 500
}

/// A `Retry-After` header's wait: a number of seconds. (The HTTP-date form is not used by
/// the services keel talks to, and is read as no wait given.)
pub fn retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Whether a plain `http://` URL may be used: `https://` and others always; `http://` only
/// when `url` names this machine (a loopback address or `localhost`) or `allow` is set.
pub fn plain_http_allowed(url: &url::Url, allow: bool) -> bool {
    if url.scheme() != "http" || allow {
        return true;
    }
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => is_loopback_name(name),
        None => false,
    }
}

/// Whether a failed request's `err` says that the server answered keel's TLS handshake with
/// something that is not TLS: a server speaking plain HTTP on the port an `https://` URL
/// names. rustls reads the first byte of its answer (the `H` of `HTTP/1.1 400 Bad Request`)
/// as a TLS record of no known content type, and ureq passes that on as
/// `Io(InvalidData: rustls::Error::InvalidMessage(InvalidContentType))`. `err` may be ureq's
/// error, an I/O error, rustls's error, or an error whose causes hold one of them.
///
/// A certificate problem, a refused connection or a server that closes the connection is not
/// such an answer.
pub fn answered_plain_http(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(err) = current {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return matches!(
                tls,
                rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType)
            );
        }
        current = if let Some(ureq) = err.downcast_ref::<ureq::Error>() {
            // ureq's error names no source: its variants hold the causes.
            match ureq {
                ureq::Error::Rustls(tls) => Some(tls as &(dyn std::error::Error + 'static)),
                ureq::Error::Io(io) => Some(io as &(dyn std::error::Error + 'static)),
                _ => None,
            }
        } else if let Some(io) = err.downcast_ref::<std::io::Error>() {
            // An I/O error's source skips the error it wraps: that is `get_ref`.
            io.get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static))
        } else {
            err.source()
        };
    }
    false
}

/// Whether `host` (a name or an address, `[::1]` included, without a port) is this machine.
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => is_loopback_name(bare),
    }
}

fn is_loopback_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// Everything but the unreserved characters of RFC 3986 (`A-Z a-z 0-9 - . _ ~`).
const RESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `text` percent-encoded as one path segment or one query value: every byte but the
/// unreserved characters.
pub fn encode(text: &str) -> String {
    utf8_percent_encode(text, RESERVED).to_string()
}

/// The origin of an `http://` or `https://` URL (`https://host` or `http://host:port`, the
/// scheme and host in lower case, the scheme's own port left out): what credentials are
/// scoped to. `None` for other URLs and for text that is not a URL.
pub fn origin(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    match parsed.scheme() {
        "http" | "https" if parsed.has_host() => Some(parsed.origin().ascii_serialization()),
        _ => None,
    }
}

/// The host of an `http://` or `https://` URL, in lower case, without its port (an IPv6
/// address without brackets); `None` for other URLs.
pub fn host(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    match (parsed.scheme(), parsed.host()) {
        ("http" | "https", Some(url::Host::Domain(name))) => Some(name.to_ascii_lowercase()),
        ("http" | "https", Some(url::Host::Ipv4(ip))) => Some(ip.to_string()),
        ("http" | "https", Some(url::Host::Ipv6(ip))) => Some(ip.to_string()),
        _ => None,
    }
}

/// Whether the host of `url` has an address this machine can look up. A request that failed
/// on the way is worth trying again only when it does: without a name service (no network)
/// every retry fails the same way.
pub fn resolves(url: &str) -> bool {
    use std::net::ToSocketAddrs;
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    let (Some(host), Some(port)) = (parsed.host_str(), parsed.port_or_known_default()) else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (host, port)
        .to_socket_addrs()
        .is_ok_and(|mut addresses| addresses.next().is_some())
}

/// `url` without `user:password@`, for showing and for keeping (receipts). Text that is not a
/// URL is returned as it is.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.has_host() => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn retries_back_off_honour_retry_after_and_stop() {
        let retry = Retry {
            attempts: 4,
            first_delay: Duration::from_millis(100),
            max_wait: Duration::from_secs(60),
        };
        assert_eq!(retry.next(1, None), Next::Wait(Duration::from_millis(100)));
        assert_eq!(retry.next(2, None), Next::Wait(Duration::from_millis(200)));
        assert_eq!(retry.next(3, None), Next::Wait(Duration::from_millis(400)));
        assert_eq!(retry.next(4, None), Next::GiveUp);
        let asked = retry_after(" 7 ");
        assert_eq!(asked, Some(Duration::from_secs(7)));
        assert_eq!(retry.next(1, asked), Next::Wait(Duration::from_secs(7)));
        assert_eq!(
            retry.next(1, retry_after("3600")),
            Next::TooLong(Duration::from_secs(3600))
        );
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert!(retryable(429) && retryable(503) && !retryable(404) && !retryable(401));
    }

    #[test]
    fn plain_http_goes_only_to_this_machine_unless_allowed() {
        let ok = |u: &str, allow| plain_http_allowed(&url::Url::parse(u).unwrap(), allow);
        assert!(ok("http://127.0.0.1:8080/", false));
        assert!(ok("http://[::1]:8080/", false));
        assert!(ok("http://localhost/", false));
        assert!(ok("http://store.localhost./", false));
        assert!(ok("https://example.com/", false));
        assert!(!ok("http://example.com/", false));
        assert!(!ok("http://127.0.0.1.example.com/", false));
        assert!(!ok("http://10.0.0.1/", false));
        assert!(ok("http://example.com/", true));
        assert!(is_loopback_host("[::1]") && is_loopback_host("127.0.0.2"));
        assert!(!is_loopback_host("example.com"));
    }

    #[test]
    fn an_origin_is_the_scheme_host_and_port_credentials_are_scoped_to() {
        let origin = |u: &str| origin(u);
        assert_eq!(
            origin("https://GitHub.com/o/r.git").as_deref(),
            Some("https://github.com")
        );
        assert_eq!(
            origin("https://github.com:443/o").as_deref(),
            Some("https://github.com")
        );
        assert_eq!(
            origin("http://127.0.0.1:8080/x").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(
            origin("https://user:pw@example.com/").as_deref(),
            Some("https://example.com")
        );
        assert_ne!(
            origin("https://github.com.evil.example/"),
            origin("https://github.com/")
        );
        assert_ne!(origin("http://github.com/"), origin("https://github.com/"));
        for other in [
            "git@github.com:o/r.git",
            "ssh://git@github.com/o/r",
            "/srv/r.git",
            "x",
        ] {
            assert_eq!(origin(other), None, "{other}");
            assert_eq!(host(other), None, "{other}");
        }
        assert_eq!(
            host("https://Auth.Docker.IO/t?x").as_deref(),
            Some("auth.docker.io")
        );
        assert_eq!(host("http://[::1]:5000/v2/").as_deref(), Some("::1"));
        assert_eq!(host("http://127.0.0.2:80/").as_deref(), Some("127.0.0.2"));
    }

    #[test]
    fn a_host_resolves_when_it_has_an_address() {
        assert!(resolves("https://127.0.0.1:1/"));
        assert!(resolves("http://[::1]:8080/x"));
        assert!(!resolves("https://api.keel-test.invalid/"));
        assert!(!resolves("not a url"));
    }

    #[test]
    fn encoding_and_redaction() {
        assert_eq!(encode("v1.0.0-rc.1_x~"), "v1.0.0-rc.1_x~");
        assert_eq!(encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(
            redact("https://u:p@store.example/keel/?q=1"),
            "https://store.example/keel/?q=1"
        );
        assert_eq!(redact("not a url"), "not a url");
        assert_eq!(redact("/some/path"), "/some/path");
    }

    /// A server on 127.0.0.1 that answers every connection with `answer` (after reading what
    /// the client sends first), or closes it at once when `answer` is empty.
    fn answering(answer: &'static [u8]) -> u16 {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                if !answer.is_empty() {
                    let mut hello = [0u8; 4096];
                    let _ = stream.read(&mut hello);
                    let _ = stream.write_all(answer);
                }
            }
        });
        port
    }

    #[test]
    fn a_tls_handshake_answered_in_plain_http_is_told_apart() {
        let agent = agent(&Options::default()).unwrap();
        let get = |url: String| agent.get(url).call().unwrap_err();
        // What a plain-HTTP server (Go's net/http, Python's http.server) says to a ClientHello.
        let plain = answering(
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        let err = get(format!("https://127.0.0.1:{plain}/v2/"));
        assert!(answered_plain_http(&err), "{err:?}");
        assert!(
            matches!(&err, ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData),
            "{err:?}"
        );
        // The same error inside an I/O error, as a response body's reader gives it.
        let wrapped = std::io::Error::other(err);
        assert!(answered_plain_http(&wrapped));
        // Over `http://`, the same server answers.
        let answer = agent
            .get(format!("http://127.0.0.1:{plain}/v2/"))
            .call()
            .unwrap();
        assert_eq!(answer.status(), 400);

        // Other failures are not taken for it: a connection closed at once, no server.
        let closing = answering(b"");
        let err = get(format!("https://127.0.0.1:{closing}/"));
        assert!(!answered_plain_http(&err), "{err:?}");
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = free.local_addr().unwrap().port();
        drop(free);
        let err = get(format!("https://127.0.0.1:{port}/"));
        assert!(!answered_plain_http(&err), "{err:?}");
        let certificate =
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        assert!(!answered_plain_http(&certificate));
    }
}
