//! `keel release-pr`: the next release's bump and changelogs, committed in a worktree of
//! `HEAD` (the checkout is left as it is), pushed to a branch, and the pull request into the
//! base branch opened or updated in place.

use serde::Serialize;

use keel_github::{Client, PullOutcome, PullSpec, Repo, Token};
use keel_version::PackageBump;
use keel_workspace::Workspace;

use crate::Error;

/// Who commits a release pull request when git knows no one (as on a CI runner).
const BOT: (&str, &str) = (
    "github-actions[bot]",
    "41898282+github-actions[bot]@users.noreply.github.com",
);

/// What `keel release-pr` does.
#[derive(Debug, Clone)]
pub struct ReleasePrOptions<'a> {
    /// The repository.
    pub repo: &'a Repo,
    /// The branch the pull request merges into (default: the current branch).
    pub base: Option<String>,
    /// The branch the release commit is pushed to.
    pub branch: &'a str,
    /// The git remote to push to (default: the repository on GitHub).
    pub remote: Option<&'a str>,
    /// Which versions.
    pub options: keel_version::Options,
    /// The date a version not yet tagged gets, `YYYY-MM-DD`.
    pub today: String,
    /// Change nothing; say what would be pushed.
    pub dry_run: bool,
}

/// What [`release_pr`] did: `keel release-pr`'s outcome.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum ReleasePr {
    /// Nothing to release: no pull request.
    Nothing {
        /// Every package, unchanged.
        packages: Vec<PackageBump>,
        /// Always `null`.
        pull_request: Option<PullOutcome>,
    },
    /// What would be pushed and opened.
    DryRun {
        /// Every package.
        packages: Vec<PackageBump>,
        /// The pull request's title.
        title: String,
        /// Its description.
        body: String,
        /// The branch.
        branch: String,
        /// The base branch.
        base: String,
        /// The files the commit changes.
        files: Vec<String>,
        /// Always `true`.
        dry_run: bool,
    },
    /// Pushed, and the pull request opened or updated.
    Done {
        /// Every package.
        packages: Vec<PackageBump>,
        /// The pull request's title.
        title: String,
        /// The branch.
        branch: String,
        /// The base branch.
        base: String,
        /// The release commit.
        commit: Option<String>,
        /// The files it changes.
        files: Vec<String>,
        /// The pull request.
        pull_request: PullOutcome,
    },
}

/// Makes the release commit for the workspace's next versions and opens (or updates) its
/// pull request on GitHub.
pub fn release_pr(workspace: &Workspace, o: &ReleasePrOptions<'_>) -> Result<ReleasePr, Error> {
    let top = keel_version::toplevel(&workspace.root)?;
    let base = match &o.base {
        Some(base) => base.clone(),
        None => keel_version::current_branch(&top).ok_or(Error::DetachedHead)?,
    };
    // The release branch is force-pushed: it is never the branch it merges into.
    if o.branch == base {
        return Err(Error::BranchIsBase { branch: base });
    }
    let token = match Token::from_env() {
        Some(token) => token,
        None if o.dry_run => Token::new(String::new()),
        None => return Err(keel_github::Error::NoToken.into()),
    };
    let client = Client::from_env(token);
    let release = keel_version::prepare_release_commit(workspace, &o.options, &o.today)?;
    let packages = release.plan.packages.clone();
    if release.is_empty() {
        return Ok(ReleasePr::Nothing {
            packages,
            pull_request: None,
        });
    }
    let files: Vec<String> = release
        .edits
        .iter()
        .map(|e| keel_workspace::relative_display(&e.path, &release.root))
        .collect();
    let (title, body) = (release.title.clone(), release.body.clone());
    if o.dry_run {
        return Ok(ReleasePr::DryRun {
            packages,
            title,
            body,
            branch: o.branch.to_owned(),
            base,
            files,
            dry_run: true,
        });
    }
    let url = o
        .remote
        .map_or_else(|| client.git_url(o.repo), str::to_owned);
    let made = release.commit(Some(BOT))?;
    keel_github::push(&client, release.path(), &url, "HEAD", o.branch)?;
    let pull_request = keel_github::open_or_update(
        &client,
        &PullSpec {
            repo: o.repo,
            branch: o.branch,
            base: &base,
            title: &title,
            body: &body,
        },
    )?;
    Ok(ReleasePr::Done {
        packages,
        title,
        branch: o.branch.to_owned(),
        base,
        commit: made.commit,
        files,
        pull_request,
    })
}
