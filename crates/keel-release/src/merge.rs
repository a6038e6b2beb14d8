//! Joining the partial releases that CI runners wrote for their targets into one release,
//! with one `SHA256SUMS`, one provenance and one manifest over every artifact.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use keel_schema::{ArtifactKind, Manifest};

use crate::files::{Whole, copy_checked, write_release_files};
use crate::folder::ReleaseFolder;
use crate::staging::Staging;
use crate::{Error, ReleaseEnv, Released};

/// Joins the partial releases in `partials` (each the output of a release of some targets of
/// the same commit, tag and version) into one release in `out`: every file is checked against
/// its manifest and copied, and `SHA256SUMS`, the provenance, the signatures (with a key) and
/// the manifest are written anew over all of them.
pub fn merge(
    partials: &[PathBuf],
    out: &Path,
    key: Option<&keel_sign::SigningKey>,
    env: &ReleaseEnv,
) -> Result<Released, Error> {
    // Each artifact's folder and the sha256 its manifest gives.
    let mut sources: BTreeMap<String, (PathBuf, String)> = BTreeMap::new();
    let mut merged: Option<Manifest> = None;
    // The merged release has installers and a page when its partials had them.
    let (mut installers, mut page) = (false, false);
    for dir in partials {
        let manifest = ReleaseFolder::open_checked(dir)?.into_manifest();
        installers |= manifest
            .artifacts
            .values()
            .any(|a| a.kind == ArtifactKind::Installer);
        page |= manifest
            .artifacts
            .values()
            .any(|a| a.kind == ArtifactKind::Page);
        for (name, artifact) in &manifest.artifacts {
            if !artifact.kind.covers_release() {
                sources
                    .entry(name.clone())
                    .or_insert_with(|| (dir.clone(), artifact.sha256.clone()));
            }
        }
        match &mut merged {
            None => merged = Some(manifest),
            Some(merged) => merged.merge(manifest).map_err(|source| Error::Merge {
                dir: dir.clone(),
                source,
            })?,
        }
    }
    let mut manifest = merged.ok_or(Error::NoPartials)?;
    let rehearsal = crate::rehearsal::rehearsals_of(partials)?;
    manifest
        .artifacts
        .retain(|_, artifact| !artifact.kind.covers_release());

    let staging = Staging::prepare(out.to_owned())?;
    for (name, (dir, sha256)) in &sources {
        let expected_size = manifest.artifacts.get(name).map_or(0, |a| a.size);
        copy_checked(
            &dir.join(name),
            &staging.path().join(name),
            expected_size,
            sha256,
        )?;
    }
    let github = env.github_run();
    let whole = Whole {
        key,
        github: github.as_ref(),
        installers,
        page,
    };
    write_release_files(staging.path(), &mut manifest, &whole)?;
    let dir = staging.finish(&manifest, key)?;
    if let Some(rehearsal) = rehearsal {
        crate::rehearsal::write_rebound_rehearsal(rehearsal, &dir, &manifest, key)?;
    }
    Ok(Released { manifest, dir })
}
