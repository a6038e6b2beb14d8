//! `keel plan`, `keel build` and `keel release`: load, plan, build, package, move into place.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use keel_archive::{Entry, write_archive};
use keel_build::{Builder, CargoBuilder, FakeBuilder, Toolchain};
use keel_plan::{Plan, PlanOptions};
use keel_schema::{
    App, ArtifactKind, MANIFEST_FILE_NAME, MANIFEST_SCHEMA_VERSION, Manifest, Source, TargetBuild,
};
use keel_sign::SigningKey;

use crate::artifacts;
use keel_workspace::{GitInfo, Workspace};

use crate::cli::{BuildArgs, BuilderKind, GlobalArgs, PlanArgs};
use crate::progress::Progress;
use crate::{Hint, hinted};

/// The archive time used when neither SOURCE_DATE_EPOCH nor a git commit gives one:
/// 1980-01-01T00:00:00Z, the earliest time a zip archive can hold.
const FALLBACK_EPOCH: u64 = 315_532_800;

/// Everything loaded before planning.
pub struct Loaded {
    pub workspace: Workspace,
    pub toolchain: Toolchain,
    pub git: Option<GitInfo>,
}

pub fn load(global: &GlobalArgs) -> anyhow::Result<Loaded> {
    let cwd = std::env::current_dir().context("could not read the current directory")?;
    let manifest = keel_workspace::find_manifest(global.manifest_path.as_deref(), &cwd)?;
    let workspace = Workspace::load(&manifest)?;
    let toolchain = Toolchain::detect(&workspace.root)?;
    let git = keel_workspace::git_info(&workspace.root);
    Ok(Loaded {
        workspace,
        toolchain,
        git,
    })
}

/// The tag: `--tag`, else the tag GitHub Actions is running for.
fn resolve_tag(args: &PlanArgs) -> Option<String> {
    if let Some(tag) = &args.tag {
        return Some(tag.clone());
    }
    let env = |key| std::env::var(key).ok().filter(|v| !v.is_empty());
    if env("GITHUB_REF_TYPE").as_deref() == Some("tag") {
        return env("GITHUB_REF_NAME");
    }
    env("GITHUB_REF").and_then(|r| r.strip_prefix("refs/tags/").map(str::to_owned))
}

pub fn make_plan(loaded: &Loaded, args: &PlanArgs) -> anyhow::Result<Plan> {
    let options = PlanOptions {
        host: loaded.toolchain.host.clone(),
        targets: args.targets.clone(),
        tag: resolve_tag(args),
        sign: args.sign,
    };
    Ok(keel_plan::plan(&loaded.workspace, &options)?)
}

fn source_date_epoch(git: Option<&GitInfo>) -> anyhow::Result<u64> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) if !value.trim().is_empty() => value.trim().parse().map_err(|_| {
            hinted(
                format!("SOURCE_DATE_EPOCH is `{value}`, not a number of seconds"),
                "set it to a Unix time such as `$(git log -1 --format=%ct)`, or unset it",
            )
        }),
        _ => Ok(git.map_or(FALLBACK_EPOCH, |g| g.commit_time)),
    }
}

fn builder(loaded: &Loaded, kind: BuilderKind, epoch: u64) -> Box<dyn Builder> {
    match kind {
        BuilderKind::Fake => Box::new(FakeBuilder),
        BuilderKind::Cargo => Box::new(CargoBuilder {
            cargo: std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
            manifest_path: loaded.workspace.manifest_path.clone(),
            root: loaded.workspace.root.clone(),
            has_dist_profile: loaded.workspace.has_dist_profile,
            source_date_epoch: epoch,
            toolchain: loaded.toolchain.clone(),
        }),
    }
}

/// Checks every target and the lock file before anything is built.
fn preflight(loaded: &Loaded, plan: &Plan, builder: &dyn Builder) -> anyhow::Result<()> {
    if builder.name() == "cargo" && !loaded.workspace.has_lockfile {
        bail!(hinted(
            format!(
                "{} has no Cargo.lock; keel builds with --locked so that a release builds exactly the versions you tested",
                loaded.workspace.root.display()
            ),
            "run `cargo generate-lockfile` and commit Cargo.lock",
        ));
    }
    for target in &plan.targets {
        builder.check_target(target)?;
    }
    Ok(())
}

