//! The shell installer end to end: a real release of the example served by nginx, installed
//! under `dash` and `bash`, with only `curl` or only `wget`, from a clean `HOME` and a `PATH`
//! holding nothing but the basic tools; then the ways a download goes wrong, each installing
//! nothing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use keel_test::{Nginx, RunResult, TestWorkspace, require_tool, run_command, run_ok};

use crate::{ledger_workspace, release_ledger, single};

/// The host: what keel releases for by default, and what installs pick.
const HOST: &str = keel_schema::HOST_TARGET;

/// A signed release of the example for this machine, made once for every test here.
fn released() -> &'static (TestWorkspace, PathBuf) {
    static RELEASE: OnceLock<(TestWorkspace, PathBuf)> = OnceLock::new();
    RELEASE.get_or_init(|| {
        let ws = ledger_workspace();
        ws.keygen();
        release_ledger(
            &ws,
            &["--quiet", "--out", "dist", "--sign-key", "keys/release.key"],
        )
        .success();
        let dist = ws.path("dist");
        (ws, dist)
    })
}

fn archive() -> String {
    format!("ledger-1.0.0-{HOST}.tar.gz")
}

/// A folder of links to the tools the installer may use, and nothing else: the basic tools
/// and `extra` (a downloader, a hashing tool).
fn toolbox_with(dir: &Path, extra: &[&str], minisign: bool) -> PathBuf {
    let bin = dir.join("tools");
    fs_err::create_dir_all(&bin).unwrap();
    let mut tools = vec![
        "uname", "mktemp", "tar", "gzip", "mkdir", "mv", "cp", "chmod", "rm", "cat", "sed", "grep",
        "tr", "wc", "dirname", "getconf", "ldd",
    ];
    tools.extend_from_slice(extra);
    if minisign {
        tools.push("minisign");
    }
    for tool in tools {
        std::os::unix::fs::symlink(require_tool(tool), bin.join(tool)).unwrap();
    }
    bin
}

/// An operator's machine: a home, a shell profile, the toolbox as the whole `PATH`.
struct Machine {
    dir: tempfile::TempDir,
    path: PathBuf,
}

impl Machine {
    fn new(downloader: &str, minisign: bool) -> Machine {
        Machine::with_tools(&[downloader, "sha256sum"], minisign)
    }

