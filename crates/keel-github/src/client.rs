//! The REST client: requests, retries, rate limits and pagination.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::{Error, Repo};

/// A GitHub token. It is sent in a header only, never put in a URL, and never shown: `Debug`
/// prints `Token([redacted])`.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// Wraps a token.
    pub fn new(token: String) -> Token {
        Token(token)
    }

    /// `GITHUB_TOKEN`, else `GH_TOKEN`.
    pub fn from_env() -> Option<Token> {
        keel_schema::env::var(keel_schema::env::GITHUB_TOKEN)
            .or_else(|| keel_schema::env::var(keel_schema::env::GH_TOKEN))
            .map(Token)
    }
}

impl Token {
    /// The secret itself, for the request header and git's push header only.
    pub(crate) fn secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token([redacted])")
    }
}

/// How failures are retried: keel's one retry policy ([`keel_http::Retry`]).
pub use keel_http::Retry;

/// GitHub's retries: five attempts from one second, and rate limits waited out up to five
/// minutes.
const GITHUB_RETRY: Retry = Retry {
    attempts: 5,
    first_delay: Duration::from_secs(1),
    max_wait: Duration::from_secs(300),
};

/// A pull request, as GitHub describes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PullRequest {
    /// Its number.
    pub number: u64,
    /// Its page.
    pub html_url: String,
    /// Its title.
    pub title: String,
    /// Its description.
    pub body: Option<String>,
}

/// A release, as GitHub describes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Release {
    /// Its id.
    pub id: u64,
    /// Its tag.
    pub tag_name: String,
    /// Its title.
    #[serde(default)]
    pub name: Option<String>,
    /// Its notes.
    #[serde(default)]
    pub body: Option<String>,
    /// Whether it is a draft (visible only to those who may write the repository).
    pub draft: bool,
    /// Whether it is marked as a pre-release.
    pub prerelease: bool,
    /// Where its assets are uploaded (an RFC 6570 template, `.../assets{?name,label}`).
    pub upload_url: String,
    /// Its page.
    #[serde(default)]
    pub html_url: String,
    /// Whether its assets and tag can no longer change (GitHub's immutable releases).
    #[serde(default)]
    pub immutable: bool,
}

/// A file of a release, as GitHub describes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Asset {
    /// Its id.
    pub id: u64,
    /// Its file name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// `uploaded`, or `starter` for what an interrupted upload left.
    pub state: String,
    /// `sha256:<hex>`, where GitHub computed it.
    #[serde(default)]
    pub digest: Option<String>,
}

/// What to set on a release.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReleaseChanges {
    /// The title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The notes (Markdown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Draft or published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub draft: Option<bool>,
    /// Whether it is a pre-release.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prerelease: Option<bool>,
    /// `true` or `false`: whether it becomes the repository's latest release.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub make_latest: Option<String>,
    /// The commit the tag is made at, when GitHub makes the tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_commitish: Option<String>,
}

/// A response, read whole.
struct Answer {
    status: u16,
    body: String,
    next: Option<String>,
}

/// A GitHub REST client.
pub struct Client {
    api: String,
    token: Token,
    /// The agent, or why keel's trust policy could not make one (said at the first request).
    agent: Result<ureq::Agent, keel_http::TrustError>,
    retry: Retry,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("api", &self.api)
            .field("token", &self.token)
            .finish()
    }
}

/// What one attempt of a request ended in.
enum Outcome {
    Done(Answer),
    /// Worth trying again: a server error or a network failure.
    Again(String),
    /// Wait this long, then try again (a rate limit).
    Wait(Duration, String),
}

impl Client {
    /// A client of the API at `api` (`https://api.github.com`).
    pub fn new(api: &str, token: Token) -> Client {
        let agent = keel_http::agent(&keel_http::Options {
            timeout: Duration::from_secs(600),
            connect_timeout: Duration::from_secs(20),
            ..keel_http::Options::default()
        });
        Client {
            api: api.trim_end_matches('/').to_owned(),
            token,
            agent,
            retry: GITHUB_RETRY,
        }
    }

