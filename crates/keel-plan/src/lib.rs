//! The release plan: every app, target, build and artifact, decided before anything runs.
//!
//! [`plan`] is a pure function of a loaded [`Workspace`] and the [`PlanOptions`] from the command
//! line: it chooses the apps (configuration, then the tag), checks that the tag matches the
//! versions in `Cargo.toml`, and names every file the release will contain, down to each entry
//! of each archive of binaries (a source archive holds every file of the commit it names).
//! `keel plan` prints this same value, and `keel release` executes it, so what a user previews
//! is what they get.
//!
//! ```no_run
//! # fn demo(workspace: &keel_workspace::Workspace) -> Result<(), keel_plan::Error> {
//! let options = keel_plan::PlanOptions {
//!     host: keel_schema::TargetTriple::host(),
//!     targets: vec![],
//!     tag: None,
//!     sign: false,
//!     builder: None,
//!     commit: None,
//! };
//! let plan = keel_plan::plan(workspace, &options)?;
//! for artifact in &plan.artifacts {
//!     println!("{}", artifact.file_name);
//! }
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

pub use keel_schema::DIST_PROFILE;
use keel_schema::{
    ArchiveFormat, ArtifactKind, CHECKSUMS_FILE_NAME, Distribution, PAGE_FILE_NAME,
    PROVENANCE_FILE_NAME, TargetTriple,
};
pub use keel_workspace::BuilderName;
use keel_workspace::{Package, Workspace};
use serde::Serialize;

mod text;

/// What the command line adds to the workspace's configuration.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// The host triple: the default target.
    pub host: TargetTriple,
    /// Targets given on the command line; they replace the configured ones.
    pub targets: Vec<String>,
    /// The tag being released, if any: it must match the apps' versions.
    pub tag: Option<String>,
    /// Whether a signing key is configured: the checksum list and the manifest get minisign
    /// signatures, and the provenance a DSSE signature.
    pub sign: bool,
    /// The builder of every target, from the command line; default: the `builders` setting,
    /// else cargo.
    pub builder: Option<BuilderName>,
    /// The commit the release is made from, when the workspace is in a git repository: each
    /// app then gets a source archive of it.
    pub commit: Option<String>,
}

/// The whole release, decided up front.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Plan {
    /// The tag being released.
    pub tag: Option<String>,
    /// The version shared by every app, when they share one.
    pub version: Option<String>,
    /// Whether any app's version has a pre-release part.
    pub prerelease: bool,
    /// The Cargo profile built with.
    pub profile: String,
    /// Whether the release is signed.
    pub signed: bool,
    /// The targets built, sorted.
    pub targets: Vec<TargetTriple>,
    /// The apps shipped, sorted by name.
    pub apps: Vec<AppPlan>,
    /// One cargo build per target.
    pub builds: Vec<BuildPlan>,
    /// Every file of the release, in the order they are written.
    pub artifacts: Vec<ArtifactPlan>,
    /// Where the release is downloaded and updated from.
    pub distribution: Distribution,
}

/// An app: a package whose binaries ship together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct AppPlan {
    /// The app's name (its package's name).
    pub name: String,
    /// Its version.
    pub version: String,
    /// The binaries shipped, sorted.
    pub binaries: Vec<String>,
    /// `package.description`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `package.license`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// `package.repository`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// `package.homepage`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    /// The update hooks from `[package.metadata.keel.update]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update: Option<keel_schema::receipt::UpdateHooks>,
    /// How its container image is made, when settings say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<keel_schema::image::ImageSettings>,
    /// How its update is rehearsed, when settings say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rehearse: Option<keel_schema::rehearsal::RehearseSettings>,
}

/// One build: the packages and binaries compiled for one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct BuildPlan {
    /// The target triple.
    pub target: TargetTriple,
    /// The builder.
    pub builder: BuilderName,
    /// The target as the builder is given it: the triple, with the glibc floor appended for
    /// zigbuild (`x86_64-unknown-linux-gnu.2.17`).
    pub builder_target: String,
    /// The packages built (`-p`), sorted.
    pub packages: Vec<String>,
    /// The binaries built (`--bin`), sorted.
    pub binaries: Vec<String>,
    /// The files the build produces.
    pub outputs: Vec<BuildOutput>,
}

