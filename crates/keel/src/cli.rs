//! The command line: clap definitions, and the libraries' options they stand for.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};
use keel_schema::store::Expiry;

/// keel: reproducible, checksummed releases of Rust programs.
///
/// Run `keel plan` to see what a release of your workspace contains, and `keel release` to
/// build it: one archive per app and target, a .sha256 beside each, SHA256SUMS over all of
/// them, and keel-manifest.json describing the whole release. Two runs on the same commit
/// give byte-identical files.
#[derive(Debug, Parser)]
#[command(name = "keel", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Path to the workspace's Cargo.toml (default: the nearest one at or above the current
    /// directory)
    #[arg(long, global = true, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,

    /// Print no progress and no summary; errors are still printed
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// Output format: `text` for people, `json` for programs
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add keel's settings and a `dist` profile to the workspace's Cargo.toml
    ///
    /// Writes `[workspace.metadata.keel]` with every setting and its default, commented, and
    /// `[profile.dist]` (thin LTO, one codegen unit, stripped symbols). Tables that already
    /// exist are kept as they are; nothing else in the file changes.
    Init,

    /// Show the release plan: apps, targets, builds and every artifact with its contents
    ///
    /// Nothing is built or written. `keel release` carries out exactly this plan.
    Plan(PlanCommandArgs),

    /// Build the release binaries for each target with the `dist` profile
    Build(BuildArgs),

    /// Build and package a release: archives, checksums and keel-manifest.json
    ///
    /// Everything is written to a staging folder beside the output folder and moved into
    /// place at the end, so a failed release leaves the output folder as it was. Archive
    /// times come from SOURCE_DATE_EPOCH, or else the last commit's time.
    Release(ReleaseArgs),

    /// Create a minisign key pair for signing releases
    ///
    /// Writes PREFIX.pub (share it: it checks signatures) and PREFIX.key (keep it secret),
    /// in minisign's formats. The secret key is encrypted with a password, taken from
    /// KEEL_SIGNING_KEY_PASSWORD or asked for on a terminal, unless --unencrypted.
    Keygen(KeygenArgs),

    /// Sign files with minisign signatures (FILE.minisig beside each FILE)
    Sign(SignFilesArgs),

    /// Check a release: checksums, signatures, SBOMs and provenance
    ///
    /// Every artifact must match the manifest's size and sha256, every checksum file must
    /// agree with the manifest, no file may be missing or unlisted, the SBOMs must describe
    /// the archives' apps and targets, and the provenance must list every artifact. With
    /// --key, every signature (manifest, SHA256SUMS, provenance) must verify. Nothing is
    /// modified. Exit 0 only when every check holds.
    Verify(VerifyArgs),

    /// Rehearse a release's update before publishing it: update, roll back, fail a migration
    ///
    /// For each app and each target this machine runs, in a sandbox of its own (its own
    /// KEEL_HOME and data, nothing outside touched): install the previous release (the highest
    /// version below the candidate, from --from), create data with it (the `seed` commands
    /// of [package.metadata.keel.rehearse], else its migrate hook), update to the candidate
    /// through the same transaction as `keel update`, run the `verify` commands, roll back and
    /// compare the binaries and every database with before, then update again with the
    /// migration made to fail (KEEL_REHEARSE_FAIL=migrate for the hooks) and compare again.
    ///
    /// The report, keel-rehearsal.json, is written beside the manifest and signed like it;
    /// `keel verify` checks it and `keel publish` requires a passing one for apps with
    /// databases. Exit 1 when a step fails (the report says which).
    Rehearse(RehearseArgs),

    /// Join partial releases (one per CI runner) into one release
    ///
    /// Each folder is the output of `keel release` for some targets of the same commit, tag
    /// and version. Every file is checked against its manifest, the artifacts are copied into
    /// the output folder, and one SHA256SUMS and one keel-manifest.json are written over all
    /// of them.
    Merge(MergeArgs),

    /// Publish a release: to GitHub Releases, or to a release store
    ///
    /// `--to github:OWNER/REPO` puts every file of the release on the GitHub release for its
    /// tag: found (drafts too) or created as a draft, every file uploaded and checked, then the
    /// notes set and the release published, so a published release never lacks a file. A
    /// re-run after any failure finishes the job. The token comes from GITHUB_TOKEN or
    /// GH_TOKEN; KEEL_GITHUB_API_URL points at GitHub Enterprise Server.
    ///
    /// `--to DIR` adds the release to a release store (a TUF repository served as static
    /// files). The first publish creates the store and its root of trust (root.json: give it to
    /// operators for `keel install --root`). Each archive becomes a signed target with its app,
    /// version, target triple, channel and update hooks. Metadata expires (timestamp after 7
    /// days by default): run `keel store refresh` on a schedule.
    ///
    /// Either way, an app whose image settings name `registries` has its image (from `keel
    /// image build`) pushed to each of them first, as `keel image push` does; a release that
    /// lacks such an image is refused. --no-images skips the images.
    Publish(PublishArgs),

    /// Print a release's notes (Markdown): changes, install commands, files, how to check them
    ///
    /// The changes are the version's section of CHANGELOG.md (Keep a Changelog), else the
    /// commits since the previous tag grouped by conventional-commit type. `keel publish --to
    /// github:` uses these notes as the release's body.
    Notes(NotesArgs),

    /// Container images of a release, built without a daemon, and pushed to a registry
    ///
    /// `keel image build` makes an OCI image of each app from the release's verified Linux
    /// archives (no compiling again, no Docker daemon), one index over every Linux target,
    /// byte-reproducible, and adds it to the release (`<app>-<version>.oci.tar`), listed in the
    /// manifest with its digest and covered by SHA256SUMS and the provenance. `keel image push`
    /// sends it to a registry with its tags, and attaches the SBOMs and the provenance.
    #[command(subcommand)]
    Image(ImageCommand),

    /// Maintain a release store
    #[command(subcommand)]
    Store(StoreCommand),

    /// Install an app from a release store, verifying everything against a trusted root
    #[command(disable_version_flag = true)]
    Install(InstallArgs),

    /// Update an installed app: verify, snapshot, swap, migrate, check, or roll back
    ///
    /// The new version's migrate and check hooks run with the new binary; when either fails,
    /// the previous binary and every database are put back exactly as they were.
    Update(UpdateArgs),

    /// Return an installed app to its previous version and the data it had then
    Rollback(RollbackArgs),

    /// Check an install: receipt, binaries, trusted metadata, databases, pending transaction
    Doctor(AppArgs),

    /// Finish or undo an update that a crash interrupted (every command does this first)
    Recover(AppArgs),

    /// The CI pipeline that releases on every tag: write it, check it, show its matrix
    #[command(subcommand_required = true)]
    Ci(CiArgs),

    /// Set new versions: from the commits since the last tag, a level, a pre-release stage,
    /// or a version
    ///
    /// WHAT is `auto` (the default: `feat` → minor, `fix`/`perf` → patch, `!` or a
    /// `BREAKING CHANGE:` footer → major, minor below 1.0.0), `major`, `minor`, `patch`,
    /// `alpha`/`beta`/`rc` (start a pre-release of the version `auto` or `--bump` gives, or
    /// advance the current one: alpha.1 → alpha.2 → beta.1 → rc.1), `release` (finish a
    /// pre-release) or a version (`1.4.0`). Only commits that touch a package (or its path
    /// dependencies in the workspace) count for it. Edits every released package's version
    /// (inherited `version.workspace = true` included), the requirements of internal path
    /// dependencies and Cargo.lock, keeping comments and layout, and updates the changelogs.
    Bump(BumpArgs),

    /// Update CHANGELOG.md (Keep a Changelog) from the tags and conventional commits
    ///
    /// Writes the Unreleased section from the commits since the last tag, grouped (breaking
    /// changes first, then Added, Changed, Deprecated, Removed, Fixed, Security, Performance),
    /// a section for each tagged version that has none (dated by the tag's commit) and compare
    /// links when the repository is on GitHub or GitLab. Sections already written are kept as
    /// they are, so hand edits stay; running it twice changes nothing.
    Changelog(ChangelogArgs),

    /// Open or update the release pull request: the bump and changelog on branch keel/release
    ///
    /// Makes the bump `keel bump` would make (auto, by default) in a separate worktree, commits
    /// it on keel/release (from the current branch's commit), pushes that branch with the
    /// token from GITHUB_TOKEN or GH_TOKEN (in a header, never in a URL), and opens a pull
    /// request into the current branch, or updates the open one. Merging it and tagging the
    /// merge commit (`keel bump --tag`, or `git tag`) starts the release workflow.
    ReleasePr(ReleasePrArgs),

    /// Print the JSON Schema of keel-manifest.json (or, with --outputs, of every command's
    /// --format json output)
    Schema(SchemaArgs),
}

