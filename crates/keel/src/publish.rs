//! `keel publish` (to GitHub Releases or a release store) and `keel notes`.

use std::path::{Path, PathBuf};

use anyhow::bail;
use keel_github::Repo;
use keel_release::publish::{Destination, Publish, Published};
use keel_verify::minisign::PublicKey;

use crate::cli::{Format, GlobalArgs, NotesArgs, PublishArgs};
use crate::{hinted, release_dir};

/// The workspace the release was made from, for its CHANGELOG.md and git history; `None`
/// outside one.
fn workspace_root(global: &GlobalArgs) -> Option<PathBuf> {
    let cwd = crate::cwd().ok()?;
    let manifest = keel_workspace::find_manifest(global.manifest_path.as_deref(), &cwd).ok()?;
    manifest.parent().map(Path::to_owned)
}

pub fn run_notes(global: &GlobalArgs, args: &NotesArgs) -> anyhow::Result<()> {
    let dir = release_dir(global, args.dir.as_deref())?;
    let key = args
        .public_key
        .as_deref()
        .map(PublicKey::from_file)
        .transpose()?;
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
            let refused = [
                (
                    args.dry_run,
                    "--dry-run",
                    "to try a store publish, publish to a copy of the store folder (`cp -r STORE /tmp/try && keel publish --to /tmp/try`)",
                ),
                (
                    args.replace,
                    "--replace",
                    "a store keeps every release it was given; publish a new version instead",
                ),
                (
                    args.notes.is_some(),
                    "--notes",
                    "a store holds no release notes; they go with `--to github:OWNER/REPO`",
                ),
            ];
            if let Some((_, flag, hint)) = refused.into_iter().find(|(given, _, _)| *given) {
                bail!(hinted(
                    format!(
                        "{flag} is for `--to github:OWNER/REPO`, and --to names a store folder"
                    ),
                    hint,
                ));
            }
            let key = crate::signing::require_key(args.sign.sign_key())?;
            let root_key = match &args.root_key {
                Some(path) => Some(crate::signing::require_key(Some(path))?),
                None => None,
            };
            let store = crate::cwd()?.join(&args.to);
            let destination = Destination::Store {
                path: &store,
                key: &key,
                root_key: root_key.as_ref(),
                options: keel_store::PublishOptions {
                    channel: &args.channel,
                    expiry: (&args.expiry).into(),
                    patch_versions: args.patches,
                },
                now: jiff::Timestamp::now(),
            };
            publish(&dir, args, destination, &progress)?
        }
    };
    drop(progress);
    match &published {
        Published::Store(done) => crate::report(global, &published, || {
            let root = done.store.join("metadata/root.json");
            let next = format!(
                "\nOperators install with `keel install --root {}`",
                root.display()
            );
            format!(
                "{done}{}",
                if done.published.created_root {
                    &next
                } else {
                    ""
                }
            )
        }),
        Published::Github(done) => {
            for name in &done.published.cleaned {
                crate::warn(&format!(
                    "deleted the half-made upload of {name} that an interrupted run left"
                ));
            }
            crate::report(global, &published, || done.to_string());
        }
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
        insecure: args.insecure,
    };
    Ok(keel_release::publish::publish(&request, progress)?)
}
