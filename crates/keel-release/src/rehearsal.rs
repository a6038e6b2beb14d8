//! The rehearsal report beside a release's manifest (`keel-rehearsal.json`): reading it,
//! writing it signed, checking that it belongs to the release, and the question `keel publish`
//! asks before it publishes: has every app with databases been rehearsed, and did it pass?

use std::path::{Path, PathBuf};

use keel_schema::rehearsal::{REHEARSAL_FILE_NAME, Rehearsal, database_count};
use keel_schema::{ArtifactKind, MANIFEST_FILE_NAME, Manifest};
use keel_sign::SigningKey;
use keel_verify::minisign::PublicKey;

use crate::Error;

/// The signature of the report.
pub fn rehearsal_signature_name() -> String {
    format!("{REHEARSAL_FILE_NAME}.minisig")
}

/// The report in `dir`, if there is one.
pub fn read_rehearsal(dir: &Path) -> Result<Option<Rehearsal>, Error> {
    let path = dir.join(REHEARSAL_FILE_NAME);
    match fs_err::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|source| Error::BadRehearsal {
                path,
                detail: source.to_string(),
            }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Read { path, source }),
    }
}

/// The sha256 of the release's manifest file, which a report names.
pub fn manifest_digest(dir: &Path) -> Result<String, Error> {
    let (digest, _) = keel_verify::sha256_file(&dir.join(MANIFEST_FILE_NAME))?;
    Ok(digest.to_hex())
}

/// Writes `report` into `dir` (replacing an earlier one): the file and, with a key, its
/// minisign signature, each through a temporary file renamed into place. Without a key an
/// earlier signature is removed, so no signature ever covers other content.
pub fn write_rehearsal(
    dir: &Path,
    report: &Rehearsal,
    key: Option<&SigningKey>,
    manifest: &Manifest,
) -> Result<(), Error> {
    let mut text = serde_json::to_vec_pretty(report).expect("a report is plain JSON data");
    text.push(b'\n');
    let signature = dir.join(rehearsal_signature_name());
    match key {
        Some(key) => {
            let signed = key
                .sign(
                    text.as_slice(),
                    &crate::files::trusted_comment(manifest, REHEARSAL_FILE_NAME),
                    "signature from keel",
                )
                .map_err(|source| Error::Sign {
                    file: REHEARSAL_FILE_NAME.to_owned(),
                    source,
                })?;
            // The old signature goes first: a crash in between leaves an unsigned report,
            // which fails verification, never a signature over other content.
            remove_if_there(&signature)?;
            keel_fs::write_atomic(&dir.join(REHEARSAL_FILE_NAME), &text, None)?;
            keel_fs::write_atomic(&signature, signed.to_text().as_bytes(), None)?;
        }
        None => {
            remove_if_there(&signature)?;
            keel_fs::write_atomic(&dir.join(REHEARSAL_FILE_NAME), &text, None)?;
        }
    }
    Ok(())
}

