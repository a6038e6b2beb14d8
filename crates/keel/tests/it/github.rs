//! `keel publish --to github:` and `keel notes` at the command line, against the local server
//! that stands in for GitHub's API.

use keel_test::github::{Fault, GithubServer};
use keel_test::{RunResult, TestWorkspace, run_command};

use crate::single;

const TOKEN: &str = "ghp_cli_token_never_printed";

/// A signed release of `app` 1.0.0 for two platforms (fake builds), tagged, from the
/// repository keel-rs/app on GitHub (its installers download from that release).
fn released() -> TestWorkspace {
    released_from(Some("https://github.com/keel-rs/app"))
}

/// The same release, from `repository`.
fn released_from(repository: Option<&str>) -> TestWorkspace {
    let ws = single("app", "1.0.0");
    if let Some(repository) = repository {
        let toml = ws.read("Cargo.toml");
        let with = format!("[package]\nrepository = \"{repository}\"\n");
        ws.write("Cargo.toml", &toml.replacen("[package]\n", &with, 1));
    }
    ws.write(
        "CHANGELOG.md",
        "# Changelog\n\n## [1.0.0] - 2024-05-01\n\n### Added\n- The first release.\n\n## [0.9.0]\n- old\n",
    );
    ws.commit("changelog");
    ws.keygen();
    ws.run(&[
        "release",
        "--quiet",
        "--builder",
        "fake",
        "--tag",
        "v1.0.0",
        "--target",
        "x86_64-unknown-linux-gnu",
        "--target",
        "x86_64-pc-windows-msvc",
        "--out",
        "dist",
        "--sign-key",
        "keys/release.key",
    ])
    .success();
    ws
}

fn publish(ws: &TestWorkspace, server: &GithubServer, token: &str, extra: &[&str]) -> RunResult {
    let mut args = vec!["publish", "dist", "--to", "github:keel-rs/app"];
    args.extend_from_slice(extra);
    run_command(
        ws.keel(args)
            .env("GITHUB_TOKEN", token)
            .env("KEEL_GITHUB_API_URL", server.api_url()),
    )
}

