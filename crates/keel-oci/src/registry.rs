//! A client of the OCI distribution API: pings, token and basic authentication, blobs
//! (checked before upload, uploaded in one request or in chunks), manifests, tags, and the
//! referrers API with the tag-schema fallback.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use ureq::http;

use crate::auth::Credentials;
use crate::image::{Blob, Descriptor, Index};
use crate::reference::Scheme;
use crate::{Error, media};

/// The most a manifest or index may weigh (the distribution spec's suggested limit).
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;
/// The most one blob pulled may weigh.
pub const MAX_BLOB_BYTES: u64 = 4 << 30;
/// Blobs at least this large are uploaded in chunks of this size.
pub const CHUNK_BYTES: usize = 16 << 20;

/// How failed requests are tried again: keel's one retry policy ([`keel_http::Retry`]);
/// a 429 or 503 answer's `Retry-After` is waited out.
pub use keel_http::Retry;

/// How to reach a registry.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Allow plain HTTP to a registry that is not on a loopback address.
    pub insecure: bool,
    /// Retries on server errors and network failures.
    pub retry: Retry,
    /// Credentials, when the registry needs them.
    pub credentials: Option<Credentials>,
}

/// Why a request got no answer.
enum Failed {
    /// The server answered the TLS handshake in plain HTTP.
    PlainHttp,
    /// Anything else: what went wrong.
    Other(String),
}

impl Failed {
    /// What went wrong with the request to `url`, for a message.
    fn message(self, url: &str) -> String {
        match self {
            Failed::PlainHttp => format!(
                "{} answers plain HTTP, not HTTPS",
                keel_http::origin(url).unwrap_or_default()
            ),
            Failed::Other(message) => message,
        }
    }
}

/// An answer.
struct Answer {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// The registry's error message (`errors[0].message`), else the body's start.
    fn message(&self) -> String {
        let parsed: Option<serde_json::Value> = serde_json::from_slice(&self.body).ok();
        if let Some(errors) = parsed
            .as_ref()
            .and_then(|v| v.get("errors"))
            .and_then(|v| v.as_array())
        {
            let messages: Vec<String> = errors
                .iter()
                .map(|e| {
                    let code = e.get("code").and_then(|c| c.as_str()).unwrap_or_default();
                    let message = e
                        .get("message")
                        .and_then(|c| c.as_str())
                        .unwrap_or_default();
                    format!("{code} {message}").trim().to_owned()
                })
                .collect();
            if !messages.is_empty() {
                return messages.join("; ");
            }
        }
        let text = String::from_utf8_lossy(&self.body);
        let text = text.trim();
        if text.is_empty() {
            http::StatusCode::from_u16(self.status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("no message")
                .to_owned()
        } else {
            text.chars().take(300).collect()
        }
    }
}

/// A registry.
pub struct Registry {
    /// The host as the user wrote it (`docker.io`, `127.0.0.1:5000`).
    name: String,
    /// `scheme://host` of its API.
    base: String,
    agent: ureq::Agent,
    credentials: Option<Credentials>,
    /// Whether plain HTTP beyond loopback is allowed.
    insecure: bool,
    /// The `Authorization` header that works, per repository.
    auth: Mutex<BTreeMap<String, String>>,
    retry: Retry,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("base", &self.base)
            .finish()
    }
}

fn is_loopback(registry: &str) -> bool {
    // `host:port`, `[v6]:port` or a bare host.
    let host = if registry.starts_with('[') {
        registry.split(']').next().unwrap_or_default()
    } else {
        registry.rsplit_once(':').map_or(registry, |(host, _)| host)
    };
    keel_http::is_loopback_host(host)
}

/// The HTTP agent keel's registry client uses: keel's trust policy (the platform's roots, or
/// `SSL_CERT_FILE`'s), timeouts, no status as error.
fn agent() -> Result<ureq::Agent, Error> {
    keel_http::agent(&keel_http::Options {
        connect_timeout: Duration::from_secs(20),
        timeout: Duration::from_secs(1800),
        ..keel_http::Options::default()
    })
    .map_err(|err| Error::Certificates {
        path: err.path,
        reason: err.reason,
    })
}

