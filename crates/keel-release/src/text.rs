//! Outcomes as text for people: what `keel` prints without `--format json`. The words name
//! what happened; the commands to run next are the binary's to add.

use std::fmt;

use keel_schema::{MANIFEST_FILE_NAME, human_size};

use crate::publish::{GithubPublished, StorePublished};
use crate::release_pr::ReleasePr;
use crate::{BuiltBinaries, Check, ImagesBuilt, Initialized, PushedImages, Released, Verification};

impl fmt::Display for Initialized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = &self.manifest;
        let added = [
            (self.added_config, "[workspace.metadata.keel]"),
            (self.added_profile, "[profile.dist]"),
        ];
        let added: Vec<&str> = added.iter().filter(|a| a.0).map(|a| a.1).collect();
        if added.is_empty() {
            write!(
                f,
                "{shown} already has [workspace.metadata.keel] and [profile.dist]; nothing changed"
            )
        } else {
            write!(f, "Added {} to {shown}", added.join(" and "))
        }
    }
}

impl fmt::Display for Released {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let manifest = &self.manifest;
        let what = match (&manifest.tag, &manifest.version) {
            (Some(tag), _) => tag.clone(),
            (None, Some(version)) => format!("version {version}"),
            (None, None) => "release".to_owned(),
        };
        writeln!(f, "Released {what} into {}", self.dir.display())?;
        let width = manifest
            .artifacts
            .keys()
            .map(String::len)
            .max()
            .unwrap_or(0);
        for (name, artifact) in &manifest.artifacts {
            let size = human_size(artifact.size);
            writeln!(f, "  {name:<width$}  {size:>10}  {}", artifact.kind)?;
        }
        write!(f, "  {MANIFEST_FILE_NAME}")
    }
}

impl fmt::Display for BuiltBinaries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = (self.binaries.iter())
            .map(|b| format!("{:<32} {}", b.target, b.path))
            .collect();
        f.write_str(&lines.join("\n"))
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<7} {} ({})",
            self.status.as_str(),
            self.file,
            self.check
        )?;
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

/// Every check, then how many passed.
impl fmt::Display for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for check in &self.checks {
            writeln!(f, "{check}")?;
        }
        let (total, failed, skipped) = (self.checks.len(), self.failed(), self.skipped());
        let ok = total - failed - skipped;
        write!(
            f,
            "{total} checks: {ok} ok, {failed} failed, {skipped} skipped"
        )
    }
}

impl fmt::Display for ImagesBuilt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Images added to {}", self.dir.display())?;
        for image in self.images {
            let (size, platforms) = (human_size(image.size), image.platforms.join(","));
            let digest = image.digest.as_deref().unwrap_or_default();
            write!(f, "\n  {}  {size}  {platforms}  {digest}", image.file)?;
        }
        Ok(())
    }
}

/// What was pushed (or would be), image by image.
impl fmt::Display for PushedImages<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.dry_run { "Would push" } else { "Pushed" };
        for (i, image) in self.images.iter().enumerate() {
            let (repository, digest) = (&image.repository, &image.digest);
            let newline = if i == 0 { "" } else { "\n" };
            write!(
                f,
                "{newline}{verb} {repository}@{digest} ({})",
                image.platforms.join(", ")
            )?;
            write!(f, "\n  tags: {}", image.tags.join(", "))?;
            if !self.dry_run {
                let by_tag = if image.referrers_by_tag {
                    " (under the sha256-<digest> tag: the registry has no referrers API)"
                } else {
                    ""
                };
                write!(
                    f,
                    "\n  {} blobs uploaded ({}), {} already there; {} referrers attached{by_tag}",
                    image.uploaded,
                    human_size(image.uploaded_bytes),
                    image.skipped,
                    image.referrers.len(),
                )?;
            }
        }
        Ok(())
    }
}

/// Writes `images` as lines, each ending in a newline.
fn images_then(f: &mut fmt::Formatter<'_>, images: &PushedImages<'_>) -> fmt::Result {
    if images.images.is_empty() {
        Ok(())
    } else {
        writeln!(f, "{images}")
    }
}

/// The images pushed, the store created, the archives and patches added.
impl fmt::Display for StorePublished {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let images = PushedImages {
            dry_run: false,
            images: &self.images,
        };
        images_then(f, &images)?;
        let (store, done) = (self.store.display(), &self.published);
        if done.created_root {
            writeln!(
                f,
                "Created the store {store} with its root of trust: give {store}/metadata/root.json to operators"
            )?;
        }
        for target in &done.targets {
            writeln!(f, "Published {target} to `{}`", self.channel)?;
        }
        for patch in &done.patches {
            writeln!(f, "Published the delta-update patch {patch}")?;
        }
        write!(
            f,
            "The store's metadata is at version {}; its timestamp expires in {} days (`keel store refresh` renews it).",
            done.version, self.timestamp_days
        )
    }
}

impl fmt::Display for GithubPublished {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (tag, repo, done) = (&self.tag, &self.repo, &self.published);
        let images = PushedImages {
            dry_run: self.dry_run,
            images: &self.images,
        };
        images_then(f, &images)?;
        let (uploaded, skipped) = (done.uploaded.len(), done.skipped.len());
        if self.dry_run {
            let api = &self.api;
            write!(
                f,
                "Would publish {tag} to {repo} ({api} API): {uploaded} to upload, {skipped} there already"
            )?;
            for request in &done.requests {
                write!(f, "\n  {request}")?;
            }
            Ok(())
        } else if done.already_published {
            let url = &done.url;
            write!(
                f,
                "{tag} is published on {repo} with every file already: {url}"
            )
        } else {
            let replaced = match done.replaced.len() {
                0 => String::new(),
                n => format!(", {n} replaced"),
            };
            write!(
                f,
                "Published {tag} to {repo}: {uploaded} uploaded, {skipped} there already{replaced}: {}",
                done.url
            )
        }
    }
}

impl fmt::Display for ReleasePr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let packages = match self {
            ReleasePr::Nothing { packages, .. }
            | ReleasePr::DryRun { packages, .. }
            | ReleasePr::Done { packages, .. } => packages,
        };
        for package in packages {
            writeln!(f, "{package}")?;
        }
        match self {
            ReleasePr::Nothing { .. } => write!(f, "Nothing to release, so no pull request."),
            ReleasePr::DryRun {
                title,
                body,
                branch,
                base,
                files,
                ..
            } => {
                let files = files.join(", ");
                writeln!(
                    f,
                    "Would push {title:?} ({files}) to {branch} and open a pull request into {base}:"
                )?;
                f.write_str(body.trim_end())
            }
            ReleasePr::Done {
                branch,
                base,
                pull_request,
                ..
            } => {
                let verb = match (pull_request.created, pull_request.updated) {
                    (true, _) => "Opened",
                    (false, true) => "Updated",
                    (false, false) => "Pushed the branch; up to date:",
                };
                let (number, url) = (pull_request.number, &pull_request.url);
                write!(
                    f,
                    "{verb} pull request #{number} ({branch} → {base}): {url}"
                )
            }
        }
    }
}
