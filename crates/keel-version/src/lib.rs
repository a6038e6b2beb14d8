//! Versions and changelogs for keel: which packages a bump changes and to what, the edits that
//! carry it out, and the Keep a Changelog files that go with it.
//!
//! - [`plan`] decides a bump from a [`Request`] (`major`, `alpha`, `auto`, `1.2.3`, ...), the
//!   tags and the conventional commits of each package since its last tag (only commits that
//!   touch the package or its path dependencies in the workspace), and prepares every file edit
//!   (`Cargo.toml` versions, inherited or not, internal dependency requirements, `Cargo.lock`)
//!   without writing anything. [`apply`] writes them, each file replaced atomically.
//! - [`changelogs`] brings each changelog up to date with the tags and commits: one file per
//!   released package, or one for the workspace.
//!
//! Packages share a version when they inherit it (`version.workspace = true`): they move
//! together and are tagged `v<version>`. A package with a version of its own is tagged
//! `<package>-v<version>`, or `v<version>` when it is the only thing the workspace releases.
//!
//! This crate never prints and reads git through the `git` command.
#![deny(missing_docs)]

mod edit;
mod git;
mod next;
pub mod ops;
mod pull;
mod semver_checks;
mod text;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use keel_changelog::{Commit, Tag};
use keel_workspace::{ChangelogLayout, Package, Workspace};
use semver::Version;
use serde::Serialize;
use toml_edit::DocumentMut;

pub use git::{
    Made, Worktree, commit_and_tag, current_branch, dirty_files, has_identity, toplevel,
};
pub use next::{Context, Level, NextError, Request, Stage, bump, level_of, next};
pub use pull::{ReleaseCommit, prepare_release_commit};

/// Why a bump or a changelog could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Tagging without committing would tag a commit that lacks the new versions.
    #[error("tagging without committing would tag a commit without the new versions")]
    TagWithoutCommit,
    /// `--package` names no released package.
    #[error("`{name}` is not a package keel versions here (released packages: {available})")]
    UnknownPackage {
        /// The name given.
        name: String,
        /// The released packages.
        available: String,
    },
    /// The workspace releases nothing.
    #[error(
        "no package of the workspace is released: none has a binary to ship or is a library to publish"
    )]
    NothingReleased,
    /// A version cannot be given to a package.
    #[error("cannot bump {name}")]
    Next {
        /// The package (or `the workspace version`).
        name: String,
        /// Why.
        #[source]
        source: NextError,
    },
    /// The tag a new version would get exists already.
    #[error("the tag {tag} exists already")]
    TagExists {
        /// The tag.
        tag: String,
    },
    /// A manifest or lock file cannot be edited.
    #[error("{} is not valid TOML", path.display())]
    Toml {
        /// The file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: toml_edit::TomlError,
    },
    /// A file could not be read or written.
    #[error("could not {action} {}", path.display())]
    Io {
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Git could not be read.
    #[error(transparent)]
    Git(#[from] keel_changelog::Error),
    /// A changelog could not be written.
    #[error(transparent)]
    Changelog(#[from] keel_changelog::ChangelogError),
    /// The workspace checked out for a release pull request could not be read.
    #[error(transparent)]
    Workspace(#[from] keel_workspace::Error),
}

impl Error {
    /// What to do about the error, when that needs no command-line flag (the `keel` binary
    /// adds the hints that name its flags).
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Error::TagExists { .. } => {
                "that version is released already: bump again (`keel bump patch`), or delete the tag if it was made by mistake"
            }
            Error::NothingReleased => {
                "keel versions packages with a binary to ship or a library to publish; check `apps`, `dist = false` and `publish`"
            }
            Error::Git(err) => return err.hint(),
            _ => return None,
        })
    }
}

/// A commit as a plan reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CommitNote {
    /// The short hash.
    pub commit: String,
    /// The first line of its message.
    pub subject: String,
    /// What it calls for.
    pub level: Option<Level>,
}