fn remove_if_there(path: &Path) -> Result<(), Error> {
    match fs_err::remove_file(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// What ties a report to a release: it names the manifest's sha256, and each run names an
/// archive of the release with the manifest's sha256 and the app's version. Returns the
/// problems; none when the report belongs to the release.
pub fn binding_problems(
    report: &Rehearsal,
    manifest: &Manifest,
    manifest_sha256: &str,
) -> Vec<String> {
    let mut problems = Vec::new();
    if report.manifest_sha256 != manifest_sha256 {
        problems.push(format!(
            "it rehearsed the release whose manifest has sha256 {}, not this one ({manifest_sha256})",
            report.manifest_sha256
        ));
    }
    for run in &report.runs {
        let at = format!("{} on {}", run.app, run.target);
        match manifest.artifacts.get(&run.archive) {
            Some(a) if a.kind == ArtifactKind::Archive && a.sha256 == run.archive_sha256 => {}
            Some(_) => problems.push(format!(
                "{at}: {} is not the archive the manifest lists",
                run.archive
            )),
            None => problems.push(format!("{at}: the release has no {}", run.archive)),
        }
        match manifest.apps.get(&run.app) {
            Some(app) if app.version == run.version => {}
            _ => problems.push(format!(
                "{at}: version {} is not the release's",
                run.version
            )),
        }
    }
    problems
}

/// Verifies the report's signature with `key`.
pub fn check_rehearsal_signature(
    dir: &Path,
    key: &PublicKey,
    manifest: &Manifest,
) -> Result<(), String> {
    crate::folder::signature_holds(
        dir,
        key,
        REHEARSAL_FILE_NAME,
        &rehearsal_signature_name(),
        manifest,
    )
}

/// The apps of `manifest` that keep databases: their update must be rehearsed.
pub fn apps_with_databases(manifest: &Manifest) -> Vec<String> {
    manifest
        .apps
        .iter()
        .filter(|(_, app)| database_count(app.update.as_ref(), app.rehearse.as_ref()) > 0)
        .map(|(name, _)| name.clone())
        .collect()
}

/// Why a release may not be published yet; empty when its rehearsal allows it. Every app with
/// databases needs a passing run of its version and no failed run; the report must belong to
/// the release and, with `key`, carry a valid signature.
pub fn rehearsal_gate(dir: &Path, key: Option<&PublicKey>) -> Result<Vec<String>, Error> {
    rehearsal_gate_of(&crate::ReleaseFolder::open(dir)?, key)
}

/// [`rehearsal_gate`] of a release folder already opened.
pub fn rehearsal_gate_of(
    folder: &crate::ReleaseFolder,
    key: Option<&PublicKey>,
) -> Result<Vec<String>, Error> {
    let (dir, manifest) = (folder.dir(), folder.manifest());
    let needed = apps_with_databases(manifest);
    if needed.is_empty() {
        return Ok(Vec::new());
    }
    let Some(report) = read_rehearsal(dir)? else {
        return Ok(vec![format!(
            "{} keep(s) databases and the release has no {REHEARSAL_FILE_NAME}",
            needed.join(", ")
        )]);
    };
    let mut problems = binding_problems(&report, manifest, &manifest_digest(dir)?);
    if let Some(key) = key
        && let Err(problem) = check_rehearsal_signature(dir, key, manifest)
    {
        problems.push(problem);
    }
    for run in report.runs.iter().filter(|r| !r.passed) {
        let failed = run
            .steps
            .iter()
            .find(|s| !s.passed)
            .map(|s| format!("{}: {}", s.step, s.detail))
            .unwrap_or_else(|| "no step passed".to_owned());
        problems.push(format!(
            "the rehearsal of {} {} on {} failed at {failed}",
            run.app, run.version, run.target
        ));
    }
    for app in &needed {
        if !report.runs.iter().any(|r| &r.app == app) {
            problems.push(format!("{app} keeps databases and was not rehearsed"));
        }
    }
    Ok(problems)
}

/// The runs of the reports of the releases in `dirs`, each checked to belong to its release;
/// `None` when none has a report. A merge, or an image build that writes the manifest anew,
/// reads them before it writes anything, so a bad report stops it early.
pub(crate) fn rehearsals_of(partials: &[PathBuf]) -> Result<Option<Rehearsal>, Error> {
    let mut merged: Option<Rehearsal> = None;
    for dir in partials {
        let Some(report) = read_rehearsal(dir)? else {
            continue;
        };
        let partial = crate::ReleaseFolder::open(dir)?.into_manifest();
        let problems = binding_problems(&report, &partial, &manifest_digest(dir)?);
        if !problems.is_empty() {
            return Err(Error::BadRehearsal {
                path: dir.join(REHEARSAL_FILE_NAME),
                detail: problems.join("; "),
            });
        }
        let merged = merged.get_or_insert_with(|| Rehearsal {
            runs: Vec::new(),
            ..report.clone()
        });
        for run in report.runs {
            merged.put(run);
        }
    }
    Ok(merged)
}

/// Writes `merged`'s runs into the release in `out`, bound anew to its manifest (a merged
/// release, or one an image was added to: the archives are the same, byte for byte) and
/// signed with `key`.
pub(crate) fn write_rebound_rehearsal(
    mut merged: Rehearsal,
    out: &Path,
    manifest: &Manifest,
    key: Option<&SigningKey>,
) -> Result<(), Error> {
    merged.manifest_sha256 = manifest_digest(out)?;
    let problems = binding_problems(&merged, manifest, &merged.manifest_sha256);
    if !problems.is_empty() {
        return Err(Error::BadRehearsal {
            path: out.join(REHEARSAL_FILE_NAME),
            detail: problems.join("; "),
        });
    }
    write_rehearsal(out, &merged, key, manifest)
}