#[derive(Debug, Args)]
pub struct BumpArgs {
    /// auto | major | minor | patch | alpha | beta | rc | release | X.Y.Z
    #[arg(value_name = "WHAT", default_value = "auto")]
    pub what: String,

    /// Only this package (and the packages sharing its version); it is tagged
    /// `<package>-v<version>` when the workspace releases several packages
    #[arg(long, short, value_name = "PACKAGE")]
    pub package: Option<String>,

    /// The level a new pre-release starts from, instead of what the commits call for
    #[arg(long, value_name = "LEVEL", value_parser = ["major", "minor", "patch"])]
    pub bump: Option<String>,

    /// Show the plan (old → new per package, and why) and change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Commit the changed files (`chore(release): <tags>`); the tracked files must be clean
    #[arg(long)]
    pub commit: bool,

    /// Make an annotated tag for each new version (with --commit, on the new commit)
    #[arg(long)]
    pub tag: bool,

    /// Leave the changelogs alone
    #[arg(long)]
    pub no_changelog: bool,

    /// Do not run `cargo semver-checks` on library packages, even when it is installed
    #[arg(long)]
    pub no_semver_checks: bool,
}

#[derive(Debug, Args)]
pub struct ChangelogArgs {
    /// Only this package's changelog
    #[arg(long, short, value_name = "PACKAGE")]
    pub package: Option<String>,