/// One package in a bump plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PackageBump {
    /// The package.
    pub name: String,
    /// Its version now.
    pub old: String,
    /// Its version after the bump (the same when it does not change).
    pub new: String,
    /// Whether the version changes.
    pub changed: bool,
    /// Whether it inherits the workspace's version.
    pub inherited: bool,
    /// Its last release's tag.
    pub last_tag: Option<String>,
    /// The tag its new version gets, when that version is to be released.
    pub tag: Option<String>,
    /// Why it gets this version, in a sentence.
    pub why: String,
    /// The commits since the last tag that touch it, oldest first.
    pub commits: Vec<CommitNote>,
    /// Those not in the conventional form: they call for nothing, and are listed so that none
    /// is missed.
    pub unparsed: Vec<CommitNote>,
    /// What `cargo semver-checks` found, when it ran.
    pub semver_checks: Option<String>,
}

/// A file a bump or a changelog writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEdit {
    /// The file.
    pub path: PathBuf,
    /// Its new text.
    pub text: String,
}

impl FileEdit {
    /// Whether the file holds this text already.
    pub fn is_current(&self) -> bool {
        fs_err::read_to_string(&self.path).is_ok_and(|text| text == self.text)
    }
}

/// Everything a bump does, decided before anything is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BumpPlan {
    /// Every released package (or the one asked for), sorted by name.
    pub packages: Vec<PackageBump>,
    /// The tags a release of the new versions gets.
    pub tags: Vec<String>,
    /// The commit message for the bump: `chore(release): ` and the tags.
    pub message: String,
    /// The files it changes.
    #[serde(skip)]
    pub edits: Vec<FileEdit>,
}

impl BumpPlan {
    /// The new version of each package that changes.
    pub fn new_versions(&self) -> BTreeMap<String, Version> {
        self.packages
            .iter()
            .filter(|p| p.changed)
            .filter_map(|p| Some((p.name.clone(), Version::parse(&p.new).ok()?)))
            .collect()
    }

    /// The packages whose version is to be released (they get a tag).
    pub fn released(&self) -> impl Iterator<Item = &PackageBump> {
        self.packages.iter().filter(|p| p.tag.is_some())
    }

    /// Each tag with its annotation: the packages it releases and the version.
    pub fn tag_messages(&self) -> Vec<(String, String)> {
        self.tags
            .iter()
            .map(|tag| {
                let packages: Vec<&PackageBump> = self
                    .released()
                    .filter(|p| p.tag.as_ref() == Some(tag))
                    .collect();
                let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
                let version = packages.first().map(|p| p.new.as_str()).unwrap_or_default();
                (tag.clone(), format!("{} {version}", names.join(", ")))
            })
            .collect()
    }
}

/// Every file a bump writes: the plan's manifest and lock edits, and, with `changelog`, the
/// changelogs of the packages it releases that change (`today` dates a version not yet
/// tagged).
pub fn bump_edits(
    workspace: &Workspace,
    plan: &BumpPlan,
    changelog: bool,
    today: &str,
) -> Result<Vec<FileEdit>, Error> {
    let mut edits = plan.edits.clone();
    if changelog && !plan.tags.is_empty() {
        let logs = changelogs(
            workspace,
            &ChangelogOptions {
                versions: plan.new_versions(),
                packages: Some(plan.released().map(|p| p.name.clone()).collect()),
                today: today.to_owned(),
            },
        )?;
        edits.extend(logs.into_iter().filter(|e| !e.is_current()));
    }
    Ok(edits)
}

/// What `keel bump` is asked.
#[derive(Debug, Clone)]
pub struct Options {
    /// The request.
    pub request: Request,
    /// Only this package (and the packages sharing its version).
    pub package: Option<String>,
    /// The level a new pre-release starts from, instead of what the commits call for.
    pub bump: Option<Level>,
    /// Run `cargo semver-checks` on library packages when it is installed.
    pub semver_checks: bool,
}

/// Packages that share a version.
struct Group<'w> {
    members: Vec<&'w Package>,
    inherited: bool,
    version: Version,
    /// `v` or `<package>-v`.
    prefix: String,
    /// Tags of this group with their versions, oldest version first.
    tags: Vec<(Version, Tag)>,
}

impl Group<'_> {
    fn last_tag(&self) -> Option<&(Version, Tag)> {
        self.tags.last()
    }

    fn last_stable(&self) -> Option<Version> {
        self.tags
            .iter()
            .rev()
            .find(|(v, _)| v.pre.is_empty())
            .map(|(v, _)| v.clone())
    }

    fn tag_of(&self, version: &Version) -> String {
        format!("{}{version}", self.prefix)
    }

    fn label(&self) -> String {
        if self.inherited {
            "the workspace version".into()
        } else {
            self.members[0].name.clone()
        }
    }
}

