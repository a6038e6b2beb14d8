//! The commit and the annotated tags of a bump, made with `git`.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::Error;

fn git(root: &Path, args: &[&str]) -> Result<String, Error> {
    Ok(keel_changelog::git(root, args)?.trim().to_owned())
}

/// The tracked files with uncommitted changes, relative to `root`.
pub fn dirty_files(root: &Path) -> Result<Vec<String>, Error> {
    let text = git(root, &["diff", "--name-only", "HEAD", "--"])?;
    Ok(text.lines().map(str::to_owned).collect())
}

/// What [`commit_and_tag`] made.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Made {
    /// The new commit's hash, when one was made.
    pub commit: Option<String>,
    /// The tags made.
    pub tags: Vec<String>,
}

/// Whether git knows who commits here (`user.name` and `user.email`, or their variables).
pub fn has_identity(root: &Path) -> bool {
    let set = |var: &str| std::env::var_os(var).is_some_and(|v| !v.is_empty());
    let name = set("GIT_AUTHOR_NAME") || git(root, &["config", "user.name"]).is_ok();
    let email = set("GIT_AUTHOR_EMAIL") || git(root, &["config", "user.email"]).is_ok();
    name && email
}

/// Commits `files` (when any) with `message`, then makes an annotated tag for each of `tags`
/// (`(tag, message)`) on the result. `identity` (name, email) is who commits when git knows
/// no one.
pub fn commit_and_tag(
    root: &Path,
    files: &[PathBuf],
    message: &str,
    tags: &[(String, String)],
    identity: Option<(&str, &str)>,
) -> Result<Made, Error> {
    let with_identity = |args: &[&str]| -> Result<String, Error> {
        let Some((name, email)) = identity else {
            return git(root, args);
        };
        let mut full = vec!["-c", "user.useConfigOnly=false"];
        let name_arg = format!("user.name={name}");
        let email_arg = format!("user.email={email}");
        full.extend(["-c", &name_arg, "-c", &email_arg]);
        full.extend_from_slice(args);
        git(root, &full)
    };
    let mut made = Made::default();
    if !files.is_empty() {
        let mut args: Vec<String> = vec!["add".into(), "--".into()];
        args.extend(files.iter().map(|f| f.to_string_lossy().into_owned()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        git(root, &args)?;
        with_identity(&["commit", "--quiet", "-m", message])?;
        made.commit = Some(git(root, &["rev-parse", "HEAD"])?);
    }
    for (tag, message) in tags {
        with_identity(&["tag", "--annotate", tag, "-m", message])?;
        made.tags.push(tag.clone());
    }
    Ok(made)
}

/// A checkout of a commit in a temporary folder (`git worktree`), removed when dropped: a
/// release pull request is prepared there, leaving the user's checkout as it is.
pub struct Worktree {
    repo: PathBuf,
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Worktree {
    /// Checks out `commit` of the repository holding `repo`.
    pub fn add(repo: &Path, commit: &str) -> Result<Worktree, Error> {
        let dir = tempfile::Builder::new()
            .prefix("keel-worktree-")
            .tempdir()
            .map_err(|source| Error::Io {
                action: "create",
                path: std::env::temp_dir(),
                source,
            })?;
        let path = dir.path().join("checkout");
        git(
            repo,
            &[
                "worktree",
                "add",
                "--quiet",
                "--detach",
                &path.to_string_lossy(),
                commit,
            ],
        )?;
        Ok(Worktree {
            repo: repo.to_owned(),
            _dir: dir,
            path,
        })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Worktree {
    fn drop(&mut self) {
        let _ = git(
            &self.repo,
            &[
                "worktree",
                "remove",
                "--force",
                &self.path.to_string_lossy(),
            ],
        );
    }
}

/// The repository's top folder.
pub fn toplevel(dir: &Path) -> Result<PathBuf, Error> {
    git(dir, &["rev-parse", "--show-toplevel"]).map(PathBuf::from)
}

/// The current branch, `None` when `HEAD` is detached.
pub fn current_branch(dir: &Path) -> Option<String> {
    git(dir, &["symbolic-ref", "--quiet", "--short", "HEAD"]).ok()
}
