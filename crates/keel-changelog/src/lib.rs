//! What changed in a release: conventional commits read from git, and the sections of a
//! Keep a Changelog file.
//!
//! - [`parse`] reads a commit message as a [`Conventional`] commit (`feat(db)!: ...`,
//!   `BREAKING CHANGE:` footers); [`Changes::group`] sorts commits into the groups release
//!   notes show, keeping the ones that do not parse in a group of their own.
//! - [`section`] finds a version's section in a `CHANGELOG.md`.
//! - [`commits_since_previous_tag`] lists the commits a release brings, with `git`.
//!
//! ```
//! let commit = keel_changelog::parse("feat(db)!: keep notes per entry", "").unwrap();
//! assert_eq!(commit.kind, "feat");
//! assert!(commit.breaking);
//! ```
#![deny(missing_docs)]

mod file;
mod history;

use std::path::Path;

pub use file::{
    ChangelogError, DEFAULT_TEMPLATE, Entry, EntryGroup, Section, Update, classify, section_date,
    update,
};
pub use history::{Tag, commits_between, release_tags_at_head, tags, utc_date};

use serde::Serialize;

/// A commit of the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Commit {
    /// The full hash.
    pub hash: String,
    /// The first line of the message.
    pub subject: String,
    /// The rest of the message.
    pub body: String,
}

/// A commit message in the Conventional Commits form: `type(scope)!: description`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conventional {
    /// `feat`, `fix`, `perf`, `docs`, ... (lower case).
    pub kind: String,
    /// The scope in parentheses, if any.
    pub scope: Option<String>,
    /// Whether it breaks compatibility (`!` or a `BREAKING CHANGE:` footer).
    pub breaking: bool,
    /// The description after the colon.
    pub description: String,
}

/// Reads a commit's subject and body as a conventional commit; `None` when the subject is not
/// of the form `type(scope)!: description`.
pub fn parse(subject: &str, body: &str) -> Option<Conventional> {
    let (head, description) = subject.split_once(':')?;
    let description = description.trim();
    if description.is_empty() {
        return None;
    }
    let (head, bang) = match head.strip_suffix('!') {
        Some(head) => (head, true),
        None => (head, false),
    };
    let (kind, scope) = match head.split_once('(') {
        Some((kind, rest)) => (kind, Some(rest.strip_suffix(')')?.trim().to_owned())),
        None => (head, None),
    };
    if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let footer = body
        .lines()
        .any(|line| line.starts_with("BREAKING CHANGE:") || line.starts_with("BREAKING-CHANGE:"));
    Some(Conventional {
        kind: kind.to_ascii_lowercase(),
        scope: scope.filter(|s| !s.is_empty()),
        breaking: bang || footer,
        description: description.to_owned(),
    })
}

/// One change as release notes show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The description (the subject when the commit is not conventional).
    pub text: String,
    /// The scope, if any.
    pub scope: Option<String>,
    /// The commit's short hash.
    pub commit: String,
}

/// A group of changes: a heading and its entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// The heading (`Breaking changes`, `Features`, `Bug fixes`, `Performance`, `Other
    /// changes`, `Not in the conventional form`).
    pub title: &'static str,
    /// The entries, oldest first.
    pub changes: Vec<Change>,
}

/// The changes of a release, grouped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Changes {
    /// The groups that have entries, in the order notes show them.
    pub groups: Vec<Group>,
}

impl Changes {
    /// Groups `commits` (oldest first): breaking changes first, then features, fixes,
    /// performance, other conventional types, and last the commits that do not parse, so
    /// nothing is dropped silently. Merge commits are left out.
    pub fn group(commits: &[Commit]) -> Changes {
        const TITLES: [&str; 6] = [
            "Breaking changes",
            "Features",
            "Bug fixes",
            "Performance",
            "Other changes",
            "Not in the conventional form",
        ];
        let mut groups: Vec<Vec<Change>> = vec![Vec::new(); TITLES.len()];
        for commit in commits {
            if commit.subject.starts_with("Merge ") {
                continue;
            }
            let short = commit.hash.chars().take(7).collect::<String>();
            let (index, change) = match parse(&commit.subject, &commit.body) {
                Some(c) => (
                    match (c.breaking, c.kind.as_str()) {
                        (true, _) => 0,
                        (false, "feat") => 1,
                        (false, "fix") => 2,
                        (false, "perf") => 3,
                        _ => 4,
                    },
                    Change {
                        text: c.description,
                        scope: c.scope,
                        commit: short,
                    },
                ),
                None => (
                    5,
                    Change {
                        text: commit.subject.clone(),
                        scope: None,
                        commit: short,
                    },
                ),
            };
            groups[index].push(change);
        }
        Changes {
            groups: TITLES
                .iter()
                .zip(groups)
                .filter(|(_, changes)| !changes.is_empty())
                .map(|(title, changes)| Group { title, changes })
                .collect(),
        }
    }
}

