//! A keel release as a library: load a workspace, plan, build, package, checksum, sign,
//! merge partial releases, and verify a release folder.
//!
//! The main types and functions, in the order a release flows through them:
//!
//! - [`Project::load`] reads the workspace, the toolchain and git; [`Project::plan`] makes the
//!   [`keel_plan::Plan`] (pure: nothing runs).
//! - [`release`] carries the plan out into a staging folder beside the output folder (build,
//!   archives, source archives, `.sha256`, SBOMs, `SHA256SUMS`, provenance, signatures,
//!   `keel-manifest.json`) and moves it into place only when everything succeeded.
//! - [`merge`] joins the partial releases CI runners wrote into one, byte-identical to a
//!   single release of every target.
//! - [`notes()`] writes a release's notes: the changes, the install commands, every file.
//! - [`publish::publish`] sends a release to GitHub Releases or a store, through its gates
//!   (rehearsal, verification, images) in one order.
//! - [`verify()`] checks a release folder: every file against the manifest, every checksum
//!   file, signature, SBOM and the provenance, returning a [`Verification`].
//!
//! What the environment contributes (`SOURCE_DATE_EPOCH`, the GitHub Actions tag and run) is
//! read once into a [`ReleaseEnv`] and passed in, so every function here is testable without
//! touching the process environment.
//!
//! ```no_run
//! # fn demo() -> Result<(), keel_release::Error> {
//! use keel_release::{BuilderKind, Project, ReleaseEnv, ReleaseOptions, Silent};
//! let cwd = std::env::current_dir().unwrap();
//! let project = Project::load(None, &cwd)?;
//! let env = ReleaseEnv::from_process();
//! let plan = project.plan(&[], env.tag(), false, Some(BuilderKind::Cargo))?;
//! let options = ReleaseOptions { key: None, env: &env };
//! let released = keel_release::release(&project, &plan, &project.default_out_dir(), &options, &Silent)?;
//! let report = keel_release::verify(&released.dir, None)?;
//! assert!(report.passed());
//! # Ok(()) }
//! ```
//!
//! This crate never prints: progress goes to a [`Progress`], results are returned.
#![deny(missing_docs)]

mod builder;
mod env;
mod files;
mod folder;
mod images;
mod merge;
mod notes;
mod package;
pub mod pipeline;
mod project;
pub mod publish;
mod rehearsal;
pub mod release_pr;
mod source;
mod staging;
mod text;
mod verify;

use std::path::PathBuf;

pub use builder::{BuilderKind, Built, build};
pub use env::ReleaseEnv;
pub use files::trusted_comment;
pub use folder::{ReleaseFolder, read_manifest, read_partial};
pub use images::{
    ImageDestination, ImageFile, ImageFormat, ImageOptions, ImagesBuilt, PushOptions, PushedImage,
    PushedImages, build_images, docker_archive_name, image_destinations, image_files,
    oci_archive_name, publish_images, push_images,
};
pub use merge::merge;
pub use notes::{ChangesSource, Notes, notes, notes_of, rehearsal_section};
pub use package::release;
pub use project::{Initialized, Project, init, locate_release_dir, release_dir_of_workspace};
pub use rehearsal::{
    apps_with_databases, binding_problems, check_rehearsal_signature, manifest_digest,
    read_rehearsal, rehearsal_gate, rehearsal_gate_of, rehearsal_signature_name, write_rehearsal,
};
pub use verify::{Check, Status, Verification, verify, verify_folder};

use keel_schema::{Manifest, TargetTriple};
use keel_sign::SigningKey;

/// How a release is made.
pub struct ReleaseOptions<'a> {
    /// The key that signs `SHA256SUMS`, the manifest and the provenance; unsigned without.
    pub key: Option<&'a SigningKey>,
    /// What the environment says (`SOURCE_DATE_EPOCH`, GitHub Actions).
    pub env: &'a ReleaseEnv,
}

/// A release written into its folder: `keel release`'s and `keel merge`'s outcome (in JSON,
/// `out_dir` and `manifest`).
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Released {
    /// The release's manifest, as written.
    pub manifest: Manifest,
    /// The output folder.
    #[serde(rename = "out_dir")]
    pub dir: PathBuf,
}

/// One binary a build made.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct BuiltBinary {
    /// The target triple.
    pub target: String,
    /// The binary's name.
    pub binary: String,
    /// Where it is.
    pub path: String,
}