/// The workspace's released packages grouped by the version they share, with their tags.
struct Releases<'w> {
    workspace: &'w Workspace,
    groups: Vec<Group<'w>>,
}

/// The packages keel versions: those it ships (binaries, not `dist = false`, among `apps`
/// when set) and the libraries that may be published.
fn released(workspace: &Workspace) -> Vec<&Package> {
    workspace
        .packages
        .iter()
        .filter(|p| {
            let app = !p.binaries.is_empty()
                && p.config.dist != Some(false)
                && workspace
                    .config
                    .apps
                    .as_ref()
                    .is_none_or(|apps| apps.contains(&p.name));
            app || (p.publish && p.has_lib)
        })
        .collect()
}

fn read(path: &Path) -> Result<String, Error> {
    fs_err::read_to_string(path).map_err(|source| Error::Io {
        action: "read",
        path: path.to_owned(),
        source: std::io::Error::new(source.kind(), source.to_string()),
    })
}

fn parse_toml(path: &Path, text: &str) -> Result<DocumentMut, Error> {
    text.parse().map_err(|source| Error::Toml {
        path: path.to_owned(),
        source,
    })
}

impl<'w> Releases<'w> {
    fn load(workspace: &'w Workspace) -> Result<Releases<'w>, Error> {
        let packages = released(workspace);
        if packages.is_empty() {
            return Err(Error::NothingReleased);
        }
        let mut inherited = Vec::new();
        let mut own = Vec::new();
        for package in packages {
            let doc = parse_toml(&package.manifest_path, &read(&package.manifest_path)?)?;
            if edit::inherits_version(&doc) {
                inherited.push(package);
            } else {
                own.push(package);
            }
        }
        let single = usize::from(!inherited.is_empty()) + own.len() == 1;
        let all_tags = keel_changelog::tags(&workspace.root)?;
        let tags_with = |prefix: &str| -> Vec<(Version, Tag)> {
            let mut found: Vec<(Version, Tag)> = all_tags
                .iter()
                .filter_map(|tag| {
                    let version = Version::parse(tag.name.strip_prefix(prefix)?).ok()?;
                    Some((version, tag.clone()))
                })
                .collect();
            found.sort_by(|a, b| a.0.cmp(&b.0));
            found
        };
        let mut groups = Vec::new();
        if let Some(first) = inherited.first() {
            groups.push(Group {
                version: first.version.clone(),
                members: inherited,
                inherited: true,
                prefix: keel_schema::tag::prefix(None),
                tags: tags_with(&keel_schema::tag::prefix(None)),
            });
        }
        for package in own {
            let prefix = keel_schema::tag::prefix((!single).then_some(package.name.as_str()));
            let mut tags = tags_with(&prefix);
            if single && tags.is_empty() {
                // A workspace that once released several packages separately.
                tags = tags_with(&keel_schema::tag::prefix(Some(&package.name)));
            }
            groups.push(Group {
                version: package.version.clone(),
                members: vec![package],
                inherited: false,
                prefix,
                tags,
            });
        }
        Ok(Releases { workspace, groups })
    }

    fn package(&self, name: &str) -> Option<&'w Package> {
        self.workspace.packages.iter().find(|p| p.name == name)
    }

    /// The git pathspecs of `packages` and their path dependencies in the workspace, leaving
    /// out other members' folders inside them.
    fn pathspecs(&self, packages: &[&Package]) -> Vec<String> {
        let mut names: BTreeSet<String> = BTreeSet::new();
        let mut todo: Vec<String> = packages.iter().map(|p| p.name.clone()).collect();
        while let Some(name) = todo.pop() {
            if !names.insert(name.clone()) {
                continue;
            }
            if let Some(package) = self.package(&name) {
                todo.extend(package.path_dependencies.iter().cloned());
            }
        }
        let rel = |p: &Package| -> String {
            let dir = p
                .dir
                .strip_prefix(&self.workspace.root)
                .unwrap_or(&p.dir)
                .to_string_lossy()
                .replace('\\', "/");
            if dir.is_empty() { ".".into() } else { dir }
        };
        let included: Vec<String> = names
            .iter()
            .filter_map(|n| self.package(n))
            .map(&rel)
            .collect();
        let mut specs: Vec<String> = included.clone();
        for other in &self.workspace.packages {
            if names.contains(&other.name) {
                continue;
            }
            let dir = rel(other);
            let inside = included
                .iter()
                .any(|inc| inc == "." || dir.starts_with(&format!("{inc}/")));
            if inside {
                specs.push(format!(":(exclude){dir}"));
            }
        }
        specs.sort();
        specs.dedup();
        specs
    }

