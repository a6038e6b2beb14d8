//! Release stores under attack and failure, at the command line: each bad input gets a
//! specific error and leaves the install exactly as it was.

use std::path::PathBuf;
use std::process::Command;

use keel_test::{Nginx, RunResult, TestWorkspace, require_tool, run_command, run_ok};

use crate::single;

/// The host: what keel releases for by default, and what installs pick.
const HOST: &str = keel_schema::HOST_TARGET;

/// A workspace whose release 1.0.0 (fake build) is published to `store`.
fn published() -> TestWorkspace {
    let ws = single("app", "1.0.0");
    ws.keygen();
    release_and_publish(&ws);
    ws
}

/// Releases the workspace (fake build) into `dist` and publishes it to `store`.
fn release_and_publish(ws: &TestWorkspace) {
    release_and_publish_on(ws, "stable");
}

/// Releases the workspace (fake build) into `dist` and publishes it to `store` on `channel`.
fn release_and_publish_on(ws: &TestWorkspace, channel: &str) {
    ws.run(&["release", "--quiet", "--builder", "fake", "--out", "dist"])
        .success();
    ws.run(&[
        "publish",
        "dist",
        "--to",
        "store",
        "--sign-key",
        "keys/release.key",
        "--channel",
        channel,
    ])
    .success();
}

fn home(ws: &TestWorkspace) -> PathBuf {
    ws.path("operator/keel")
}

fn install(ws: &TestWorkspace, url: &str) -> RunResult {
    run_command(&mut install_command(ws, url))
}

fn install_command(ws: &TestWorkspace, url: &str) -> Command {
    let mut command = ws.keel(crate::install_args(
        url,
        "app",
        &ws.path("store/metadata/root.json"),
        &ws.path("operator/bin"),
    ));
    command
        .env("KEEL_HOME", home(ws))
        .env("KEEL_HTTP_TIMEOUT", "3");
    command
}

fn update(ws: &TestWorkspace) -> RunResult {
    update_with(ws, &[])
}

/// `keel update` of the install, after the global options `global`.
fn update_with(ws: &TestWorkspace, global: &[&str]) -> RunResult {
    let args = global
        .iter()
        .copied()
        .chain(["update", "--app", "app", "--yes"]);
    run_command(
        ws.keel(args)
            .env("KEEL_HOME", home(ws))
            .env("KEEL_HTTP_TIMEOUT", "3"),
    )
}

