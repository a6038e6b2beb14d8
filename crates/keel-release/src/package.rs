//! `release`: a plan carried out, from building to the output folder.

use std::collections::BTreeMap;
use std::path::Path;

use keel_archive::{Entry, write_archive};
use keel_plan::{ContentRole, Plan};
use keel_schema::{
    App, ArtifactKind, MANIFEST_SCHEMA_VERSION, Manifest, Source, TargetBuild, TargetTriple,
};
use keel_sign::SigningKey;
use keel_sign::provenance::GithubRun;

use crate::builder::Built;
use crate::files::{
    TOOL_VERSION, Whole, record, write_checksums, write_release_files, write_synced,
};
use crate::staging::Staging;
use crate::{Error, Event, Progress, Project, ReleaseOptions, Released};

/// Carries out `plan` into `out`: builds the binaries, writes every archive, checksum, SBOM,
/// the provenance, the signatures (with a key) and the manifest into a staging folder beside
/// `out`, and moves it into place. On any failure `out` is left as it was.
pub fn release(
    project: &Project,
    plan: &Plan,
    out: &Path,
    options: &ReleaseOptions<'_>,
    reporter: &dyn Progress,
) -> Result<Released, Error> {
    let epoch = project.source_date_epoch(options.env)?;
    let staging = Staging::prepare(out.to_owned())?;
    let built = crate::builder::build(project, plan, epoch, reporter)?;
    let mut manifest = manifest(project, plan, &built, epoch);
    let github = options.env.github_run();
    package(
        project,
        plan,
        &built,
        staging.path(),
        &mut manifest,
        options.key,
        github.as_ref(),
        reporter,
    )?;
    let dir = staging.finish(&manifest, options.key)?;
    Ok(Released { manifest, dir })
}

/// The manifest of the plan, before any artifact is written.
fn manifest(project: &Project, plan: &Plan, built: &Built, epoch: u64) -> Manifest {
    Manifest {
        schema_version: MANIFEST_SCHEMA_VERSION,
        tag: plan.tag.clone(),
        version: plan.version.clone(),
        prerelease: plan.prerelease,
        source: Source {
            commit: project.git.as_ref().map(|g| g.commit.clone()),
            dirty: project.git.as_ref().is_some_and(|g| g.dirty),
            source_date_epoch: epoch,
        },
        apps: plan
            .apps
            .iter()
            .map(|app| {
                (
                    app.name.clone(),
                    App {
                        package: app.name.clone(),
                        version: app.version.clone(),
                        binaries: app.binaries.clone(),
                        description: app.description.clone(),
                        license: app.license.clone(),
                        repository: app.repository.clone(),
                        homepage: app.homepage.clone(),
                        update: app.update.clone(),
                        image: app.image.clone(),
                        rehearse: app.rehearse.clone(),
                    },
                )
            })
            .collect(),
        targets: plan
            .targets
            .iter()
            .map(|target| {
                (
                    target.clone(),
                    TargetBuild {
                        host: project.toolchain.host.clone(),
                        rustc: project.toolchain.version.clone(),
                        builder: built
                            .builders
                            .get(target)
                            .copied()
                            .unwrap_or("cargo")
                            .to_owned(),
                        profile: plan.profile.clone(),
                    },
                )
            })
            .collect(),
        artifacts: BTreeMap::new(),
        distribution: plan.distribution.clone(),
    }
}

