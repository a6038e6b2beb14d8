//! `keel publish`: a release folder goes to GitHub Releases or to a release store, through
//! its gates in one order.
//!
//! 1. **Rehearsal**: an app that keeps databases needs a passing `keel rehearse` report
//!    bound to this release (signed by the store's key when publishing to a store), unless a
//!    waiver gives a reason ([`Publish::no_rehearsal`]).
//! 2. **Verification** (GitHub): every file checks out against the manifest; nothing is
//!    uploaded that does not.
//! 3. **Images**: each app's image goes to the registries its settings name, before the
//!    release that announces it ([`Publish::no_images`] skips them).
//! 4. **GitHub** (draft, upload, check, publish) or **the store** (targets, snapshot,
//!    timestamp last).
//!
//! [`publish`] returns a [`Published`] outcome that serializes as the command's
//! `--format json` output.

use std::path::{Path, PathBuf};

use keel_github::{Client, LocalFile, Publication, Repo, Token};
use keel_schema::{MANIFEST_FILE_NAME, Manifest};
use keel_sign::SigningKey;
use serde::Serialize;

use crate::{Error, PushedImage, ReleaseFolder};

/// Where a release goes.
#[derive(Debug)]
#[non_exhaustive]
pub enum Destination<'a> {
    /// A release store folder (created on first use).
    Store {
        /// The store's folder.
        path: &'a Path,
        /// The key that signs the store's roles (and the rehearsal report's check).
        key: &'a SigningKey,
        /// The key that holds a new store's root role (default: `key`).
        root_key: Option<&'a SigningKey>,
        /// Channel, expiry and patches.
        options: keel_store::PublishOptions<'a>,
        /// The time the metadata is signed at.
        now: jiff::Timestamp,
    },
    /// A GitHub repository's releases.
    Github {
        /// The repository.
        repo: &'a Repo,
        /// A Markdown file of notes to use instead of the ones made from the release.
        notes: Option<&'a Path>,
        /// The workspace the release was made from (its CHANGELOG.md and history), if known.
        workspace: Option<&'a Path>,
        /// Replace a draft's assets that differ.
        replace: bool,
        /// Change nothing; say what would be done.
        dry_run: bool,
    },
}

/// What to publish.
#[derive(Debug)]
pub struct Publish<'a> {
    /// The release folder.
    pub dir: &'a Path,
    /// Where it goes.
    pub destination: Destination<'a>,
    /// Publish without a passing rehearsal, for this reason.
    pub no_rehearsal: Option<&'a str>,
    /// Push no images.
    pub no_images: bool,
    /// Allow plain HTTP to a registry that is not on this machine (one the settings write
    /// with `http://`).
    pub insecure: bool,
}

/// What a publish to a store did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct StorePublished {
    /// The store's folder.
    pub store: PathBuf,
    /// What was added.
    #[serde(flatten)]
    pub published: keel_store::Published,
    /// The images pushed first.
    pub images: Vec<PushedImage>,
    /// The waiver's reason, when published without a rehearsal.
    pub no_rehearsal: Option<String>,
    /// The channel the archives were published to.
    #[serde(skip)]
    pub channel: String,
    /// Days until the new timestamp metadata expires.
    #[serde(skip)]
    pub timestamp_days: u32,
}

/// What a publish to GitHub did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct GithubPublished {
    /// `owner/name`.
    pub repo: String,
    /// The release's tag.
    pub tag: String,
    /// Whether nothing was changed.
    pub dry_run: bool,
    /// What GitHub holds now (or would): the page, the files uploaded, skipped, replaced.
    #[serde(flatten)]
    pub published: keel_github::Published,
    /// The images pushed first.
    pub images: Vec<PushedImage>,
    /// The API's address.
    #[serde(skip)]
    pub api: String,
}

/// What [`publish`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Published {
    /// To a store.
    Store(StorePublished),
    /// To GitHub Releases.
    Github(Box<GithubPublished>),
}

/// The installers of a release published to GitHub download from it: refused when they know
/// no download URL, or name another repository's releases on github.com.
fn installers_download_from(
    manifest: &keel_schema::Manifest,
    repo: &keel_github::Repo,
    tag: &str,
) -> Result<(), Error> {
    let has_installers =
        (manifest.artifacts.values()).any(|a| a.kind == keel_schema::ArtifactKind::Installer);
    let expected = format!("https://github.com/{repo}/releases/download/{tag}");
    match manifest.distribution.download_url.as_deref() {
        _ if !has_installers => Ok(()),
        None => Err(Error::NoDownloadUrl { expected }),
        Some(url)
            if url.starts_with("https://github.com/")
                && !url.trim_end_matches('/').eq_ignore_ascii_case(&expected) =>
        {
            Err(Error::InstallersElsewhere {
                url: url.to_owned(),
                expected,
            })
        }
        Some(_) => Ok(()),
    }
}

/// The rehearsal gate: `Ok` when the waiver gives a reason or every app with databases has
/// a passing rehearsal bound to this release (signed by `key`'s public key, when given).
pub fn rehearsal_required(
    folder: &ReleaseFolder,
    no_rehearsal: Option<&str>,
    key: Option<&keel_verify::minisign::PublicKey>,
) -> Result<(), Error> {
    if let Some(reason) = no_rehearsal {
        return if reason.trim().is_empty() {
            Err(Error::EmptyWaiver)
        } else {
            Ok(())
        };
    }
    let problems = crate::rehearsal_gate_of(folder, key)?;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::NotRehearsed {
            dir: folder.dir().to_owned(),
            problems,
        })
    }
}

