//! The types of keel's release manifest, `keel-manifest.json`.
//!
//! The [`Manifest`] is the one description of a release: which apps at which version, built for
//! which targets, and every artifact with its file name, kind, size and sha256. Every step after
//! packaging (signing, publishing, installing, updating) reads it instead of re-deriving what it
//! says. Its JSON Schema is generated from these types ([`manifest_schema`]) and published in the
//! repository as `schema/keel-manifest.schema.json`.
//!
//! Each CI runner writes a *partial* manifest for the targets it built; [`Manifest::merge`]
//! joins them into the manifest of the whole release (fan-out, fan-in).
//!
//! This crate does no I/O: it is shared by the release tools and by the updater that apps embed,
//! so it must stay small.
//!
//! ```
//! use keel_schema::Manifest;
//! let json = r#"{
//!   "schema_version": 1, "tag": "v1.0.0", "version": "1.0.0", "prerelease": false,
//!   "source": {"commit": null, "dirty": false, "source_date_epoch": 0},
//!   "apps": {}, "targets": {}, "artifacts": {}
//! }"#;
//! let manifest = Manifest::from_json(json).unwrap();
//! assert_eq!(manifest.version.as_deref(), Some("1.0.0"));
//! ```
#![deny(missing_docs)]

pub mod env;
pub mod image;
pub mod progress;
pub mod receipt;
pub mod rehearsal;
pub mod store;
pub mod tag;
mod target;

pub use target::{HOST_TARGET, InvalidTargetTriple, Os, TargetTriple};

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The version of the manifest format written by this crate.
pub const MANIFEST_SCHEMA_VERSION: u32 = 1;

/// The file name of the manifest in a release's output directory.
pub const MANIFEST_FILE_NAME: &str = "keel-manifest.json";

/// The file name of a release's provenance.
pub const PROVENANCE_FILE_NAME: &str = "keel-provenance.intoto.jsonl";

/// The file name of the checksum list over every artifact of a release.
pub const CHECKSUMS_FILE_NAME: &str = "SHA256SUMS";

/// The file name of a release's download page.
pub const PAGE_FILE_NAME: &str = "index.html";

/// The file name of an app's shell installer.
pub fn shell_installer_name(app: &str) -> String {
    format!("{app}-installer.sh")
}

/// The file name of an app's PowerShell installer.
pub fn powershell_installer_name(app: &str) -> String {
    format!("{app}-installer.ps1")
}

/// The Cargo profile release binaries are built with.
pub const DIST_PROFILE: &str = "dist";

/// The settings of [`DIST_PROFILE`] when a workspace defines none (passed to cargo with
/// `--config`), and what `keel init` writes: smaller and faster binaries than `release`.
pub const DIST_PROFILE_SETTINGS: &[(&str, &str)] = &[
    ("inherits", "\"release\""),
    ("lto", "\"thin\""),
    ("codegen-units", "1"),
    ("strip", "\"symbols\""),
];

/// A release: apps, version, targets and every artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "keel release manifest")]
pub struct Manifest {
    /// The version of this format; readers refuse versions they do not know.
    pub schema_version: u32,
    /// The git tag this release was made for, when it was made for one.
    pub tag: Option<String>,
    /// The version shared by every app of the release; absent when the apps' versions differ.
    pub version: Option<String>,
    /// Whether the version has a pre-release part (`1.2.0-rc.1`).
    pub prerelease: bool,
    /// The source the release was built from.
    pub source: Source,
    /// The apps shipped, by name.
    pub apps: BTreeMap<String, App>,
    /// The targets built, by target triple, with where and how each was built.
    pub targets: BTreeMap<TargetTriple, TargetBuild>,
    /// Every artifact, by file name (relative to the manifest's directory).
    pub artifacts: BTreeMap<String, Artifact>,
    /// Where the release is downloaded and updated from, as its installers and notes say.
    #[serde(default, skip_serializing_if = "Distribution::is_empty")]
    pub distribution: Distribution,
}