    /// Change nothing; exit 1 with a diff when a changelog is out of date
    #[arg(long)]
    pub check: bool,

    /// Print the changes as a diff and write nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ReleasePrArgs {
    /// The repository: github:OWNER/REPO
    #[arg(long, value_name = "github:OWNER/REPO")]
    pub to: String,

    /// What to bump, as for `keel bump`
    #[arg(value_name = "WHAT", default_value = "auto")]
    pub what: String,

    /// The branch the pull request merges into (default: the current branch)
    #[arg(long, value_name = "BRANCH")]
    pub base: Option<String>,

    /// The branch the release commit goes on
    #[arg(long, value_name = "BRANCH", default_value = "keel/release")]
    pub branch: String,

    /// The git URL to push to (default: the repository on GitHub, or on the server of
    /// KEEL_GITHUB_API_URL)
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,

    /// Show what would be pushed and opened, and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct CiArgs {
    #[command(subcommand)]
    pub command: CiCommand,
}

#[derive(Debug, Subcommand)]
pub enum CiCommand {
    /// Write .github/workflows/release.yml (or .gitlab-ci.yml) from the settings
    ///
    /// On a tag (v1.2.3 or <package>-v1.2.3): a plan job, gates (fmt, clippy, tests, the smoke
    /// commands), one build job per target on a native runner (`keel release --target T`),
    /// and a release job that merges, signs (secrets KEEL_SIGNING_KEY and
    /// KEEL_SIGNING_KEY_PASSWORD), verifies and publishes to GitHub Releases (and the store,
    /// when configured). Pull requests run the plan and the gates; running it by hand is a dry
    /// run. Settings: [workspace.metadata.keel.ci], see docs/ci.md.
    Init(CiFileArgs),
    /// Fail, with a diff, when the pipeline differs from what `keel ci init` writes
    Check(CiFileArgs),
    /// Print the build matrix: each target and its runner (`--format json` for the workflow)
    Matrix,
}