/// Publishes the release in `p.dir` to its destination, through the gates in order; images
/// go through `progress`.
pub fn publish(
    p: &Publish<'_>,
    progress: &dyn keel_schema::progress::Progress,
) -> Result<Published, Error> {
    // The manifest is read once, here; every gate looks at this folder.
    let folder = ReleaseFolder::open(p.dir)?;
    match &p.destination {
        Destination::Store {
            path,
            key,
            root_key,
            options,
            now,
        } => {
            rehearsal_required(&folder, p.no_rehearsal, Some(&key.public_key()))?;
            // Images first: the store is what updaters follow, so what it points at is there.
            let images = images(p, false, progress)?;
            let published = keel_store::publish_release(
                path,
                p.dir,
                folder.manifest(),
                key,
                *root_key,
                options,
                *now,
            )?;
            Ok(Published::Store(StorePublished {
                store: path.to_path_buf(),
                published,
                images,
                no_rehearsal: p.no_rehearsal.map(|r| r.trim().to_owned()),
                channel: options.channel.to_owned(),
                timestamp_days: options.expiry.timestamp_days,
            }))
        }
        Destination::Github {
            repo,
            notes,
            workspace,
            replace,
            dry_run,
        } => {
            rehearsal_required(&folder, p.no_rehearsal, None)?;
            let waived = p.no_rehearsal.is_some();
            // Nothing is uploaded that does not match its manifest. A failed rehearsal is the
            // rehearsal gate's to judge, which the waiver overrides.
            let report = crate::verify_folder(&folder, None)?;
            let failures: Vec<String> = report
                .checks
                .iter()
                .filter(|c| {
                    c.status == crate::Status::Failed && !(c.check == "rehearsal" && waived)
                })
                .map(|c| format!("{} ({}): {}", c.file, c.check, c.detail))
                .collect();
            if !failures.is_empty() {
                return Err(Error::DoesNotCheckOut {
                    dir: p.dir.to_owned(),
                    failures,
                });
            }
            let manifest = folder.manifest();
            let made = crate::notes_of(&folder, *workspace, None)?;
            let tag = made.tag.clone().ok_or(Error::NoTag)?;
            installers_download_from(manifest, repo, &tag)?;
            let mut body = match notes {
                Some(path) => fs_err::read_to_string(path).map_err(|source| Error::Read {
                    path: path.to_path_buf(),
                    source,
                })?,
                None => made.body.clone(),
            };
            if waived && let Some(section) = crate::rehearsal_section(p.dir, p.no_rehearsal)? {
                body.push_str(&section);
            }
            let files = local_files(p.dir, manifest)?;
            let token = match Token::from_env() {
                Some(token) => token,
                None if *dry_run => Token::new(String::new()),
                None => return Err(keel_github::Error::NoToken.into()),
            };
            let client = Client::from_env(token);
            // Images first: the GitHub release announces the version, so what it points at
            // is there.
            let images = images(p, *dry_run, progress)?;
            let done = keel_github::publish(
                &client,
                &Publication {
                    repo,
                    tag: &tag,
                    title: &made.title,
                    notes: &body,
                    prerelease: manifest.prerelease,
                    commit: manifest.source.commit.as_deref(),
                    files: &files,
                    replace: *replace,
                    dry_run: *dry_run,
                },
            )?;
            Ok(Published::Github(Box::new(GithubPublished {
                repo: repo.to_string(),
                tag,
                dry_run: *dry_run,
                published: done,
                images,
                api: client.api().to_string(),
            })))
        }
    }
}

fn images(
    p: &Publish<'_>,
    dry_run: bool,
    progress: &dyn keel_schema::progress::Progress,
) -> Result<Vec<PushedImage>, Error> {
    if p.no_images {
        return Ok(Vec::new());
    }
    crate::publish_images(
        p.dir,
        dry_run,
        p.insecure,
        keel_oci::registry::Retry::default(),
        progress,
    )
}

/// Every file of the release, the manifest, the rehearsal report and their signatures
/// included.
fn local_files(dir: &Path, manifest: &Manifest) -> Result<Vec<LocalFile>, Error> {
    let mut files = Vec::new();
    for (name, artifact) in &manifest.artifacts {
        files.push(LocalFile {
            name: name.clone(),
            path: dir.join(name),
            size: artifact.size,
            sha256: artifact.sha256.clone(),
        });
    }
    for name in [
        MANIFEST_FILE_NAME.to_owned(),
        format!("{MANIFEST_FILE_NAME}.minisig"),
        keel_schema::rehearsal::REHEARSAL_FILE_NAME.to_owned(),
        crate::rehearsal_signature_name(),
    ] {
        let path = dir.join(&name);
        if path.is_file() {
            let (digest, size) = keel_verify::sha256_file(&path)?;
            files.push(LocalFile {
                name,
                path,
                size,
                sha256: digest.to_hex(),
            });
        }
    }
    Ok(files)
}