/// A binary a build produces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct BuildOutput {
    /// The binary's name.
    pub binary: String,
    /// Its file name (`app` or `app.exe`).
    pub file_name: String,
    /// Where cargo writes it, relative to the workspace root when inside it.
    pub path: String,
    /// The same, as an absolute path.
    #[serde(skip)]
    pub absolute_path: PathBuf,
}

/// A file of the release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ArtifactPlan {
    /// Its file name in the output directory.
    pub file_name: String,
    /// What it is.
    pub kind: ArtifactKind,
    /// The app it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// The target it is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetTriple>,
    /// For archives: the format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<ArchiveFormat>,
    /// For archives of binaries: every file inside, sorted by path; parent directories are
    /// implied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contents: Vec<ArchiveContent>,
    /// For source archives: the commit whose files they hold (every file of its tree, as
    /// committed), read from git when the release is made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// For checksum files: the artifact they cover; for the checksum list, every one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub covers: Vec<String>,
}

/// One file inside an archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ArchiveContent {
    /// The path inside the archive.
    pub path: String,
    /// Where it comes from, relative to the workspace root when inside it.
    pub source: String,
    /// Whether it is stored with mode 0755.
    pub executable: bool,
    /// Why it is in the archive.
    pub role: ContentRole,
    /// The same source, as an absolute path.
    #[serde(skip)]
    pub absolute_source: PathBuf,
}

/// Why a file is in an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ContentRole {
    /// A binary built by the release.
    Binary,
    /// A README, licence (LICENSE, LICENCE, COPYING, UNLICENSE, the `license-file`), NOTICE,
    /// AUTHORS, COPYRIGHT or CHANGELOG file.
    Document,
    /// A file named by an `include` setting.
    Include,
}

/// Why no plan could be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No member of the workspace has a binary target to ship.
    #[error("the workspace has no binary to ship")]
    NoBinaries,
    /// `apps` names a package that is not a member with binaries.
    #[error(
        "`apps` in [workspace.metadata.keel] names `{name}`, which is not a workspace member with a binary (members with binaries: {available})"
    )]
    UnknownApp {
        /// The name given.
        name: String,
        /// The members with binaries, comma-separated.
        available: String,
    },
    /// `binaries` names a binary the package does not have.
    #[error(
        "`binaries` in [package.metadata.keel] of `{package}` names `{name}`, which is not one of its binaries ({available})"
    )]
    UnknownBinary {
        /// The package.
        package: String,
        /// The name given.
        name: String,
        /// Its binaries, comma-separated.
        available: String,
    },
    /// The tag is not `v<version>` or `<package>-v<version>`.
    #[error("tag `{tag}` is not of the form `v1.2.3` or `<package>-v1.2.3`")]
    TagFormat {
        /// The tag.
        tag: String,
    },
    /// The tag's version is not the version in `Cargo.toml`.
    #[error("tag `{tag}` does not match the version in Cargo.toml ({versions})")]
    TagMismatch {
        /// The tag.
        tag: String,
        /// The apps and their versions, as `name version`, comma-separated.
        versions: String,
    },
    /// Two files would be stored at one path of an archive.
    #[error("two files would be stored as `{path}` in {archive}: {first} and {second}")]
    ArchiveClash {
        /// The archive.
        archive: String,
        /// The path inside it.
        path: String,
        /// One source.
        first: String,
        /// The other.
        second: String,
    },
    /// A target triple is malformed.
    #[error("`{target}` is not a target triple")]
    BadTarget {
        /// The text given.
        target: String,
    },
    /// `glibc-floor` is not a glibc version.
    #[error(
        "`glibc-floor` in [workspace.metadata.keel] is `{given}`, not a glibc version such as `2.17`"
    )]
    BadGlibcFloor {
        /// The text given.
        given: String,
    },
}

impl Error {
    /// What to do about the error, when that needs no command-line flag (the `keel` binary
    /// adds the hints that name its flags).
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Error::NoBinaries => {
                "keel ships binaries: add src/main.rs or a [[bin]] target to a member, or check `apps` and `dist = false` in the keel settings"
            }
            Error::TagMismatch { .. } => {
                "tag the commit with the version in Cargo.toml, or bump that version before tagging"
            }
            Error::TagFormat { .. } => {
                "tags are `v` and the version (`v1.2.3`), or the package name, `-v` and the version (`my-app-v1.2.3`)"
            }
            Error::UnknownApp { .. } | Error::UnknownBinary { .. } => {
                "fix the name in Cargo.toml; `keel plan` shows what would be shipped"
            }
            Error::BadGlibcFloor { .. } => {
                "write `glibc-floor` as a glibc version such as \"2.17\" or \"2.28\""
            }
            _ => return None,
        })
    }
}

