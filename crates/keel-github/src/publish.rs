//! Publishing a release folder to GitHub Releases, safely and idempotently.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::client::{Asset, Client, Release, ReleaseChanges};
use crate::{Error, Repo};

/// A file to put on the release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFile {
    /// Its name on the release.
    pub name: String,
    /// Where it is.
    pub path: PathBuf,
    /// Its size.
    pub size: u64,
    /// Its sha256, lowercase hex.
    pub sha256: String,
}

/// What to publish.
#[derive(Debug, Clone)]
pub struct Publication<'a> {
    /// The repository.
    pub repo: &'a Repo,
    /// The tag.
    pub tag: &'a str,
    /// The release's title.
    pub title: &'a str,
    /// The release notes (Markdown).
    pub notes: &'a str,
    /// Whether it is a pre-release (then it never becomes the latest release).
    pub prerelease: bool,
    /// The commit GitHub makes the tag at when the tag does not exist yet.
    pub commit: Option<&'a str>,
    /// The files.
    pub files: &'a [LocalFile],
    /// Whether assets that differ from the local files are replaced: in a draft only; a
    /// published release's files are never replaced.
    pub replace: bool,
    /// Whether to change nothing and return the requests it would make.
    pub dry_run: bool,
}

/// What [`publish`] did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Published {
    /// The release's page.
    pub url: String,
    /// Whether this run created the draft.
    pub created: bool,
    /// Whether the release was published already, with every file, so nothing changed.
    pub already_published: bool,
    /// The files uploaded.
    pub uploaded: Vec<String>,
    /// The files that were there already, the same.
    pub skipped: Vec<String>,
    /// The assets replaced (`replace`).
    pub replaced: Vec<String>,
    /// Half-made assets that an interrupted upload had left, deleted.
    pub cleaned: Vec<String>,
    /// Each request that changes something, in order (`POST /repos/o/r/releases`, ...).
    pub requests: Vec<String>,
}

/// What to do with one local file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Skip,
    Upload,
    /// A half-made asset is in the way: delete it, then upload.
    Clean(u64),
    /// A different asset is in the way: delete it (with `replace`), then upload.
    Replace(u64),
}

fn same(asset: &Asset, file: &LocalFile) -> Option<bool> {
    if asset.size != file.size {
        return Some(false);
    }
    asset
        .digest
        .as_deref()
        .map(|digest| digest.strip_prefix("sha256:") == Some(file.sha256.as_str()))
}

fn decide(asset: Option<&Asset>, file: &LocalFile, published: bool) -> Action {
    match asset {
        None => Action::Upload,
        Some(asset) if asset.state != "uploaded" => Action::Clean(asset.id),
        Some(asset) => match same(asset, file) {
            Some(true) => Action::Skip,
            // Without a digest (older GitHub Enterprise Server), a published release's file of
            // the right size is taken as it is; a draft's is uploaded again to be sure.
            None if published => Action::Skip,
            None | Some(false) => Action::Replace(asset.id),
        },
    }
}

