//! `keel publish` (to GitHub Releases or a release store) and `keel notes`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use keel_github::{Client, LocalFile, Publication, Repo, Token};
use keel_schema::{MANIFEST_FILE_NAME, Manifest};
use keel_verify::minisign::PublicKey;

use crate::cli::{Format, GlobalArgs, NotesArgs, PublishArgs};
use crate::hinted;

/// The release folder: the one given, else the current folder when it is a release, else the
/// workspace's `target/keel/dist`.
pub(crate) fn release_dir(global: &GlobalArgs, given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let cwd = std::env::current_dir().context("could not read the current directory")?;
    Ok(match given {
        Some(dir) => cwd.join(dir),
        None if cwd.join(MANIFEST_FILE_NAME).is_file() => cwd,
        None => keel_release::release_dir_of_workspace(global.manifest_path.as_deref(), &cwd)?,
    })
}

/// The workspace the release was made from, for its CHANGELOG.md and git history; `None`
/// outside one.
fn workspace_root(global: &GlobalArgs) -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    let manifest = keel_workspace::find_manifest(global.manifest_path.as_deref(), &cwd).ok()?;
    manifest.parent().map(Path::to_owned)
}

fn read_public_key(path: &Path) -> anyhow::Result<PublicKey> {
    let text = fs_err::read_to_string(path).map_err(|err| {
        hinted(
            format!("cannot read the public key: {err}"),
            "pass the PREFIX.pub file written by `keel keygen`",
        )
    })?;
    PublicKey::from_text(&text)
        .with_context(|| format!("cannot use the public key {}", path.display()))
}

pub fn run_notes(global: &GlobalArgs, args: &NotesArgs) -> anyhow::Result<()> {
    let dir = release_dir(global, args.dir.as_deref())?;
    let key = args.key.as_deref().map(read_public_key).transpose()?;
    let notes = keel_release::notes(&dir, workspace_root(global).as_deref(), key.as_ref())?;
    match global.format {
        Format::Json => crate::print_json(&notes),
        Format::Text => crate::out(notes.body.trim_end()),
    }
    Ok(())
}

/// Refuses a release an app with databases of which has no passing rehearsal, unless
/// `--no-rehearsal REASON`; `key` checks the report's signature.
pub(crate) fn require_rehearsal(
    dir: &Path,
    args: &PublishArgs,
    key: Option<&PublicKey>,
) -> anyhow::Result<()> {
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
        return Ok(());
    }
    let problems = keel_release::rehearsal_gate(dir, key)?;
    if !problems.is_empty() {
        bail!(hinted(
            format!(
                "the release in {} is not published: its update was not rehearsed successfully: {}",
                dir.display(),
                problems.join("; ")
            ),
            "run `keel rehearse --from STORE` on the release (or --first-release), or pass --no-rehearsal REASON",
        ));
    }
    Ok(())
}

pub fn run_publish(global: &GlobalArgs, args: &PublishArgs) -> anyhow::Result<()> {
    let dir = release_dir(global, args.dir.as_deref())?;
    match args.to.strip_prefix("github:") {
        Some(repo) => publish_to_github(global, args, &dir, repo),
        None => {
            if args.replace || args.dry_run || args.notes.is_some() {
                bail!(hinted(
                    "--replace, --dry-run and --notes are for `--to github:OWNER/REPO`",
                    "a store keeps every release it was given; publish a new version instead",
                ));
            }
            crate::operate::publish_to_store(global, args, dir)
        }
    }
}

/// Every file of the release, the manifest, the rehearsal report and their signatures
/// included.
fn local_files(dir: &Path, manifest: &Manifest) -> anyhow::Result<Vec<LocalFile>> {
    let mut files = Vec::new();
    for (name, artifact) in &manifest.artifacts {
        files.push(LocalFile {
            name: name.clone(),
            path: dir.join(name),
            size: artifact.size,
            sha256: artifact.sha256.clone(),
        });
    }
    for name in [
        MANIFEST_FILE_NAME.to_owned(),
        format!("{MANIFEST_FILE_NAME}.minisig"),
        keel_schema::rehearsal::REHEARSAL_FILE_NAME.to_owned(),
        keel_release::rehearsal_signature_name(),
    ] {
        let path = dir.join(&name);
        if path.is_file() {
            let (digest, size) = keel_verify::sha256_file(&path)?;
            files.push(LocalFile {
                name,
                path,
                size,
                sha256: digest.to_hex(),
            });
        }
    }
    Ok(files)
}

