//! `keel publish` (to GitHub Releases or a release store) and `keel notes`.

use std::path::{Path, PathBuf};

use anyhow::bail;
use keel_github::Repo;
use keel_release::publish::{Destination, GithubPublished, Publish, Published, StorePublished};
use keel_verify::minisign::PublicKey;

use crate::cli::{Format, GlobalArgs, NotesArgs, PublishArgs};
use crate::{hinted, release_dir};

/// The workspace the release was made from, for its CHANGELOG.md and git history; `None`
/// outside one.
fn workspace_root(global: &GlobalArgs) -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    let manifest = keel_workspace::find_manifest(global.manifest_path.as_deref(), &cwd).ok()?;
    manifest.parent().map(Path::to_owned)
}

pub fn run_notes(global: &GlobalArgs, args: &NotesArgs) -> anyhow::Result<()> {
    let dir = release_dir(global, args.dir.as_deref())?;
    let key = args.key.as_deref().map(PublicKey::from_file).transpose()?;
    let notes = keel_release::notes(&dir, workspace_root(global).as_deref(), key.as_ref())?;
    match global.format {
        Format::Json => crate::print_json(&notes),
        Format::Text => crate::out(notes.body.trim_end()),
    }
    Ok(())
}

pub fn run_publish(global: &GlobalArgs, args: &PublishArgs) -> anyhow::Result<()> {
    let dir = release_dir(global, args.dir.as_deref())?;
    if let Some(reason) = &args.no_rehearsal {
        if reason.trim().is_empty() {
            bail!(hinted(
                "--no-rehearsal needs a reason",
                "say why the release goes out unrehearsed; the reason is written into the release notes",
            ));
        }
        crate::warn(&format!(
            "publishing without a rehearsal: {}",
            reason.trim()
        ));
    }
    let progress = crate::image::push_progress(global, "Pushing images".to_owned());
    let published = match args.to.strip_prefix("github:") {
        Some(repo) => {
            let repo = Repo::parse(repo)?;
            let workspace = workspace_root(global);
            let destination = Destination::Github {
                repo: &repo,
                notes: args.notes.as_deref(),
                workspace: workspace.as_deref(),
                replace: args.replace,
                dry_run: args.dry_run,
            };
            publish(&dir, args, destination, &progress)?
        }
        None => {
            if args.replace || args.dry_run || args.notes.is_some() {
                bail!(hinted(
                    "--replace, --dry-run and --notes are for `--to github:OWNER/REPO`",
                    "a store keeps every release it was given; publish a new version instead",
                ));
            }
            let key = crate::signing::require_key(args.sign.sign_key.as_deref())?;
            let root_key = match &args.root_key {
                Some(path) => Some(crate::signing::require_key(Some(path))?),
                None => None,
            };
            let store = std::env::current_dir()?.join(&args.to);
            let destination = Destination::Store {
                path: &store,
                key: &key,
                root_key: root_key.as_ref(),
                options: keel_store::PublishOptions {
                    channel: &args.channel,
                    expiry: crate::signing::expiry(&args.expiry),
                    patch_versions: args.patches,
                },
                now: jiff::Timestamp::now(),
            };
            publish(&dir, args, destination, &progress)?
        }
    };
    drop(progress);
    match global.format {
        Format::Json => crate::print_json(&published),
        Format::Text if global.quiet => {}
        Format::Text => match &published {
            Published::Store(done) => render_store(done, args),
            Published::Github(done) => render_github(done),
        },
    }
    Ok(())
}

fn publish(
    dir: &Path,
    args: &PublishArgs,
    destination: Destination<'_>,
    progress: &dyn keel_schema::progress::Progress,
) -> anyhow::Result<Published> {
    let request = Publish {
        dir,
        destination,
        no_rehearsal: args.no_rehearsal.as_deref(),
        no_images: args.no_images,
    };
    Ok(keel_release::publish::publish(&request, progress)?)
}

fn render_store(done: &StorePublished, args: &PublishArgs) {
    for line in crate::image::pushed_lines(&done.images, false) {
        crate::out(&line);
    }
    let store = done.store.display();
    if done.published.created_root {
        crate::out(&format!(
            "Created the store {store} with its root of trust: give {store}/metadata/root.json to operators (`keel install --root`)"
        ));
    }
    for target in &done.published.targets {
        crate::out(&format!("Published {target} to `{}`", args.channel));
    }
    for patch in &done.published.patches {
        crate::out(&format!("Published the delta-update patch {patch}"));
    }
    crate::out(&format!(
        "The store's metadata is at version {}; its timestamp expires in {} days (`keel store refresh` renews it).",
        done.published.version, args.expiry.timestamp_days
    ));
}

fn render_github(outcome: &GithubPublished) {
    let (tag, repo, done) = (&outcome.tag, &outcome.repo, &outcome.published);
    for line in crate::image::pushed_lines(&outcome.images, outcome.dry_run) {
        crate::out(&line);
    }
    if outcome.dry_run {
        crate::out(&format!(
            "Would publish {tag} to {repo} ({} API): {} to upload, {} there already",
            outcome.api,
            done.uploaded.len(),
            done.skipped.len()
        ));
        for request in &done.requests {
            crate::out(&format!("  {request}"));
        }
    } else if done.already_published {
        crate::out(&format!(
            "{tag} is published on {repo} with every file already: {}",
            done.url
        ));
    } else {
        for name in &done.cleaned {
            crate::warn(&format!(
                "deleted the half-made upload of {name} that an interrupted run left"
            ));
        }
        crate::out(&format!(
            "Published {tag} to {repo}: {} uploaded, {} there already{}: {}",
            done.uploaded.len(),
            done.skipped.len(),
            if done.replaced.is_empty() {
                String::new()
            } else {
                format!(", {} replaced", done.replaced.len())
            },
            done.url
        ));
    }
}