pub fn build(
    loaded: &Loaded,
    plan: &Plan,
    kind: BuilderKind,
    epoch: u64,
    progress: &Progress,
) -> anyhow::Result<&'static str> {
    let builder = builder(loaded, kind, epoch);
    preflight(loaded, plan, builder.as_ref())?;
    for step in &plan.builds {
        progress.step(format!("Building {}", step.target));
        builder.build(step, progress)?;
    }
    progress.finish();
    Ok(builder.name())
}

pub fn run_build(global: &GlobalArgs, args: &BuildArgs) -> anyhow::Result<()> {
    let loaded = load(global)?;
    let plan = make_plan(&loaded, &args.plan)?;
    let epoch = source_date_epoch(loaded.git.as_ref())?;
    let progress = Progress::new(global.quiet);
    build(&loaded, &plan, args.builder, epoch, &progress)?;
    let binaries = plan.builds.iter().flat_map(|build| {
        build
            .outputs
            .iter()
            .map(move |output| (build.target.as_str(), output))
    });
    match global.format {
        crate::cli::Format::Json => {
            let binaries: Vec<_> = binaries
                .map(|(target, output)| {
                    serde_json::json!({"target": target, "binary": output.binary, "path": output.path})
                })
                .collect();
            crate::print_json(&serde_json::json!({ "binaries": binaries }));
        }
        crate::cli::Format::Text if !global.quiet => {
            for (target, output) in binaries {
                crate::out(&format!("{target:<32} {}", output.path));
            }
        }
        crate::cli::Format::Text => {}
    }
    Ok(())
}

/// The folder a release is written to, and the staging folder it is prepared in.
pub(crate) struct OutDir {
    out: PathBuf,
    staging: tempfile::TempDir,
}

impl OutDir {
    /// Checks `out` may be replaced and creates the staging folder beside it, before anything
    /// is built, so that an unusable output folder fails fast.
    pub(crate) fn prepare(out: PathBuf) -> anyhow::Result<OutDir> {
        let unusable_hint = "choose another folder with --out";
        if out.exists() {
            if !out.is_dir() {
                bail!(hinted(
                    format!("the output folder {} is a file", out.display()),
                    unusable_hint,
                ));
            }
            let mut entries = fs_err::read_dir(&out)?;
            if entries.next().is_some() && !out.join(MANIFEST_FILE_NAME).is_file() {
                bail!(hinted(
                    format!(
                        "refusing to replace {}: it holds files keel did not write (it has no {MANIFEST_FILE_NAME})",
                        out.display()
                    ),
                    "choose an empty or new folder with --out, or remove that folder",
                ));
            }
        }
        let parent = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let unwritable = |err: std::io::Error| {
            hinted(
                format!("cannot write the output folder {}: {err}", out.display()),
                unusable_hint,
            )
        };
        fs_err::create_dir_all(parent).map_err(unwritable)?;
        let staging = tempfile::Builder::new()
            .prefix(".keel-staging-")
            .tempdir_in(parent)
            .map_err(unwritable)?;
        Ok(OutDir { out, staging })
    }

    pub(crate) fn path(&self) -> &Path {
        self.staging.path()
    }

    /// Writes the manifest (and its signature) last, then moves the staging folder into
    /// place; returns the output folder.
    pub(crate) fn finish(
        self,
        manifest: &Manifest,
        key: Option<&SigningKey>,
    ) -> anyhow::Result<PathBuf> {
        crate::artifacts::write_manifest(self.path(), manifest, key)?;
        let out = self.out.clone();
        self.commit()?;
        Ok(out)
    }

