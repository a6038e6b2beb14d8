//! `keel release`: archives, checksums and manifest, checked with real tools.

use std::process::Command;

use keel_test::{COMMIT_EPOCH, require_tool, run_command, run_ok, snapshot_dir};
use serde_json::Value;

use crate::{multi, single};

/// The host: what keel releases for by default, and what installs pick.
const HOST: &str = keel_schema::HOST_TARGET;

use keel_test::read_manifest as manifest;

#[test]
fn release_archives_check_out_with_real_tools() {
    let ws = single("hello", "1.4.2");
    ws.run(&["release", "--out", "dist"]).success();
    let dist = ws.path("dist");
    let archive = format!("hello-1.4.2-{HOST}.tar.gz");

    // sha256sum reads both the per-archive file and the list over every artifact.
    run_ok(
        Command::new(require_tool("sha256sum"))
            .args(["-c", "SHA256SUMS"])
            .current_dir(&dist),
    );
    run_ok(
        Command::new(require_tool("sha256sum"))
            .arg("-c")
            .arg(format!("{archive}.sha256"))
            .current_dir(&dist),
    );
    let sums = fs_err::read_to_string(dist.join("SHA256SUMS")).unwrap();
    // The archive, its .sha256, its SBOM, the source archive and its .sha256, the installer
    // and the download page.
    assert_eq!(sums.lines().count(), 7, "{sums}");

    // One top directory with the binary, README and LICENSE, owned by 0/0, stamped with the
    // commit time.
    let listing = run_ok(
        Command::new(require_tool("tar"))
            .args(["--numeric-owner", "--utc", "--full-time", "-tvzf"])
            .arg(dist.join(&archive)),
    );
    let listing = String::from_utf8(listing.stdout).unwrap();
    let top = format!("hello-1.4.2-{HOST}/");
    let names: Vec<&str> = listing
        .lines()
        .map(|l| l.rsplit(' ').next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            top.clone(),
            format!("{top}LICENSE"),
            format!("{top}README.md"),
            format!("{top}hello")
        ]
    );
    for line in listing.lines() {
        assert!(line.contains(" 0/0 "), "{line}");
        assert!(line.contains("2024-05-01 12:00:00"), "{line}");
    }
    assert!(
        listing.lines().last().unwrap().starts_with("-rwxr-xr-x"),
        "{listing}"
    );

    // The binary in the archive runs.
    let unpacked = tempfile::tempdir().unwrap();
    run_ok(
        Command::new("tar")
            .arg("-xzf")
            .arg(dist.join(&archive))
            .arg("-C")
            .arg(unpacked.path()),
    );
    let out = run_ok(&mut Command::new(unpacked.path().join(&top).join("hello")));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "hello 1.4.2\n");

    // The manifest describes exactly the files written.
    let m = manifest(&dist);
    assert_eq!(m["schema_version"], 1);
    assert_eq!(m["version"], "1.4.2");
    assert_eq!(m["prerelease"], false);
    assert_eq!(m["tag"], Value::Null);
    assert_eq!(m["source"]["source_date_epoch"], COMMIT_EPOCH);
    assert_eq!(m["source"]["dirty"], false);
    let head = run_ok(
        Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(ws.root()),
    );
    assert_eq!(
        m["source"]["commit"],
        String::from_utf8(head.stdout).unwrap().trim()
    );
    assert_eq!(m["apps"]["hello"]["binaries"], serde_json::json!(["hello"]));
    assert_eq!(m["apps"]["hello"]["license"], "MIT");
    let target = &m["targets"][HOST];
    assert_eq!(target["host"], HOST);
    assert_eq!(target["builder"], "cargo");
    assert_eq!(target["profile"], "dist");
    assert!(
        target["rustc"].as_str().unwrap().starts_with("rustc 1."),
        "{target}"
    );
    let artifacts = m["artifacts"].as_object().unwrap();
    let mut listed: Vec<&str> = artifacts.keys().map(String::as_str).collect();
    listed.push("keel-manifest.json");
    listed.sort();
    let mut on_disk: Vec<String> = fs_err::read_dir(&dist)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    on_disk.sort();
    assert_eq!(listed, on_disk);
    for (name, artifact) in artifacts {
        let (digest, size) = keel_verify::sha256_file(&dist.join(name)).unwrap();
        assert_eq!(artifact["sha256"], digest.to_hex(), "{name}");
        assert_eq!(artifact["size"], size, "{name}");
    }
    assert_eq!(artifacts[&archive]["kind"], "archive");
    assert_eq!(artifacts[&archive]["format"], "tar.gz");
    assert_eq!(
        artifacts[&archive]["executables"],
        serde_json::json!([format!("{top}hello")])
    );
    assert_eq!(
        artifacts[&format!("{archive}.sha256")]["checksum_of"],
        archive
    );
    assert_eq!(artifacts["SHA256SUMS"]["kind"], "checksums");
}

