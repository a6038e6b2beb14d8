//! CycloneDX 1.5 SBOMs: exactly the crates compiled into one app's binaries for one target.
//!
//! The crates come from `cargo metadata --filter-platform <target>`: starting at the app's
//! package, keel follows normal dependencies only (so dev-dependencies and build-dependencies
//! are out), and stops at procedural macros (they run in the compiler, not in the binary),
//! with the platform's `cfg` already applied by cargo. Each crate carries its licence
//! expression, its `Cargo.lock` checksum and the features it was built with.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use cargo_metadata::{DependencyKind, Metadata, Package, PackageId, TargetKind};
use serde::{Deserialize, Serialize};

/// The `Cargo.lock` checksums, by (name, version, source).
pub type LockChecksums = BTreeMap<(String, String, String), String>;

/// What an SBOM is made from.
pub struct SbomInput<'a> {
    /// `cargo metadata --filter-platform <target>` of the workspace, with dependencies.
    pub metadata: &'a Metadata,
    /// The app's package.
    pub package: &'a str,
    /// The target triple.
    pub target: &'a str,
    /// The lock file's checksums.
    pub lock_checksums: &'a LockChecksums,
    /// The time stamp, in seconds since the Unix epoch.
    pub source_date_epoch: u64,
    /// keel's version, recorded as the tool that wrote the SBOM.
    pub tool_version: &'a str,
}

/// Why no SBOM could be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SbomError {
    /// The package is not in the metadata.
    #[error("package `{0}` is not in the cargo metadata")]
    MissingPackage(String),
    /// The metadata has no dependency resolution.
    #[error("the cargo metadata has no dependency resolution")]
    NoResolve,
    /// A document is not a CycloneDX JSON SBOM.
    #[error("not a CycloneDX JSON document")]
    Parse(#[source] serde_json::Error),
}

/// The CycloneDX format keel writes and reads.
pub const BOM_FORMAT: &str = "CycloneDX";
/// The CycloneDX specification version keel writes and reads.
pub const SPEC_VERSION: &str = "1.5";
/// The property naming the target triple an SBOM describes.
pub const TARGET_PROPERTY: &str = "keel:target";

/// A CycloneDX SBOM: the part of the specification keel writes, and reads back to verify.
/// Fields keel does not use are ignored when reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bom {
    /// Always `CycloneDX`.
    pub bom_format: String,
    /// The specification version (`1.5`).
    pub spec_version: String,
    /// `urn:uuid:...`; keel derives it from the content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    /// The version of this BOM.
    pub version: u32,
    /// What the BOM describes, and how it was made.
    pub metadata: BomMetadata,
    /// Every crate compiled in, sorted by `bom-ref`.
    #[serde(default)]
    pub components: Vec<Component>,
    /// Each component's direct dependencies.
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
}

/// The BOM's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BomMetadata {
    /// When it was made (RFC 3339; keel uses `SOURCE_DATE_EPOCH`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// The tools that made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Tools>,
    /// The application the BOM is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<Component>,
    /// Extra facts (`keel:target`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<Property>,
}

/// The tools that made a BOM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tools {
    /// Each tool, as a component.
    #[serde(default)]
    pub components: Vec<Component>,
}

/// A component: the application, a crate, or a tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    /// `application` or `library`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The reference other parts of the BOM use (keel: the purl).
    #[serde(rename = "bom-ref", default, skip_serializing_if = "Option::is_none")]
    pub bom_ref: Option<String>,
    /// The crate's name.
    pub name: String,
    /// Its version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Its package URL (`pkg:cargo/name@version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// `required` for what is compiled in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Its licence expressions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<License>,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its digests (the `Cargo.lock` checksum).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hashes: Vec<Hash>,
    /// Extra facts (features, source).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<Property>,
}

/// A licence, as an SPDX expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct License {
    /// The SPDX expression.
    pub expression: String,
}

/// A digest of a component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hash {
    /// The algorithm (`SHA-256`).
    pub alg: String,
    /// The digest, lowercase hex.
    pub content: String,
}

/// A name and a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Property {
    /// The name (`keel:target`).
    pub name: String,
    /// The value.
    pub value: String,
}

/// One component's direct dependencies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    /// The component's `bom-ref`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The `bom-ref`s it depends on.
    #[serde(rename = "dependsOn", default)]
    pub depends_on: Vec<String>,
}

impl Bom {
    /// Reads a CycloneDX JSON document.
    pub fn from_json(text: &str) -> Result<Bom, SbomError> {
        serde_json::from_str(text).map_err(SbomError::Parse)
    }

