//! `keel verify`: checks a release folder against its manifest, its checksums, its signatures,
//! its SBOMs and its provenance. It only reads.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use keel_schema::{ArtifactKind, MANIFEST_FILE_NAME, Manifest};
use keel_verify::minisign::PublicKey;
use serde::Serialize;
use serde_json::Value;

use crate::cli::{Format, GlobalArgs, VerifyArgs};
use crate::hinted;

/// One check and its outcome.
#[derive(Debug, Serialize)]
struct Check {
    /// The file checked.
    file: String,
    /// What was checked.
    check: &'static str,
    /// `ok`, `failed`, or `skipped` (a signature without a key).
    status: &'static str,
    /// Why it failed or was skipped.
    #[serde(skip_serializing_if = "String::is_empty")]
    detail: String,
}

#[derive(Default)]
struct Report {
    checks: Vec<Check>,
}

impl Report {
    fn ok(&mut self, file: &str, check: &'static str) {
        self.push(file, check, "ok", String::new());
    }

    fn fail(&mut self, file: &str, check: &'static str, detail: impl Into<String>) {
        self.push(file, check, "failed", detail.into());
    }

    fn skip(&mut self, file: &str, check: &'static str, detail: impl Into<String>) {
        self.push(file, check, "skipped", detail.into());
    }

    fn push(&mut self, file: &str, check: &'static str, status: &'static str, detail: String) {
        self.checks.push(Check {
            file: file.to_owned(),
            check,
            status,
            detail,
        });
    }

    fn result(&mut self, file: &str, check: &'static str, result: Result<(), String>) {
        match result {
            Ok(()) => self.ok(file, check),
            Err(detail) => self.fail(file, check, detail),
        }
    }

    fn failed(&self) -> usize {
        self.checks.iter().filter(|c| c.status == "failed").count()
    }
}

fn release_dir(global: &GlobalArgs, args: &VerifyArgs) -> anyhow::Result<PathBuf> {
    let cwd = std::env::current_dir().context("could not read the current directory")?;
    if let Some(dir) = &args.dir {
        return Ok(cwd.join(dir));
    }
    if cwd.join(MANIFEST_FILE_NAME).is_file() {
        return Ok(cwd);
    }
    let manifest = keel_workspace::find_manifest(global.manifest_path.as_deref(), &cwd)?;
    let workspace = keel_workspace::Workspace::load(&manifest)?;
    Ok(workspace.target_dir.join("keel").join("dist"))
}

/// The kinds `SHA256SUMS` covers: everything but itself, the provenance and signatures.
fn checksummed(kind: ArtifactKind) -> bool {
    !matches!(
        kind,
        ArtifactKind::Checksums | ArtifactKind::Provenance | ArtifactKind::Signature
    )
}

/// The kinds the provenance names as subjects: everything but itself and signatures.
fn provenance_subject(kind: ArtifactKind) -> bool {
    !matches!(kind, ArtifactKind::Provenance | ArtifactKind::Signature)
}