/// Makes the plan. Pure: reads nothing but its arguments.
pub fn plan(workspace: &Workspace, options: &PlanOptions) -> Result<Plan, Error> {
    let apps = select_apps(workspace, options.tag.as_deref())?;

    let given = if !options.targets.is_empty() {
        &options.targets
    } else {
        &workspace.config.targets
    };
    let mut targets = BTreeSet::new();
    for target in given.iter().filter(|t| !t.is_empty()) {
        targets.insert(TargetTriple::parse(target).map_err(|_| Error::BadTarget {
            target: target.clone(),
        })?);
    }
    if targets.is_empty() {
        targets.insert(options.host.clone());
    }

    let versions: BTreeSet<&semver::Version> = apps.iter().map(|(p, _)| &p.version).collect();
    let version = match versions.iter().collect::<Vec<_>>().as_slice() {
        [only] => Some(only.to_string()),
        _ => None,
    };
    let prerelease = versions.iter().any(|v| !v.pre.is_empty());

    if let Some(floor) = &workspace.config.glibc_floor {
        let parts: Vec<&str> = floor.split('.').collect();
        if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.parse::<u32>().is_err()) {
            return Err(Error::BadGlibcFloor {
                given: floor.clone(),
            });
        }
    }
    let mut builds = Vec::new();
    for target in &targets {
        let builder = options
            .builder
            .or_else(|| workspace.config.builders.get(target.as_str()).copied())
            .unwrap_or(BuilderName::Cargo);
        let builder_target = match (&workspace.config.glibc_floor, builder) {
            (Some(floor), BuilderName::Zigbuild)
                if target.os() == keel_schema::Os::Linux
                    && target.env().is_some_and(|e| e.starts_with("gnu")) =>
            {
                format!("{target}.{floor}")
            }
            _ => target.to_string(),
        };
        let mut packages = Vec::new();
        let mut binaries = Vec::new();
        let mut outputs = Vec::new();
        for (package, bins) in &apps {
            packages.push(package.name.clone());
            for bin in bins {
                binaries.push(bin.clone());
                let file_name = target.executable(bin);
                let absolute_path = workspace
                    .target_dir
                    .join(target.as_str())
                    .join(DIST_PROFILE)
                    .join(&file_name);
                outputs.push(BuildOutput {
                    binary: bin.clone(),
                    path: workspace.display_path(&absolute_path),
                    file_name,
                    absolute_path,
                });
            }
        }
        binaries.sort();
        outputs.sort_by(|a, b| a.binary.cmp(&b.binary));
        builds.push(BuildPlan {
            target: target.clone(),
            builder,
            builder_target,
            packages,
            binaries,
            outputs,
        });
    }

    let mut artifacts = Vec::new();
    for (package, bins) in &apps {
        for target in &targets {
            let format = if target.is_windows() {
                workspace.config.windows_archive
            } else {
                workspace.config.unix_archive
            };
            let top = format!("{}-{}-{}", package.name, package.version, target);
            let file_name = format!("{top}.{}", format.extension());
            let mut contents: BTreeMap<String, ArchiveContent> = BTreeMap::new();
            let mut add = |content: ArchiveContent| -> Result<(), Error> {
                match contents.get(&content.path) {
                    Some(existing) if existing.absolute_source != content.absolute_source => {
                        Err(Error::ArchiveClash {
                            archive: file_name.clone(),
                            path: content.path.clone(),
                            first: existing.source.clone(),
                            second: content.source,
                        })
                    }
                    Some(_) => Ok(()),
                    None => {
                        contents.insert(content.path.clone(), content);
                        Ok(())
                    }
                }
            };
            for bin in bins {
                let file = target.executable(bin);
                let absolute_source = workspace
                    .target_dir
                    .join(target.as_str())
                    .join(DIST_PROFILE)
                    .join(&file);
                add(ArchiveContent {
                    path: format!("{top}/{file}"),
                    source: workspace.display_path(&absolute_source),
                    executable: true,
                    role: ContentRole::Binary,
                    absolute_source,
                })?;
            }
            let documents = package.documents.iter().map(|f| (f, ContentRole::Document));
            let includes = (workspace.includes.iter().chain(&package.includes))
                .map(|f| (f, ContentRole::Include));
            for (file, role) in documents.chain(includes) {
                add(ArchiveContent {
                    path: format!("{top}/{}", file.archive_path),
                    source: workspace.display_path(&file.source),
                    executable: file.executable,
                    role,
                    absolute_source: file.source.clone(),
                })?;
            }
            artifacts.push(ArtifactPlan {
                kind: ArtifactKind::Archive,
                app: Some(package.name.clone()),
                target: Some(target.clone()),
                format: Some(format),
                contents: contents.into_values().collect(),
                commit: None,
                covers: Vec::new(),
                file_name: file_name.clone(),
            });
            let about = |file_name: String, kind, covers: Vec<String>| ArtifactPlan {
                file_name,
                kind,
                app: Some(package.name.clone()),
                target: Some(target.clone()),
                format: None,
                contents: Vec::new(),
                commit: None,
                covers,
            };
            artifacts.push(about(
                format!("{file_name}.sha256"),
                ArtifactKind::Checksum,
                vec![file_name],
            ));
            artifacts.push(about(
                format!("{top}.cdx.json"),
                ArtifactKind::Sbom,
                Vec::new(),
            ));
        }
        if let Some(commit) = &options.commit {
            // One per app, named and laid out as its other archives are, with no target.
            let file_name = source_archive_name(&package.name, &package.version.to_string());
            artifacts.push(ArtifactPlan {
                file_name: file_name.clone(),
                kind: ArtifactKind::Source,
                app: Some(package.name.clone()),
                target: None,
                format: Some(ArchiveFormat::TarGz),
                contents: Vec::new(),
                commit: Some(commit.clone()),
                covers: Vec::new(),
            });
            artifacts.push(ArtifactPlan {
                file_name: format!("{file_name}.sha256"),
                kind: ArtifactKind::Checksum,
                app: Some(package.name.clone()),
                target: None,
                format: None,
                contents: Vec::new(),
                commit: None,
                covers: vec![file_name],
            });
        }
    }
    if workspace.config.installers {
        for (package, _) in &apps {
            let archives = |windows: bool| -> Vec<String> {
                artifacts
                    .iter()
                    .filter(|a| {
                        a.kind == ArtifactKind::Archive
                            && a.app.as_deref() == Some(package.name.as_str())
                            && a.target.as_ref().is_some_and(|t| t.is_windows() == windows)
                    })
                    .map(|a| a.file_name.clone())
                    .collect()
            };
            let installers = [
                (
                    keel_schema::shell_installer_name(&package.name),
                    archives(false),
                ),
                (
                    keel_schema::powershell_installer_name(&package.name),
                    archives(true),
                ),
            ];
            for (file_name, covers) in installers {
                if !covers.is_empty() {
                    artifacts.push(ArtifactPlan {
                        file_name,
                        kind: ArtifactKind::Installer,
                        app: Some(package.name.clone()),
                        target: None,
                        format: None,
                        contents: Vec::new(),
                        commit: None,
                        covers,
                    });
                }
            }
        }
    }
    let whole = |file_name: &str, kind, covers: Vec<String>| ArtifactPlan {
        file_name: file_name.to_owned(),
        kind,
        app: None,
        target: None,
        format: None,
        contents: Vec::new(),
        commit: None,
        covers,
    };
    if workspace.config.download_page {
        let mut listed: Vec<String> = artifacts.iter().map(|a| a.file_name.clone()).collect();
        listed.sort();
        artifacts.push(whole(PAGE_FILE_NAME, ArtifactKind::Page, listed));
    }
    let mut covered: Vec<String> = artifacts.iter().map(|a| a.file_name.clone()).collect();
    covered.sort();
    artifacts.push(whole(CHECKSUMS_FILE_NAME, ArtifactKind::Checksums, covered));
    let mut subjects: Vec<String> = artifacts.iter().map(|a| a.file_name.clone()).collect();
    subjects.sort();
    artifacts.push(whole(
        PROVENANCE_FILE_NAME,
        ArtifactKind::Provenance,
        subjects,
    ));
    if options.sign {
        artifacts.push(whole(
            &format!("{CHECKSUMS_FILE_NAME}.minisig"),
            ArtifactKind::Signature,
            vec![CHECKSUMS_FILE_NAME.to_owned()],
        ));
    }

    let distribution = distribution(workspace, options.tag.as_deref(), version.as_deref(), &apps);
    Ok(Plan {
        distribution,
        tag: options.tag.clone(),
        version,
        prerelease,
        profile: DIST_PROFILE.to_owned(),
        signed: options.sign,
        targets: targets.into_iter().collect(),
        apps: apps
            .iter()
            .map(|(package, bins)| AppPlan {
                name: package.name.clone(),
                version: package.version.to_string(),
                binaries: bins.clone(),
                description: package.description.clone(),
                license: package.license.clone(),
                repository: package.repository.clone(),
                homepage: package.homepage.clone(),
                update: package.config.update.clone(),
                rehearse: package.config.rehearse.clone(),
                image: package.config.image.clone(),
            })
            .collect(),
        builds,
        artifacts,
    })
}

