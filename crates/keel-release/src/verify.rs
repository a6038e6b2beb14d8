//! Checking a release folder against its manifest, its checksums, its signatures, its SBOMs
//! and its provenance. It only reads.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use keel_schema::rehearsal::REHEARSAL_FILE_NAME;
use keel_schema::{ArtifactKind, MANIFEST_FILE_NAME, Manifest};
use keel_sign::dsse::Envelope;
use keel_sign::provenance::Statement;
use keel_sign::sbom::Bom;
use keel_verify::minisign::PublicKey;
use serde::Serialize;

use crate::Error;
use crate::folder::{Mismatch, ReleaseFolder, check_artifact, describe, signature_holds};

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// It holds.
    Ok,
    /// It does not.
    Failed,
    /// It could not be made (a signature, without a key).
    Skipped,
}

impl Status {
    /// `ok`, `failed` or `skipped`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }
}

/// One check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Check {
    /// The file checked.
    pub file: String,
    /// What was checked (`size and sha256`, `checksums`, `signature`, `sbom`, `provenance`,
    /// `provenance signature`, `listed`, `rehearsal`).
    pub check: &'static str,
    /// The outcome.
    pub status: Status,
    /// Why it failed or was skipped.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// Every check made of a release folder: `keel verify`'s outcome (in JSON, `dir`, `ok` and
/// `checks`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// The release folder.
    pub dir: PathBuf,
    /// Whether a public key was given (without one, signatures are skipped).
    pub key_given: bool,
    /// Every check, in the order made.
    pub checks: Vec<Check>,
}

/// The JSON shape of a [`Verification`].
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
struct VerificationJson {
    /// The release folder.
    dir: PathBuf,
    /// Whether every check holds (none failed).
    ok: bool,
    /// Every check, in the order made.
    checks: Vec<Check>,
}

impl schemars::JsonSchema for Verification {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Verification".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        VerificationJson::json_schema(generator)
    }
}

impl Serialize for Verification {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("Verification", 3)?;
        out.serialize_field("dir", &self.dir)?;
        out.serialize_field("ok", &self.passed())?;
        out.serialize_field("checks", &self.checks)?;
        out.end()
    }
}

impl Verification {
    /// How many checks failed.
    pub fn failed(&self) -> usize {
        self.count(Status::Failed)
    }

    /// How many checks were skipped.
    pub fn skipped(&self) -> usize {
        self.count(Status::Skipped)
    }

    /// Whether no check failed.
    pub fn passed(&self) -> bool {
        self.failed() == 0
    }

    fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    fn push(&mut self, file: &str, check: &'static str, status: Status, detail: String) {
        self.checks.push(Check {
            file: file.to_owned(),
            check,
            status,
            detail,
        });
    }

    fn ok(&mut self, file: &str, check: &'static str) {
        self.push(file, check, Status::Ok, String::new());
    }

    fn fail(&mut self, file: &str, check: &'static str, detail: impl Into<String>) {
        self.push(file, check, Status::Failed, detail.into());
    }

    fn skip(&mut self, file: &str, check: &'static str, detail: impl Into<String>) {
        self.push(file, check, Status::Skipped, detail.into());
    }

    fn result(&mut self, file: &str, check: &'static str, result: Result<(), String>) {
        match result {
            Ok(()) => self.ok(file, check),
            Err(detail) => self.fail(file, check, detail),
        }
    }
}

/// The kinds the provenance names as subjects: everything but itself and signatures.
fn provenance_subject(kind: ArtifactKind) -> bool {
    !matches!(kind, ArtifactKind::Provenance | ArtifactKind::Signature)
}

/// Checks the release in `dir`: the manifest's signature; every listed file present with its
/// size and sha256 and nothing else; each checksum file; each signature (with `key`); each
/// SBOM; the provenance and its signature. Fails only when `dir` holds no readable manifest;
/// every other problem is a failed [`Check`].
pub fn verify(dir: &Path, key: Option<&PublicKey>) -> Result<Verification, Error> {
    verify_folder(&ReleaseFolder::open(dir)?, key)
}

/// [`verify`] of a release folder already opened.
pub fn verify_folder(
    folder: &ReleaseFolder,
    key: Option<&PublicKey>,
) -> Result<Verification, Error> {
    let (dir, manifest) = (folder.dir(), folder.manifest());
    let mut report = Verification {
        dir: dir.to_owned(),
        key_given: key.is_some(),
        checks: Vec::new(),
    };
    let signature_of_manifest = format!("{MANIFEST_FILE_NAME}.minisig");
    check_signature(
        &mut report,
        dir,
        key,
        MANIFEST_FILE_NAME,
        &signature_of_manifest,
        manifest,
    );
    check_files(&mut report, dir, manifest, &signature_of_manifest);
    check_rehearsal(&mut report, dir, manifest, key);
    for (name, artifact) in &manifest.artifacts {
        match artifact.kind {
            ArtifactKind::Checksum | ArtifactKind::Checksums => {
                check_checksums(&mut report, dir, manifest, name)
            }
            ArtifactKind::Signature => match &artifact.signature_of {
                Some(signed) => check_signature(&mut report, dir, key, signed, name, manifest),
                None => report.fail(name, "signature", "the manifest does not say what it signs"),
            },
            ArtifactKind::Sbom => {
                let result = check_sbom(dir, manifest, name);
                report.result(name, "sbom", result);
            }
            ArtifactKind::Provenance => check_provenance(&mut report, dir, manifest, name, key),
            _ => {}
        }
    }
    Ok(report)
}