/// Where people get a release: what installers, release notes and the download page tell them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Distribution {
    /// The URL the release's files are downloaded from (the folder holding them, without a
    /// trailing `/`), e.g. `https://github.com/OWNER/REPO/releases/download/v1.2.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
    /// The release store operators install and update from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_url: Option<String>,
    /// The store's root of trust (`root.json`), which installers give to the installs they
    /// make so that updates are verified from the first one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_root: Option<String>,
}

impl Distribution {
    /// Whether nothing is said.
    pub fn is_empty(&self) -> bool {
        self.download_url.is_none() && self.store_url.is_none() && self.store_root.is_none()
    }
}

/// Where a release's source came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Source {
    /// The full git commit hash, when the workspace is a git repository.
    pub commit: Option<String>,
    /// Whether the work tree had uncommitted changes when it was built.
    pub dirty: bool,
    /// The time stamped on every archive entry, in seconds since the Unix epoch.
    pub source_date_epoch: u64,
}

/// One app: a package whose binaries are shipped together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct App {
    /// The Cargo package the app is built from.
    pub package: String,
    /// The package's version.
    pub version: String,
    /// The names of the binaries shipped (without `.exe`).
    pub binaries: Vec<String>,
    /// The package's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The package's SPDX licence expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// The package's repository URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// The package's home page URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    /// The commands the new binary runs when an update installs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<receipt::UpdateHooks>,
    /// How the app's container image is made (`[package.metadata.keel.image]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<image::ImageSettings>,
    /// How `keel rehearse` rehearses its update (`[package.metadata.keel.rehearse]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rehearse: Option<rehearsal::RehearseSettings>,
}

/// How one target was built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TargetBuild {
    /// The triple of the machine that built it.
    pub host: TargetTriple,
    /// The compiler, as `rustc -V` names it (`rustc 1.95.0 (59807616e 2026-04-14)`).
    pub rustc: String,
    /// The builder used (`cargo`, or `fake` in tests).
    pub builder: String,
    /// The Cargo profile built with.
    pub profile: String,
}

/// One file of a release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Artifact {
    /// What the file is.
    pub kind: ArtifactKind,
    /// The app it belongs to; absent for files that cover the whole release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// The target triple it was built for; absent for files that cover every target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetTriple>,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256 digest, lowercase hex.
    #[schemars(regex(pattern = r"^[0-9a-f]{64}$"))]
    pub sha256: String,
    /// For archives: the archive format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<ArchiveFormat>,
    /// For archives: the path of each executable inside the archive, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub executables: Vec<String>,
    /// For archives of Linux gnu builds: the newest glibc version their binaries need
    /// (`2.17`), read from their ELF symbol versions; installers pick a musl build on systems
    /// with an older glibc.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub glibc: Option<String>,
    /// For checksum files: the file name of the artifact they cover.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_of: Option<String>,
    /// For signatures: the file name of the artifact they sign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_of: Option<String>,
    /// For images: the OCI digest (`sha256:<hex>`) of the image index (OCI archives) or of
    /// the image manifest (Docker archives), which registries name the image by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^sha256:[0-9a-f]{64}$"))]
    pub image_digest: Option<String>,
    /// For images: the platforms inside (`linux/amd64`, `linux/arm64`), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
}

/// What an artifact is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ArtifactKind {
    /// An archive of an app's binaries and documents for one target.
    Archive,
    /// An app's source archive (`<app>-<version>-source.tar.gz`): every file of the commit the
    /// release was made from, as committed, in one folder `<app>-<version>/`. It has no target:
    /// installers and stores, which pick archives by target, never take it.
    Source,
    /// A `<file>.sha256` file holding one artifact's checksum, in `sha256sum` format.
    Checksum,
    /// The `SHA256SUMS` file over every artifact of the release, in `sha256sum` format.
    Checksums,
    /// A CycloneDX 1.5 JSON SBOM of one app for one target (`<archive stem>.cdx.json`).
    Sbom,
    /// An in-toto statement with SLSA provenance, in a DSSE envelope
    /// (`keel-provenance.intoto.jsonl`).
    Provenance,
    /// A minisign signature (`<file>.minisig`).
    Signature,
    /// An installer script of one app (`<app>-installer.sh`, `<app>-installer.ps1`) that
    /// downloads the archive for the machine it runs on and checks it against the sha256 it
    /// holds.
    Installer,
    /// The download page (`index.html`): every artifact, and the install command for the
    /// visitor's platform first.
    Page,
    /// A container image of one app: an OCI image layout in a tar file over every Linux
    /// target (`<app>-<version>.oci.tar`), or a `docker load`-able tar of one target
    /// (`<app>-<version>-<target>.docker.tar`). Made by `keel image build`.
    Image,
}