/// Puts `p.files` on the GitHub release for `p.tag`, and publishes it, in the order that keeps
/// every published release complete: the release is found (drafts included) or created as a
/// draft; every file not already there is uploaded, and what an interrupted upload left is
/// deleted first; the uploads are checked against the local files; only then are the notes set
/// and the release published (`make_latest` only for a release that is not a pre-release).
/// Re-running after any failure finishes the job.
pub fn publish(client: &Client, p: &Publication<'_>) -> Result<Published, Error> {
    let mut done = Published::default();
    let repo = p.repo;
    let releases_path = format!("/repos/{repo}/releases");
    let existing = the_release(client.releases(repo)?, p.tag);
    let Some(release) = existing else {
        done.created = true;
        done.requests
            .push(format!("POST {releases_path} (a draft for {})", p.tag));
        if p.dry_run {
            for file in p.files {
                done.requests
                    .push(format!("POST upload {} ({} bytes)", file.name, file.size));
                done.uploaded.push(file.name.clone());
            }
            done.requests
                .push(format!("PATCH {releases_path}/ID (notes, then publish)"));
            return Ok(done);
        }
        let draft = client.create_release(
            repo,
            p.tag,
            &ReleaseChanges {
                name: Some(p.title.to_owned()),
                body: Some(p.notes.to_owned()),
                draft: Some(true),
                prerelease: Some(p.prerelease),
                make_latest: None,
                target_commitish: p.commit.map(str::to_owned),
            },
        )?;
        // Another publisher may have made a draft for the tag at the same time (GitHub
        // allows several): every publisher goes on with the same one, and drops its own.
        let chosen = the_release(client.releases(repo)?, p.tag).unwrap_or_else(|| draft.clone());
        if chosen.id != draft.id {
            done.created = false;
            done.requests.push(format!(
                "DELETE {releases_path}/{} (a second draft)",
                draft.id
            ));
            client.delete_release(repo, draft.id)?;
        }
        return finish(client, p, chosen, done);
    };
    finish(client, p, release, done)
}

/// The release of `tag` to work on: the published one, else the oldest draft (so that
/// publishers racing for one tag all go on with the same draft).
fn the_release(releases: Vec<Release>, tag: &str) -> Option<Release> {
    (releases.into_iter())
        .filter(|r| r.tag_name == tag)
        .min_by_key(|r| (r.draft, r.id))
}

fn finish(
    client: &Client,
    p: &Publication<'_>,
    release: Release,
    mut done: Published,
) -> Result<Published, Error> {
    let repo = p.repo;
    let published = !release.draft;
    let assets: BTreeMap<String, Asset> = client
        .assets(repo, release.id)?
        .into_iter()
        .map(|a| (a.name.clone(), a))
        .collect();
    let plan: Vec<(&crate::LocalFile, Action)> = p
        .files
        .iter()
        .map(|file| (file, decide(assets.get(&file.name), file, published)))
        .collect();
    let differing: Vec<String> = plan
        .iter()
        .filter(|(_, action)| matches!(action, Action::Replace(_)))
        .map(|(file, _)| file.name.clone())
        .collect();
    let missing: Vec<String> = plan
        .iter()
        .filter(|(_, action)| !matches!(action, Action::Skip | Action::Replace(_)))
        .map(|(file, _)| file.name.clone())
        .collect();
    done.url = release.html_url.clone();
    if published && missing.is_empty() && differing.is_empty() {
        done.already_published = true;
        done.skipped = p.files.iter().map(|f| f.name.clone()).collect();
        return Ok(done);
    }
    if published && release.immutable {
        let what = if differing.is_empty() {
            format!("its files cannot be added ({} missing)", missing.join(", "))
        } else {
            format!("its files cannot be replaced ({})", differing.join(", "))
        };
        return Err(Error::Immutable {
            tag: p.tag.to_owned(),
            what,
        });
    }
    if published && !differing.is_empty() {
        return Err(Error::PublishedDiffers {
            tag: p.tag.to_owned(),
            names: differing,
        });
    }
    if !differing.is_empty() && !p.replace {
        return Err(Error::Differs {
            tag: p.tag.to_owned(),
            names: differing,
        });
    }
    let assets_path = format!("/repos/{repo}/releases/assets");
    for (file, action) in &plan {
        match action {
            Action::Skip => {
                done.skipped.push(file.name.clone());
                continue;
            }
            Action::Clean(id) | Action::Replace(id) => {
                done.requests
                    .push(format!("DELETE {assets_path}/{id} ({})", file.name));
                if !p.dry_run {
                    client.delete_asset(repo, *id)?;
                }
                match action {
                    Action::Clean(_) => done.cleaned.push(file.name.clone()),
                    _ => done.replaced.push(file.name.clone()),
                }
            }
            Action::Upload => {}
        }
        done.requests
            .push(format!("POST upload {} ({} bytes)", file.name, file.size));
        if !p.dry_run {
            upload(client, repo, &release, file, &mut done)?;
        }
        done.uploaded.push(file.name.clone());
    }
    done.requests.push(format!(
        "PATCH /repos/{repo}/releases/{} (notes{})",
        release.id,
        if published { "" } else { ", then publish" }
    ));
    if p.dry_run {
        return Ok(done);
    }
    // Nothing is published until every file is there, whole.
    let now: BTreeMap<String, Asset> = client
        .assets(repo, release.id)?
        .into_iter()
        .map(|a| (a.name.clone(), a))
        .collect();
    for file in p.files {
        let complete = now
            .get(&file.name)
            .is_some_and(|a| a.state == "uploaded" && same(a, file) != Some(false));
        if !complete {
            return Err(Error::GaveUp {
                method: "POST",
                path: format!("upload {}", file.name),
                attempts: client.retry().attempts,
                last: "the release does not list it whole after the upload".into(),
            });
        }
    }
    let published_now = client.update_release(
        repo,
        release.id,
        &ReleaseChanges {
            name: Some(p.title.to_owned()),
            body: Some(p.notes.to_owned()),
            draft: Some(false),
            prerelease: Some(p.prerelease),
            make_latest: Some(if p.prerelease { "false" } else { "true" }.to_owned()),
            target_commitish: None,
        },
    );
    let final_release = match published_now {
        // Another publisher published the tag first: its release is the one; this draft is
        // dropped, and the published release is checked against the local files.
        Err(Error::Api { status: 422, .. }) if !published => {
            let Some(other) = the_release(client.releases(repo)?, p.tag).filter(|r| !r.draft)
            else {
                return published_now.map(|_| done);
            };
            done.requests.push(format!(
                "DELETE /repos/{repo}/releases/{} (a second draft)",
                release.id
            ));
            client.delete_release(repo, release.id)?;
            let again = Published {
                requests: std::mem::take(&mut done.requests),
                ..Published::default()
            };
            return finish(client, p, other, again);
        }
        other => other?,
    };
    done.url = final_release.html_url;
    Ok(done)
}