#[test]
fn releasing_twice_gives_identical_bytes() {
    let ws = single("twice", "0.2.0");
    ws.run(&["release", "--out", "first"]).success();
    // New file times on every input must not leak into the archives.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    for file in ["README.md", "LICENSE"] {
        let text = ws.read(file);
        ws.write(file, &text);
    }
    ws.run(&["release", "--out", "second"]).success();
    let first = snapshot_dir(&ws.path("first"));
    let second = snapshot_dir(&ws.path("second"));
    // Archive, .sha256, SBOM, source archive, .sha256, installer, page, SHA256SUMS,
    // provenance, manifest.
    assert_eq!(first.len(), 10);
    assert!(first == second, "the two releases differ");
    // Releasing again into the same folder replaces it with the same bytes.
    ws.run(&["release", "--out", "first"]).success();
    assert!(snapshot_dir(&ws.path("first")) == second);
}

#[test]
fn every_platform_with_the_fake_builder_and_every_archive_format() {
    let ws = multi();
    let out = ws
        .run(&[
            "release",
            "--builder",
            "fake",
            "--out",
            "dist",
            "--tag",
            "v2.1.0",
        ])
        .success();
    assert!(out.stdout.contains("Released v2.1.0"), "{}", out.stdout);
    let dist = ws.path("dist");
    run_ok(
        Command::new(require_tool("sha256sum"))
            .args(["-c", "--strict", "SHA256SUMS"])
            .current_dir(&dist),
    );
    let m = manifest(&dist);
    assert_eq!(m["tag"], "v2.1.0");
    assert_eq!(m["version"], "2.1.0");
    assert_eq!(
        m["targets"].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["aarch64-apple-darwin", "x86_64-pc-windows-msvc", HOST]
    );
    assert_eq!(m["targets"][HOST]["builder"], "fake");
    // 2 apps x 3 targets x (archive + .sha256 + SBOM) + 2 apps x (source archive + .sha256 +
    // .sh + .ps1 installers) + the page + SHA256SUMS + provenance; the library is not shipped.
    assert_eq!(m["artifacts"].as_object().unwrap().len(), 29);
    assert!(m["apps"].get("lib").is_none());

    // Windows: a zip, .exe binaries, read by the real unzip.
    let zip = dist.join("alpha-2.1.0-x86_64-pc-windows-msvc.zip");
    run_ok(Command::new(require_tool("unzip")).arg("-tq").arg(&zip));
    let unpacked = tempfile::tempdir().unwrap();
    run_ok(
        Command::new("unzip")
            .arg("-q")
            .arg(&zip)
            .arg("-d")
            .arg(unpacked.path()),
    );
    let top = unpacked.path().join("alpha-2.1.0-x86_64-pc-windows-msvc");
    let exe = fs_err::read_to_string(top.join("alpha-admin.exe")).unwrap();
    assert!(
        exe.contains("alpha-admin x86_64-pc-windows-msvc (fake build)"),
        "{exe}"
    );
    assert_eq!(
        m["artifacts"]["alpha-2.1.0-x86_64-pc-windows-msvc.zip"]["format"],
        "zip"
    );

    // Unix: tar.xz as configured, with documents from the package and the workspace root and
    // the extra files, executable scripts kept executable.
    let xz = dist.join(format!("alpha-2.1.0-{HOST}.tar.xz"));
    require_tool("xz");
    let listing = run_ok(Command::new(require_tool("tar")).arg("-tvJf").arg(&xz));
    let listing = String::from_utf8(listing.stdout).unwrap();
    let top = format!("alpha-2.1.0-{HOST}/");
    for expected in [
        "README.md",
        "LICENSE-MIT",
        "LICENSE-APACHE",
        "CHANGELOG.md",
        "alpha",
        "alpha-admin",
        "examples/config.toml",
        "scripts/setup.sh",
        "scripts/notes/usage.txt",
    ] {
        assert!(
            listing.contains(&format!("{top}{expected}\n")),
            "{expected} missing:\n{listing}"
        );
    }
    let setup = listing
        .lines()
        .find(|l| l.ends_with("scripts/setup.sh"))
        .unwrap();
    assert!(setup.starts_with("-rwxr-xr-x"), "{setup}");
    let usage = listing.lines().find(|l| l.ends_with("usage.txt")).unwrap();
    assert!(usage.starts_with("-rw-r--r--"), "{usage}");
    let readme = unpack_file(&xz, &format!("{top}README.md"));
    assert_eq!(
        readme, "# alpha\n",
        "the package's README wins over the workspace's"
    );
    // beta has no README of its own: it gets the workspace's.
    let beta = dist.join(format!("beta-2.1.0-{HOST}.tar.xz"));
    assert_eq!(
        unpack_file(&beta, &format!("beta-2.1.0-{HOST}/README.md")),
        "# workspace\n"
    );
}