    /// Moves the staging folder into place, replacing the previous release.
    fn commit(self) -> anyhow::Result<()> {
        let staging = self.staging.keep();
        sync_dir(&staging)?;
        let parent = staging.parent().expect("the staging folder has a parent");
        if self.out.exists() {
            let old = tempfile::Builder::new()
                .prefix(".keel-old-")
                .tempdir_in(parent)?
                .keep();
            fs_err::remove_dir(&old)?;
            fs_err::rename(&self.out, &old)?;
            if let Err(err) = fs_err::rename(&staging, &self.out) {
                // Put the previous release back: the output folder stays as it was.
                let _ = fs_err::rename(&old, &self.out);
                let _ = fs_err::remove_dir_all(&staging);
                return Err(err.into());
            }
            fs_err::remove_dir_all(&old)?;
        } else if let Err(err) = fs_err::rename(&staging, &self.out) {
            let _ = fs_err::remove_dir_all(&staging);
            return Err(err.into());
        }
        sync_dir(parent)?;
        Ok(())
    }
}

fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    fs_err::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Writes every artifact of the plan into `dir`, recording each in `manifest`.
fn package(
    loaded: &Loaded,
    plan: &Plan,
    dir: &Path,
    manifest: &mut Manifest,
    key: Option<&SigningKey>,
    progress: &Progress,
) -> anyhow::Result<()> {
    let epoch = manifest.source.source_date_epoch;
    let archives = plan
        .artifacts
        .iter()
        .filter(|a| a.kind == ArtifactKind::Archive)
        .count();
    progress.counted("Packaging".into(), archives as u64);
    let lock_checksums = keel_workspace::lock_checksums(&loaded.workspace.root)?;
    let mut resolved: BTreeMap<&str, cargo_metadata::Metadata> = BTreeMap::new();
    for artifact in &plan.artifacts {
        let (app, target) = (artifact.app.clone(), artifact.target.clone());
        let record = match artifact.kind {
            ArtifactKind::Archive => {
                progress.message(artifact.file_name.clone());
                let format = artifact
                    .format
                    .expect("the plan gives every archive a format");
                let entries: Vec<Entry> = artifact
                    .contents
                    .iter()
                    .map(|c| Entry::file(&c.path, &c.absolute_source, c.executable))
                    .collect();
                let written =
                    write_archive(format, &entries, epoch, &dir.join(&artifact.file_name))?;
                progress.advance();
                let mut record = artifacts::record(
                    ArtifactKind::Archive,
                    app,
                    target,
                    (written.size, written.sha256.to_hex()),
                );
                record.format = Some(format);
                record.executables = artifact
                    .contents
                    .iter()
                    .filter(|c| c.role == keel_plan::ContentRole::Binary)
                    .map(|c| c.path.clone())
                    .collect();
                record
            }
            ArtifactKind::Checksum => {
                let written = artifacts::write_checksums(
                    dir,
                    &artifact.file_name,
                    &artifact.covers,
                    manifest,
                )?;
                let mut record = artifacts::record(ArtifactKind::Checksum, app, target, written);
                record.checksum_of = artifact.covers.first().cloned();
                record
            }
            ArtifactKind::Sbom => {
                let triple = artifact.target.as_deref().expect("an SBOM has a target");
                let package = artifact.app.as_deref().expect("an SBOM has an app");
                if !resolved.contains_key(triple) {
                    progress.message(format!("resolving dependencies for {triple}"));
                    let metadata = keel_workspace::resolve_for_target(
                        &loaded.workspace.manifest_path,
                        triple,
                    )?;
                    resolved.insert(triple, metadata);
                }
                let sbom = keel_sign::sbom::cyclonedx(&keel_sign::sbom::SbomInput {
                    metadata: &resolved[triple],
                    package,
                    target: triple,
                    lock_checksums: &lock_checksums,
                    source_date_epoch: epoch,
                    tool_version: env!("CARGO_PKG_VERSION"),
                })?;
                let written = artifacts::write_synced(dir, &artifact.file_name, sbom.as_bytes())?;
                artifacts::record(ArtifactKind::Sbom, app, target, written)
            }
            // The files over the whole release come last, written as `keel merge` writes them.
            _ => continue,
        };
        manifest
            .artifacts
            .insert(artifact.file_name.clone(), record);
    }
    artifacts::write_release_files(dir, manifest, key)?;
    progress.finish();
    let planned: Vec<&str> = plan
        .artifacts
        .iter()
        .map(|a| a.file_name.as_str())
        .collect();
    let written: Vec<&str> = manifest.artifacts.keys().map(String::as_str).collect();
    let mut planned_sorted = planned.clone();
    planned_sorted.sort_unstable();
    anyhow::ensure!(
        planned_sorted == written,
        "internal error: the release wrote {written:?}, but the plan said {planned:?}"
    );
    Ok(())
}

