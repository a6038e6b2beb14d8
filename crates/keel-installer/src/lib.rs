//! What a person without keel gets from a release: installer scripts, release notes and a
//! download page, all written from the release's manifest.
//!
//! - [`shell_installer`] and [`powershell_installer`] write `<app>-installer.sh` (POSIX `sh`)
//!   and `<app>-installer.ps1`: each holds the target, file name, size and **sha256** of every
//!   archive of its app, downloads the one for the machine it runs on, and installs only what
//!   matches. The shell installer also checks `SHA256SUMS.minisig` with `minisign` when the
//!   release is signed and the tool is there.
//! - [`release_notes`] writes the Markdown body of a release: what changed, one install
//!   command per platform, every file with its size and sha256, and how to check them.
//! - [`download_page`] writes `index.html`: one self-contained file that puts the command and
//!   archive for the visitor's platform first.
//!
//! The templates are embedded and rendered with `minijinja`; every value that lands in a
//! script is quoted for that script's language. Outputs depend only on their inputs, so a
//! release that is reproducible stays so. This crate never prints.
#![deny(missing_docs)]

use keel_changelog::Changes;
use keel_schema::{ArtifactKind, Manifest, TargetTriple};
use keel_verify::minisign::PublicKey;
use minijinja::Environment;
use serde::Serialize;

const SHELL_TEMPLATE: &str = include_str!("../templates/installer.sh.j2");
const POWERSHELL_TEMPLATE: &str = include_str!("../templates/installer.ps1.j2");
const NOTES_TEMPLATE: &str = include_str!("../templates/notes.md.j2");
const PAGE_TEMPLATE: &str = include_str!("../templates/index.html.j2");

/// Why an installer, notes or the page could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The manifest has no archive of the app for the installer's platforms.
    #[error("the release has no {what} archive of `{app}`")]
    NoArchives {
        /// The app.
        app: String,
        /// `Unix` or `Windows`.
        what: &'static str,
    },
    /// A value cannot be written into a script safely (it holds white space or a control
    /// character).
    #[error("`{value}` ({what}) cannot be written into an installer")]
    Unsafe {
        /// What the value is.
        what: &'static str,
        /// The value.
        value: String,
    },
    /// A template failed: a bug in keel.
    #[error("internal error: the {template} template failed")]
    Template {
        /// The template.
        template: &'static str,
        /// The cause.
        #[source]
        source: minijinja::Error,
    },
}

/// `value` as one single-quoted POSIX shell word.
fn sh_quote(value: String) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// `value` as one single-quoted PowerShell string.
fn ps_quote(value: String) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
            .expect("the default syntax with the trailing newline kept is valid"),
    );
    env.add_filter("sh", sh_quote);
    env.add_filter("ps", ps_quote);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env
}

fn render(
    template: &'static str,
    source: &'static str,
    context: impl Serialize,
) -> Result<String, Error> {
    let failed = |source| Error::Template { template, source };
    let mut env = environment();
    env.add_template(template, source).map_err(failed)?;
    env.get_template(template)
        .and_then(|t| t.render(minijinja::value::Serde(context)))
        .map_err(failed)
}

/// One archive, as the templates see it.
#[derive(Debug, Clone, Serialize)]
struct ArchiveView {
    target: String,
    file: String,
    sha256: String,
    size: u64,
    format: String,
    floor: String,
    executables: Vec<String>,
    windows: bool,
    os: &'static str,
    arch: String,
    env: Option<String>,
}

fn checked_word(what: &'static str, value: &str) -> Result<String, Error> {
    if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::Unsafe {
            what,
            value: value.to_owned(),
        });
    }
    Ok(value.to_owned())
}

fn os_name(target: &TargetTriple) -> &'static str {
    match target.os() {
        keel_schema::Os::Linux => "Linux",
        keel_schema::Os::MacOs => "macOS",
        keel_schema::Os::Windows => "Windows",
        keel_schema::Os::FreeBsd => "FreeBSD",
        _ => "other",
    }
}

/// The archives of `app`, sorted by target.
fn archives(manifest: &Manifest, app: &str) -> Result<Vec<ArchiveView>, Error> {
    let mut found = Vec::new();
    for (name, artifact) in &manifest.artifacts {
        if artifact.kind != ArtifactKind::Archive || artifact.app.as_deref() != Some(app) {
            continue;
        }
        let Some(target) = &artifact.target else {
            continue;
        };
        let format = artifact
            .format
            .map(|f| f.extension().to_owned())
            .unwrap_or_default();
        found.push(ArchiveView {
            target: checked_word("target", target.as_str())?,
            file: checked_word("file name", name)?,
            sha256: checked_word("sha256", &artifact.sha256)?,
            size: artifact.size,
            format: checked_word("format", &format)?,
            floor: match &artifact.glibc {
                Some(glibc) => checked_word("glibc version", glibc)?,
                None => "-".to_owned(),
            },
            executables: artifact
                .executables
                .iter()
                .map(|e| checked_word("executable", e))
                .collect::<Result<_, _>>()?,
            windows: target.is_windows(),
            os: os_name(target),
            arch: target.arch().to_owned(),
            env: target.env().map(str::to_owned),
        });
    }
    found.sort_by(|a, b| a.target.cmp(&b.target));
    Ok(found)
}

