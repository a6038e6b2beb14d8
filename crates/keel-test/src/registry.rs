//! A real OCI registry (Debian's `docker-registry`, the CNCF distribution registry) on
//! 127.0.0.1 with its own storage folder: plain HTTP without authentication, or HTTPS with a
//! certificate from a test CA and HTTP Basic authentication (htpasswd, bcrypt), or plain HTTP
//! behind a bearer-token service (`token_server.py`, the flow Docker Hub and GHCR use).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{require_tool, run_ok};

/// A running registry; stopped when dropped.
pub struct Registry {
    child: Child,
    /// The port it listens on.
    pub port: u16,
    dir: tempfile::TempDir,
    tls: bool,
    token_server: Option<Child>,
}

/// How a registry is reached.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Plain,
    Secure,
    Token,
}

/// The `service` and `issuer` of the token registry.
pub const TOKEN_SERVICE: &str = "keel-test-registry";
const TOKEN_ISSUER: &str = "keel-test-issuer";

/// The user and password of a registry started with [`Registry::start_secure`].
pub const USER: &str = "keel";
/// See [`USER`].
pub const PASSWORD: &str = "s3cret-registry-password";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Makes a test CA (`ca.pem`) and a certificate for 127.0.0.1 and localhost signed by it
/// (`server.pem`, `server.key`) in `dir`, with `openssl`; `names` is the certificate's
/// subjectAltName (`IP:127.0.0.1,DNS:localhost`). Returns the CA's path.
pub fn make_test_ca(dir: &Path, names: &str) -> PathBuf {
    let openssl = require_tool("openssl");
    run_ok(
        Command::new(&openssl)
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=keel test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ])
            .current_dir(dir),
    );
    run_ok(
        Command::new(&openssl)
            .args([
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=keel test server",
            ])
            .current_dir(dir),
    );
    fs_err::write(
        dir.join("ext.cnf"),
        format!("subjectAltName={names}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n"),
    )
    .unwrap();
    run_ok(
        Command::new(&openssl)
            .args([
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.pem",
                "-days",
                "2",
                "-extfile",
                "ext.cnf",
            ])
            .current_dir(dir),
    );
    dir.join("ca.pem")
}

impl Registry {
    /// A registry over plain HTTP that anyone may push to.
    pub fn start() -> Registry {
        Registry::launch(Mode::Plain)
    }

    /// A registry over HTTPS (a test CA: [`Registry::ca`]) that needs [`USER`] and
    /// [`PASSWORD`].
    pub fn start_secure() -> Registry {
        Registry::launch(Mode::Secure)
    }

    /// A registry over plain HTTP that wants bearer tokens from a token service of its own
    /// (python3 with `cryptography`), which gives [`USER`] with [`PASSWORD`] the access asked
    /// for, and anyone else none. [`Registry::token_requests`] lists what was asked.
    pub fn start_token() -> Registry {
        Registry::launch(Mode::Token)
    }

