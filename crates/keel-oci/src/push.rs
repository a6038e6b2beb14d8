//! Pulling a base image for one platform, and pushing an image (its blobs, manifests, index,
//! tags and referrers) to a registry.

use crate::image::{Base, Blob, Descriptor, Index, Manifest, Platform};
use crate::layout::Layout;
use crate::reference::Reference;
use crate::registry::Registry;
use crate::{Error, media};

/// Pulls the image of `platform` from the base `reference`, which must carry a digest: the
/// index or manifest it names is checked against that digest, then every blob against its own.
pub fn pull_base(
    registry: &Registry,
    reference: &Reference,
    platform: &Platform,
) -> Result<Base, Error> {
    let digest = reference.digest.as_deref().ok_or_else(|| Error::BadReference {
        reference: reference.to_string(),
        reason: "a base image must be pinned by digest (`...@sha256:<hex>`), so that every build uses the same bytes".to_owned(),
    })?;
    let repository = &reference.repository;
    let not_found = || Error::BadDocument {
        what: reference.to_string(),
        reason: "the registry has no manifest with that digest".to_owned(),
    };
    let top = registry
        .get_manifest(repository, digest)?
        .ok_or_else(not_found)?;
    let (manifest_blob, manifest_digest) = if media::is_index(&top.media_type) {
        let index: Index = serde_json::from_slice(&top.data).map_err(|err| Error::BadDocument {
            what: reference.to_string(),
            reason: err.to_string(),
        })?;
        let candidates: Vec<&Descriptor> = index
            .manifests
            .iter()
            .filter(|d| d.platform.as_ref().is_some_and(|p| platform.accepts(p)))
            .collect();
        let Some(chosen) = candidates.first() else {
            let mut available: Vec<String> = index
                .manifests
                .iter()
                .filter_map(|d| d.platform.as_ref())
                .filter(|p| p.os != "unknown")
                .map(Platform::to_string)
                .collect();
            available.sort();
            available.dedup();
            return Err(Error::NoPlatform {
                reference: reference.to_string(),
                platform: platform.to_string(),
                available: if available.is_empty() {
                    "none".to_owned()
                } else {
                    available.join(", ")
                },
            });
        };
        let blob = registry
            .get_manifest(repository, &chosen.digest)?
            .ok_or_else(not_found)?;
        let digest = chosen.digest.clone();
        (blob, digest)
    } else {
        (top, digest.to_owned())
    };
    let manifest: Manifest =
        serde_json::from_slice(&manifest_blob.data).map_err(|err| Error::BadDocument {
            what: format!("{reference} ({manifest_digest})"),
            reason: err.to_string(),
        })?;
    let config_blob = registry.get_blob(repository, &manifest.config)?;
    let config: serde_json::Value =
        serde_json::from_slice(&config_blob.data).map_err(|err| Error::BadDocument {
            what: format!("the configuration of {reference}"),
            reason: err.to_string(),
        })?;
    let config_platform = Platform {
        architecture: config["architecture"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        os: config["os"].as_str().unwrap_or_default().to_owned(),
        variant: config["variant"].as_str().map(str::to_owned),
    };
    if !platform.accepts(&config_platform) {
        return Err(Error::NoPlatform {
            reference: reference.to_string(),
            platform: platform.to_string(),
            available: config_platform.to_string(),
        });
    }
    let mut layers = Vec::new();
    for descriptor in &manifest.layers {
        let mut blob = registry.get_blob(repository, descriptor)?;
        if blob.media_type == media::DOCKER_LAYER_GZIP {
            // The same bytes under the OCI name, so that the image stays one format.
            blob.media_type = media::LAYER_GZIP.to_owned();
        }
        layers.push(blob);
    }
    Ok(Base {
        reference: reference.to_string(),
        manifest_digest,
        config,
        layers,
    })
}

/// The tags a release's image gets: `vX.Y.Z` always; for a stable version, `vX.Y` when no
/// higher stable `vX.Y.*` is tagged and `latest` when no higher stable version is tagged.
pub fn tags_for(version: &semver::Version, existing: &[String]) -> Vec<String> {
    let mut tags = vec![format!("v{version}")];
    if !version.pre.is_empty() {
        return tags;
    }
    let stable: Vec<semver::Version> = existing
        .iter()
        .filter_map(|tag| tag.strip_prefix('v'))
        .filter_map(|v| semver::Version::parse(v).ok())
        .filter(|v| v.pre.is_empty())
        .collect();
    if !stable
        .iter()
        .any(|v| v.major == version.major && v.minor == version.minor && v > version)
    {
        tags.push(format!("v{}.{}", version.major, version.minor));
    }
    if !stable.iter().any(|v| v > version) {
        tags.push("latest".to_owned());
    }
    tags
}

/// A file attached to the pushed image as a referrer.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// Its artifact type ([`media::CYCLONEDX`], [`media::IN_TOTO`]).
    pub artifact_type: String,
    /// Its file name.
    pub file_name: String,
    /// Its bytes.
    pub blob: Blob,
}