/// The prefix of an app's installer variables: `my-app` → `MY_APP`.
pub fn env_prefix(app: &str) -> String {
    app.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

#[derive(Serialize)]
struct InstallerContext {
    app: String,
    version: String,
    installer: String,
    env: String,
    download_url: String,
    public_key: String,
    store_url: String,
    store_root: String,
    hooks: String,
    archives: String,
    windows: Vec<ArchiveView>,
}

fn installer_context(
    manifest: &Manifest,
    app: &str,
    installer: String,
    public_key: Option<&PublicKey>,
    archives: Vec<ArchiveView>,
) -> InstallerContext {
    let info = manifest.apps.get(app);
    let hooks = info
        .and_then(|a| a.update.as_ref())
        .map(|h| serde_json::to_string(h).expect("hooks are plain JSON data"))
        .unwrap_or_else(|| "{}".to_owned());
    let lines: String = archives
        .iter()
        .map(|a| {
            format!(
                "{} {} {} {} {} {} {}\n",
                a.target,
                a.file,
                a.sha256,
                a.size,
                a.format,
                a.floor,
                a.executables.join(",")
            )
        })
        .collect();
    let distribution = &manifest.distribution;
    InstallerContext {
        app: app.to_owned(),
        version: info.map(|a| a.version.clone()).unwrap_or_default(),
        installer,
        env: env_prefix(app),
        download_url: distribution.download_url.clone().unwrap_or_default(),
        public_key: public_key.map(PublicKey::to_base64).unwrap_or_default(),
        store_url: distribution.store_url.clone().unwrap_or_default(),
        store_root: distribution
            .store_root
            .as_deref()
            .map(str::trim_end)
            .unwrap_or_default()
            .to_owned(),
        hooks,
        archives: lines,
        windows: archives.into_iter().filter(|a| a.windows).collect(),
    }
}

/// `<app>-installer.sh` for the app's Linux, macOS and other Unix archives.
pub fn shell_installer(
    manifest: &Manifest,
    app: &str,
    public_key: Option<&PublicKey>,
) -> Result<String, Error> {
    let unix: Vec<ArchiveView> = archives(manifest, app)?
        .into_iter()
        .filter(|a| !a.windows)
        .collect();
    if unix.is_empty() {
        return Err(Error::NoArchives {
            app: app.to_owned(),
            what: "Unix",
        });
    }
    let context = installer_context(
        manifest,
        app,
        keel_schema::shell_installer_name(app),
        public_key,
        unix,
    );
    render("installer.sh", SHELL_TEMPLATE, context)
}

/// `<app>-installer.ps1` for the app's Windows archives.
pub fn powershell_installer(
    manifest: &Manifest,
    app: &str,
    public_key: Option<&PublicKey>,
) -> Result<String, Error> {
    let windows: Vec<ArchiveView> = archives(manifest, app)?
        .into_iter()
        .filter(|a| a.windows)
        .collect();
    if windows.is_empty() {
        return Err(Error::NoArchives {
            app: app.to_owned(),
            what: "Windows",
        });
    }
    let context = installer_context(
        manifest,
        app,
        keel_schema::powershell_installer_name(app),
        public_key,
        windows,
    );
    render("installer.ps1", POWERSHELL_TEMPLATE, context)
}

/// The commands that install one app, for notes and the page.
#[derive(Debug, Clone, Serialize)]
pub struct InstallCommands {
    /// The app.
    pub app: String,
    /// Its version.
    pub version: String,
    /// For Linux and macOS: `curl -LsSf URL/<app>-installer.sh | sh`.
    pub shell: Option<String>,
    /// For Windows: `powershell -ExecutionPolicy Bypass -c "irm URL/<app>-installer.ps1 | iex"`.
    pub powershell: Option<String>,
    /// From the release store: `keel install --from STORE --app APP --root root.json`.
    pub store: Option<String>,
    archives: Vec<ArchiveView>,
}

/// The install commands of every app of the release.
pub fn install_commands(manifest: &Manifest) -> Result<Vec<InstallCommands>, Error> {
    let base = manifest.distribution.download_url.as_deref();
    let has = |name: &str| manifest.artifacts.contains_key(name);
    let url = |name: &str| match base {
        Some(base) => format!("{base}/{name}"),
        None => name.to_owned(),
    };
    manifest
        .apps
        .iter()
        .map(|(app, info)| {
            let sh = keel_schema::shell_installer_name(app);
            let ps = keel_schema::powershell_installer_name(app);
            Ok(InstallCommands {
                app: app.clone(),
                version: info.version.clone(),
                shell: has(&sh).then(|| match base {
                    Some(_) => format!("curl -LsSf {} | sh", url(&sh)),
                    None => format!("sh {sh}"),
                }),
                powershell: has(&ps).then(|| match base {
                    Some(_) => format!(
                        "powershell -ExecutionPolicy Bypass -c \"irm {} | iex\"",
                        url(&ps)
                    ),
                    None => format!("powershell -ExecutionPolicy Bypass -File {ps}"),
                }),
                store: manifest.distribution.store_url.as_ref().map(|store| {
                    format!("keel install --from {store} --app {app} --root root.json")
                }),
                archives: archives(manifest, app)?,
            })
        })
        .collect()
}

/// One file of the release, for the notes' and the page's tables.
#[derive(Debug, Clone, Serialize)]
struct FileView {
    name: String,
    kind: String,
    size: u64,
    human_size: String,
    sha256: String,
    url: String,
}

use keel_schema::human_size;

fn files(manifest: &Manifest, except: &[ArtifactKind]) -> Vec<FileView> {
    let base = manifest.distribution.download_url.as_deref();
    manifest
        .artifacts
        .iter()
        .filter(|(_, a)| !except.contains(&a.kind))
        .map(|(name, artifact)| FileView {
            name: name.clone(),
            kind: artifact.kind.to_string(),
            size: artifact.size,
            human_size: human_size(artifact.size),
            sha256: artifact.sha256.clone(),
            url: match base {
                Some(base) => format!("{base}/{name}"),
                None => name.clone(),
            },
        })
        .collect()
}

/// What the verification section says.
#[derive(Debug, Clone, Serialize)]
struct VerifyView {
    signed: bool,
    public_key: String,
    key_id: String,
}

fn verify_view(manifest: &Manifest, public_key: Option<&PublicKey>) -> VerifyView {
    let signed = manifest
        .artifacts
        .contains_key(&format!("{}.minisig", keel_schema::CHECKSUMS_FILE_NAME));
    VerifyView {
        signed,
        public_key: public_key.map(PublicKey::to_base64).unwrap_or_default(),
        key_id: public_key.map(PublicKey::key_id_hex).unwrap_or_default(),
    }
}

/// What release notes say changed.
#[derive(Debug, Clone)]
pub enum ChangesText {
    /// The version's section of `CHANGELOG.md`, as written there.
    Changelog(String),
    /// The commits since the previous tag, grouped.
    Commits(Changes),
}

#[derive(Serialize)]
struct NotesContext {
    title: String,
    changelog: Option<String>,
    changes: Option<Changes>,
    apps: Vec<InstallCommands>,
    files: Vec<FileView>,
    verify: VerifyView,
    download_url: Option<String>,
}

fn title(manifest: &Manifest) -> String {
    match (&manifest.tag, &manifest.version) {
        (Some(tag), _) => tag.clone(),
        (None, Some(version)) => format!("v{version}"),
        (None, None) => manifest
            .apps
            .iter()
            .map(|(name, app)| format!("{name} {}", app.version))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The release notes (Markdown): what changed, how to install, every file with its size and
/// sha256, and how to check the download.
pub fn release_notes(
    manifest: &Manifest,
    public_key: Option<&PublicKey>,
    changes: Option<&ChangesText>,
) -> Result<String, Error> {
    let (changelog, commits) = match changes {
        Some(ChangesText::Changelog(text)) => (Some(text.clone()), None),
        Some(ChangesText::Commits(changes)) => (None, Some(changes.clone())),
        None => (None, None),
    };
    let context = NotesContext {
        title: title(manifest),
        changelog,
        changes: commits,
        apps: install_commands(manifest)?,
        files: files(manifest, &[ArtifactKind::Page]),
        verify: verify_view(manifest, public_key),
        download_url: manifest.distribution.download_url.clone(),
    };
    render("notes.md", NOTES_TEMPLATE, context)
}

#[derive(Serialize)]
struct PageContext {
    title: String,
    apps: Vec<InstallCommands>,
    files: Vec<FileView>,
    verify: VerifyView,
    description: Option<String>,
}

/// The download page, `index.html`: self-contained, readable without JavaScript; a small
/// inline script puts the visitor's platform first.
pub fn download_page(manifest: &Manifest, public_key: Option<&PublicKey>) -> Result<String, Error> {
    let context = PageContext {
        title: title(manifest),
        apps: install_commands(manifest)?,
        files: files(manifest, &[ArtifactKind::Page]),
        verify: verify_view(manifest, public_key),
        description: manifest.apps.values().find_map(|a| a.description.clone()),
    };
    render("index.html", PAGE_TEMPLATE, context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_quotes() {
        assert_eq!(sh_quote("it's".into()), r"'it'\''s'");
        assert_eq!(ps_quote("it's".into()), "'it''s'");
        assert_eq!(env_prefix("my-app.2"), "MY_APP_2");
    }
}