/// The store file of a target (consistent snapshots prefix it with its sha256).
fn target_file(ws: &TestWorkspace, name: &str) -> PathBuf {
    fs_err::read_dir(ws.path("store/targets"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().ends_with(name))
        .unwrap()
}

#[track_caller]
fn assert_not_installed(ws: &TestWorkspace) {
    assert!(
        !ws.path("operator/bin/app").exists(),
        "a binary was installed"
    );
    assert!(
        !home(ws).join("app/receipt.json").exists(),
        "a receipt was written"
    );
}

fn archive() -> String {
    format!("app-1.0.0-{HOST}.tar.gz")
}

#[test]
fn a_tampered_artifact_is_refused() {
    let ws = published();
    let file = target_file(&ws, &archive());
    let mut bytes = fs_err::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    fs_err::write(&file, bytes).unwrap();
    let nginx = Nginx::serve(&ws.path("store"));
    let result = install(&ws, &nginx.url(""));
    result.refused("could not download from the store");
    assert!(
        result.stderr.to_lowercase().contains("hash"),
        "{}",
        result.stderr
    );
    assert_not_installed(&ws);
}

#[test]
fn a_store_signed_by_another_key_is_refused() {
    let ws = published();
    ws.run(&["keygen", "--out", "keys/attacker", "--unencrypted"])
        .success();
    ws.run(&[
        "publish",
        "dist",
        "--to",
        "evil-store",
        "--sign-key",
        "keys/attacker.key",
    ])
    .success();
    let nginx = Nginx::serve(&ws.path("evil-store"));
    let result = install(&ws, &nginx.url(""));
    result.refused("could not verify the metadata of the store");
    assert_not_installed(&ws);
}

#[test]
fn expired_metadata_is_refused() {
    let ws = single("app", "1.0.0");
    ws.keygen();
    ws.run(&["release", "--quiet", "--builder", "fake", "--out", "dist"])
        .success();
    ws.run(&[
        "publish",
        "dist",
        "--to",
        "store",
        "--sign-key",
        "keys/release.key",
        "--timestamp-days",
        "0",
    ])
    .success();
    let nginx = Nginx::serve(&ws.path("store"));
    let result = install(&ws, &nginx.url(""));
    result.refused("could not verify the metadata of the store");
    assert!(result.stderr.contains("xpired"), "{}", result.stderr);
    assert!(
        result
            .stderr
            .contains("hint: the store's signed metadata has expired"),
        "{}",
        result.stderr
    );
    assert_not_installed(&ws);
    // A refresh revives the store; its JSON names each role, sorted.
    let refreshed = ws
        .run(&[
            "store",
            "refresh",
            "store",
            "--sign-key",
            "keys/release.key",
            "--format",
            "json",
        ])
        .success();
    let report: serde_json::Value = serde_json::from_str(&refreshed.stdout).unwrap();
    let roles: Vec<&String> = report["roles"].as_object().unwrap().keys().collect();
    assert_eq!(roles, ["snapshot", "targets", "timestamp"], "{report}");
    assert_eq!(report["version"], report["roles"]["timestamp"]["version"]);
    assert_eq!(report["roles"]["timestamp"]["renewed"], true);
    let expires = report["roles"]["timestamp"]["expires"].as_str().unwrap();
    assert!(expires.parse::<jiff::Timestamp>().is_ok(), "{expires}");
    install(&ws, &nginx.url("")).success();
}

#[test]
fn metadata_older_than_what_the_client_trusts_is_refused() {
    let ws = published();
    let nginx = Nginx::serve(&ws.path("store"));
    install(&ws, &nginx.url("")).success();
    let old = ws.path("store-v1");
    run_ok(Command::new("cp").arg("-a").arg(ws.path("store")).arg(&old));
    // 1.1.0 is published; the client sees it (and trusts the newer metadata) with --dry-run.
    publish_version(&ws, "1.0.0", "1.1.0");
    run_command(
        ws.keel(["update", "--app", "app", "--dry-run"])
            .env("KEEL_HOME", home(&ws)),
    )
    .success();
    // An attacker replays the old metadata.
    let metadata = ws.path("store/metadata");
    fs_err::remove_dir_all(&metadata).unwrap();
    run_ok(
        Command::new("cp")
            .arg("-a")
            .arg(old.join("metadata"))
            .arg(&metadata),
    );
    let before = fs_err::read(ws.path("operator/bin/app")).unwrap();
    let result = update(&ws);
    result.refused("could not verify the metadata of the store");
    assert!(
        result
            .stderr
            .contains("timestamp version 1 is older than the trusted 2"),
        "{}",
        result.stderr
    );
    assert_eq!(fs_err::read(ws.path("operator/bin/app")).unwrap(), before);
}

#[test]
fn more_bytes_than_the_metadata_says_are_refused() {
    let ws = published();
    let file = target_file(&ws, &archive());
    let mut bytes = fs_err::read(&file).unwrap();
    bytes.extend_from_slice(&[0u8; 4096]);
    fs_err::write(&file, bytes).unwrap();
    let nginx = Nginx::serve(&ws.path("store"));
    let result = install(&ws, &nginx.url(""));
    result.refused("could not download from the store");
    assert_not_installed(&ws);
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let ws = published();
    fs_err::remove_file(target_file(&ws, &archive())).unwrap();
    let nginx = Nginx::serve(&ws.path("store"));
    let result = install(&ws, &nginx.url(""));
    result.refused("could not download from the store");
    assert!(result.stderr.contains("404"), "{}", result.stderr);
    assert_not_installed(&ws);
}

#[test]
fn a_stalling_server_times_out() {
    let ws = published();
    // Accepts connections and never answers.
    let script = "import socket, sys, time\n\
        s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(16)\n\
        print(s.getsockname()[1], flush=True)\n\
        conns = []\n\
        end = time.time() + 60\n\
        s.settimeout(1)\n\
        while time.time() < end:\n    try:\n        conns.append(s.accept())\n    except socket.timeout:\n        pass\n";
    let mut server = Command::new(require_tool("python3"))
        .arg("-c")
        .arg(script)
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
    let started = std::time::Instant::now();
    let result = install(&ws, &format!("http://127.0.0.1:{}/", port.trim()));
    let _ = server.kill();
    let _ = server.wait();
    result.refused("could not verify the metadata of the store");
    // Refused because the time ran out, not for another reason.
    assert!(result.stderr.contains(": timeout: "), "{}", result.stderr);
    assert!(
        result
            .stderr
            .contains("hint: the store did not answer in time"),
        "{}",
        result.stderr
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "the timeout did not hold"
    );
    assert_not_installed(&ws);
}

#[test]
fn an_archive_escaping_the_install_folder_is_refused() {
    let ws = published();
    // A release whose archive holds `../escaped`: signed, so only extraction can catch it.
    let archive_path = ws.path(&format!("dist/{}", archive()));
    let script = format!(
        "import io, sys, tarfile\n\
        with tarfile.open(sys.argv[1], 'w:gz') as t:\n    data = b'pwned'\n    info = tarfile.TarInfo('app-1.0.0-{HOST}/../../../escaped')\n    info.size = len(data)\n    t.addfile(info, io.BytesIO(data))\n"
    );
    run_ok(
        Command::new(require_tool("python3"))
            .arg("-c")
            .arg(&script)
            .arg(&archive_path),
    );
    let mut manifest: serde_json::Value =
        serde_json::from_str(&ws.read("dist/keel-manifest.json")).unwrap();
    let (digest, size) = keel_verify::sha256_file(&archive_path).unwrap();
    manifest["artifacts"][archive()]["sha256"] = serde_json::Value::from(digest.to_hex());
    manifest["artifacts"][archive()]["size"] = serde_json::Value::from(size);
    fs_err::write(ws.path("dist/keel-manifest.json"), manifest.to_string()).unwrap();
    fs_err::remove_dir_all(ws.path("store")).unwrap();
    ws.run(&[
        "publish",
        "dist",
        "--to",
        "store",
        "--sign-key",
        "keys/release.key",
    ])
    .success();
    let nginx = Nginx::serve(&ws.path("store"));
    let result = install(&ws, &nginx.url(""));
    result.refused("refusing to extract");
    assert_not_installed(&ws);
    assert!(!ws.path("operator/keel/escaped").exists() && !ws.path("escaped").exists());
}

#[test]
fn a_file_url_store_installs_and_doctor_checks_the_install() {
    let ws = published();
    // The release's source archive has no target: the store publishes the archive only.
    assert!(ws.path("dist/app-1.0.0-source.tar.gz").is_file());
    let stored: Vec<String> = fs_err::read_dir(ws.path("store/targets"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        stored.iter().any(|name| name.ends_with(&archive()))
            && stored.iter().all(|name| !name.contains("source")),
        "{stored:?}"
    );
    let url = format!("file://{}", ws.path("store").display());
    let installed = install(&ws, &url).success();
    assert!(
        installed.stdout.contains("Installed app 1.0.0"),
        "{}",
        installed.stdout
    );
    let receipt: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(home(&ws).join("app/receipt.json")).unwrap())
            .unwrap();
    assert_eq!(receipt["store_url"], url.trim_end_matches('/'));
    run_command(
        ws.keel(["doctor", "--app", "app"])
            .env("KEEL_HOME", home(&ws)),
    )
    .success();
    // A changed binary is found by doctor.
    fs_err::write(ws.path("operator/bin/app"), "#!/bin/sh\necho changed\n").unwrap();
    let doctor = run_command(
        ws.keel(["doctor", "--app", "app"])
            .env("KEEL_HOME", home(&ws)),
    );
    assert_eq!(doctor.code, 1);
    assert!(
        doctor.stdout.contains("it was changed since"),
        "{}",
        doctor.stdout
    );
}

/// Releases and publishes `version` of the workspace's app to `store`.
fn publish_version(ws: &TestWorkspace, from: &str, version: &str) {
    publish_version_on(ws, from, version, "stable");
}

/// [`publish_version`] on `channel`.
fn publish_version_on(ws: &TestWorkspace, from: &str, version: &str, channel: &str) {
    ws.write(
        "Cargo.toml",
        &ws.read("Cargo.toml").replace(
            &format!("version = \"{from}\""),
            &format!("version = \"{version}\""),
        ),
    );
    ws.lock();
    ws.commit(version);
    release_and_publish_on(ws, channel);
}

#[test]
fn an_install_on_beta_follows_beta() {
    let ws = single("app", "1.0.0");
    ws.keygen();
    release_and_publish_on(&ws, "beta");
    let nginx = Nginx::serve(&ws.path("store"));
    let installed = run_command(
        install_command(&ws, &nginx.url(""))
            .args(["--channel", "beta"])
            .args(["--format", "json"]),
    )
    .success();
    let printed: serde_json::Value = serde_json::from_str(&installed.stdout).unwrap();
    assert_eq!(printed["channel"], "beta", "{}", installed.stdout);
    let receipt = || -> serde_json::Value {
        serde_json::from_str(&fs_err::read_to_string(home(&ws).join("app/receipt.json")).unwrap())
            .unwrap()
    };
    assert_eq!(
        receipt()["channel"],
        "beta",
        "the receipt saved is not the one printed"
    );
    // A newer stable release is not for this install; the next beta is.
    publish_version_on(&ws, "1.0.0", "2.0.0", "stable");
    let result = update(&ws).success();
    assert!(
        result.stdout.contains("app 1.0.0 is up to date"),
        "{}",
        result.stdout
    );
    publish_version_on(&ws, "2.0.0", "2.1.0-beta.1", "beta");
    let result = update(&ws).success();
    assert!(
        result.stdout.contains("Updated app 1.0.0 to 2.1.0-beta.1"),
        "{}",
        result.stdout
    );
    assert_eq!(receipt()["version"], "2.1.0-beta.1");
    assert_eq!(receipt()["channel"], "beta");
}

#[test]
fn install_and_update_go_through_https_and_bad_certificates_are_refused_naming_why() {
    let ws = published();
    let ca = keel_test::tls::TestCa::new(&ws.path("tls"));
    let store = ws.path("store");
    let refused = [
        (
            &ca.good,
            false,
            "certificate is not signed by a CA this machine trusts",
        ),
        (
            &ca.unknown_ca,
            true,
            "certificate is not signed by a CA this machine trusts",
        ),
        (&ca.expired, true, "certificate has expired"),
        (&ca.other_host, true, "certificate is for another host name"),
    ];
    for (pair, trust_ca, hint) in refused {
        let nginx = Nginx::serve_tls(&store, pair);
        let mut command = install_command(&ws, &nginx.url_at("localhost", ""));
        if trust_ca {
            command.env("SSL_CERT_FILE", &ca.ca);
        } else {
            command.env_remove("SSL_CERT_FILE");
        }
        let result = run_command(&mut command);
        result.refused("could not verify the metadata of the store");
        assert!(
            result.stderr.contains(&format!("hint: the store's {hint}")),
            "{}: {}",
            pair.cert.display(),
            result.stderr
        );
        assert_not_installed(&ws);
    }

    // A certificate from the private CA, trusted through SSL_CERT_FILE: install, then update.
    let nginx = Nginx::serve_tls(&store, &ca.good);
    let result = run_command(
        install_command(&ws, &nginx.url_at("localhost", "")).env("SSL_CERT_FILE", &ca.ca),
    );
    let result = result.success();
    assert!(ws.path("operator/bin/app").exists(), "{}", result.stderr);
    publish_version(&ws, "1.0.0", "1.1.0");
    // By address too: the certificate names 127.0.0.1.
    run_command(
        ws.keel(["update", "--app", "app", "--yes"])
            .env("KEEL_HOME", home(&ws))
            .env("KEEL_STORE_URL", nginx.url(""))
            .env("SSL_CERT_FILE", &ca.ca),
    )
    .success();
    let receipt: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(home(&ws).join("app/receipt.json")).unwrap())
            .unwrap();
    assert_eq!(receipt["version"], "1.1.0", "{receipt}");
    assert!(
        receipt["store_url"]
            .as_str()
            .unwrap()
            .starts_with("https://localhost:"),
        "{receipt}"
    );
}