    /// A client of `KEEL_GITHUB_API_URL`, else `https://api.github.com`.
    pub fn from_env(token: Token) -> Client {
        let api = keel_schema::env::var(keel_schema::env::KEEL_GITHUB_API_URL)
            .unwrap_or_else(|| "https://api.github.com".to_owned());
        Client::new(&api, token)
    }

    /// Changes how failures are retried.
    pub fn with_retry(mut self, retry: Retry) -> Client {
        self.retry = retry;
        self
    }

    /// The API's base URL.
    pub fn api(&self) -> &str {
        &self.api
    }

    /// The path of a URL, for messages (never a query, which could carry secrets).
    fn shown(url: &str) -> String {
        let without_query = url.split('?').next().unwrap_or(url);
        match without_query.split_once("://") {
            Some((_, rest)) => rest
                .find('/')
                .map_or_else(|| "/".to_owned(), |i| rest[i..].to_owned()),
            None => without_query.to_owned(),
        }
    }

    fn attempt(
        &self,
        method: &'static str,
        url: &str,
        json: Option<&serde_json::Value>,
        file: Option<&Path>,
    ) -> Result<Outcome, Error> {
        let agent = self
            .agent
            .as_ref()
            .map_err(|err| Error::Trust(err.clone()))?;
        let auth = format!("Bearer {}", self.token.0);
        let with_headers = |builder: ureq::RequestBuilder<ureq::typestate::WithoutBody>| {
            builder
                .header("Authorization", &auth)
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28")
        };
        let with_body_headers = |builder: ureq::RequestBuilder<ureq::typestate::WithBody>| {
            builder
                .header("Authorization", &auth)
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28")
        };
        let result = match (method, json, file) {
            ("GET", _, _) => with_headers(agent.get(url)).call(),
            ("DELETE", _, _) => with_headers(agent.delete(url)).call(),
            (_, _, Some(path)) => {
                let data = fs_err::File::open(path)
                    .map_err(|source| Error::Read {
                        path: path.to_owned(),
                        source,
                    })?
                    .into_file();
                with_body_headers(agent.post(url))
                    .header("Content-Type", "application/octet-stream")
                    .send(data)
            }
            ("PATCH", Some(json), _) => with_body_headers(agent.patch(url)).send_json(json),
            (_, Some(json), _) => with_body_headers(agent.post(url)).send_json(json),
            (_, None, None) => with_body_headers(agent.post(url)).send_empty(),
        };
        let mut response = match result {
            Ok(response) => response,
            // Trying again would get the same answer.
            Err(err) if keel_http::answered_plain_http(&err) => {
                return Err(Error::PlainHttpServer {
                    origin: keel_http::origin(url).unwrap_or_else(|| keel_http::redact(url)),
                });
            }
            // No address for the host: no network, or a name service that is down. Every
            // retry would fail the same way.
            Err(err) if !keel_http::resolves(url) => {
                return Err(Error::Unreachable {
                    host: keel_http::host(url).unwrap_or_else(|| keel_http::redact(url)),
                    cause: err.to_string(),
                });
            }
            Err(err) => return Ok(Outcome::Again(err.to_string())),
        };
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let next = header("link").and_then(|link| next_link(&link));
        let retry_after = header("retry-after").and_then(|v| keel_http::retry_after(&v));
        let exhausted = header("x-ratelimit-remaining").as_deref() == Some("0");
        let reset = header("x-ratelimit-reset").and_then(|v| v.trim().parse::<u64>().ok());
        let body = match response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
        {
            Ok(body) => body,
            Err(err) => return Ok(Outcome::Again(err.to_string())),
        };
        let rate_limited = matches!(status, 403 | 429) && (retry_after.is_some() || exhausted);
        if rate_limited {
            let wait = retry_after.unwrap_or_else(|| {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                Duration::from_secs(reset.map_or(60, |reset| reset.saturating_sub(now) + 1))
            });
            return Ok(Outcome::Wait(wait, message(&body, status)));
        }
        if status >= 500 {
            if let Some(wait) = retry_after {
                return Ok(Outcome::Wait(wait, message(&body, status)));
            }
            return Ok(Outcome::Again(format!(
                "{status}: {}",
                message(&body, status)
            )));
        }
        Ok(Outcome::Done(Answer { status, body, next }))
    }