fn publish_to_github(
    global: &GlobalArgs,
    args: &PublishArgs,
    dir: &Path,
    repo: &str,
) -> anyhow::Result<()> {
    let repo = Repo::parse(repo)?;
    require_rehearsal(dir, args, None)?;
    // Nothing is uploaded that does not match its manifest. A failed rehearsal is the
    // rehearsal gate's to judge, which --no-rehearsal overrides.
    let check = keel_release::verify(dir, None)?;
    let failed = |c: &&keel_release::Check| {
        c.status == keel_release::Status::Failed
            && !(c.check == "rehearsal" && args.no_rehearsal.is_some())
    };
    if check.checks.iter().any(|c| failed(&c)) {
        let failures: Vec<String> = check
            .checks
            .iter()
            .filter(failed)
            .map(|c| format!("{} ({}): {}", c.file, c.check, c.detail))
            .collect();
        bail!(hinted(
            format!(
                "the release in {} does not check out, so it is not published: {}",
                dir.display(),
                failures.join("; ")
            ),
            "`keel verify` shows every check; make the release again with `keel release`",
        ));
    }
    let manifest = keel_release::read_manifest(dir)?;
    let notes = keel_release::notes(dir, workspace_root(global).as_deref(), None)?;
    let tag = notes.tag.clone().ok_or_else(|| {
        hinted(
            "the release has no tag and no single version to name its GitHub release",
            "make the release with `keel release --tag vX.Y.Z`",
        )
    })?;
    let mut body = match &args.notes {
        Some(path) => fs_err::read_to_string(path)?,
        None => notes.body.clone(),
    };
    if let Some(section) = keel_release::rehearsal_section(dir, args.no_rehearsal.as_deref())?
        && args.no_rehearsal.is_some()
    {
        body.push_str(&section);
    }
    let files = local_files(dir, &manifest)?;
    let token = match Token::from_env() {
        Some(token) => token,
        None if args.dry_run => Token::new(String::new()),
        None => return Err(keel_github::Error::NoToken.into()),
    };
    let client = Client::from_env(token);
    // Images first: the GitHub release announces the version, so what it points at is there.
    let images = if args.no_images {
        Vec::new()
    } else {
        crate::image::publish_images(global, dir, args.dry_run)?
    };
    let publication = Publication {
        repo: &repo,
        tag: &tag,
        title: &notes.title,
        notes: &body,
        prerelease: manifest.prerelease,
        commit: manifest.source.commit.as_deref(),
        files: &files,
        replace: args.replace,
        dry_run: args.dry_run,
    };
    let done = keel_github::publish(&client, &publication)?;
    match global.format {
        Format::Json => crate::print_json(&serde_json::json!({
            "repo": repo.to_string(),
            "tag": tag,
            "url": done.url,
            "dry_run": args.dry_run,
            "created": done.created,
            "already_published": done.already_published,
            "uploaded": done.uploaded,
            "skipped": done.skipped,
            "replaced": done.replaced,
            "cleaned": done.cleaned,
            "requests": done.requests,
            "images": images,
        })),
        Format::Text if global.quiet => {}
        Format::Text if args.dry_run => {
            for line in crate::image::pushed_lines(&images, true) {
                crate::out(&line);
            }
            crate::out(&format!(
                "Would publish {tag} to {repo} ({} API): {} to upload, {} there already",
                client.api(),
                done.uploaded.len(),
                done.skipped.len()
            ));
            for request in &done.requests {
                crate::out(&format!("  {request}"));
            }
        }
        Format::Text if done.already_published => {
            for line in crate::image::pushed_lines(&images, false) {
                crate::out(&line);
            }
            crate::out(&format!(
                "{tag} is published on {repo} with every file already: {}",
                done.url
            ));
        }
        Format::Text => {
            for line in crate::image::pushed_lines(&images, false) {
                crate::out(&line);
            }
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
    Ok(())
}