/// The file name of an app's source archive: `<app>-<version>-source.tar.gz`, holding the
/// folder `<app>-<version>/`.
pub fn source_archive_name(app: &str, version: &str) -> String {
    format!(
        "{app}-{version}-source.{}",
        ArchiveFormat::TarGz.extension()
    )
}

/// Where the release is downloaded from: `download-url` with `{tag}` and `{version}` filled
/// in, else GitHub Releases of the first app's repository when it is on GitHub; and the store.
fn distribution(
    workspace: &Workspace,
    tag: Option<&str>,
    version: Option<&str>,
    apps: &[(&Package, Vec<String>)],
) -> Distribution {
    let release_tag = tag
        .map(str::to_owned)
        .or_else(|| version.map(|v| format!("v{v}")));
    let fill = |template: &str| -> Option<String> {
        let mut url = template.to_owned();
        if url.contains("{tag}") {
            url = url.replace("{tag}", release_tag.as_deref()?);
        }
        if url.contains("{version}") {
            url = url.replace("{version}", version?);
        }
        Some(url.trim_end_matches('/').to_owned())
    };
    let from_repository = || {
        let repository = apps
            .iter()
            .find_map(|(package, _)| package.repository.as_deref())?;
        let repository = repository.trim_end_matches('/').trim_end_matches(".git");
        let rest = repository.strip_prefix("https://github.com/")?;
        (rest.split('/').filter(|p| !p.is_empty()).count() == 2)
            .then(|| format!("{repository}/releases/download/{{tag}}"))
    };
    let download_url = match &workspace.config.download_url {
        Some(template) => fill(template),
        None => from_repository().and_then(|template| fill(&template)),
    };
    Distribution {
        download_url,
        store_url: workspace.config.store.as_ref().map(|s| s.url.clone()),
        store_root: workspace.store_root.clone(),
    }
}