    /// A machine whose `PATH` has the basic tools and `extra`.
    fn with_tools(extra: &[&str], minisign: bool) -> Machine {
        let dir = tempfile::Builder::new()
            .prefix("keel-machine-")
            .tempdir()
            .unwrap();
        fs_err::create_dir_all(dir.path().join("home")).unwrap();
        let path = toolbox_with(dir.path(), extra, minisign);
        Machine { dir, path }
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn bin(&self) -> PathBuf {
        self.home().join(".local/bin")
    }

    fn keel_home(&self) -> PathBuf {
        self.home().join(".local/state/keel")
    }

    /// Runs `installer` with `shell`, the environment holding only what a login would.
    fn install(&self, shell: &str, installer: &Path, url: &str) -> RunResult {
        run_command(
            Command::new(require_tool(shell))
                .arg(installer)
                .env_clear()
                .env("HOME", self.home())
                .env("PATH", &self.path)
                .env("SHELL", "/bin/bash")
                .env("LEDGER_DOWNLOAD_URL", url),
        )
    }

    fn assert_nothing_installed(&self) {
        assert!(
            !self.bin().join("ledger").exists(),
            "a binary was installed"
        );
        assert!(
            !self.keel_home().join("ledger/receipt.json").exists(),
            "a receipt was written"
        );
    }
}

#[test]
fn installs_under_dash_and_bash_with_curl_or_wget_and_again() {
    let (ws, dist) = released();
    let nginx = Nginx::serve(dist);
    let installer = dist.join("ledger-installer.sh");
    for (shell, downloader, minisign) in [("dash", "curl", true), ("bash", "wget", false)] {
        let machine = Machine::new(downloader, minisign);
        let first = machine.install(shell, &installer, &nginx.url("")).success();
        assert!(
            first.stdout.contains(&format!(
                "installed {}",
                machine.bin().join("ledger").display()
            )),
            "{shell}/{downloader}:\n{}",
            first.stdout
        );
        let checked = if minisign {
            "and the minisign signature of SHA256SUMS"
        } else {
            "minisign is not installed: the release's signature was not checked"
        };
        assert!(first.stdout.contains(checked), "{}", first.stdout);
        // The installed binary says what it is and, from keel-buildinfo, where it came from:
        // the commit keel released, that commit's date (not the build's), target and rustc.
        let version = run_ok(Command::new(machine.bin().join("ledger")).arg("--version"));
        let version = String::from_utf8_lossy(&version.stdout).into_owned();
        let commit = run_ok(
            Command::new(require_tool("git"))
                .args(["rev-parse", "HEAD"])
                .current_dir(ws.root()),
        );
        let commit = String::from_utf8_lossy(&commit.stdout).trim().to_owned();
        let expected = format!(
            "ledger 1.0.0\ncommit {commit} (2024-05-01), {}, rustc ",
            keel_schema::HOST_TARGET
        );
        assert!(
            version.starts_with(&expected),
            "{version}\nexpected {expected}"
        );

        // Again: the same result, and the profile line is not added twice.
        machine.install(shell, &installer, &nginx.url("")).success();
        let profile = fs_err::read_to_string(machine.home().join(".bashrc")).unwrap();
        assert_eq!(
            profile.matches("# added by the ledger installer").count(),
            1,
            "{profile}"
        );
        assert!(profile.contains(&format!(
            "export PATH=\"{}:$PATH\"",
            machine.bin().display()
        )));

        // keel takes over the install.
        let doctor = run_command(
            ws.keel(["doctor", "--app", "ledger"])
                .env("KEEL_HOME", machine.keel_home()),
        )
        .success();
        assert!(
            doctor.stdout.contains("ok      receipt: ledger 1.0.0"),
            "{}",
            doctor.stdout
        );
        assert!(
            doctor.stdout.contains("ok      binary "),
            "{}",
            doctor.stdout
        );
    }
}

#[test]
fn the_options_choose_the_folder_and_leave_the_profile_alone() {
    let (_, dist) = released();
    let nginx = Nginx::serve(dist);
    let machine = Machine::new("curl", false);
    let to = machine.dir.path().join("apps bin");
    let result = run_command(
        Command::new(require_tool("dash"))
            .arg(dist.join("ledger-installer.sh"))
            .arg("--to")
            .arg(&to)
            .arg("--no-modify-path")
            .arg("--quiet")
            .env_clear()
            .env("HOME", machine.home())
            .env("PATH", &machine.path)
            .env("LEDGER_DOWNLOAD_URL", nginx.url("")),
    )
    .success();
    assert_eq!(result.stdout, "", "--quiet printed something");
    // A check that could not run is said even so.
    assert!(
        result.stderr.contains(
            "note: minisign is not installed: the signature of ledger 1.0.0 was not checked"
        ),
        "{}",
        result.stderr
    );
    assert!(to.join("ledger").is_file());
    assert!(!machine.home().join(".profile").exists());
    let help = run_command(
        Command::new(require_tool("dash"))
            .arg(dist.join("ledger-installer.sh"))
            .arg("--help")
            .env_clear()
            .env("PATH", &machine.path),
    )
    .success();
    for option in [
        "--to DIR",
        "--no-modify-path",
        "LEDGER_INSTALL_DIR",
        "LEDGER_DOWNLOAD_URL",
    ] {
        assert!(
            help.stdout.contains(option),
            "{option} missing from:\n{}",
            help.stdout
        );
    }
    let bad = run_command(
        Command::new(require_tool("dash"))
            .arg(dist.join("ledger-installer.sh"))
            .arg("--frobnicate")
            .env_clear()
            .env("HOME", machine.home())
            .env("PATH", &machine.path),
    );
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr
            .starts_with("error: unknown option `--frobnicate`"),
        "{}",
        bad.stderr
    );
}