pub fn run_verify(global: &GlobalArgs, args: &VerifyArgs) -> anyhow::Result<()> {
    let dir = release_dir(global, args)?;
    let key = match &args.key {
        Some(path) => {
            let text = fs_err::read_to_string(path).map_err(|err| {
                hinted(
                    format!("cannot read the public key: {err}"),
                    "pass the PREFIX.pub file written by `keel keygen`",
                )
            })?;
            Some(
                PublicKey::from_text(&text)
                    .with_context(|| format!("cannot use the public key {}", path.display()))?,
            )
        }
        None => None,
    };
    let manifest_path = dir.join(MANIFEST_FILE_NAME);
    let text = fs_err::read_to_string(&manifest_path).map_err(|err| {
        hinted(
            format!("{} is not a keel release: {err}", dir.display()),
            "pass the output folder of `keel release`",
        )
    })?;
    let manifest = Manifest::from_json(&text)
        .with_context(|| format!("could not read {}", manifest_path.display()))?;

    let mut report = Report::default();
    let signature_of_manifest = format!("{MANIFEST_FILE_NAME}.minisig");
    check_signature(
        &mut report,
        &dir,
        key.as_ref(),
        MANIFEST_FILE_NAME,
        &signature_of_manifest,
        &manifest,
    );
    check_files(&mut report, &dir, &manifest, &signature_of_manifest);
    for (name, artifact) in &manifest.artifacts {
        match artifact.kind {
            ArtifactKind::Checksum | ArtifactKind::Checksums => {
                check_checksums(&mut report, &dir, &manifest, name)
            }
            ArtifactKind::Signature => match &artifact.signature_of {
                Some(signed) => {
                    check_signature(&mut report, &dir, key.as_ref(), signed, name, &manifest)
                }
                None => report.fail(name, "signature", "the manifest does not say what it signs"),
            },
            ArtifactKind::Sbom => {
                let result = check_sbom(&dir, &manifest, name);
                report.result(name, "sbom", result);
            }
            ArtifactKind::Provenance => {
                check_provenance(&mut report, &dir, &manifest, name, key.as_ref())
            }
            _ => {}
        }
    }

    let failed = report.failed();
    let skipped = report
        .checks
        .iter()
        .filter(|c| c.status == "skipped")
        .count();
    match global.format {
        Format::Json => crate::print_json(&serde_json::json!({
            "dir": dir,
            "ok": failed == 0,
            "checks": report.checks,
        })),
        Format::Text => {
            for check in &report.checks {
                if global.quiet && check.status == "ok" {
                    continue;
                }
                let detail = if check.detail.is_empty() {
                    String::new()
                } else {
                    format!(": {}", check.detail)
                };
                crate::out(&format!(
                    "{:<7} {} ({}){detail}",
                    check.status, check.file, check.check
                ));
            }
            if !global.quiet {
                crate::out(&format!(
                    "{} checks: {} ok, {failed} failed, {skipped} skipped",
                    report.checks.len(),
                    report.checks.len() - failed - skipped
                ));
            }
        }
    }
    if key.is_none() && !global.quiet {
        crate::warn("no --key given: signatures were not checked, only checksums and contents");
    }
    if failed > 0 {
        bail!(
            "{failed} of {} checks failed for the release in {}",
            report.checks.len(),
            dir.display()
        );
    }
    Ok(())
}

/// Every listed file is there with its size and sha256, and nothing else is.
fn check_files(report: &mut Report, dir: &Path, manifest: &Manifest, manifest_signature: &str) {
    for (name, artifact) in &manifest.artifacts {
        let path = dir.join(name);
        let result = match keel_verify::sha256_file(&path) {
            Err(_) if !path.exists() => Err("missing".to_owned()),
            Err(err) => Err(err.to_string()),
            Ok((_, size)) if size != artifact.size => {
                Err(format!("{size} bytes, the manifest says {}", artifact.size))
            }
            Ok((digest, _)) if digest.to_hex() != artifact.sha256 => Err(format!(
                "sha256 {digest}, the manifest says {}",
                artifact.sha256
            )),
            Ok(_) => Ok(()),
        };
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
            || manifest.artifacts.contains_key(&name);
        if !known {
            report.fail(&name, "listed", "this file is not in the manifest");
        }
    }
}

