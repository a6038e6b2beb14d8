//! Image configurations, manifests and indexes, written as canonical JSON (sorted keys, no
//! white space).

use std::collections::BTreeMap;

use keel_schema::TargetTriple;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{Error, media};

/// A layer, compressed, with the digest of its uncompressed tar (the image config's
/// `diff_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// The compressed layer.
    pub blob: Blob,
    /// `sha256:` of the uncompressed tar.
    pub diff_id: String,
}

/// A content-addressed document or layer.
#[derive(Clone, PartialEq, Eq)]
pub struct Blob {
    /// Its media type.
    pub media_type: String,
    /// Its bytes.
    pub data: Vec<u8>,
    /// `sha256:<hex>` of the bytes.
    pub digest: String,
}

impl std::fmt::Debug for Blob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blob")
            .field("media_type", &self.media_type)
            .field("size", &self.data.len())
            .field("digest", &self.digest)
            .finish()
    }
}

impl Blob {
    /// A blob of `data`.
    pub fn new(media_type: &str, data: Vec<u8>) -> Blob {
        Blob {
            media_type: media_type.to_owned(),
            digest: crate::digest_of(&data),
            data,
        }
    }

    /// A blob holding `value` as canonical JSON.
    pub fn json(media_type: &str, value: &impl Serialize) -> Blob {
        Blob::new(media_type, canonical_json(value))
    }

    /// The descriptor pointing at it.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor {
            media_type: self.media_type.clone(),
            digest: self.digest.clone(),
            size: self.data.len() as u64,
            platform: None,
            annotations: BTreeMap::new(),
            artifact_type: None,
        }
    }
}

/// JSON with sorted keys and no white space.
pub fn canonical_json(value: &impl Serialize) -> Vec<u8> {
    // Going through `Value` sorts every object's keys (serde_json's map is ordered by key).
    let value = serde_json::to_value(value).expect("OCI documents are plain JSON data");
    serde_json::to_vec(&value).expect("a JSON value serializes")
}

/// A platform: `linux/amd64`, `linux/arm64` (variant `v8`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Platform {
    /// The CPU architecture, as Go names it (`amd64`, `arm64`).
    pub architecture: String,
    /// The operating system (`linux`).
    pub os: String,
    /// The CPU variant (`v8` for arm64, `v7` for arm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// The platform of a Linux target triple; `None` for other systems and for CPUs images
    /// are not made for.
    pub fn of_target(target: &TargetTriple) -> Option<Platform> {
        let triple = target.as_str();
        if !triple.contains("-linux-") {
            return None;
        }
        let cpu = triple.split('-').next().unwrap_or_default();
        let (architecture, variant) = match cpu {
            "x86_64" => ("amd64", None),
            "aarch64" => ("arm64", Some("v8")),
            "i686" | "i586" => ("386", None),
            "armv7" => ("arm", Some("v7")),
            "arm" => ("arm", Some("v6")),
            "riscv64gc" => ("riscv64", None),
            "powerpc64le" => ("ppc64le", None),
            "s390x" => ("s390x", None),
            "loongarch64" => ("loong64", None),
            _ => return None,
        };
        Some(Platform {
            architecture: architecture.to_owned(),
            os: "linux".to_owned(),
            variant: variant.map(str::to_owned),
        })
    }

    /// Whether an image of `other` runs here: same OS and CPU, and the same variant when both
    /// name one (arm64 images often name none).
    pub fn accepts(&self, other: &Platform) -> bool {
        self.os == other.os
            && self.architecture == other.architecture
            && match (&self.variant, &other.variant) {
                (Some(mine), Some(theirs)) => mine == theirs,
                _ => true,
            }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        match self.variant.as_deref() {
            // `linux/arm64` is how everyone writes it.
            Some(variant) if !(self.architecture == "arm64" && variant == "v8") => {
                write!(f, "/{variant}")
            }
            _ => Ok(()),
        }
    }
}

/// A descriptor: what a manifest or index says of a blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The media type.
    pub media_type: String,
    /// `sha256:<hex>`.
    pub digest: String,
    /// Bytes.
    pub size: u64,
    /// For an index's entries: the platform of the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// For referrers: the artifact's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
}