/// Parses `Bearer realm="...",service="...",scope="..."` (or `Basic realm=...`).
fn challenge(header: &str) -> (String, BTreeMap<String, String>) {
    let (scheme, rest) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    let mut params = BTreeMap::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let (value, after) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.split_once('"') {
                Some((value, after)) => (value.to_owned(), after),
                None => (quoted.to_owned(), ""),
            }
        } else {
            match after.split_once(',') {
                Some((value, after)) => (value.trim().to_owned(), after),
                None => (after.trim().to_owned(), ""),
            }
        };
        params.insert(key, value);
        rest = after.trim_start_matches([',', ' ']);
    }
    (scheme.to_ascii_lowercase(), params)
}

/// What a manifest upload said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// The digest the registry computed.
    pub digest: String,
    /// Whether the registry handles the `subject` field itself (it answered with
    /// `OCI-Subject`), so no fallback tag is needed.
    pub subject_indexed: bool,
}

impl Registry {
    /// A client of `registry` reached by `scheme`.
    pub fn connect(scheme: Scheme, registry: &str, options: Options) -> Result<Registry, Error> {
        let host = match registry {
            "docker.io" | "index.docker.io" => "registry-1.docker.io",
            other => other,
        };
        let base = match scheme {
            Scheme::Https => format!("https://{host}"),
            Scheme::Http if options.insecure || is_loopback(host) => format!("http://{host}"),
            Scheme::Http => {
                return Err(Error::Insecure {
                    registry: registry.to_owned(),
                });
            }
        };
        Ok(Registry {
            name: registry.to_owned(),
            base,
            agent: agent()?,
            credentials: options.credentials,
            insecure: options.insecure,
            auth: Mutex::new(BTreeMap::new()),
            retry: Retry {
                attempts: options.retry.attempts.max(1),
                ..options.retry
            },
        })
    }

