//! Release notes for a release folder: what changed (the version's `CHANGELOG.md` section,
//! else the commits since the previous tag), how to install, every file, how to check them.

use std::path::Path;

use keel_installer::ChangesText;
use keel_verify::minisign::PublicKey;
use serde::Serialize;

use crate::Error;

/// Where the notes' changes came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ChangesSource {
    /// The version's section of `CHANGELOG.md`.
    Changelog,
    /// The commits since the previous tag.
    Commits,
    /// Nothing: no changelog section and no git history.
    None,
}

/// A release's notes: `keel notes`'s outcome.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Notes {
    /// The release's title: `<app> <version>` for one app, else the tag.
    pub title: String,
    /// The tag the release is for.
    pub tag: Option<String>,
    /// The notes, Markdown.
    pub body: String,
    /// Where the changes came from.
    pub changes: ChangesSource,
}

/// The notes of the release in `dir`. `source` is the workspace (for `CHANGELOG.md` and git),
/// when there is one; `key` names the key that signed the release, for the `minisign` command.
pub fn notes(dir: &Path, source: Option<&Path>, key: Option<&PublicKey>) -> Result<Notes, Error> {
    notes_of(&crate::ReleaseFolder::open(dir)?, source, key)
}

/// [`notes()`] of a release folder already opened.
pub fn notes_of(
    folder: &crate::ReleaseFolder,
    source: Option<&Path>,
    key: Option<&PublicKey>,
) -> Result<Notes, Error> {
    let (dir, manifest) = (folder.dir(), folder.manifest());
    // The changes come from the release's own source: a workspace whose repository lacks the
    // commit the manifest names is another project's (or another checkout's), and would put
    // its history into these notes.
    if let (Some(root), Some(commit)) = (source, manifest.source.commit.as_deref()) {
        let object = format!("{commit}^{{commit}}");
        if keel_workspace::git::run(root, &["cat-file", "-e", &object]).is_err() {
            return Err(Error::SourceElsewhere {
                commit: commit.to_owned(),
                workspace: root.to_owned(),
            });
        }
    }
    let version = manifest
        .version
        .clone()
        .or_else(|| manifest.apps.values().next().map(|a| a.version.clone()));
    let changelog = source.zip(version.as_deref()).and_then(|(root, version)| {
        // The workspace's changelog, then each app's own (`keel changelog` writes one per
        // package by default); a shared one labels versions `<app> <version>`.
        let mut files = vec![root.join("CHANGELOG.md")];
        if let Ok(workspace) = keel_workspace::Workspace::load(&root.join("Cargo.toml")) {
            files.extend(
                workspace
                    .packages
                    .iter()
                    .filter(|p| manifest.apps.contains_key(&p.name))
                    .map(|p| p.dir.join("CHANGELOG.md")),
            );
        }
        files.dedup();
        files.iter().find_map(|file| {
            let text = fs_err::read_to_string(file).ok()?;
            keel_changelog::section(&text, version).or_else(|| {
                manifest
                    .apps
                    .keys()
                    .find_map(|app| keel_changelog::section(&text, &format!("{app} {version}")))
            })
        })
    });
    let (changes, from) = match changelog {
        Some(section) => (
            Some(ChangesText::Changelog(section)),
            ChangesSource::Changelog,
        ),
        None => match source
            .map(|root| keel_changelog::commits_since_previous_tag(root, manifest.tag.as_deref()))
        {
            Some(Ok(commits)) if !commits.is_empty() => (
                Some(ChangesText::Commits(keel_changelog::Changes::group(
                    &commits,
                ))),
                ChangesSource::Commits,
            ),
            _ => (None, ChangesSource::None),
        },
    };
    let mut body = keel_installer::release_notes(manifest, key, changes.as_ref())?;
    if let Some(section) = rehearsal_section(dir, None)? {
        body.push_str(&section);
    }
    let title = match (manifest.apps.len(), &manifest.tag) {
        (1, _) => manifest
            .apps
            .iter()
            .map(|(name, app)| format!("{name} {}", app.version))
            .collect(),
        (_, Some(tag)) => tag.clone(),
        (_, None) => version.map(|v| format!("v{v}")).unwrap_or_default(),
    };
    Ok(Notes {
        title,
        tag: manifest
            .tag
            .clone()
            .or_else(|| manifest.version.as_ref().map(|v| format!("v{v}"))),
        body,
        changes: from,
    })
}

/// The notes' section on the release's rehearsal: what `keel rehearse` proved, run by run,
/// or, when the release is published without one, the reason given (`waiver`).
pub fn rehearsal_section(dir: &Path, waiver: Option<&str>) -> Result<Option<String>, Error> {
    use keel_schema::rehearsal::RehearsalKind;
    if let Some(reason) = waiver {
        return Ok(Some(format!(
            "\n## Not rehearsed\n\nThis release was published without a passing `keel rehearse`: {}\n",
            reason.trim()
        )));
    }
    let Some(report) = crate::rehearsal::read_rehearsal(dir)? else {
        return Ok(None);
    };
    let mut text = String::from("\n## Rehearsed\n\n");
    for run in &report.runs {
        let what = match (run.kind, &run.previous) {
            (RehearsalKind::Update, Some(previous)) => format!(
                "updated from {previous} with its data, rolled back, and survived a failed migration with the data restored"
            ),
            _ => "first release: installed fresh, migrated and checked".to_owned(),
        };
        text.push_str(&format!(
            "- {} {} on `{}`: {} ({})\n",
            run.app,
            run.version,
            run.target,
            what,
            if run.passed { "passed" } else { "FAILED" }
        ));
    }
    Ok(Some(text))
}
