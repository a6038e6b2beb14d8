//! Integration tests of keel-schema: the checked-in JSON Schema must match the Rust types.
#![allow(clippy::unwrap_used)] // Test helpers fail the test on unexpected errors.

use std::path::PathBuf;

fn checked_in_schema() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schema/keel-manifest.schema.json")
}

/// The published schema is generated from the types; when a type changes, the file must be
/// regenerated and reviewed (`KEEL_BLESS=1 cargo test -p keel-schema`).
#[test]
fn checked_in_schema_matches_the_types() {
    let generated = keel_schema::manifest_schema();
    let path = checked_in_schema();
    if std::env::var_os("KEEL_BLESS").is_some() {
        fs_err::write(&path, &generated).unwrap();
    }
    let on_disk = fs_err::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "schema/keel-manifest.schema.json is out of date with the manifest types; \
         regenerate it with `KEEL_BLESS=1 cargo test -p keel-schema` and review the diff"
    );
}

#[test]
fn schema_names_every_artifact_kind() {
    let schema: serde_json::Value = serde_json::from_str(&keel_schema::manifest_schema()).unwrap();
    let text = schema.to_string();
    for kind in [
        "archive",
        "checksum",
        "checksums",
        "sbom",
        "provenance",
        "signature",
    ] {
        assert!(
            text.contains(&format!("\"{kind}\"")),
            "kind {kind} missing from schema"
        );
    }
}