impl ArtifactKind {
    /// Whether the artifact is derived from the whole release (`SHA256SUMS`, the provenance,
    /// signatures, installers, the download page), and so is written anew when partial
    /// releases are merged.
    pub fn covers_release(self) -> bool {
        matches!(
            self,
            ArtifactKind::Checksums
                | ArtifactKind::Provenance
                | ArtifactKind::Signature
                | ArtifactKind::Installer
                | ArtifactKind::Page
        )
    }

    /// Whether `SHA256SUMS` lists the artifact: everything but itself, the provenance and
    /// signatures.
    pub fn checksummed(self) -> bool {
        !matches!(
            self,
            ArtifactKind::Checksums | ArtifactKind::Provenance | ArtifactKind::Signature
        )
    }

    /// The name used in the manifest (`archive`, `source`, `checksum`, `checksums`).
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Archive => "archive",
            ArtifactKind::Source => "source",
            ArtifactKind::Checksum => "checksum",
            ArtifactKind::Checksums => "checksums",
            ArtifactKind::Sbom => "sbom",
            ArtifactKind::Provenance => "provenance",
            ArtifactKind::Signature => "signature",
            ArtifactKind::Installer => "installer",
            ArtifactKind::Page => "page",
            ArtifactKind::Image => "image",
        }
    }
}

impl fmt::Display for ArtifactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The archive formats keel writes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum ArchiveFormat {
    /// A tar archive compressed with gzip.
    #[serde(rename = "tar.gz")]
    TarGz,
    /// A tar archive compressed with xz.
    #[serde(rename = "tar.xz")]
    TarXz,
    /// A tar archive compressed with zstd.
    #[serde(rename = "tar.zst")]
    TarZst,
    /// A zip archive with deflate compression.
    #[serde(rename = "zip")]
    Zip,
}

impl ArchiveFormat {
    /// Every format, in the order shown to users.
    pub const ALL: [ArchiveFormat; 4] = [
        ArchiveFormat::TarGz,
        ArchiveFormat::TarXz,
        ArchiveFormat::TarZst,
        ArchiveFormat::Zip,
    ];

    /// The file-name extension, without the leading dot (`tar.gz`).
    pub fn extension(self) -> &'static str {
        match self {
            ArchiveFormat::TarGz => "tar.gz",
            ArchiveFormat::TarXz => "tar.xz",
            ArchiveFormat::TarZst => "tar.zst",
            ArchiveFormat::Zip => "zip",
        }
    }
}

impl fmt::Display for ArchiveFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

/// A string that names no archive format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown archive format `{0}` (expected one of: tar.gz, tar.xz, tar.zst, zip)")]
pub struct UnknownArchiveFormat(pub String);

impl FromStr for ArchiveFormat {
    type Err = UnknownArchiveFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ArchiveFormat::ALL
            .into_iter()
            .find(|format| format.extension() == s)
            .ok_or_else(|| UnknownArchiveFormat(s.to_owned()))
    }
}

/// Why a manifest could not be read or merged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text is not a manifest.
    #[error("not a valid keel manifest")]
    Parse(#[source] serde_json::Error),
    /// The manifest was written by a keel whose format this one does not know.
    #[error(
        "manifest schema version {found} is not supported (this keel reads version {MANIFEST_SCHEMA_VERSION})"
    )]
    UnsupportedVersion {
        /// The version found in the manifest.
        found: u32,
    },
    /// Two partial manifests disagree about the release they describe.
    #[error("the manifests describe different releases: {what} differs ({left} vs {right})")]
    Mismatch {
        /// The field that differs.
        what: String,
        /// Its value in the first manifest.
        left: String,
        /// Its value in the second manifest.
        right: String,
    },
    /// Two partial manifests list one target, or one file name with different contents.
    #[error("{what} `{name}` appears in more than one manifest")]
    Duplicate {
        /// `target` or `artifact`.
        what: &'static str,
        /// The target triple or file name.
        name: String,
    },
}

