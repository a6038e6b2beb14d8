//! A Cargo workspace and its keel configuration, as a typed model.
//!
//! [`Workspace::load`] runs `cargo metadata --no-deps`, reads `[workspace.metadata.keel]` and
//! each member's `[package.metadata.keel]` strictly (a misspelt key is an error), and resolves
//! from disk everything the planner needs to know about files: each package's documents
//! (README*, the licence files, NOTICE*, AUTHORS*, COPYRIGHT*, CHANGELOG*) and the extra files
//! it asks to include. After loading, planning is pure: `keel-plan` turns a [`Workspace`] into a
//! plan without touching the disk.
//!
//! [`init_manifest`] adds the commented default configuration and a `[profile.dist]` to a
//! `Cargo.toml` without disturbing anything else in it. [`git_info`] reads the commit, its time
//! and whether the tree is dirty.
//!
//! This crate never prints.

mod config;
pub mod git;

use std::path::{Component, Path, PathBuf};

pub use config::{
    BuilderName, ChangelogConfig, ChangelogLayout, CiConfig, CiStore, INIT_CONFIG, PackageConfig,
    StoreConfig, WorkspaceConfig, init_profile,
};
pub use git::{GitInfo, git_info};
use keel_schema::DIST_PROFILE;

/// A Cargo workspace, with its keel configuration.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The workspace root directory.
    pub root: PathBuf,
    /// The root `Cargo.toml`.
    pub manifest_path: PathBuf,
    /// Cargo's target directory.
    pub target_dir: PathBuf,
    /// `[workspace.metadata.keel]`.
    pub config: WorkspaceConfig,
    /// The workspace members, sorted by name.
    pub packages: Vec<Package>,
    /// Files from the workspace-level `include`, relative to the workspace root.
    pub includes: Vec<IncludedFile>,
    /// Whether the root manifest defines `[profile.dist]`.
    pub has_dist_profile: bool,
    /// Whether `Cargo.lock` exists at the root.
    pub has_lockfile: bool,
    /// The store's `root.json`, read from `[workspace.metadata.keel.store] root`.
    pub store_root: Option<String>,
    /// Whether a cargo config file that applies here sets `target.<...>.rustflags`.
    pub config_target_rustflags: bool,
}

/// A workspace member.
#[derive(Debug, Clone)]
pub struct Package {
    /// The package name.
    pub name: String,
    /// The package version.
    pub version: semver::Version,
    /// The package's directory.
    pub dir: PathBuf,
    /// Its `Cargo.toml`.
    pub manifest_path: PathBuf,
    /// Whether it may be published to a registry (`publish` is not `false`).
    pub publish: bool,
    /// Whether it has a library target.
    pub has_lib: bool,
    /// The workspace members it depends on by path (normal and build dependencies), sorted.
    pub path_dependencies: Vec<String>,
    /// The names of its binary targets, sorted.
    pub binaries: Vec<String>,
    /// `package.description`.
    pub description: Option<String>,
    /// `package.license`.
    pub license: Option<String>,
    /// `package.repository`.
    pub repository: Option<String>,
    /// `package.homepage`.
    pub homepage: Option<String>,
    /// `[package.metadata.keel]`.
    pub config: PackageConfig,
    /// README*, licence (LICENSE*, LICENCE*, COPYING*, UNLICENSE* and the `license-file`),
    /// NOTICE*, AUTHORS*, COPYRIGHT* and CHANGELOG* files, from the package's directory or, for
    /// a kind it has none of, from the workspace root; sorted.
    pub documents: Vec<IncludedFile>,
    /// Files from the package's `include`, sorted.
    pub includes: Vec<IncludedFile>,
}

/// A file to put into an archive.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IncludedFile {
    /// Its path inside the app's top directory, `/`-separated.
    pub archive_path: String,
    /// The file on disk.
    pub source: PathBuf,
    /// Whether the file on disk is executable.
    pub executable: bool,
}

