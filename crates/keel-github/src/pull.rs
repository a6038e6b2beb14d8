//! The release pull request: a branch pushed with the token kept out of every URL and
//! command line, and one pull request opened, or updated in place, never duplicated.

use std::path::Path;
use std::process::Command;

use base64::Engine;
use serde::Serialize;

use crate::{Client, Error, Repo};

/// Pushes `local` (a commit or ref) to the branch `branch` of `url`, replacing what is there.
/// The token goes to git as an HTTP header through git's environment configuration
/// (`GIT_CONFIG_COUNT`), never in the URL or the arguments, and no credential helper or
/// prompt is used. The header is scoped to GitHub's git host; an HTTP remote on another host
/// is refused.
pub fn push(
    client: &Client,
    dir: &Path,
    url: &str,
    local: &str,
    branch: &str,
) -> Result<(), Error> {
    // The token goes to GitHub's own git host only: git sends the header to that origin
    // alone, and a remote elsewhere over HTTP is refused (it would be asked for credentials).
    let base = client.git_base();
    let host = keel_http::origin(base).unwrap_or_else(|| base.to_owned());
    if let Some(remote) = keel_http::origin(url)
        && remote != host
    {
        return Err(Error::ForeignRemote {
            remote: keel_http::redact(url),
            host,
        });
    }
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("x-access-token:{}", client.token().secret()));
    let output = Command::new("git")
        .args([
            "push",
            "--quiet",
            "--force",
            url,
            &format!("{local}:refs/heads/{branch}"),
        ])
        .current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_COUNT", "2")
        .env("GIT_CONFIG_KEY_0", format!("http.{host}/.extraHeader"))
        .env(
            "GIT_CONFIG_VALUE_0",
            format!("Authorization: Basic {basic}"),
        )
        .env("GIT_CONFIG_KEY_1", "credential.helper")
        .env("GIT_CONFIG_VALUE_1", "")
        .output()
        .map_err(|err| Error::Push {
            branch: branch.to_owned(),
            message: format!("could not run git: {err}"),
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let secret = client.token().secret();
        let mut message = stderr.trim().to_owned();
        if !secret.is_empty() {
            message = message
                .replace(secret, "[redacted]")
                .replace(&basic, "[redacted]");
        }
        return Err(Error::Push {
            branch: branch.to_owned(),
            message,
        });
    }
    Ok(())
}

/// The pull request keel opens.
#[derive(Debug, Clone)]
pub struct PullSpec<'a> {
    /// The repository.
    pub repo: &'a Repo,
    /// The branch it comes from.
    pub branch: &'a str,
    /// The branch it merges into.
    pub base: &'a str,
    /// Its title.
    pub title: &'a str,
    /// Its description.
    pub body: &'a str,
}

/// What [`open_or_update`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PullOutcome {
    /// The pull request's number.
    pub number: u64,
    /// Its page.
    pub url: String,
    /// Whether it was opened now.
    pub created: bool,
    /// Whether an open one was changed.
    pub updated: bool,
}

/// Opens the pull request, or updates the open one from the same branch into the same base:
/// there is never a second.
pub fn open_or_update(client: &Client, spec: &PullSpec<'_>) -> Result<PullOutcome, Error> {
    let head = format!("{}:{}", spec.repo.owner, spec.branch);
    let update = |pull: crate::PullRequest| -> Result<PullOutcome, Error> {
        let same = pull.title == spec.title && pull.body.as_deref().unwrap_or("") == spec.body;
        let pull = if same {
            pull
        } else {
            client.update_pull(spec.repo, pull.number, spec.title, spec.body)?
        };
        Ok(PullOutcome {
            number: pull.number,
            url: pull.html_url,
            created: false,
            updated: !same,
        })
    };
    if let Some(pull) = client
        .open_pulls(spec.repo, &head, spec.base)?
        .into_iter()
        .next()
    {
        return update(pull);
    }
    match client.create_pull(spec.repo, spec.branch, spec.base, spec.title, spec.body) {
        Ok(pull) => Ok(PullOutcome {
            number: pull.number,
            url: pull.html_url,
            created: true,
            updated: false,
        }),
        // Another run opened it between the list and the create.
        Err(Error::Api {
            status: 422,
            message,
            ..
        }) if message.contains("already exists") => {
            match client
                .open_pulls(spec.repo, &head, spec.base)?
                .into_iter()
                .next()
            {
                Some(pull) => update(pull),
                None => Err(Error::Api {
                    method: "POST",
                    path: format!("/repos/{}/pulls", spec.repo),
                    status: 422,
                    message,
                }),
            }
        }
        Err(err) => Err(err),
    }
}
