//! The files derived from a release's other files: checksum lists, provenance, signatures and
//! the manifest. A single release and a merge of partial releases write them the same way, so
//! a merged release holds exactly what a single release of every target would.

use std::path::Path;

use keel_schema::{
    Artifact, ArtifactKind, CHECKSUMS_FILE_NAME, MANIFEST_FILE_NAME, Manifest, PROVENANCE_FILE_NAME,
};
use keel_sign::SigningKey;
use keel_sign::provenance::{GithubRun, ProvenanceInput};

use crate::Error;

/// keel's version, recorded in SBOMs and the provenance.
pub(crate) const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Writes `contents` to `dir/name` (which must not exist), flushed; returns its size and
/// sha256.
pub(crate) fn write_synced(
    dir: &Path,
    name: &str,
    contents: &[u8],
) -> Result<(u64, String), Error> {
    let digest = keel_fs::write_new(&dir.join(name), contents)?;
    Ok((contents.len() as u64, digest.to_hex()))
}

/// Copies `from` to `to`, hashing the copy as it is made, and fails when it is not the
/// `expected_sha256` (of `expected_size` bytes) the manifest gives: what lands in a release is
/// what was checked.
pub(crate) fn copy_checked(
    from: &Path,
    to: &Path,
    expected_size: u64,
    expected_sha256: &str,
) -> Result<(), Error> {
    let copied = keel_fs::copy_atomic(from, to, None)?;
    if copied.to_hex() != expected_sha256 {
        let size = fs_err::metadata(from).map(|m| m.len()).unwrap_or_default();
        return Err(Error::PartialMismatch {
            path: from.to_owned(),
            size,
            sha256: copied.to_hex(),
            expected_size,
            expected_sha256: expected_sha256.to_owned(),
        });
    }
    Ok(())
}

/// An artifact record with no archive details.
pub(crate) fn record(
    kind: ArtifactKind,
    app: Option<String>,
    target: Option<keel_schema::TargetTriple>,
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
        glibc: None,
        checksum_of: None,
        signature_of: None,
        image_digest: None,
        platforms: Vec::new(),
    }
}

/// Writes a `sha256sum` file named `name` over the `covers` artifacts (already written and
/// recorded in `manifest`); returns its size and sha256.
pub(crate) fn write_checksums(
    dir: &Path,
    name: &str,
    covers: &[String],
    manifest: &Manifest,
) -> Result<(u64, String), Error> {
    let mut text = String::new();
    for covered in covers {
        let artifact = manifest
            .artifacts
            .get(covered)
            .ok_or_else(|| Error::Internal {
                written: manifest.artifacts.keys().cloned().collect(),
                planned: covers.to_vec(),
            })?;
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
fn write_signature(
    dir: &Path,
    file: &str,
    key: &SigningKey,
    manifest: &Manifest,
) -> Result<(u64, String), Error> {
    let path = dir.join(file);
    let data = fs_err::File::open(&path).map_err(|source| Error::Read {
        path: path.clone(),
        source,
    })?;
    let signature = key
        .sign(
            data,
            &trusted_comment(manifest, file),
            "signature from keel",
        )
        .map_err(|source| Error::Sign {
            file: file.to_owned(),
            source,
        })?;
    write_synced(
        dir,
        &format!("{file}.minisig"),
        signature.to_text().as_bytes(),
    )
}

/// Writes the provenance of every artifact in `manifest`, signed when a key is given; returns
/// its size and sha256.
fn write_provenance(
    dir: &Path,
    manifest: &Manifest,
    key: Option<&SigningKey>,
    github: Option<&GithubRun>,
) -> Result<(u64, String), Error> {
    let statement = keel_sign::provenance::statement(&ProvenanceInput {
        manifest,
        tool_version: TOOL_VERSION,
        github,
    });
    let envelope = keel_sign::dsse::sign(
        keel_sign::dsse::IN_TOTO_PAYLOAD_TYPE,
        statement.as_bytes(),
        key,
    );
    write_synced(
        dir,
        PROVENANCE_FILE_NAME,
        envelope.to_json_line().as_bytes(),
    )
}

/// What is written over the whole release, beside `SHA256SUMS` and the provenance.
pub(crate) struct Whole<'a> {
    /// Signs `SHA256SUMS` (and later the manifest) when given.
    pub key: Option<&'a SigningKey>,
    /// The CI run, for the provenance.
    pub github: Option<&'a GithubRun>,
    /// Whether each app gets its installer scripts.
    pub installers: bool,
    /// Whether the release gets `index.html`.
    pub page: bool,
}

/// Writes each app's installers: `.sh` for its Unix archives, `.ps1` for its Windows ones.
fn write_installers(
    dir: &Path,
    manifest: &mut Manifest,
    key: Option<&SigningKey>,
) -> Result<(), Error> {
    let public = key.map(SigningKey::public_key);
    let apps: Vec<String> = manifest.apps.keys().cloned().collect();
    for app in apps {
        let has = |windows: bool| {
            manifest.artifacts.values().any(|a| {
                a.kind == ArtifactKind::Archive
                    && a.app.as_deref() == Some(app.as_str())
                    && a.target.as_ref().is_some_and(|t| t.is_windows() == windows)
            })
        };
        let mut written = Vec::new();
        if has(false) {
            let text = keel_installer::shell_installer(manifest, &app, public.as_ref())?;
            written.push((keel_schema::shell_installer_name(&app), text));
        }
        if has(true) {
            let text = keel_installer::powershell_installer(manifest, &app, public.as_ref())?;
            written.push((keel_schema::powershell_installer_name(&app), text));
        }
        for (name, text) in written {
            let digest = write_synced(dir, &name, text.as_bytes())?;
            manifest.artifacts.insert(
                name,
                record(ArtifactKind::Installer, Some(app.clone()), None, digest),
            );
        }
    }
    Ok(())
}

/// Writes what covers the whole release, in order: the installers and the download page,
/// `SHA256SUMS` over every artifact so far, the provenance of all of them, and, with a key,
/// the signature of `SHA256SUMS`. Each is recorded in `manifest`.
pub(crate) fn write_release_files(
    dir: &Path,
    manifest: &mut Manifest,
    whole: &Whole<'_>,
) -> Result<(), Error> {
    let (key, github) = (whole.key, whole.github);
    if whole.installers {
        write_installers(dir, manifest, key)?;
    }
    if whole.page {
        let public = key.map(SigningKey::public_key);
        let page = keel_installer::download_page(manifest, public.as_ref())?;
        let digest = write_synced(dir, keel_schema::PAGE_FILE_NAME, page.as_bytes())?;
        manifest.artifacts.insert(
            keel_schema::PAGE_FILE_NAME.into(),
            record(ArtifactKind::Page, None, None, digest),
        );
    }
    let covers: Vec<String> = manifest.artifacts.keys().cloned().collect();
    let written = write_checksums(dir, CHECKSUMS_FILE_NAME, &covers, manifest)?;
    manifest.artifacts.insert(
        CHECKSUMS_FILE_NAME.into(),
        record(ArtifactKind::Checksums, None, None, written),
    );
    let written = write_provenance(dir, manifest, key, github)?;
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
pub(crate) fn write_manifest(
    dir: &Path,
    manifest: &Manifest,
    key: Option<&SigningKey>,
) -> Result<(), Error> {
    write_synced(dir, MANIFEST_FILE_NAME, manifest.to_json().as_bytes())?;
    if let Some(key) = key {
        write_signature(dir, MANIFEST_FILE_NAME, key, manifest)?;
    }
    Ok(())
}