impl Manifest {
    /// Parses a manifest from JSON, refusing format versions this crate does not know.
    pub fn from_json(text: &str) -> Result<Manifest, Error> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        #[derive(Deserialize)]
        struct Version {
            schema_version: u32,
        }
        let version: Version = serde_json::from_str(text).map_err(Error::Parse)?;
        if version.schema_version != MANIFEST_SCHEMA_VERSION {
            return Err(Error::UnsupportedVersion {
                found: version.schema_version,
            });
        }
        serde_json::from_str(text).map_err(Error::Parse)
    }

    /// The manifest as pretty JSON with a trailing newline; stable byte for byte, because every
    /// map is sorted.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self)
            .expect("a manifest has only string keys and serializable values");
        text.push('\n');
        text
    }

    /// Joins another partial manifest of the same release into this one.
    ///
    /// Both must describe the same release (schema version, tag, version, source); apps are
    /// joined, a target may appear in one manifest only, and an artifact file name in both only
    /// when its contents are identical. What covers a whole release (`SHA256SUMS`, the
    /// provenance, signatures) is dropped, because it must be written anew over the merged set
    /// of artifacts.
    pub fn merge(&mut self, other: Manifest) -> Result<(), Error> {
        fn same<T: PartialEq + fmt::Debug>(what: &str, left: &T, right: &T) -> Result<(), Error> {
            if left == right {
                Ok(())
            } else {
                Err(Error::Mismatch {
                    what: what.to_owned(),
                    left: format!("{left:?}"),
                    right: format!("{right:?}"),
                })
            }
        }
        same(
            "schema_version",
            &self.schema_version,
            &other.schema_version,
        )?;
        same("tag", &self.tag, &other.tag)?;
        same("version", &self.version, &other.version)?;
        same("prerelease", &self.prerelease, &other.prerelease)?;
        same("source", &self.source, &other.source)?;
        same("distribution", &self.distribution, &other.distribution)?;
        for (name, app) in other.apps {
            match self.apps.get(&name) {
                Some(existing) => same(&format!("app `{name}`"), existing, &app)?,
                None => {
                    self.apps.insert(name, app);
                }
            }
        }
        for (triple, build) in other.targets {
            if self.targets.contains_key(&triple) {
                return Err(Error::Duplicate {
                    what: "target",
                    name: triple.to_string(),
                });
            }
            self.targets.insert(triple, build);
        }
        self.artifacts
            .retain(|_, artifact| !artifact.kind.covers_release());
        for (name, artifact) in other.artifacts {
            if artifact.kind.covers_release() {
                continue;
            }
            match self.artifacts.get(&name) {
                Some(existing) if *existing != artifact => {
                    return Err(Error::Duplicate {
                        what: "artifact",
                        name,
                    });
                }
                Some(_) => {}
                None => {
                    self.artifacts.insert(name, artifact);
                }
            }
        }
        Ok(())
    }
}