/// Runs the installer with `args` under dash from `cwd`, the environment holding only what a
/// login would.
fn install_from(machine: &Machine, cwd: &Path, args: &[&str], url: &str) -> RunResult {
    let (_, dist) = released();
    run_command(
        Command::new(require_tool("dash"))
            .arg(dist.join("ledger-installer.sh"))
            .args(args)
            .current_dir(cwd)
            .env_clear()
            .env("HOME", machine.home())
            .env("PATH", &machine.path)
            .env("SHELL", "/bin/bash")
            .env("LEDGER_DOWNLOAD_URL", url),
    )
}

#[test]
fn the_path_line_holds_an_absolute_folder_and_nothing_that_runs() {
    let (_, dist) = released();
    let nginx = Nginx::serve(dist);
    let machine = Machine::new("curl", false);
    let profile = machine.home().join(".bashrc");
    let home = machine.home();
    let root = Path::new("/keel-installer-hostile");
    for hostile in [
        "/keel-installer-hostile/b$(touch PWNED)in",
        "/keel-installer-hostile/b`touch PWNED`in",
        "/keel-installer-hostile/b\"; touch PWNED; \"in",
        "/keel-installer-hostile/a:/b",
        "/keel-installer-hostile/line\nbreak",
    ] {
        let refused = install_from(&machine, &home, &["--to", hostile], &nginx.url("")).failure(1);
        assert!(
            refused
                .stderr
                .contains("holds a character a shell profile's PATH line cannot take"),
            "{hostile}: {}",
            refused.stderr
        );
        assert!(!profile.exists(), "{hostile}: the profile was written");
        assert!(!home.join("PWNED").exists() && !root.exists(), "{hostile}");
    }
    // A relative folder is the current folder's.
    install_from(&machine, &home, &["--to", "apps/bin/"], &nginx.url("")).success();
    let relative = home.join("apps/bin");
    assert!(relative.join("ledger").is_file());
    let lines = fs_err::read_to_string(&profile).unwrap();
    assert!(
        lines.contains(&format!("export PATH=\"{}:$PATH\"", relative.display())),
        "{lines}"
    );
    // Another folder gets its own line; the same folder again adds none.
    for _ in 0..2 {
        install_from(&machine, &home, &[], &nginx.url("")).success();
    }
    let lines = fs_err::read_to_string(&profile).unwrap();
    assert_eq!(
        lines.matches("# added by the ledger installer").count(),
        2,
        "{lines}"
    );
    assert!(
        lines.contains(&format!(
            "export PATH=\"{}:$PATH\"",
            machine.bin().display()
        )),
        "{lines}"
    );
}

#[test]
fn an_installer_cut_short_runs_nothing() {
    let (_, dist) = released();
    let nginx = Nginx::serve(dist);
    let script = fs_err::read(dist.join("ledger-installer.sh")).unwrap();
    let cuts = [
        script.len() / 4,
        script.len() / 2,
        script.len() * 3 / 4,
        script.len() - 12,
    ];
    for cut in cuts {
        let machine = Machine::new("curl", false);
        // As `curl URL | sh` runs it when the download stops early.
        let result = keel_test::run_with_input(
            Command::new(require_tool("dash"))
                .current_dir(machine.home())
                .env_clear()
                .env("HOME", machine.home())
                .env("PATH", &machine.path)
                .env("SHELL", "/bin/bash")
                .env("LEDGER_DOWNLOAD_URL", nginx.url("")),
            &String::from_utf8_lossy(&script[..cut]),
        );
        assert!(
            !result.stdout.contains("downloading"),
            "cut at {cut}: {}",
            result.stdout
        );
        machine.assert_nothing_installed();
        assert!(!machine.home().join(".bashrc").exists(), "cut at {cut}");
    }
}