    /// The registry's name, as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            path_or_url.to_owned()
        } else {
            format!("{}{}", self.base, path_or_url)
        }
    }

    /// Whether `url` is on the registry's own origin, where its credentials go. A URL the
    /// registry hands out (an upload's `Location`, a page's `Link`) may point elsewhere: it is
    /// followed without credentials, and refused when it drops from HTTPS to plain HTTP or
    /// reaches plain HTTP beyond loopback without `insecure`.
    fn own_origin(&self, url: &str) -> Result<bool, Error> {
        if url.starts_with("http://") {
            let loopback = keel_http::host(url).is_some_and(|h| keel_http::is_loopback_host(&h));
            if self.base.starts_with("https://") || !(loopback || self.insecure) {
                return Err(Error::PlainHttpUrl {
                    registry: self.name.clone(),
                    url: keel_http::origin(url).unwrap_or_default() + &Self::shown(url),
                });
            }
        }
        Ok(keel_http::origin(url) == keel_http::origin(&self.base))
    }

    /// The credentials a token service at `realm` is given: the registry's, when the realm is
    /// on the registry's host or under the name the user gave (`auth.docker.io` for
    /// `docker.io`); for any other host, only what Docker's configuration names for that host.
    fn realm_credentials(&self, realm: &str) -> Result<Option<Credentials>, Error> {
        let (Some(host), Some(_)) = (keel_http::host(realm), &self.credentials) else {
            return Ok(None);
        };
        let named = self.name.trim_start_matches('[');
        let named = match named.split_once(']') {
            Some((v6, _)) => v6,
            None => named.rsplit_once(':').map_or(named, |(host, _)| host),
        }
        .to_ascii_lowercase();
        let api = keel_http::host(&self.base).unwrap_or_default();
        if host == api || host == named || host.ends_with(&format!(".{named}")) {
            return Ok(self.credentials.clone());
        }
        let origin = keel_http::origin(realm).unwrap_or_default();
        let authority = origin.split_once("://").map_or("", |(_, rest)| rest);
        crate::auth::lookup(authority, crate::auth::Purpose::Other)
    }

    /// The path of a URL, for messages (never its query, which may carry upload state).
    fn shown(url: &str) -> String {
        let without_query = url.split('?').next().unwrap_or(url);
        match without_query.split_once("://") {
            Some((_, rest)) => rest
                .find('/')
                .map_or("/".to_owned(), |i| rest[i..].to_owned()),
            None => without_query.to_owned(),
        }
    }

    fn redact(&self, text: String) -> String {
        match &self.credentials {
            Some(credentials) if !credentials.secret().is_empty() => {
                text.replace(credentials.secret(), "<redacted>")
            }
            _ => text,
        }
    }

    /// One request. A failure is `Failed::PlainHttp` when an `https://` URL's server answered
    /// in plain HTTP (trying again would not help), else what went wrong.
    fn send_once(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        authorization: Option<&str>,
        limit: u64,
    ) -> Result<Answer, Failed> {
        let mut request = http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(authorization) = authorization {
            request = request.header("Authorization", authorization);
        }
        let request = request
            .body(body)
            .map_err(|err| Failed::Other(err.to_string()))?;
        let mut response = self.agent.run(request).map_err(|err| {
            if keel_http::answered_plain_http(&err) {
                Failed::PlainHttp
            } else {
                Failed::Other(err.to_string())
            }
        })?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                Some((
                    name.as_str().to_ascii_lowercase(),
                    value.to_str().ok()?.to_owned(),
                ))
            })
            .collect();
        let body = if method == "HEAD" {
            Vec::new()
        } else {
            response
                .body_mut()
                .with_config()
                .limit(limit)
                .read_to_vec()
                .map_err(|err| Failed::Other(err.to_string()))?
        };
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// Sends a request about `repository`, authenticating when asked to and trying again on
    /// server errors and network failures.
    fn send(
        &self,
        method: &str,
        repository: &str,
        path_or_url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        limit: u64,
    ) -> Result<Answer, Error> {
        let url = self.url(path_or_url);
        let own = self.own_origin(&url)?;
        let mut authenticated = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let authorization = self
                .auth
                .lock()
                .map_err(|_| Error::Network {
                    registry: self.name.clone(),
                    message: "a request panicked".to_owned(),
                })?
                .get(repository)
                .filter(|_| own)
                .cloned();
            let failure = match self.send_once(
                method,
                &url,
                headers,
                body,
                authorization.as_deref(),
                limit,
            ) {
                Ok(answer) if answer.status == 401 && !authenticated && own => {
                    authenticated = true;
                    self.authenticate(repository, &answer)?;
                    attempt -= 1;
                    continue;
                }
                Ok(answer) if answer.status == 401 || answer.status == 403 => {
                    return Err(Error::Unauthorized {
                        registry: self.name.clone(),
                        repository: repository.to_owned(),
                        status: answer.status,
                        message: self.redact(answer.message()),
                    });
                }
                // What to try again: the server's status, or a network failure (no status).
                Ok(answer) if keel_http::retryable(answer.status) => {
                    let wait = answer
                        .header("retry-after")
                        .and_then(keel_http::retry_after);
                    (Some(answer.status), self.redact(answer.message()), wait)
                }
                Ok(answer) => return Ok(answer),
                Err(Failed::PlainHttp) if own => {
                    return Err(Error::PlainHttpServer {
                        registry: self.name.clone(),
                        needs_insecure: !self.insecure && !is_loopback(&self.name),
                    });
                }
                Err(failed) => (None, self.redact(failed.message(&url)), None),
            };
            let (status, message, retry_after) = failure;
            let next = self.retry.next(attempt, retry_after);
            if let keel_http::Next::Wait(wait) = next {
                std::thread::sleep(wait);
            } else {
                let message = format!("{message} (tried {attempt} times)");
                return Err(match status {
                    Some(status) => Error::Registry {
                        registry: self.name.clone(),
                        method: method.to_owned(),
                        path: Self::shown(&url),
                        status,
                        message,
                    },
                    None => Error::Network {
                        registry: self.name.clone(),
                        message,
                    },
                });
            }
        }
    }

    /// Answers a 401: a bearer token from the realm the registry names (with the
    /// credentials, when there are any), or the credentials as HTTP Basic.
    fn authenticate(&self, repository: &str, answer: &Answer) -> Result<(), Error> {
        let unauthorized = |message: String| Error::Unauthorized {
            registry: self.name.clone(),
            repository: repository.to_owned(),
            status: 401,
            message,
        };
        let header = answer.header("www-authenticate").unwrap_or_default();
        let (scheme, params) = challenge(header);
        let value = match scheme.as_str() {
            "bearer" => {
                let realm = params.get("realm").ok_or_else(|| {
                    unauthorized("its bearer challenge names no realm".to_owned())
                })?;
                // No repository (checking a login): a token with no scope, as `docker login`
                // asks for.
                let scope =
                    (!repository.is_empty()).then(|| format!("repository:{repository}:pull,push"));
                let mut url = url_with_query(
                    realm,
                    &[
                        ("service", params.get("service").map(String::as_str)),
                        ("scope", scope.as_deref()),
                    ],
                );
                if url.starts_with("http://") && self.base.starts_with("https://") {
                    url = url.replacen("http://", "https://", 1);
                }
                if keel_http::host(&url).is_none() {
                    return Err(unauthorized(
                        "its bearer challenge names a realm that is not an HTTP(S) URL".to_owned(),
                    ));
                }
                self.own_origin(&url)?;
                let basic = self.realm_credentials(&url)?.map(|c| c.basic());
                let token_answer = self
                    .send_once("GET", &url, &[], &[], basic.as_deref(), MAX_MANIFEST_BYTES)
                    .map_err(|failed| Error::Network {
                        registry: self.name.clone(),
                        message: self.redact(failed.message(&url)),
                    })?;
                if token_answer.status != 200 {
                    return Err(Error::Unauthorized {
                        registry: self.name.clone(),
                        repository: repository.to_owned(),
                        status: token_answer.status,
                        message: format!(
                            "its token service refused: {}",
                            self.redact(token_answer.message())
                        ),
                    });
                }
                let token: serde_json::Value =
                    serde_json::from_slice(&token_answer.body).map_err(|_| {
                        unauthorized("its token service answered with no JSON".to_owned())
                    })?;
                let token = token
                    .get("token")
                    .or_else(|| token.get("access_token"))
                    .and_then(|t| t.as_str())
                    .ok_or_else(|| unauthorized("its token service gave no token".to_owned()))?;
                format!("Bearer {token}")
            }
            "basic" => match &self.credentials {
                Some(credentials) => credentials.basic(),
                None => return Err(unauthorized(answer.message())),
            },
            _ => return Err(unauthorized(format!("unknown authentication `{scheme}`"))),
        };
        self.auth
            .lock()
            .map_err(|_| unauthorized("a request panicked".to_owned()))?
            .insert(repository.to_owned(), value);
        Ok(())
    }

    fn fail(&self, method: &str, path: &str, answer: &Answer) -> Error {
        Error::Registry {
            registry: self.name.clone(),
            method: method.to_owned(),
            path: Self::shown(path),
            status: answer.status,
            message: self.redact(answer.message()),
        }
    }

    /// Checks that the registry lets these credentials in, as `docker login` does: `GET /v2/`,
    /// answering its challenge (a bearer token with no scope, or HTTP Basic).
    pub fn check_login(&self) -> Result<(), Error> {
        let answer = self.send("GET", "", "/v2/", &[], &[], MAX_MANIFEST_BYTES)?;
        match answer.status {
            200 => Ok(()),
            _ => Err(self.fail("GET", "/v2/", &answer)),
        }
    }

    /// Whether `repository` has the blob `digest`.
    pub fn has_blob(&self, repository: &str, digest: &str) -> Result<bool, Error> {
        let path = format!("/v2/{repository}/blobs/{digest}");
        let answer = self.send("HEAD", repository, &path, &[], &[], 0)?;
        match answer.status {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(self.fail("HEAD", &path, &answer)),
        }
    }

    /// Uploads `blob` to `repository` unless it is there already; returns whether it was
    /// uploaded.
    pub fn push_blob(&self, repository: &str, blob: &Blob) -> Result<bool, Error> {
        if self.has_blob(repository, &blob.digest)? {
            return Ok(false);
        }
        let start = format!("/v2/{repository}/blobs/uploads/");
        self.upload(repository, &start, blob)?;
        Ok(true)
    }

    fn location(&self, answer: &Answer, what: &str) -> Result<String, Error> {
        let location = answer
            .header("location")
            .ok_or_else(|| Error::BadDocument {
                what: what.to_owned(),
                reason: "the registry gave no Location for the upload".to_owned(),
            })?;
        Ok(if location.starts_with('/') {
            format!("{}{location}", self.base)
        } else {
            location.to_owned()
        })
    }

    fn upload(&self, repository: &str, start: &str, blob: &Blob) -> Result<(), Error> {
        let answer = self.send(
            "POST",
            repository,
            start,
            &[("Content-Length", "0")],
            &[],
            MAX_MANIFEST_BYTES,
        )?;
        if answer.status != 202 {
            return Err(self.fail("POST", start, &answer));
        }
        let mut location = self.location(&answer, "an upload")?;
        let mut offset = 0usize;
        // Large blobs go in chunks (as the registry asks, when it names a minimum), the rest
        // in the final PUT.
        let chunk = answer
            .header("oci-chunk-min-length")
            .and_then(|v| v.parse::<usize>().ok())
            .map_or(CHUNK_BYTES, |min| min.max(CHUNK_BYTES));
        while blob.data.len() - offset > chunk {
            let end = offset + chunk;
            let range = format!("{offset}-{}", end - 1);
            let length = chunk.to_string();
            let answer = self.send(
                "PATCH",
                repository,
                &location,
                &[
                    ("Content-Type", "application/octet-stream"),
                    ("Content-Range", &range),
                    ("Content-Length", &length),
                ],
                &blob.data[offset..end],
                MAX_MANIFEST_BYTES,
            )?;
            if answer.status != 202 {
                return Err(self.fail("PATCH", &location, &answer));
            }
            location = self.location(&answer, "an upload")?;
            offset = end;
        }
        let separator = if location.contains('?') { '&' } else { '?' };
        let put = format!("{location}{separator}digest={}", blob.digest);
        let length = (blob.data.len() - offset).to_string();
        let answer = self.send(
            "PUT",
            repository,
            &put,
            &[
                ("Content-Type", "application/octet-stream"),
                ("Content-Length", &length),
            ],
            &blob.data[offset..],
            MAX_MANIFEST_BYTES,
        )?;
        if answer.status != 201 {
            return Err(self.fail("PUT", &put, &answer));
        }
        Ok(())
    }

    /// Uploads a manifest or index under `reference` (a tag or its digest).
    pub fn put_manifest(
        &self,
        repository: &str,
        reference: &str,
        manifest: &Blob,
    ) -> Result<Pushed, Error> {
        let path = format!("/v2/{repository}/manifests/{reference}");
        let answer = self.send(
            "PUT",
            repository,
            &path,
            &[("Content-Type", manifest.media_type.as_str())],
            &manifest.data,
            MAX_MANIFEST_BYTES,
        )?;
        if answer.status != 201 {
            return Err(self.fail("PUT", &path, &answer));
        }
        if let Some(digest) = answer.header("docker-content-digest")
            && digest != manifest.digest
        {
            return Err(Error::DigestMismatch {
                what: format!("the manifest stored at {path}"),
                expected: manifest.digest.clone(),
                actual: digest.to_owned(),
            });
        }
        Ok(Pushed {
            digest: manifest.digest.clone(),
            subject_indexed: answer.header("oci-subject").is_some(),
        })
    }

    /// The manifest or index `reference` (a tag or digest) of `repository`: its media type
    /// and bytes; `None` when there is none. With a digest, the bytes are checked against it.
    pub fn get_manifest(&self, repository: &str, reference: &str) -> Result<Option<Blob>, Error> {
        let path = format!("/v2/{repository}/manifests/{reference}");
        let accept = [
            media::IMAGE_INDEX,
            media::IMAGE_MANIFEST,
            media::DOCKER_MANIFEST_LIST,
            media::DOCKER_MANIFEST,
        ]
        .join(", ");
        let answer = self.send(
            "GET",
            repository,
            &path,
            &[("Accept", &accept)],
            &[],
            MAX_MANIFEST_BYTES,
        )?;
        match answer.status {
            200 => {}
            404 => return Ok(None),
            _ => return Err(self.fail("GET", &path, &answer)),
        }
        let media_type = answer
            .header("content-type")
            .map(|t| t.split(';').next().unwrap_or(t).trim().to_owned())
            .filter(|t| media::is_index(t) || media::is_manifest(t))
            .or_else(|| {
                serde_json::from_slice::<serde_json::Value>(&answer.body)
                    .ok()?
                    .get("mediaType")?
                    .as_str()
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| media::IMAGE_MANIFEST.to_owned());
        let blob = Blob::new(&media_type, answer.body);
        if crate::is_digest(reference) && blob.digest != reference {
            return Err(Error::DigestMismatch {
                what: format!("{}/{repository}@{reference}", self.name),
                expected: reference.to_owned(),
                actual: blob.digest,
            });
        }
        Ok(Some(blob))
    }

    /// The blob `digest` of `repository`, checked against its digest.
    pub fn get_blob(&self, repository: &str, descriptor: &Descriptor) -> Result<Blob, Error> {
        let path = format!("/v2/{repository}/blobs/{}", descriptor.digest);
        let answer = self.send("GET", repository, &path, &[], &[], MAX_BLOB_BYTES)?;
        if answer.status != 200 {
            return Err(self.fail("GET", &path, &answer));
        }
        let blob = Blob::new(&descriptor.media_type, answer.body);
        if blob.digest != descriptor.digest {
            return Err(Error::DigestMismatch {
                what: format!("blob {} of {}/{repository}", descriptor.digest, self.name),
                expected: descriptor.digest.clone(),
                actual: blob.digest,
            });
        }
        Ok(blob)
    }

    /// Every tag of `repository` (following the `Link` pages).
    pub fn tags(&self, repository: &str) -> Result<Vec<String>, Error> {
        let mut tags = Vec::new();
        let mut next = Some(format!("/v2/{repository}/tags/list?n=1000"));
        while let Some(path) = next.take() {
            let answer = self.send("GET", repository, &path, &[], &[], MAX_MANIFEST_BYTES)?;
            match answer.status {
                200 => {}
                404 => return Ok(tags),
                _ => return Err(self.fail("GET", &path, &answer)),
            }
            let page: serde_json::Value =
                serde_json::from_slice(&answer.body).map_err(|err| Error::BadDocument {
                    what: format!("the tag list of {repository}"),
                    reason: err.to_string(),
                })?;
            tags.extend(
                page.get("tags")
                    .and_then(|t| t.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.as_str().map(str::to_owned)),
            );
            next = answer
                .header("link")
                .and_then(|link| link.split_once('<'))
                .and_then(|(_, rest)| rest.split_once('>'))
                .map(|(url, _)| url.to_owned());
        }
        Ok(tags)
    }

    /// The referrers of `digest` through the referrers API; `None` when the registry does
    /// not have that API.
    pub fn referrers(&self, repository: &str, digest: &str) -> Result<Option<Index>, Error> {
        let path = format!("/v2/{repository}/referrers/{digest}");
        let answer = self.send(
            "GET",
            repository,
            &path,
            &[("Accept", media::IMAGE_INDEX)],
            &[],
            MAX_MANIFEST_BYTES,
        )?;
        match answer.status {
            200 => serde_json::from_slice(&answer.body)
                .map(Some)
                .map_err(|err| Error::BadDocument {
                    what: format!("the referrers of {digest}"),
                    reason: err.to_string(),
                }),
            404 | 405 => Ok(None),
            _ => Err(self.fail("GET", &path, &answer)),
        }
    }

    /// Records `referrer` (an artifact manifest already pushed) under the fallback tag
    /// `sha256-<hex>` of its subject `digest`, for registries without the referrers API.
    pub fn add_fallback_referrer(
        &self,
        repository: &str,
        digest: &str,
        referrer: Descriptor,
    ) -> Result<(), Error> {
        let tag = digest.replacen(':', "-", 1);
        let mut index: Index = match self.get_manifest(repository, &tag)? {
            Some(blob) => serde_json::from_slice(&blob.data).map_err(|err| Error::BadDocument {
                what: format!("the referrers tag {tag}"),
                reason: err.to_string(),
            })?,
            None => Index::new(),
        };
        if index.manifests.iter().any(|d| d.digest == referrer.digest) {
            return Ok(());
        }
        index.manifests.push(referrer);
        index.manifests.sort_by(|a, b| a.digest.cmp(&b.digest));
        self.put_manifest(repository, &tag, &Blob::json(media::IMAGE_INDEX, &index))?;
        Ok(())
    }
}