#[test]
fn a_plain_http_store_on_another_machine_needs_allow_http() {
    let ws = published();
    let result = install(&ws, "http://store.invalid/");
    result.refused("refusing the plain-HTTP store URL `http://store.invalid/`");
    assert!(result.stderr.contains("--allow-http"), "{}", result.stderr);
    assert_not_installed(&ws);
    // With the flag, the URL is used (and this machine cannot reach it).
    let result = run_command(install_command(&ws, "http://store.invalid/").arg("--allow-http"));
    result.refused("could not verify the metadata of the store");
    assert!(!result.stderr.contains("plain-HTTP"), "{}", result.stderr);
    assert_not_installed(&ws);
}

#[test]
fn an_https_store_url_answered_in_plain_http_says_to_write_http() {
    let ws = published();
    let nginx = Nginx::serve(&ws.path("store"));
    let https = format!("https://127.0.0.1:{}/", nginx.port);
    let result = install(&ws, &https);
    result.refused(&format!(
        "error: could not verify the metadata of the store {https}metadata/: cannot get {https}metadata/"
    ));
    assert!(
        result
            .stderr
            .contains(": the server answers plain HTTP, not HTTPS\n"),
        "{}",
        result.stderr
    );
    assert!(
        result.stderr.contains(&format!(
            "hint: the store's server speaks plain HTTP: give its URL as `http://127.0.0.1:{}/` (`keel install --from`)",
            nginx.port
        )),
        "{}",
        result.stderr
    );
    assert!(
        !result.stderr.contains("SSL_CERT_FILE") && !result.stderr.contains("InvalidContentType"),
        "{}",
        result.stderr
    );
    assert_not_installed(&ws);
}