    /// The token service's log: one JSON object per request (`user`, `service`, `scope`,
    /// `granted`).
    pub fn token_requests(&self) -> Vec<serde_json::Value> {
        fs_err::read_to_string(self.dir.path().join("tokens.log"))
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    fn start_token_server(dir: &Path) -> (Child, u16) {
        use std::io::BufRead;
        let python = require_tool("python3");
        let script = dir.join("token_server.py");
        fs_err::write(&script, include_str!("token_server.py")).unwrap();
        let log = fs_err::File::create(dir.join("token_server.log")).unwrap();
        let mut child = Command::new(python)
            .arg(&script)
            .args([
                dir.to_str().unwrap(),
                USER,
                PASSWORD,
                TOKEN_ISSUER,
                TOKEN_SERVICE,
            ])
            .stdout(Stdio::piped())
            .stderr(log.into_file())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let Ok(port) = line.trim().parse() else {
            let _ = child.kill();
            panic!(
                "the token service did not start (it needs python3 with `cryptography`, which scripts/test.sh installs): {}",
                fs_err::read_to_string(dir.join("token_server.log")).unwrap_or_default()
            );
        };
        (child, port)
    }

    fn launch(mode: Mode) -> Registry {
        let secure = mode == Mode::Secure;
        let program = require_tool("docker-registry");
        let dir = tempfile::Builder::new()
            .prefix("keel-registry-")
            .tempdir()
            .unwrap();
        let d = dir.path().display();
        let mut auth = String::new();
        if secure {
            make_test_ca(dir.path(), "IP:127.0.0.1,DNS:localhost");
            auth.push_str(&format!(
                "  tls:\n    certificate: {d}/server.pem\n    key: {d}/server.key\n"
            ));
            let htpasswd = require_tool("htpasswd");
            let out = run_ok(Command::new(htpasswd).args(["-Bbn", USER, PASSWORD]));
            fs_err::write(dir.path().join("htpasswd"), out.stdout).unwrap();
            auth.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: keel-test\n    path: {d}/htpasswd\n"
            ));
        }
        let mut token_server = None;
        if mode == Mode::Token {
            let (child, token_port) = Registry::start_token_server(dir.path());
            token_server = Some(child);
            auth.push_str(&format!(
                "auth:\n  token:\n    realm: http://127.0.0.1:{token_port}/token\n    service: {TOKEN_SERVICE}\n    issuer: {TOKEN_ISSUER}\n    rootcertbundle: {d}/token.pem\n"
            ));
        }
        // A port found free can be taken by another test's server before the registry binds
        // it; then the registry exits and the readiness check would reach the other server.
        // A registry that is not running once its port answers is started again on another.
        let mut attempts = 0;
        loop {
            attempts += 1;
            let port = free_port();
            let config = format!(
                "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {d}/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{auth}"
            );
            fs_err::write(dir.path().join("config.yml"), config).unwrap();
            let log = fs_err::File::create(dir.path().join("registry.log")).unwrap();
            let child = Command::new(&program)
                .arg("serve")
                .arg(dir.path().join("config.yml"))
                .stdout(Stdio::null())
                .stderr(log.into_file())
                .spawn()
                .unwrap();
            let log_text =
                || fs_err::read_to_string(dir.path().join("registry.log")).unwrap_or_default();
            let mut child = child;
            let started = Instant::now();
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    started.elapsed() < Duration::from_secs(20),
                    "docker-registry did not start: {}",
                    log_text()
                );
                std::thread::sleep(Duration::from_millis(30));
            }
            std::thread::sleep(Duration::from_millis(200));
            if child.try_wait().ok().flatten().is_none() {
                return Registry {
                    child,
                    port,
                    dir,
                    tls: secure,
                    token_server,
                };
            }
            assert!(
                attempts < 5,
                "docker-registry exited after starting: {}",
                log_text()
            );
        }
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// What to give `keel image push`: `http://127.0.0.1:<port>/<namespace>` for the plain
    /// registry, `127.0.0.1:<port>/<namespace>` (HTTPS) for the secure one.
    pub fn destination(&self, namespace: &str) -> String {
        if self.tls {
            format!("{}/{namespace}", self.host())
        } else {
            format!("http://{}/{namespace}", self.host())
        }
    }

    /// The test CA's certificate (secure registries only).
    pub fn ca(&self) -> PathBuf {
        assert!(self.tls, "only a secure registry has a CA");
        self.dir.path().join("ca.pem")
    }

    /// A folder for skopeo's `--cert-dir` (the CA as `ca.crt`).
    pub fn cert_dir(&self) -> PathBuf {
        let dir = self.dir.path().join("certs.d");
        if !dir.exists() {
            fs_err::create_dir(&dir).unwrap();
            fs_err::copy(self.ca(), dir.join("ca.crt")).unwrap();
        }
        dir
    }

    /// skopeo's options to reach this registry (TLS and credentials); `prefix` is `""` for
    /// `inspect`, `"src-"` for the source of `copy`.
    pub fn skopeo_args(&self, prefix: &str) -> Vec<String> {
        if self.tls {
            vec![
                format!("--{prefix}cert-dir={}", self.cert_dir().display()),
                format!("--{prefix}creds={USER}:{PASSWORD}"),
            ]
        } else {
            vec![format!("--{prefix}tls-verify=false")]
        }
    }

    /// The registry's log.
    pub fn log(&self) -> String {
        fs_err::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(server) = &mut self.token_server {
            let _ = server.kill();
            let _ = server.wait();
        }
    }
}

