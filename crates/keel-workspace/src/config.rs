//! The keel configuration: `[workspace.metadata.keel]` and `[package.metadata.keel]`.
//!
//! Raw TOML (seen through `cargo metadata` as JSON) is parsed strictly, so a misspelt key is an
//! error that names it, not a silently ignored setting.

use std::collections::BTreeMap;

use keel_schema::ArchiveFormat;
use keel_schema::receipt::UpdateHooks;
use serde::{Deserialize, Serialize};

/// `[workspace.metadata.keel]`: settings for the whole release. Every key is optional; with none
/// at all, every binary of every member is shipped for the host target.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct WorkspaceConfig {
    /// The packages to ship; default: every member with a binary target.
    #[serde(default)]
    pub apps: Option<Vec<String>>,
    /// The target triples to build; default: the host.
    #[serde(default)]
    pub targets: Vec<String>,
    /// The archive format for Unix targets.
    #[serde(default = "default_unix_archive")]
    pub unix_archive: ArchiveFormat,
    /// The archive format for Windows targets.
    #[serde(default = "default_windows_archive")]
    pub windows_archive: ArchiveFormat,
    /// Extra files or folders, relative to the workspace root, put in every app's archive.
    #[serde(default)]
    pub include: Vec<String>,
    /// Where the release's files are downloaded from, with `{tag}` and `{version}` filled in
    /// (`https://github.com/OWNER/REPO/releases/download/{tag}`); default: GitHub Releases of
    /// the package's `repository` when it is on GitHub.
    #[serde(default)]
    pub download_url: Option<String>,
    /// Whether each app gets `<app>-installer.sh` and `<app>-installer.ps1`.
    #[serde(default = "yes")]
    pub installers: bool,
    /// Whether the release gets a download page, `index.html`.
    #[serde(default = "yes")]
    pub download_page: bool,
    /// `[workspace.metadata.keel.store]`: the release store operators update from.
    #[serde(default)]
    pub store: Option<StoreConfig>,
    /// The builder of each target that is not built with cargo (`zigbuild`, `cross`, `fake`).
    #[serde(default)]
    pub builders: BTreeMap<String, BuilderName>,
    /// The newest glibc the Linux gnu binaries may need (`2.17`): zigbuild builds for it, and
    /// a release whose binaries need a newer one fails.
    #[serde(default)]
    pub glibc_floor: Option<String>,
    /// `[workspace.metadata.keel.ci]`: the generated CI workflow.
    #[serde(default)]
    pub ci: CiConfig,
    /// `[workspace.metadata.keel.changelog]`: how `keel changelog` writes changelogs.
    #[serde(default)]
    pub changelog: ChangelogConfig,
}

/// `[workspace.metadata.keel.changelog]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ChangelogConfig {
    /// `per-package` (the default): a `CHANGELOG.md` in each released package's folder;
    /// `workspace`: one at the workspace root, each entry naming its packages.
    #[serde(default)]
    pub layout: ChangelogLayout,
    /// A minijinja template for one section, relative to the workspace root.
    #[serde(default)]
    pub template: Option<String>,
}

/// Where changelogs go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangelogLayout {
    /// One per released package, in its folder.
    #[default]
    PerPackage,
    /// One for the workspace, at its root.
    Workspace,
}

/// A builder, as settings and the command line name it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum BuilderName {
    /// `cargo build`.
    Cargo,
    /// `cargo zigbuild`: any Linux target, with a glibc floor, from any host.
    Zigbuild,
    /// `cross build`, in a container.
    Cross,
    /// Placeholder binaries, for trying a pipeline without compiling.
    Fake,
}

impl BuilderName {
    /// The name (`cargo`, `zigbuild`, `cross`, `fake`).
    pub fn as_str(self) -> &'static str {
        match self {
            BuilderName::Cargo => "cargo",
            BuilderName::Zigbuild => "zigbuild",
            BuilderName::Cross => "cross",
            BuilderName::Fake => "fake",
        }
    }
}

/// `[workspace.metadata.keel.ci]`: settings of the CI workflow `keel ci init` writes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CiConfig {
    /// The targets CI builds (default: `targets`, else Linux, macOS and Windows on x86_64 and
    /// Linux and macOS on ARM64).
    #[serde(default)]
    pub targets: Vec<String>,
    /// The runner of a target, where the default does not fit (`ubuntu-latest`,
    /// `ubuntu-24.04-arm`, `macos-15-intel`, `macos-latest`, `windows-latest`).
    #[serde(default)]
    pub runners: BTreeMap<String, String>,
    /// Shell commands the gates run after the tests (a migration on a fresh database, a start
    /// and a clean shutdown).
    #[serde(default)]
    pub smoke: Vec<String>,
    /// How keel gets onto the runners: `cargo` (the default: `cargo install --locked` of one
    /// commit of keel's repository, built on each runner) or `installer` (keel's own installer
    /// from a keel release, which checks the download's sha256).
    #[serde(default)]
    pub keel: Option<String>,
    /// The commit of keel's repository `cargo` installs (default: the commit the keel that
    /// writes the pipeline was built from).
    #[serde(default)]
    pub keel_rev: Option<String>,
    /// The public key the release job checks the merged release with (relative to the
    /// workspace root).
    #[serde(default)]
    pub public_key: Option<String>,
    /// A release store the release job publishes to: its folder, and shell commands that
    /// bring it from and send it to where it is served.
    #[serde(default)]
    pub store: Option<CiStore>,
}