/// Why a workspace could not be loaded or its manifest edited.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No `Cargo.toml` in the directory or any parent.
    #[error("could not find Cargo.toml in {} or any parent directory", dir.display())]
    NotFound {
        /// Where the search started.
        dir: PathBuf,
    },
    /// `--manifest-path` names a file that does not exist.
    #[error("{} does not exist", path.display())]
    ManifestMissing {
        /// The path given.
        path: PathBuf,
    },
    /// The store settings name a root of trust that does not exist yet.
    #[error("the store's root of trust {} does not exist (`store.root` in {})", path.display(), manifest_path.display())]
    NoStoreRoot {
        /// The missing file.
        path: PathBuf,
        /// The manifest naming it.
        manifest_path: PathBuf,
    },
    /// `cargo metadata` failed.
    #[error("could not read the Cargo workspace at {}", manifest_path.display())]
    Metadata {
        /// The manifest given to cargo.
        manifest_path: PathBuf,
        /// What cargo said.
        #[source]
        source: CargoOutput,
    },
    /// A keel configuration table is invalid.
    #[error("invalid {table} in {}", manifest_path.display())]
    Config {
        /// `[workspace.metadata.keel]` or `[package.metadata.keel]`.
        table: String,
        /// The manifest holding it.
        manifest_path: PathBuf,
        /// What is wrong.
        #[source]
        source: serde_json::Error,
    },
    /// An `include` entry cannot be used.
    #[error("`include` entry `{entry}` in {table} of {}: {reason}", manifest_path.display())]
    Include {
        /// The table holding it.
        table: String,
        /// The manifest holding it.
        manifest_path: PathBuf,
        /// The entry as written.
        entry: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A package's `license-file` cannot be used.
    #[error("`license-file = \"{given}\"` of package `{package}` in {}: {reason}", manifest_path.display())]
    LicenseFile {
        /// The package.
        package: String,
        /// Its manifest.
        manifest_path: PathBuf,
        /// The path as written.
        given: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A folder named by an `include` entry could not be walked.
    #[error("`include` entry `{entry}` in {table} of {}: could not read the folder", manifest_path.display())]
    IncludeWalk {
        /// The table holding it.
        table: String,
        /// The manifest holding it.
        manifest_path: PathBuf,
        /// The entry as written.
        entry: String,
        /// The cause.
        #[source]
        source: Box<walkdir::Error>,
    },
    /// A file or folder could not be read.
    #[error("could not read {}", path.display())]
    Read {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A `Cargo.toml` is not valid TOML.
    #[error("{} is not valid TOML", path.display())]
    Toml {
        /// The manifest.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: toml_edit::TomlError,
    },
    /// A `Cargo.toml` holds a key keel needs to be a table as something else.
    #[error("`{key}` in {} is not a table", path.display())]
    NotATable {
        /// The dotted key.
        key: String,
        /// The manifest.
        path: PathBuf,
    },
}

impl Error {
    /// What to do about the error, when that needs no command-line flag (the `keel` binary
    /// adds the hints that name its flags).
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Error::NoStoreRoot { .. } => {
                "create the store first: `keel store init STORE_DIR --sign-key KEY` writes STORE_DIR/metadata/root.json (or remove `root` from the store settings)"
            }
            Error::Config { .. } => {
                "the keel settings are documented in docs/settings.md; `keel init` writes them with their defaults"
            }
            _ => return None,
        })
    }
}

/// What a failed cargo command printed on stderr.
#[derive(Debug)]
pub struct CargoOutput(pub String);

impl std::fmt::Display for CargoOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.0.trim();
        f.write_str(text.strip_prefix("error: ").unwrap_or(text))
    }
}

impl std::error::Error for CargoOutput {}