#[test]
fn publishing_to_github_uploads_every_file_then_publishes_with_the_notes() {
    let ws = released();
    let server = GithubServer::start(TOKEN);
    server.inject(Fault::UploadCut("app-installer.sh".into()));
    let result = publish(&ws, &server, TOKEN, &[]).success();
    assert!(
        result.stdout.contains("Published v1.0.0 to keel-rs/app"),
        "{}",
        result.stdout
    );
    assert!(
        result
            .stderr
            .contains("deleted the half-made upload of app-installer.sh"),
        "{}",
        result.stderr
    );
    {
        let state = server.state();
        let release = &state.releases[0];
        assert!(!release.draft && release.immutable);
        assert_eq!(release.name.as_deref(), Some("app 1.0.0"));
        let body = release.body.as_deref().unwrap();
        assert!(
            body.starts_with("### Added\n- The first release."),
            "{body}"
        );
        assert!(body.contains("## Check the download"), "{body}");
        let mut names: Vec<&str> = release.assets.iter().map(|a| a.name.as_str()).collect();
        names.sort_unstable();
        let mut expected: Vec<String> = fs_err::read_dir(ws.path("dist"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        expected.sort();
        assert_eq!(
            names, expected,
            "every file of the release, the manifest included"
        );
        for asset in &release.assets {
            assert_eq!(
                asset.data,
                fs_err::read(ws.path("dist").join(&asset.name)).unwrap()
            );
        }
    }
    let again = publish(&ws, &server, TOKEN, &[]).success();
    assert!(
        again.stdout.contains("with every file already"),
        "{}",
        again.stdout
    );
    for output in [&result.stdout, &result.stderr, &again.stdout, &again.stderr] {
        assert!(!output.contains(TOKEN), "the token was printed");
    }
}

#[test]
fn an_app_with_a_database_is_not_published_unrehearsed_unless_a_reason_is_given() {
    let ws = single("app", "1.0.0");
    let cargo = ws.read("Cargo.toml").replacen(
        "[package]\n",
        "[package]\nrepository = \"https://github.com/keel-rs/app\"\n",
        1,
    );
    ws.write(
        "Cargo.toml",
        &format!("{cargo}\n[package.metadata.keel.update]\nmigrate = [\"--db\", \"{{db}}\", \"migrate\"]\n"),
    );
    ws.commit("a database");
    ws.run(&[
        "release",
        "--quiet",
        "--builder",
        "fake",
        "--tag",
        "v1.0.0",
        "--out",
        "dist",
    ])
    .success();
    let server = GithubServer::start(TOKEN);
    let refused = publish(&ws, &server, TOKEN, &[]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("its update was not rehearsed successfully")
            && refused
                .stderr
                .contains("app keep(s) databases and the release has no keel-rehearsal.json")
            && refused.stderr.contains("hint: run `keel rehearse"),
        "{}",
        refused.stderr
    );
    assert!(
        server.state().releases.is_empty(),
        "a refused release was created"
    );
    // A failed rehearsal is refused too...
    crate::merge::rehearsal_report(&ws, "dist", "app", keel_schema::HOST_TARGET, false);
    let failed = publish(&ws, &server, TOKEN, &[]);
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert!(
        failed.stderr.contains(&format!(
            "the rehearsal of app 1.0.0 on {} failed at install: installed",
            keel_schema::HOST_TARGET
        )),
        "{}",
        failed.stderr
    );
    // ...unless a reason is given, which goes into the notes (the failed report stays in the
    // release, for all to see).
    let blank = publish(&ws, &server, TOKEN, &["--no-rehearsal", " "]);
    assert_eq!(blank.code, 1);
    assert!(
        blank.stderr.contains("--no-rehearsal needs a reason"),
        "{}",
        blank.stderr
    );
    let reason = "the first release; nothing to update from";
    let published = publish(&ws, &server, TOKEN, &["--no-rehearsal", reason]).success();
    assert!(
        published.stderr.contains(&format!(
            "warning: publishing without a rehearsal: {reason}"
        )),
        "{}",
        published.stderr
    );
    let state = server.state();
    let body = state.releases[0].body.as_deref().unwrap();
    assert!(
        body.contains(&format!("## Not rehearsed\n\nThis release was published without a passing `keel rehearse`: {reason}")),
        "{body}"
    );
}

#[test]
fn a_refused_token_is_an_error_with_a_hint_and_nothing_is_created() {
    let ws = released();
    let server = GithubServer::start(TOKEN);
    let result = publish(&ws, &server, "ghp_expired_token", &[]);
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert!(
        result.stderr.starts_with("error: GitHub refused the token"),
        "{}",
        result.stderr
    );
    assert!(
        result.stderr.contains("hint: check that GITHUB_TOKEN"),
        "{}",
        result.stderr
    );
    assert!(!result.stderr.contains("ghp_expired_token"));
    assert!(server.state().releases.is_empty());
    // Without any token.
    let none = run_command(
        ws.keel(["publish", "dist", "--to", "github:keel-rs/app"])
            .env("KEEL_GITHUB_API_URL", server.api_url()),
    );
    assert_eq!(none.code, 1);
    assert!(none.stderr.contains("no GitHub token"), "{}", none.stderr);
}

#[test]
fn a_dry_run_shows_the_requests_and_changes_nothing() {
    let ws = released();
    let server = GithubServer::start(TOKEN);
    let result = publish(&ws, &server, TOKEN, &["--dry-run"]).success();
    assert!(
        result.stdout.starts_with("Would publish v1.0.0"),
        "{}",
        result.stdout
    );
    assert!(
        result
            .stdout
            .contains("POST /repos/keel-rs/app/releases (a draft for v1.0.0)"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("POST upload app-installer.ps1"),
        "{}",
        result.stdout
    );
    assert!(server.state().releases.is_empty());
}

#[test]
fn a_release_that_does_not_check_out_is_not_published() {
    let ws = released();
    let server = GithubServer::start(TOKEN);
    fs_err::write(
        ws.path("dist/app-installer.sh"),
        "#!/bin/sh\necho changed\n",
    )
    .unwrap();
    let result = publish(&ws, &server, TOKEN, &[]);
    assert_eq!(result.code, 1);
    assert!(
        result.stderr.contains("does not check out"),
        "{}",
        result.stderr
    );
    assert!(
        result.stderr.contains("app-installer.sh"),
        "{}",
        result.stderr
    );
    assert!(server.state().requests.is_empty(), "GitHub was contacted");
}

#[test]
fn installers_that_would_not_download_from_the_github_release_are_not_published_there() {
    let server = GithubServer::start(TOKEN);
    for (repository, expected) in [
        (None, "error: the release's installers know no download URL"),
        (
            Some("https://github.com/someone-else/app"),
            "error: the release's installers download from https://github.com/someone-else/app/releases/download/v1.0.0, not from",
        ),
    ] {
        let ws = released_from(repository);
        let refused = publish(&ws, &server, TOKEN, &[]).failure(1);
        assert!(refused.stderr.contains(expected), "{}", refused.stderr);
        assert!(
            refused
                .stderr
                .contains("(https://github.com/keel-rs/app/releases/download/v1.0.0)"),
            "{}",
            refused.stderr
        );
        assert!(
            refused.stderr.contains("hint: set `repository`"),
            "{}",
            refused.stderr
        );
    }
    assert!(server.state().requests.is_empty(), "GitHub was contacted");
}

#[test]
fn notes_and_a_publish_take_changes_only_from_the_releases_own_repository() {
    let ws = released();
    let other = single("other", "3.0.0");
    let dist = ws.path("dist");
    let dist = dist.to_str().unwrap();
    let server = GithubServer::start(TOKEN);
    let expected = "which the repository of";
    let notes = other.run(&["notes", dist]).failure(1);
    assert!(notes.stderr.contains(expected), "{}", notes.stderr);
    assert!(
        notes.stderr.contains("hint: run it in the checkout"),
        "{}",
        notes.stderr
    );
    let published = run_command(
        other
            .keel(["publish", dist, "--to", "github:keel-rs/app"])
            .env("GITHUB_TOKEN", TOKEN)
            .env("KEEL_GITHUB_API_URL", server.api_url()),
    )
    .failure(1);
    assert!(published.stderr.contains(expected), "{}", published.stderr);
    assert!(server.state().requests.is_empty(), "GitHub was contacted");
    // From the release's own checkout, the same notes are made.
    assert!(
        ws.run(&["notes", dist])
            .success()
            .stdout
            .contains("The first release.")
    );
}

#[test]
fn notes_come_from_the_changelog_or_from_the_commits() {
    // No repository: the notes install from the files beside them.
    let ws = released_from(None);
    let notes = ws.run(&["notes", "dist"]).success();
    assert!(
        notes.stdout.starts_with("### Added\n- The first release."),
        "{}",
        notes.stdout
    );
    assert!(!notes.stdout.contains("- old"), "{}", notes.stdout);
    assert!(
        notes.stdout.contains("sh app-installer.sh"),
        "{}",
        notes.stdout
    );
    assert!(
        notes
            .stdout
            .contains("minisign -Vm SHA256SUMS -p release.pub")
    );
    let keyed = ws
        .run(&["notes", "dist", "--public-key", "keys/release.pub"])
        .success();
    assert!(
        keyed.stdout.contains("minisign -Vm SHA256SUMS -P RW"),
        "{}",
        keyed.stdout
    );

    // Without a changelog section: the commits since the last tag, grouped.
    ws.write("CHANGELOG.md", "# Changelog\n");
    ws.write("src/extra.rs", "");
    ws.commit("feat(cli): add --json");
    ws.write("src/extra.rs", "// x\n");
    ws.commit("fix: keep totals");
    let json = ws.run(&["notes", "dist", "--format", "json"]).success();
    let notes: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(notes["changes"], "commits");
    assert_eq!(notes["tag"], "v1.0.0");
    let body = notes["body"].as_str().unwrap();
    assert!(
        body.contains("### Features\n\n- **cli:** add --json"),
        "{body}"
    );
    assert!(body.contains("### Bug fixes\n\n- keep totals"), "{body}");
    // The same inputs give the same notes.
    let again = ws.run(&["notes", "dist", "--format", "json"]).success();
    assert_eq!(again.stdout, json.stdout);
}