    fn commits(
        &self,
        packages: &[&Package],
        since: Option<&str>,
        to: &str,
    ) -> Result<Vec<Commit>, Error> {
        Ok(keel_changelog::commits_between(
            &self.workspace.root,
            since,
            to,
            &self.pathspecs(packages),
        )?)
    }
}

/// What the commits call for, the commit that decided it, and the notes of each commit.
fn assess(
    commits: &[Commit],
    current: &Version,
) -> (
    Option<Level>,
    Option<CommitNote>,
    Vec<CommitNote>,
    Vec<CommitNote>,
) {
    let mut level = None;
    let mut decided = None;
    let mut notes = Vec::new();
    let mut unparsed = Vec::new();
    for commit in commits {
        let short: String = commit.hash.chars().take(7).collect();
        let note = |level| CommitNote {
            commit: short.clone(),
            subject: commit.subject.clone(),
            level,
        };
        match keel_changelog::parse(&commit.subject, &commit.body) {
            Some(c) => {
                let l = level_of(&c, current);
                if l > level {
                    level = l;
                    decided = Some(note(l));
                }
                notes.push(note(l));
            }
            None => {
                notes.push(note(None));
                unparsed.push(note(None));
            }
        }
    }
    (level, decided, notes, unparsed)
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Major => "major",
        Level::Minor => "minor",
        Level::Patch => "patch",
    }
}

