//! The documentation runs as tests: each command block of `docs/` marked `<!-- test: NAME -->`
//! is run for real by a test (the install and upgrade ones by the ledger's update test, the
//! releasing ones here); the README's marked blocks (the five-minute tour, "Your own project")
//! by `scripts/walkthrough.sh`; every shell block of the README and of every guide passes
//! `bash -n` and `shellcheck`. The README stays short, and every relative link of the README,
//! the guides, ARCHITECTURE.md and CONTRIBUTING.md points to a file and heading that exist.

use std::path::{Path, PathBuf};
use std::process::Command;

use keel_test::{RunResult, require_tool, run_command};

/// Every block a test runs, by guide; a marker in the guides that is not here fails
/// `every_marked_block_is_run_by_a_test`.
const RUN: &[(&str, &[&str])] = &[
    ("install.md", &["install-from-store", "install-by-hand"]),
    (
        "upgrade.md",
        &[
            "update-dry-run",
            "update",
            "update-pinned",
            "doctor",
            "rollback",
            "recover",
        ],
    ),
    (
        "releasing.md",
        &[
            "setup",
            "store-init",
            "release",
            "rehearse-first",
            "publish",
            "refresh",
        ],
    ),
];

/// Every guide in `docs/`, by file name.
const GUIDES: &[&str] = &[
    "ci.md",
    "commands.md",
    "containers.md",
    "delivering.md",
    "embedding.md",
    "images.md",
    "install.md",
    "release-format.md",
    "releasing.md",
    "security.md",
    "settings.md",
    "store.md",
    "upgrade.md",
    "versions.md",
];

/// The README's marked blocks, which `scripts/walkthrough.sh` runs.
const README_RUN: &[&str] = &[
    "tour-release",
    "tour-publish",
    "tour-install",
    "tour-update",
    "own-project",
];

/// The README's most lines: the path a newcomer reads stays short, the reference is in `docs/`.
const README_MAX_LINES: usize = 250;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn docs() -> PathBuf {
    repo().join("docs")
}

/// The shell blocks of a guide: `(marker, code)`.
fn blocks(guide: &str) -> Vec<(Option<String>, String)> {
    markdown_blocks(&docs().join(guide))
}

/// The shell blocks of a Markdown file: `(marker, code)`.
fn markdown_blocks(file: &Path) -> Vec<(Option<String>, String)> {
    let text = fs_err::read_to_string(file).unwrap();
    let mut found = Vec::new();
    let mut marker = None;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(name) = line
            .strip_prefix("<!-- test: ")
            .and_then(|rest| rest.strip_suffix(" -->"))
        {
            marker = Some(name.to_owned());
        } else if line == "```sh" {
            let code: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
            found.push((marker.take(), code.join("\n") + "\n"));
        } else if !line.trim().is_empty() {
            marker = None;
        }
    }
    found
}

/// The block of `guide` marked `name`.
pub fn block(guide: &str, name: &str) -> String {
    assert!(
        RUN.iter()
            .any(|(g, names)| *g == guide && names.contains(&name)),
        "{guide}: `{name}` is not listed in RUN"
    );
    blocks(guide)
        .into_iter()
        .find(|(marker, _)| marker.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("docs/{guide} has no block marked `{name}`"))
        .1
}

/// Runs the block of `guide` marked `name` with bash (`-eu`, `pipefail`) in `dir`, with `vars`
/// set and this build's keel first on PATH.
pub fn run(guide: &str, name: &str, dir: &Path, vars: &[(&str, &str)]) -> RunResult {
    let keel_dir = Path::new(crate::keel_bin()).parent().unwrap();
    let path = format!(
        "{}:{}",
        keel_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut bash = Command::new(require_tool("bash"));
    bash.args(["-euo", "pipefail", "-c", &block(guide, name)])
        .current_dir(dir)
        .env("PATH", path);
    // The same isolation as a keel run in the workspace: none of the test's own settings.
    for (key, _) in std::env::vars_os() {
        let text = key.to_string_lossy();
        if text.starts_with("KEEL_")
            || text.starts_with("GITHUB_")
            || [
                "SOURCE_DATE_EPOCH",
                "NO_COLOR",
                "CARGO_TARGET_DIR",
                "CARGO_BUILD_TARGET",
            ]
            .contains(&text.as_ref())
        {
            bash.env_remove(&key);
        }
    }
    bash.envs(vars.iter().copied());
    run_command(&mut bash)
}

#[test]
fn every_marked_block_is_run_by_a_test() {
    let mut guides: Vec<String> = fs_err::read_dir(docs())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".md"))
        .collect();
    guides.sort();
    assert_eq!(guides, GUIDES, "the guides in docs/ (and GUIDES)");
    for guide in &guides {
        let marked: Vec<String> = blocks(guide).into_iter().filter_map(|(m, _)| m).collect();
        let run: Vec<String> = RUN
            .iter()
            .filter(|(g, _)| g == guide)
            .flat_map(|(_, names)| names.iter().map(|n| n.to_string()))
            .collect();
        assert_eq!(
            marked, run,
            "docs/{guide}: the marked blocks and the ones tests run"
        );
    }
}

