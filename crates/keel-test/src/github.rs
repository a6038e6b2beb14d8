//! A stand-in for GitHub's REST API on loopback, for the tests of `keel publish --to github:`.
//!
//! It implements the endpoints keel uses with the request and response shapes GitHub
//! documents: releases (drafts are listed only by the list endpoint, not by
//! `releases/tags/{tag}`), paginated lists with `Link` headers, uploads to the release's
//! `upload_url` with `name` in the query, asset states (`starter` for a half-made upload) and
//! `digest`s, `422 already_exists`, bearer-token authentication, and immutability: once a
//! release is published (when the server is set to immutable releases), its assets can neither
//! be added nor deleted. Faults are injected one at a time ([`Fault`]).
//!
//! Pull requests follow the same documentation: listed with `state`, `head` (`OWNER:BRANCH`)
//! and `base` filters, created only from a branch that exists in the repository, refused
//! with `422 Validation Failed` ("A pull request already exists for OWNER:BRANCH.") when an
//! open one has the same head and base, and changed with `PATCH`. Repositories are served
//! over git's smart HTTP protocol (`git http-backend`) at `/OWNER/REPO.git`, and, as on
//! GitHub, only to a client that authenticates with the token (HTTP Basic, any user name).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use sha2::Digest;

/// A fault the server injects once, into the first request it fits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The upload of this asset stops half-way: GitHub keeps a `starter` asset holding part
    /// of the file, and answers 502.
    UploadCut(String),
    /// The upload of this asset arrives whole, but the answer is lost (a 502 after storing it).
    AnswerLost(String),
    /// Another upload of this asset got there first (a list keel read is out of date): the
    /// asset appears whole, and keel's upload is answered `422 already_exists`.
    Duplicate(String),
    /// The next request is refused by a secondary rate limit: 403 with `Retry-After: 1`.
    RateLimit,
    /// The next request fails with 500.
    ServerError,
    /// Another publisher creates a draft for the same tag just before keel's (GitHub allows
    /// several drafts per tag).
    RivalDraft,
    /// Another publisher publishes the same files under the same tag just before keel
    /// publishes its draft, which GitHub then refuses (`422 already_exists`).
    RivalPublished,
}

/// An asset on the server.
#[derive(Debug, Clone)]
pub struct FakeAsset {
    /// Its id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// `uploaded` or `starter`.
    pub state: String,
    /// Its bytes.
    pub data: Vec<u8>,
}

/// A release on the server.
#[derive(Debug, Clone)]
pub struct FakeRelease {
    /// Its id.
    pub id: u64,
    /// Its tag.
    pub tag: String,
    /// Its title.
    pub name: Option<String>,
    /// Its notes.
    pub body: Option<String>,
    /// Whether it is a draft.
    pub draft: bool,
    /// Whether it is a pre-release.
    pub prerelease: bool,
    /// The last `make_latest` asked for.
    pub make_latest: Option<String>,
    /// Whether its assets can no longer change.
    pub immutable: bool,
    /// Its assets.
    pub assets: Vec<FakeAsset>,
}

/// A pull request on the server.
#[derive(Debug, Clone)]
pub struct FakePull {
    /// Its number.
    pub number: u64,
    /// The branch it comes from.
    pub head: String,
    /// The branch it merges into.
    pub base: String,
    /// Its title.
    pub title: String,
    /// Its description.
    pub body: String,
    /// `open` or `closed`.
    pub state: String,
}

/// Everything the server holds; tests read and change it through [`GithubServer::state`].
#[derive(Debug)]
pub struct State {
    /// The token it accepts.
    pub token: String,
    /// Whether releases become immutable when published.
    pub immutable_releases: bool,
    /// The releases, oldest first.
    pub releases: Vec<FakeRelease>,
    /// The faults still to inject.
    pub faults: VecDeque<Fault>,
    /// Every request, as `METHOD /path`.
    pub requests: Vec<String>,
    /// How many items a page holds at most (GitHub allows 100; tests use less).
    pub page_size: usize,
    /// The pull requests, oldest first.
    pub pulls: Vec<FakePull>,
    /// Every `Authorization` header a git request carried, as sent.
    pub git_authorizations: Vec<String>,
    /// The folder of the bare repositories.
    pub git_root: std::path::PathBuf,
    next_id: u64,
}