/// A checksum file lists exactly what it should, with the manifest's digests.
fn check_checksums(report: &mut Report, dir: &Path, manifest: &Manifest, name: &str) {
    let artifact = &manifest.artifacts[name];
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
            .filter(|(_, a)| checksummed(a.kind))
            .map(|(n, _)| n.as_str())
            .collect(),
    };
    let result = (|| {
        let text = fs_err::read_to_string(dir.join(name)).map_err(|e| e.to_string())?;
        let entries = keel_verify::parse_checksums(&text).map_err(|e| e.to_string())?;
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
    report: &mut Report,
    dir: &Path,
    key: Option<&PublicKey>,
    signed: &str,
    signature: &str,
    manifest: &Manifest,
) {
    let Some(key) = key else {
        if dir.join(signature).exists() {
            report.skip(signature, "signature", "no --key given");
        }
        return;
    };
    let path = dir.join(signature);
    if !path.exists() {
        report.fail(signature, "signature", format!("{signed} is not signed"));
        return;
    }
    let result = keel_verify::minisign::verify_file(key, &dir.join(signed), &path)
        .map_err(|err| err.to_string())
        .and_then(|sig| {
            let expected = crate::artifacts::trusted_comment(manifest, signed);
            if sig.trusted_comment == expected {
                Ok(())
            } else {
                Err(format!(
                    "the trusted comment is `{}`, expected `{expected}`",
                    sig.trusted_comment
                ))
            }
        });
    report.result(signature, "signature", result);
}

/// An SBOM describes an app and target that the release has an archive of.
fn check_sbom(dir: &Path, manifest: &Manifest, name: &str) -> Result<(), String> {
    let artifact = &manifest.artifacts[name];
    let text = fs_err::read_to_string(dir.join(name)).map_err(|e| e.to_string())?;
    let bom: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    if bom["bomFormat"] != "CycloneDX" || bom["specVersion"] != "1.5" {
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
    let component = &bom["metadata"]["component"];
    if component["name"] != app || component["version"] != version {
        return Err(format!(
            "describes {} {}, the manifest says {app} {version}",
            component["name"], component["version"]
        ));
    }
    let target = bom["metadata"]["properties"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == "keel:target")
        .and_then(|p| p["value"].as_str());
    if target != artifact.target.as_deref() {
        return Err(format!(
            "is for target {target:?}, the manifest says {:?}",
            artifact.target
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
    report: &mut Report,
    dir: &Path,
    manifest: &Manifest,
    name: &str,
    key: Option<&PublicKey>,
) {
    let envelope = match fs_err::read_to_string(dir.join(name))
        .map_err(|e| e.to_string())
        .and_then(|t| {
            serde_json::from_str::<keel_sign::dsse::Envelope>(t.trim())
                .map_err(|e| format!("not a DSSE envelope: {e}"))
        }) {
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
                report.fail(name, "provenance signature", err.to_string());
                return;
            }
        },
        None => {
            report.skip(name, "provenance signature", "no --key given");
            use base64::Engine as _;
            match base64::engine::general_purpose::STANDARD.decode(&envelope.payload) {
                Ok(payload) => payload,
                Err(_) => {
                    report.fail(name, "provenance", "the payload is not base64");
                    return;
                }
            }
        }
    };
    let result = (|| {
        let statement: Value =
            serde_json::from_slice(&payload).map_err(|e| format!("not JSON: {e}"))?;
        if statement["_type"] != keel_sign::provenance::STATEMENT_TYPE
            || statement["predicateType"] != keel_sign::provenance::PREDICATE_TYPE
        {
            return Err("not an in-toto statement with SLSA provenance".to_owned());
        }
        let subjects: BTreeMap<String, String> = statement["subject"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| {
                Some((
                    s["name"].as_str()?.to_owned(),
                    s["digest"]["sha256"].as_str()?.to_owned(),
                ))
            })
            .collect();
        let expected: BTreeMap<String, String> = manifest
            .artifacts
            .iter()
            .filter(|(_, a)| provenance_subject(a.kind))
            .map(|(n, a)| (n.clone(), a.sha256.clone()))
            .collect();
        if subjects != expected {
            let differ: Vec<&String> = expected
                .keys()
                .chain(subjects.keys())
                .filter(|n| expected.get(*n) != subjects.get(*n))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            return Err(format!(
                "its subjects differ from the manifest for {differ:?}"
            ));
        }
        if let Some(commit) = &manifest.source.commit {
            let recorded = statement["predicate"]["buildDefinition"]["resolvedDependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .find_map(|d| d["digest"]["gitCommit"].as_str());
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