#[test]
fn install_warns_about_a_database_that_does_not_exist_and_doctor_reports_it_missing() {
    let ws = published();
    let url = format!("file://{}", ws.path("store").display());
    let db = ws.path("operator/data/app.db");
    let mut command = install_command(&ws, &url);
    command.arg("--db").arg(&db);
    let installed = run_command(&mut command).success();
    assert!(
        installed.stderr.contains(&format!(
            "warning: the database {} does not exist yet: updates snapshot nothing of it until the app creates it there; check the path if the app keeps its data elsewhere\n",
            db.display()
        )),
        "{}",
        installed.stderr
    );
    assert!(ws.path("operator/bin/app").exists());

    // doctor: a problem, with the path and what to do; exit 1, in text and in JSON.
    let doctor = |format: &str| {
        run_command(
            ws.keel(["--format", format, "doctor", "--app", "app"])
                .env("KEEL_HOME", home(&ws)),
        )
    };
    let receipt = home(&ws).join("app/receipt.json");
    let problem = format!(
        "it does not exist, so updates snapshot nothing of it; if the app creates it at its first start, start the app once; else the path is wrong: correct it in `databases` of {} (no keel command changes it)",
        receipt.display()
    );
    let text = doctor("text");
    assert_eq!(text.code, 1, "{}", text.stderr);
    assert!(
        text.stdout
            .lines()
            .any(|line| line == format!("failed  database {}: {problem}", db.display())),
        "{}",
        text.stdout
    );
    assert_eq!(text.stderr, "error: 1 check(s) failed for app\n");
    let json = doctor("json");
    assert_eq!(json.code, 1, "{}", json.stderr);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["ok"], false, "{report}");
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == format!("database {}", db.display()))
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(
        check,
        &serde_json::json!({"check": format!("database {}", db.display()), "ok": false, "detail": problem})
    );

    // Once the app has made it, doctor checks it like any database.
    fs_err::create_dir_all(db.parent().unwrap()).unwrap();
    run_ok(
        Command::new(require_tool("sqlite3"))
            .arg(&db)
            .arg("CREATE TABLE t(x); PRAGMA user_version = 1;"),
    );
    let healthy = doctor("text").success();
    assert!(
        healthy
            .stdout
            .lines()
            .any(|line| line == format!("ok      database {}", db.display())),
        "{}",
        healthy.stdout
    );

    // A database that is there gets no warning.
    let other = published();
    let there = other.path("there.db");
    fs_err::copy(&db, &there).unwrap();
    let url = format!("file://{}", other.path("store").display());
    let mut command = install_command(&other, &url);
    command.arg("--db").arg(&there);
    let installed = run_command(&mut command).success();
    assert!(
        !installed.stderr.contains("warning:"),
        "{}",
        installed.stderr
    );
}