/// Uploads one file, retrying what failed on the way: after a failure the asset list says
/// whether the file arrived whole after all, or left a half-made asset to delete first.
fn upload(
    client: &Client,
    repo: &Repo,
    release: &Release,
    file: &LocalFile,
    done: &mut Published,
) -> Result<(), Error> {
    let retry = client.retry();
    let mut delay = retry.first_delay;
    let mut last = String::new();
    for attempt in 1..=retry.attempts {
        let outcome = match client.upload(release, &file.name, &file.path) {
            Ok(outcome) => outcome,
            // `422 already_exists`: a previous attempt got further than it seemed.
            Err(Error::Api {
                status: 422,
                message,
                ..
            }) => Err(message),
            Err(err) => return Err(err),
        };
        match outcome {
            Ok(asset) if same(&asset, file) != Some(false) => return Ok(()),
            Ok(asset) => {
                last = format!(
                    "GitHub stored {} bytes with digest {:?}",
                    asset.size, asset.digest
                );
            }
            Err(why) => last = why,
        }
        // What is there now under that name?
        let there = client
            .assets(repo, release.id)?
            .into_iter()
            .find(|a| a.name == file.name);
        if let Some(asset) = there {
            if asset.state == "uploaded" && same(&asset, file) == Some(true) {
                return Ok(());
            }
            client.delete_asset(repo, asset.id)?;
            done.cleaned.push(file.name.clone());
        }
        if attempt < retry.attempts {
            std::thread::sleep(delay);
            delay = delay.saturating_mul(2);
        }
    }
    Err(Error::GaveUp {
        method: "POST",
        path: format!("upload {}", file.name),
        attempts: retry.attempts,
        last,
    })
}