/// The apps to ship with their binaries: configuration first, then the tag narrows.
fn select_apps<'w>(
    workspace: &'w Workspace,
    tag: Option<&str>,
) -> Result<Vec<(&'w Package, Vec<String>)>, Error> {
    let with_binaries: Vec<&Package> = workspace
        .packages
        .iter()
        .filter(|p| !p.binaries.is_empty())
        .collect();
    if with_binaries.is_empty() {
        return Err(Error::NoBinaries);
    }
    let mut selected: Vec<&Package> = match &workspace.config.apps {
        Some(names) => {
            let mut chosen = Vec::new();
            for name in names {
                let package = with_binaries
                    .iter()
                    .find(|p| &p.name == name)
                    .ok_or_else(|| Error::UnknownApp {
                        name: name.clone(),
                        available: with_binaries
                            .iter()
                            .map(|p| p.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })?;
                chosen.push(*package);
            }
            chosen.sort_by(|a, b| a.name.cmp(&b.name));
            chosen.dedup_by(|a, b| a.name == b.name);
            chosen
        }
        None => with_binaries
            .iter()
            .copied()
            .filter(|p| p.config.dist != Some(false))
            .collect(),
    };
    if selected.is_empty() {
        return Err(Error::NoBinaries);
    }

    if let Some(tag) = tag {
        let (package, version) = parse_tag(tag, &selected)?;
        let mismatch = |apps: &[&Package]| Error::TagMismatch {
            tag: tag.to_owned(),
            versions: apps
                .iter()
                .map(|p| format!("{} {}", p.name, p.version))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let all = selected.clone();
        selected.retain(|p| p.version == version && package.is_none_or(|name| p.name == name));
        if selected.is_empty() {
            let named: Vec<&Package> = match package {
                Some(name) => all.into_iter().filter(|p| p.name == name).collect(),
                None => all,
            };
            return Err(mismatch(&named));
        }
    }

    selected
        .into_iter()
        .map(|package| {
            let binaries = match &package.config.binaries {
                None => package.binaries.clone(),
                Some(names) => {
                    let mut chosen = Vec::new();
                    for name in names {
                        if !package.binaries.contains(name) {
                            return Err(Error::UnknownBinary {
                                package: package.name.clone(),
                                name: name.clone(),
                                available: package.binaries.join(", "),
                            });
                        }
                        chosen.push(name.clone());
                    }
                    chosen.sort();
                    chosen.dedup();
                    chosen
                }
            };
            Ok((package, binaries))
        })
        .collect()
}

/// Splits `v1.2.3` into (None, 1.2.3) and `<package>-v1.2.3` into (Some(package), 1.2.3),
/// by keel's one tag grammar ([`keel_schema::tag`]).
fn parse_tag<'t>(
    tag: &'t str,
    apps: &[&Package],
) -> Result<(Option<&'t str>, semver::Version), Error> {
    keel_schema::tag::parse(tag, |name| apps.iter().any(|p| p.name == name)).ok_or_else(|| {
        Error::TagFormat {
            tag: tag.to_owned(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_workspace::{PackageConfig, WorkspaceConfig};

    fn package(name: &str, version: &str, bins: &[&str]) -> Package {
        Package {
            name: name.into(),
            version: version.parse().unwrap(),
            dir: PathBuf::from("/ws").join(name),
            manifest_path: PathBuf::from("/ws").join(name).join("Cargo.toml"),
            publish: true,
            has_lib: false,
            path_dependencies: Vec::new(),
            binaries: bins.iter().map(|b| b.to_string()).collect(),
            description: None,
            license: None,
            repository: None,
            homepage: None,
            config: PackageConfig::default(),
            documents: vec![],
            includes: vec![],
        }
    }

    fn workspace(packages: Vec<Package>) -> Workspace {
        Workspace {
            root: "/ws".into(),
            manifest_path: "/ws/Cargo.toml".into(),
            target_dir: "/ws/target".into(),
            config: WorkspaceConfig::default(),
            packages,
            includes: vec![],
            has_dist_profile: true,
            has_lockfile: true,
            store_root: None,
            config_target_rustflags: false,
        }
    }

    fn options(tag: Option<&str>) -> PlanOptions {
        PlanOptions {
            host: "x86_64-unknown-linux-gnu".parse().unwrap(),
            targets: vec![],
            tag: tag.map(str::to_owned),
            sign: false,
            builder: None,
            commit: None,
        }
    }

    #[test]
    fn zero_config_ships_every_binary_for_the_host() {
        let ws = workspace(vec![
            package("a", "1.0.0", &["a", "a-admin"]),
            package("lib", "1.0.0", &[]),
        ]);
        let plan = plan(&ws, &options(None)).unwrap();
        assert_eq!(plan.targets, ["x86_64-unknown-linux-gnu"]);
        assert_eq!(plan.apps.len(), 1);
        assert_eq!(plan.apps[0].binaries, ["a", "a-admin"]);
        let names: Vec<_> = plan
            .artifacts
            .iter()
            .map(|a| a.file_name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "a-1.0.0-x86_64-unknown-linux-gnu.tar.gz",
                "a-1.0.0-x86_64-unknown-linux-gnu.tar.gz.sha256",
                "a-1.0.0-x86_64-unknown-linux-gnu.cdx.json",
                "a-installer.sh",
                "index.html",
                "SHA256SUMS",
                "keel-provenance.intoto.jsonl",
            ]
        );
        assert_eq!(
            plan.builds[0].outputs[0].path,
            "target/x86_64-unknown-linux-gnu/dist/a"
        );
    }

    #[test]
    fn a_commit_gives_each_app_a_source_archive_without_a_target() {
        let ws = workspace(vec![
            package("a", "1.0.0", &["a"]),
            package("b", "2.0.0", &["b"]),
        ]);
        let mut opts = options(None);
        opts.commit = Some("0123456789abcdef0123456789abcdef01234567".into());
        let plan = plan(&ws, &opts).unwrap();
        let sources: Vec<&ArtifactPlan> = plan
            .artifacts
            .iter()
            .filter(|a| a.kind == ArtifactKind::Source)
            .collect();
        let names: Vec<&str> = sources.iter().map(|a| a.file_name.as_str()).collect();
        assert_eq!(names, ["a-1.0.0-source.tar.gz", "b-2.0.0-source.tar.gz"]);
        for source in &sources {
            assert_eq!(source.target, None);
            assert_eq!(source.format, Some(ArchiveFormat::TarGz));
            assert_eq!(source.commit, opts.commit);
            let sidecar = format!("{}.sha256", source.file_name);
            let checksum = plan.artifacts.iter().find(|a| a.file_name == sidecar);
            assert_eq!(
                checksum.unwrap().covers,
                std::slice::from_ref(&source.file_name)
            );
        }
        // Installers cover the archives of binaries only.
        let installer = plan
            .artifacts
            .iter()
            .find(|a| a.file_name == "a-installer.sh")
            .unwrap();
        assert_eq!(
            installer.covers,
            ["a-1.0.0-x86_64-unknown-linux-gnu.tar.gz"]
        );
        let sums = plan
            .artifacts
            .iter()
            .find(|a| a.kind == ArtifactKind::Checksums)
            .unwrap();
        assert!(sums.covers.contains(&"a-1.0.0-source.tar.gz".to_owned()));
        // Outside git there is no commit, and no source archive.
        let plan = super::plan(&ws, &options(None)).unwrap();
        assert!(
            plan.artifacts
                .iter()
                .all(|a| a.kind != ArtifactKind::Source)
        );
    }

    #[test]
    fn installers_follow_the_platforms_and_the_settings() {
        let ws = workspace(vec![package("a", "1.0.0", &["a"])]);
        let mut opts = options(None);
        opts.targets = vec![
            "x86_64-pc-windows-msvc".into(),
            "aarch64-apple-darwin".into(),
        ];
        let plan = plan(&ws, &opts).unwrap();
        let installer = |name: &str| plan.artifacts.iter().find(|a| a.file_name == name).cloned();
        assert_eq!(
            installer("a-installer.sh").unwrap().covers,
            ["a-1.0.0-aarch64-apple-darwin.tar.gz"]
        );
        assert_eq!(
            installer("a-installer.ps1").unwrap().covers,
            ["a-1.0.0-x86_64-pc-windows-msvc.zip"]
        );
        let mut ws = workspace(vec![package("a", "1.0.0", &["a"])]);
        ws.config.installers = false;
        ws.config.download_page = false;
        let plan = super::plan(&ws, &options(None)).unwrap();
        assert!(
            plan.artifacts
                .iter()
                .all(|a| !matches!(a.kind, ArtifactKind::Installer | ArtifactKind::Page))
        );
    }

    #[test]
    fn the_download_url_comes_from_the_settings_or_a_github_repository() {
        let mut ws = workspace(vec![package("a", "1.2.0", &["a"])]);
        ws.packages[0].repository = Some("https://github.com/o/r.git".into());
        let plan = plan(&ws, &options(Some("v1.2.0"))).unwrap();
        assert_eq!(
            plan.distribution.download_url.as_deref(),
            Some("https://github.com/o/r/releases/download/v1.2.0")
        );
        // Without a tag, the tag the version would have.
        let plan = super::plan(&ws, &options(None)).unwrap();
        assert_eq!(
            plan.distribution.download_url.as_deref(),
            Some("https://github.com/o/r/releases/download/v1.2.0")
        );
        ws.config.download_url = Some("https://dl.example.com/{version}/".into());
        let plan = super::plan(&ws, &options(None)).unwrap();
        assert_eq!(
            plan.distribution.download_url.as_deref(),
            Some("https://dl.example.com/1.2.0")
        );
        ws.config.download_url = None;
        ws.packages[0].repository = Some("https://gitlab.com/o/r".into());
        let plan = super::plan(&ws, &options(None)).unwrap();
        assert_eq!(plan.distribution.download_url, None);
    }

    #[test]
    fn windows_targets_get_zip_and_exe() {
        let ws = workspace(vec![package("a", "1.0.0", &["a"])]);
        let mut opts = options(None);
        opts.targets = vec!["x86_64-pc-windows-msvc".into()];
        let plan = plan(&ws, &opts).unwrap();
        let archive = &plan.artifacts[0];
        assert_eq!(archive.file_name, "a-1.0.0-x86_64-pc-windows-msvc.zip");
        assert_eq!(
            archive.contents[0].path,
            "a-1.0.0-x86_64-pc-windows-msvc/a.exe"
        );
    }

    #[test]
    fn tags_must_match_the_version() {
        let ws = workspace(vec![package("a", "1.2.3", &["a"])]);
        assert!(plan(&ws, &options(Some("v1.2.3"))).is_ok());
        assert!(plan(&ws, &options(Some("a-v1.2.3"))).is_ok());
        let err = plan(&ws, &options(Some("v1.2.4"))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tag `v1.2.4` does not match the version in Cargo.toml (a 1.2.3)"
        );
        assert!(matches!(
            plan(&ws, &options(Some("b-v1.2.3"))),
            Err(Error::TagMismatch { .. })
        ));
        assert!(matches!(
            plan(&ws, &options(Some("1.2.3"))),
            Err(Error::TagFormat { .. })
        ));
        assert!(matches!(
            plan(&ws, &options(Some("v1.2"))),
            Err(Error::TagFormat { .. })
        ));
    }

    #[test]
    fn a_package_tag_selects_that_package() {
        let ws = workspace(vec![
            package("my-validator", "2.0.0", &["mv"]),
            package("b", "1.0.0", &["b"]),
        ]);
        let plan = plan(&ws, &options(Some("my-validator-v2.0.0"))).unwrap();
        assert_eq!(plan.apps.len(), 1);
        assert_eq!(plan.apps[0].name, "my-validator");
        assert_eq!(plan.version.as_deref(), Some("2.0.0"));
    }

    #[test]
    fn prerelease_versions_set_the_flag() {
        let ws = workspace(vec![package("a", "1.0.0-rc.1", &["a"])]);
        let plan = plan(&ws, &options(Some("v1.0.0-rc.1"))).unwrap();
        assert!(plan.prerelease);
        let ws = workspace(vec![package("a", "1.0.0", &["a"])]);
        assert!(!super::plan(&ws, &options(None)).unwrap().prerelease);
    }

    #[test]
    fn no_binaries_and_unknown_names_are_errors() {
        let ws = workspace(vec![package("lib", "1.0.0", &[])]);
        assert!(matches!(plan(&ws, &options(None)), Err(Error::NoBinaries)));
        let mut ws = workspace(vec![package("a", "1.0.0", &["a"])]);
        ws.config.apps = Some(vec!["nope".into()]);
        assert!(matches!(
            plan(&ws, &options(None)),
            Err(Error::UnknownApp { .. })
        ));
        let mut ws = workspace(vec![package("a", "1.0.0", &["a"])]);
        ws.packages[0].config.binaries = Some(vec!["nope".into()]);
        assert!(matches!(
            plan(&ws, &options(None)),
            Err(Error::UnknownBinary { .. })
        ));
    }

    #[test]
    fn checksums_and_provenance_cover_every_artifact_before_them() {
        let ws = workspace(vec![
            package("a", "1.0.0", &["a"]),
            package("b", "1.0.0", &["b"]),
        ]);
        let mut opts = options(None);
        opts.sign = true;
        let plan = plan(&ws, &opts).unwrap();
        let kinds: Vec<ArtifactKind> = plan.artifacts.iter().map(|a| a.kind).collect();
        let n = kinds.len();
        assert_eq!(
            kinds[n - 3..],
            [
                ArtifactKind::Checksums,
                ArtifactKind::Provenance,
                ArtifactKind::Signature
            ]
        );
        assert_eq!(plan.artifacts[n - 3].covers.len(), n - 3);
        assert_eq!(plan.artifacts[n - 2].covers.len(), n - 2);
        assert_eq!(plan.artifacts[n - 1].covers, ["SHA256SUMS"]);
        assert_eq!(
            plan.artifacts
                .iter()
                .filter(|a| a.kind == ArtifactKind::Sbom)
                .count(),
            2
        );
    }
}