/// Decides a bump. Reads the manifests and git; writes nothing.
pub fn plan(workspace: &Workspace, options: &Options) -> Result<BumpPlan, Error> {
    let releases = Releases::load(workspace)?;
    let mut chosen: Vec<&Group<'_>> = releases.groups.iter().collect();
    if let Some(name) = &options.package {
        chosen.retain(|g| g.members.iter().any(|p| &p.name == name));
        if chosen.is_empty() {
            let mut available: Vec<&str> = releases
                .groups
                .iter()
                .flat_map(|g| g.members.iter().map(|p| p.name.as_str()))
                .collect();
            available.sort();
            return Err(Error::UnknownPackage {
                name: name.clone(),
                available: available.join(", "),
            });
        }
    }

    let mut packages = Vec::new();
    let mut tags = Vec::new();
    let mut new_versions: BTreeMap<String, (Version, Version)> = BTreeMap::new();
    let mut nothing: Vec<Error> = Vec::new();
    let mut workspace_version = None;
    for group in &chosen {
        let last = group.last_tag();
        let since = last.map(|(_, t)| t.name.clone());
        let commits = releases.commits(&group.members, since.as_deref(), "HEAD")?;
        let (mut level, decided, notes, unparsed) = assess(&commits, &group.version);
        let mut finding = None;
        if options.semver_checks
            && let Some(since) = &since
        {
            for package in group.members.iter().filter(|p| p.has_lib) {
                if let Some((found, text)) =
                    semver_checks::run(&workspace.root, &package.name, since)
                {
                    let found = found.map(|l| {
                        if group.version.major == 0 && l == Level::Major {
                            Level::Minor
                        } else {
                            l
                        }
                    });
                    if found > level {
                        level = found;
                    }
                    finding = Some(text);
                }
            }
        }
        let cx = Context {
            level,
            explicit: options.bump,
            last_stable: group.last_stable(),
            since: since.clone(),
        };
        let current = &group.version;
        let tagged = |v: &Version| group.tags.iter().any(|(t, _)| t == v);
        let outcome = match (&options.request, last) {
            // A version bumped but not yet released: the commits are measured from the last
            // release, so a second `auto` does not bump again.
            (Request::Auto, Some((last_version, _)))
                if current.pre.is_empty() && current > last_version && !tagged(current) =>
            {
                Ok(level
                    .map(|l| bump(last_version, l))
                    .filter(|candidate| candidate > current))
            }
            // The first release is the version Cargo.toml has.
            (Request::Auto, None) => Ok(None),
            _ => next(current, &options.request, &cx),
        };
        let new = match outcome {
            Ok(new) => new,
            Err(source @ NextError::NothingToRelease { .. }) if chosen.len() > 1 => {
                nothing.push(Error::Next {
                    name: group.label(),
                    source,
                });
                None
            }
            Err(source) => {
                return Err(Error::Next {
                    name: group.label(),
                    source,
                });
            }
        };
        let released_version = new.clone().unwrap_or_else(|| current.clone());
        let tag = (!tagged(&released_version)).then(|| group.tag_of(&released_version));
        let since_text = since.clone().unwrap_or_else(|| "the first commit".into());
        let why = match (&options.request, &new, &decided) {
            (Request::Auto, None, _) if last.is_none() => format!(
                "no release is tagged yet: the first release is {current}, as Cargo.toml says"
            ),
            (Request::Auto, None, _) if tag.is_some() => {
                format!(
                    "{current} is not released yet, and nothing since {since_text} calls for more"
                )
            }
            (Request::Auto, None, _) if commits.is_empty() => {
                format!("no commit since {since_text} touches it")
            }
            (Request::Auto, None, _) => format!(
                "{} commit(s) since {since_text}, none a feat, fix, perf or breaking change",
                commits.len()
            ),
            (Request::Auto, Some(_), Some(decided)) => format!(
                "`{}` ({}) calls for a {} release",
                decided.subject,
                decided.commit,
                level_name(decided.level.unwrap_or(Level::Patch))
            ),
            (Request::Auto, Some(_), None) => format!(
                "cargo semver-checks calls for a {} release",
                level_name(level.unwrap_or(Level::Patch))
            ),
            (Request::Level(l), _, _) => format!("{} asked for", level_name(*l)),
            (Request::Pre(stage), _, _) => {
                format!("a {stage:?} pre-release asked for").to_lowercase()
            }
            (Request::Release, _, _) => "the pre-release finished".into(),
            (Request::Exact(v), _, _) => format!("{v} asked for"),
        };
        if let Some(tag) = &tag {
            if tag_exists(&workspace.root, tag) {
                return Err(Error::TagExists { tag: tag.clone() });
            }
            tags.push(tag.clone());
        }
        if let Some(new) = &new {
            if group.inherited {
                workspace_version = Some(new.clone());
            }
            for member in &group.members {
                new_versions.insert(member.name.clone(), (current.clone(), new.clone()));
            }
        }
        for member in &group.members {
            packages.push(PackageBump {
                name: member.name.clone(),
                old: current.to_string(),
                new: released_version.to_string(),
                changed: new.is_some(),
                inherited: group.inherited,
                last_tag: since.clone(),
                tag: tag.clone(),
                why: why.clone(),
                commits: notes.clone(),
                unparsed: unparsed.clone(),
                semver_checks: finding.clone(),
            });
        }
    }
    if !nothing.is_empty() && new_versions.is_empty() {
        return Err(nothing.remove(0));
    }
    packages.sort_by(|a, b| a.name.cmp(&b.name));
    tags.sort();

    let edits = edits(&releases, &new_versions, workspace_version.as_ref())?;
    let message = if tags.is_empty() {
        String::new()
    } else {
        format!("chore(release): {}", tags.join(", "))
    };
    Ok(BumpPlan {
        packages,
        tags,
        message,
        edits,
    })
}

fn tag_exists(root: &Path, tag: &str) -> bool {
    keel_workspace::git::succeeds(
        root,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("refs/tags/{tag}"),
        ],
    )
}

