//! `keel plan`, `keel build`, `keel release` and `keel merge`: arguments in, the release
//! library's results out, rendered for people or as JSON.

use keel_plan::Plan;
use keel_release::{Project, ReleaseEnv, ReleaseOptions};

use crate::cli::{self, BuildArgs, Format, GlobalArgs, MergeArgs, PlanArgs, ReleaseArgs};
use crate::progress::Progress;

/// The plan for the command line's targets and tag (`--tag`, else the tag GitHub Actions runs
/// for).
fn make_plan(
    project: &Project,
    args: &PlanArgs,
    env: &ReleaseEnv,
    sign: bool,
) -> anyhow::Result<Plan> {
    let tag = match args.tag.as_deref() {
        Some("") => Some(project.tag_at_head()?),
        Some(tag) => Some(tag.to_owned()),
        None => env.tag(),
    };
    let builder = args.builder.map(Into::into);
    Ok(project.plan(&args.targets, tag, sign, builder)?)
}

pub fn run_plan(global: &GlobalArgs, args: &cli::PlanCommandArgs) -> anyhow::Result<()> {
    let project = crate::project(global)?;
    let env = ReleaseEnv::from_process();
    // Planning needs to know that a key is configured, not the key itself.
    let sign = args.sign.sign_key().is_some() || keel_sign::load::key_in_environment();
    let plan = make_plan(&project, &args.plan, &env, sign)?;
    // The plan is shown even with --quiet: it is what was asked for.
    match global.format {
        Format::Json => crate::print_json(&plan),
        Format::Text => crate::out(&plan.to_string()),
    }
    Ok(())
}

pub fn run_build(global: &GlobalArgs, args: &BuildArgs) -> anyhow::Result<()> {
    let project = crate::project(global)?;
    let env = ReleaseEnv::from_process();
    let plan = make_plan(&project, &args.plan, &env, false)?;
    let epoch = project.source_date_epoch(&env)?;
    let progress = Progress::new(global.quiet);
    keel_release::build(&project, &plan, epoch, &progress)?;
    crate::show(global, &keel_release::BuiltBinaries::of(&plan));
    Ok(())
}

pub fn run_release(global: &GlobalArgs, args: &ReleaseArgs) -> anyhow::Result<()> {
    let project = crate::project(global)?;
    let key = crate::signing::load_signing_key(args.sign.sign_key())?;
    let env = ReleaseEnv::from_process();
    let plan = make_plan(&project, &args.build.plan, &env, key.is_some())?;
    let out = match &args.out {
        Some(out) => crate::cwd()?.join(out),
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
        crate::warn(
            "the work tree has uncommitted changes; the manifest records `dirty: true`, and the source archive holds the commit without them",
        );
    }
    let has_source =
        (released.manifest.artifacts.values()).any(|a| a.kind == keel_schema::ArtifactKind::Source);
    if !global.quiet && !has_source {
        crate::warn(
            "the workspace is not in a git repository with a commit, so the release has no source archive",
        );
    }
    crate::show(global, &released);
    Ok(())
}

pub fn run_merge(global: &GlobalArgs, args: &MergeArgs) -> anyhow::Result<()> {
    let cwd = crate::cwd()?;
    let key = crate::signing::load_signing_key(args.sign.sign_key())?;
    let partials: Vec<_> = args.partials.iter().map(|p| cwd.join(p)).collect();
    let released = keel_release::merge(
        &partials,
        &cwd.join(&args.out),
        key.as_ref(),
        &ReleaseEnv::from_process(),
    )?;
    crate::show(global, &released);
    Ok(())
}