    /// Sends a request, retrying server errors and network failures with backoff and waiting
    /// out rate limits; an answer of 400 or more is an error.
    fn send(
        &self,
        method: &'static str,
        url: &str,
        json: Option<&serde_json::Value>,
        file: Option<&Path>,
    ) -> Result<Answer, Error> {
        let path = Client::shown(url);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (why, retry_after) = match self.attempt(method, url, json, file)? {
                Outcome::Done(answer) if answer.status < 400 => return Ok(answer),
                Outcome::Done(answer) => {
                    let message = message(&answer.body, answer.status);
                    return Err(match answer.status {
                        401 | 403 => Error::Unauthorized {
                            method,
                            path,
                            status: answer.status,
                            message,
                        },
                        status => Error::Api {
                            method,
                            path,
                            status,
                            message,
                        },
                    });
                }
                Outcome::Wait(wait, why) => (why, Some(wait)),
                Outcome::Again(why) => (why, None),
            };
            match self.retry.next(attempt, retry_after) {
                keel_http::Next::Wait(wait) => std::thread::sleep(wait),
                keel_http::Next::TooLong(wait) => {
                    return Err(Error::RateLimited {
                        path,
                        seconds: wait.as_secs(),
                    });
                }
                keel_http::Next::GiveUp => {
                    return Err(Error::GaveUp {
                        method,
                        path,
                        attempts: attempt,
                        last: why,
                    });
                }
            }
        }
    }

    fn send_once(&self, url: &str, file: &Path) -> Result<Result<Answer, String>, Error> {
        Ok(match self.attempt("POST", url, None, Some(file))? {
            Outcome::Done(answer) => Ok(answer),
            Outcome::Again(why) | Outcome::Wait(_, why) => Err(why),
        })
    }

    fn parse<T: serde::de::DeserializeOwned>(
        method: &'static str,
        url: &str,
        answer: &Answer,
    ) -> Result<T, Error> {
        serde_json::from_str(&answer.body).map_err(|source| Error::Answer {
            method,
            path: Client::shown(url),
            source,
        })
    }

    /// Every page of a list.
    fn all_pages<T: serde::de::DeserializeOwned>(&self, first: String) -> Result<Vec<T>, Error> {
        let mut items = Vec::new();
        let mut url = Some(first);
        while let Some(current) = url {
            let answer = self.send("GET", &current, None, None)?;
            let page: Vec<T> = Client::parse("GET", &current, &answer)?;
            items.extend(page);
            url = answer.next;
        }
        Ok(items)
    }

    /// Every release of `repo`, drafts included (the only way to find a draft by its tag).
    pub fn releases(&self, repo: &Repo) -> Result<Vec<Release>, Error> {
        self.all_pages(format!("{}/repos/{repo}/releases?per_page=100", self.api))
    }

    /// Creates a release for `tag`.
    pub fn create_release(
        &self,
        repo: &Repo,
        tag: &str,
        changes: &ReleaseChanges,
    ) -> Result<Release, Error> {
        let url = format!("{}/repos/{repo}/releases", self.api);
        let mut json = serde_json::to_value(changes).expect("release changes are plain JSON data");
        json["tag_name"] = serde_json::Value::from(tag);
        let answer = self.send("POST", &url, Some(&json), None)?;
        Client::parse("POST", &url, &answer)
    }

    /// Changes a release.
    pub fn update_release(
        &self,
        repo: &Repo,
        id: u64,
        changes: &ReleaseChanges,
    ) -> Result<Release, Error> {
        let url = format!("{}/repos/{repo}/releases/{id}", self.api);
        let json = serde_json::to_value(changes).expect("release changes are plain JSON data");
        let answer = self.send("PATCH", &url, Some(&json), None)?;
        Client::parse("PATCH", &url, &answer)
    }

    /// Every asset of a release.
    pub fn assets(&self, repo: &Repo, release: u64) -> Result<Vec<Asset>, Error> {
        self.all_pages(format!(
            "{}/repos/{repo}/releases/{release}/assets?per_page=100",
            self.api
        ))
    }

    /// Deletes a release (keel deletes only a draft it made itself).
    pub fn delete_release(&self, repo: &Repo, release: u64) -> Result<(), Error> {
        let url = format!("{}/repos/{repo}/releases/{release}", self.api);
        self.send("DELETE", &url, None, None).map(|_| ())
    }

    /// Deletes an asset.
    pub fn delete_asset(&self, repo: &Repo, asset: u64) -> Result<(), Error> {
        let url = format!("{}/repos/{repo}/releases/assets/{asset}", self.api);
        self.send("DELETE", &url, None, None).map(|_| ())
    }

    /// Uploads `path` as the asset `name` of `release`, once. `Ok(Err(why))` when the attempt
    /// failed in a way worth retrying after cleaning up; an answer of 400 or more is an error.
    pub fn upload(
        &self,
        release: &Release,
        name: &str,
        path: &Path,
    ) -> Result<Result<Asset, String>, Error> {
        let base = release
            .upload_url
            .split('{')
            .next()
            .unwrap_or(&release.upload_url);
        let url = format!("{base}?name={}", encode(name));
        match self.send_once(&url, path)? {
            Err(why) => Ok(Err(why)),
            Ok(answer) if answer.status < 400 => Client::parse("POST", &url, &answer).map(Ok),
            Ok(answer) => {
                let message = message(&answer.body, answer.status);
                Err(match answer.status {
                    401 | 403 => Error::Unauthorized {
                        method: "POST",
                        path: Client::shown(&url),
                        status: answer.status,
                        message,
                    },
                    status => Error::Api {
                        method: "POST",
                        path: Client::shown(&url),
                        status,
                        message,
                    },
                })
            }
        }
    }

    /// The open pull requests from `head` (`OWNER:BRANCH`) into `base`.
    pub fn open_pulls(
        &self,
        repo: &Repo,
        head: &str,
        base: &str,
    ) -> Result<Vec<PullRequest>, Error> {
        self.all_pages(format!(
            "{}/repos/{repo}/pulls?state=open&head={}&base={}&per_page=100",
            self.api,
            encode(head),
            encode(base)
        ))
    }

    /// Opens a pull request from the branch `head` into `base`.
    pub fn create_pull(
        &self,
        repo: &Repo,
        head: &str,
        base: &str,
        title: &str,
        body: &str,
    ) -> Result<PullRequest, Error> {
        let url = format!("{}/repos/{repo}/pulls", self.api);
        let json = serde_json::json!({"title": title, "head": head, "base": base, "body": body});
        let answer = self.send("POST", &url, Some(&json), None)?;
        Client::parse("POST", &url, &answer)
    }

    /// Changes a pull request's title and body.
    pub fn update_pull(
        &self,
        repo: &Repo,
        number: u64,
        title: &str,
        body: &str,
    ) -> Result<PullRequest, Error> {
        let url = format!("{}/repos/{repo}/pulls/{number}", self.api);
        let json = serde_json::json!({"title": title, "body": body});
        let answer = self.send("PATCH", &url, Some(&json), None)?;
        Client::parse("PATCH", &url, &answer)
    }

    /// The git URL of `repo` on the server of this API: `https://github.com/OWNER/REPO.git`
    /// for `https://api.github.com`, `https://HOST/OWNER/REPO.git` for GitHub Enterprise
    /// Server's `https://HOST/api/v3`.
    pub fn git_url(&self, repo: &Repo) -> String {
        format!("{}/{repo}.git", self.git_base())
    }

    /// Where GitHub serves git: `https://github.com`, or the server's address for GitHub
    /// Enterprise Server (its API URL without `/api/v3`).
    pub fn git_base(&self) -> &str {
        if self.api == "https://api.github.com" {
            "https://github.com"
        } else {
            self.api
                .strip_suffix("/api/v3")
                .or_else(|| self.api.strip_suffix("/api"))
                .unwrap_or(&self.api)
        }
    }

    /// The token.
    pub(crate) fn token(&self) -> &Token {
        &self.token
    }

    /// The retry settings.
    pub fn retry(&self) -> Retry {
        self.retry
    }
}