#[derive(Debug, Args)]
pub struct CiFileArgs {
    /// GitLab CI (.gitlab-ci.yml) instead of GitHub Actions
    #[arg(long)]
    pub gitlab: bool,
}

#[derive(Debug, Args)]
pub struct PlanCommandArgs {
    #[command(flatten)]
    pub plan: PlanArgs,

    #[command(flatten)]
    pub sign: SignArgs,
}

#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// A target triple to build; repeat for several (default: the configured targets, or the
    /// host)
    #[arg(long = "target", value_name = "TRIPLE")]
    pub targets: Vec<String>,

    /// The tag being released (`v1.2.3` or `<package>-v1.2.3`); it must match the version in
    /// Cargo.toml. `--tag` alone takes the tag on the current commit. Default:
    /// GITHUB_REF_NAME when GitHub Actions runs for a tag
    #[arg(long, value_name = "TAG", num_args = 0..=1, default_missing_value = "")]
    pub tag: Option<String>,

    /// How to build every target: `cargo`, `zigbuild` (cargo-zigbuild: Linux targets from any
    /// host, for the `glibc-floor`), `cross` (in a container), or `fake` (placeholder binaries,
    /// to try a pipeline for targets this machine cannot build). Default: the `builders`
    /// setting of each target, else cargo
    #[arg(long, value_enum, env = keel_schema::env::KEEL_BUILDER)]
    pub builder: Option<BuilderKind>,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
}

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    #[command(flatten)]
    pub build: BuildArgs,

    /// The output folder (default: target/keel/dist in the workspace's target directory).
    /// It is replaced as a whole; keel refuses to replace a folder it did not write
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub sign: SignArgs,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// A minisign secret key file to sign with (from `keel keygen`). Default: the key in
    /// KEEL_SIGNING_KEY (the key file's contents), if set. An encrypted key's password comes
    /// from KEEL_SIGNING_KEY_PASSWORD, or is asked for on a terminal
    #[arg(long, value_name = "FILE")]
    sign_key: Option<PathBuf>,

    /// The old spelling of --sign-key (`--key` names a public key elsewhere)
    #[arg(
        long = "key",
        hide = true,
        value_name = "FILE",
        conflicts_with = "sign_key"
    )]
    old_key: Option<PathBuf>,
}

