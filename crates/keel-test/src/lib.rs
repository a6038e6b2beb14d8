//! Test support for keel: temporary Cargo workspaces, real tools, isolated `keel` runs.
//!
//! [`TestWorkspace`] builds a throw-away workspace (packages, files, `Cargo.lock`, a git commit
//! with a fixed date) and runs the real `keel` binary on it with an environment cleared of
//! anything that would change its behaviour (`SOURCE_DATE_EPOCH`, `GITHUB_REF_NAME`, `KEEL_*`).
//! [`require_tool`] finds a real tool (`tar`, `unzip`, `sha256sum`, ...) and fails the test,
//! naming the tool, when it is missing: tests never skip silently.
#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::disallowed_methods)]

pub mod github;
pub mod registry;
pub mod tls;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The commit date of every test workspace: 2024-05-01T12:00:00Z.
pub const COMMIT_EPOCH: u64 = 1_714_564_800;

/// Finds a tool on `PATH`, failing the test with the tool's name when it is missing.
pub fn require_tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "this test needs the real `{name}` on PATH, and it is not installed; \
         run scripts/test.sh, which installs every tool the tests use"
    );
}

/// Makes git, or a program that runs git, commit as the tests' fixed author at
/// [`COMMIT_EPOCH`] without reading the machine's git configuration, so hashes repeat.
pub fn fixed_git_identity(command: &mut Command) -> &mut Command {
    command
        .env("GIT_AUTHOR_NAME", "test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .env("GIT_AUTHOR_DATE", format!("@{COMMIT_EPOCH} +0000"))
        .env("GIT_COMMITTER_DATE", format!("@{COMMIT_EPOCH} +0000"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
}

/// Runs a command and returns its output, failing the test with its stderr when it fails.
pub fn run_ok(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("could not run {command:?}: {err}"));
    assert!(
        output.status.success(),
        "{command:?} failed with {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A command's result, with helpers for assertions.
#[derive(Debug)]
pub struct RunResult {
    /// The exit code (`-1` when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl RunResult {
    /// Fails the test unless the run succeeded.
    #[track_caller]
    pub fn success(self) -> Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Fails the test unless keel refused: exit code 1, an `error:` first line, and
    /// `expected` in what it printed on stderr.
    #[track_caller]
    pub fn refused(&self, expected: &str) -> &Self {
        assert_eq!(
            self.code, 1,
            "expected a refusal\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert!(self.stderr.starts_with("error: "), "{}", self.stderr);
        assert!(
            self.stderr.contains(expected),
            "expected `{expected}` in:\n{}",
            self.stderr
        );
        self
    }

    /// Fails the test unless the run failed with exit code `code`.
    #[track_caller]
    pub fn failure(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "expected exit code {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// A temporary Cargo workspace.
pub struct TestWorkspace {
    dir: tempfile::TempDir,
    keel: PathBuf,
}

impl TestWorkspace {
    /// An empty temporary directory; `keel` is the binary under test.
    pub fn new(keel: impl Into<PathBuf>) -> Self {
        TestWorkspace {
            dir: tempfile::Builder::new()
                .prefix("keel-test-")
                .tempdir()
                .unwrap(),
            keel: keel.into(),
        }
    }

    /// A workspace with one binary package `name` at `version`, with a README and a LICENSE,
    /// its lock file, and one git commit.
    pub fn single_binary(keel: impl Into<PathBuf>, name: &str, version: &str) -> Self {
        let ws = TestWorkspace::new(keel);
        ws.write(
            "Cargo.toml",
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n\
                 license = \"MIT\"\ndescription = \"A test program\"\n"
            ),
        );
        ws.write(
            "src/main.rs",
            &format!("fn main() {{ println!(\"{name} {version}\"); }}\n"),
        );
        ws.write("README.md", &format!("# {name}\n"));
        ws.write("LICENSE", "MIT\n");
        ws.lock();
        ws.commit("initial");
        ws
    }

    /// The workspace's directory.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// A path inside the workspace.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes a file, creating its parent directories.
    pub fn write(&self, rel: &str, contents: &str) {
        let path = self.path(rel);
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        fs_err::write(path, contents).unwrap();
    }

    /// Reads a file of the workspace.
    pub fn read(&self, rel: &str) -> String {
        fs_err::read_to_string(self.path(rel)).unwrap()
    }

    /// Writes `Cargo.lock` without touching the network.
    pub fn lock(&self) {
        run_ok(
            Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
                .args(["generate-lockfile", "--offline"])
                .current_dir(self.root()),
        );
    }

    /// Commits everything with a fixed author, committer and date ([`COMMIT_EPOCH`]).
    pub fn commit(&self, message: &str) {
        let git = |args: &[&str]| {
            run_ok(fixed_git_identity(
                Command::new(require_tool("git"))
                    .args(args)
                    .current_dir(self.root()),
            ))
        };
        if !self.path(".git").exists() {
            git(&["init", "-q", "-b", "main"]);
            self.write(".gitignore", "/target\n/dist\n");
        }
        git(&["add", "-A"]);
        git(&["commit", "-q", "-m", message]);
    }

    /// A `keel` command run in the workspace with an isolated environment.
    pub fn keel<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = Command::new(&self.keel);
        command.args(args).current_dir(self.root());
        for (key, _) in std::env::vars_os() {
            let key_text = key.to_string_lossy();
            if key_text.starts_with("KEEL_")
                || key_text.starts_with("GITHUB_")
                || key_text == "SOURCE_DATE_EPOCH"
                || key_text == "NO_COLOR"
                || key_text == "CARGO_TARGET_DIR"
                || key_text == "CARGO_BUILD_TARGET"
            {
                command.env_remove(&key);
            }
        }
        command
    }

    /// Runs `keel` with `args` in the workspace.
    pub fn run(&self, args: &[&str]) -> RunResult {
        run_command(&mut self.keel(args))
    }

    /// `keel keygen` of an unencrypted key pair at `keys/release.{key,pub}`: what the tests
    /// sign releases and stores with.
    pub fn keygen(&self) {
        self.run(&["keygen", "--out", "keys/release", "--unencrypted"])
            .success();
    }
}

/// The manifest of the release folder `dir`, as JSON.
#[track_caller]
pub fn read_manifest(dir: &Path) -> serde_json::Value {
    let text = fs_err::read_to_string(dir.join("keel-manifest.json"))
        .unwrap_or_else(|err| panic!("no manifest: {err}"));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("the manifest is not JSON: {err}"))
}

/// Runs a command, capturing its exit code and output.
pub fn run_command(command: &mut Command) -> RunResult {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("could not run {command:?}: {err}"));
    RunResult::from(output)
}

impl From<Output> for RunResult {
    fn from(output: Output) -> RunResult {
        RunResult {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Runs a command with `input` on its standard input, capturing its exit code and output.
pub fn run_with_input(command: &mut Command, input: &str) -> RunResult {
    use std::io::Write;
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("could not run {command:?}: {err}"));
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin
        .write_all(input.as_bytes())
        .unwrap_or_else(|err| panic!("could not write to {command:?}: {err}"));
    drop(stdin);
    let output = child
        .wait_with_output()
        .unwrap_or_else(|err| panic!("could not run {command:?}: {err}"));
    RunResult::from(output)
}

/// Every file below `dir` with its contents, sorted by relative path: for "nothing changed"
/// assertions.
pub fn snapshot_dir(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let Ok(read) = fs_err::read_dir(dir) else {
            return;
        };
        for entry in read {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.push((rel, fs_err::read(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// nginx serving a folder as static files on 127.0.0.1, on a free port; stopped when dropped.
pub struct Nginx {
    child: std::process::Child,
    /// The port it listens on.
    pub port: u16,
    scheme: &'static str,
    _dir: tempfile::TempDir,
}

impl Nginx {
    /// Starts nginx serving `root` over plain HTTP.
    pub fn serve(root: &Path) -> Nginx {
        Nginx::start(root, None)
    }

    /// Starts nginx serving `root` over HTTPS with a certificate and its key.
    pub fn serve_tls(root: &Path, pair: &tls::CertPair) -> Nginx {
        Nginx::start(root, Some((&pair.cert, &pair.key)))
    }

    fn start(root: &Path, tls: Option<(&Path, &Path)>) -> Nginx {
        let nginx = which_in(&["nginx"], &["/usr/sbin", "/usr/local/sbin"]).unwrap_or_else(|| {
            panic!(
                "this test needs the real `nginx`, and it is not installed; \
                 run scripts/test.sh, which installs every tool the tests use"
            )
        });
        let dir = tempfile::Builder::new()
            .prefix("keel-nginx-")
            .tempdir()
            .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let d = dir.path().display();
        let (listen, certificates) = match tls {
            Some((cert, key)) => (
                " ssl",
                format!(
                    "ssl_certificate {}; ssl_certificate_key {};",
                    cert.display(),
                    key.display()
                ),
            ),
            None => ("", String::new()),
        };
        let config = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\nerror_log {d}/error.log;\npid {d}/nginx.pid;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  \
             types {{ application/json json; }}\n  default_type application/octet-stream;\n  \
             server {{ listen 127.0.0.1:{port}{listen}; root {}; {certificates} }}\n}}\n",
            root.display()
        );
        let conf = dir.path().join("nginx.conf");
        fs_err::write(&conf, config).unwrap();
        let child = Command::new(nginx)
            .arg("-c")
            .arg(&conf)
            .arg("-p")
            .arg(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "nginx did not start: {}",
                fs_err::read_to_string(dir.path().join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Nginx {
            child,
            port,
            scheme: if tls.is_some() { "https" } else { "http" },
            _dir: dir,
        }
    }

    /// The URL of a path below the served folder, by address (`127.0.0.1`).
    pub fn url(&self, path: &str) -> String {
        self.url_at("127.0.0.1", path)
    }

    /// The URL of a path below the served folder, naming the server `host` (`localhost`,
    /// or `127.0.0.1`).
    pub fn url_at(&self, host: &str, path: &str) -> String {
        format!(
            "{}://{host}:{}/{}",
            self.scheme,
            self.port,
            path.trim_start_matches('/')
        )
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Finds a program on `PATH` or in the extra folders (sbin folders are not always on `PATH`).
fn which_in(names: &[&str], extra: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .chain(extra.iter().map(PathBuf::from))
        .collect();
    names
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Headless Chromium (Debian's `chromium`), started as the machine's documentation says works
/// here: no sandbox (tests run as root), no GPU, no background networking, a fresh profile.
pub struct Chromium {
    binary: PathBuf,
}

impl Chromium {
    /// Finds Chromium, failing the test with its name when it is not installed.
    pub fn find() -> Chromium {
        let binary = which_in(&["chromium", "chromium-browser", "google-chrome"], &[])
            .unwrap_or_else(|| {
                panic!(
                    "this test needs the real `chromium`, and it is not installed; \
                     run scripts/test.sh, which installs every tool the tests use"
                )
            });
        Chromium { binary }
    }

    fn command(&self, user_agent: &str, profile: &Path) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("--user-agent={user_agent}"));
        command
    }

    /// The page's DOM after its scripts ran, as the browser serialises it.
    pub fn dump_dom(&self, url: &str, user_agent: &str) -> String {
        let profile = tempfile::tempdir().unwrap();
        let output = run_ok(
            self.command(user_agent, profile.path())
                .arg("--dump-dom")
                .arg(url),
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// A screenshot of the page, as a PNG at `path`.
    pub fn screenshot(&self, url: &str, user_agent: &str, path: &Path) {
        let profile = tempfile::tempdir().unwrap();
        run_ok(
            self.command(user_agent, profile.path())
                .arg("--window-size=1200,1600")
                .arg(format!("--screenshot={}", path.display()))
                .arg(url),
        );
        assert!(path.is_file(), "chromium wrote no screenshot");
    }
}

/// Writes a TUF repository with python-tuf's metadata API (the reference implementation) in
/// `out`: one Ed25519 key for every role, consistent snapshots, and `archive` as its one
/// target with `custom` as its custom metadata. Needs the python package `tuf`.
pub fn python_tuf_repository(out: &Path, archive: &Path, custom: &serde_json::Value) {
    run_ok(
        Command::new(require_tool("python3"))
            .arg("-c")
            .arg(PYTHON_TUF_REPOSITORY)
            .arg(out)
            .arg(archive)
            .arg(custom.to_string()),
    );
}

const PYTHON_TUF_REPOSITORY: &str = r#"
import hashlib, json, os, shutil, sys
from datetime import datetime, timedelta, timezone
try:
    from securesystemslib.signer import CryptoSigner
    from tuf.api.metadata import Metadata, Root, Snapshot, TargetFile, Targets, Timestamp
    from tuf.api.serialization.json import JSONSerializer
except ImportError:
    sys.exit("the python package tuf is not installed; run scripts/test.sh")
out, archive, custom = sys.argv[1:4]
name = os.path.basename(archive)
signer = CryptoSigner.generate_ed25519()
expires = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=7)
root = Metadata(Root(expires=expires))
for role in ["root", "targets", "snapshot", "timestamp"]:
    root.signed.add_key(signer.public_key, role)
targets = Metadata(Targets(expires=expires))
target = TargetFile.from_file(name, archive, ["sha256"])
target.unrecognized_fields["custom"] = json.loads(custom)
targets.signed.targets[name] = target
snapshot = Metadata(Snapshot(expires=expires))
timestamp = Metadata(Timestamp(expires=expires))
for md in (root, targets, snapshot, timestamp):
    md.sign(signer)
os.makedirs(os.path.join(out, "metadata"))
os.makedirs(os.path.join(out, "targets"))
serializer = JSONSerializer(compact=False)
root.to_file(os.path.join(out, "metadata/1.root.json"), serializer)
targets.to_file(os.path.join(out, "metadata/1.targets.json"), serializer)
snapshot.to_file(os.path.join(out, "metadata/1.snapshot.json"), serializer)
timestamp.to_file(os.path.join(out, "metadata/timestamp.json"), serializer)
digest = hashlib.sha256(open(archive, "rb").read()).hexdigest()
shutil.copy(archive, os.path.join(out, "targets", f"{digest}.{name}"))
"#;