/// The executable `app` inside a release archive of `dist`, unpacked with `tar`.
fn binary_in_archive(ws: &TestWorkspace, archive: &str) -> Vec<u8> {
    require_tool("tar");
    let out = ws.path(&format!("unpacked-{archive}"));
    fs_err::create_dir_all(&out).unwrap();
    run_ok(
        Command::new("tar")
            .arg("-xzf")
            .arg(ws.path(&format!("dist/{archive}")))
            .arg("-C")
            .arg(&out),
    );
    let found = fs_err::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .map(|dir| dir.join("app"))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| out.join("app"));
    fs_err::read(found).unwrap()
}

fn update_json(ws: &TestWorkspace) -> RunResult {
    update_with(ws, &["--format", "json"])
}

/// 1.0.0 installed over HTTP from the store, then 1.1.0 published to it (with its patch).
fn installed_then_1_1_0_published() -> (TestWorkspace, Nginx) {
    let ws = published();
    let nginx = Nginx::serve(&ws.path("store"));
    install(&ws, &nginx.url("")).success();
    publish_version(&ws, "1.0.0", "1.1.0");
    (ws, nginx)
}

#[test]
fn an_update_downloads_only_a_patch_when_the_store_has_one_from_the_installed_version() {
    let (ws, _nginx) = installed_then_1_1_0_published();
    let archive = format!("app-1.1.0-{HOST}.tar.gz");
    let patch = format!("{archive}.from-1.0.0.patch");
    let patch_file = target_file(&ws, &patch);
    assert!(
        fs_err::metadata(&patch_file).unwrap().len()
            < fs_err::metadata(target_file(&ws, &archive)).unwrap().len(),
        "the patch is not smaller than the archive"
    );
    // Only the patch can deliver 1.1.0: the full archive is gone from the store.
    fs_err::remove_file(target_file(&ws, &archive)).unwrap();
    let result = update_json(&ws).success();
    let report: serde_json::Value = serde_json::from_str(&result.stdout).unwrap();
    assert_eq!(report["version"], "1.1.0", "{}", result.stdout);
    assert_eq!(report["download"]["kind"], "patch", "{}", result.stdout);
    assert_eq!(report["download"]["patch"], patch.as_str());
    assert_eq!(
        fs_err::read(ws.path("operator/bin/app")).unwrap(),
        binary_in_archive(&ws, &archive),
        "the patched install is not the release's binary"
    );
}