impl SignArgs {
    /// The secret key file given, under either spelling; the old one is warned about once.
    pub fn sign_key(&self) -> Option<&Path> {
        if self.old_key.is_some() {
            static WARNED: std::sync::Once = std::sync::Once::new();
            WARNED.call_once(|| {
                crate::warn("`--key` for a secret key is deprecated: write `--sign-key` (`--key` names a public key on `verify` and `notes`)");
            });
        }
        self.sign_key.as_deref().or(self.old_key.as_deref())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BuilderKind {
    Cargo,
    Zigbuild,
    Cross,
    Fake,
}

impl From<BuilderKind> for keel_release::BuilderKind {
    fn from(kind: BuilderKind) -> Self {
        match kind {
            BuilderKind::Cargo => Self::Cargo,
            BuilderKind::Zigbuild => Self::Zigbuild,
            BuilderKind::Cross => Self::Cross,
            BuilderKind::Fake => Self::Fake,
        }
    }
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The output folder of the merged release
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// The partial releases to join
    #[arg(value_name = "PARTIAL", required = true)]
    pub partials: Vec<PathBuf>,

    #[command(flatten)]
    pub sign: SignArgs,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the keys: PREFIX.pub and PREFIX.key
    #[arg(long, value_name = "PREFIX")]
    pub out: PathBuf,

    /// Store the secret key without a password (for throw-away keys and tests)
    #[arg(long)]
    pub unencrypted: bool,

    /// Replace existing key files
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct SignFilesArgs {
    /// The files to sign
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,

    /// The trusted comment, covered by the signature (default: `file=<name>`)
    #[arg(long, value_name = "TEXT")]
    pub trusted_comment: Option<String>,

    #[command(flatten)]
    pub sign: SignArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The release folder (default: the current folder when it holds keel-manifest.json,
    /// else the workspace's target/keel/dist)
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// The maintainer's public key (PREFIX.pub from `keel keygen`, or a minisign public key)
    #[arg(long, visible_alias = "key", value_name = "PUB")]
    pub public_key: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The release to publish (default: the workspace's target/keel/dist)
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Where to: `github:OWNER/REPO` for GitHub Releases, or a store's folder (created on
    /// first publish)
    #[arg(long, value_name = "TARGET")]
    pub to: String,

    /// GitHub: replace files a draft release already has that differ from the local ones (a
    /// published release's files are never replaced)
    #[arg(long)]
    pub replace: bool,

    /// GitHub: show every request that would change something, and change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Push no image, whatever `registries` the image settings name
    #[arg(long)]
    pub no_images: bool,

    /// Allow plain HTTP to a registry of the image settings' `registries` that is not on this
    /// machine, as `keel image push --insecure`. Plain HTTP needs `http://` in front of the
    /// registry there (`http://registry.lan:5000/team`); on this machine that alone is enough.
    /// Without `http://` keel speaks HTTPS, --insecure or not
    #[arg(long)]
    pub insecure: bool,

    /// GitHub: the release's notes from this Markdown file (default: `keel notes`)
    #[arg(long, value_name = "FILE")]
    pub notes: Option<PathBuf>,

    /// The channel operators follow (`stable`, `beta`, ...)
    #[arg(long, default_value = "stable")]
    pub channel: String,

    /// Publish although an app with databases has no passing `keel rehearse`; the reason is
    /// written into the release notes
    #[arg(long, value_name = "REASON")]
    pub no_rehearsal: Option<String>,

    /// A separate key for the store's root role, used when the store is created
    #[arg(long, value_name = "FILE")]
    pub root_key: Option<PathBuf>,

    /// Store: publish delta-update patches to each new tar archive from this many earlier
    /// versions of the same app and target (0: none). An install of one of them downloads
    /// the patch, a few percent of the archive, instead of the archive
    #[arg(long, value_name = "N", default_value_t = keel_store::DEFAULT_PATCH_VERSIONS)]
    pub patches: usize,

    #[command(flatten)]
    pub expiry: ExpiryArgs,

    #[command(flatten)]
    pub sign: SignArgs,
}

#[derive(Debug, Args)]
pub struct RehearseArgs {
    /// The candidate release (default: the current folder when it holds keel-manifest.json,
    /// else the workspace's target/keel/dist)
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Where the previous release is: a store's URL or folder (the highest earlier version
    /// on --channel is used), or the release folder of the previous version
    #[arg(long, value_name = "STORE|DIR")]
    pub from: Option<String>,

    /// The store's trusted root.json (default for a store folder: its metadata/root.json)
    #[arg(long, value_name = "ROOT_JSON")]
    pub root: Option<PathBuf>,

    /// Nothing was released before: rehearse a fresh install, migrate and check only
    #[arg(long, conflicts_with = "from")]
    pub first_release: bool,

    /// The channel the previous release is taken from
    #[arg(long, default_value = "stable")]
    pub channel: String,

    #[command(flatten)]
    pub sign: SignArgs,
}

#[derive(Debug, Args)]
pub struct NotesArgs {
    /// The release (default: the current folder when it holds keel-manifest.json, else the
    /// workspace's target/keel/dist)
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// The public key that signed the release, for the `minisign` command in the notes
    #[arg(long, visible_alias = "key", value_name = "PUB")]
    pub public_key: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExpiryArgs {
    /// Days the timestamp metadata stays valid
    #[arg(long, value_name = "DAYS", default_value_t = Expiry::DEFAULT.timestamp_days)]
    pub timestamp_days: u32,

    /// Days the snapshot metadata stays valid
    #[arg(long, value_name = "DAYS", default_value_t = Expiry::DEFAULT.snapshot_days)]
    pub snapshot_days: u32,

    /// Days the targets metadata stays valid
    #[arg(long, value_name = "DAYS", default_value_t = Expiry::DEFAULT.targets_days)]
    pub targets_days: u32,

    /// Days a new root stays valid
    #[arg(long, value_name = "DAYS", default_value_t = Expiry::DEFAULT.root_days)]
    pub root_days: u32,
}

impl From<&ExpiryArgs> for Expiry {
    fn from(args: &ExpiryArgs) -> Self {
        Expiry {
            root_days: args.root_days,
            targets_days: args.targets_days,
            snapshot_days: args.snapshot_days,
            timestamp_days: args.timestamp_days,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Make each app's image from the release's Linux archives and add it to the release
    ///
    /// Settings come from `[package.metadata.keel.image]` as recorded in the release: `base`
    /// (`scratch`, the default, for static binaries; else an image pinned by digest, pulled
    /// without a daemon), `entrypoint`, `cmd`, `user` (default 65532:65532), `workdir` and
    /// `volumes` (default /data), `env`, `ports`, `files`, `labels`, `repository`. The
    /// release's SHA256SUMS, provenance, signatures and manifest are written anew (signed with
    /// --sign-key); the folder is replaced whole, so a failure leaves it as it was.
    Build(ImageBuildArgs),
    /// Record credentials for a registry where `docker login` keeps them
    ///
    /// The password (or token) is read from standard input with --password-stdin, else
    /// prompted for on a terminal; never from an argument, where other users could see it.
    /// The registry is asked first whether it lets them in (`GET /v2/`, answering its bearer
    /// or basic challenge). They go to the credential helper Docker's config.json names for
    /// the registry (or its credsStore), else into its `auths` (the file, mode 0600, in
    /// DOCKER_CONFIG or ~/.docker). `keel image push` and `keel publish` read them there.
    Login(ImageLoginArgs),
    /// Push the release's images to REGISTRY/NAMESPACE, with tags and attached SBOMs
    ///
    /// Each app goes to REGISTRY/NAMESPACE/<app> (`repository` in the image settings renames
    /// it), tagged vX.Y.Z, vX.Y and `latest` (the last two only for a stable version that is
    /// the highest of its line, or of all, in the registry; a pre-release gets its own tag
    /// only). Blobs the registry has are skipped; tags move last, so a failed push moves none,
    /// and running it again finishes the job. The SBOMs and the provenance are attached as OCI
    /// referrers (the `sha256-<digest>` tag where the registry has no referrers API).
    /// Credentials: KEEL_REGISTRY_USER and KEEL_REGISTRY_PASSWORD (for this registry only,
    /// never a base image's), else ~/.docker/config.json (with credential helpers). HTTPS, with the CAs of SSL_CERT_FILE when set; plain HTTP
    /// only as `http://REGISTRY` on a loopback address, or with --insecure.
    Push(ImagePushArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImageFileFormat {
    /// One OCI image layout tar per app, over every Linux target (`<app>-<version>.oci.tar`)
    Oci,
    /// One `docker load`-able tar per app and target (`<app>-<version>-<target>.docker.tar`)
    DockerArchive,
}

impl From<ImageFileFormat> for keel_release::ImageFormat {
    fn from(format: ImageFileFormat) -> Self {
        match format {
            ImageFileFormat::Oci => Self::Oci,
            ImageFileFormat::DockerArchive => Self::DockerArchive,
        }
    }
}

#[derive(Debug, Args)]
pub struct ImageLoginArgs {
    /// The registry: `ghcr.io`, `docker.io`, `registry.example.com:5000`, or
    /// `http://127.0.0.1:5000` for a plain-HTTP registry
    #[arg(value_name = "REGISTRY")]
    pub registry: String,

    /// The user name
    #[arg(long, short = 'u', value_name = "USER")]
    pub username: String,

    /// Read the password or token from standard input (one line)
    #[arg(long)]
    pub password_stdin: bool,

    /// Save the credentials without asking the registry whether they work
    #[arg(long)]
    pub no_check: bool,

    /// Allow plain HTTP to a registry that is not on this machine. Plain HTTP needs `http://`
    /// in front of the registry (`http://registry.lan:5000`); on this machine that alone is
    /// enough. Without `http://` keel speaks HTTPS, --insecure or not
    #[arg(long)]
    pub insecure: bool,
}

#[derive(Debug, Args)]
pub struct ImageBuildArgs {
    /// The release folder (default: the current folder when it holds keel-manifest.json,
    /// else the workspace's target/keel/dist)
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// The image file formats (repeat or separate with commas)
    #[arg(
        long = "image-format",
        value_enum,
        value_delimiter = ',',
        default_value = "oci"
    )]
    pub image_format: Vec<ImageFileFormat>,

    /// Only this app (repeatable)
    #[arg(long, value_name = "APP")]
    pub app: Vec<String>,

    /// Allow plain HTTP to a base image's registry that is not on this machine
    #[arg(long)]
    pub insecure: bool,

    #[command(flatten)]
    pub sign: SignArgs,
}

#[derive(Debug, Args)]
pub struct ImagePushArgs {
    /// Where to push: REGISTRY/NAMESPACE (`ghcr.io/owner`, `docker.io/owner`,
    /// `http://127.0.0.1:5000/test`)
    #[arg(value_name = "REGISTRY/NAMESPACE")]
    pub destination: String,

    /// The release folder (default: the current folder when it holds keel-manifest.json,
    /// else the workspace's target/keel/dist)
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Only this app (repeatable)
    #[arg(long, value_name = "APP")]
    pub app: Vec<String>,

    /// Say what would be pushed and tagged; push nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Allow plain HTTP to a registry that is not on this machine. Plain HTTP needs `http://`
    /// in front of the registry (`http://registry.lan:5000/team`); on this machine that alone
    /// is enough. Without `http://` keel speaks HTTPS, --insecure or not
    #[arg(long)]
    pub insecure: bool,
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Create an empty store: its root of trust (metadata/root.json) and no release yet
    ///
    /// The first step for a store, before the first release: settings that name the store's
    /// root (`store = { url, root = "store/metadata/root.json" }`) need the file to exist, and
    /// operators need it to install. `keel publish --to DIR` adds releases to it.
    Init(StoreInitArgs),

    /// Re-sign the store's metadata with new expiry times (run on a schedule)
    Refresh(RefreshArgs),
}

#[derive(Debug, Args)]
pub struct StoreInitArgs {
    /// The store's folder (created; it must not hold a store already)
    #[arg(value_name = "STORE_DIR")]
    pub store: PathBuf,

    /// A separate key for the store's root role (keep it offline); default: --sign-key
    #[arg(long, value_name = "FILE")]
    pub root_key: Option<PathBuf>,

    #[command(flatten)]
    pub expiry: ExpiryArgs,

    #[command(flatten)]
    pub sign: SignArgs,
}

#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// The store's folder
    #[arg(value_name = "STORE_DIR")]
    pub store: PathBuf,

    #[command(flatten)]
    pub expiry: ExpiryArgs,

    #[command(flatten)]
    pub sign: SignArgs,
}

#[derive(Debug, Args)]
pub struct AppArgs {
    /// The app's name
    #[arg(long)]
    pub app: String,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The store: its folder (`./store`, the same as `file:///abs/path/store`) or its URL
    /// (`https://host/path`; private CAs: set SSL_CERT_FILE to a PEM file holding the CA's
    /// certificate)
    #[arg(long, value_name = "STORE")]
    pub from: String,

    /// Accept a plain `http://` store URL naming another machine (loopback is always
    /// accepted; also KEEL_ALLOW_HTTP=1). Signatures and hashes are still checked
    #[arg(long)]
    pub allow_http: bool,

    /// The app's name
    #[arg(long)]
    pub app: String,

    /// The store's trusted root (the root.json its maintainer published; default for a store
    /// on this machine: its own metadata/root.json)
    #[arg(long, value_name = "ROOT_JSON")]
    pub root: Option<PathBuf>,

    /// The version to install (default: the newest on the channel)
    #[arg(long, value_name = "VERSION")]
    app_version: Option<String>,

    /// The old spelling of --app-version; alone, keel's version as everywhere
    #[arg(long = "version", hide = true, value_name = "VERSION", num_args = 0..=1, default_missing_value = "", conflicts_with = "app_version")]
    old_version: Option<String>,

    /// Print version
    #[arg(short = 'V', action = clap::ArgAction::Version)]
    print_version: (),

    /// The channel to follow
    #[arg(long, default_value = "stable")]
    pub channel: String,

    /// Where the binaries go (default: ~/.local/bin)
    #[arg(long, value_name = "BIN_DIR")]
    pub dir: Option<PathBuf>,

    /// A database the app keeps; updates snapshot it and hooks name it `{db}`, `{db:1}`, ...
    #[arg(long = "db", value_name = "PATH")]
    pub databases: Vec<PathBuf>,

    /// The target triple to install (default: this machine's)
    #[arg(long, value_name = "TRIPLE")]
    pub target: Option<String>,
}

impl InstallArgs {
    /// `keel install --version` alone: the question every command answers with keel's
    /// version.
    pub fn asks_keel_version(&self) -> bool {
        self.old_version.as_deref() == Some("")
    }

    /// The version asked for, under either spelling; the old one is warned about.
    pub fn app_version(&self) -> Option<&str> {
        match self.old_version.as_deref() {
            Some("") | None => self.app_version.as_deref(),
            Some(old) => {
                crate::warn(
                    "`keel install --version` is deprecated: write `--app-version`, as `keel update` does",
                );
                Some(old)
            }
        }
    }
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The app's name
    #[arg(long)]
    pub app: String,

    /// The version to update to (default: the newest on the app's channel); an older one
    /// is a downgrade
    #[arg(long, value_name = "VERSION")]
    app_version: Option<String>,

    /// The old spelling of --app-version
    #[arg(
        long = "to",
        hide = true,
        value_name = "VERSION",
        conflicts_with = "app_version"
    )]
    old_to: Option<String>,

    /// Do not ask for confirmation
    #[arg(long)]
    pub yes: bool,

    /// Say what would be installed, and change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Accept a plain `http://` store URL naming another machine (also KEEL_ALLOW_HTTP=1)
    #[arg(long)]
    pub allow_http: bool,
}

impl UpdateArgs {
    /// The version asked for, under either spelling; the old one is warned about.
    pub fn app_version(&self) -> Option<&str> {
        if self.old_to.is_some() {
            crate::warn(
                "`keel update --to` is deprecated: write `--app-version`, as `keel install` does",
            );
        }
        self.app_version.as_deref().or(self.old_to.as_deref())
    }
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The app's name
    #[arg(long)]
    pub app: String,

    /// Do not ask for confirmation (changes made to the databases since the last update are
    /// lost)
    #[arg(long)]
    pub yes: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap's own consistency checks of every command and argument.
    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// The schema of every command's `--format json` output instead
    #[arg(long)]
    pub outputs: bool,
}
