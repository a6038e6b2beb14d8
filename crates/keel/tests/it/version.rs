//! `keel bump`, `keel changelog` and `keel release-pr` on real git repositories with
//! conventional-commit histories; the release pull request against the local GitHub server.

use std::process::Command;

use keel_test::github::GithubServer;
use keel_test::{
    COMMIT_EPOCH, RunResult, TestWorkspace, require_tool, run_command, run_ok, snapshot_dir,
};

use crate::keel_bin;

/// Runs git in the workspace as the tests' fixed author at the fixed date, so hashes repeat.
fn git(ws: &TestWorkspace, args: &[&str]) -> String {
    let output = run_ok(fixed(
        Command::new(require_tool("git"))
            .args(args)
            .current_dir(ws.root()),
    ));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn fixed(command: &mut Command) -> &mut Command {
    keel_test::fixed_git_identity(command)
}

/// `keel` with the fixed git identity and dates, and SOURCE_DATE_EPOCH for today's date.
fn keel(ws: &TestWorkspace, args: &[&str]) -> RunResult {
    let mut command = ws.keel(args);
    fixed(&mut command).env(
        "SOURCE_DATE_EPOCH",
        (COMMIT_EPOCH + 86_400 * 30).to_string(),
    );
    run_command(&mut command)
}

/// Writes a file and commits it with `message`.
fn change(ws: &TestWorkspace, file: &str, text: &str, message: &str) {
    ws.write(file, text);
    git(ws, &["add", "-A"]);
    git(ws, &["commit", "--quiet", "-m", message]);
}

fn json(result: &RunResult) -> serde_json::Value {
    serde_json::from_str(&result.stdout).unwrap()
}

/// `cargo metadata --locked` accepts the workspace: Cargo.lock agrees with every manifest.
fn assert_lock_agrees(ws: &TestWorkspace) {
    run_ok(
        Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(["metadata", "--locked", "--offline", "--format-version", "1"])
            .current_dir(ws.root()),
    );
}

fn single_app() -> TestWorkspace {
    let ws = TestWorkspace::new(keel_bin());
    ws.write(
        "Cargo.toml",
        "# The app.\n[package]\nname = \"app\"\nversion = \"0.1.0\" # set by keel bump\nedition = \"2021\"\nrepository = \"https://github.com/o/app\"\n\n[dependencies]\n",
    );
    ws.write("src/main.rs", "fn main() {}\n");
    ws.lock();
    ws.commit("initial");
    ws
}

#[test]
fn a_single_package_from_its_first_release_on() {
    let ws = single_app();
    change(
        &ws,
        "src/main.rs",
        "fn main() { export(); }\nfn export() {}\n",
        "feat: export to csv",
    );
    change(&ws, "README.md", "# app\n", "Update notes");

    // No tag yet: the first release is the version Cargo.toml has.
    let plan = json(&keel(&ws, &["bump", "--dry-run", "--format", "json"]).success());
    let app = &plan["packages"][0];
    assert_eq!(
        (app["old"].as_str(), app["new"].as_str()),
        (Some("0.1.0"), Some("0.1.0"))
    );
    assert_eq!(app["changed"], false);
    assert_eq!(app["tag"], "v0.1.0");
    let unparsed: Vec<&str> = app["unparsed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["subject"].as_str().unwrap())
        .collect();
    assert_eq!(unparsed, ["initial", "Update notes"]);
    assert!(
        !ws.path("CHANGELOG.md").exists(),
        "a dry run writes nothing"
    );

    let first = keel(&ws, &["bump", "--commit", "--tag"]).success();
    assert!(
        first
            .stdout
            .contains("not in the conventional form, so it counts for nothing"),
        "{}",
        first.stdout
    );
    assert_eq!(git(&ws, &["tag", "--points-at", "HEAD"]), "v0.1.0");
    assert_eq!(
        git(&ws, &["log", "-1", "--format=%s"]),
        "chore(release): v0.1.0"
    );
    assert_eq!(git(&ws, &["status", "--porcelain"]), "");

    change(
        &ws,
        "src/main.rs",
        "fn main() { export(); }\nfn export() { let _ = \",\"; }\n",
        "fix(export): quote commas",
    );
    change(
        &ws,
        "src/main.rs",
        "fn main() { export(); }\nfn export() {}\n",
        "feat: write the second format\n\nBREAKING CHANGE: the first format is gone",
    );
    change(&ws, "docs/guide.md", "guide\n", "docs: a guide");

    // Below 1.0.0 a breaking change bumps the minor.
    let bumped = keel(&ws, &["bump"]).success();
    assert!(
        bumped
            .stdout
            .contains("app 0.1.0 → 0.2.0: `feat: write the second format`"),
        "{}",
        bumped.stdout
    );
    insta::assert_snapshot!("bump_single_manifest", ws.read("Cargo.toml"));
    insta::assert_snapshot!("bump_single_changelog", ws.read("CHANGELOG.md"));
    assert!(
        ws.read("Cargo.lock")
            .contains("name = \"app\"\nversion = \"0.2.0\"")
    );
    assert_lock_agrees(&ws);

    // Again: the version is bumped already and not released, so nothing moves.
    let before = snapshot_dir(ws.root());
    let again = json(&keel(&ws, &["bump", "--format", "json"]).success());
    assert_eq!(again["packages"][0]["new"], "0.2.0");
    assert_eq!(again["packages"][0]["changed"], false);
    assert_eq!(snapshot_dir(ws.root()), before);
    // The changelog is idempotent, and --check agrees.
    keel(&ws, &["changelog"]).success();
    assert_eq!(snapshot_dir(ws.root()), before);
    keel(&ws, &["changelog", "--check"]).success();

    // Hand edits to a released version's section are kept; --check sees drift elsewhere.
    let edited = ws
        .read("CHANGELOG.md")
        .replace("- export to csv", "- Export to CSV, by hand");
    ws.write("CHANGELOG.md", &edited);
    keel(&ws, &["changelog"]).success();
    assert_eq!(ws.read("CHANGELOG.md"), edited);
    ws.write("CHANGELOG.md", &edited.replace("### Fixed", "### Fixes"));
    let drift = keel(&ws, &["changelog", "--check"]).failure(1);
    assert!(
        drift.stdout.contains("-### Fixes") && drift.stdout.contains("+### Fixed"),
        "{}",
        drift.stdout
    );
    assert!(
        drift.stderr.contains("error: CHANGELOG.md out of date"),
        "{}",
        drift.stderr
    );
}

#[test]
fn a_workspace_with_inherited_versions_internal_dependencies_and_a_merge() {
    let ws = TestWorkspace::new(keel_bin());
    ws.write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n\n[workspace.package]\nversion = \"1.2.0\"   # app and core\nedition = \"2021\"\nrepository = \"https://gitlab.com/o/ws\"\n\n[workspace.dependencies]\ncore = { path = \"crates/core\", version = \"1.2.0\" }\n",
    );
    ws.write(
        "crates/app/Cargo.toml",
        "[package]\nname = \"app\"\nversion.workspace = true\nedition.workspace = true\nrepository.workspace = true\n\n[dependencies]\ncore.workspace = true\nfmt = { path = \"../fmt\", version = \"=0.4.0\" } # pinned\n",
    );
    ws.write(
        "crates/app/src/main.rs",
        "fn main() { core::run(); fmt::show(); }\n",
    );
    ws.write(
        "crates/core/Cargo.toml",
        "[package]\nname = \"core\"\nversion.workspace = true\nedition.workspace = true\nrepository.workspace = true\n",
    );
    ws.write("crates/core/src/lib.rs", "pub fn run() {}\n");
    ws.write(
        "crates/fmt/Cargo.toml",
        "[package]\nname = \"fmt\"\nversion = \"0.4.0\"\nedition = \"2021\"\nrepository = \"https://gitlab.com/o/ws\"\n",
    );
    ws.write("crates/fmt/src/lib.rs", "pub fn show() {}\n");
    ws.write(
        "crates/tool/Cargo.toml",
        "[package]\nname = \"tool\"\nversion = \"0.3.0\"\nedition = \"2021\"\n",
    );
    ws.write("crates/tool/src/main.rs", "fn main() {}\n");
    ws.lock();
    ws.commit("feat: the first release");
    for tag in ["v1.2.0", "fmt-v0.4.0", "tool-v0.3.0"] {
        git(&ws, &["tag", "--annotate", tag, "-m", tag]);
    }

    // A feature branch for core, merged; a fix to fmt on main; a change outside every package.
    git(&ws, &["checkout", "--quiet", "-b", "totals"]);
    change(
        &ws,
        "crates/core/src/lib.rs",
        "pub fn run() {}\npub fn total() {}\n",
        "feat(core): totals",
    );
    git(&ws, &["checkout", "--quiet", "main"]);
    change(
        &ws,
        "crates/fmt/src/lib.rs",
        "pub fn show() { round(); }\nfn round() {}\n",
        "fix(fmt): round half up",
    );
    git(
        &ws,
        &[
            "merge",
            "--quiet",
            "--no-ff",
            "totals",
            "-m",
            "Merge branch 'totals'",
        ],
    );
    change(&ws, "NOTES.md", "notes\n", "docs: notes");

    let plan = json(&keel(&ws, &["bump", "--dry-run", "--format", "json"]).success());
    let versions: Vec<(String, String, String)> = plan["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["old"].as_str().unwrap().to_owned(),
                p["new"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("app", "1.2.0", "1.3.0"),
        ("core", "1.2.0", "1.3.0"),
        ("fmt", "0.4.0", "0.4.1"),
        ("tool", "0.3.0", "0.3.0"),
    ];
    assert_eq!(
        versions,
        expected.map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
    );
    assert_eq!(plan["tags"], serde_json::json!(["fmt-v0.4.1", "v1.3.0"]));
    assert_eq!(
        plan["packages"][3]["why"],
        "no commit since tool-v0.3.0 touches it"
    );
    assert!(
        plan["packages"][0]["why"]
            .as_str()
            .unwrap()
            .contains("feat(core): totals")
    );
    // The merge commit itself counts for nothing and is not listed as unparsed.
    assert_eq!(plan["packages"][0]["unparsed"], serde_json::json!([]));

    let tool_before = ws.read("crates/tool/Cargo.toml");
    keel(&ws, &["bump", "--commit", "--tag"]).success();
    assert_eq!(
        git(&ws, &["tag", "--points-at", "HEAD"]),
        "fmt-v0.4.1\nv1.3.0"
    );
    assert_eq!(
        git(&ws, &["log", "-1", "--format=%s"]),
        "chore(release): fmt-v0.4.1, v1.3.0"
    );
    insta::assert_snapshot!("bump_workspace_root_manifest", ws.read("Cargo.toml"));
    insta::assert_snapshot!(
        "bump_workspace_app_manifest",
        ws.read("crates/app/Cargo.toml")
    );
    insta::assert_snapshot!("bump_workspace_lock", ws.read("Cargo.lock"));
    insta::assert_snapshot!(
        "bump_workspace_core_changelog",
        ws.read("crates/core/CHANGELOG.md")
    );
    insta::assert_snapshot!(
        "bump_workspace_fmt_changelog",
        ws.read("crates/fmt/CHANGELOG.md")
    );
    assert_eq!(ws.read("crates/tool/Cargo.toml"), tool_before);
    assert!(
        !ws.path("crates/tool/CHANGELOG.md").exists(),
        "tool is not released"
    );
    assert_lock_agrees(&ws);

    // One package of the workspace alone.
    change(
        &ws,
        "crates/tool/src/main.rs",
        "fn main() { println!(); }\n",
        "feat: print",
    );
    let tool = json(&keel(&ws, &["bump", "--package", "tool", "--format", "json"]).success());
    assert_eq!(tool["tags"], serde_json::json!(["tool-v0.4.0"]));
    assert_eq!(tool["packages"].as_array().unwrap().len(), 1);
    assert!(
        ws.read("crates/tool/Cargo.toml")
            .contains("version = \"0.4.0\"")
    );
    assert!(ws.read("Cargo.toml").contains("version = \"1.3.0\""));
    assert_lock_agrees(&ws);
}

#[test]
fn a_prerelease_cycle_alpha_beta_rc_release() {
    let ws = single_app();
    let manifest = ws.read("Cargo.toml").replace("0.1.0", "1.2.0");
    change(&ws, "Cargo.toml", &manifest, "chore: 1.2.0");
    ws.lock();
    change(&ws, "Cargo.lock", &ws.read("Cargo.lock"), "chore: lock");
    git(&ws, &["tag", "--annotate", "v1.2.0", "-m", "v1.2.0"]);

    change(
        &ws,
        "src/main.rs",
        "fn main() { a(); }\nfn a() {}\n",
        "feat: accounts",
    );
    let step = |what: &str, expected: &str| {
        let result = json(
            &keel(
                &ws,
                &["bump", what, "--commit", "--tag", "--format", "json"],
            )
            .success(),
        );
        assert_eq!(result["packages"][0]["new"], expected, "{what}");
        assert_eq!(
            result["tagged"],
            serde_json::json!([format!("v{expected}")])
        );
    };
    step("alpha", "1.3.0-alpha.1");
    change(
        &ws,
        "src/main.rs",
        "fn main() { a(); }\nfn a() { let _ = 1; }\n",
        "fix: accounts open",
    );
    step("alpha", "1.3.0-alpha.2");
    step("beta", "1.3.0-beta.1");
    step("rc", "1.3.0-rc.1");

    // Backwards, and a level on a pre-release, are refused and change nothing.
    let before = snapshot_dir(ws.root());
    let back = keel(&ws, &["bump", "alpha"]).failure(1);
    assert!(
        back.stderr
            .contains("error: cannot bump app: 1.3.0-alpha.1 is not after 1.3.0-rc.1"),
        "{}",
        back.stderr
    );
    let level = keel(&ws, &["bump", "patch"]).failure(1);
    assert!(
        level.stderr.contains("is a pre-release"),
        "{}",
        level.stderr
    );
    assert!(level.stderr.contains("hint: "), "{}", level.stderr);
    assert_eq!(snapshot_dir(ws.root()), before);

    step("release", "1.3.0");
    insta::assert_snapshot!("bump_prerelease_changelog", ws.read("CHANGELOG.md"));
    assert_lock_agrees(&ws);
    // The release notes read the section bump wrote.
    let notes = ws.read("CHANGELOG.md");
    assert!(notes.contains("## [1.3.0] - "));
}

#[test]
fn bad_requests_and_dirty_trees_are_refused() {
    let ws = single_app();
    let before = snapshot_dir(ws.root());
    let bad = keel(&ws, &["bump", "sideways"]).failure(1);
    assert!(
        bad.stderr
            .contains("error: `sideways` is not major, minor, patch"),
        "{}",
        bad.stderr
    );
    let unknown = keel(&ws, &["bump", "--package", "nope"]).failure(1);
    assert!(
        unknown
            .stderr
            .contains("`nope` is not a package keel versions here (released packages: app)"),
        "{}",
        unknown.stderr
    );
    let release = keel(&ws, &["bump", "release"]).failure(1);
    assert!(
        release.stderr.contains("0.1.0 is not a pre-release"),
        "{}",
        release.stderr
    );
    assert_eq!(snapshot_dir(ws.root()), before);

    ws.write("src/main.rs", "fn main() { /* unsaved work */ }\n");
    let dirty = keel(&ws, &["bump", "minor", "--commit"]).failure(1);
    assert!(
        dirty
            .stderr
            .contains("--commit and --tag need a clean checkout"),
        "{}",
        dirty.stderr
    );
    assert!(dirty.stderr.contains("src/main.rs"), "{}", dirty.stderr);
    assert_eq!(ws.read("src/main.rs"), "fn main() { /* unsaved work */ }\n");
    assert!(ws.read("Cargo.toml").contains("version = \"0.1.0\""));
}

/// The app released as v0.1.0 with a feature committed since, and the GitHub stand-in
/// (accepting `token`) holding its repository as `o/app`.
fn released_feature(token: &str) -> (GithubServer, TestWorkspace) {
    let server = GithubServer::start(token);
    let ws = single_app();
    git(&ws, &["tag", "--annotate", "v0.1.0", "-m", "v0.1.0"]);
    change(
        &ws,
        "src/main.rs",
        "fn main() { e(); }\nfn e() {}\n",
        "feat: export",
    );
    server.create_repo("o/app", ws.root());
    (server, ws)
}

#[test]
fn the_release_pull_request_is_opened_once_and_updated_in_place() {
    const TOKEN: &str = "ghp_release_pr_token_never_shown";
    let (server, ws) = released_feature(TOKEN);
    let head = git(&ws, &["rev-parse", "HEAD"]);

    let pr = |extra: &[&str]| {
        let mut args = vec!["release-pr", "--to", "github:o/app", "--format", "json"];
        args.extend_from_slice(extra);
        let mut command = ws.keel(&args);
        fixed(&mut command)
            .env("SOURCE_DATE_EPOCH", COMMIT_EPOCH.to_string())
            .env("KEEL_GITHUB_API_URL", server.api_url())
            .env("GITHUB_TOKEN", TOKEN);
        let result = run_command(&mut command);
        assert!(!result.stdout.contains(TOKEN) && !result.stderr.contains(TOKEN));
        result
    };
    let first = json(&pr(&[]).success());
    assert_eq!(first["pull_request"]["created"], true);
    assert_eq!(first["title"], "chore(release): v0.2.0");
    // The checkout is as it was; the branch on the server has the bump.
    assert_eq!(git(&ws, &["rev-parse", "HEAD"]), head);
    assert_eq!(git(&ws, &["status", "--porcelain"]), "");
    assert!(ws.read("Cargo.toml").contains("version = \"0.1.0\""));
    let bare = server.git_root.join("o/app.git");
    let pushed = |path: &str| {
        String::from_utf8(
            run_ok(
                Command::new("git")
                    .args(["show", &format!("keel/release:{path}")])
                    .current_dir(&bare),
            )
            .stdout,
        )
        .unwrap()
    };
    assert!(pushed("Cargo.toml").contains("version = \"0.2.0\" # set by keel bump"));
    assert!(pushed("CHANGELOG.md").contains("## [0.2.0] - 2024-05-01"));
    {
        let state = server.state();
        assert_eq!(state.pulls.len(), 1);
        assert_eq!(
            (state.pulls[0].head.as_str(), state.pulls[0].base.as_str()),
            ("keel/release", "main")
        );
        assert!(
            state.pulls[0].body.contains("| app | 0.1.0 → 0.2.0 |"),
            "{}",
            state.pulls[0].body
        );
        assert!(
            state.pulls[0].body.contains("- export"),
            "{}",
            state.pulls[0].body
        );
        // Every git request carried the token in a Basic header; no URL did.
        assert!(!state.git_authorizations.is_empty());
        assert!(state.requests.iter().all(|r| !r.contains(TOKEN)));
    }

    // Another change: the same pull request is updated, not a second opened.
    change(
        &ws,
        "src/main.rs",
        "fn main() { e(); }\nfn e() {}\nfn f() {}\n",
        "feat!: a new file format",
    );
    let second = json(&pr(&[]).success());
    assert_eq!(second["pull_request"]["created"], false);
    assert_eq!(second["pull_request"]["updated"], true);
    assert_eq!(
        second["pull_request"]["number"],
        first["pull_request"]["number"]
    );
    {
        let state = server.state();
        assert_eq!(state.pulls.len(), 1);
        assert_eq!(state.pulls[0].title, "chore(release): v0.2.0");
        assert!(state.pulls[0].body.contains("a new file format"));
    }
    assert!(pushed("CHANGELOG.md").contains("a new file format"));
    // Nothing new: nothing changes.
    let third = json(&pr(&[]).success());
    assert_eq!(third["pull_request"]["updated"], false);
    assert_eq!(server.state().pulls.len(), 1);

    // A wrong token: the push is refused, with no secret in the message.
    let mut command = ws.keel(["release-pr", "--to", "github:o/app"]);
    fixed(&mut command)
        .env("KEEL_GITHUB_API_URL", server.api_url())
        .env("GITHUB_TOKEN", "ghp_wrong_secret_value");
    let refused = run_command(&mut command).failure(1);
    assert!(
        refused
            .stderr
            .contains("error: could not push the branch keel/release"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains("ghp_wrong_secret_value"));
    assert!(refused.stderr.contains("hint: "), "{}", refused.stderr);
}

#[test]
fn the_token_goes_to_githubs_git_host_only_and_the_base_branch_is_never_force_pushed() {
    const TOKEN: &str = "ghp_scoped_token_never_elsewhere";
    let (server, ws) = released_feature(TOKEN);
    let bare = server.git_root.join("o/app.git");
    let main_before = run_ok(
        Command::new("git")
            .args(["rev-parse", "refs/heads/main"])
            .current_dir(&bare),
    )
    .stdout;
    // Another host (another port is another origin): it records whatever reaches it.
    let elsewhere = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    elsewhere.set_nonblocking(true).unwrap();
    let remote = format!("http://{}/o/app.git", elsewhere.local_addr().unwrap());
    let pr = |extra: &[&str]| {
        let mut args = vec!["release-pr", "--to", "github:o/app"];
        args.extend_from_slice(extra);
        let mut command = ws.keel(&args);
        fixed(&mut command)
            .env("SOURCE_DATE_EPOCH", COMMIT_EPOCH.to_string())
            .env("KEEL_GITHUB_API_URL", server.api_url())
            .env("GITHUB_TOKEN", TOKEN)
            // A push that reached the other host would wait for its answer: not for long.
            .env("GIT_HTTP_LOW_SPEED_LIMIT", "1")
            .env("GIT_HTTP_LOW_SPEED_TIME", "3");
        run_command(&mut command).failure(1)
    };
    let refused = pr(&["--remote", &remote]);
    assert!(
        refused.stderr.contains(&format!(
            "error: the remote {remote} is not on http://127.0.0.1:"
        )),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("hint: "), "{}", refused.stderr);
    assert!(
        elsewhere.accept().is_err(),
        "a connection reached the other host"
    );
    let refused = pr(&["--branch", "main"]);
    assert!(
        refused
            .stderr
            .contains("error: the release branch main is the branch the pull request merges into"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("hint: pass another --branch"),
        "{}",
        refused.stderr
    );
    let state = server.state();
    assert!(state.git_authorizations.is_empty(), "git was reached");
    assert!(state.pulls.is_empty());
    let main_after = run_ok(
        Command::new("git")
            .args(["rev-parse", "refs/heads/main"])
            .current_dir(&bare),
    )
    .stdout;
    assert_eq!(main_after, main_before, "the base branch changed");
}

#[test]
fn one_changelog_for_the_workspace_names_each_entrys_packages_with_a_template() {
    let ws = TestWorkspace::new(keel_bin());
    ws.write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n\n[workspace.package]\nversion = \"2.0.0\"\nedition = \"2021\"\n\n[workspace.metadata.keel.changelog]\nlayout = \"workspace\"\ntemplate = \"section.md.j2\"\n",
    );
    for name in ["api", "cli"] {
        ws.write(
            &format!("crates/{name}/Cargo.toml"),
            &format!(
                "[package]\nname = \"{name}\"\nversion.workspace = true\nedition.workspace = true\n"
            ),
        );
        ws.write(&format!("crates/{name}/src/main.rs"), "fn main() {}\n");
    }
    ws.write(
        "section.md.j2",
        "## {{ label }}{% if date %} ({{ date }}){% endif %}\n{% for g in groups %}{% for e in g.entries %}- {{ g.title }}: {{ e.text }} [{{ e.packages | join('+') }}]\n{% endfor %}{% endfor %}",
    );
    ws.lock();
    ws.commit("feat: both");
    git(&ws, &["tag", "--annotate", "v2.0.0", "-m", "v2.0.0"]);
    change(
        &ws,
        "crates/api/src/main.rs",
        "fn main() { let _ = 1; }\n",
        "fix: api only",
    );
    ws.write("crates/cli/src/main.rs", "fn main() { let _ = 2; }\n");
    change(
        &ws,
        "crates/api/src/main.rs",
        "fn main() { let _ = 2; }\n",
        "perf: both faster",
    );

    keel(&ws, &["changelog"]).success();
    let text = ws.read("CHANGELOG.md");
    assert!(!ws.path("crates/api/CHANGELOG.md").exists());
    assert!(
        text.contains(
            "## Unreleased\n- Fixed: api only [api]\n- Performance: both faster [api+cli]\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("## 2.0.0 (2024-05-01)\n- Added: both [api+cli]\n"),
        "{text}"
    );
    keel(&ws, &["changelog", "--check"]).success();

    // The bump writes the version's section there, and the notes of a release read it.
    keel(&ws, &["bump", "--commit", "--tag"]).success();
    let text = ws.read("CHANGELOG.md");
    assert!(
        text.contains(
            "## 2.0.1 (2024-05-31)\n- Fixed: api only [api]\n- Performance: both faster [api+cli]\n"
        ),
        "{text}"
    );
    assert!(text.contains("## Unreleased\n\n## 2.0.1"), "{text}");
    keel(
        &ws,
        &[
            "release",
            "--quiet",
            "--builder",
            "fake",
            "--tag",
            "--out",
            "dist",
        ],
    )
    .success();
    let notes = keel(&ws, &["notes", "dist"]).success();
    assert!(
        notes.stdout.contains("- Fixed: api only [api]"),
        "{}",
        notes.stdout
    );

    // A template that does not render is an error that names it, and nothing changes.
    ws.write("section.md.j2", "{% for %}");
    let before = snapshot_dir(ws.root());
    let bad = keel(&ws, &["changelog"]).failure(1);
    assert!(
        bad.stderr
            .contains("error: the changelog template does not render"),
        "{}",
        bad.stderr
    );
    assert_eq!(snapshot_dir(ws.root()), before);
}

#[test]
fn a_source_date_epoch_that_is_not_a_number_stops_a_bump_as_it_stops_a_release() {
    let ws = single_app();
    change(
        &ws,
        "src/main.rs",
        "fn main() { run(); }\nfn run() {}\n",
        "feat: run",
    );
    let before = ws.read("Cargo.toml");
    let mut command = ws.keel(["bump", "minor"]);
    fixed(&mut command).env("SOURCE_DATE_EPOCH", "yesterday");
    let result = run_command(&mut command);
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert!(
        result
            .stderr
            .starts_with("error: SOURCE_DATE_EPOCH is `yesterday`, not a number of seconds"),
        "{}",
        result.stderr
    );
    assert!(
        result.stderr.contains("hint: set SOURCE_DATE_EPOCH"),
        "{}",
        result.stderr
    );
    assert_eq!(
        ws.read("Cargo.toml"),
        before,
        "a refused bump changed Cargo.toml"
    );
    assert!(!ws.path("CHANGELOG.md").exists());
}