/// Writes every artifact of the plan into `dir`, recording each in `manifest`.
#[allow(clippy::too_many_arguments)] // Each is one of the release's inputs.
fn package(
    project: &Project,
    plan: &Plan,
    built: &Built,
    dir: &Path,
    manifest: &mut Manifest,
    key: Option<&SigningKey>,
    github: Option<&GithubRun>,
    reporter: &dyn Progress,
) -> Result<(), Error> {
    let epoch = manifest.source.source_date_epoch;
    let archives = plan
        .artifacts
        .iter()
        .filter(|a| matches!(a.kind, ArtifactKind::Archive | ArtifactKind::Source))
        .count();
    reporter.event(&Event::Packaging(archives as u64));
    let lock_checksums = keel_workspace::lock_checksums(&project.workspace.root)?;
    let mut resolved: BTreeMap<&TargetTriple, cargo_metadata::Metadata> = BTreeMap::new();
    for artifact in &plan.artifacts {
        let (app, target) = (artifact.app.clone(), artifact.target.clone());
        let record = match (
            artifact.kind,
            &artifact.app,
            &artifact.target,
            artifact.format,
        ) {
            (ArtifactKind::Archive, _, _, Some(format)) => {
                reporter.event(&Event::Writing(&artifact.file_name));
                let entries: Vec<Entry> = artifact
                    .contents
                    .iter()
                    .map(|c| Entry::file(&c.path, &c.absolute_source, c.executable))
                    .collect();
                let written =
                    write_archive(format, &entries, epoch, &dir.join(&artifact.file_name))?;
                reporter.event(&Event::Written(&artifact.file_name));
                let mut record = record(
                    ArtifactKind::Archive,
                    app,
                    target,
                    (written.size, written.sha256.to_hex()),
                );
                record.format = Some(format);
                let binaries = artifact
                    .contents
                    .iter()
                    .filter(|c| c.role == ContentRole::Binary);
                record.executables = binaries.clone().map(|c| c.path.clone()).collect();
                record.glibc = binaries
                    .filter_map(|c| built.glibc.get(&c.absolute_source))
                    .map(|need| &need.version)
                    .max()
                    .map(ToString::to_string);
                record
            }
            (ArtifactKind::Source, Some(name), None, Some(format)) => {
                let (Some(commit), Some(info)) = (&artifact.commit, manifest.apps.get(name)) else {
                    // Not what the plan makes: the check below reports the file as missing.
                    continue;
                };
                reporter.event(&Event::Writing(&artifact.file_name));
                let written = crate::source::write_source_archive(
                    &project.workspace.root,
                    commit,
                    &format!("{name}-{}", info.version),
                    epoch,
                    &dir.join(&artifact.file_name),
                    reporter,
                )?;
                reporter.event(&Event::Written(&artifact.file_name));
                let mut record = record(
                    ArtifactKind::Source,
                    app,
                    None,
                    (written.size, written.sha256.to_hex()),
                );
                record.format = Some(format);
                record
            }
            (ArtifactKind::Checksum, _, _, _) => {
                let written =
                    write_checksums(dir, &artifact.file_name, &artifact.covers, manifest)?;
                let mut record = record(ArtifactKind::Checksum, app, target, written);
                record.checksum_of = artifact.covers.first().cloned();
                record
            }
            (ArtifactKind::Sbom, Some(package), Some(triple), _) => {
                if !resolved.contains_key(triple) {
                    reporter.event(&Event::Resolving(triple));
                    let metadata = keel_workspace::resolve_for_target(
                        &project.workspace.manifest_path,
                        triple.as_str(),
                    )?;
                    resolved.insert(triple, metadata);
                }
                let sbom = keel_sign::sbom::cyclonedx(&keel_sign::sbom::SbomInput {
                    metadata: &resolved[triple],
                    package,
                    target: triple.as_str(),
                    lock_checksums: &lock_checksums,
                    source_date_epoch: epoch,
                    tool_version: TOOL_VERSION,
                })?;
                let written = write_synced(dir, &artifact.file_name, sbom.as_bytes())?;
                record(ArtifactKind::Sbom, app, target, written)
            }
            // The files over the whole release come last, written as a merge writes them.
            _ => continue,
        };
        manifest
            .artifacts
            .insert(artifact.file_name.clone(), record);
    }
    let listed = |kind| plan.artifacts.iter().any(|a| a.kind == kind);
    let whole = Whole {
        key,
        github,
        installers: listed(ArtifactKind::Installer),
        page: listed(ArtifactKind::Page),
    };
    write_release_files(dir, manifest, &whole)?;
    reporter.event(&Event::Finished);
    let mut planned: Vec<String> = plan.artifacts.iter().map(|a| a.file_name.clone()).collect();
    planned.sort_unstable();
    let written: Vec<String> = manifest.artifacts.keys().cloned().collect();
    if planned != written {
        return Err(Error::Internal { written, planned });
    }
    Ok(())
}