/// Every listed file is there with its size and sha256, and nothing else is.
fn check_files(
    report: &mut Verification,
    dir: &Path,
    manifest: &Manifest,
    manifest_signature: &str,
) {
    for (name, artifact) in &manifest.artifacts {
        let result = check_artifact(&dir.join(name), artifact).map_err(|mismatch| match mismatch {
            Mismatch::Missing => "missing".to_owned(),
            Mismatch::Unreadable(err) => describe(&err),
            Mismatch::Content { size, .. } if size != artifact.size => {
                format!("{size} bytes, the manifest says {}", artifact.size)
            }
            Mismatch::Content { sha256, .. } => {
                format!("sha256 {sha256}, the manifest says {}", artifact.sha256)
            }
        });
        report.result(name, "size and sha256", result);
    }
    let mut present: Vec<String> = fs_err::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    present.sort();
    for name in present {
        let known = name == MANIFEST_FILE_NAME
            || name == manifest_signature
            || name == REHEARSAL_FILE_NAME
            || name == crate::rehearsal::rehearsal_signature_name()
            || manifest.artifacts.contains_key(&name);
        if !known {
            report.fail(&name, "listed", "this file is not in the manifest");
        }
    }
}

/// The rehearsal report, when the release has one: signed (with a key), about this release,
/// and passed.
fn check_rehearsal(
    report: &mut Verification,
    dir: &Path,
    manifest: &Manifest,
    key: Option<&PublicKey>,
) {
    let rehearsal = match crate::rehearsal::read_rehearsal(dir) {
        Ok(None) => return,
        Ok(Some(rehearsal)) => rehearsal,
        Err(err) => {
            report.fail(REHEARSAL_FILE_NAME, "rehearsal", describe(&err));
            return;
        }
    };
    let signature = crate::rehearsal::rehearsal_signature_name();
    check_signature(report, dir, key, REHEARSAL_FILE_NAME, &signature, manifest);
    let result = crate::rehearsal::manifest_digest(dir)
        .map_err(|err| describe(&err))
        .and_then(|digest| {
            let problems = crate::rehearsal::binding_problems(&rehearsal, manifest, &digest);
            if problems.is_empty() {
                Ok(())
            } else {
                Err(problems.join("; "))
            }
        })
        .and_then(|()| {
            let failed: Vec<String> = rehearsal
                .runs
                .iter()
                .filter(|r| !r.passed)
                .map(|r| format!("{} on {}", r.app, r.target))
                .collect();
            if failed.is_empty() {
                Ok(())
            } else {
                Err(format!("the rehearsal failed for {}", failed.join(", ")))
            }
        });
    report.result(REHEARSAL_FILE_NAME, "rehearsal", result);
}

/// A checksum file lists exactly what it should, with the manifest's digests.
fn check_checksums(report: &mut Verification, dir: &Path, manifest: &Manifest, name: &str) {
    let Some(artifact) = manifest.artifacts.get(name) else {
        return;
    };
    let expected: BTreeSet<&str> = match (&artifact.kind, &artifact.checksum_of) {
        (ArtifactKind::Checksum, Some(of)) => BTreeSet::from([of.as_str()]),
        (ArtifactKind::Checksum, None) => {
            report.fail(
                name,
                "checksums",
                "the manifest does not say what it covers",
            );
            return;
        }
        _ => manifest
            .artifacts
            .iter()
            .filter(|(_, a)| a.kind.checksummed())
            .map(|(n, _)| n.as_str())
            .collect(),
    };
    let result = (|| {
        let text = fs_err::read_to_string(dir.join(name)).map_err(|e| describe(&e))?;
        let entries = keel_verify::parse_checksums(&text).map_err(|e| describe(&e))?;
        let mut seen = BTreeSet::new();
        for entry in &entries {
            let listed = manifest
                .artifacts
                .get(&entry.file_name)
                .ok_or_else(|| format!("lists {}, which the manifest does not", entry.file_name))?;
            if listed.sha256 != entry.sha256 {
                return Err(format!(
                    "gives {} for {}, the manifest says {}",
                    entry.sha256, entry.file_name, listed.sha256
                ));
            }
            seen.insert(entry.file_name.as_str());
        }
        if seen != expected {
            let missing: Vec<_> = expected.difference(&seen).collect();
            let extra: Vec<_> = seen.difference(&expected).collect();
            return Err(format!(
                "does not cover {missing:?}; covers more: {extra:?}"
            ));
        }
        Ok(())
    })();
    report.result(name, "checksums", result);
}

