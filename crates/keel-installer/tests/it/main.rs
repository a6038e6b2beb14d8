//! The installers, notes and page written for a fixed release: snapshots, `shellcheck`, the
//! shells' own syntax checks, and structural checks of the PowerShell script (no PowerShell
//! runs on Linux CI machines; the end-to-end runs of the shell installer are in the `keel`
//! crate's tests).
#![allow(clippy::unwrap_used)] // Test helpers fail the test on unexpected errors.

use std::collections::BTreeMap;
use std::process::Command;

use keel_schema::receipt::UpdateHooks;
use keel_schema::{
    App, ArchiveFormat, Artifact, ArtifactKind, Distribution, Manifest, Source, TargetBuild,
};
use keel_test::{require_tool, run_command};
use keel_verify::minisign::PublicKey;

const KEY: &str = "untrusted comment: minisign public key C616FF5E45D305A0
RWSgBdNFXv8WxtULsUk8XmRFNmGVtDv+gmERKRmRHxH+dc0cbjF4TUDR
";

fn artifact(kind: ArtifactKind, app: Option<&str>, target: Option<&str>, fill: char) -> Artifact {
    Artifact {
        kind,
        app: app.map(str::to_owned),
        target: target.map(|t| t.parse().unwrap()),
        size: 1000 + fill as u64,
        sha256: fill.to_string().repeat(64),
        format: None,
        executables: vec![],
        glibc: None,
        checksum_of: None,
        signature_of: None,
        image_digest: None,
        platforms: Vec::new(),
    }
}

/// A release of `demo-app` 2.1.0 for Linux (gnu and musl), macOS and Windows, signed,
/// downloadable from GitHub and published to a store.
fn manifest() -> Manifest {
    let mut artifacts = BTreeMap::new();
    for (target, format, fill) in [
        ("x86_64-unknown-linux-gnu", ArchiveFormat::TarGz, 'a'),
        ("x86_64-unknown-linux-musl", ArchiveFormat::TarGz, 'b'),
        ("aarch64-apple-darwin", ArchiveFormat::TarXz, 'c'),
        ("x86_64-pc-windows-msvc", ArchiveFormat::Zip, 'd'),
    ] {
        let exe = if target.contains("windows") {
            ".exe"
        } else {
            ""
        };
        let mut archive = artifact(ArtifactKind::Archive, Some("demo-app"), Some(target), fill);
        archive.format = Some(format);
        archive.executables = vec![format!("demo-app-2.1.0-{target}/demo-app{exe}")];
        artifacts.insert(format!("demo-app-2.1.0-{target}.{format}"), archive);
    }
    for (name, fill) in [
        ("demo-app-installer.sh", 'g'),
        ("demo-app-installer.ps1", 'h'),
    ] {
        artifacts.insert(
            name.into(),
            artifact(ArtifactKind::Installer, Some("demo-app"), None, fill),
        );
    }
    artifacts.insert(
        "SHA256SUMS".into(),
        artifact(ArtifactKind::Checksums, None, None, 'e'),
    );
    artifacts.insert(
        "SHA256SUMS.minisig".into(),
        artifact(ArtifactKind::Signature, None, None, 'f'),
    );
    Manifest {
        schema_version: keel_schema::MANIFEST_SCHEMA_VERSION,
        tag: Some("v2.1.0".into()),
        version: Some("2.1.0".into()),
        prerelease: false,
        source: Source {
            commit: Some("0123456789abcdef".into()),
            dirty: false,
            source_date_epoch: 1_714_564_800,
        },
        apps: BTreeMap::from([(
            "demo-app".to_owned(),
            App {
                package: "demo-app".into(),
                version: "2.1.0".into(),
                binaries: vec!["demo-app".into()],
                description: Some("A demo <app> & its \"tools\"".into()),
                license: None,
                repository: None,
                homepage: None,
                update: Some(UpdateHooks {
                    migrate: Some(vec!["--db".into(), "{db}".into(), "migrate".into()]),
                    check: None,
                }),
                image: None,
                rehearse: None,
            },
        )]),
        targets: BTreeMap::from([(
            "x86_64-unknown-linux-gnu".parse().unwrap(),
            TargetBuild {
                host: "x86_64-unknown-linux-gnu".parse().unwrap(),
                rustc: "rustc 1.95.0".into(),
                builder: "cargo".into(),
                profile: "dist".into(),
            },
        )]),
        artifacts,
        distribution: Distribution {
            download_url: Some("https://github.com/keel-rs/demo/releases/download/v2.1.0".into()),
            store_url: Some("https://updates.example.com/demo".into()),
            store_root: Some("{\"signed\": {\"it's\": \"quoted\"}}\n".into()),
        },
    }
}