/// Finds the `Cargo.toml` to use: `manifest_path` when given, else the nearest one at or above
/// `cwd` (as cargo does).
pub fn find_manifest(manifest_path: Option<&Path>, cwd: &Path) -> Result<PathBuf, Error> {
    if let Some(path) = manifest_path {
        let path = cwd.join(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(Error::ManifestMissing { path })
        };
    }
    cwd.ancestors()
        .map(|dir| dir.join("Cargo.toml"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| Error::NotFound {
            dir: cwd.to_owned(),
        })
}

impl Workspace {
    /// Loads the workspace whose manifest (root or member) is `manifest_path`.
    pub fn load(manifest_path: &Path) -> Result<Workspace, Error> {
        let metadata = cargo_metadata::MetadataCommand::new()
            .manifest_path(manifest_path)
            .no_deps()
            .exec()
            .map_err(|err| metadata_error(manifest_path, err))?;
        let root = PathBuf::from(metadata.workspace_root.as_std_path());
        let root_manifest = root.join("Cargo.toml");
        let root_toml = read_toml(&root_manifest)?;
        let has_dist_profile = root_toml
            .get("profile")
            .and_then(|profile| profile.get(DIST_PROFILE))
            .is_some();

        let config: WorkspaceConfig = match metadata.workspace_metadata.get("keel") {
            None => WorkspaceConfig::default(),
            Some(value) => {
                serde_json::from_value(value.clone()).map_err(|source| Error::Config {
                    table: "[workspace.metadata.keel]".into(),
                    manifest_path: root_manifest.clone(),
                    source,
                })?
            }
        };
        let includes = resolve_includes(
            &config.include,
            &root,
            "[workspace.metadata.keel]",
            &root_manifest,
        )?;

        let members: std::collections::BTreeSet<_> = metadata.workspace_members.iter().collect();
        let mut packages = Vec::new();
        for package in &metadata.packages {
            if !members.contains(&package.id) {
                continue;
            }
            let manifest = PathBuf::from(package.manifest_path.as_std_path());
            let dir = manifest
                .parent()
                .expect("a manifest path has a parent directory")
                .to_owned();
            let config: PackageConfig = match package.metadata.get("keel") {
                None => PackageConfig::default(),
                Some(value) => {
                    serde_json::from_value(value.clone()).map_err(|source| Error::Config {
                        table: format!("[package.metadata.keel] of package `{}`", package.name),
                        manifest_path: manifest.clone(),
                        source,
                    })?
                }
            };
            let mut binaries: Vec<String> = package
                .targets
                .iter()
                .filter(|target| target.is_bin())
                .map(|target| target.name.clone())
                .collect();
            binaries.sort();
            let includes = resolve_includes(
                &config.include,
                &dir,
                &format!("[package.metadata.keel] of package `{}`", package.name),
                &manifest,
            )?;
            let member_names: std::collections::BTreeSet<&str> = metadata
                .packages
                .iter()
                .filter(|p| members.contains(&p.id))
                .map(|p| p.name.as_str())
                .collect();
            let mut path_dependencies: Vec<String> = package
                .dependencies
                .iter()
                .filter(|d| {
                    d.path.is_some()
                        && d.kind != cargo_metadata::DependencyKind::Development
                        && member_names.contains(d.name.as_str())
                })
                .map(|d| d.name.clone())
                .collect();
            path_dependencies.sort();
            path_dependencies.dedup();
            let license_file = license_file(package, &dir, &manifest)?;
            packages.push(Package {
                name: package.name.to_string(),
                version: package.version.clone(),
                documents: find_documents(&dir, &root, license_file.as_ref())?,
                manifest_path: manifest.clone(),
                publish: package
                    .publish
                    .as_ref()
                    .is_none_or(|registries| !registries.is_empty()),
                has_lib: package.targets.iter().any(|t| t.is_lib()),
                path_dependencies,
                dir,
                binaries,
                description: package.description.clone(),
                license: package.license.clone(),
                repository: package.repository.clone(),
                homepage: package.homepage.clone(),
                config,
                includes,
            });
        }
        packages.sort_by(|a, b| a.name.cmp(&b.name));

        let store_root = match config.store.as_ref().and_then(|s| s.root.as_deref()) {
            Some(rel) => {
                let path = root.join(rel);
                match fs_err::read_to_string(&path) {
                    Ok(text) => Some(text),
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                        return Err(Error::NoStoreRoot {
                            path,
                            manifest_path: root_manifest.clone(),
                        });
                    }
                    Err(source) => return Err(Error::Read { path, source }),
                }
            }
            None => None,
        };
        Ok(Workspace {
            config_target_rustflags: config_sets_target_rustflags(&root),
            store_root,
            has_lockfile: root.join("Cargo.lock").is_file(),
            manifest_path: root_manifest,
            target_dir: PathBuf::from(metadata.target_directory.as_std_path()),
            root,
            config,
            packages,
            includes,
            has_dist_profile,
        })
    }

    /// A path shown to users: relative to the workspace root when inside it.
    pub fn display_path(&self, path: &Path) -> String {
        relative_display(path, &self.root)
    }
}