/// The manifest and lock file edits of new versions.
fn edits(
    releases: &Releases<'_>,
    changed: &BTreeMap<String, (Version, Version)>,
    workspace_version: Option<&Version>,
) -> Result<Vec<FileEdit>, Error> {
    if changed.is_empty() {
        return Ok(Vec::new());
    }
    let workspace = releases.workspace;
    let new: BTreeMap<String, Version> = changed
        .iter()
        .map(|(name, (_, new))| (name.clone(), new.clone()))
        .collect();
    let mut manifests: Vec<PathBuf> = vec![workspace.manifest_path.clone()];
    manifests.extend(workspace.packages.iter().map(|p| p.manifest_path.clone()));
    manifests.sort();
    manifests.dedup();
    let mut out = Vec::new();
    for path in manifests {
        let text = read(&path)?;
        let mut doc = parse_toml(&path, &text)?;
        let mut touched = false;
        if path == workspace.manifest_path
            && let Some(version) = workspace_version
        {
            touched |= edit::set_workspace_version(&mut doc, version);
        }
        if let Some(package) = workspace.packages.iter().find(|p| p.manifest_path == path)
            && let Some(version) = new.get(&package.name)
            && !edit::inherits_version(&doc)
        {
            touched |= edit::set_package_version(&mut doc, version);
        }
        touched |= edit::update_requirements(&mut doc, &new);
        if touched {
            out.push(FileEdit {
                path,
                text: doc.to_string(),
            });
        }
    }
    let lock = workspace.root.join("Cargo.lock");
    if lock.is_file() {
        let text = read(&lock)?;
        let mut doc = parse_toml(&lock, &text)?;
        if edit::update_lock(&mut doc, changed) {
            out.push(FileEdit {
                path: lock,
                text: doc.to_string(),
            });
        }
    }
    Ok(out)
}

/// Writes the edits, each file replaced atomically; returns the files written. When one
/// cannot be written, those already written are put back as they were.
pub fn apply(edits: &[FileEdit]) -> Result<Vec<PathBuf>, Error> {
    let io = |path: &Path, source: keel_fs::Error| Error::Io {
        action: "write",
        path: path.to_owned(),
        source: std::io::Error::other(source.to_string()),
    };
    let mut before: Vec<(Option<Vec<u8>>, Option<u32>)> = Vec::new();
    for edit in edits {
        let old = match fs_err::read(&edit.path) {
            Ok(bytes) => Some(bytes),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => {
                return Err(Error::Io {
                    action: "read",
                    path: edit.path.clone(),
                    source: std::io::Error::new(err.kind(), err.to_string()),
                });
            }
        };
        let mode = match &old {
            Some(_) => keel_fs::mode_of(&edit.path).map_err(|e| io(&edit.path, e))?,
            None => None,
        };
        before.push((old, mode));
    }
    let mut written: Vec<PathBuf> = Vec::new();
    for (edit, (_, mode)) in edits.iter().zip(&before) {
        if let Err(err) = keel_fs::write_atomic(&edit.path, edit.text.as_bytes(), *mode) {
            for (done, (old, mode)) in edits.iter().zip(&before).take(written.len()) {
                match old {
                    Some(bytes) => {
                        let _ = keel_fs::write_atomic(&done.path, bytes, *mode);
                    }
                    None => {
                        let _ = fs_err::remove_file(&done.path);
                    }
                }
            }
            return Err(io(&edit.path, err));
        }
        written.push(edit.path.clone());
    }
    Ok(written)
}

/// What a new changelog starts with.
pub const CHANGELOG_HEADER: &str = "# Changelog

All notable changes are documented in this file. The format is based on
[Keep a Changelog](https://keepachangelog.com/en/1.1.0/), and versions follow
[Semantic Versioning](https://semver.org/spec/v2.0.0.html).
";

/// Links of a repository on GitHub or GitLab.
struct Forge {
    base: String,
    gitlab: bool,
}

impl Forge {
    fn of(repository: Option<&str>) -> Option<Forge> {
        let url = repository?
            .trim()
            .trim_end_matches('/')
            .trim_end_matches(".git");
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))?;
        let host = rest.split('/').next()?;
        let gitlab = match host {
            "github.com" => false,
            "gitlab.com" => true,
            _ => return None,
        };
        (rest.split('/').filter(|s| !s.is_empty()).count() >= 3).then(|| Forge {
            base: format!("https://{rest}"),
            gitlab,
        })
    }

    fn dash(&self) -> &'static str {
        if self.gitlab { "/-" } else { "" }
    }

    fn compare(&self, from: &str, to: &str) -> String {
        format!("{}{}/compare/{from}...{to}", self.base, self.dash())
    }

    fn tag(&self, tag: &str) -> String {
        if self.gitlab {
            format!("{}/-/tags/{tag}", self.base)
        } else {
            format!("{}/releases/tag/{tag}", self.base)
        }
    }

    fn commit_url(&self) -> String {
        format!("{}{}/commit/", self.base, self.dash())
    }
}