fn unpack_file(archive: &std::path::Path, member: &str) -> String {
    let out = run_ok(
        Command::new(require_tool("tar"))
            .arg("-xOf")
            .arg(archive)
            .arg(member),
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn tar_zst_is_selectable_and_read_by_real_zstd() {
    let ws = single("zed", "1.0.0");
    ws.write(
        "Cargo.toml",
        &(ws.read("Cargo.toml") + "\n[workspace.metadata.keel]\nunix-archive = \"tar.zst\"\n"),
    );
    ws.commit("zstd");
    ws.run(&["release", "--out", "dist"]).success();
    require_tool("zstd");
    let archive = ws.path(&format!("dist/zed-1.0.0-{HOST}.tar.zst"));
    let listing = run_ok(
        Command::new(require_tool("tar"))
            .arg("--zstd")
            .arg("-tf")
            .arg(&archive),
    );
    assert!(
        String::from_utf8(listing.stdout)
            .unwrap()
            .contains(&format!("zed-1.0.0-{HOST}/zed\n"))
    );
    run_ok(Command::new("zstd").arg("-tq").arg(&archive));
}

#[test]
fn the_manifest_validates_against_the_checked_in_schema() {
    let ws = multi();
    ws.run(&["release", "--builder", "fake", "--out", "dist"])
        .success();
    let schema = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schema/keel-manifest.schema.json"
    );
    let python = require_tool("python3");
    let script = "import json, sys\n\
        try:\n    import jsonschema\n\
        except ImportError:\n    sys.exit('the python package jsonschema is not installed; run scripts/test.sh')\n\
        schema = json.load(open(sys.argv[1]))\n\
        jsonschema.validators.validator_for(schema).check_schema(schema)\n\
        jsonschema.validate(json.load(open(sys.argv[2])), schema, format_checker=jsonschema.FormatChecker())\n";
    run_ok(
        Command::new(&python)
            .arg("-c")
            .arg(script)
            .arg(schema)
            .arg(ws.path("dist/keel-manifest.json")),
    );
    // And the validator does reject a manifest that breaks the schema.
    let mut broken = manifest(&ws.path("dist"));
    broken["artifacts"]["SHA256SUMS"]["sha256"] = Value::from("not-hex");
    fs_err::write(ws.path("broken.json"), broken.to_string()).unwrap();
    let rejected = run_command(
        Command::new(&python)
            .arg("-c")
            .arg(script)
            .arg(schema)
            .arg(ws.path("broken.json")),
    );
    assert_ne!(rejected.code, 0, "the schema accepted a malformed sha256");
}

#[test]
fn a_prerelease_tag_from_github_actions_is_recorded() {
    let ws = single("pre", "3.0.0-rc.2");
    let result = keel_test::run_command(
        ws.keel(["release", "--out", "dist", "--format", "json"])
            .env("GITHUB_REF_TYPE", "tag")
            .env("GITHUB_REF_NAME", "v3.0.0-rc.2"),
    )
    .success();
    let printed: Value = serde_json::from_str(&result.stdout).unwrap();
    let m = manifest(&ws.path("dist"));
    assert_eq!(
        printed["manifest"], m,
        "--format json prints the manifest written"
    );
    assert_eq!(m["tag"], "v3.0.0-rc.2");
    assert_eq!(m["prerelease"], true);
}

#[test]
fn source_date_epoch_sets_every_time_stamp() {
    let ws = single("epoch", "1.0.0");
    run_command(
        ws.keel(["release", "--out", "dist"])
            .env("SOURCE_DATE_EPOCH", "1000000000"),
    )
    .success();
    let archive = ws.path(&format!("dist/epoch-1.0.0-{HOST}.tar.gz"));
    let listing = run_ok(
        Command::new(require_tool("tar"))
            .args(["--utc", "--full-time", "-tvzf"])
            .arg(&archive),
    );
    let listing = String::from_utf8(listing.stdout).unwrap();
    assert!(
        listing.lines().all(|l| l.contains("2001-09-09 01:46:40")),
        "{listing}"
    );
    assert_eq!(
        manifest(&ws.path("dist"))["source"]["source_date_epoch"],
        1_000_000_000
    );
}

#[test]
fn a_dirty_tree_is_recorded_and_warned_about() {
    let ws = single("dirty", "1.0.0");
    ws.write("README.md", "# changed\n");
    let result = ws.run(&["release", "--out", "dist"]).success();
    assert!(
        result
            .stderr
            .contains("warning: the work tree has uncommitted changes"),
        "{}",
        result.stderr
    );
    assert_eq!(manifest(&ws.path("dist"))["source"]["dirty"], true);
}

#[test]
fn progress_shows_on_a_terminal_only() {
    let ws = single("tty", "1.0.0");
    let script = require_tool("script");
    let keel = crate::keel_bin();
    // `script` gives keel a pseudo-terminal.
    let tty = run_ok(
        Command::new(&script)
            .args([
                "-qefc",
                &format!("{keel} release --out tty-dist"),
                "/dev/null",
            ])
            .env("TERM", "xterm")
            .current_dir(ws.root()),
    );
    let shown = String::from_utf8_lossy(&tty.stdout);
    assert!(
        shown.contains(&format!("Building {HOST}")),
        "no build progress:\n{shown}"
    );
    assert!(
        shown.contains("Packaging"),
        "no packaging progress:\n{shown}"
    );

    let quiet = run_ok(
        Command::new(&script)
            .args([
                "-qefc",
                &format!("{keel} release --quiet --out quiet-dist"),
                "/dev/null",
            ])
            .env("TERM", "xterm")
            .current_dir(ws.root()),
    );
    assert_eq!(
        String::from_utf8_lossy(&quiet.stdout).trim(),
        "",
        "--quiet printed something"
    );

    let piped = ws.run(&["release", "--out", "piped-dist"]).success();
    assert!(
        !piped.stderr.contains("Building") && !piped.stderr.contains("Packaging"),
        "{}",
        piped.stderr
    );
    assert!(
        piped.stdout.contains("Released version 1.0.0"),
        "{}",
        piped.stdout
    );
}

#[test]
fn update_hooks_are_recorded_in_the_manifest() {
    let ws = single("hooked", "1.0.0");
    ws.write(
        "Cargo.toml",
        &(ws.read("Cargo.toml")
            + "\n[package.metadata.keel.update]\nmigrate = [\"--db\", \"{db}\", \"migrate\"]\ncheck = [\"--db\", \"{db}\", \"doctor\"]\n"),
    );
    ws.commit("hooks");
    ws.run(&["release", "--builder", "fake", "--out", "dist"])
        .success();
    let m = manifest(&ws.path("dist"));
    assert_eq!(
        m["apps"]["hooked"]["update"]["migrate"],
        serde_json::json!(["--db", "{db}", "migrate"])
    );
    assert_eq!(
        m["apps"]["hooked"]["update"]["check"],
        serde_json::json!(["--db", "{db}", "doctor"])
    );

    ws.write(
        "Cargo.toml",
        &ws.read("Cargo.toml").replace("check = ", "chek = "),
    );
    let result = ws.run(&["plan"]);
    assert_eq!(result.code, 1);
    assert!(
        result.stderr.contains("unknown field `chek`"),
        "{}",
        result.stderr
    );
}

#[test]
fn licence_files_notices_and_authors_ship_in_the_archive() {
    let ws = single("licensed", "1.0.0");
    ws.write("UNLICENSE", "This is free and unencumbered software.\n");
    ws.write("NOTICE", "licensed\nCopyright the licensed authors\n");
    ws.write("AUTHORS", "The licensed authors\n");
    ws.write("COPYING", "Dual-licensed under MIT or the Unlicense.\n");
    ws.commit("licences");
    ws.run(&["release", "--builder", "fake", "--out", "dist"])
        .success();
    let archive = ws.path(&format!("dist/licensed-1.0.0-{HOST}.tar.gz"));
    let listing = run_ok(Command::new(require_tool("tar")).arg("-tzf").arg(&archive));
    let top = format!("licensed-1.0.0-{HOST}/");
    let names: Vec<String> = String::from_utf8(listing.stdout)
        .unwrap()
        .lines()
        .map(|l| l.strip_prefix(&top).unwrap_or(l).to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "", // the top folder
            "AUTHORS",
            "COPYING",
            "LICENSE",
            "NOTICE",
            "README.md",
            "UNLICENSE",
            "licensed"
        ]
    );
    assert_eq!(
        unpack_file(&archive, &format!("{top}UNLICENSE")),
        "This is free and unencumbered software.\n"
    );
}