/// GitHub's `message` field, else the start of the body.
fn message(body: &str, status: u16) -> String {
    #[derive(Deserialize)]
    struct Detail {
        message: Option<String>,
        code: Option<String>,
        field: Option<String>,
    }
    #[derive(Deserialize)]
    struct Message {
        message: String,
        #[serde(default)]
        errors: Vec<Detail>,
    }
    match serde_json::from_str::<Message>(body) {
        Ok(m) => {
            // `422 Validation Failed` says what failed in `errors`.
            let details: Vec<String> = m
                .errors
                .iter()
                .filter_map(|d| match (&d.message, &d.field, &d.code) {
                    (Some(message), _, _) => Some(message.clone()),
                    (None, Some(field), Some(code)) => Some(format!("{field} {code}")),
                    (None, None, Some(code)) => Some(code.clone()),
                    _ => None,
                })
                .collect();
            if details.is_empty() {
                m.message
            } else {
                format!("{} ({})", m.message, details.join("; "))
            }
        }
        Err(_) if body.trim().is_empty() => format!("status {status}"),
        Err(_) => body.chars().take(200).collect(),
    }
}

/// The `rel="next"` URL of a `Link` header.
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
    })
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    keel_http::encode(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_is_read_from_the_link_header() {
        let link = r#"<https://api.github.com/repositories/1/releases?page=2>; rel="next", <https://api.github.com/repositories/1/releases?page=5>; rel="last""#;
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://api.github.com/repositories/1/releases?page=2")
        );
        assert_eq!(next_link(r#"<x>; rel="prev""#), None);
    }

    #[test]
    fn validation_failures_say_what_failed() {
        let body = r#"{"message":"Validation Failed","errors":[{"resource":"PullRequest","code":"custom","message":"A pull request already exists for o:keel/release."}]}"#;
        assert_eq!(
            message(body, 422),
            "Validation Failed (A pull request already exists for o:keel/release.)"
        );
        let body = r#"{"message":"Validation Failed","errors":[{"resource":"Release","code":"already_exists","field":"tag_name"}]}"#;
        assert_eq!(
            message(body, 422),
            "Validation Failed (tag_name already_exists)"
        );
        assert_eq!(message("", 502), "status 502");
    }

    #[test]
    fn a_host_without_an_address_is_told_at_once_not_retried() {
        // `.invalid` never resolves (RFC 6761), as nothing does without a network.
        let mut client = Client::new("https://api.keel-test.invalid", Token::new("t".into()));
        client.retry = keel_http::Retry {
            attempts: 5,
            first_delay: Duration::from_secs(30),
            ..keel_http::Retry::default()
        };
        let repo = Repo::parse("o/r").unwrap();
        let err = client.releases(&repo).unwrap_err();
        assert!(
            matches!(&err, Error::Unreachable { host, .. } if host == "api.keel-test.invalid"),
            "{err:?}"
        );
        assert!(err.hint().unwrap().contains("network connection"));
    }

    #[test]
    fn an_api_url_whose_server_speaks_plain_http_is_told_at_once() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = connections.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let _ = stream.read(&mut [0u8; 4096]);
                let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
            }
        });
        let api = format!("https://127.0.0.1:{port}");
        let client = Client::new(&api, Token::new("ghp_secret".into()));
        let repo = Repo::parse("o/r").unwrap();
        let err = client.releases(&repo).unwrap_err();
        assert!(
            matches!(&err, Error::PlainHttpServer { origin } if *origin == api),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("{api} answers plain HTTP, not HTTPS")
        );
        assert!(err.hint().unwrap().contains("KEEL_GITHUB_API_URL"));
        assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn tokens_and_queries_are_never_shown() {
        let token = Token::new("ghp_secret".into());
        assert_eq!(format!("{token:?}"), "Token([redacted])");
        let client = Client::new("https://api.github.com", token);
        assert!(!format!("{client:?}").contains("ghp_secret"));
        assert_eq!(
            Client::shown("https://uploads.github.com/repos/o/r/releases/1/assets?name=a"),
            "/repos/o/r/releases/1/assets"
        );
        assert_eq!(encode("a b+c.tar.gz"), "a%20b%2Bc.tar.gz");
    }
}