/// What [`changelogs`] needs besides the workspace.
#[derive(Debug, Clone, Default)]
pub struct ChangelogOptions {
    /// Versions that are about to be written to the manifests (a bump's plan).
    pub versions: BTreeMap<String, Version>,
    /// Only the changelogs of these packages (with the `per-package` layout).
    pub packages: Option<Vec<String>>,
    /// The date a version not yet tagged gets, `YYYY-MM-DD`.
    pub today: String,
}

/// A version's entries from the commits between two points, for some packages.
fn entries(
    releases: &Releases<'_>,
    packages: &[&Package],
    from: Option<&str>,
    to: &str,
    attribute: bool,
) -> Result<Vec<keel_changelog::Entry>, Error> {
    let commits = releases.commits(packages, from, to)?;
    let mut owners: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if attribute {
        for package in packages {
            for commit in releases.commits(&[package], from, to)? {
                owners
                    .entry(commit.hash)
                    .or_default()
                    .push(package.name.clone());
            }
        }
    }
    Ok(commits
        .iter()
        .filter_map(|commit| {
            let mut entry = keel_changelog::classify(commit)?;
            entry.packages = owners.remove(&commit.hash).unwrap_or_default();
            Some(entry)
        })
        .collect())
}

/// Which packages a changelog covers and how it names them.
struct Scope<'a> {
    /// The packages whose commits it shows.
    packages: &'a [&'a Package],
    /// Whether versions are labelled with the package (`ledger 1.2.0`).
    labelled: bool,
    /// Whether each entry names its packages.
    attribute: bool,
    /// The file's text now.
    existing: Option<&'a str>,
}

/// The sections of one group for the packages of one changelog.
fn sections_of(
    releases: &Releases<'_>,
    group: &Group<'_>,
    scope: &Scope<'_>,
    options: &ChangelogOptions,
    forge: Option<&Forge>,
) -> Result<
    (
        Vec<keel_changelog::Section>,
        Vec<String>,
        keel_changelog::Section,
    ),
    Error,
> {
    let label = |version: &Version| {
        if scope.labelled {
            format!("{} {version}", group.members[0].name)
        } else {
            version.to_string()
        }
    };
    let mut sections = Vec::new();
    let mut previous: Option<&Tag> = None;
    let mut previous_stable: Option<&Tag> = None;
    // A pre-release lists what changed since the tag before it; a stable version everything
    // since the last stable one, its pre-releases included.
    let from_for = |version: &Version, previous: Option<&Tag>, stable: Option<&Tag>| {
        if version.pre.is_empty() {
            stable
        } else {
            previous
        }
        .map(|t| t.name.clone())
    };
    for (version, tag) in &group.tags {
        let from = from_for(version, previous, previous_stable);
        sections.push(keel_changelog::Section {
            label: label(version),
            version: Some(version.clone()),
            date: Some(tag.date.clone()),
            entries: entries(
                releases,
                scope.packages,
                from.as_deref(),
                &tag.name,
                scope.attribute,
            )?,
            link: forge.map(|f| match &from {
                Some(from) => f.compare(from, &tag.name),
                None => f.tag(&tag.name),
            }),
        });
        previous = Some(tag);
        if version.pre.is_empty() {
            previous_stable = Some(tag);
        }
    }
    let current = group
        .members
        .iter()
        .find_map(|m| options.versions.get(&m.name))
        .unwrap_or(&group.version);
    let upcoming = !group.tags.iter().any(|(v, _)| v == current)
        && group.last_tag().is_none_or(|(v, _)| v < current);
    let since = previous.map(|t| t.name.clone());
    let mut rewrite = Vec::new();
    let unreleased = if upcoming {
        let tag = group.tag_of(current);
        let since = from_for(current, previous, previous_stable);
        let pending = entries(
            releases,
            scope.packages,
            since.as_deref(),
            "HEAD",
            scope.attribute,
        )?;
        rewrite.push(label(current));
        sections.push(keel_changelog::Section {
            label: label(current),
            version: Some(current.clone()),
            // A section written earlier for this version keeps its date.
            date: Some(
                scope
                    .existing
                    .and_then(|text| keel_changelog::section_date(text, &label(current)))
                    .unwrap_or_else(|| options.today.clone()),
            ),
            entries: pending,
            link: forge.map(|f| match &since {
                Some(since) => f.compare(since, &tag),
                None => f.tag(&tag),
            }),
        });
        keel_changelog::Section {
            label: "Unreleased".into(),
            version: None,
            date: None,
            entries: Vec::new(),
            link: forge.map(|f| f.compare(&tag, "HEAD")),
        }
    } else {
        keel_changelog::Section {
            label: "Unreleased".into(),
            version: None,
            date: None,
            entries: entries(
                releases,
                scope.packages,
                since.as_deref(),
                "HEAD",
                scope.attribute,
            )?,
            link: forge
                .zip(since.as_ref())
                .map(|(f, since)| f.compare(since, "HEAD")),
        }
    };
    Ok((sections, rewrite, unreleased))
}

