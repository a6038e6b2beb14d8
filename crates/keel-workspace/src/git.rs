//! Running git, once for all of keel (changelogs, versions, the workspace's state), and what
//! git says about the workspace: the commit, whether the tree is dirty, the commit time.

use std::path::Path;
use std::process::Command;

/// Why a git command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GitError {
    /// `git` could not be started.
    #[error("could not run git")]
    Spawn(#[source] std::io::Error),
    /// `git` failed.
    #[error("`git {args}` failed: {stderr}")]
    Failed {
        /// The arguments.
        args: String,
        /// What it printed on stderr.
        stderr: String,
    },
}

/// Runs `git args` in `dir` (without taking optional locks, so a read never blocks another
/// git); returns its standard output.
pub fn run(dir: &Path, args: &[&str]) -> Result<String, GitError> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output()
        .map_err(GitError::Spawn)?;
    if !output.status.success() {
        return Err(GitError::Failed {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Whether `git args` in `dir` succeeds.
pub fn succeeds(dir: &Path, args: &[&str]) -> bool {
    run(dir, args).is_ok()
}

/// The state of the git repository holding a workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitInfo {
    /// The full hash of `HEAD`.
    pub commit: String,
    /// Whether tracked files have uncommitted changes.
    pub dirty: bool,
    /// The committer time of `HEAD`, in seconds since the Unix epoch.
    pub commit_time: u64,
}

/// Reads the git state of the repository containing `dir`; `None` when `dir` is not in a git
/// repository with at least one commit, or git is not installed.
pub fn git_info(dir: &Path) -> Option<GitInfo> {
    let git = |args: &[&str]| run(dir, args).ok().map(|out| out.trim().to_owned());
    let line = git(&["log", "-1", "--format=%H %ct"])?;
    let (commit, time) = line.split_once(' ')?;
    let status = git(&["status", "--porcelain", "--untracked-files=no"])?;
    Some(GitInfo {
        commit: commit.to_owned(),
        dirty: !status.is_empty(),
        commit_time: time.parse().ok()?,
    })
}
