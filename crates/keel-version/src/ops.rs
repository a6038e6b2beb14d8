//! `keel bump` and `keel changelog` as library calls: typed options in, a typed outcome out
//! (the commands' `--format json` output); the binary checks its flags and renders.

use std::path::{Path, PathBuf};

use serde::Serialize;

use keel_workspace::Workspace;

use crate::{BumpPlan, ChangelogOptions, Error, FileEdit, Made, Options, PackageBump};

/// What `keel bump` does.
#[derive(Debug, Clone)]
pub struct BumpOptions {
    /// Which versions, for which packages.
    pub options: Options,
    /// Update the changelogs too.
    pub changelog: bool,
    /// Commit the changed files.
    pub commit: bool,
    /// Tag the release (on the bump's commit, or on HEAD when nothing changes).
    pub tag: bool,
    /// Change nothing; say what would change.
    pub dry_run: bool,
    /// The date a version not yet tagged gets, `YYYY-MM-DD`.
    pub today: String,
}

/// What [`bump`] did: `keel bump`'s outcome.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Bumped {
    /// Every package, with its old and new version and why.
    pub packages: Vec<PackageBump>,
    /// The tags a release of the new versions gets.
    pub tags: Vec<String>,
    /// The commit message.
    pub message: String,
    /// The files changed (or that would be), relative to the workspace.
    pub files: Vec<String>,
    /// Whether nothing was changed.
    pub dry_run: bool,
    /// The commit made.
    pub commit: Option<String>,
    /// The tags made.
    pub tagged: Vec<String>,
}

/// Plans the bump, edits the manifests, `Cargo.lock` and the changelogs (all or nothing), and
/// commits and tags when asked. [`Error::TagWithoutCommit`] when tagging without committing
/// would tag a commit that lacks the new versions.
pub fn bump(workspace: &Workspace, options: &BumpOptions) -> Result<Bumped, Error> {
    let plan = crate::plan(workspace, &options.options)?;
    let edits = crate::bump_edits(workspace, &plan, options.changelog, &options.today)?;
    if options.tag && !options.commit && !edits.is_empty() && !options.dry_run {
        return Err(Error::TagWithoutCommit);
    }
    let files = shown(&workspace.root, &edits);
    let mut made = Made::default();
    if !options.dry_run {
        crate::apply(&edits)?;
        if options.commit || options.tag {
            let paths: Vec<PathBuf> = if options.commit {
                edits.iter().map(|e| e.path.clone()).collect()
            } else {
                Vec::new()
            };
            let tags = if options.tag {
                plan.tag_messages()
            } else {
                Vec::new()
            };
            made = crate::commit_and_tag(&workspace.root, &paths, &plan.message, &tags, None)?;
        }
    }
    let BumpPlan {
        packages,
        tags,
        message,
        ..
    } = plan;
    Ok(Bumped {
        packages,
        tags,
        message,
        files,
        dry_run: options.dry_run,
        commit: made.commit,
        tagged: made.tags,
    })
}

/// One changelog that differs from what keel writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangelogChange {
    /// The file, relative to the workspace.
    pub file: String,
    /// A unified diff from the file to what keel writes.
    pub diff: String,
}

/// What [`changelog`] did: `keel changelog`'s outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ChangelogsUpdated {
    /// Every changelog of the workspace, relative to it.
    pub files: Vec<String>,
    /// The ones that differ(ed) from what keel writes.
    pub changed: Vec<String>,
    /// Whether they were written.
    pub written: bool,
    /// Each change, as a diff.
    #[serde(skip)]
    pub diffs: Vec<ChangelogChange>,
}

/// Brings the changelogs up to date with the tags and commits; with `write` false, only says
/// which differ and how.
pub fn changelog(
    workspace: &Workspace,
    options: &ChangelogOptions,
    write: bool,
) -> Result<ChangelogsUpdated, Error> {
    let edits = crate::changelogs(workspace, options)?;
    let mut changed = Vec::new();
    let mut diffs = Vec::new();
    for edit in &edits {
        let old = fs_err::read_to_string(&edit.path).unwrap_or_default();
        if old == edit.text {
            continue;
        }
        let file = keel_workspace::relative_display(&edit.path, &workspace.root);
        if write {
            crate::apply(std::slice::from_ref(edit))?;
        }
        diffs.push(ChangelogChange {
            diff: keel_ci::diff(&old, &edit.text, &file, &file),
            file: file.clone(),
        });
        changed.push(file);
    }
    Ok(ChangelogsUpdated {
        files: shown(&workspace.root, &edits),
        written: write && !changed.is_empty(),
        changed,
        diffs,
    })
}

fn shown(root: &Path, edits: &[FileEdit]) -> Vec<String> {
    edits
        .iter()
        .map(|e| keel_workspace::relative_display(&e.path, root))
        .collect()
}