/// `bytes` without a leading UTF-8 byte-order mark, which JSON forbids and Windows
/// PowerShell 5.1 writes (`Set-Content -Encoding UTF8`): every JSON file keel reads from
/// disk goes through this, so a file written there stays readable.
pub fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// A size for people: `512 B`, `1.5 KiB`, `12.3 MiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The JSON Schema of [`Manifest`], as pretty JSON with a trailing newline.
pub fn manifest_schema() -> String {
    let schema = schemars::schema_for!(Manifest);
    let mut text = serde_json::to_string_pretty(&schema).expect("a JSON Schema is plain JSON data");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partial(target: &str, archive_sha: &str) -> Manifest {
        let archive = format!("app-1.0.0-{target}.tar.gz");
        let target = TargetTriple::parse(target).unwrap();
        Manifest {
            schema_version: MANIFEST_SCHEMA_VERSION,
            tag: Some("v1.0.0".into()),
            version: Some("1.0.0".into()),
            prerelease: false,
            source: Source {
                commit: Some("abc".into()),
                dirty: false,
                source_date_epoch: 1_700_000_000,
            },
            apps: BTreeMap::from([(
                "app".to_owned(),
                App {
                    package: "app".into(),
                    version: "1.0.0".into(),
                    binaries: vec!["app".into()],
                    description: None,
                    license: None,
                    repository: None,
                    homepage: None,
                    update: None,
                    image: None,
                    rehearse: None,
                },
            )]),
            targets: BTreeMap::from([(
                target.clone(),
                TargetBuild {
                    host: target.clone(),
                    rustc: "rustc 1.95.0".into(),
                    builder: "cargo".into(),
                    profile: "dist".into(),
                },
            )]),
            artifacts: BTreeMap::from([
                (
                    archive.clone(),
                    Artifact {
                        kind: ArtifactKind::Archive,
                        app: Some("app".into()),
                        target: Some(target.clone()),
                        size: 10,
                        sha256: archive_sha.into(),
                        format: Some(ArchiveFormat::TarGz),
                        executables: vec![format!("app-1.0.0-{target}/app")],
                        glibc: None,
                        checksum_of: None,
                        signature_of: None,
                        image_digest: None,
                        platforms: Vec::new(),
                    },
                ),
                (
                    CHECKSUMS_FILE_NAME.to_owned(),
                    Artifact {
                        kind: ArtifactKind::Checksums,
                        app: None,
                        target: None,
                        size: 1,
                        sha256: "0".repeat(64),
                        format: None,
                        executables: vec![],
                        glibc: None,
                        checksum_of: None,
                        signature_of: None,
                        image_digest: None,
                        platforms: Vec::new(),
                    },
                ),
            ]),
            distribution: Distribution::default(),
        }
    }

    #[test]
    fn merge_joins_targets_and_drops_the_checksum_list() {
        let mut left = partial("x86_64-unknown-linux-gnu", &"a".repeat(64));
        left.merge(partial("aarch64-apple-darwin", &"b".repeat(64)))
            .unwrap();
        assert_eq!(
            left.targets.keys().collect::<Vec<_>>(),
            ["aarch64-apple-darwin", "x86_64-unknown-linux-gnu"]
        );
        assert_eq!(
            left.artifacts.keys().collect::<Vec<_>>(),
            [
                "app-1.0.0-aarch64-apple-darwin.tar.gz",
                "app-1.0.0-x86_64-unknown-linux-gnu.tar.gz"
            ]
        );
    }

    #[test]
    fn merge_refuses_another_release() {
        let mut left = partial("x86_64-unknown-linux-gnu", &"a".repeat(64));
        let mut right = partial("aarch64-apple-darwin", &"b".repeat(64));
        right.source.commit = Some("def".into());
        let err = left.merge(right).unwrap_err();
        assert!(
            matches!(err, Error::Mismatch { ref what, .. } if what == "source"),
            "{err}"
        );
    }

    #[test]
    fn merge_refuses_one_target_twice() {
        let mut left = partial("x86_64-unknown-linux-gnu", &"a".repeat(64));
        let err = left
            .merge(partial("x86_64-unknown-linux-gnu", &"a".repeat(64)))
            .unwrap_err();
        assert!(
            matches!(err, Error::Duplicate { what: "target", .. }),
            "{err}"
        );
    }

    #[test]
    fn archive_formats_round_trip_through_their_extension() {
        for format in ArchiveFormat::ALL {
            assert_eq!(format.extension().parse::<ArchiveFormat>().unwrap(), format);
        }
        assert!("tar.bz2".parse::<ArchiveFormat>().is_err());
    }

    #[test]
    fn unknown_schema_version_is_refused() {
        let mut manifest = partial("x86_64-unknown-linux-gnu", &"a".repeat(64));
        manifest.schema_version = 99;
        let text = serde_json::to_string(&manifest).unwrap();
        assert!(matches!(
            Manifest::from_json(&text),
            Err(Error::UnsupportedVersion { found: 99 })
        ));
    }
}
