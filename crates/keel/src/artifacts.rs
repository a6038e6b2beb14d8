//! Writing the files derived from a release's other files: checksum lists, provenance and
//! signatures. `keel release` and `keel merge` both use these, so a merged release holds
//! exactly what a single release of every target would.

use std::path::Path;

use anyhow::Context;
use keel_schema::{
    Artifact, ArtifactKind, CHECKSUMS_FILE_NAME, MANIFEST_FILE_NAME, Manifest, PROVENANCE_FILE_NAME,
};
use keel_sign::SigningKey;
use keel_sign::provenance::{GithubRun, ProvenanceInput};

/// Writes `contents` to `dir/name` (which must not exist) and flushes it to disk; returns its
/// size and sha256.
pub fn write_synced(dir: &Path, name: &str, contents: &[u8]) -> anyhow::Result<(u64, String)> {
    use std::io::Write;
    let mut file = fs_err::File::create_new(dir.join(name))?;
    file.write_all(contents)?;
    file.sync_all()?;
    Ok((
        contents.len() as u64,
        keel_verify::sha256_bytes(contents).to_hex(),
    ))
}

/// An artifact record with no archive details.
pub fn record(
    kind: ArtifactKind,
    app: Option<String>,
    target: Option<String>,
    (size, sha256): (u64, String),
) -> Artifact {
    Artifact {
        kind,
        app,
        target,
        size,
        sha256,
        format: None,
        executables: Vec::new(),
        checksum_of: None,
        signature_of: None,
    }
}

/// Writes a `sha256sum` file named `name` over the `covers` artifacts (already written and
/// recorded in `manifest`); returns its size and sha256.
pub fn write_checksums(
    dir: &Path,
    name: &str,
    covers: &[String],
    manifest: &Manifest,
) -> anyhow::Result<(u64, String)> {
    let mut text = String::new();
    for covered in covers {
        let artifact = manifest
            .artifacts
            .get(covered)
            .with_context(|| format!("{covered} is checksummed before it is written"))?;
        text.push_str(&keel_verify::checksum_line_hex(&artifact.sha256, covered));
    }
    write_synced(dir, name, text.as_bytes())
}

/// The trusted comment of a release file's signature: the apps, their versions and the file.
pub fn trusted_comment(manifest: &Manifest, file: &str) -> String {
    let apps = match &manifest.version {
        Some(version) => format!(
            "app={} version={version}",
            manifest.apps.keys().cloned().collect::<Vec<_>>().join(",")
        ),
        None => format!(
            "app={}",
            manifest
                .apps
                .iter()
                .map(|(name, app)| format!("{name}@{}", app.version))
                .collect::<Vec<_>>()
                .join(",")
        ),
    };
    format!("keel release {apps} file={file}")
}

/// Signs `dir/file` into `dir/file.minisig`; returns its size and sha256.
pub fn write_signature(
    dir: &Path,
    file: &str,
    key: &SigningKey,
    manifest: &Manifest,
) -> anyhow::Result<(u64, String)> {
    let data = fs_err::File::open(dir.join(file))?;
    let signature = key
        .sign(
            data,
            &trusted_comment(manifest, file),
            "signature from keel",
        )
        .with_context(|| format!("could not sign {file}"))?;
    write_synced(
        dir,
        &format!("{file}.minisig"),
        signature.to_text().as_bytes(),
    )
}

/// The GitHub Actions run keel is part of, from its environment.
fn github_run() -> Option<GithubRun> {
    let var = |key| std::env::var(key).ok().filter(|v| !v.is_empty());
    if var("GITHUB_ACTIONS").as_deref() != Some("true") {
        return None;
    }
    Some(GithubRun {
        server_url: var("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".into()),
        repository: var("GITHUB_REPOSITORY")?,
        run_id: var("GITHUB_RUN_ID")?,
        run_attempt: var("GITHUB_RUN_ATTEMPT").unwrap_or_else(|| "1".into()),
    })
}

/// Writes the provenance of every artifact in `manifest`, signed when a key is given; returns
/// its size and sha256.
pub fn write_provenance(
    dir: &Path,
    manifest: &Manifest,
    key: Option<&SigningKey>,
) -> anyhow::Result<(u64, String)> {
    let github = github_run();
    let statement = keel_sign::provenance::statement(&ProvenanceInput {
        manifest,
        tool_version: env!("CARGO_PKG_VERSION"),
        github: github.as_ref(),
    });
    let envelope = keel_sign::dsse::sign(
        keel_sign::dsse::IN_TOTO_PAYLOAD_TYPE,
        statement.as_bytes(),
        key,
    );
    let mut line = serde_json::to_string(&envelope).expect("an envelope is plain JSON data");
    line.push('\n');
    write_synced(dir, PROVENANCE_FILE_NAME, line.as_bytes())
}

/// Writes what covers the whole release, in order: `SHA256SUMS` over every artifact so far,
/// the provenance of all of them, and, with a key, the signature of `SHA256SUMS`. Each is
/// recorded in `manifest`.
pub fn write_release_files(
    dir: &Path,
    manifest: &mut Manifest,
    key: Option<&SigningKey>,
) -> anyhow::Result<()> {
    let covers: Vec<String> = manifest.artifacts.keys().cloned().collect();
    let written = write_checksums(dir, CHECKSUMS_FILE_NAME, &covers, manifest)?;
    manifest.artifacts.insert(
        CHECKSUMS_FILE_NAME.into(),
        record(ArtifactKind::Checksums, None, None, written),
    );
    let written = write_provenance(dir, manifest, key)?;
    manifest.artifacts.insert(
        PROVENANCE_FILE_NAME.into(),
        record(ArtifactKind::Provenance, None, None, written),
    );
    if let Some(key) = key {
        let written = write_signature(dir, CHECKSUMS_FILE_NAME, key, manifest)?;
        let mut signature = record(ArtifactKind::Signature, None, None, written);
        signature.signature_of = Some(CHECKSUMS_FILE_NAME.into());
        manifest
            .artifacts
            .insert(format!("{CHECKSUMS_FILE_NAME}.minisig"), signature);
    }
    Ok(())
}

/// Writes the manifest, and its signature when a key is given.
pub fn write_manifest(
    dir: &Path,
    manifest: &Manifest,
    key: Option<&SigningKey>,
) -> anyhow::Result<()> {
    write_synced(dir, MANIFEST_FILE_NAME, manifest.to_json().as_bytes())?;
    if let Some(key) = key {
        write_signature(dir, MANIFEST_FILE_NAME, key, manifest)?;
    }
    Ok(())
}
