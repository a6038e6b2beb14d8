//! The release pull request's commit: the bump and changelogs made in a worktree of `HEAD`,
//! so the user's checkout is left as it is, with the pull request's title and description.
//! Pushing it and opening the pull request is the GitHub client's part.

use std::path::{Path, PathBuf};

use keel_workspace::Workspace;

use crate::{BumpPlan, Error, FileEdit, Made, Options, Worktree};

/// A release commit being prepared in its own worktree (removed when this is dropped).
pub struct ReleaseCommit {
    worktree: Worktree,
    /// The workspace's root inside the worktree.
    pub root: PathBuf,
    /// The bump.
    pub plan: BumpPlan,
    /// Every file it writes, changelogs included.
    pub edits: Vec<FileEdit>,
    /// The pull request's title: the bump's commit message.
    pub title: String,
    /// The pull request's description: the plan and the new changelog sections.
    pub body: String,
}

/// Checks out `HEAD` of the repository holding `workspace` in a worktree and plans the bump
/// there (with its changelogs). Writes nothing in the worktree yet.
pub fn prepare_release_commit(
    workspace: &Workspace,
    options: &Options,
    today: &str,
) -> Result<ReleaseCommit, Error> {
    let top = crate::toplevel(&workspace.root)?;
    let worktree = Worktree::add(&top, "HEAD")?;
    let inside = workspace
        .manifest_path
        .strip_prefix(&top)
        .unwrap_or(Path::new("Cargo.toml"));
    let copy = Workspace::load(&worktree.path().join(inside))?;
    let plan = crate::plan(&copy, options)?;
    let edits = crate::bump_edits(&copy, &plan, true, today)?;
    let body = pull_body(&plan, &edits, &copy.root);
    Ok(ReleaseCommit {
        worktree,
        root: copy.root,
        title: plan.message.clone(),
        plan,
        edits,
        body,
    })
}

impl ReleaseCommit {
    /// Whether there is nothing to release.
    pub fn is_empty(&self) -> bool {
        self.plan.tags.is_empty() || self.edits.is_empty()
    }

    /// The worktree.
    pub fn path(&self) -> &Path {
        self.worktree.path()
    }

    /// Writes the edits in the worktree and commits them, as `identity` when git knows no
    /// committer there.
    pub fn commit(&self, identity: Option<(&str, &str)>) -> Result<Made, Error> {
        crate::apply(&self.edits)?;
        let paths: Vec<PathBuf> = self.edits.iter().map(|e| e.path.clone()).collect();
        let identity = identity.filter(|_| !crate::has_identity(self.path()));
        crate::commit_and_tag(self.path(), &paths, &self.title, &[], identity)
    }
}

/// The pull request's description: the plan and the changelogs' new sections.
fn pull_body(plan: &BumpPlan, edits: &[FileEdit], root: &Path) -> String {
    let mut body = String::from(
        "This pull request releases the versions below. Merge it, then tag the merge commit \
         (`keel bump --tag`, and `git push --follow-tags`) to start the release.\n\n\
         | package | version | why |\n|---|---|---|\n",
    );
    for p in plan.released() {
        let version = if p.changed {
            format!("{} → {}", p.old, p.new)
        } else {
            p.new.clone()
        };
        body.push_str(&format!(
            "| {} | {version} | {} |\n",
            p.name,
            p.why.replace('|', "\\|")
        ));
    }
    for edit in edits.iter().filter(|e| e.path.ends_with("CHANGELOG.md")) {
        for p in plan.released() {
            let section = keel_changelog::section(&edit.text, &p.new)
                .or_else(|| keel_changelog::section(&edit.text, &format!("{} {}", p.name, p.new)));
            if let Some(section) = section {
                let title = format!(
                    "\n## {} {} ({})\n\n",
                    p.name,
                    p.new,
                    keel_workspace::relative_display(&edit.path, root)
                );
                if !body.contains(&title) && !body.contains(&section) {
                    body.push_str(&title);
                    body.push_str(&section);
                    body.push('\n');
                }
            }
        }
    }
    body
}