    /// The document as pretty JSON with sorted keys and a trailing newline.
    pub fn to_json(&self) -> String {
        let value = serde_json::to_value(self).expect("an SBOM is plain JSON data");
        let mut text = serde_json::to_string_pretty(&value).expect("an SBOM is plain JSON data");
        text.push('\n');
        text
    }

    /// Whether the document is a CycloneDX 1.5 SBOM, the version keel writes.
    pub fn is_keel_version(&self) -> bool {
        self.bom_format == BOM_FORMAT && self.spec_version == SPEC_VERSION
    }

    /// The target triple the SBOM describes (its `keel:target` property).
    pub fn target(&self) -> Option<&str> {
        self.metadata
            .properties
            .iter()
            .find(|p| p.name == TARGET_PROPERTY)
            .map(|p| p.value.as_str())
    }
}

fn purl(package: &Package) -> String {
    format!("pkg:cargo/{}@{}", package.name, package.version)
}

fn property(name: &str, value: impl Into<String>) -> Property {
    Property {
        name: name.to_owned(),
        value: value.into(),
    }
}

/// Removes `user:password@` from a URL.
pub fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
            let host = authority
                .rsplit_once('@')
                .map_or(authority, |(_, host)| host);
            if path.is_empty() && !rest.contains('/') {
                format!("{scheme}://{host}")
            } else {
                format!("{scheme}://{host}/{path}")
            }
        }
        None => url.to_owned(),
    }
}

/// The SBOM as pretty JSON with a trailing newline.
pub fn cyclonedx(input: &SbomInput<'_>) -> Result<String, SbomError> {
    Ok(bom(input)?.to_json())
}

/// The SBOM of one app for one target.
pub fn bom(input: &SbomInput<'_>) -> Result<Bom, SbomError> {
    let metadata = input.metadata;
    let packages: BTreeMap<&PackageId, &Package> =
        metadata.packages.iter().map(|p| (&p.id, p)).collect();
    let root = metadata
        .workspace_packages()
        .into_iter()
        .find(|p| p.name.as_str() == input.package)
        .ok_or_else(|| SbomError::MissingPackage(input.package.to_owned()))?;
    let resolve = metadata.resolve.as_ref().ok_or(SbomError::NoResolve)?;
    let nodes: BTreeMap<&PackageId, &cargo_metadata::Node> =
        resolve.nodes.iter().map(|n| (&n.id, n)).collect();

    let is_proc_macro = |p: &Package| {
        p.targets
            .iter()
            .any(|t| t.kind.contains(&TargetKind::ProcMacro))
    };
    // Breadth-first over normal dependencies, skipping procedural macros.
    let mut included: BTreeSet<&PackageId> = BTreeSet::from([&root.id]);
    let mut edges: BTreeMap<&PackageId, BTreeSet<&PackageId>> = BTreeMap::new();
    let mut queue = VecDeque::from([&root.id]);
    while let Some(id) = queue.pop_front() {
        let Some(node) = nodes.get(id) else { continue };
        for dep in &node.deps {
            let normal = dep
                .dep_kinds
                .iter()
                .any(|k| k.kind == DependencyKind::Normal);
            let Some(package) = packages.get(&dep.pkg) else {
                continue;
            };
            if !normal || is_proc_macro(package) {
                continue;
            }
            edges.entry(id).or_default().insert(&dep.pkg);
            if included.insert(&dep.pkg) {
                queue.push_back(&dep.pkg);
            }
        }
    }

    let component = |package: &Package, application: bool| -> Component {
        let source = package.source.as_ref().map(|s| s.repr.clone());
        let hashes = source
            .as_ref()
            .and_then(|source| {
                input.lock_checksums.get(&(
                    package.name.to_string(),
                    package.version.to_string(),
                    source.clone(),
                ))
            })
            .map(|sha| Hash {
                alg: "SHA-256".to_owned(),
                content: sha.clone(),
            })
            .into_iter()
            .collect();
        let mut properties = Vec::new();
        if let Some(node) = nodes.get(&package.id) {
            let mut features: Vec<&str> = node.features.iter().map(|f| f.as_str()).collect();
            features.sort_unstable();
            if !features.is_empty() {
                properties.push(property("keel:cargo:features", features.join(",")));
            }
        }
        match &source {
            Some(source) if !source.starts_with("registry+") => {
                properties.push(property("keel:cargo:source", redact_url(source)));
            }
            None => properties.push(property("keel:cargo:source", "path")),
            Some(_) => {}
        }
        Component {
            kind: if application {
                "application"
            } else {
                "library"
            }
            .to_owned(),
            bom_ref: Some(purl(package)),
            name: package.name.to_string(),
            version: Some(package.version.to_string()),
            purl: Some(purl(package)),
            scope: (!application).then(|| "required".to_owned()),
            licenses: package
                .license
                .iter()
                .map(|license| License {
                    expression: license.clone(),
                })
                .collect(),
            description: package.description.as_ref().map(|d| d.trim().to_owned()),
            hashes,
            properties,
        }
    };

    let mut components: Vec<Component> = included
        .iter()
        .filter(|id| **id != &root.id)
        .filter_map(|id| packages.get(id))
        .map(|p| component(p, false))
        .collect();
    components.sort_by(|a, b| a.bom_ref.cmp(&b.bom_ref));
    components.dedup_by(|a, b| a.bom_ref == b.bom_ref);

    let mut dependencies: Vec<Dependency> = included
        .iter()
        .filter_map(|id| packages.get(id))
        .map(|package| {
            let mut depends_on: Vec<String> = edges
                .get(&package.id)
                .into_iter()
                .flatten()
                .filter_map(|dep| packages.get(dep))
                .map(|dep| purl(dep))
                .collect();
            depends_on.sort();
            depends_on.dedup();
            Dependency {
                reference: purl(package),
                depends_on,
            }
        })
        .collect();
    dependencies.sort_by(|a, b| a.reference.cmp(&b.reference));
    dependencies.dedup_by(|a, b| a.reference == b.reference);

    let mut bom = Bom {
        bom_format: BOM_FORMAT.to_owned(),
        spec_version: SPEC_VERSION.to_owned(),
        serial_number: None,
        version: 1,
        metadata: BomMetadata {
            timestamp: Some(rfc3339(input.source_date_epoch)),
            tools: Some(Tools {
                components: vec![Component {
                    kind: "application".to_owned(),
                    bom_ref: None,
                    name: "keel".to_owned(),
                    version: Some(input.tool_version.to_owned()),
                    purl: None,
                    scope: None,
                    licenses: Vec::new(),
                    description: None,
                    hashes: Vec::new(),
                    properties: Vec::new(),
                }],
            }),
            component: Some(component(root, true)),
            properties: vec![property(TARGET_PROPERTY, input.target)],
        },
        components,
        dependencies,
    };
    // A serial number derived from the content: the same SBOM always has the same one.
    let content = serde_json::to_value(&bom).expect("an SBOM is plain JSON data");
    let digest = keel_verify::sha256_bytes(content.to_string().as_bytes()).0;
    bom.serial_number = Some(format!("urn:uuid:{}", uuid_from(&digest)));
    Ok(bom)
}