#[test]
fn every_shell_block_of_the_guides_is_valid_bash_that_shellcheck_accepts() {
    let shellcheck = require_tool("shellcheck");
    let dir = tempfile::tempdir().unwrap();
    let files = GUIDES
        .iter()
        .map(|guide| format!("docs/{guide}"))
        .chain(["README.md".to_owned()]);
    let mut checked = 0;
    for name in files {
        let blocks = markdown_blocks(&repo().join(&name));
        checked += blocks.len();
        for (index, (_, code)) in blocks.iter().enumerate() {
            let file = dir
                .path()
                .join(format!("{}-{index}.sh", name.replace('/', "-")));
            // The blocks read variables an earlier block sets (SC2154), which sets them for
            // the later ones (SC2034): shellcheck is told so.
            fs_err::write(
                &file,
                format!("#!/bin/bash\n# shellcheck disable=SC2154,SC2034\n{code}"),
            )
            .unwrap();
            let syntax = run_command(Command::new(require_tool("bash")).arg("-n").arg(&file));
            assert_eq!(
                syntax.code, 0,
                "{name} block {index}: {}\n{code}",
                syntax.stderr
            );
            let lint = run_command(Command::new(&shellcheck).arg(&file));
            assert_eq!(lint.code, 0, "{name} block {index}:\n{}{code}", lint.stdout);
        }
    }
    assert!(checked > 0, "no shell block found");
}

#[test]
fn the_readme_is_at_most_250_lines() {
    let readme = fs_err::read_to_string(repo().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= README_MAX_LINES,
        "README.md has {lines} lines, more than {README_MAX_LINES}: move reference material to docs/"
    );
}

#[test]
fn the_readmes_marked_blocks_are_the_ones_the_walkthrough_runs() {
    let marked: Vec<String> = markdown_blocks(&repo().join("README.md"))
        .into_iter()
        .filter_map(|(m, _)| m)
        .collect();
    assert_eq!(marked, README_RUN, "README.md: the marked blocks");
    let walkthrough = fs_err::read_to_string(repo().join("scripts/walkthrough.sh")).unwrap();
    for name in README_RUN {
        assert!(
            walkthrough
                .lines()
                .any(|line| line.starts_with("run_readme ")
                    && line.split_whitespace().any(|word| word == *name)),
            "scripts/walkthrough.sh does not run the README's block `{name}`"
        );
    }
}

/// The anchors GitHub gives the headings of a Markdown file: lowercase, spaces to `-`, other
/// punctuation than `-` and `_` dropped, and `-1`, `-2`, ... after a repeated one.
fn anchors(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        let Some(heading) = line.strip_prefix('#') else {
            continue;
        };
        if fenced {
            continue;
        }
        let title = heading.trim_start_matches('#');
        if !title.starts_with(' ') {
            continue;
        }
        let anchor: String = title
            .trim()
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                '-' | '_' => Some(c),
                c if c.is_alphanumeric() => Some(c),
                _ => None,
            })
            .collect();
        let repeats = seen.entry(anchor.clone()).or_insert(0);
        *repeats += 1;
        let repeats = *repeats - 1;
        found.push(if repeats == 0 {
            anchor
        } else {
            format!("{anchor}-{repeats}")
        });
    }
    found
}

/// The targets of the Markdown links of a file, `](target)`, outside code blocks and spans.
fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Code spans hold examples, not links.
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let mut rest = prose.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            let end = rest.find(')').unwrap_or(rest.len());
            found.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    found
}

#[test]
fn every_relative_link_of_the_documentation_points_to_a_file_and_heading_that_exist() {
    let files = ["README.md", "ARCHITECTURE.md", "CONTRIBUTING.md"]
        .iter()
        .map(|f| f.to_string())
        .chain(GUIDES.iter().map(|guide| format!("docs/{guide}")));
    let mut broken = Vec::new();
    let mut checked = 0;
    for name in files {
        let file = repo().join(&name);
        let text = fs_err::read_to_string(&file).unwrap();
        for link in links(&text) {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (path, anchor) = match link.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (link.as_str(), None),
            };
            let target = if path.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(path)
            };
            if !target.exists() {
                broken.push(format!("{name}: `{link}`: no such file"));
                continue;
            }
            if let Some(anchor) = anchor {
                let text = fs_err::read_to_string(&target).unwrap();
                if !anchors(&text).iter().any(|a| a == anchor) {
                    broken.push(format!("{name}: `{link}`: no such heading"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(checked > 0, "no relative link found");
}

#[test]
fn the_releasing_guide_takes_a_workspace_to_a_rehearsed_published_release() {
    let ws = crate::single("app", "1.0.0");
    assert!(
        ws.path("Cargo.lock").is_file(),
        "keel release builds with --locked"
    );
    let vars = [("KEEL_SIGNING_KEY_PASSWORD", "correct horse battery staple")];
    let step = |name: &str| {
        let result = run("releasing.md", name, ws.root(), &vars);
        assert_eq!(
            result.code, 0,
            "releasing.md `{name}`:\n{}{}",
            result.stdout, result.stderr
        );
        result
    };
    let setup = step("setup");
    assert!(
        setup.stdout.contains("Added [workspace.metadata.keel]"),
        "{}",
        setup.stdout
    );
    assert!(ws.path("keys/release.pub").is_file());
    step("store-init");
    assert!(ws.path("store/metadata/root.json").is_file());
    ws.commit("keel settings");
    step("release");
    let rehearsed = step("rehearse-first");
    assert!(
        rehearsed.stdout.contains("Passed app 1.0.0") && rehearsed.stdout.contains("(signed)"),
        "{}",
        rehearsed.stdout
    );
    let published = step("publish");
    assert!(
        published.stdout.contains("Published app-1.0.0-"),
        "{}",
        published.stdout
    );
    let refreshed = step("refresh");
    assert!(
        refreshed.stdout.contains("Re-signed"),
        "{}",
        refreshed.stdout
    );
    // What the guide made checks out, rehearsal report included.
    let verified = ws
        .run(&[
            "verify",
            "target/keel/dist",
            "--public-key",
            "keys/release.pub",
        ])
        .success();
    assert!(
        verified.stdout.contains("keel-rehearsal.json (rehearsal)"),
        "{}",
        verified.stdout
    );
}