/// The server; stopped when dropped.
pub struct GithubServer {
    /// The port.
    pub port: u16,
    /// The folder of the bare repositories served over git's HTTP protocol.
    pub git_root: std::path::PathBuf,
    _git_dir: tempfile::TempDir,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl GithubServer {
    /// Starts a server on a free port of 127.0.0.1 that accepts `token`.
    pub fn start(token: &str) -> GithubServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let git_dir = tempfile::Builder::new()
            .prefix("keel-fake-github-")
            .tempdir()
            .unwrap();
        let git_root = git_dir.path().to_owned();
        let state = Arc::new(Mutex::new(State {
            token: token.to_owned(),
            immutable_releases: true,
            releases: Vec::new(),
            faults: VecDeque::new(),
            requests: Vec::new(),
            page_size: 3,
            pulls: Vec::new(),
            git_authorizations: Vec::new(),
            git_root: git_root.clone(),
            next_id: 1000,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (state, stop, root) = (state.clone(), stop.clone(), git_root.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let (state, root) = (state.clone(), root.clone());
                            std::thread::spawn(move || {
                                let _ = serve(stream, port, &state, &root);
                            });
                        }
                        Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
                    }
                }
            })
        };
        GithubServer {
            port,
            git_root,
            _git_dir: git_dir,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// The API's base URL (what `KEEL_GITHUB_API_URL` is set to).
    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}/api", self.port)
    }

    /// The URL git pushes to and fetches from for `repo` (`OWNER/NAME`).
    pub fn git_url(&self, repo: &str) -> String {
        format!("http://127.0.0.1:{}/{repo}.git", self.port)
    }

    /// Makes `repo` (`OWNER/NAME`) on the server a bare copy of the repository at `from`.
    pub fn create_repo(&self, repo: &str, from: &std::path::Path) -> std::path::PathBuf {
        let bare = self.git_root.join(format!("{repo}.git"));
        crate::run_ok(
            std::process::Command::new(crate::require_tool("git"))
                .args(["clone", "--quiet", "--bare"])
                .arg(from)
                .arg(&bare),
        );
        bare
    }

    /// The server's state, locked.
    pub fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a fault.
    pub fn inject(&self, fault: Fault) {
        self.state().faults.push_back(fault);
    }
}

impl Drop for GithubServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Request {
    method: String,
    path: String,
    raw_query: String,
    query: Vec<(String, String)>,
    authorization: Option<String>,
    /// Every header, names in lower case.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

struct Response {
    status: u16,
    body: Value,
    headers: Vec<(String, String)>,
}

fn respond(status: u16, body: Value) -> Response {
    Response {
        status,
        body,
        headers: Vec::new(),
    }
}

fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("00");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn read_request(stream: &mut TcpStream) -> std::io::Result<Request> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut length = 0usize;
    let mut authorization = None;
    let mut chunked = false;
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "authorization" => authorization = Some(value.trim().to_owned()),
                "transfer-encoding" => chunked = value.trim().eq_ignore_ascii_case("chunked"),
                _ => {}
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0u8; size + 2];
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    }
    let raw_query = target
        .split_once('?')
        .map(|(_, q)| q.to_owned())
        .unwrap_or_default();
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (
            path.to_owned(),
            query
                .split('&')
                .filter_map(|pair| {
                    let (k, v) = pair.split_once('=')?;
                    Some((decode(k), decode(v)))
                })
                .collect(),
        ),
        None => (target, Vec::new()),
    };
    Ok(Request {
        method,
        path,
        raw_query,
        query,
        authorization,
        headers,
        body,
    })
}

fn serve(
    mut stream: TcpStream,
    port: u16,
    state: &Mutex<State>,
    git_root: &std::path::Path,
) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    let request = read_request(&mut stream)?;
    if !request.path.starts_with("/api/") && !request.path.starts_with("/uploads/") {
        let token = {
            let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
            state
                .requests
                .push(format!("GIT {} {}", request.method, request.path));
            state
                .git_authorizations
                .push(request.authorization.clone().unwrap_or_default());
            state.token.clone()
        };
        let reply = git_http(&request, git_root, &token);
        stream.write_all(&reply)?;
        return stream.flush();
    }
    let response = {
        let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
        handle(&request, port, &mut state)
    };
    let body = if response.body.is_null() {
        String::new()
    } else {
        response.body.to_string()
    };
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n",
        response.status,
        body.len()
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()
}