/// Seconds since the Unix epoch as RFC 3339 UTC (`2024-05-01T12:00:00Z`).
fn rfc3339(epoch: u64) -> String {
    i64::try_from(epoch)
        .ok()
        .and_then(|seconds| jiff::Timestamp::from_second(seconds).ok())
        .unwrap_or(jiff::Timestamp::MAX)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A version-8 (custom) UUID from the first 16 bytes of a digest.
fn uuid_from(digest: &[u8; 32]) -> String {
    let mut b: [u8; 16] = digest[..16].try_into().expect("16 bytes");
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_removed_from_urls() {
        assert_eq!(
            redact_url("git+https://user:token@github.com/a/b?rev=1#abc"),
            "git+https://github.com/a/b?rev=1#abc"
        );
        assert_eq!(
            redact_url("https://github.com/a/b"),
            "https://github.com/a/b"
        );
        assert_eq!(redact_url("https://tok@host"), "https://host");
        assert_eq!(redact_url("path"), "path");
    }

    #[test]
    fn time_stamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_714_564_800), "2024-05-01T12:00:00Z");
        assert_eq!(rfc3339(1_709_208_000), "2024-02-29T12:00:00Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn the_reader_reads_what_the_writer_writes() {
        let bom = Bom {
            bom_format: BOM_FORMAT.into(),
            spec_version: SPEC_VERSION.into(),
            serial_number: None,
            version: 1,
            metadata: BomMetadata {
                timestamp: None,
                tools: None,
                component: None,
                properties: vec![property(TARGET_PROPERTY, "x86_64-unknown-linux-gnu")],
            },
            components: vec![],
            dependencies: vec![],
        };
        let again = Bom::from_json(&bom.to_json()).unwrap();
        assert_eq!(again, bom);
        assert!(again.is_keel_version());
        assert_eq!(again.target(), Some("x86_64-unknown-linux-gnu"));
        assert!(matches!(Bom::from_json("[]"), Err(SbomError::Parse(_))));
    }

    #[test]
    fn uuids_have_version_8_and_the_rfc_variant() {
        let id = uuid_from(&[0xff; 32]);
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "8");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
    }
}