/// `[workspace.metadata.keel.ci.store]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CiStore {
    /// The store's folder on the runner.
    pub dir: String,
    /// A command that fetches the store into `dir` (`aws s3 sync s3://bucket/store store`).
    #[serde(default)]
    pub download: Option<String>,
    /// A command that sends `dir` to where it is served.
    #[serde(default)]
    pub upload: Option<String>,
    /// When the scheduled job renews the store's expiry (cron, UTC).
    #[serde(default)]
    pub refresh: Option<String>,
    /// The secrets the download and upload commands need (`AWS_ACCESS_KEY_ID`, ...): each is
    /// given to those steps only, as an environment variable of the same name.
    #[serde(default)]
    pub secrets: Vec<String>,
}

/// `[workspace.metadata.keel.store]`: the release store a release is published to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StoreConfig {
    /// The store's URL, as operators reach it (`https://example.com/store`).
    pub url: String,
    /// The store's `root.json`, relative to the workspace root: installers give it to the
    /// installs they make, so updates are verified from the start.
    #[serde(default)]
    pub root: Option<String>,
}

fn yes() -> bool {
    true
}

impl Default for WorkspaceConfig {
    fn default() -> Self {
        WorkspaceConfig {
            apps: None,
            targets: Vec::new(),
            unix_archive: default_unix_archive(),
            windows_archive: default_windows_archive(),
            include: Vec::new(),
            download_url: None,
            installers: true,
            download_page: true,
            store: None,
            builders: BTreeMap::new(),
            glibc_floor: None,
            ci: CiConfig::default(),
            changelog: ChangelogConfig::default(),
        }
    }
}

fn default_unix_archive() -> ArchiveFormat {
    ArchiveFormat::TarGz
}

fn default_windows_archive() -> ArchiveFormat {
    ArchiveFormat::Zip
}

/// `[package.metadata.keel]`: settings for one app.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PackageConfig {
    /// `false` leaves the package out of releases even though it has binaries.
    #[serde(default)]
    pub dist: Option<bool>,
    /// The binaries to ship; default: every binary target of the package.
    #[serde(default)]
    pub binaries: Option<Vec<String>>,
    /// Extra files or folders, relative to the package's directory, put in its archive.
    #[serde(default)]
    pub include: Vec<String>,
    /// `[package.metadata.keel.update]`: the commands the new binary runs when an update
    /// installs it (`migrate`, `check`).
    #[serde(default)]
    pub update: Option<UpdateHooks>,
    /// `[package.metadata.keel.image]`: how `keel image build` makes the app's image.
    #[serde(default)]
    pub image: Option<keel_schema::image::ImageSettings>,
    /// `[package.metadata.keel.rehearse]`: how `keel rehearse` seeds and checks data.
    #[serde(default)]
    pub rehearse: Option<keel_schema::rehearsal::RehearseSettings>,
}

/// The commented block `keel init` writes as `[workspace.metadata.keel]`: the defaults, spelt
/// out, so that the file explains itself.
pub const INIT_CONFIG: &str = r#"[workspace.metadata.keel]
# keel release settings; `keel plan` shows what they produce. Every key is optional.
# The packages to ship (default: every workspace member with a binary target):
# apps = ["my-app"]
# The targets to build (default: the host only). Targets other than the host are built
# on CI runners, for example:
# targets = ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu", "x86_64-apple-darwin",
#            "aarch64-apple-darwin", "x86_64-pc-windows-msvc", "aarch64-pc-windows-msvc"]
# Archive formats: "tar.gz", "tar.xz" or "tar.zst" for Unix targets, "zip" for Windows.
unix-archive = "tar.gz"
windows-archive = "zip"
# Extra files or folders (relative to the workspace root) put in every archive, beside the
# binaries and the README*, licence, NOTICE*, AUTHORS* and CHANGELOG* files always included:
include = []
# Where installers download the release from; {tag} and {version} are filled in. Default:
# GitHub Releases of the package's `repository` when it is on GitHub.
# download-url = "https://github.com/OWNER/REPO/releases/download/{tag}"
# The release store operators update from (`keel publish --to DIR` writes it); installers
# give its root of trust to the installs they make:
# store = { url = "https://example.com/store", root = "store/metadata/root.json" }
# The builder of a target that plain `cargo build` does not fit: "zigbuild" (cargo-zigbuild:
# Linux targets from any host, against the glibc of `glibc-floor`) or "cross" (in a container):
# builders = { "aarch64-unknown-linux-gnu" = "zigbuild" }
# The newest glibc the Linux gnu binaries may need; a release whose binaries need more fails:
# glibc-floor = "2.17"
# The CI pipeline `keel ci init` writes (see docs/ci.md), for example:
# ci = { smoke = ["cargo run --locked -- migrate --db smoke.db"], runners = { "x86_64-unknown-linux-gnu" = "ubuntu-22.04" } }
# Changelogs `keel changelog` and `keel bump` write: one per package (the default) or one for
# the workspace, and your own section template if you like:
# changelog = { layout = "per-package", template = "changelog-section.md.j2" }
# Installer scripts per app (<app>-installer.sh, <app>-installer.ps1) and a download page:
installers = true
download-page = true
"#;

/// The `[profile.dist]` that `keel init` writes: the profile `keel build` uses, with the
/// settings keel uses when a workspace defines none ([`keel_schema::DIST_PROFILE_SETTINGS`]).
pub fn init_profile() -> String {
    let mut text = format!(
        "[profile.{}]\n# The profile `keel build` uses for release binaries: smaller and faster than `release`.\n",
        keel_schema::DIST_PROFILE
    );
    for (key, value) in keel_schema::DIST_PROFILE_SETTINGS {
        text.push_str(&format!("{key} = {value}\n"));
    }
    text
}