/// A proxy in front of a registry that answers `500` to a number of blob upload `PUT`s
/// before passing them on: a registry failing part way through a push.
pub struct FlakyProxy {
    /// The port it listens on.
    pub port: u16,
    /// How many upload `PUT`s are still to fail (`usize::MAX`: all of them).
    pub failures: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// How many were failed.
    pub failed: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// Each request's method and path (without the query), in the order they came.
    pub requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// When set, a manifest `PUT` with a `subject` is answered with `OCI-Subject: <digest>`,
    /// as a registry with the referrers API (distribution spec 1.1) answers it.
    pub announce_subject: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl FlakyProxy {
    /// A proxy to the registry on `upstream` (a port on 127.0.0.1).
    pub fn start(upstream: u16) -> FlakyProxy {
        use std::sync::Arc;
        use std::sync::atomic::AtomicUsize;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let failures = Arc::new(AtomicUsize::new(0));
        let failed = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let announce_subject = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let state = ProxyState {
            to_fail: failures.clone(),
            failed: failed.clone(),
            seen: requests.clone(),
            announce_subject: announce_subject.clone(),
        };
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let state = state.clone();
                std::thread::spawn(move || {
                    let _ = proxy_one(stream, upstream, &state);
                });
            }
        });
        FlakyProxy {
            port,
            failures,
            failed,
            requests,
            announce_subject,
        }
    }
}

#[derive(Clone)]
struct ProxyState {
    to_fail: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    failed: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    announce_subject: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

fn proxy_one(
    mut client: std::net::TcpStream,
    upstream: u16,
    state: &ProxyState,
) -> std::io::Result<()> {
    use std::io::{Read, Write};
    use std::sync::atomic::Ordering;
    // One request per connection: the head, then Content-Length bytes of body.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte)? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let mut length = 0usize;
    let mut headers = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse().unwrap_or(0);
        }
        if !name.eq_ignore_ascii_case("connection") {
            headers.push(line.to_owned());
        }
    }
    let mut body = vec![0u8; length];
    client.read_exact(&mut body)?;
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default();
    let path = parts
        .next()
        .unwrap_or_default()
        .split('?')
        .next()
        .unwrap_or_default();
    if let Ok(mut seen) = state.seen.lock() {
        seen.push(format!("{method} {path}"));
    }
    let is_upload_put =
        request_line.starts_with("PUT ") && request_line.contains("/blobs/uploads/");
    if is_upload_put
        && state
            .to_fail
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| match n {
                0 => None,
                usize::MAX => Some(usize::MAX),
                n => Some(n - 1),
            })
            .is_ok()
    {
        state.failed.fetch_add(1, Ordering::SeqCst);
        let body = r#"{"errors":[{"code":"UNKNOWN","message":"injected failure"}]}"#;
        write!(
            client,
            "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
        return Ok(());
    }
    let mut server = std::net::TcpStream::connect(("127.0.0.1", upstream))?;
    let mut forwarded = format!("{request_line}\r\n");
    for header in headers {
        forwarded.push_str(&header);
        forwarded.push_str("\r\n");
    }
    forwarded.push_str("Connection: close\r\n\r\n");
    server.write_all(forwarded.as_bytes())?;
    server.write_all(&body)?;
    let mut answer = Vec::new();
    server.read_to_end(&mut answer)?;
    let subject = (state.announce_subject.load(Ordering::SeqCst)
        && method == "PUT"
        && path.contains("/manifests/")
        && answer.starts_with(b"HTTP/1.1 201"))
    .then(|| serde_json::from_slice::<serde_json::Value>(&body).ok())
    .flatten()
    .and_then(|manifest| manifest["subject"]["digest"].as_str().map(str::to_owned));
    if let Some(digest) = subject {
        let end_of_status = answer
            .windows(2)
            .position(|w| w == b"\r\n")
            .unwrap_or(answer.len());
        let header = format!("\r\nOCI-Subject: {digest}");
        answer.splice(end_of_status..end_of_status, header.into_bytes());
    }
    client.write_all(&answer)?;
    Ok(())
}