#[test]
fn a_reinstall_keeps_what_keel_knows_of_the_install() {
    let (_, dist) = released();
    let nginx = Nginx::serve(dist);
    let machine = Machine::new("curl", false);
    let installer = dist.join("ledger-installer.sh");
    machine
        .install("dash", &installer, &nginx.url(""))
        .success();
    // What `keel install --db ... --channel beta` and an update leave in the receipt, written
    // as keel writes it (serde_json's pretty form).
    let path = machine.keel_home().join("ledger/receipt.json");
    let mut receipt: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(&path).unwrap()).unwrap();
    receipt["databases"] = serde_json::json!(["/srv/ledger/data.db", "/srv/ledger/b \"2\".db"]);
    receipt["channel"] = "beta".into();
    receipt["previous"] = "0.9.0".into();
    receipt["store_url"] = "https://store.example/ledger".into();
    receipt["version"] = "0.9.5".into();
    fs_err::write(
        &path,
        serde_json::to_string_pretty(&receipt).unwrap() + "\n",
    )
    .unwrap();

    machine
        .install("dash", &installer, &nginx.url(""))
        .success();
    let text = fs_err::read_to_string(&path).unwrap();
    let after: serde_json::Value = serde_json::from_str(&text).unwrap();
    for key in ["databases", "channel", "previous", "store_url"] {
        assert_eq!(after[key], receipt[key], "{key} was not kept:\n{text}");
    }
    assert_eq!(after["version"], "1.0.0", "{text}");
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| fs_err::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);

    // A receipt this script cannot read stops it before anything is replaced.
    fs_err::write(&path, "{\"schema_version\": 1}").unwrap();
    let binary = fs_err::read(machine.bin().join("ledger")).unwrap();
    let refused = machine
        .install("dash", &installer, &nginx.url(""))
        .failure(1);
    assert!(
        refused
            .stderr
            .contains("is not in the form keel writes; nothing was installed"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        fs_err::read_to_string(&path).unwrap(),
        "{\"schema_version\": 1}"
    );
    assert_eq!(fs_err::read(machine.bin().join("ledger")).unwrap(), binary);
}

#[test]
fn an_update_holding_the_apps_lock_stops_the_installer() {
    let (_, dist) = released();
    let nginx = Nginx::serve(dist);
    let machine = Machine::with_tools(&["curl", "sha256sum", "flock"], false);
    let installer = dist.join("ledger-installer.sh");
    machine
        .install("dash", &installer, &nginx.url(""))
        .success();
    let lock = machine.keel_home().join("ledger/lock");
    let receipt = fs_err::read(machine.keel_home().join("ledger/receipt.json")).unwrap();
    // An update holds the lock, as keel does (flock(2) on the app's lock file).
    let mut holder = Command::new(require_tool("flock"))
        .arg("-o")
        .arg(&lock)
        .args(["sleep", "30"])
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while run_command(
        Command::new(require_tool("flock"))
            .arg("-n")
            .arg(&lock)
            .arg("true"),
    )
    .code
        == 0
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "flock did not take the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    fs_err::write(
        machine.bin().join("ledger"),
        "the binary the update is using",
    )
    .unwrap();
    let refused = machine.install("dash", &installer, &nginx.url(""));
    holder.kill().unwrap();
    holder.wait().unwrap();
    let refused = refused.failure(1);
    assert!(
        refused
            .stderr
            .contains("error: an update of ledger is running"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        fs_err::read_to_string(machine.bin().join("ledger")).unwrap(),
        "the binary the update is using"
    );
    assert_eq!(
        fs_err::read(machine.keel_home().join("ledger/receipt.json")).unwrap(),
        receipt
    );
    // Once the update is over, the installer goes ahead.
    machine
        .install("dash", &installer, &nginx.url(""))
        .success();
}

