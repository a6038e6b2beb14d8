//! The workspace being released, with its toolchain and git state.

use std::path::{Path, PathBuf};

use keel_build::Toolchain;
use keel_plan::{BuilderName, Plan, PlanOptions};
use keel_workspace::{GitInfo, Workspace};

use crate::{Error, ReleaseEnv};

/// The archive time used when neither `SOURCE_DATE_EPOCH` nor a git commit gives one:
/// 1980-01-01T00:00:00Z, the earliest time a zip archive can hold.
const FALLBACK_EPOCH: u64 = 315_532_800;

/// Everything read from disk before planning: the workspace and its keel settings, the
/// toolchain that builds it, and its git state.
#[derive(Debug, Clone)]
pub struct Project {
    /// The workspace.
    pub workspace: Workspace,
    /// The toolchain (`rustc -vV`), run in the workspace so `rust-toolchain.toml` applies.
    pub toolchain: Toolchain,
    /// The commit, its time and whether the tree is dirty; `None` outside git.
    pub git: Option<GitInfo>,
}

impl Project {
    /// Loads the workspace whose `Cargo.toml` is `manifest_path`, or the nearest one at or
    /// above `cwd`.
    pub fn load(manifest_path: Option<&Path>, cwd: &Path) -> Result<Project, Error> {
        let manifest = keel_workspace::find_manifest(manifest_path, cwd)?;
        let workspace = Workspace::load(&manifest)?;
        let toolchain = Toolchain::detect(&workspace.root)?;
        let git = keel_workspace::git_info(&workspace.root);
        Ok(Project {
            workspace,
            toolchain,
            git,
        })
    }

    /// The one release tag on the current commit.
    pub fn tag_at_head(&self) -> Result<String, Error> {
        let mut tags = keel_changelog::release_tags_at_head(&self.workspace.root)?;
        match tags.len() {
            1 => Ok(tags.remove(0)),
            0 => Err(Error::NoTagAtHead),
            _ => Err(Error::SeveralTagsAtHead { tags }),
        }
    }

    /// The release plan for `targets` (default: the configured targets, else the host), of
    /// the apps `tag` names (default: every app); `sign` when a key will sign it; `builder`
    /// for every target (default: the `builders` setting, else cargo). In a git repository,
    /// each app gets a source archive of the current commit.
    pub fn plan(
        &self,
        targets: &[String],
        tag: Option<String>,
        sign: bool,
        builder: Option<BuilderName>,
    ) -> Result<Plan, Error> {
        let options = PlanOptions {
            host: self.toolchain.host.clone(),
            targets: targets.to_vec(),
            tag,
            sign,
            builder,
            commit: self.git.as_ref().map(|git| git.commit.clone()),
        };
        Ok(keel_plan::plan(&self.workspace, &options)?)
    }

    /// `target/keel/dist` in the workspace's target folder.
    pub fn default_out_dir(&self) -> PathBuf {
        dist_dir(&self.workspace)
    }

    /// The time stamped on every archive entry: `SOURCE_DATE_EPOCH`, else the commit's time,
    /// else 1980-01-01.
    pub fn source_date_epoch(&self, env: &ReleaseEnv) -> Result<u64, Error> {
        Ok(env
            .source_date_epoch()?
            .unwrap_or_else(|| self.git.as_ref().map_or(FALLBACK_EPOCH, |g| g.commit_time)))
    }
}

fn dist_dir(workspace: &Workspace) -> PathBuf {
    workspace.target_dir.join("keel").join("dist")
}

/// What [`init`] did: `keel init`'s outcome.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Initialized {
    /// The workspace's root `Cargo.toml`, as shown (relative to the workspace).
    pub manifest: String,
    /// Whether `[workspace.metadata.keel]` was added.
    pub added_config: bool,
    /// Whether `[profile.dist]` was added.
    pub added_profile: bool,
}

/// `keel init`: adds keel's settings (every one, commented, at its default) and the dist
/// profile to the root `Cargo.toml` of the workspace at `manifest_path` (or the nearest one
/// at or above `cwd`), each only when absent, keeping the rest of the file as it was; the
/// file is replaced atomically, with its permissions.
pub fn init(manifest_path: Option<&Path>, cwd: &Path) -> Result<Initialized, Error> {
    let manifest = keel_workspace::find_manifest(manifest_path, cwd)?;
    let workspace = Workspace::load(&manifest)?;
    let path = &workspace.manifest_path;
    let text = fs_err::read_to_string(path).map_err(|source| Error::Read {
        path: path.clone(),
        source,
    })?;
    let outcome = keel_workspace::init_manifest(&text, path)?;
    if outcome.added_config || outcome.added_profile {
        let mode = keel_fs::mode_of(path)?;
        keel_fs::write_atomic(path, outcome.text.as_bytes(), mode)?;
    }
    Ok(Initialized {
        manifest: workspace.display_path(path),
        added_config: outcome.added_config,
        added_profile: outcome.added_profile,
    })
}

/// The release folder a command works on: `given` (relative to `cwd`), else `cwd` itself
/// when it holds a release, else the workspace's `target/keel/dist`; a folder without a
/// manifest is [`Error::NoManifest`], before anything else is asked for.
pub fn locate_release_dir(
    given: Option<&Path>,
    manifest_path: Option<&Path>,
    cwd: &Path,
) -> Result<PathBuf, Error> {
    let dir = match given {
        Some(dir) => cwd.join(dir),
        None if cwd.join(keel_schema::MANIFEST_FILE_NAME).is_file() => cwd.to_owned(),
        None => release_dir_of_workspace(manifest_path, cwd)?,
    };
    if !dir.join(keel_schema::MANIFEST_FILE_NAME).is_file() {
        return Err(Error::NoManifest { dir });
    }
    Ok(dir)
}

/// The default release folder of the workspace at `manifest_path` (or the nearest one at or
/// above `cwd`): its `target/keel/dist`. Reads the workspace only, runs no toolchain.
pub fn release_dir_of_workspace(
    manifest_path: Option<&Path>,
    cwd: &Path,
) -> Result<PathBuf, Error> {
    let manifest = keel_workspace::find_manifest(manifest_path, cwd)?;
    Ok(dist_dir(&Workspace::load(&manifest)?))
}
