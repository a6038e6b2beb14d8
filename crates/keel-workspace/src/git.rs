//! What git says about the workspace: the commit, whether the tree is dirty, the commit time.

use std::path::Path;
use std::process::Command;

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
    let git = |args: &[&str]| -> Option<String> {
        let output = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_OPTIONAL_LOCKS", "0")
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    let line = git(&["log", "-1", "--format=%H %ct"])?;
    let (commit, time) = line.split_once(' ')?;
    let status = git(&["status", "--porcelain", "--untracked-files=no"])?;
    Some(GitInfo {
        commit: commit.to_owned(),
        dirty: !status.is_empty(),
        commit_time: time.parse().ok()?,
    })
}