#[test]
fn a_patch_that_cannot_be_used_falls_back_to_the_archive_and_says_why() {
    // The installed binary is not the patch's base (changed after install).
    let (ws, _nginx) = installed_then_1_1_0_published();
    let archive = format!("app-1.1.0-{HOST}.tar.gz");
    let installed = ws.path("operator/bin/app");
    let mut bytes = fs_err::read(&installed).unwrap();
    bytes.push(b'\n');
    fs_err::write(&installed, bytes).unwrap();
    let result = update(&ws).success();
    assert!(
        result.stderr.contains("warning: the patch")
            && result.stderr.contains("not the patch's base")
            && result
                .stderr
                .contains("downloaded the full archive instead"),
        "{}",
        result.stderr
    );
    assert_eq!(
        fs_err::read(&installed).unwrap(),
        binary_in_archive(&ws, &archive)
    );

    // A patch in the store that does not match its signed hashes.
    let (ws, _nginx) = installed_then_1_1_0_published();
    let patch_file = target_file(&ws, &format!("{archive}.from-1.0.0.patch"));
    let mut bytes = fs_err::read(&patch_file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    fs_err::write(&patch_file, bytes).unwrap();
    let result = update_json(&ws).success();
    let report: serde_json::Value = serde_json::from_str(&result.stdout).unwrap();
    assert_eq!(report["download"]["kind"], "archive", "{}", result.stdout);
    assert!(
        report["download"]["reason"]
            .as_str()
            .unwrap()
            .contains("does not match its signed sha256 hash"),
        "{}",
        result.stdout
    );
    assert!(
        result.stderr.contains("warning: the patch"),
        "{}",
        result.stderr
    );
    assert_eq!(
        fs_err::read(ws.path("operator/bin/app")).unwrap(),
        binary_in_archive(&ws, &archive)
    );
}

#[test]
fn an_ssl_cert_file_without_a_certificate_is_named_not_trusted_silently() {
    let ws = published();
    ws.write("empty.pem", "not a certificate\n");
    let result = run_command(
        install_command(&ws, "https://127.0.0.1:9/").env("SSL_CERT_FILE", ws.path("empty.pem")),
    );
    result.refused("(SSL_CERT_FILE): it holds no PEM certificate");
    assert_not_installed(&ws);
}

#[test]
fn a_clock_that_ran_ahead_blocks_updates_no_longer_than_the_store_says_time_is() {
    let ws = published();
    let nginx = Nginx::serve(&ws.path("store"));
    install(&ws, &nginx.url("")).success();
    let record = home(&ws).join("app/trusted.last-read");
    let recorded = || -> u64 {
        fs_err::read_to_string(&record)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let before = recorded();
    // `keel update --dry-run` under the clock moved by `offset` (libfaketime), or as it is.
    let check = |offset: Option<&str>| {
        let mut command = match offset {
            Some(offset) => {
                let mut command = Command::new(require_tool("faketime"));
                command.args(["-f", offset]).arg(crate::keel_bin());
                command
            }
            None => Command::new(crate::keel_bin()),
        };
        command
            .args(["update", "--app", "app", "--dry-run"])
            .current_dir(ws.root())
            .env("KEEL_HOME", home(&ws))
            .env("KEEL_HTTP_TIMEOUT", "3");
        run_command(&mut command)
    };
    // A clock far ahead reads the store's timestamp as expired: nothing is read, so nothing is
    // recorded, and the right clock updates as before.
    let far = check(Some("+400d")).failure(1);
    assert!(far.stderr.contains("expired"), "{}", far.stderr);
    assert_eq!(recorded(), before, "a refused read was recorded");
    check(None).success();
    // A clock ahead by less than the timestamp's lifetime (7 days) reads the store, and is
    // recorded; the right clock is then refused (a clock set back looks the same) until it
    // catches up, at most that lifetime later...
    check(Some("+2d")).success();
    assert!(recorded() > before + 86_400, "{} vs {before}", recorded());
    let behind = check(None).failure(1);
    assert!(
        behind
            .stderr
            .contains("behind the time it last read the store (recorded in"),
        "{}",
        behind.stderr
    );
    assert!(
        behind
            .stderr
            .contains("removing the record file named above"),
        "{}",
        behind.stderr
    );
    // ...or until the operator, whose clock is right, removes the record, as the hint says.
    fs_err::remove_file(&record).unwrap();
    check(None).success();
}