/// The changelogs brought up to date: for each, its path and new text (which may equal the
/// file's). Writes nothing.
pub fn changelogs(
    workspace: &Workspace,
    options: &ChangelogOptions,
) -> Result<Vec<FileEdit>, Error> {
    let releases = Releases::load(workspace)?;
    let template = match &workspace.config.changelog.template {
        Some(rel) => Some(read(&workspace.root.join(rel))?),
        None => None,
    };
    let header = CHANGELOG_HEADER;
    let mut out = Vec::new();
    let existing = |path: &Path| -> Result<Option<String>, Error> {
        match path.is_file() {
            true => Ok(Some(read(path)?)),
            false => Ok(None),
        }
    };
    let write = |path: PathBuf,
                 existing: Option<String>,
                 sections: Vec<keel_changelog::Section>,
                 rewrite: Vec<String>,
                 unreleased: keel_changelog::Section,
                 forge: Option<&Forge>|
     -> Result<FileEdit, Error> {
        let text = keel_changelog::update(
            existing.as_deref(),
            &keel_changelog::Update {
                header,
                unreleased,
                versions: sections,
                rewrite,
                commit_url: forge.map(Forge::commit_url),
                template: template.as_deref(),
            },
        )?;
        Ok(FileEdit { path, text })
    };
    match workspace.config.changelog.layout {
        ChangelogLayout::PerPackage => {
            for group in &releases.groups {
                for package in &group.members {
                    if options
                        .packages
                        .as_ref()
                        .is_some_and(|only| !only.contains(&package.name))
                    {
                        continue;
                    }
                    let forge = Forge::of(package.repository.as_deref());
                    let path = package.dir.join("CHANGELOG.md");
                    let text = existing(&path)?;
                    let (sections, rewrite, unreleased) = sections_of(
                        &releases,
                        group,
                        &Scope {
                            packages: &[package],
                            labelled: false,
                            attribute: false,
                            existing: text.as_deref(),
                        },
                        options,
                        forge.as_ref(),
                    )?;
                    out.push(write(
                        path,
                        text,
                        sections,
                        rewrite,
                        unreleased,
                        forge.as_ref(),
                    )?);
                }
            }
        }
        ChangelogLayout::Workspace => {
            let forge = releases
                .groups
                .iter()
                .flat_map(|g| &g.members)
                .find_map(|p| Forge::of(p.repository.as_deref()));
            let labelled = releases.groups.len() > 1;
            let path = workspace.root.join("CHANGELOG.md");
            let text = existing(&path)?;
            let mut all_sections = Vec::new();
            let mut all_rewrite = Vec::new();
            let mut unreleased_entries = Vec::new();
            let mut unreleased_link = None;
            for group in &releases.groups {
                let (sections, rewrite, unreleased) = sections_of(
                    &releases,
                    group,
                    &Scope {
                        packages: &group.members,
                        labelled,
                        attribute: true,
                        existing: text.as_deref(),
                    },
                    options,
                    forge.as_ref(),
                )?;
                all_sections.extend(sections);
                all_rewrite.extend(rewrite);
                for entry in unreleased.entries {
                    if !unreleased_entries
                        .iter()
                        .any(|e: &keel_changelog::Entry| e.hash == entry.hash)
                    {
                        unreleased_entries.push(entry);
                    }
                }
                if !labelled {
                    unreleased_link = unreleased.link;
                }
            }
            out.push(write(
                path,
                text,
                all_sections,
                all_rewrite,
                keel_changelog::Section {
                    label: "Unreleased".into(),
                    version: None,
                    date: None,
                    entries: unreleased_entries,
                    link: unreleased_link,
                },
                forge.as_ref(),
            )?);
        }
    }
    Ok(out)
}