/// Whether `authorization` is HTTP Basic with `token` as the password, as GitHub's git
/// endpoints accept a token.
fn basic_token_matches(authorization: Option<&str>, token: &str) -> bool {
    use base64::Engine;
    let Some(encoded) = authorization.and_then(|a| a.strip_prefix("Basic ")) else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    String::from_utf8_lossy(&decoded)
        .split_once(':')
        .is_some_and(|(_, password)| password == token)
}

/// Git's smart HTTP protocol through `git http-backend` (CGI), for a client with the token.
fn git_http(request: &Request, root: &std::path::Path, token: &str) -> Vec<u8> {
    if !basic_token_matches(request.authorization.as_deref(), token) {
        let body = "Invalid username or token. Password authentication is not supported for Git operations.\n";
        return format!(
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"GitHub\"\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes();
    }
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let child = std::process::Command::new(crate::require_tool("git"))
        .arg("http-backend")
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REMOTE_USER", "x-access-token")
        .env("REQUEST_METHOD", &request.method)
        .env("PATH_INFO", &request.path)
        .env("QUERY_STRING", &request.raw_query)
        .env("CONTENT_TYPE", header("content-type"))
        .env("CONTENT_LENGTH", request.body.len().to_string())
        .env("HTTP_CONTENT_ENCODING", header("content-encoding"))
        .env("GIT_PROTOCOL", header("git-protocol"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec();
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(&request.body);
    }
    let output = child
        .wait_with_output()
        .map(|o| o.stdout)
        .unwrap_or_default();
    // CGI: headers, a blank line, the body; `Status:` sets the status.
    let split = output
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, i + 4))
        .or_else(|| {
            output
                .windows(2)
                .position(|w| w == b"\n\n")
                .map(|i| (i, i + 2))
        });
    let Some((end, body_start)) = split else {
        return b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            .to_vec();
    };
    let mut status = "200 OK".to_owned();
    let mut head = String::new();
    for line in String::from_utf8_lossy(&output[..end]).lines() {
        match line.split_once(':') {
            Some((name, value)) if name.eq_ignore_ascii_case("status") => {
                status = value.trim().to_owned();
            }
            Some(_) => head.push_str(&format!("{}\r\n", line.trim_end())),
            None => {}
        }
    }
    let body = &output[body_start..];
    let mut reply = format!(
        "HTTP/1.1 {status}\r\n{head}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    reply.extend_from_slice(body);
    reply
}

fn pull_json(pull: &FakePull, repo: &str) -> Value {
    json!({
        "number": pull.number,
        "state": pull.state,
        "title": pull.title,
        "body": pull.body,
        "html_url": format!("https://github.com/{repo}/pull/{}", pull.number),
        "head": {"ref": pull.head, "label": format!("{}:{}", repo.split('/').next().unwrap_or_default(), pull.head)},
        "base": {"ref": pull.base},
    })
}

fn release_json(release: &FakeRelease, port: u16, repo: &str) -> Value {
    json!({
        "id": release.id,
        "tag_name": release.tag,
        "name": release.name,
        "body": release.body,
        "draft": release.draft,
        "prerelease": release.prerelease,
        "immutable": release.immutable,
        "upload_url": format!("http://127.0.0.1:{port}/uploads/repos/{repo}/releases/{}/assets{{?name,label}}", release.id),
        "html_url": format!("https://github.com/{repo}/releases/tag/{}", release.tag),
    })
}

fn asset_json(asset: &FakeAsset, repo: &str, tag: &str) -> Value {
    let mut value = json!({
        "id": asset.id,
        "name": asset.name,
        "size": asset.data.len(),
        "state": asset.state,
        "browser_download_url": format!("https://github.com/{repo}/releases/download/{tag}/{}", asset.name),
    });
    if asset.state == "uploaded" {
        value["digest"] = json!(format!(
            "sha256:{}",
            hex::encode(sha2::Sha256::digest(&asset.data))
        ));
    }
    value
}

/// One page of `items` and its `Link` header.
fn page(items: Vec<Value>, request: &Request, port: u16, page_size: usize) -> Response {
    let query = |key: &str| {
        request
            .query
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.parse::<usize>().ok())
    };
    let per_page = query("per_page").unwrap_or(30).min(page_size).max(1);
    let number = query("page").unwrap_or(1).max(1);
    let start = (number - 1) * per_page;
    let slice: Vec<Value> = items.iter().skip(start).take(per_page).cloned().collect();
    let mut response = respond(200, Value::Array(slice));
    if start + per_page < items.len() {
        response.headers.push((
            "Link".into(),
            format!(
                "<http://127.0.0.1:{port}/api{}?per_page={per_page}&page={}>; rel=\"next\"",
                request.path.trim_start_matches("/api"),
                number + 1
            ),
        ));
    }
    response
}