fn key() -> PublicKey {
    PublicKey::from_text(KEY).unwrap()
}

#[test]
fn the_shell_installer_is_clean_posix_sh() {
    let script = keel_installer::shell_installer(&manifest(), "demo-app", Some(&key())).unwrap();
    insta::assert_snapshot!("installer_sh", script);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo-app-installer.sh");
    fs_err::write(&path, &script).unwrap();
    let checked = run_command(
        Command::new(require_tool("shellcheck"))
            .args(["--shell=sh", "--severity=style"])
            .arg(&path),
    );
    assert_eq!(checked.code, 0, "shellcheck:\n{}", checked.stdout);
    for shell in ["dash", "bash"] {
        let parsed = run_command(Command::new(require_tool(shell)).arg("-n").arg(&path));
        assert_eq!(parsed.code, 0, "{shell} -n:\n{}", parsed.stderr);
    }
    // Every Unix archive with its digest, and no Windows one.
    assert!(script.contains(&format!(
        "x86_64-unknown-linux-musl demo-app-2.1.0-x86_64-unknown-linux-musl.tar.gz {} 1098 tar.gz",
        "b".repeat(64)
    )));
    assert!(!script.contains("windows-msvc.zip"));
    // The store's root, with its quote, survives shell quoting.
    assert!(script.contains(r#"STORE_ROOT='{"signed": {"it'\''s": "quoted"}}'"#));
}

#[test]
fn the_powershell_installer_checks_hashes_and_uses_the_registry() {
    let script =
        keel_installer::powershell_installer(&manifest(), "demo-app", Some(&key())).unwrap();
    insta::assert_snapshot!("installer_ps1", script);
    for required in [
        "Set-StrictMode -Version 3.0",
        "$ErrorActionPreference = 'Stop'",
        "Get-FileHash -Algorithm SHA256",
        "$env:PROCESSOR_ARCHITECTURE",
        "Programs\\$App\\bin",
        "[Microsoft.Win32.Registry]::CurrentUser.OpenSubKey('Environment', $true)",
        "$env:DEMO_APP_INSTALL_DIR",
        "$env:DEMO_APP_NO_MODIFY_PATH",
        "$env:DEMO_APP_DOWNLOAD_URL",
        &format!("Sha256 = '{}'", "d".repeat(64)),
        "[switch]$NoModifyPath",
    ] {
        assert!(script.contains(required), "missing `{required}`");
    }
    let code: String = script
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    assert!(
        !code.to_lowercase().contains("setx"),
        "PATH must not go through setx"
    );
    assert!(
        !script.contains("linux"),
        "a Unix archive is in the PowerShell installer"
    );
    assert_balanced(&script);
}

/// Brackets, braces and parentheses balance outside strings and comments, and every string
/// ends: a cheap guard against a PowerShell template that no longer parses.
fn assert_balanced(script: &str) {
    #[derive(PartialEq)]
    enum State {
        Code,
        Single,
        Double,
        Block,
    }
    let mut state = State::Code;
    let mut depth = [0i32; 3];
    let mut chars = script.chars().peekable();
    while let Some(c) = chars.next() {
        match state {
            State::Block => {
                if c == '#' && chars.peek() == Some(&'>') {
                    chars.next();
                    state = State::Code;
                }
            }
            State::Single => {
                if c == '\'' {
                    if chars.peek() == Some(&'\'') {
                        chars.next();
                    } else {
                        state = State::Code;
                    }
                }
            }
            State::Double => match c {
                '`' => {
                    chars.next();
                }
                '"' => state = State::Code,
                _ => {}
            },
            State::Code => match c {
                '<' if chars.peek() == Some(&'#') => {
                    chars.next();
                    state = State::Block;
                }
                '#' => {
                    for rest in chars.by_ref() {
                        if rest == '\n' {
                            break;
                        }
                    }
                }
                '\'' => state = State::Single,
                '"' => state = State::Double,
                '(' => depth[0] += 1,
                ')' => depth[0] -= 1,
                '{' => depth[1] += 1,
                '}' => depth[1] -= 1,
                '[' => depth[2] += 1,
                ']' => depth[2] -= 1,
                _ => {}
            },
        }
    }
    assert_eq!(
        depth,
        [0, 0, 0],
        "unbalanced ( {{ [ in the PowerShell installer"
    );
    assert!(state == State::Code, "an unterminated string or comment");
}

#[test]
fn an_app_without_windows_archives_gets_no_powershell_installer() {
    let mut release = manifest();
    release
        .artifacts
        .retain(|name, _| !name.contains("windows"));
    let err = keel_installer::powershell_installer(&release, "demo-app", None).unwrap_err();
    assert!(
        matches!(err, keel_installer::Error::NoArchives { .. }),
        "{err}"
    );
}

#[test]
fn notes_and_page_for_a_fixed_release() {
    let release = manifest();
    let changes = keel_changelog::Changes::group(&[
        keel_changelog::Commit {
            hash: "a".repeat(40),
            subject: "feat(db): keep notes per entry".into(),
            body: String::new(),
        },
        keel_changelog::Commit {
            hash: "b".repeat(40),
            subject: "Tidy up".into(),
            body: String::new(),
        },
    ]);
    let notes = keel_installer::release_notes(
        &release,
        Some(&key()),
        Some(&keel_installer::ChangesText::Commits(changes)),
    )
    .unwrap();
    insta::assert_snapshot!("notes_md", notes);
    let again = keel_installer::release_notes(
        &release,
        Some(&key()),
        Some(&keel_installer::ChangesText::Changelog(
            "### Added\n- export".into(),
        )),
    )
    .unwrap();
    assert!(again.starts_with("### Added\n- export\n"), "{again}");

    let page = keel_installer::download_page(&release, Some(&key())).unwrap();
    insta::assert_snapshot!("index_html", page);
    // Self-contained: nothing is loaded from elsewhere.
    for external in ["<script src", "<link", "@import", "url("] {
        assert!(!page.contains(external), "the page loads `{external}`");
    }
    // The description is escaped, not injected.
    assert!(page.contains("A demo &lt;app&gt; &amp; its &quot;tools&quot;"));
}

/// The text of the element with `id` in a serialised DOM.
fn element_text(dom: &str, id: &str) -> String {
    let start = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in the page"));
    let open = start + dom[start..].find('>').unwrap() + 1;
    let close = open + dom[open..].find("</").unwrap();
    dom[open..close].to_owned()
}

#[test]
fn the_page_puts_the_visitors_platform_first_in_a_real_browser() {
    let page = keel_installer::download_page(&manifest(), Some(&key())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("index.html");
    fs_err::write(&file, &page).unwrap();
    let url = format!("file://{}", file.display());
    let chromium = keel_test::Chromium::find();
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("download-page");
    fs_err::create_dir_all(&shots).unwrap();
    for (name, agent, detected, command, archive) in [
        (
            "linux",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36",
            "Install demo-app on Linux (x86_64)",
            "curl -LsSf https://github.com/keel-rs/demo/releases/download/v2.1.0/demo-app-installer.sh | sh",
            "demo-app-2.1.0-x86_64-unknown-linux-gnu.tar.gz",
        ),
        (
            "macos",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
            "Install demo-app on macOS",
            "curl -LsSf https://github.com/keel-rs/demo/releases/download/v2.1.0/demo-app-installer.sh | sh",
            "demo-app-2.1.0-aarch64-apple-darwin.tar.xz",
        ),
        (
            "windows",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36 Edg/156.0",
            "Install demo-app on Windows (x86_64)",
            "powershell -ExecutionPolicy Bypass -c \"irm https://github.com/keel-rs/demo/releases/download/v2.1.0/demo-app-installer.ps1 | iex\"",
            "demo-app-2.1.0-x86_64-pc-windows-msvc.zip",
        ),
    ] {
        let dom = chromium.dump_dom(&url, agent);
        assert_eq!(element_text(&dom, "detected"), detected, "{name}");
        assert_eq!(
            element_text(&dom, "recommended-command").replace("&quot;", "\""),
            command,
            "{name}"
        );
        assert!(
            dom.contains(&format!("Or download <a href=\"{archive}\">")),
            "{name}: the recommended archive is not {archive}"
        );
        assert!(
            !dom.contains("<section id=\"recommended\" hidden"),
            "{name}: still hidden"
        );
        let shot = shots.join(format!("{name}.png"));
        chromium.screenshot(&url, agent, &shot);
        eprintln!(
            "screenshot of the download page for {name}: {}",
            shot.display()
        );
    }
    // Without JavaScript the page still lists every command and archive.
    for text in [
        "demo-app-installer.sh | sh",
        "demo-app-installer.ps1 | iex",
        "keel install --from",
    ] {
        assert!(page.contains(text), "{text}");
    }
}
