//! CycloneDX 1.5 SBOMs: exactly the crates compiled into one app's binaries for one target.
//!
//! The crates come from `cargo metadata --filter-platform <target>`: starting at the app's
//! package, keel follows normal dependencies only (so dev-dependencies and build-dependencies
//! are out), and stops at procedural macros (they run in the compiler, not in the binary),
//! with the platform's `cfg` already applied by cargo. Each crate carries its licence
//! expression, its `Cargo.lock` checksum and the features it was built with.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use cargo_metadata::{DependencyKind, Metadata, Package, PackageId, TargetKind};
use serde_json::{Value, json};

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
}

fn purl(package: &Package) -> String {
    format!("pkg:cargo/{}@{}", package.name, package.version)
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

    let component = |package: &Package, kind: &str| -> Value {
        let mut value = json!({
            "type": kind,
            "bom-ref": purl(package),
            "name": package.name.as_str(),
            "version": package.version.to_string(),
            "purl": purl(package),
            "scope": "required",
        });
        if kind == "application" {
            value
                .as_object_mut()
                .expect("a json! object")
                .remove("scope");
        }
        if let Some(license) = &package.license {
            value["licenses"] = json!([{ "expression": license }]);
        }
        if let Some(description) = &package.description {
            value["description"] = json!(description.trim());
        }
        let source = package.source.as_ref().map(|s| s.repr.clone());
        if let Some(sha) = source.as_ref().and_then(|source| {
            input.lock_checksums.get(&(
                package.name.to_string(),
                package.version.to_string(),
                source.clone(),
            ))
        }) {
            value["hashes"] = json!([{ "alg": "SHA-256", "content": sha }]);
        }
        let mut properties = Vec::new();
        if let Some(node) = nodes.get(&package.id) {
            let mut features: Vec<&str> = node.features.iter().map(|f| f.as_str()).collect();
            features.sort_unstable();
            if !features.is_empty() {
                properties
                    .push(json!({"name": "keel:cargo:features", "value": features.join(",")}));
            }
        }
        match &source {
            Some(source) if !source.starts_with("registry+") => {
                properties.push(json!({"name": "keel:cargo:source", "value": redact_url(source)}));
            }
            None => properties.push(json!({"name": "keel:cargo:source", "value": "path"})),
            Some(_) => {}
        }
        if !properties.is_empty() {
            value["properties"] = Value::Array(properties);
        }
        value
    };

    let mut components: Vec<Value> = included
        .iter()
        .filter(|id| **id != &root.id)
        .filter_map(|id| packages.get(id))
        .map(|p| component(p, "library"))
        .collect();
    components.sort_by(|a, b| a["bom-ref"].as_str().cmp(&b["bom-ref"].as_str()));
    components.dedup_by(|a, b| a["bom-ref"] == b["bom-ref"]);

    let mut dependencies: Vec<Value> = included
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
            json!({ "ref": purl(package), "dependsOn": depends_on })
        })
        .collect();
    dependencies.sort_by(|a, b| a["ref"].as_str().cmp(&b["ref"].as_str()));
    dependencies.dedup_by(|a, b| a["ref"] == b["ref"]);

    let mut bom = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {
            "timestamp": keel_schema::time::rfc3339(input.source_date_epoch),
            "tools": {
                "components": [{
                    "type": "application",
                    "name": "keel",
                    "version": input.tool_version,
                }]
            },
            "component": component(root, "application"),
            "properties": [{ "name": "keel:target", "value": input.target }],
        },
        "components": components,
        "dependencies": dependencies,
    });
    // A serial number derived from the content: the same SBOM always has the same one.
    let digest = keel_verify::sha256_bytes(bom.to_string().as_bytes()).0;
    bom["serialNumber"] = json!(format!("urn:uuid:{}", uuid_from(&digest)));
    let mut text = serde_json::to_string_pretty(&bom).expect("an SBOM is plain JSON data");
    text.push('\n');
    Ok(text)
}

/// A version-8 (custom) UUID from the first 16 bytes of a digest.
fn uuid_from(digest: &[u8; 32]) -> String {
    let mut b: [u8; 16] = digest[..16].try_into().expect("16 bytes");
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = hex_string(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
    fn uuids_have_version_8_and_the_rfc_variant() {
        let id = uuid_from(&[0xff; 32]);
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "8");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
    }
}