pub fn run_release(global: &GlobalArgs, args: &crate::cli::ReleaseArgs) -> anyhow::Result<()> {
    let loaded = load(global)?;
    let key = crate::signing::load_signing_key(args.sign.sign_key.as_deref())?;
    let mut plan_args = args.build.plan.clone();
    plan_args.sign = key.is_some();
    let plan = make_plan(&loaded, &plan_args)?;
    let epoch = source_date_epoch(loaded.git.as_ref())?;
    let out = match &args.out {
        Some(out) => std::env::current_dir()?.join(out),
        None => loaded.workspace.target_dir.join("keel").join("dist"),
    };
    let out_dir = OutDir::prepare(out)?;
    let progress = Progress::new(global.quiet);
    let builder = build(&loaded, &plan, args.build.builder, epoch, &progress)?;
    let mut manifest = manifest(&loaded, &plan, builder, epoch);
    package(
        &loaded,
        &plan,
        out_dir.path(),
        &mut manifest,
        key.as_ref(),
        &progress,
    )?;
    let out = out_dir.finish(&manifest, key.as_ref())?;
    if !global.quiet && manifest.source.dirty {
        crate::warn("the work tree has uncommitted changes; the manifest records `dirty: true`");
    }
    report_release(global, &manifest, &out);
    Ok(())
}

/// The manifest of the plan, before any artifact is written.
fn manifest(loaded: &Loaded, plan: &Plan, builder: &str, epoch: u64) -> Manifest {
    Manifest {
        schema_version: MANIFEST_SCHEMA_VERSION,
        tag: plan.tag.clone(),
        version: plan.version.clone(),
        prerelease: plan.prerelease,
        source: Source {
            commit: loaded.git.as_ref().map(|g| g.commit.clone()),
            dirty: loaded.git.as_ref().is_some_and(|g| g.dirty),
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
                        host: loaded.toolchain.host.clone(),
                        rustc: loaded.toolchain.version.clone(),
                        builder: builder.to_owned(),
                        profile: plan.profile.clone(),
                    },
                )
            })
            .collect(),
        artifacts: BTreeMap::new(),
    }
}

/// Prints a written release: the manifest as JSON, or a summary for people.
pub(crate) fn report_release(global: &GlobalArgs, manifest: &Manifest, out: &Path) {
    match global.format {
        crate::cli::Format::Json => crate::print_json(&serde_json::json!({
            "out_dir": out,
            "manifest": manifest,
        })),
        crate::cli::Format::Text if !global.quiet => print_summary(manifest, out),
        crate::cli::Format::Text => {}
    }
}

fn print_summary(manifest: &Manifest, out: &Path) {
    let what = match (&manifest.tag, &manifest.version) {
        (Some(tag), _) => tag.clone(),
        (None, Some(version)) => format!("version {version}"),
        (None, None) => "release".to_owned(),
    };
    crate::out(&format!("Released {what} into {}", out.display()));
    let width = manifest
        .artifacts
        .keys()
        .map(String::len)
        .max()
        .unwrap_or(0);
    for (name, artifact) in &manifest.artifacts {
        crate::out(&format!(
            "  {name:<width$}  {:>10}  {}",
            human_size(artifact.size),
            artifact.kind
        ));
    }
    crate::out(&format!("  {MANIFEST_FILE_NAME}"));
}