fn handle(request: &Request, port: u16, state: &mut State) -> Response {
    state
        .requests
        .push(format!("{} {}", request.method, request.path));
    if request.authorization.as_deref() != Some(&format!("Bearer {}", state.token)) {
        return respond(
            401,
            json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}),
        );
    }
    let upload_name = request
        .query
        .iter()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v.clone());
    let fault = state.faults.front().cloned();
    match &fault {
        Some(Fault::RateLimit) => {
            state.faults.pop_front();
            let mut response = respond(
                403,
                json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}),
            );
            response.headers.push(("Retry-After".into(), "1".into()));
            return response;
        }
        Some(Fault::ServerError) => {
            state.faults.pop_front();
            return respond(500, json!({"message": "Server Error"}));
        }
        _ => {}
    }
    let parts: Vec<&str> = request.path.trim_start_matches('/').split('/').collect();
    match (request.method.as_str(), parts.as_slice()) {
        ("GET", ["api", "repos", owner, name, "releases"]) => {
            let repo = format!("{owner}/{name}");
            let items = state
                .releases
                .iter()
                .rev()
                .map(|r| release_json(r, port, &repo))
                .collect();
            page(items, request, port, state.page_size)
        }
        ("GET", ["api", "repos", owner, name, "releases", "tags", tag]) => {
            let repo = format!("{owner}/{name}");
            match state.releases.iter().find(|r| &r.tag == tag && !r.draft) {
                Some(release) => respond(200, release_json(release, port, &repo)),
                None => respond(404, json!({"message": "Not Found"})),
            }
        }
        ("POST", ["api", "repos", owner, name, "releases"]) => {
            let repo = format!("{owner}/{name}");
            let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            let Some(tag) = body["tag_name"].as_str() else {
                return respond(422, json!({"message": "Validation Failed"}));
            };
            // Drafts do not hold their tag: several may share it, as on GitHub.
            if matches!(state.faults.front(), Some(Fault::RivalDraft)) {
                state.faults.pop_front();
                state.next_id += 1;
                let rival = FakeRelease {
                    id: state.next_id,
                    tag: tag.to_owned(),
                    name: None,
                    body: None,
                    draft: true,
                    prerelease: false,
                    make_latest: None,
                    immutable: false,
                    assets: Vec::new(),
                };
                state.releases.push(rival);
            }
            if state.releases.iter().any(|r| r.tag == tag && !r.draft) {
                return respond(
                    422,
                    json!({"message": "Validation Failed", "errors": [{"resource": "Release", "code": "already_exists", "field": "tag_name"}]}),
                );
            }
            state.next_id += 1;
            let release = FakeRelease {
                id: state.next_id,
                tag: tag.to_owned(),
                name: body["name"].as_str().map(str::to_owned),
                body: body["body"].as_str().map(str::to_owned),
                draft: body["draft"].as_bool().unwrap_or(false),
                prerelease: body["prerelease"].as_bool().unwrap_or(false),
                make_latest: body["make_latest"].as_str().map(str::to_owned),
                immutable: false,
                assets: Vec::new(),
            };
            let json = release_json(&release, port, &repo);
            state.releases.push(release);
            respond(201, json)
        }
        ("PATCH", ["api", "repos", owner, name, "releases", id]) => {
            let repo = format!("{owner}/{name}");
            let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            let immutable_releases = state.immutable_releases;
            let Some(index) = state.releases.iter().position(|r| r.id.to_string() == *id) else {
                return respond(404, json!({"message": "Not Found"}));
            };
            let publishing = body["draft"].as_bool() == Some(false) && state.releases[index].draft;
            if publishing && matches!(state.faults.front(), Some(Fault::RivalPublished)) {
                state.faults.pop_front();
                state.next_id += 1;
                let mut rival = state.releases[index].clone();
                rival.id = state.next_id;
                rival.draft = false;
                rival.immutable = immutable_releases;
                for asset in &mut rival.assets {
                    state.next_id += 1;
                    asset.id = state.next_id;
                }
                state.releases.push(rival);
            }
            let tag = state.releases[index].tag.clone();
            if publishing && state.releases.iter().any(|r| r.tag == tag && !r.draft) {
                return respond(
                    422,
                    json!({"message": "Validation Failed", "errors": [{"resource": "Release", "code": "already_exists", "field": "tag_name"}]}),
                );
            }
            let release = &mut state.releases[index];
            if let Some(name) = body["name"].as_str() {
                release.name = Some(name.to_owned());
            }
            if let Some(text) = body["body"].as_str() {
                release.body = Some(text.to_owned());
            }
            if let Some(pre) = body["prerelease"].as_bool() {
                release.prerelease = pre;
            }
            if let Some(latest) = body["make_latest"].as_str() {
                release.make_latest = Some(latest.to_owned());
            }
            if body["draft"].as_bool() == Some(false) && release.draft {
                release.draft = false;
                release.immutable = immutable_releases;
            }
            respond(200, release_json(release, port, &repo))
        }
        ("GET", ["api", "repos", owner, name, "releases", id, "assets"]) => {
            let repo = format!("{owner}/{name}");
            let Some(release) = state.releases.iter().find(|r| r.id.to_string() == *id) else {
                return respond(404, json!({"message": "Not Found"}));
            };
            let items = release
                .assets
                .iter()
                .map(|a| asset_json(a, &repo, &release.tag))
                .collect();
            page(items, request, port, state.page_size)
        }
        ("DELETE", ["api", "repos", _, _, "releases", id]) if *id != "assets" => {
            match state.releases.iter().position(|r| r.id.to_string() == *id) {
                Some(index) => {
                    state.releases.remove(index);
                    respond(204, Value::Null)
                }
                None => respond(404, json!({"message": "Not Found"})),
            }
        }
        ("DELETE", ["api", "repos", _, _, "releases", "assets", id]) => {
            for release in &mut state.releases {
                if let Some(index) = release.assets.iter().position(|a| a.id.to_string() == *id) {
                    if release.immutable {
                        return respond(
                            422,
                            json!({"message": "Cannot delete an asset of an immutable release."}),
                        );
                    }
                    release.assets.remove(index);
                    return respond(204, Value::Null);
                }
            }
            respond(404, json!({"message": "Not Found"}))
        }
        ("POST", ["uploads", "repos", owner, name, "releases", id, "assets"]) => {
            let repo = format!("{owner}/{name}");
            let Some(asset_name) = upload_name else {
                return respond(422, json!({"message": "Validation Failed"}));
            };
            state.next_id += 1;
            let asset_id = state.next_id;
            let Some(release) = state.releases.iter_mut().find(|r| r.id.to_string() == *id) else {
                return respond(404, json!({"message": "Not Found"}));
            };
            if release.immutable {
                return respond(
                    422,
                    json!({"message": "Cannot upload assets to an immutable release."}),
                );
            }
            if let Some(Fault::Duplicate(name)) = &fault
                && *name == asset_name
            {
                release.assets.push(FakeAsset {
                    id: asset_id,
                    name: asset_name.clone(),
                    state: "uploaded".into(),
                    data: request.body.clone(),
                });
                state.faults.pop_front();
                return respond(
                    422,
                    json!({"message": "Validation Failed", "errors": [{"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}]}),
                );
            }
            if release.assets.iter().any(|a| a.name == asset_name) {
                return respond(
                    422,
                    json!({"message": "Validation Failed", "errors": [{"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}]}),
                );
            }
            let tag = release.tag.clone();
            match &fault {
                Some(Fault::UploadCut(cut)) if *cut == asset_name => {
                    let half = request.body.len() / 2;
                    release.assets.push(FakeAsset {
                        id: asset_id,
                        name: asset_name,
                        state: "starter".into(),
                        data: request.body[..half].to_vec(),
                    });
                    state.faults.pop_front();
                    return respond(502, json!({"message": "Bad Gateway"}));
                }
                Some(Fault::AnswerLost(lost)) if *lost == asset_name => {
                    release.assets.push(FakeAsset {
                        id: asset_id,
                        name: asset_name,
                        state: "uploaded".into(),
                        data: request.body.clone(),
                    });
                    state.faults.pop_front();
                    return respond(502, json!({"message": "Bad Gateway"}));
                }
                _ => {}
            }
            let asset = FakeAsset {
                id: asset_id,
                name: asset_name,
                state: "uploaded".into(),
                data: request.body.clone(),
            };
            let json = asset_json(&asset, &repo, &tag);
            release.assets.push(asset);
            respond(201, json)
        }
        ("GET", ["api", "repos", owner, name, "pulls"]) => {
            let repo = format!("{owner}/{name}");
            let query = |key: &str| {
                request
                    .query
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v.clone())
            };
            let wanted_state = query("state").unwrap_or_else(|| "open".into());
            // `head` is `OWNER:BRANCH`.
            let head = query("head");
            let base = query("base");
            let items = state
                .pulls
                .iter()
                .filter(|p| wanted_state == "all" || p.state == wanted_state)
                .filter(|p| {
                    head.as_ref()
                        .is_none_or(|h| *h == format!("{owner}:{}", p.head))
                })
                .filter(|p| base.as_ref().is_none_or(|b| *b == p.base))
                .map(|p| pull_json(p, &repo))
                .collect();
            page(items, request, port, state.page_size)
        }
        ("POST", ["api", "repos", owner, name, "pulls"]) => {
            let repo = format!("{owner}/{name}");
            let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            let (Some(title), Some(head), Some(base)) = (
                body["title"].as_str(),
                body["head"].as_str(),
                body["base"].as_str(),
            ) else {
                return respond(422, json!({"message": "Validation Failed"}));
            };
            let head = head.rsplit(':').next().unwrap_or(head).to_owned();
            let bare = state.git_root.join(format!("{repo}.git"));
            let exists = |branch: &str| {
                std::process::Command::new("git")
                    .args([
                        "rev-parse",
                        "--verify",
                        "--quiet",
                        &format!("refs/heads/{branch}"),
                    ])
                    .current_dir(&bare)
                    .output()
                    .is_ok_and(|o| o.status.success())
            };
            if !exists(&head) || !exists(base) {
                return respond(
                    422,
                    json!({"message": "Validation Failed", "errors": [{"resource": "PullRequest", "field": "head", "code": "invalid"}]}),
                );
            }
            if state
                .pulls
                .iter()
                .any(|p| p.state == "open" && p.head == head && p.base == base)
            {
                return respond(
                    422,
                    json!({"message": "Validation Failed", "errors": [{"resource": "PullRequest", "code": "custom", "message": format!("A pull request already exists for {owner}:{head}.")}]}),
                );
            }
            let pull = FakePull {
                number: state.pulls.len() as u64 + 1,
                head,
                base: base.to_owned(),
                title: title.to_owned(),
                body: body["body"].as_str().unwrap_or_default().to_owned(),
                state: "open".into(),
            };
            let json = pull_json(&pull, &repo);
            state.pulls.push(pull);
            respond(201, json)
        }
        ("PATCH", ["api", "repos", owner, name, "pulls", number]) => {
            let repo = format!("{owner}/{name}");
            let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            let Some(pull) = state
                .pulls
                .iter_mut()
                .find(|p| p.number.to_string() == *number)
            else {
                return respond(404, json!({"message": "Not Found"}));
            };
            if let Some(title) = body["title"].as_str() {
                pull.title = title.to_owned();
            }
            if let Some(text) = body["body"].as_str() {
                pull.body = text.to_owned();
            }
            if let Some(s) = body["state"].as_str() {
                pull.state = s.to_owned();
            }
            respond(200, pull_json(pull, &repo))
        }
        _ => respond(404, json!({"message": "Not Found"})),
    }
}