/// The file names inside a `tar.gz`, in the archive's order.
fn tar_names(archive: &std::path::Path) -> Vec<String> {
    let listing = run_ok(Command::new(require_tool("tar")).arg("-tzf").arg(archive));
    String::from_utf8(listing.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_source_archive_holds_the_commit_and_is_the_same_from_a_fresh_clone() {
    let ws = single("srcs", "1.3.0");
    ws.write("UNLICENSE", "unlicense\n");
    ws.write("docs/guide.md", "# guide\n");
    ws.write("scripts/check.sh", "#!/bin/sh\n");
    crate::set_mode(&ws.path("scripts/check.sh"), 0o755);
    std::os::unix::fs::symlink("../README.md", ws.path("docs/README.md")).unwrap();
    ws.write(".gitignore", "/target\n/dist*\n*.log\n");
    ws.commit("sources");
    ws.keygen();
    // Neither a change, nor a new file, nor an ignored one is part of the commit.
    ws.write("README.md", "# changed after the commit\n");
    ws.write("scratch.txt", "not committed\n");
    ws.write("build.log", "ignored\n");

    let release = |out: &str| {
        ws.run(&[
            "release",
            "--builder",
            "fake",
            "--out",
            out,
            "--sign-key",
            "keys/release.key",
        ])
        .success()
    };
    let result = release("dist");
    assert!(
        result
            .stderr
            .contains("the source archive holds the commit"),
        "{}",
        result.stderr
    );
    let dist = ws.path("dist");
    let name = "srcs-1.3.0-source.tar.gz";
    let archive = dist.join(name);

    // One folder, <app>-<version>/, with every committed file and nothing else.
    assert_eq!(
        tar_names(&archive),
        [
            "srcs-1.3.0/",
            "srcs-1.3.0/.gitignore",
            "srcs-1.3.0/Cargo.lock",
            "srcs-1.3.0/Cargo.toml",
            "srcs-1.3.0/LICENSE",
            "srcs-1.3.0/README.md",
            "srcs-1.3.0/UNLICENSE",
            "srcs-1.3.0/docs/",
            "srcs-1.3.0/docs/README.md",
            "srcs-1.3.0/docs/guide.md",
            "srcs-1.3.0/scripts/",
            "srcs-1.3.0/scripts/check.sh",
            "srcs-1.3.0/src/",
            "srcs-1.3.0/src/main.rs",
        ]
    );
    assert_eq!(
        unpack_file(&archive, "srcs-1.3.0/README.md"),
        "# srcs\n",
        "the committed README, not the changed one"
    );
    // Owned by 0/0, stamped with the commit time, modes and links as committed.
    let listing = run_ok(
        Command::new("tar")
            .args(["--numeric-owner", "--utc", "--full-time", "-tvzf"])
            .arg(&archive),
    );
    let listing = String::from_utf8(listing.stdout).unwrap();
    for line in listing.lines() {
        assert!(line.contains(" 0/0 "), "{line}");
        assert!(line.contains("2024-05-01 12:00:00"), "{line}");
    }
    let line = |suffix: &str| listing.lines().find(|l| l.contains(suffix)).unwrap();
    assert!(
        line("scripts/check.sh").starts_with("-rwxr-xr-x"),
        "{listing}"
    );
    assert!(line("src/main.rs").starts_with("-rw-r--r--"), "{listing}");
    assert!(
        line("docs/README.md").starts_with("lrwxrwxrwx")
            && line("docs/README.md").ends_with("docs/README.md -> ../README.md"),
        "{listing}"
    );

    // Listed in the manifest with no target, in SHA256SUMS (signed) and its own .sha256.
    let m = manifest(&dist);
    let artifact = &m["artifacts"][name];
    assert_eq!(artifact["kind"], "source");
    assert_eq!(artifact["app"], "srcs");
    assert_eq!(artifact["format"], "tar.gz");
    assert!(artifact.get("target").is_none(), "{artifact}");
    assert_eq!(
        m["artifacts"][format!("{name}.sha256")]["checksum_of"],
        name
    );
    let sums = ws.read("dist/SHA256SUMS");
    assert!(sums.contains(&format!("  {name}\n")), "{sums}");
    assert!(sums.contains(&format!("  {name}.sha256\n")), "{sums}");
    for list in ["SHA256SUMS", &format!("{name}.sha256")] {
        run_ok(
            Command::new(require_tool("sha256sum"))
                .args(["-c", "--strict", list])
                .current_dir(&dist),
        );
    }
    run_ok(
        Command::new(require_tool("minisign"))
            .args(["-Vm", "SHA256SUMS", "-p"])
            .arg(ws.path("keys/release.pub"))
            .current_dir(&dist),
    );
    // The installer picks archives by target: the source archive is not one of them.
    let installer = ws.read("dist/srcs-installer.sh");
    assert!(!installer.contains("source.tar.gz"), "{installer}");

    // Byte for byte the same on a second release, and from a fresh clone of the repository.
    let bytes = fs_err::read(&archive).unwrap();
    release("dist-again");
    assert!(
        fs_err::read(ws.path(&format!("dist-again/{name}"))).unwrap() == bytes,
        "a second release wrote another source archive"
    );
    let clone = tempfile::Builder::new()
        .prefix("keel-clone-")
        .tempdir()
        .unwrap();
    run_ok(
        Command::new("git")
            .args(["clone", "-q"])
            .arg(ws.root())
            .arg(clone.path().join("srcs")),
    );
    let cloned = clone.path().join("srcs");
    run_command(
        ws.keel(["release", "--builder", "fake", "--out"])
            .arg(clone.path().join("dist"))
            .current_dir(&cloned),
    )
    .success();
    assert!(
        fs_err::read(clone.path().join("dist").join(name)).unwrap() == bytes,
        "a fresh clone wrote another source archive"
    );

    // keel verify checks it like every file, and names it when it is altered.
    ws.run(&["verify", "dist", "--public-key", "keys/release.pub"])
        .success();
    let mut altered = bytes.clone();
    let last = altered.len() - 1;
    altered[last] ^= 1;
    fs_err::write(&archive, &altered).unwrap();
    let result = ws.run(&["verify", "dist", "--public-key", "keys/release.pub"]);
    assert_eq!(result.code, 1, "{}", result.stdout);
    assert!(
        result
            .stdout
            .contains(&format!("failed  {name} (size and sha256): sha256 ")),
        "{}",
        result.stdout
    );
}

#[test]
fn a_workspace_outside_git_has_no_source_archive_and_says_so() {
    let ws = keel_test::TestWorkspace::new(crate::keel_bin());
    ws.write(
        "Cargo.toml",
        "[package]\nname = \"nogit\"\nversion = \"1.0.0\"\nedition = \"2021\"\n",
    );
    ws.write("src/main.rs", "fn main() {}\n");
    ws.lock();
    let result = ws
        .run(&["release", "--builder", "fake", "--out", "dist"])
        .success();
    let warning = "warning: the workspace is not in a git repository with a commit, so the release has no source archive";
    assert_eq!(
        result.stderr.matches(warning).count(),
        1,
        "{}",
        result.stderr
    );
    let m = manifest(&ws.path("dist"));
    assert_eq!(m["source"]["commit"], Value::Null);
    assert!(
        m["artifacts"]
            .as_object()
            .unwrap()
            .values()
            .all(|a| a["kind"] != "source"),
        "{m}"
    );
    ws.run(&["verify", "dist"]).success();
}

#[test]
fn a_committed_name_no_archive_may_hold_is_left_out_of_the_source_archive_and_said() {
    let ws = single("odd", "1.0.0");
    // Names Windows reads as a drive or a stream, or a separator: legal in git, unsafe to
    // extract. The release goes on without them, and says which.
    ws.write("notes/2026-01-01T10:00.txt", "a time in the name\n");
    ws.write("docs/back\\slash.md", "a backslash in the name\n");
    ws.commit("odd names");
    let result = ws
        .run(&["release", "--builder", "fake", "--out", "dist"])
        .success();
    for path in ["notes/2026-01-01T10:00.txt", "docs/back\\\\slash.md"] {
        let line = format!("warning: left \"{path}\" out of odd-1.0.0-source.tar.gz: ");
        assert!(result.stderr.contains(&line), "{line}\n{}", result.stderr);
    }
    let listing = run_ok(
        Command::new(require_tool("tar"))
            .arg("-tzf")
            .arg(ws.path("dist/odd-1.0.0-source.tar.gz")),
    );
    let listing = String::from_utf8(listing.stdout).unwrap();
    assert!(listing.contains("odd-1.0.0/src/main.rs"), "{listing}");
    assert!(
        !listing.contains("10:00") && !listing.contains("slash"),
        "{listing}"
    );
    ws.run(&["verify", "dist"]).success();
}