#[test]
fn curl_keeps_an_https_download_on_https() {
    let (_, dist) = released();
    let machine = Machine::with_tools(&["sha256sum"], false);
    // A `curl` that records its arguments and fails, as a download that cannot be made.
    let log = machine.dir.path().join("curl.args");
    let fake = machine.path.join("curl");
    fs_err::write(
        &fake,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" >> '{}'\nexit 22\n",
            log.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs_err::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let installer = dist.join("ledger-installer.sh");
    machine
        .install("dash", &installer, "https://downloads.example/ledger/1.0.0")
        .failure(1);
    let args = fs_err::read_to_string(&log).unwrap();
    let args: Vec<&str> = args.lines().collect();
    let at = args
        .iter()
        .position(|a| *a == "--proto")
        .expect("no --proto");
    assert_eq!(args[at + 1], "=https", "{args:?}");
    assert!(args.contains(&"--tlsv1.2"), "{args:?}");
    machine.assert_nothing_installed();
}

/// A copy of the release whose archive is changed by `change`.
fn changed_release(name: &str, change: impl FnOnce(&mut Vec<u8>)) -> tempfile::TempDir {
    let (_, dist) = released();
    let copy = tempfile::Builder::new().prefix(name).tempdir().unwrap();
    for entry in fs_err::read_dir(dist).unwrap() {
        let entry = entry.unwrap();
        fs_err::copy(entry.path(), copy.path().join(entry.file_name())).unwrap();
    }
    let path = copy.path().join(archive());
    let mut bytes = fs_err::read(&path).unwrap();
    change(&mut bytes);
    fs_err::write(&path, bytes).unwrap();
    copy
}

#[track_caller]
fn assert_refused(result: &RunResult, expected: &str) {
    assert_eq!(
        result.code, 1,
        "stdout:\n{}\nstderr:\n{}",
        result.stdout, result.stderr
    );
    assert!(result.stderr.starts_with("error: "), "{}", result.stderr);
    assert!(
        result.stderr.contains(&archive()),
        "the file is not named:\n{}",
        result.stderr
    );
    assert!(
        result.stderr.contains(expected),
        "expected `{expected}` in:\n{}",
        result.stderr
    );
}

#[test]
fn a_tampered_archive_or_a_wrong_length_installs_nothing() {
    let (_, dist) = released();
    let installer = dist.join("ledger-installer.sh");
    let tampered = changed_release("keel-tampered-", |bytes| {
        let middle = bytes.len() / 2;
        bytes[middle] ^= 1;
    });
    let longer = changed_release("keel-longer-", |bytes| bytes.extend_from_slice(&[0; 100]));
    for (release, expected) in [
        (&tampered, "it is not the released file"),
        (&longer, "bytes, expected"),
    ] {
        let nginx = Nginx::serve(release.path());
        for downloader in ["curl", "wget"] {
            let machine = Machine::new(downloader, false);
            let result = machine.install("dash", &installer, &nginx.url(""));
            assert_refused(&result, expected);
            machine.assert_nothing_installed();
        }
        // Whichever tool computes the sha256.
        for tool in ["shasum", "openssl"] {
            let machine = Machine::with_tools(&["curl", tool], false);
            let result = machine.install("dash", &installer, &nginx.url(""));
            assert_refused(&result, expected);
            machine.assert_nothing_installed();
        }
    }
}

#[test]
fn a_download_cut_short_installs_nothing() {
    let (_, dist) = released();
    // Announces the whole archive, sends half of it, and hangs up.
    let script = "import socket, sys\n\
        data = open(sys.argv[1], 'rb').read()\n\
        s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(8); s.settimeout(60)\n\
        print(s.getsockname()[1], flush=True)\n\
        while True:\n    try:\n        c, _ = s.accept()\n    except socket.timeout:\n        sys.exit(0)\n    c.recv(65536)\n    c.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n' % len(data) + data[:len(data) // 2])\n    c.close()\n";
    let mut server = Command::new(require_tool("python3"))
        .arg("-c")
        .arg(script)
        .arg(dist.join(archive()))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut port = String::new();
    {
        use std::io::BufRead;
        std::io::BufReader::new(server.stdout.as_mut().unwrap())
            .read_line(&mut port)
            .unwrap();
    }
    let url = format!("http://127.0.0.1:{}", port.trim());
    for downloader in ["curl", "wget"] {
        let machine = Machine::new(downloader, false);
        let result = machine.install("dash", &dist.join("ledger-installer.sh"), &url);
        assert_eq!(result.code, 1, "{downloader}:\n{}", result.stderr);
        assert!(result.stderr.contains(&archive()), "{}", result.stderr);
        machine.assert_nothing_installed();
    }
    let _ = server.kill();
    let _ = server.wait();
}

#[test]
fn a_release_without_this_platform_names_what_it_offers() {
    let ws = single("elsewhere", "1.0.0");
    let other = if HOST.contains("apple") {
        "x86_64-unknown-linux-gnu"
    } else {
        "aarch64-apple-darwin"
    };
    ws.run(&[
        "release",
        "--quiet",
        "--builder",
        "fake",
        "--target",
        other,
        "--out",
        "dist",
    ])
    .success();
    let machine = Machine::new("curl", false);
    let result = run_command(
        Command::new(require_tool("dash"))
            .arg(ws.path("dist/elsewhere-installer.sh"))
            .env_clear()
            .env("HOME", machine.home())
            .env("PATH", &machine.path)
            .env("ELSEWHERE_DOWNLOAD_URL", "http://127.0.0.1:9/unused"),
    );
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert!(
        result
            .stderr
            .starts_with("error: elsewhere 1.0.0 has no archive for "),
        "{}",
        result.stderr
    );
    assert!(
        result
            .stderr
            .contains(&format!("hint: this release has: {other}")),
        "{}",
        result.stderr
    );
}

#[test]
fn any_of_the_three_hashing_tools_will_do_and_none_is_a_clear_error() {
    let (_, dist) = released();
    let nginx = Nginx::serve(dist);
    let installer = dist.join("ledger-installer.sh");
    for tool in ["shasum", "openssl"] {
        let machine = Machine::with_tools(&["curl", tool], false);
        machine
            .install("dash", &installer, &nginx.url(""))
            .success();
        assert!(machine.bin().join("ledger").is_file(), "{tool}");
    }
    let machine = Machine::with_tools(&["curl"], false);
    let result = machine.install("dash", &installer, &nginx.url(""));
    assert_eq!(result.code, 1);
    assert!(
        result
            .stderr
            .starts_with("error: no tool to compute a sha256 is installed"),
        "{}",
        result.stderr
    );
    machine.assert_nothing_installed();
}

/// The choice of C library exists on Linux only.
#[cfg(target_os = "linux")]
#[test]
fn a_release_with_only_a_musl_build_installs_it_and_records_the_store() {
    let ws = single("tiny", "2.0.0");
    let arch = HOST.split('-').next().unwrap();
    let musl = format!("{arch}-unknown-linux-musl");
    ws.write("store/root.json", "{\"signed\": {\"_type\": \"root\"}}\n");
    ws.write(
        "Cargo.toml",
        &(ws.read("Cargo.toml")
            + "\n[workspace.metadata.keel]\nstore = { url = \"https://updates.example.com/tiny\", root = \"store/root.json\" }\n"),
    );
    ws.commit("store");
    ws.run(&[
        "release",
        "--quiet",
        "--builder",
        "fake",
        "--target",
        &musl,
        "--out",
        "dist",
    ])
    .success();
    let nginx = Nginx::serve(&ws.path("dist"));
    let machine = Machine::new("curl", false);
    let result = run_command(
        Command::new(require_tool("dash"))
            .arg(ws.path("dist/tiny-installer.sh"))
            .env_clear()
            .env("HOME", machine.home())
            .env("PATH", &machine.path)
            .env("TINY_DOWNLOAD_URL", nginx.url("")),
    )
    .success();
    assert!(result.stdout.contains("installed "), "{}", result.stdout);
    let receipt: serde_json::Value = serde_json::from_str(
        &fs_err::read_to_string(machine.keel_home().join("tiny/receipt.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(receipt["target"], musl.as_str());
    assert_eq!(receipt["store_url"], "https://updates.example.com/tiny");
    assert_eq!(
        fs_err::read_to_string(machine.keel_home().join("tiny/root.json")).unwrap(),
        "{\"signed\": {\"_type\": \"root\"}}\n"
    );
}
