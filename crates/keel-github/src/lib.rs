//! GitHub Releases for keel: a small REST client and the publishing procedure that never leaves
//! a published release with files missing.
//!
//! [`Client`] speaks the parts of GitHub's REST API keel needs (releases, their assets, uploads)
//! with a token that is never shown ([`Token`]), retries with backoff on server errors and
//! network failures, and waits out rate limits (`Retry-After`, `x-ratelimit-reset`). Its base
//! URL comes from `KEEL_GITHUB_API_URL` for GitHub Enterprise Server (and the tests' own
//! server).
//!
//! [`publish`] puts a release on GitHub in an order that is safe with immutable releases: find
//! the release for the tag (drafts too, which only the release list shows) or create it as a
//! **draft**; upload every file not already there (the same size and digest), deleting what an
//! interrupted upload left half-made; check the list; then set the notes and publish. A run
//! that fails at any step leaves a draft the next run completes.
//!
//! This crate never prints; [`publish`] returns what it did, or, with `dry_run`, what it would
//! do.
#![deny(missing_docs)]

mod client;
mod publish;
mod pull;

pub use client::{Asset, Client, PullRequest, Release, ReleaseChanges, Retry, Token};
pub use publish::{LocalFile, Publication, Published, publish};
pub use pull::{PullOutcome, PullSpec, open_or_update, push};

use std::path::PathBuf;

/// A repository on GitHub, `OWNER/NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    /// The owner (user or organisation).
    pub owner: String,
    /// The repository's name.
    pub name: String,
}

impl Repo {
    /// Reads `OWNER/NAME`.
    pub fn parse(text: &str) -> Result<Repo, Error> {
        let valid = |part: &str| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        match text.split_once('/') {
            Some((owner, name)) if valid(owner) && valid(name) => Ok(Repo {
                owner: owner.to_owned(),
                name: name.to_owned(),
            }),
            _ => Err(Error::BadRepo {
                given: text.to_owned(),
            }),
        }
    }
}

impl std::fmt::Display for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// Why talking to GitHub failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The certificates keel trusts could not be loaded.
    #[error(transparent)]
    Trust(keel_http::TrustError),
    /// The API's server answered keel's HTTPS in plain HTTP (an `https://` URL in
    /// `KEEL_GITHUB_API_URL` for a server that speaks plain HTTP).
    #[error("{origin} answers plain HTTP, not HTTPS")]
    PlainHttpServer {
        /// The server's origin (`https://host:port`).
        origin: String,
    },
    /// The API's host has no address here: no network, or no name service.
    #[error("cannot reach {host}: {cause}")]
    Unreachable {
        /// The host.
        host: String,
        /// What the connection said.
        cause: String,
    },
    /// No token in `GITHUB_TOKEN` or `GH_TOKEN`.
    #[error("no GitHub token: GITHUB_TOKEN and GH_TOKEN are not set")]
    NoToken,
    /// The repository is not `OWNER/NAME`.
    #[error("`{given}` is not a GitHub repository (`OWNER/NAME`)")]
    BadRepo {
        /// What was given.
        given: String,
    },
    /// GitHub refused the token.
    #[error("GitHub refused the token for {method} {path} ({status}: {message})")]
    Unauthorized {
        /// The request's method.
        method: &'static str,
        /// The request's path.
        path: String,
        /// The status.
        status: u16,
        /// GitHub's message.
        message: String,
    },
    /// GitHub answered with an error.
    #[error("GitHub answered {method} {path} with {status}: {message}")]
    Api {
        /// The request's method.
        method: &'static str,
        /// The request's path.
        path: String,
        /// The status.
        status: u16,
        /// GitHub's message.
        message: String,
    },
    /// GitHub kept failing, or could not be reached, after every retry.
    #[error("{method} {path} failed {attempts} times; the last time: {last}")]
    GaveUp {
        /// The request's method.
        method: &'static str,
        /// The request's path.
        path: String,
        /// How many times it was tried.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// A rate limit resets later than keel waits.
    #[error("GitHub's rate limit for {path} resets in {seconds} s, longer than keel waits")]
    RateLimited {
        /// The request's path.
        path: String,
        /// How long until it resets.
        seconds: u64,
    },
    /// GitHub's answer is not what its documentation describes.
    #[error("GitHub's answer to {method} {path} is not what keel expects")]
    Answer {
        /// The request's method.
        method: &'static str,
        /// The request's path.
        path: String,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// A release asset differs from the local file of that name.
    #[error("the release {tag} already has {} that differ from the local files: {}", names.len(), names.join(", "))]
    Differs {
        /// The tag.
        tag: String,
        /// The assets that differ.
        names: Vec<String>,
    },
    /// A published release has assets that differ from the local files: its files are what
    /// installers and users checked, so they are never replaced (`replace` is for drafts).
    #[error("the release {tag} is published, and {} differ from the local files: {}; a published release's files are never replaced", names.len(), names.join(", "))]
    PublishedDiffers {
        /// The tag.
        tag: String,
        /// The assets that differ.
        names: Vec<String>,
    },
    /// The release is published and immutable: its assets cannot change.
    #[error("the release {tag} is published and immutable: {what}")]
    Immutable {
        /// The tag.
        tag: String,
        /// What cannot be done.
        what: String,
    },
    /// The remote to push to is on another host than GitHub's, which must not see the token.
    #[error(
        "the remote {remote} is not on {host}: the release branch is pushed to the GitHub host the token belongs to"
    )]
    ForeignRemote {
        /// The remote (credentials removed).
        remote: String,
        /// GitHub's git host.
        host: String,
    },
    /// `git push` failed.
    #[error("could not push the branch {branch}: {message}")]
    Push {
        /// The branch.
        branch: String,
        /// What git said.
        message: String,
    },
    /// A local file could not be read.
    #[error("could not read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// What to do about the error, when that needs no command-line flag (the `keel` binary
    /// adds the hints that name its flags).
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Error::NoToken => {
                "set GITHUB_TOKEN (or GH_TOKEN) to a token that may write the repository's contents"
            }
            Error::Unauthorized { .. } => {
                "check that GITHUB_TOKEN is current and may write the repository's contents (`contents: write`)"
            }
            Error::Immutable { .. } => {
                "publish a new version instead: a published immutable release cannot be changed"
            }
            Error::PublishedDiffers { .. } => {
                "publish a new version instead; installers and users pinned the sha256 of the published files"
            }
            Error::Unreachable { .. } => {
                "check this machine's network connection and name service (and HTTPS_PROXY where a proxy is the way out), then run the same command again: it finishes what is left"
            }
            Error::PlainHttpServer { .. } => {
                "write KEEL_GITHUB_API_URL with `http://` in front: without it keel speaks HTTPS"
            }
            Error::GaveUp { .. } => "run the same command again: it finishes what is left",
            Error::Trust(_) => {
                "set SSL_CERT_FILE to a PEM file of the certificate authorities to trust, or unset it"
            }
            _ => return None,
        })
    }
}
