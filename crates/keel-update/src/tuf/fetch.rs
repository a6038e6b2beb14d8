//! Getting a store's files: `file://` from disk, `http(s)://` with a small blocking client
//! (ureq on rustls with ring), keel's timeouts and a cap on every body.
//!
//! TLS trusts what keel trusts everywhere ([`keel_http::agent`]: the platform's roots, or
//! `SSL_CERT_FILE`'s), loaded once, at the first `https://` request.

use std::io::Read;
use std::sync::OnceLock;

use crate::store::{ClientOptions, StoreFailure};

use super::TufError;

/// Fetches a store's files.
pub(crate) struct Fetcher {
    options: ClientOptions,
    https_only: bool,
    agent: OnceLock<Result<ureq::Agent, keel_http::TrustError>>,
}

impl Fetcher {
    /// `https_only`: refuse a redirect to plain `http://`.
    pub(crate) fn new(options: &ClientOptions, https_only: bool) -> Fetcher {
        Fetcher {
            options: options.clone(),
            https_only,
            agent: OnceLock::new(),
        }
    }

    fn agent(&self) -> Result<&ureq::Agent, TufError> {
        self.agent
            .get_or_init(|| {
                keel_http::agent(&keel_http::Options {
                    connect_timeout: self.options.connect_timeout,
                    timeout: self.options.timeout,
                    status_as_error: true,
                    https_only: self.https_only,
                    max_redirects: 5,
                    user_agent: concat!("keel-update/", env!("CARGO_PKG_VERSION")),
                })
            })
            .as_ref()
            .map_err(|err| TufError::new(StoreFailure::Other, err.to_string()))
    }

    /// The file at `url`, at most `max` bytes long (a longer one is refused with `too_long`).
    pub(crate) fn bytes(
        &self,
        url: &url::Url,
        max: u64,
        too_long: StoreFailure,
    ) -> Result<Vec<u8>, TufError> {
        let mut out = Vec::new();
        self.each_chunk(url, max, too_long, &mut |chunk| {
            out.extend_from_slice(chunk);
            Ok(())
        })?;
        Ok(out)
    }

    /// Streams the file at `url` to `sink`, refusing it with `too_long` past `max` bytes.
    pub(crate) fn each_chunk(
        &self,
        url: &url::Url,
        max: u64,
        too_long: StoreFailure,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), TufError>,
    ) -> Result<u64, TufError> {
        let shown = crate::store::redact(url.as_str());
        let mut reader: Box<dyn Read> = match url.scheme() {
            "file" => {
                let path = url.to_file_path().map_err(|()| {
                    TufError::new(StoreFailure::Other, format!("{shown} is not a file path"))
                })?;
                let file = fs_err::File::open(&path).map_err(|err| {
                    let failure = if err.kind() == std::io::ErrorKind::NotFound {
                        StoreFailure::NotFound
                    } else {
                        StoreFailure::Network
                    };
                    TufError::new(failure, format!("cannot read {shown}")).caused_by(err)
                })?;
                Box::new(file)
            }
            "http" | "https" => {
                let response = self.agent()?.get(url.as_str()).call().map_err(|err| {
                    if keel_http::answered_plain_http(&err) {
                        // Said in words: rustls's "corrupt message of type InvalidContentType"
                        // names no cause the operator knows.
                        return TufError::new(
                            StoreFailure::PlainHttpServer,
                            format!("cannot get {shown}: the server answers plain HTTP, not HTTPS"),
                        );
                    }
                    TufError::new(classify(&err), format!("cannot get {shown}")).caused_by(err)
                })?;
                Box::new(response.into_body().into_reader())
            }
            other => {
                return Err(TufError::new(
                    StoreFailure::Other,
                    format!("{shown}: keel reads stores over https, http or file, not {other}"),
                ));
            }
        };
        let mut buffer = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        loop {
            let n = match reader.read(&mut buffer) {
                Ok(0) => return Ok(total),
                Ok(n) => n,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    let failure = io_failure(&err);
                    return Err(
                        TufError::new(failure, format!("reading {shown} failed")).caused_by(err)
                    );
                }
            };
            total += n as u64;
            if total > max {
                return Err(TufError::new(
                    too_long,
                    format!("{shown} is longer than the {max} bytes allowed"),
                ));
            }
            sink(&buffer[..n])?;
        }
    }
}

/// What a failed request says about the store.
fn classify(err: &ureq::Error) -> StoreFailure {
    match err {
        ureq::Error::StatusCode(403 | 404 | 410) => StoreFailure::NotFound,
        ureq::Error::Timeout(_) => StoreFailure::Timeout,
        ureq::Error::Rustls(tls) => tls_failure(tls),
        ureq::Error::Tls(_) => StoreFailure::Tls,
        ureq::Error::Io(io) => io_failure(io),
        _ => StoreFailure::Network,
    }
}

/// An I/O error, which may carry ureq's or rustls's error inside.
fn io_failure(err: &std::io::Error) -> StoreFailure {
    if err.kind() == std::io::ErrorKind::TimedOut {
        return StoreFailure::Timeout;
    }
    match err.get_ref() {
        Some(inner) => {
            if let Some(ureq) = inner.downcast_ref::<ureq::Error>() {
                classify(ureq)
            } else if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
                tls_failure(tls)
            } else if let Some(io) = inner.downcast_ref::<std::io::Error>() {
                io_failure(io)
            } else {
                StoreFailure::Network
            }
        }
        None => StoreFailure::Network,
    }
}

/// What a TLS error says about the store's certificate.
fn tls_failure(err: &rustls::Error) -> StoreFailure {
    use rustls::CertificateError as C;
    match err {
        rustls::Error::InvalidCertificate(problem) => match problem {
            C::UnknownIssuer | C::BadSignature | C::UnhandledCriticalExtension => {
                StoreFailure::CertificateUntrusted
            }
            C::Expired
            | C::ExpiredContext { .. }
            | C::NotValidYet
            | C::NotValidYetContext { .. } => StoreFailure::CertificateExpired,
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                StoreFailure::CertificateWrongHost
            }
            _ => StoreFailure::Tls,
        },
        _ => StoreFailure::Tls,
    }
}