/// An image manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always 2.
    pub schema_version: u32,
    /// The manifest's media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// For artifacts: what the artifact is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The configuration.
    pub config: Descriptor,
    /// The layers, bottom first.
    pub layers: Vec<Descriptor>,
    /// For referrers: the manifest or index this one is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An image index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    /// Always 2.
    pub schema_version: u32,
    /// The index's media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The images (or other indexes).
    pub manifests: Vec<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Index {
    /// An empty OCI index.
    pub fn new() -> Index {
        Index {
            schema_version: 2,
            media_type: Some(media::IMAGE_INDEX.to_owned()),
            manifests: Vec::new(),
            annotations: BTreeMap::new(),
        }
    }
}

impl Default for Index {
    fn default() -> Self {
        Index::new()
    }
}

/// A base image for one platform, as pulled: its configuration and layers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    /// Its reference, pinned by digest.
    pub reference: String,
    /// The digest of the image manifest used (the platform's).
    pub manifest_digest: String,
    /// Its configuration, as JSON.
    pub config: Value,
    /// Its layers, bottom first, with OCI media types.
    pub layers: Vec<Blob>,
}

/// How the container runs: the image configuration's `config`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunConfig {
    /// `uid:gid`.
    pub user: String,
    /// The working directory.
    pub workdir: String,
    /// Environment variables, set over the base's.
    pub env: BTreeMap<String, String>,
    /// The entrypoint.
    pub entrypoint: Vec<String>,
    /// Default arguments.
    pub cmd: Vec<String>,
    /// Exposed ports (`8080/tcp`).
    pub ports: Vec<String>,
    /// Declared volumes.
    pub volumes: Vec<String>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
}

/// One platform's image: manifest, configuration and layers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Its platform.
    pub platform: Platform,
    /// The manifest.
    pub manifest: Blob,
    /// The configuration.
    pub config: Blob,
    /// The layers, bottom first: the base's, then keel's.
    pub layers: Vec<Blob>,
}

impl Image {
    /// Every blob the manifest points at.
    pub fn blobs(&self) -> impl Iterator<Item = &Blob> {
        std::iter::once(&self.config).chain(&self.layers)
    }
}