/// The cargo config files that apply in `dir`, as cargo finds them: `.cargo/config.toml` (or
/// `.cargo/config`) in `dir` and each folder above it, then in `$CARGO_HOME`.
fn cargo_config_files(dir: &Path) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = dir.ancestors().map(|d| d.join(".cargo")).collect();
    if let Some(home) = keel_schema::env::cargo_home()
        && !folders.contains(&home)
    {
        folders.push(home);
    }
    folders
        .into_iter()
        .filter_map(|folder| {
            ["config.toml", "config"]
                .into_iter()
                .map(|name| folder.join(name))
                .find(|path| path.is_file())
        })
        .collect()
}

/// Whether a cargo config file that applies in `dir` sets rustflags for a target
/// (`[target.x86_64-unknown-linux-gnu] rustflags` or `[target.'cfg(unix)'] rustflags`): cargo
/// then ignores `build.rustflags`.
pub fn config_sets_target_rustflags(dir: &Path) -> bool {
    cargo_config_files(dir).iter().any(|path| {
        let Ok(doc) = read_toml(path) else {
            return false;
        };
        doc.get("target")
            .and_then(|t| t.as_table_like())
            .is_some_and(|targets| {
                targets
                    .iter()
                    .any(|(_, table)| table.get("rustflags").is_some())
            })
    })
}

/// `cargo metadata --filter-platform <target>` with dependencies: the crates resolved for
/// that target, as an SBOM needs them.
pub fn resolve_for_target(
    manifest_path: &Path,
    target: &str,
) -> Result<cargo_metadata::Metadata, Error> {
    cargo_metadata::MetadataCommand::new()
        .manifest_path(manifest_path)
        .other_options(vec![
            "--filter-platform".to_owned(),
            target.to_owned(),
            "--locked".to_owned(),
        ])
        .exec()
        .map_err(|err| metadata_error(manifest_path, err))
}

/// The packages built from a path outside `root` (path dependencies elsewhere on the machine,
/// direct or not), by name and folder: their paths would otherwise end up in the binaries.
pub fn path_packages_outside(
    manifest_path: &Path,
    root: &Path,
) -> Result<Vec<(String, PathBuf)>, Error> {
    let metadata = cargo_metadata::MetadataCommand::new()
        .manifest_path(manifest_path)
        .other_options(vec!["--locked".to_owned()])
        .exec()
        .map_err(|err| metadata_error(manifest_path, err))?;
    let mut found: Vec<(String, PathBuf)> = metadata
        .packages
        .iter()
        .filter(|p| p.source.is_none())
        .filter_map(|p| {
            let dir = PathBuf::from(p.manifest_path.as_std_path().parent()?);
            (!dir.starts_with(root)).then(|| (p.name.to_string(), dir))
        })
        .collect();
    found.sort();
    found.dedup();
    Ok(found)
}

/// A failed `cargo metadata`, with what cargo printed.
fn metadata_error(manifest_path: &Path, err: cargo_metadata::Error) -> Error {
    Error::Metadata {
        manifest_path: manifest_path.to_owned(),
        source: CargoOutput(match err {
            cargo_metadata::Error::CargoMetadata { stderr } => stderr,
            other => other.to_string(),
        }),
    }
}

/// The checksums `Cargo.lock` records, by (name, version, source); crates without a source
/// (path dependencies) or without a checksum are left out.
pub fn lock_checksums(
    root: &Path,
) -> Result<std::collections::BTreeMap<(String, String, String), String>, Error> {
    let path = root.join("Cargo.lock");
    let doc = read_toml(&path)?;
    let mut checksums = std::collections::BTreeMap::new();
    if let Some(packages) = doc.get("package").and_then(|p| p.as_array_of_tables()) {
        for package in packages {
            let field = |key: &str| package.get(key).and_then(|v| v.as_str()).map(str::to_owned);
            if let (Some(name), Some(version), Some(source), Some(checksum)) = (
                field("name"),
                field("version"),
                field("source"),
                field("checksum"),
            ) {
                checksums.insert((name, version, source), checksum);
            }
        }
    }
    Ok(checksums)
}