/// What a push did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pushed {
    /// The digest of what the tags point at.
    pub digest: String,
    /// Blobs uploaded, and their bytes.
    pub uploaded: usize,
    /// Bytes uploaded.
    pub uploaded_bytes: u64,
    /// Blobs the registry had already.
    pub skipped: usize,
    /// The tags set.
    pub tags: Vec<String>,
    /// The digests of the referrers pushed.
    pub referrers: Vec<String>,
    /// Whether referrers were recorded under the `sha256-<hex>` fallback tag (the registry
    /// has no referrers API).
    pub referrers_by_tag: bool,
}

/// A push reports each blob ([`Event::Blob`]) and each manifest, index or tag
/// ([`Event::Manifest`]) to keel's one progress trait.
pub use keel_schema::progress::{Event, Progress, Silent};

/// Pushes the image or index `top` of `layout` to `repository` with `tags`, then each
/// attachment as a referrer of `top`. Tags are set last, so a failed push never moves one.
#[allow(clippy::too_many_arguments)]
pub fn push(
    registry: &Registry,
    repository: &str,
    layout: &Layout,
    top: &Descriptor,
    tags: &[String],
    attachments: &[Attachment],
    created: &str,
    progress: &dyn Progress,
) -> Result<Pushed, Error> {
    let mut pushed = Pushed {
        digest: top.digest.clone(),
        ..Pushed::default()
    };
    let missing = |digest: &str| Error::BadLayout {
        path: "layout".into(),
        reason: format!("blob {digest} is missing"),
    };
    let send_blob =
        |blob: &Blob, pushed: &mut Pushed, progress: &dyn Progress| -> Result<(), Error> {
            let uploaded = registry.push_blob(repository, blob)?;
            if uploaded {
                pushed.uploaded += 1;
                pushed.uploaded_bytes += blob.data.len() as u64;
            } else {
                pushed.skipped += 1;
            }
            progress.event(&Event::Blob {
                digest: &blob.digest,
                size: blob.data.len() as u64,
                uploaded,
            });
            Ok(())
        };
    let images = layout.images(top)?;
    for (descriptor, manifest) in &images {
        for blob_descriptor in std::iter::once(&manifest.config).chain(&manifest.layers) {
            let blob = layout
                .blob(&blob_descriptor.digest)
                .ok_or_else(|| missing(&blob_descriptor.digest))?;
            send_blob(blob, &mut pushed, progress)?;
        }
        if descriptor.digest != top.digest {
            let blob = layout
                .blob(&descriptor.digest)
                .ok_or_else(|| missing(&descriptor.digest))?;
            registry.put_manifest(repository, &descriptor.digest, blob)?;
            progress.event(&Event::Manifest(&descriptor.digest));
        }
    }
    let top_blob = layout
        .blob(&top.digest)
        .ok_or_else(|| missing(&top.digest))?;
    registry.put_manifest(repository, &top.digest, top_blob)?;
    progress.event(&Event::Manifest(&top.digest));
    let subject = top_blob.descriptor();
    for attachment in attachments {
        let (manifest, empty) = crate::image::referrer(
            &subject,
            &attachment.artifact_type,
            &attachment.file_name,
            &attachment.blob,
            created,
        );
        send_blob(&empty, &mut pushed, progress)?;
        send_blob(&attachment.blob, &mut pushed, progress)?;
        let answer = registry.put_manifest(repository, &manifest.digest, &manifest)?;
        progress.event(&Event::Manifest(&manifest.digest));
        if !answer.subject_indexed {
            let mut descriptor = manifest.descriptor();
            descriptor.artifact_type = Some(attachment.artifact_type.clone());
            descriptor.annotations.insert(
                "org.opencontainers.image.created".to_owned(),
                created.to_owned(),
            );
            registry.add_fallback_referrer(repository, &top.digest, descriptor)?;
            pushed.referrers_by_tag = true;
        }
        pushed.referrers.push(manifest.digest.clone());
    }
    for tag in tags {
        registry.put_manifest(repository, tag, top_blob)?;
        progress.event(&Event::Manifest(tag));
        pushed.tags.push(tag.clone());
    }
    Ok(pushed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(version: &str, existing: &[&str]) -> Vec<String> {
        let existing: Vec<String> = existing.iter().map(|t| (*t).to_owned()).collect();
        tags_for(&semver::Version::parse(version).unwrap(), &existing)
    }

    #[test]
    fn latest_and_minor_tags_go_to_the_highest_stable_version_only() {
        assert_eq!(tags("1.2.0", &[]), ["v1.2.0", "v1.2", "latest"]);
        assert_eq!(
            tags("1.2.1", &["v1.2.0", "latest", "v1.3.0-rc.1"]),
            ["v1.2.1", "v1.2", "latest"]
        );
        // A patch of an older line: its minor tag, not latest.
        assert_eq!(tags("1.1.5", &["v1.2.0", "v1.1.4"]), ["v1.1.5", "v1.1"]);
        // An older patch pushed again after a newer one: only its own tag.
        assert_eq!(tags("1.2.0", &["v1.2.1"]), ["v1.2.0"]);
        // Pre-releases get their own tag only.
        assert_eq!(tags("2.0.0-rc.1", &["v1.2.0"]), ["v2.0.0-rc.1"]);
    }
}
