//! `[package.metadata.keel.image]`: how an app's container image is made, recorded in the
//! manifest so that `keel image build` needs only the release folder.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The user images run as when settings name none: not root, the same ids distroless uses.
pub const DEFAULT_USER: &str = "65532:65532";
/// The folder for the app's data: the image's working directory and declared volume.
pub const DEFAULT_DATA_DIR: &str = "/data";
/// Where an image holds the app's binaries.
pub const BIN_DIR: &str = "/usr/local/bin";
/// The base that means "no base": the image holds the app's files only.
pub const SCRATCH: &str = "scratch";

/// An app's image settings. Every key is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ImageSettings {
    /// The base image: `scratch` (the default; static binaries only) or a reference pinned by
    /// digest, `registry/repository@sha256:<hex>` (a tag may precede the digest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// The command the container runs (default: the app's first binary, in `/usr/local/bin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// Default arguments to the entrypoint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cmd: Vec<String>,
    /// `uid:gid` the container runs as (default `65532:65532`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The working directory (default `/data`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workdir: Option<String>,
    /// Environment variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Ports the app listens on (`8080`, `8080/tcp`, `53/udp`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<String>,
    /// Folders declared as volumes, created owned by the user (default `["/data"]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<Vec<String>>,
    /// Extra files from the app's archive (paths inside its top folder) and where each goes in
    /// the image (an absolute path).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, String>,
    /// Extra labels (the `org.opencontainers.image.*` ones are set from the release).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The repository name under the namespace pushed to (default: the app's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Where `keel publish` pushes the image, each `REGISTRY/NAMESPACE` as `keel image push`
    /// takes it (`ghcr.io/acme`, `docker.io/acme`); the generated CI workflow logs in to each.
    /// Empty (the default): `keel publish` pushes no image.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub registries: Vec<String>,
}

impl ImageSettings {
    /// The base image reference, `None` for `scratch`.
    pub fn base_image(&self) -> Option<&str> {
        self.base.as_deref().filter(|base| *base != SCRATCH)
    }

    /// The user the container runs as.
    pub fn user(&self) -> &str {
        self.user.as_deref().unwrap_or(DEFAULT_USER)
    }

    /// The working directory.
    pub fn workdir(&self) -> &str {
        self.workdir.as_deref().unwrap_or(DEFAULT_DATA_DIR)
    }

    /// The declared volumes.
    pub fn volumes(&self) -> Vec<String> {
        self.volumes
            .clone()
            .unwrap_or_else(|| vec![DEFAULT_DATA_DIR.to_owned()])
    }

    /// The entrypoint, given the app's binaries.
    pub fn entrypoint(&self, binaries: &[String]) -> Vec<String> {
        match &self.entrypoint {
            Some(entrypoint) => entrypoint.clone(),
            None => binaries
                .first()
                .map(|bin| vec![format!("{BIN_DIR}/{bin}")])
                .unwrap_or_default(),
        }
    }

    /// The exposed ports, each with its protocol (`8080/tcp`).
    pub fn exposed_ports(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|port| {
                if port.contains('/') {
                    port.clone()
                } else {
                    format!("{port}/tcp")
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_a_non_root_user_with_data_on_a_volume() {
        let settings = ImageSettings::default();
        assert_eq!(settings.base_image(), None);
        assert_eq!(settings.user(), "65532:65532");
        assert_eq!(settings.workdir(), "/data");
        assert_eq!(settings.volumes(), ["/data"]);
        assert_eq!(
            settings.entrypoint(&["ledger".to_owned(), "other".to_owned()]),
            ["/usr/local/bin/ledger"]
        );
        let ports = ImageSettings {
            ports: vec!["8080".into(), "53/udp".into()],
            base: Some("scratch".into()),
            ..ImageSettings::default()
        };
        assert_eq!(ports.exposed_ports(), ["8080/tcp", "53/udp"]);
        assert_eq!(ports.base_image(), None);
    }
}