/// A minisign signature of `signed` verifies with the key and names the file.
fn check_signature(
    report: &mut Verification,
    dir: &Path,
    key: Option<&PublicKey>,
    signed: &str,
    signature: &str,
    manifest: &Manifest,
) {
    let Some(key) = key else {
        if dir.join(signature).exists() {
            report.skip(signature, "signature", "no --public-key given");
        }
        return;
    };
    let result = signature_holds(dir, key, signed, signature, manifest);
    report.result(signature, "signature", result);
}

/// An SBOM describes an app and target that the release has an archive of.
fn check_sbom(dir: &Path, manifest: &Manifest, name: &str) -> Result<(), String> {
    let artifact = manifest
        .artifacts
        .get(name)
        .ok_or("the manifest does not list it")?;
    let text = fs_err::read_to_string(dir.join(name)).map_err(|e| describe(&e))?;
    let bom = Bom::from_json(&text).map_err(|e| describe(&e))?;
    if !bom.is_keel_version() {
        return Err("not a CycloneDX 1.5 document".into());
    }
    let app = artifact
        .app
        .as_deref()
        .ok_or("the manifest names no app for it")?;
    let version = manifest
        .apps
        .get(app)
        .map(|a| a.version.as_str())
        .ok_or("its app is not in the manifest")?;
    let component = bom.metadata.component.as_ref();
    let (described, described_version) = (
        component.map(|c| c.name.as_str()),
        component.and_then(|c| c.version.as_deref()),
    );
    if described != Some(app) || described_version != Some(version) {
        return Err(format!(
            "describes {described:?} {described_version:?}, the manifest says {app} {version}"
        ));
    }
    let target = bom.target();
    if target != artifact.target.as_ref().map(|t| t.as_str()) {
        return Err(format!(
            "is for target {target:?}, the manifest says {:?}",
            artifact.target.as_ref().map(|t| t.as_str())
        ));
    }
    let has_archive = manifest.artifacts.values().any(|a| {
        a.kind == ArtifactKind::Archive && a.app == artifact.app && a.target == artifact.target
    });
    if !has_archive {
        return Err("no archive of its app and target is in the release".into());
    }
    Ok(())
}

/// The provenance lists every artifact with the manifest's digest, for the manifest's commit,
/// and (with a key) its envelope's signature verifies.
fn check_provenance(
    report: &mut Verification,
    dir: &Path,
    manifest: &Manifest,
    name: &str,
    key: Option<&PublicKey>,
) {
    let envelope = match fs_err::read_to_string(dir.join(name))
        .map_err(|e| describe(&e))
        .and_then(|t| Envelope::from_json(&t).map_err(|e| format!("not a DSSE envelope: {e}")))
    {
        Ok(envelope) => envelope,
        Err(detail) => {
            report.fail(name, "provenance", detail);
            return;
        }
    };
    let payload = match key {
        Some(key) => match keel_sign::dsse::verify(&envelope, key) {
            Ok(payload) => {
                report.ok(name, "provenance signature");
                payload
            }
            Err(err) => {
                report.fail(name, "provenance signature", describe(&err));
                return;
            }
        },
        None => {
            report.skip(name, "provenance signature", "no --public-key given");
            match envelope.payload_unverified() {
                Ok(payload) => payload,
                Err(_) => {
                    report.fail(name, "provenance", "the payload is not base64");
                    return;
                }
            }
        }
    };
    let result = (|| {
        let statement = Statement::from_json(&payload).map_err(|e| describe(&e))?;
        let subjects = statement.sha256_by_subject();
        let expected: BTreeMap<String, String> = manifest
            .artifacts
            .iter()
            .filter(|(_, a)| provenance_subject(a.kind))
            .map(|(n, a)| (n.clone(), a.sha256.clone()))
            .collect();
        if subjects != expected {
            let differ: BTreeSet<&String> = expected
                .keys()
                .chain(subjects.keys())
                .filter(|n| expected.get(*n) != subjects.get(*n))
                .collect();
            return Err(format!(
                "its subjects differ from the manifest for {:?}",
                differ.into_iter().collect::<Vec<_>>()
            ));
        }
        if let Some(commit) = &manifest.source.commit {
            let recorded = statement.git_commit();
            if recorded != Some(commit.as_str()) {
                return Err(format!(
                    "records commit {recorded:?}, the manifest says {commit}"
                ));
            }
        }
        Ok(())
    })();
    report.result(name, "provenance", result);
}
