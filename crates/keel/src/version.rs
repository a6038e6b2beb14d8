//! `keel bump`, `keel changelog` and `keel release-pr`.

use anyhow::bail;
use keel_release::release_pr::{ReleasePr, ReleasePrOptions};
use keel_version::{Level, Request};
use keel_workspace::Workspace;

use crate::cli::{BumpArgs, ChangelogArgs, Format, GlobalArgs, ReleasePrArgs};
use crate::{hinted, out};

fn load(global: &GlobalArgs) -> anyhow::Result<Workspace> {
    let manifest = keel_workspace::find_manifest(global.manifest_path.as_deref(), &crate::cwd()?)?;
    Ok(Workspace::load(&manifest)?)
}

/// The date a version not yet tagged gets: SOURCE_DATE_EPOCH's day, else today.
fn today() -> anyhow::Result<String> {
    Ok(keel_release::ReleaseEnv::from_process().today()?)
}

fn options(
    what: &str,
    package: Option<&str>,
    bump: Option<&str>,
    semver_checks: bool,
) -> anyhow::Result<keel_version::Options> {
    let request: Request = what.parse().map_err(|err: String| {
        hinted(
            err,
            "`keel bump auto` takes the version from the commits; see `keel bump --help`",
        )
    })?;
    let bump = bump
        .map(|b| b.parse::<Level>())
        .transpose()
        .map_err(anyhow::Error::msg)?;
    Ok(keel_version::Options {
        request,
        package: package.map(str::to_owned),
        bump,
        semver_checks,
    })
}

pub fn run_bump(global: &GlobalArgs, args: &BumpArgs) -> anyhow::Result<()> {
    let workspace = load(global)?;
    let options = options(
        &args.what,
        args.package.as_deref(),
        args.bump.as_deref(),
        !args.no_semver_checks,
    )?;
    if (args.commit || args.tag) && !args.dry_run {
        let dirty = keel_version::dirty_files(&workspace.root)?;
        if !dirty.is_empty() {
            bail!(hinted(
                format!(
                    "--commit and --tag need a clean checkout, and these files have changes: {}",
                    dirty.join(", ")
                ),
                "commit or stash them first, or run without --commit and --tag",
            ));
        }
    }
    let bumped = keel_version::ops::bump(
        &workspace,
        &keel_version::ops::BumpOptions {
            options,
            changelog: !args.no_changelog,
            commit: args.commit,
            tag: args.tag,
            dry_run: args.dry_run,
            today: today()?,
        },
    )
    .map_err(|err| match err {
        keel_version::Error::TagWithoutCommit => hinted(
            "--tag would tag a commit without the new versions",
            "add --commit, so the tag goes on the commit that has them",
        ),
        other => other.into(),
    })?;
    let files = &bumped.files;
    crate::report(global, &bumped, || {
        let next = if bumped.tags.is_empty() || args.dry_run {
            ""
        } else if !bumped.tagged.is_empty() {
            "\nNext: `git push --follow-tags` starts the release workflow."
        } else if bumped.commit.is_some() || files.is_empty() {
            let tags = bumped.tags.join(", ");
            return format!(
                "{bumped}\nNext: `keel bump --tag` on this commit (or after merging it) tags {tags}."
            );
        } else {
            "\nNext: commit the changes, then `keel bump --tag` tags the release."
        };
        format!("{bumped}{next}")
    });
    Ok(())
}

pub fn run_changelog(global: &GlobalArgs, args: &ChangelogArgs) -> anyhow::Result<()> {
    let workspace = load(global)?;
    let done = keel_version::ops::changelog(
        &workspace,
        &keel_version::ChangelogOptions {
            versions: Default::default(),
            packages: args.package.clone().map(|p| vec![p]),
            today: today()?,
        },
        !(args.check || args.dry_run),
    )?;
    if (args.check || args.dry_run) && global.format == Format::Text {
        for change in &done.diffs {
            out(change.diff.trim_end());
        }
    }
    let (files, changed) = (&done.files, &done.changed);
    match global.format {
        Format::Json => crate::print_json(&done),
        Format::Text if global.quiet || args.check || args.dry_run => {}
        Format::Text if changed.is_empty() => out(&format!("{} up to date", files.join(", "))),
        Format::Text => out(&format!("Updated {}", changed.join(", "))),
    }
    if args.check && !changed.is_empty() {
        bail!(hinted(
            format!("{} out of date", changed.join(", ")),
            "run `keel changelog` and commit the result",
        ));
    }
    Ok(())
}

pub fn run_release_pr(global: &GlobalArgs, args: &ReleasePrArgs) -> anyhow::Result<()> {
    let Some(repo) = args.to.strip_prefix("github:") else {
        bail!(hinted(
            format!("`{}` is not a GitHub repository", args.to),
            "pass --to github:OWNER/REPO",
        ));
    };
    let repo = keel_github::Repo::parse(repo)?;
    let workspace = load(global)?;
    let top = keel_version::toplevel(&workspace.root)?;
    if !keel_version::dirty_files(&top)?.is_empty() {
        crate::warn(
            "uncommitted changes are not part of the release pull request: it is made from HEAD",
        );
    }
    let made = keel_release::release_pr::release_pr(
        &workspace,
        &ReleasePrOptions {
            repo: &repo,
            base: args.base.clone(),
            branch: &args.branch,
            remote: args.remote.as_deref(),
            options: options(&args.what, None, None, true)?,
            today: today()?,
            dry_run: args.dry_run,
        },
    )?;
    if global.format == Format::Json {
        crate::print_json(&made);
    } else if !global.quiet || matches!(made, ReleasePr::DryRun { .. }) {
        out(&made.to_string());
    }
    Ok(())
}