/// The section of `version` in a Keep a Changelog file (its heading `## [1.2.0] - 2026-01-02`,
/// `## 1.2.0` or `## v1.2.0`), without the heading, trimmed; `None` when there is none or it
/// is empty.
pub fn section(changelog: &str, version: &str) -> Option<String> {
    let mut lines = changelog.lines();
    let is_heading = |line: &str| {
        let Some(rest) = line.strip_prefix("## ") else {
            return false;
        };
        let rest = rest.trim_start_matches('[');
        let rest = match rest.strip_prefix('v') {
            Some(after) if after.starts_with(|c: char| c.is_ascii_digit()) => after,
            _ => rest,
        };
        rest.strip_prefix(version)
            .is_some_and(|after| after.is_empty() || after.starts_with([']', ' ', '\t']))
    };
    lines.find(|line| is_heading(line))?;
    let mut body: Vec<&str> = lines.take_while(|line| !line.starts_with("## ")).collect();
    // The link definitions at the end of the file belong to no section.
    while let Some(last) = body.last() {
        if last.trim().is_empty() || file::is_link_definition(last) {
            body.pop();
        } else {
            break;
        }
    }
    let text = body.join("\n").trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// Why git could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `git` could not be run.
    #[error("could not run git")]
    Spawn(#[source] std::io::Error),
    /// The folder is in no git repository.
    #[error("{} is not in a git repository", dir.display())]
    NotARepository {
        /// The folder.
        dir: std::path::PathBuf,
    },
    /// The repository has no commit yet.
    #[error("the git repository at {} has no commit yet", dir.display())]
    NoCommits {
        /// The folder.
        dir: std::path::PathBuf,
    },
    /// `git` failed.
    #[error("`git {args}` failed: {stderr}")]
    Git {
        /// The arguments.
        args: String,
        /// What it printed.
        stderr: String,
    },
}

impl Error {
    /// What to do about the error.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Error::NotARepository { .. } => {
                "keel reads versions and changes from git: run it in the workspace's repository (`git init` and a first commit for a new one)"
            }
            Error::NoCommits { .. } => {
                "commit the work first (`git add -A && git commit -m \"feat: first version\"`); keel reads versions and changes from commits"
            }
            _ => return None,
        })
    }
}

/// Runs `git args` in `dir` through keel's one git runner ([`keel_workspace::git::run`]),
/// with this crate's errors.
pub fn git(dir: &Path, args: &[&str]) -> Result<String, Error> {
    use keel_workspace::git::succeeds;
    keel_workspace::git::run(dir, args).map_err(|err| match err {
        keel_workspace::git::GitError::Spawn(source) => Error::Spawn(source),
        // What a newcomer meets first, said plainly rather than as git's own words.
        keel_workspace::git::GitError::Failed { .. }
            if !succeeds(dir, &["rev-parse", "--git-dir"]) =>
        {
            Error::NotARepository {
                dir: dir.to_owned(),
            }
        }
        keel_workspace::git::GitError::Failed { .. }
            if !succeeds(dir, &["rev-parse", "--verify", "--quiet", "HEAD"]) =>
        {
            Error::NoCommits {
                dir: dir.to_owned(),
            }
        }
        keel_workspace::git::GitError::Failed { args, stderr } => Error::Git { args, stderr },
        other => Error::Git {
            args: args.join(" "),
            stderr: other.to_string(),
        },
    })
}