fn human_size(bytes: u64) -> String {
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

pub fn run_plan(global: &GlobalArgs, args: &crate::cli::PlanCommandArgs) -> anyhow::Result<()> {
    let loaded = load(global)?;
    let mut plan_args = args.plan.clone();
    // Planning needs to know that a key is configured, not the key itself.
    plan_args.sign = args.sign.sign_key.is_some() || crate::signing::key_in_environment();
    let plan = make_plan(&loaded, &plan_args)?;
    match global.format {
        crate::cli::Format::Json => crate::print_json(&plan),
        crate::cli::Format::Text => crate::out(render_plan(&plan).trim_end()),
    }
    Ok(())
}

/// The plan as text for people.
pub fn render_plan(plan: &Plan) -> String {
    let mut text = String::new();
    let mut line = |s: String| {
        text.push_str(&s);
        text.push('\n');
    };
    let release = match (&plan.tag, &plan.version) {
        (Some(tag), Some(version)) => format!("tag {tag}, version {version}"),
        (Some(tag), None) => format!("tag {tag}"),
        (None, Some(version)) => format!("version {version}, no tag"),
        (None, None) => "no tag".to_owned(),
    };
    let pre = if plan.prerelease {
        " (pre-release)"
    } else {
        ""
    };
    line(format!("Release: {release}{pre}"));
    line(format!("Profile: {}", plan.profile));
    line(format!(
        "Signed: {}",
        if plan.signed { "yes" } else { "no" }
    ));
    line("Apps:".into());
    for app in &plan.apps {
        line(format!(
            "  {} {}: {}",
            app.name,
            app.version,
            app.binaries.join(", ")
        ));
    }
    line("Builds:".into());
    for build in &plan.builds {
        line(format!(
            "  {}: {}",
            build.target,
            build
                .outputs
                .iter()
                .map(|o| o.path.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    line("Artifacts:".into());
    for artifact in &plan.artifacts {
        let detail = match artifact.kind {
            ArtifactKind::Checksums => format!("checksums of {} files", artifact.covers.len()),
            kind => kind.to_string(),
        };
        line(format!("  {} ({detail})", artifact.file_name));
        for content in &artifact.contents {
            let mode = if content.executable { "755" } else { "644" };
            line(format!(
                "    {mode} {}  <- {}",
                content.path, content.source
            ));
        }
    }
    line(format!("  {MANIFEST_FILE_NAME} (manifest)"));
    if plan.signed {
        line(format!("  {MANIFEST_FILE_NAME}.minisig (signature)"));
    }
    text
}

impl Hint for keel_plan::Error {
    fn hint(&self) -> Option<String> {
        Some(match self {
            keel_plan::Error::NoBinaries => {
                "keel ships binaries: add src/main.rs or a [[bin]] target to a member, or check `apps` and `dist = false` in the keel settings".into()
            }
            keel_plan::Error::TagMismatch { .. } => {
                "tag the commit with the version in Cargo.toml, or bump that version before tagging".into()
            }
            keel_plan::Error::TagFormat { .. } => {
                "tags are `v` and the version (`v1.2.3`), or the package name, `-v` and the version (`my-app-v1.2.3`)".into()
            }
            keel_plan::Error::UnknownApp { .. } | keel_plan::Error::UnknownBinary { .. } => {
                "fix the name in Cargo.toml; `keel plan` shows what would be shipped".into()
            }
            _ => return None,
        })
    }
}

impl Hint for keel_build::Error {
    fn hint(&self) -> Option<String> {
        Some(match self {
            keel_build::Error::TargetNotInstalled { target } => format!(
                "install it with `rustup target add {target}`, or build this target on a CI runner of that platform"
            ),
            keel_build::Error::UnknownTarget { .. } => {
                "`rustc --print target-list` lists the targets rustc knows".into()
            }
            _ => return None,
        })
    }
}

impl Hint for keel_workspace::Error {
    fn hint(&self) -> Option<String> {
        Some(match self {
            keel_workspace::Error::NotFound { .. } | keel_workspace::Error::ManifestMissing { .. } => {
                "run keel in a Cargo workspace, or pass --manifest-path path/to/Cargo.toml".into()
            }
            keel_workspace::Error::Config { .. } => {
                "the keel settings are documented in the README; `keel init` writes them with their defaults".into()
            }
            _ => return None,
        })
    }
}