/// `path` relative to `base` with `/` separators when it is inside `base`, else as is.
pub fn relative_display(path: &Path, base: &Path) -> String {
    match path.strip_prefix(base) {
        Ok(rel) => rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
        Err(_) => path.display().to_string(),
    }
}

fn read_toml(path: &Path) -> Result<toml_edit::DocumentMut, Error> {
    let text = fs_err::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    text.parse().map_err(|source| Error::Toml {
        path: path.to_owned(),
        source,
    })
}

/// The kinds of documents shipped in every archive; a file belongs to a kind when its name,
/// upper-cased, starts with one of the kind's prefixes. The licence texts are one kind, so a
/// package with a licence of its own does not also get the workspace's; notices, authors and
/// copyright statements are kinds of their own, taken from the workspace root when the
/// package has none.
const DOCUMENT_KINDS: &[&[&str]] = &[
    &["README"],
    &["LICENSE", "LICENCE", "COPYING", "UNLICENSE"],
    &["NOTICE"],
    &["AUTHORS"],
    &["COPYRIGHT"],
    &["CHANGELOG"],
];

/// The index of the licence texts in [`DOCUMENT_KINDS`]: a package's `license-file` is one.
const LICENCE_KIND: usize = 1;

/// The documents of the package in `package_dir`: for each kind, the package's own files, or,
/// when it has none, the workspace root's; `license_file` (the package's `license-file`,
/// resolved) counts as a licence text of the package's own.
fn find_documents(
    package_dir: &Path,
    root: &Path,
    license_file: Option<&IncludedFile>,
) -> Result<Vec<IncludedFile>, Error> {
    let mut found = Vec::new();
    for (index, prefixes) in DOCUMENT_KINDS.iter().enumerate() {
        let mut kind = documents_of_kind(package_dir, prefixes)?;
        if index == LICENCE_KIND {
            kind.extend(license_file.cloned());
        }
        if kind.is_empty() && package_dir != root {
            kind = documents_of_kind(root, prefixes)?;
        }
        found.extend(kind);
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// The file a package's `license-file` names (relative to the package), stored under its own
/// file name; an error, as for an `include` entry, when it is not a file.
fn license_file(
    package: &cargo_metadata::Package,
    dir: &Path,
    manifest_path: &Path,
) -> Result<Option<IncludedFile>, Error> {
    let Some(given) = &package.license_file else {
        return Ok(None);
    };
    let invalid = |reason: String| Error::LicenseFile {
        package: package.name.to_string(),
        manifest_path: manifest_path.to_owned(),
        given: given.to_string(),
        reason,
    };
    let source = lexically_normal(&dir.join(given.as_std_path()));
    let metadata = fs_err::metadata(&source)
        .map_err(|_| invalid(format!("{} does not exist", source.display())))?;
    if !metadata.is_file() {
        return Err(invalid(format!("{} is not a file", source.display())));
    }
    let name = source
        .file_name()
        .and_then(|name| name.to_str())
        .ok_or_else(|| invalid("the file name is not UTF-8".into()))?;
    Ok(Some(IncludedFile {
        archive_path: name.to_owned(),
        executable: false,
        source,
    }))
}

/// `path` with `.` and `name/..` parts removed, without reading the disk (a `license-file` of
/// `../LICENSE` and the workspace root's `LICENSE` are then one file, not two).
fn lexically_normal(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(normal.components().next_back(), Some(Component::Normal(_))) =>
            {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}

fn documents_of_kind(dir: &Path, prefixes: &[&str]) -> Result<Vec<IncludedFile>, Error> {
    let read_err = |source| Error::Read {
        path: dir.to_owned(),
        source,
    };
    let mut found = Vec::new();
    for entry in fs_err::read_dir(dir).map_err(read_err)? {
        let entry = entry.map_err(read_err)?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let upper = name.to_ascii_uppercase();
        if !prefixes.iter().any(|prefix| upper.starts_with(prefix)) {
            continue;
        }
        let path = entry.path();
        // Follows symlinks: a member's README is often a link to the workspace's.
        let Ok(metadata) = fs_err::metadata(&path) else {
            continue;
        };
        if metadata.is_file() {
            found.push(IncludedFile {
                archive_path: name,
                executable: false,
                source: path,
            });
        }
    }
    Ok(found)
}

fn resolve_includes(
    entries: &[String],
    base: &Path,
    table: &str,
    manifest_path: &Path,
) -> Result<Vec<IncludedFile>, Error> {
    let mut files = Vec::new();
    for entry in entries {
        let invalid = |reason: String| Error::Include {
            table: table.to_owned(),
            manifest_path: manifest_path.to_owned(),
            entry: entry.clone(),
            reason,
        };
        let rel = Path::new(entry);
        let mut parts = Vec::new();
        for component in rel.components() {
            match component {
                Component::Normal(part) => parts.push(
                    part.to_str()
                        .ok_or_else(|| invalid("the path is not UTF-8".into()))?
                        .to_owned(),
                ),
                Component::CurDir => {}
                _ => {
                    return Err(invalid(
                        "the path must be relative and stay inside its directory (no `..`)".into(),
                    ));
                }
            }
        }
        if parts.is_empty() {
            return Err(invalid("the path is empty".into()));
        }
        let source = base.join(rel);
        let metadata = fs_err::metadata(&source)
            .map_err(|_| invalid(format!("{} does not exist", source.display())))?;
        if metadata.is_file() {
            files.push(IncludedFile {
                archive_path: parts.join("/"),
                executable: is_executable(&metadata),
                source,
            });
            continue;
        }
        for item in walkdir::WalkDir::new(&source)
            .follow_links(true)
            .sort_by_file_name()
        {
            let item = item.map_err(|source| Error::IncludeWalk {
                table: table.to_owned(),
                manifest_path: manifest_path.to_owned(),
                entry: entry.clone(),
                source: Box::new(source),
            })?;
            if !item.file_type().is_file() {
                continue;
            }
            let inner = item
                .path()
                .strip_prefix(base)
                .expect("walkdir yields paths below its root");
            let mut archive_path = Vec::new();
            for part in inner.components() {
                archive_path.push(
                    part.as_os_str().to_str().ok_or_else(|| {
                        invalid(format!("{} is not UTF-8", item.path().display()))
                    })?,
                );
            }
            let metadata = item.metadata().map_err(|source| Error::IncludeWalk {
                table: table.to_owned(),
                manifest_path: manifest_path.to_owned(),
                entry: entry.clone(),
                source: Box::new(source),
            })?;
            files.push(IncludedFile {
                archive_path: archive_path.join("/"),
                executable: is_executable(&metadata),
                source: item.path().to_owned(),
            });
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

#[cfg(unix)]
fn is_executable(metadata: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_metadata: &std::fs::Metadata) -> bool {
    false
}

/// What [`init_manifest`] changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitOutcome {
    /// The new manifest text.
    pub text: String,
    /// Whether `[workspace.metadata.keel]` was added (it was absent).
    pub added_config: bool,
    /// Whether `[profile.dist]` was added (it was absent).
    pub added_profile: bool,
}

/// Adds [`INIT_CONFIG`] and [`init_profile`] to a root `Cargo.toml`, each only when absent, and
/// keeps everything else (formatting and comments included) as it was.
pub fn init_manifest(text: &str, path: &Path) -> Result<InitOutcome, Error> {
    let toml_err = |source| Error::Toml {
        path: path.to_owned(),
        source,
    };
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(toml_err)?;
    let template = |text: &str| -> toml_edit::DocumentMut {
        text.parse().expect("the built-in templates are valid TOML")
    };

    let mut added_config = false;
    let workspace = implicit_table(doc.as_table_mut(), "workspace", path)?;
    let metadata = implicit_table(workspace, "metadata", path)?;
    if !metadata.contains_key("keel") {
        let config = template(INIT_CONFIG);
        let keel = config["workspace"]["metadata"]["keel"].clone();
        metadata.insert("keel", keel);
        added_config = true;
    }
    if added_config {
        let next = last_position(doc.as_table()) + 1;
        place_at_end(&mut doc["workspace"]["metadata"]["keel"], next);
    }

    let mut added_profile = false;
    let profile = implicit_table(doc.as_table_mut(), "profile", path)?;
    if !profile.contains_key(DIST_PROFILE) {
        let config = template(&init_profile());
        profile.insert(DIST_PROFILE, config["profile"][DIST_PROFILE].clone());
        added_profile = true;
        let next = last_position(doc.as_table()) + 1;
        place_at_end(&mut doc["profile"][DIST_PROFILE], next);
    }

    let mut text = doc.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(InitOutcome {
        text,
        added_config,
        added_profile,
    })
}

/// The highest document position of any table below `table`.
fn last_position(table: &toml_edit::Table) -> isize {
    let mut last = table.position().unwrap_or(0);
    for (_, item) in table.iter() {
        match item {
            toml_edit::Item::Table(inner) => last = last.max(last_position(inner)),
            toml_edit::Item::ArrayOfTables(array) => {
                for inner in array.iter() {
                    last = last.max(last_position(inner));
                }
            }
            _ => {}
        }
    }
    last
}

/// Moves a table written by `init` to the end of the document, after a blank line.
fn place_at_end(item: &mut toml_edit::Item, position: isize) {
    if let Some(table) = item.as_table_mut() {
        table.set_position(Some(position));
        table.decor_mut().set_prefix("\n");
    }
}

/// The table at `key`, created as an implicit table (no header of its own) when absent.
fn implicit_table<'a>(
    parent: &'a mut toml_edit::Table,
    key: &str,
    path: &Path,
) -> Result<&'a mut toml_edit::Table, Error> {
    if !parent.contains_key(key) {
        let mut table = toml_edit::Table::new();
        table.set_implicit(true);
        parent.insert(key, toml_edit::Item::Table(table));
    }
    parent
        .get_mut(key)
        .and_then(toml_edit::Item::as_table_mut)
        .ok_or_else(|| Error::NotATable {
            key: key.to_owned(),
            path: path.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(documents: &[IncludedFile], root: &Path) -> Vec<(String, String)> {
        documents
            .iter()
            .map(|d| (d.archive_path.clone(), relative_display(&d.source, root)))
            .collect()
    }

    #[test]
    fn each_kind_of_document_comes_from_the_package_else_the_workspace() {
        let ws = keel_test::TestWorkspace::new("keel");
        for file in [
            "README.md",
            "COPYING",
            "LICENSE-MIT",
            "UNLICENSE",
            "NOTICE",
            "AUTHORS",
            "COPYRIGHT",
            "CHANGELOG.md",
            "crates/own/LICENSE",
            "crates/own/notice.txt",
            "crates/none/src/main.rs",
        ] {
            ws.write(file, "text\n");
        }
        let root = ws.root();
        // A licence of its own replaces the workspace's licence texts; the notice of its own
        // (matched whatever its case) replaces the workspace's; the rest come from the root.
        let own = find_documents(&root.join("crates/own"), root, None).unwrap();
        assert_eq!(
            names(&own, root),
            [
                ("AUTHORS", "AUTHORS"),
                ("CHANGELOG.md", "CHANGELOG.md"),
                ("COPYRIGHT", "COPYRIGHT"),
                ("LICENSE", "crates/own/LICENSE"),
                ("README.md", "README.md"),
                ("notice.txt", "crates/own/notice.txt"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
        let none = find_documents(&root.join("crates/none"), root, None).unwrap();
        let taken: Vec<String> = none.iter().map(|d| d.archive_path.clone()).collect();
        assert_eq!(
            taken,
            [
                "AUTHORS",
                "CHANGELOG.md",
                "COPYING",
                "COPYRIGHT",
                "LICENSE-MIT",
                "NOTICE",
                "README.md",
                "UNLICENSE"
            ]
        );
    }

    #[test]
    fn a_license_file_is_the_packages_own_licence() {
        let ws = keel_test::TestWorkspace::new("keel");
        ws.write(
            "Cargo.toml",
            "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n",
        );
        for (name, license_file) in [("outside", "../../legal/TERMS.txt"), ("inside", "LICENSE")] {
            ws.write(
                &format!("crates/{name}/Cargo.toml"),
                &format!(
                    "[package]\nname = \"{name}\"\nversion = \"1.0.0\"\nedition = \"2021\"\nlicense-file = \"{license_file}\"\n"
                ),
            );
            ws.write(&format!("crates/{name}/src/main.rs"), "fn main() {}\n");
        }
        ws.write("crates/inside/LICENSE", "inside\n");
        ws.write("legal/TERMS.txt", "terms\n");
        ws.write("LICENSE-MIT", "MIT\n");
        ws.write("NOTICE", "notice\n");
        let workspace = Workspace::load(&ws.path("Cargo.toml")).unwrap();
        let documents = |name: &str| {
            let package = workspace.packages.iter().find(|p| p.name == name).unwrap();
            names(&package.documents, &workspace.root)
        };
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect()
        };
        // Named by `license-file` (with `..` resolved), it stands for the package's licence,
        // so the workspace's LICENSE-MIT is not added; the workspace's NOTICE is.
        assert_eq!(
            documents("outside"),
            pairs(&[("NOTICE", "NOTICE"), ("TERMS.txt", "legal/TERMS.txt")])
        );
        // Named by `license-file` and found by its name, it is one file.
        assert_eq!(
            documents("inside"),
            pairs(&[("LICENSE", "crates/inside/LICENSE"), ("NOTICE", "NOTICE")])
        );

        ws.write(
            "crates/inside/Cargo.toml",
            &ws.read("crates/inside/Cargo.toml")
                .replace("\"LICENSE\"", "\"GONE\""),
        );
        let err = Workspace::load(&ws.path("Cargo.toml")).unwrap_err();
        assert!(matches!(err, Error::LicenseFile { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("`license-file = \"GONE\"` of package `inside`"),
            "{err}"
        );
    }

    #[test]
    fn paths_are_made_normal_without_the_disk() {
        assert_eq!(
            lexically_normal(Path::new("/ws/crates/a/../../LICENSE")),
            Path::new("/ws/LICENSE")
        );
        assert_eq!(
            lexically_normal(Path::new("/ws/./a/./b")),
            Path::new("/ws/a/b")
        );
        assert_eq!(lexically_normal(Path::new("../x")), Path::new("../x"));
    }

    #[test]
    fn init_keeps_the_manifest_and_adds_both_tables() {
        let text = "# my app\n[package]\nname = \"app\" # the name\nversion = \"0.1.0\"\n\n[dependencies]\n";
        let outcome = init_manifest(text, Path::new("Cargo.toml")).unwrap();
        assert!(outcome.added_config && outcome.added_profile);
        assert!(outcome.text.starts_with(text), "{}", outcome.text);
        assert!(
            outcome
                .text
                .contains("[dependencies]\n\n[workspace.metadata.keel]\n"),
            "{}",
            outcome.text
        );
        assert!(
            outcome.text.contains(&format!(
                "{}\n\n[profile.dist]\n",
                INIT_CONFIG.trim_end().lines().last().unwrap()
            )),
            "{}",
            outcome.text
        );
        assert!(
            outcome
                .text
                .contains("[workspace.metadata.keel]\n# keel release settings")
        );
        assert!(!outcome.text.contains("[workspace]\n"), "{}", outcome.text);
        assert!(outcome.text.contains("[profile.dist]\n# The profile"));
        let doc: toml_edit::DocumentMut = outcome.text.parse().unwrap();
        assert_eq!(doc["profile"]["dist"]["lto"].as_str(), Some("thin"));
    }

    #[test]
    fn init_twice_changes_nothing() {
        let text = "[package]\nname = \"app\"\nversion = \"0.1.0\"\n";
        let once = init_manifest(text, Path::new("Cargo.toml")).unwrap();
        let twice = init_manifest(&once.text, Path::new("Cargo.toml")).unwrap();
        assert_eq!(once.text, twice.text);
        assert!(!twice.added_config && !twice.added_profile);
    }

    #[test]
    fn init_keeps_an_existing_profile() {
        let text = "[workspace]\nmembers = [\"a\"]\n\n[profile.dist]\ninherits = \"release\"\nlto = false\n";
        let outcome = init_manifest(text, Path::new("Cargo.toml")).unwrap();
        assert!(outcome.added_config && !outcome.added_profile);
        assert!(outcome.text.contains("lto = false"));
        assert!(!outcome.text.contains("lto = \"thin\""));
    }

    #[test]
    fn init_refuses_a_workspace_key_that_is_not_a_table() {
        let err = init_manifest("workspace = 3\n", Path::new("Cargo.toml")).unwrap_err();
        assert!(matches!(err, Error::NotATable { .. }), "{err}");
    }
}