/// RFC 3339 of seconds since the epoch (`2024-05-01T12:00:00Z`).
pub fn rfc3339(epoch: u64) -> String {
    let seconds = i64::try_from(epoch).unwrap_or(i64::MAX);
    jiff::Timestamp::from_second(seconds)
        .unwrap_or(jiff::Timestamp::MAX)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn env_list(base: Option<&Value>, env: &BTreeMap<String, String>) -> Vec<String> {
    let mut list: Vec<String> = base
        .and_then(|config| config.pointer("/config/Env"))
        .and_then(Value::as_array)
        .map(|values| {
            values
                .iter()
                .filter_map(Value::as_str)
                .filter(|entry| {
                    let key = entry.split('=').next().unwrap_or_default();
                    !env.contains_key(key)
                })
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if base.is_none() && !env.contains_key("PATH") {
        list.push("PATH=/usr/local/bin:/usr/bin:/bin".to_owned());
    }
    list.extend(env.iter().map(|(key, value)| format!("{key}={value}")));
    list
}

fn set_of(items: &[String]) -> Value {
    Value::Object(items.iter().map(|item| (item.clone(), json!({}))).collect())
}

/// Builds the image of `layer` on `base` (or on nothing) for `platform`.
pub fn build(
    platform: &Platform,
    base: Option<&Base>,
    layer: &Layer,
    run: &RunConfig,
    created: &str,
    annotations: &BTreeMap<String, String>,
) -> Result<Image, Error> {
    let base_config = base.map(|base| &base.config);
    let mut labels: serde_json::Map<String, Value> = base_config
        .and_then(|config| config.pointer("/config/Labels"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (key, value) in &run.labels {
        labels.insert(key.clone(), Value::String(value.clone()));
    }
    let mut container = json!({
        "User": run.user,
        "WorkingDir": run.workdir,
        "Env": env_list(base_config, &run.env),
        "Entrypoint": run.entrypoint,
        "Labels": labels,
    });
    // The base's entrypoint and command are replaced: the app's are what runs.
    if !run.cmd.is_empty() {
        container["Cmd"] = json!(run.cmd);
    }
    let mut ports: Vec<String> = base_config
        .and_then(|config| config.pointer("/config/ExposedPorts"))
        .and_then(Value::as_object)
        .map(|ports| ports.keys().cloned().collect())
        .unwrap_or_default();
    ports.extend(run.ports.iter().cloned());
    if !ports.is_empty() {
        container["ExposedPorts"] = set_of(&ports);
    }
    let mut volumes: Vec<String> = base_config
        .and_then(|config| config.pointer("/config/Volumes"))
        .and_then(Value::as_object)
        .map(|volumes| volumes.keys().cloned().collect())
        .unwrap_or_default();
    volumes.extend(run.volumes.iter().cloned());
    if !volumes.is_empty() {
        container["Volumes"] = set_of(&volumes);
    }
    let mut diff_ids: Vec<Value> = base_config
        .and_then(|config| config.pointer("/rootfs/diff_ids"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(base) = base
        && diff_ids.len() != base.layers.len()
    {
        return Err(Error::BadDocument {
            what: format!("the configuration of {}", base.reference),
            reason: format!(
                "it lists {} layers, its manifest {}",
                diff_ids.len(),
                base.layers.len()
            ),
        });
    }
    diff_ids.push(Value::String(layer.diff_id.clone()));
    let mut history: Vec<Value> = base_config
        .and_then(|config| config.get("history"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    history.push(json!({"created": created, "created_by": "keel image build"}));
    let mut config = json!({
        "architecture": platform.architecture,
        "os": platform.os,
        "created": created,
        "config": container,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    });
    if let Some(variant) = &platform.variant {
        config["variant"] = json!(variant);
    }
    let config = Blob::json(media::IMAGE_CONFIG, &config);
    let mut layers: Vec<Blob> = base.map(|base| base.layers.clone()).unwrap_or_default();
    layers.push(layer.blob.clone());
    let mut manifest_annotations = annotations.clone();
    if let Some(base) = base {
        manifest_annotations.insert(
            "org.opencontainers.image.base.name".to_owned(),
            base.reference.clone(),
        );
        manifest_annotations.insert(
            "org.opencontainers.image.base.digest".to_owned(),
            base.manifest_digest.clone(),
        );
    }
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(media::IMAGE_MANIFEST.to_owned()),
        artifact_type: None,
        config: config.descriptor(),
        layers: layers.iter().map(Blob::descriptor).collect(),
        subject: None,
        annotations: manifest_annotations,
    };
    Ok(Image {
        platform: platform.clone(),
        manifest: Blob::json(media::IMAGE_MANIFEST, &manifest),
        config,
        layers,
    })
}

/// The index over `images` (sorted by platform).
pub fn index(images: &[Image], annotations: &BTreeMap<String, String>) -> Blob {
    let mut manifests: Vec<Descriptor> = images
        .iter()
        .map(|image| Descriptor {
            platform: Some(image.platform.clone()),
            ..image.manifest.descriptor()
        })
        .collect();
    manifests.sort_by(|a, b| a.platform.cmp(&b.platform));
    let index = Index {
        annotations: annotations.clone(),
        manifests,
        ..Index::new()
    };
    Blob::json(media::IMAGE_INDEX, &index)
}

/// An artifact manifest about `subject` holding one file (`file_name`, of `artifact_type`):
/// how an SBOM or a provenance is attached to an image. Returns the manifest and the empty
/// config blob it points at.
pub fn referrer(
    subject: &Descriptor,
    artifact_type: &str,
    file_name: &str,
    file: &Blob,
    created: &str,
) -> (Blob, Blob) {
    let empty = Blob::new(media::EMPTY, b"{}".to_vec());
    let mut layer = file.descriptor();
    layer.annotations.insert(
        "org.opencontainers.image.title".to_owned(),
        file_name.to_owned(),
    );
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(media::IMAGE_MANIFEST.to_owned()),
        artifact_type: Some(artifact_type.to_owned()),
        config: empty.descriptor(),
        layers: vec![layer],
        subject: Some(Descriptor {
            platform: None,
            annotations: BTreeMap::new(),
            artifact_type: None,
            ..subject.clone()
        }),
        annotations: BTreeMap::from([(
            "org.opencontainers.image.created".to_owned(),
            created.to_owned(),
        )]),
    };
    (Blob::json(media::IMAGE_MANIFEST, &manifest), empty)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::{Entry, layer};

    fn target(triple: &str) -> TargetTriple {
        triple.parse().unwrap()
    }

    #[test]
    fn platforms_of_targets() {
        let amd64 = Platform::of_target(&target("x86_64-unknown-linux-musl")).unwrap();
        assert_eq!(amd64.to_string(), "linux/amd64");
        let arm64 = Platform::of_target(&target("aarch64-unknown-linux-gnu")).unwrap();
        assert_eq!(arm64.to_string(), "linux/arm64");
        assert_eq!(arm64.variant.as_deref(), Some("v8"));
        assert_eq!(
            Platform::of_target(&target("armv7-unknown-linux-gnueabihf"))
                .unwrap()
                .to_string(),
            "linux/arm/v7"
        );
        assert!(Platform::of_target(&target("x86_64-apple-darwin")).is_none());
        assert!(Platform::of_target(&target("x86_64-pc-windows-msvc")).is_none());
        let bare_arm64 = Platform {
            variant: None,
            ..arm64.clone()
        };
        assert!(arm64.accepts(&bare_arm64));
        assert!(!arm64.accepts(&amd64));
    }

    #[test]
    fn an_image_on_a_base_keeps_the_base_layers_and_environment() {
        let platform = Platform::of_target(&target("x86_64-unknown-linux-gnu")).unwrap();
        let base_layer =
            layer(&[Entry::file("/lib/libc.so.6", b"libc".to_vec(), 0o755)], 0).unwrap();
        let base = Base {
            reference: "registry.test/base@sha256:00".to_owned(),
            manifest_digest: "sha256:11".to_owned(),
            config: json!({
                "config": {"Env": ["PATH=/usr/bin", "LANG=C"], "Entrypoint": ["/bin/sh"]},
                "rootfs": {"type": "layers", "diff_ids": [base_layer.diff_id]},
                "history": [{"created_by": "base"}],
            }),
            layers: vec![base_layer.blob.clone()],
        };
        let app = layer(
            &[Entry::file("/usr/local/bin/app", b"app".to_vec(), 0o755)],
            0,
        )
        .unwrap();
        let run = RunConfig {
            user: "65532:65532".into(),
            workdir: "/data".into(),
            env: BTreeMap::from([("LANG".to_owned(), "C.UTF-8".to_owned())]),
            entrypoint: vec!["/usr/local/bin/app".into()],
            volumes: vec!["/data".into()],
            ports: vec!["8080/tcp".into()],
            ..RunConfig::default()
        };
        let image = build(
            &platform,
            Some(&base),
            &app,
            &run,
            "2024-05-01T12:00:00Z",
            &BTreeMap::new(),
        )
        .unwrap();
        let config: Value = serde_json::from_slice(&image.config.data).unwrap();
        assert_eq!(
            config["config"]["Env"],
            json!(["PATH=/usr/bin", "LANG=C.UTF-8"])
        );
        assert_eq!(
            config["config"]["Entrypoint"],
            json!(["/usr/local/bin/app"])
        );
        assert_eq!(config["config"]["Volumes"], json!({"/data": {}}));
        assert_eq!(config["config"]["ExposedPorts"], json!({"8080/tcp": {}}));
        assert_eq!(config["rootfs"]["diff_ids"].as_array().unwrap().len(), 2);
        assert_eq!(config["history"].as_array().unwrap().len(), 2);
        assert_eq!(image.layers.len(), 2);
        let manifest: Manifest = serde_json::from_slice(&image.manifest.data).unwrap();
        assert_eq!(manifest.layers[0].digest, base.layers[0].digest);
        assert_eq!(
            manifest.annotations["org.opencontainers.image.base.digest"],
            "sha256:11"
        );
        // Canonical JSON: no white space, sorted keys.
        let text = String::from_utf8(image.config.data.clone()).unwrap();
        assert!(
            !text.contains(' ') || text.contains("keel image build"),
            "{text}"
        );
        assert!(
            text.starts_with("{\"architecture\":\"amd64\",\"config\":"),
            "{text}"
        );
        // A base whose configuration does not match its manifest is refused.
        let broken = Base {
            layers: Vec::new(),
            ..base
        };
        assert!(build(&platform, Some(&broken), &app, &run, "x", &BTreeMap::new()).is_err());
    }

    #[test]
    fn rfc3339_of_the_epoch() {
        assert_eq!(rfc3339(1_714_564_800), "2024-05-01T12:00:00Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