/// `keel build`'s outcome: every binary built, in the plan's order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct BuiltBinaries {
    /// The binaries.
    pub binaries: Vec<BuiltBinary>,
}

impl BuiltBinaries {
    /// The binaries `plan` builds.
    pub fn of(plan: &keel_plan::Plan) -> BuiltBinaries {
        BuiltBinaries {
            binaries: plan
                .builds
                .iter()
                .flat_map(|build| {
                    build.outputs.iter().map(move |output| BuiltBinary {
                        target: build.target.to_string(),
                        binary: output.binary.clone(),
                        path: output.path.clone(),
                    })
                })
                .collect(),
        }
    }
}

/// A release reports its progress (builds, builder output, archives written, SBOM
/// resolution, images) as [`Event`]s to keel's one progress trait.
pub use keel_schema::progress::{Event, Progress, Silent};

/// Why a release could not be made, merged or verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The workspace could not be read.
    #[error(transparent)]
    Workspace(#[from] keel_workspace::Error),
    /// An image could not be made, read or pushed.
    #[error(transparent)]
    Oci(#[from] keel_oci::Error),
    /// An app's image cannot be made as its settings say.
    #[error("cannot make the image of `{app}`: {message}")]
    Image {
        /// The app.
        app: String,
        /// What is wrong.
        message: String,
    },
    /// A binary that needs a loader or interpreter would go on an empty base.
    #[error(
        "the `{binary}` binary of `{app}` for {target} needs {needs}, which the `scratch` base does not have"
    )]
    DynamicOnScratch {
        /// The app.
        app: String,
        /// The target.
        target: TargetTriple,
        /// The binary.
        binary: String,
        /// What it needs.
        needs: String,
    },
    /// The release has no archive an image can be made of.
    #[error("the release in {} has no Linux archive to make an image of", dir.display())]
    NoLinuxArchives {
        /// The release folder.
        dir: PathBuf,
    },
    /// A signed release would lose its signatures.
    #[error("the release in {} is signed, and adding images without the signing key would leave it unsigned", dir.display())]
    SignedNeedsKey {
        /// The release folder.
        dir: PathBuf,
    },
    /// The release has no OCI image to push.
    #[error("the release in {} has no OCI image to push", dir.display())]
    NoImages {
        /// The release folder.
        dir: PathBuf,
    },
    /// The settings push an app's image, but the release has none of it.
    #[error(
        "the settings push {app}'s image to {}, but the release in {} has no image of {app}",
        registries.join(", "),
        dir.display()
    )]
    ImagesNotBuilt {
        /// The app.
        app: String,
        /// Where its settings push it.
        registries: Vec<String>,
        /// The release folder.
        dir: PathBuf,
    },
    /// A registry written without `http://` answered keel's HTTPS in plain HTTP.
    #[error("{registry} answers plain HTTP, not HTTPS")]
    PlainHttpRegistry {
        /// The registry's host.
        registry: String,
        /// The destination as it is to be written: `http://REGISTRY/NAMESPACE`.
        destination: String,
        /// Whether the destination came from `registries` in the image settings (`keel
        /// publish`), not from the command line.
        from_settings: bool,
        /// Whether plain HTTP to it also needs `insecure`: it is not on this machine, and
        /// plain HTTP beyond it was not allowed.
        needs_insecure: bool,
    },
    /// No plan could be made.
    #[error(transparent)]
    Plan(#[from] keel_plan::Error),
    /// A build failed.
    #[error(transparent)]
    Build(#[from] keel_build::Error),
    /// An archive could not be written.
    #[error(transparent)]
    Archive(#[from] keel_archive::Error),
    /// The files of the commit a source archive holds could not be read from git.
    #[error("could not read the files of commit {commit} for the source archive")]
    Source {
        /// The commit.
        commit: String,
        /// What git said.
        #[source]
        source: keel_workspace::git::GitError,
    },
    /// An SBOM could not be made.
    #[error(transparent)]
    Sbom(#[from] keel_sign::sbom::SbomError),
    /// A file could not be read or hashed.
    #[error(transparent)]
    Verify(#[from] keel_verify::Error),
    /// A file could not be written.
    #[error(transparent)]
    File(#[from] keel_fs::Error),
    /// An installer, the notes or the download page could not be written.
    #[error(transparent)]
    Installer(#[from] keel_installer::Error),
    /// A rehearsal report is unreadable or does not belong to its release.
    #[error("the rehearsal report {} does not check out: {detail}", path.display())]
    BadRehearsal {
        /// The report.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A file could not be signed.
    #[error("could not sign {file}")]
    Sign {
        /// The file.
        file: String,
        /// The cause.
        #[source]
        source: keel_sign::Error,
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
    /// The workspace has no `Cargo.lock`, and cargo builds with `--locked`.
    #[error(
        "{} has no Cargo.lock; keel builds with --locked so that a release builds exactly the versions you tested",
        root.display()
    )]
    NoLockfile {
        /// The workspace root.
        root: PathBuf,
    },
    /// `SOURCE_DATE_EPOCH` is not a number of seconds.
    #[error("SOURCE_DATE_EPOCH is `{value}`, not a number of seconds")]
    BadSourceDateEpoch {
        /// Its value.
        value: String,
    },
    /// The output folder is a file.
    #[error("the output folder {} is a file", path.display())]
    OutputIsFile {
        /// The path given.
        path: PathBuf,
    },
    /// The output folder holds files keel did not write.
    #[error(
        "refusing to replace {}: it holds files keel did not write (it has no {})",
        path.display(),
        keel_schema::MANIFEST_FILE_NAME
    )]
    OutputNotARelease {
        /// The folder.
        path: PathBuf,
    },
    /// The output folder cannot be written.
    #[error("cannot write the output folder {}", path.display())]
    OutputUnwritable {
        /// The folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The release folder a command was given holds no manifest.
    #[error("{} is not a keel release (it has no {})", dir.display(), keel_schema::MANIFEST_FILE_NAME)]
    NoManifest {
        /// The folder.
        dir: PathBuf,
    },
    /// A folder is not a keel release.
    #[error("{} is not a keel release", dir.display())]
    NotARelease {
        /// The folder.
        dir: PathBuf,
        /// Why its manifest could not be read.
        #[source]
        source: std::io::Error,
    },
    /// A manifest could not be read.
    #[error("could not read {}", path.display())]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// The cause.
        #[source]
        source: keel_schema::Error,
    },
    /// A file of a partial release does not match its manifest.
    #[error(
        "{} does not match its manifest (size {size}, sha256 {sha256}; the manifest says size {expected_size}, sha256 {expected_sha256})",
        path.display()
    )]
    PartialMismatch {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// Its sha256.
        sha256: String,
        /// The size the manifest gives.
        expected_size: u64,
        /// The sha256 the manifest gives.
        expected_sha256: String,
    },
    /// Partial releases do not fit together.
    #[error("could not merge {}", dir.display())]
    Merge {
        /// The partial release that does not fit.
        dir: PathBuf,
        /// Why.
        #[source]
        source: keel_schema::Error,
    },
    /// `merge` was given no partial release.
    #[error("no partial release given")]
    NoPartials,
    /// A binary needs a newer glibc than the `glibc-floor` setting allows.
    #[error(
        "{} needs glibc {needs} (for {symbol}), newer than the glibc-floor {floor}",
        binary.display()
    )]
    GlibcTooNew {
        /// The binary.
        binary: PathBuf,
        /// A symbol that needs it.
        symbol: String,
        /// The version it needs.
        needs: String,
        /// The floor.
        floor: String,
    },
    /// A binary could not be read.
    #[error(transparent)]
    Elf(#[from] keel_build::elf::ElfError),
    /// The CI settings cannot make a pipeline.
    #[error(transparent)]
    Ci(#[from] keel_ci::Error),
    /// Versions or changelogs could not be made.
    #[error(transparent)]
    Version(#[from] keel_version::Error),
    /// HEAD is detached: no branch for a pull request to merge into.
    #[error("HEAD is detached, so there is no branch for the pull request to merge into")]
    DetachedHead,
    /// There is no pipeline file to check.
    #[error("{path} does not exist")]
    PipelineMissing {
        /// The file, relative to the workspace.
        path: String,
    },
    /// A waiver of the rehearsal gate gave no reason.
    #[error("publishing without a rehearsal needs a reason")]
    EmptyWaiver,
    /// An app that keeps databases has no passing rehearsal of this release.
    #[error("the release in {} is not published: its update was not rehearsed successfully: {}", dir.display(), problems.join("; "))]
    NotRehearsed {
        /// The release folder.
        dir: PathBuf,
        /// What the rehearsal gate found.
        problems: Vec<String>,
    },
    /// The release's files do not match its manifest, so it is not published.
    #[error("the release in {} does not check out, so it is not published: {}", dir.display(), failures.join("; "))]
    DoesNotCheckOut {
        /// The release folder.
        dir: PathBuf,
        /// Each failed check: `file (check): detail`.
        failures: Vec<String>,
    },
    /// The release branch named is the base branch, which is never force-pushed.
    #[error(
        "the release branch {branch} is the branch the pull request merges into; keel force-pushes the release branch, and never the base"
    )]
    BranchIsBase {
        /// The branch.
        branch: String,
    },
    /// The release's installers know no download URL, so they cannot download from the GitHub
    /// release it is published to.
    #[error(
        "the release's installers know no download URL, so they cannot download from the GitHub release it is published to ({expected})"
    )]
    NoDownloadUrl {
        /// The GitHub release's download URL.
        expected: String,
    },
    /// The release's installers download from another repository's GitHub releases.
    #[error(
        "the release's installers download from {url}, not from the GitHub release it is published to ({expected})"
    )]
    InstallersElsewhere {
        /// Where they download from.
        url: String,
        /// The GitHub release's download URL.
        expected: String,
    },
    /// The workspace around the release folder is not the release's source: its repository
    /// lacks the commit the manifest names.
    #[error("the release was made from commit {commit}, which the repository of {} does not have: its changelog and history are not this release's", workspace.display())]
    SourceElsewhere {
        /// The commit the manifest names.
        commit: String,
        /// The workspace found.
        workspace: PathBuf,
    },
    /// The current commit has no release tag to release.
    #[error("the current commit has no release tag")]
    NoTagAtHead,
    /// The current commit has several release tags: which to release is not clear.
    #[error("the current commit has several release tags: {}", tags.join(", "))]
    SeveralTagsAtHead {
        /// The tags.
        tags: Vec<String>,
    },
    /// Reading the tags failed.
    #[error(transparent)]
    Tags(#[from] keel_changelog::Error),
    /// The release has no tag to name a GitHub release by.
    #[error("the release has no tag and no single version to name its GitHub release")]
    NoTag,
    /// GitHub refused or failed.
    #[error(transparent)]
    Github(#[from] keel_github::Error),
    /// The store could not be written.
    #[error(transparent)]
    Store(#[from] keel_store::Error),
    /// The files written differ from the plan: a bug in keel.
    #[error("internal error: the release wrote {written:?}, but the plan said {planned:?}")]
    Internal {
        /// What was written.
        written: Vec<String>,
        /// What the plan said.
        planned: Vec<String>,
    },
}

impl Error {
    /// What to do about the error, when that needs no command-line flag (the `keel` binary
    /// adds the hints that name its flags).
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Error::NoLockfile { .. } => "run `cargo generate-lockfile` and commit Cargo.lock",
            Error::BadSourceDateEpoch { .. } => {
                "set SOURCE_DATE_EPOCH to a Unix time such as `$(git log -1 --format=%ct)`, or unset it"
            }
            Error::NotARelease { .. } | Error::NoManifest { .. } => {
                "run `keel release` first (it writes target/keel/dist), or pass the folder it wrote"
            }
            Error::DynamicOnScratch { .. } => {
                "build the Linux targets static (a musl target such as x86_64-unknown-linux-musl, or `-C target-feature=+crt-static` on gnu), or set `base` in [package.metadata.keel.image] to an image with a C library, pinned by digest (e.g. gcr.io/distroless/cc-debian12@sha256:...)"
            }
            Error::NoImages { .. } => "run `keel image build` on the release first",
            Error::NoDownloadUrl { .. } | Error::InstallersElsewhere { .. } => {
                "set `repository` in Cargo.toml to the GitHub repository (or `download-url` in [workspace.metadata.keel]), then release again"
            }
            Error::EmptyWaiver => {
                "say why the release goes out unrehearsed; the reason is written into the release notes"
            }
            Error::DoesNotCheckOut { .. } => {
                "`keel verify` shows every check; make the release again with `keel release`"
            }
            Error::Ci(err) => return err.hint(),
            _ => return None,
        })
    }
}
