//! A stand-in for GitHub's REST API on loopback, for the tests of `keel publish --to github:`.
//!
//! It implements the endpoints keel uses with the request and response shapes GitHub
//! documents: releases (drafts are listed only by the list endpoint, not by
//! `releases/tags/{tag}`), paginated lists with `Link` headers, uploads to the release's
//! `upload_url` with `name` in the query, asset states (`starter` for a half-made upload) and
//! `digest`s, `422 already_exists`, bearer-token authentication, and immutability: once a
//! release is published (when the server is set to immutable releases), its assets can neither
//! be added nor deleted. Faults are injected one at a time ([`Fault`]).

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
    next_id: u64,
}

/// The server; stopped when dropped.
pub struct GithubServer {
    /// The port.
    pub port: u16,
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
        let state = Arc::new(Mutex::new(State {
            token: token.to_owned(),
            immutable_releases: true,
            releases: Vec::new(),
            faults: VecDeque::new(),
            requests: Vec::new(),
            page_size: 3,
            next_id: 1000,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (state, stop) = (state.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let state = state.clone();
                            std::thread::spawn(move || {
                                let _ = serve(stream, port, &state);
                            });
                        }
                        Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
                    }
                }
            })
        };
        GithubServer {
            port,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// The API's base URL (what `KEEL_GITHUB_API_URL` is set to).
    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}/api", self.port)
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
    query: Vec<(String, String)>,
    authorization: Option<String>,
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
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
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
        query,
        authorization,
        body,
    })
}

fn serve(mut stream: TcpStream, port: u16, state: &Mutex<State>) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    let request = read_request(&mut stream)?;
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
            if state.releases.iter().any(|r| r.tag == tag) {
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
            let Some(release) = state.releases.iter_mut().find(|r| r.id.to_string() == *id) else {
                return respond(404, json!({"message": "Not Found"}));
            };
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
        _ => respond(404, json!({"message": "Not Found"})),
    }
}