/// The commits a release brings, oldest first: those reachable from `tag` (or `HEAD` when the
/// tag does not exist yet) and not from the tag before it (all of them for a first release).
pub fn commits_since_previous_tag(dir: &Path, tag: Option<&str>) -> Result<Vec<Commit>, Error> {
    let head = match tag {
        Some(tag)
            if git(
                dir,
                &[
                    "rev-parse",
                    "--verify",
                    "--quiet",
                    &format!("refs/tags/{tag}"),
                ],
            )
            .is_ok() =>
        {
            tag.to_owned()
        }
        _ => "HEAD".to_owned(),
    };
    let previous = git(
        dir,
        &["describe", "--tags", "--abbrev=0", &format!("{head}^")],
    )
    .ok()
    .map(|t| t.trim().to_owned())
    .filter(|t| !t.is_empty());
    let range = match &previous {
        Some(previous) => format!("{previous}..{head}"),
        None => head,
    };
    let log = git(
        dir,
        &["log", "--reverse", "--format=%H%x1f%s%x1f%b%x1e", &range],
    )?;
    Ok(parse_log(&log))
}

/// Reads `git log --format=%H%x1f%s%x1f%b%x1e`.
fn parse_log(log: &str) -> Vec<Commit> {
    log.split('\u{1e}')
        .filter_map(|record| {
            let mut fields = record.trim_start_matches('\n').splitn(3, '\u{1f}');
            let hash = fields.next()?.trim().to_owned();
            if hash.is_empty() {
                return None;
            }
            Some(Commit {
                hash,
                subject: fields.next().unwrap_or_default().to_owned(),
                body: fields.next().unwrap_or_default().trim().to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conventional_subjects_are_read() {
        let c = parse("fix(store): retry once", "").unwrap();
        assert_eq!(
            (c.kind.as_str(), c.scope.as_deref(), c.breaking),
            ("fix", Some("store"), false)
        );
        assert!(
            parse("feat: x", "body\n\nBREAKING CHANGE: the format changed")
                .unwrap()
                .breaking
        );
        assert!(parse("refactor!: x", "").unwrap().breaking);
        for not in ["Update README", "feat:", "fe at: x", "feat(x: y", ": x"] {
            assert_eq!(parse(not, ""), None, "{not}");
        }
    }

    #[test]
    fn groups_keep_every_commit() {
        let commit = |hash: &str, subject: &str| Commit {
            hash: hash.repeat(40),
            subject: subject.into(),
            body: String::new(),
        };
        let changes = Changes::group(&[
            commit("a", "feat: add export"),
            commit("b", "fix: keep totals"),
            commit("c", "tidy things"),
            commit("d", "feat!: new file format"),
            commit("e", "Merge branch 'x'"),
            commit("f", "docs: explain"),
        ]);
        let titles: Vec<_> = changes.groups.iter().map(|g| g.title).collect();
        assert_eq!(
            titles,
            [
                "Breaking changes",
                "Features",
                "Bug fixes",
                "Other changes",
                "Not in the conventional form"
            ]
        );
        assert_eq!(changes.groups[0].changes[0].text, "new file format");
        assert_eq!(changes.groups[0].changes[0].commit, "ddddddd");
        assert_eq!(changes.groups[4].changes[0].text, "tidy things");
    }

    #[test]
    fn a_versions_section_is_found() {
        let text = "# Changelog\n\n## [Unreleased]\n\n- soon\n\n## [1.2.0] - 2026-01-02\n\n### Added\n- export\n\n## [1.1.0]\n- old\n";
        assert_eq!(section(text, "1.2.0").unwrap(), "### Added\n- export");
        assert_eq!(section(text, "1.1.0").unwrap(), "- old");
        assert_eq!(section(text, "1.2"), None);
        assert_eq!(section("## v2.0.0\n\n", "2.0.0"), None);
        assert_eq!(section("## v2.0.0\nx\n", "2.0.0").unwrap(), "x");
        let last = "## [1.0.0] - 2026-01-01\n\n- first\n\n[unreleased]: https://x/compare/v1.0.0...HEAD\n[1.0.0]: https://x/releases/tag/v1.0.0\n";
        assert_eq!(section(last, "1.0.0").unwrap(), "- first");
        assert_eq!(
            section("## [vault 1.0.0]\n- a\n", "vault 1.0.0").unwrap(),
            "- a"
        );
    }
}
