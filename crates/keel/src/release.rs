//! `keel plan`, `keel build`, `keel release` and `keel merge`: arguments in, the release
//! library's results out, rendered for people or as JSON.

use std::path::Path;

use keel_plan::Plan;
use keel_release::{BuilderKind, Project, ReleaseEnv, ReleaseOptions};
use keel_schema::{ArtifactKind, MANIFEST_FILE_NAME, Manifest};

use crate::cli::{self, BuildArgs, Format, GlobalArgs, MergeArgs, PlanArgs, ReleaseArgs};
use crate::progress::Progress;

fn cwd() -> anyhow::Result<std::path::PathBuf> {
    use anyhow::Context;
    std::env::current_dir().context("could not read the current directory")
}

fn load(global: &GlobalArgs) -> anyhow::Result<Project> {
    Ok(Project::load(global.manifest_path.as_deref(), &cwd()?)?)
}

/// The plan for the command line's targets and tag (`--tag`, else the tag GitHub Actions runs
/// for).
fn make_plan(
    project: &Project,
    args: &PlanArgs,
    env: &ReleaseEnv,
    sign: bool,
) -> anyhow::Result<Plan> {
    let tag = match args.tag.as_deref() {
        Some("") => Some(tag_at_head(&project.workspace.root)?),
        Some(tag) => Some(tag.to_owned()),
        None => env.tag(),
    };
    let builder = args.builder.map(|kind| match kind {
        cli::BuilderKind::Cargo => BuilderKind::Cargo,
        cli::BuilderKind::Zigbuild => BuilderKind::Zigbuild,
        cli::BuilderKind::Cross => BuilderKind::Cross,
        cli::BuilderKind::Fake => BuilderKind::Fake,
    });
    Ok(project.plan(&args.targets, tag, sign, builder)?)
}

/// The release tag on the current commit, for `--tag` without a value.
fn tag_at_head(root: &std::path::Path) -> anyhow::Result<String> {
    let tags = keel_changelog::release_tags_at_head(root)?;
    match tags.as_slice() {
        [only] => Ok(only.clone()),
        [] => Err(crate::hinted(
            "--tag without a value takes the tag on the current commit, and it has none",
            "`keel bump --commit --tag` makes one; or pass --tag vX.Y.Z",
        )),
        _ => Err(crate::hinted(
            format!(
                "the current commit has several release tags: {}",
                tags.join(", ")
            ),
            "pass the one to release: --tag TAG",
        )),
    }
}

pub fn run_plan(global: &GlobalArgs, args: &cli::PlanCommandArgs) -> anyhow::Result<()> {
    let project = load(global)?;
    let env = ReleaseEnv::from_process();
    // Planning needs to know that a key is configured, not the key itself.
    let sign = args.sign.sign_key.is_some() || crate::signing::key_in_environment();
    let plan = make_plan(&project, &args.plan, &env, sign)?;
    match global.format {
        Format::Json => crate::print_json(&plan),
        Format::Text => crate::out(render_plan(&plan).trim_end()),
    }
    Ok(())
}

pub fn run_build(global: &GlobalArgs, args: &BuildArgs) -> anyhow::Result<()> {
    let project = load(global)?;
    let env = ReleaseEnv::from_process();
    let plan = make_plan(&project, &args.plan, &env, false)?;
    let epoch = project.source_date_epoch(&env)?;
    let progress = Progress::new(global.quiet);
    keel_release::build(&project, &plan, epoch, &progress)?;
    let built = keel_release::BuiltBinaries::of(&plan);
    crate::report(global, &built, || {
        built
            .binaries
            .iter()
            .map(|b| format!("{:<32} {}", b.target, b.path))
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

pub fn run_release(global: &GlobalArgs, args: &ReleaseArgs) -> anyhow::Result<()> {
    let project = load(global)?;
    let key = crate::signing::load_signing_key(args.sign.sign_key.as_deref())?;
    let env = ReleaseEnv::from_process();
    let plan = make_plan(&project, &args.build.plan, &env, key.is_some())?;
    let out = match &args.out {
        Some(out) => cwd()?.join(out),
        None => project.default_out_dir(),
    };
    let progress = Progress::new(global.quiet);
    let options = ReleaseOptions {
        key: key.as_ref(),
        env: &env,
    };
    let released = keel_release::release(&project, &plan, &out, &options, &progress)?;
    drop(progress);
    if !global.quiet && released.manifest.source.dirty {
        crate::warn("the work tree has uncommitted changes; the manifest records `dirty: true`");
    }
    report_release(global, &released);
    Ok(())
}

pub fn run_merge(global: &GlobalArgs, args: &MergeArgs) -> anyhow::Result<()> {
    let cwd = cwd()?;
    let key = crate::signing::load_signing_key(args.sign.sign_key.as_deref())?;
    let partials: Vec<_> = args.partials.iter().map(|p| cwd.join(p)).collect();
    let released = keel_release::merge(
        &partials,
        &cwd.join(&args.out),
        key.as_ref(),
        &ReleaseEnv::from_process(),
    )?;
    report_release(global, &released);
    Ok(())
}

/// Prints a written release: the manifest as JSON, or a summary for people.
fn report_release(global: &GlobalArgs, released: &keel_release::Released) {
    match global.format {
        Format::Json => crate::print_json(released),
        Format::Text if !global.quiet => print_summary(&released.manifest, &released.dir),
        Format::Text => {}
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
            keel_installer::human_size(artifact.size),
            artifact.kind
        ));
    }
    crate::out(&format!("  {MANIFEST_FILE_NAME}"));
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
            "  {} ({}): {}",
            build.target,
            match build.builder_target.as_str() {
                same if same == build.target.as_str() => build.builder.as_str().to_owned(),
                other => format!("{} --target {other}", build.builder.as_str()),
            },
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