fn url_with_query(base: &str, params: &[(&str, Option<&str>)]) -> String {
    let mut url = base.to_owned();
    for (key, value) in params {
        let Some(value) = value else { continue };
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(key);
        url.push('=');
        for byte in value.bytes() {
            if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
                url.push(byte as char);
            } else {
                url.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    url
}

/// Logs in to the registry `registry` names (`ghcr.io`, `http://127.0.0.1:5000`), as `docker
/// login` does: asks the registry whether it lets `credentials` in (unless `check` is false),
/// then saves them ([`crate::auth::save`]). Returns the registry's host and where the credentials went; wrong
/// credentials save nothing.
pub fn login(
    registry: &str,
    credentials: &Credentials,
    check: bool,
    insecure: bool,
) -> Result<LoggedIn, Error> {
    let (scheme, host) = crate::Reference::parse_registry(registry)?;
    if check {
        let client = Registry::connect(
            scheme,
            &host,
            Options {
                insecure,
                credentials: Some(credentials.clone()),
                ..Options::default()
            },
        )?;
        client.check_login()?;
    }
    let saved = crate::auth::save(&host, credentials)?;
    Ok(LoggedIn {
        registry: host,
        user: credentials.user.clone(),
        checked: check,
        saved,
    })
}

/// What [`login`] did: `keel image login`'s outcome.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct LoggedIn {
    /// The registry's host.
    pub registry: String,
    /// The user name.
    pub user: String,
    /// Whether the registry was asked to accept the credentials first.
    pub checked: bool,
    /// Where the credentials went.
    pub saved: crate::auth::Saved,
}

impl std::fmt::Display for LoggedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let place = match &self.saved {
            crate::auth::Saved::File(path) => path.display().to_string(),
            crate::auth::Saved::Helper(helper) => format!("docker-credential-{helper}"),
        };
        let checked = match self.checked {
            true => "",
            false => " (not checked with the registry)",
        };
        let (registry, user) = (&self.registry, &self.user);
        write!(
            f,
            "Logged in to {registry} as {user}{checked}; saved in {place}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_the_registry_hands_out_keep_or_lose_its_credentials() {
        let credentials = Some(Credentials::new("user", "secret"));
        let options = || Options {
            credentials: credentials.clone(),
            ..Options::default()
        };
        let ours = Registry::connect(Scheme::Https, "registry.example", options()).unwrap();
        assert!(
            ours.own_origin("https://registry.example/v2/o/a/blobs/uploads/1")
                .unwrap()
        );
        assert!(
            !ours
                .own_origin("https://storage.example/upload?sig=x")
                .unwrap()
        );
        assert!(
            !ours
                .own_origin("https://registry.example:8443/v2/")
                .unwrap()
        );
        // A drop from HTTPS to plain HTTP is refused, even to the same host.
        let err = ours.own_origin("http://registry.example/v2/").unwrap_err();
        assert!(matches!(err, Error::PlainHttpUrl { .. }), "{err}");
        // A bearer realm: the registry's host, or under the name given.
        let hub = Registry::connect(Scheme::Https, "docker.io", options()).unwrap();
        for realm in [
            "https://auth.docker.io/token",
            "https://registry-1.docker.io/token",
        ] {
            assert!(hub.realm_credentials(realm).unwrap().is_some(), "{realm}");
        }
        for realm in [
            "https://docker.io.evil.example/token",
            "https://evildocker.io/token",
        ] {
            assert!(hub.realm_credentials(realm).unwrap().is_none(), "{realm}");
        }
        let local = Registry::connect(Scheme::Http, "127.0.0.1:5000", options()).unwrap();
        assert!(
            local
                .realm_credentials("http://127.0.0.1:5001/token")
                .unwrap()
                .is_some()
        );
        assert!(
            local
                .realm_credentials("http://127.0.0.2:5001/token")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn challenges_are_parsed() {
        let (scheme, params) = challenge(
            r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/a:pull""#,
        );
        assert_eq!(scheme, "bearer");
        assert_eq!(params["realm"], "https://ghcr.io/token");
        assert_eq!(params["service"], "ghcr.io");
        assert_eq!(params["scope"], "repository:o/a:pull");
        let (scheme, params) = challenge(r#"Basic realm="basic-realm""#);
        assert_eq!(scheme, "basic");
        assert_eq!(params["realm"], "basic-realm");
    }

    #[test]
    fn plain_http_only_on_loopback_unless_insecure() {
        for local in [
            "127.0.0.1:5000",
            "localhost:5000",
            "[::1]:5000",
            "localhost",
        ] {
            assert!(is_loopback(local), "{local}");
        }
        assert!(!is_loopback("registry.example:5000"));
        let refused = Registry::connect(Scheme::Http, "registry.example", Options::default());
        assert!(matches!(refused, Err(Error::Insecure { .. })));
        let allowed = Registry::connect(
            Scheme::Http,
            "registry.example",
            Options {
                insecure: true,
                ..Options::default()
            },
        );
        assert!(allowed.is_ok());
    }

    #[test]
    fn a_registry_answering_https_in_plain_http_is_told_at_once() {
        use std::io::{Read, Write};
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = std::sync::Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                counted.fetch_add(1, Ordering::SeqCst);
                let _ = stream.read(&mut [0u8; 4096]);
                let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
            }
        });
        let registry = format!("127.0.0.1:{port}");
        let client = Registry::connect(Scheme::Https, &registry, Options::default()).unwrap();
        let err = client.check_login().unwrap_err();
        assert!(
            matches!(&err, Error::PlainHttpServer { registry: r, needs_insecure: false } if *r == registry),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("{registry} answers plain HTTP, not HTTPS")
        );
        // Not tried again: another attempt would get the same answer.
        assert_eq!(connections.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn queries_are_escaped() {
        assert_eq!(
            url_with_query(
                "https://a/token",
                &[
                    ("service", Some("a b")),
                    ("scope", Some("repository:x/y:pull,push")),
                    ("none", None)
                ]
            ),
            "https://a/token?service=a%20b&scope=repository%3Ax%2Fy%3Apull%2Cpush"
        );
    }
}
