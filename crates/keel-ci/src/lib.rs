//! The CI pipeline of a workspace released with keel: a GitHub Actions workflow (and a GitLab
//! CI pipeline) generated from `[workspace.metadata.keel.ci]`, and the build matrix it runs.
//!
//! [`github_workflow`] writes `.github/workflows/release.yml`: on a tag, a plan job turns
//! `keel plan` into the matrix ([`matrix`]), a gates job runs fmt, clippy, the tests and the
//! app's smoke commands, a build job per target runs `keel release --target T` on a native
//! runner and uploads the partial release, and a release job merges, signs, verifies and
//! publishes it. Every third-party action is pinned by commit ([`ACTIONS`]); permissions
//! start at nothing and each job gets only what it needs; no expression is interpolated into
//! a script (values pass through `env:`). [`gitlab_pipeline`] writes `.gitlab-ci.yml` the same
//! way. The output depends only on the inputs, so `keel ci check` can compare it with the
//! file in the repository.
//!
//! This crate never prints and does no I/O.
#![deny(missing_docs)]

use std::collections::BTreeMap;

use keel_schema::{Os, TargetTriple};
use keel_workspace::{BuilderName, CiConfig};
use minijinja::Environment;
use serde::Serialize;

/// The workflow's path in a repository.
pub const GITHUB_WORKFLOW_PATH: &str = ".github/workflows/release.yml";
/// The pipeline's path in a repository.
pub const GITLAB_PIPELINE_PATH: &str = ".gitlab-ci.yml";

/// The targets CI builds when no setting names them: Linux, macOS and Windows on x86_64, and
/// Linux and macOS on ARM64.
pub const DEFAULT_TARGETS: [&str; 5] = [
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-pc-windows-msvc",
];

/// The third-party actions the workflow uses, pinned by full commit hash, with the version
/// each hash is (checked against each action's repository when these were last changed).
pub const ACTIONS: Actions = Actions {
    checkout: "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1",
    upload_artifact: "actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f # v7.0.0",
    download_artifact: "actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c # v8.0.1",
};

/// The versions of the build tools the workflow installs where a target's builder needs them.
pub const TOOLS: Tools = Tools {
    cargo_zigbuild: "0.24.0",
    ziglang: "0.17.1",
    cross: "0.2.5",
};

/// Pinned tool versions.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Tools {
    /// `cargo-zigbuild`, from PyPI.
    pub cargo_zigbuild: &'static str,
    /// `ziglang` (zig), from PyPI.
    pub ziglang: &'static str,
    /// `cross`, from crates.io.
    pub cross: &'static str,
}

/// Pinned action references.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Actions {
    /// `actions/checkout`.
    pub checkout: &'static str,
    /// `actions/upload-artifact`.
    pub upload_artifact: &'static str,
    /// `actions/download-artifact`.
    pub download_artifact: &'static str,
}

/// Why a pipeline could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A target in the settings is not a target triple.
    #[error("`{0}` in [workspace.metadata.keel.ci] is not a target triple")]
    BadTarget(String),
    /// `keel` in the settings names no way of installing keel.
    #[error("`keel = \"{0}\"` in [workspace.metadata.keel.ci] is neither `installer` nor `cargo`")]
    BadInstall(String),
    /// A value cannot be written into the workflow safely.
    #[error(
        "{what} `{value}` cannot be written into the workflow (it holds a line break or `${{{{`)"
    )]
    Unsafe {
        /// What it is.
        what: &'static str,
        /// The value.
        value: String,
    },
    /// `keel = "cargo"` and no commit of keel to install is known.
    #[error(
        "the pipeline installs keel with `cargo install`, and which commit of keel to pin is unknown (this keel was not built from a git checkout)"
    )]
    NoKeelRev,
    /// `keel-rev` is not a full commit hash.
    #[error(
        "`keel-rev = \"{0}\"` in [workspace.metadata.keel.ci] is not a full commit hash (40 hexadecimal digits)"
    )]
    BadKeelRev(String),
    /// A store secret's name is not an environment variable's.
    #[error(
        "`{0}` in `secrets` of [workspace.metadata.keel.ci.store] is not a secret's name (A-Z, 0-9 and _, not starting with a digit or GITHUB_)"
    )]
    BadSecretName(String),
    /// A template failed: a bug in keel.
    #[error("internal error: the {0} template failed")]
    Template(&'static str, #[source] minijinja::Error),
}

impl Error {
    /// What to do about the error.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Error::NoKeelRev | Error::BadKeelRev(_) => {
                "set `keel-rev` in [workspace.metadata.keel.ci] to the full commit hash of keel to build (`git ls-remote https://github.com/keel-rs/keel main`), or `keel = \"installer\"` to take keel's installer from a keel release"
            }
            Error::BadInstall(_) => {
                "write `keel = \"cargo\"` (the default) or `keel = \"installer\"`"
            }
            Error::BadSecretName(_) => {
                "name each secret as the repository's settings spell it, e.g. `secrets = [\"AWS_ACCESS_KEY_ID\", \"AWS_SECRET_ACCESS_KEY\"]`"
            }
            Error::Unsafe { .. } => {
                "settings are written into the pipeline as they are; give secrets by name (`secrets` in the store settings), not as `${{ }}` expressions"
            }
            _ => return None,
        })
    }
}

/// The runner of a target on GitHub Actions, unless the settings name one.
pub fn default_runner(target: &TargetTriple) -> &'static str {
    match (target.os(), target.arch()) {
        (Os::Linux, "aarch64") => "ubuntu-24.04-arm",
        (Os::MacOs, "x86_64") => "macos-15-intel",
        (Os::MacOs, _) => "macos-latest",
        (Os::Windows, "aarch64") => "windows-11-arm",
        (Os::Windows, _) => "windows-latest",
        _ => "ubuntu-latest",
    }
}

/// The runner tag of a target on GitLab's hosted runners.
fn gitlab_runner(target: &TargetTriple) -> &'static str {
    match (target.os(), target.arch()) {
        (Os::Linux, "aarch64") => "saas-linux-small-arm64",
        (Os::MacOs, _) => "saas-macos-medium-m1",
        (Os::Windows, _) => "saas-windows-medium-amd64",
        _ => "saas-linux-small-amd64",
    }
}

/// One build of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatrixEntry {
    /// The target triple.
    pub target: String,
    /// The GitHub Actions runner it builds on.
    pub runner: String,
    /// The GitLab runner tag it builds on.
    pub gitlab_runner: String,
    /// What builds it (`cargo`, `zigbuild`, `cross`), from the `builders` setting.
    pub builder: &'static str,
    /// Whether it is a Linux target (GitLab builds those in the `rust` image).
    pub linux: bool,
}

/// `target  runner  builder`, in columns.
impl std::fmt::Display for MatrixEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:<32} {:<18} {}",
            self.target, self.runner, self.builder
        )
    }
}

/// The targets CI builds: the CI setting, else the workspace's `targets`, else
/// [`DEFAULT_TARGETS`].
pub fn ci_targets(
    config: &CiConfig,
    workspace_targets: &[String],
) -> Result<Vec<TargetTriple>, Error> {
    let chosen: Vec<&str> = if !config.targets.is_empty() {
        config.targets.iter().map(String::as_str).collect()
    } else if !workspace_targets.is_empty() {
        workspace_targets.iter().map(String::as_str).collect()
    } else {
        DEFAULT_TARGETS.to_vec()
    };
    let mut targets = chosen
        .into_iter()
        .map(|t| TargetTriple::parse(t).map_err(|_| Error::BadTarget(t.to_owned())))
        .collect::<Result<Vec<_>, _>>()?;
    targets.sort();
    targets.dedup();
    Ok(targets)
}

/// The build matrix: each target with its runner and builder.
pub fn matrix(
    targets: &[TargetTriple],
    config: &CiConfig,
    builders: &BTreeMap<String, BuilderName>,
) -> Vec<MatrixEntry> {
    targets
        .iter()
        .map(|target| MatrixEntry {
            target: target.to_string(),
            runner: config
                .runners
                .get(target.as_str())
                .cloned()
                .unwrap_or_else(|| default_runner(target).to_owned()),
            gitlab_runner: gitlab_runner(target).to_owned(),
            builder: builders
                .get(target.as_str())
                .copied()
                .unwrap_or(BuilderName::Cargo)
                .as_str(),
            linux: target.os() == Os::Linux,
        })
        .collect()
}

/// One job of the build matrix, as GitHub Actions takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct MatrixInclude<'a> {
    /// The target triple.
    pub target: &'a str,
    /// The runner's label.
    pub runner: &'a str,
    /// The builder.
    pub builder: &'a str,
}

/// The build matrix as GitHub Actions takes it: `keel ci matrix --format json`'s output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct MatrixJson<'a> {
    /// One job per target.
    pub include: Vec<MatrixInclude<'a>>,
}

/// The matrix as GitHub Actions takes it: `{"include": [{"target", "runner", "builder"}, ...]}`.
pub fn matrix_json(entries: &[MatrixEntry]) -> String {
    let matrix = MatrixJson {
        include: entries
            .iter()
            .map(|e| MatrixInclude {
                target: &e.target,
                runner: &e.runner,
                builder: e.builder,
            })
            .collect(),
    };
    serde_json::to_string(&matrix).expect("a matrix is plain JSON data")
}

/// What a pipeline is made from.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    /// The keel version the pipeline installs (this keel's).
    pub keel_version: &'a str,
    /// The commit of keel's repository this keel was built from, if known: the one `cargo
    /// install` pins unless the settings name another.
    pub keel_rev: Option<&'a str>,
    /// The packages released by their own tags (`<package>-v*`).
    pub apps: &'a [String],
    /// The targets CI builds.
    pub targets: &'a [TargetTriple],
    /// `[workspace.metadata.keel.ci]`.
    pub config: &'a CiConfig,
    /// The `builders` setting: the builder of each target not built with cargo.
    pub builders: &'a BTreeMap<String, BuilderName>,
    /// Where images go (`registries` in the apps' image settings); empty: no image is made.
    pub images: &'a [ImagePush],
    /// Whether an app keeps databases: each native build then rehearses its update
    /// (`keel rehearse`) before the release job merges the reports and publishes.
    pub rehearse: bool,
}

/// The images pushed to one `REGISTRY/NAMESPACE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePush {
    /// `REGISTRY/NAMESPACE`, as the settings give it.
    pub destination: String,
    /// The registry's host, which the pipeline logs in to (`ghcr.io`, `docker.io`).
    pub host: String,
    /// The apps pushed there.
    pub apps: Vec<String>,
}

/// How a pipeline logs in to a registry: the user and password as GitHub expressions and as
/// GitLab variables, and the secrets a maintainer must create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistryLogin {
    /// The host.
    pub host: String,
    /// The user on GitHub Actions (an expression).
    pub github_user: String,
    /// The password on GitHub Actions (an expression).
    pub github_password: String,
    /// The user on GitLab CI (a variable).
    pub gitlab_user: String,
    /// The password on GitLab CI (a variable).
    pub gitlab_password: String,
    /// The repository secrets (GitHub) or CI/CD variables (GitLab) it needs: none for GitHub's
    /// own registry on GitHub, or GitLab's on GitLab.
    pub github_secrets: Vec<String>,
    /// The CI/CD variables it needs on GitLab.
    pub gitlab_secrets: Vec<String>,
}

/// The secret names of a registry that is neither GitHub's nor GitLab's: Docker Hub's usual
/// `DOCKERHUB_USERNAME`/`DOCKERHUB_TOKEN`, else the host in capitals (`QUAY_IO_USERNAME`).
fn secret_names(host: &str) -> (String, String) {
    match host {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => (
            "DOCKERHUB_USERNAME".to_owned(),
            "DOCKERHUB_TOKEN".to_owned(),
        ),
        _ => {
            let mut stem: String = host
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_uppercase()
                    } else {
                        '_'
                    }
                })
                .collect();
            if stem.starts_with(|c: char| c.is_ascii_digit()) {
                stem = format!("REGISTRY_{stem}");
            }
            (format!("{stem}_USERNAME"), format!("{stem}_PASSWORD"))
        }
    }
}

/// How the pipelines log in to `host`.
pub fn registry_login(host: &str) -> RegistryLogin {
    let (user, password) = secret_names(host);
    let (github_user, github_password, github_secrets) = if host == "ghcr.io" {
        (
            "${{ github.actor }}".to_owned(),
            "${{ github.token }}".to_owned(),
            Vec::new(),
        )
    } else {
        (
            format!("${{{{ secrets.{user} }}}}"),
            format!("${{{{ secrets.{password} }}}}"),
            vec![user.clone(), password.clone()],
        )
    };
    let (gitlab_user, gitlab_password, gitlab_secrets) = if host == "registry.gitlab.com" {
        (
            "$CI_REGISTRY_USER".to_owned(),
            "$CI_REGISTRY_PASSWORD".to_owned(),
            Vec::new(),
        )
    } else {
        (
            format!("${user}"),
            format!("${password}"),
            vec![user, password],
        )
    };
    RegistryLogin {
        host: host.to_owned(),
        github_user,
        github_password,
        gitlab_user,
        gitlab_password,
        github_secrets,
        gitlab_secrets,
    }
}

/// The secrets (GitHub) or CI/CD variables (GitLab) a pipeline uses, sorted.
pub fn secrets(inputs: &Inputs<'_>, gitlab: bool) -> Vec<String> {
    let mut names = vec![
        "KEEL_SIGNING_KEY".to_owned(),
        "KEEL_SIGNING_KEY_PASSWORD".to_owned(),
    ];
    if let Some(store) = &inputs.config.store {
        names.extend(store.secrets.iter().cloned());
    }
    for push in inputs.images {
        let login = registry_login(&push.host);
        names.extend(if gitlab {
            login.gitlab_secrets
        } else {
            login.github_secrets
        });
    }
    names.sort();
    names.dedup();
    names
}

/// A value as one double-quoted YAML scalar.
fn yaml(value: String) -> String {
    serde_json::to_string(&value).expect("a string is plain JSON data")
}

/// A value as one single-quoted shell word.
fn shell(value: String) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// Refuses values that could break out of where they are written.
fn checked(what: &'static str, value: &str) -> Result<(), Error> {
    if value.contains("${{") {
        return Err(Error::Unsafe {
            what,
            value: value.to_owned(),
        });
    }
    Ok(())
}

fn render(
    name: &'static str,
    source: &'static str,
    context: impl Serialize,
) -> Result<String, Error> {
    let mut env = Environment::new();
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .block_delimiters("[%", "%]")
            .variable_delimiters("[[", "]]")
            .comment_delimiters("[#", "#]")
            .keep_trailing_newline(true)
            .build()
            .map_err(|e| Error::Template(name, e))?,
    );
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_filter("yaml", yaml);
    env.add_filter("shell", shell);
    env.add_template(name, source)
        .map_err(|e| Error::Template(name, e))?;
    env.get_template(name)
        .and_then(|t| t.render(minijinja::value::Serde(context)))
        .map_err(|e| Error::Template(name, e))
}

#[derive(Serialize)]
struct StoreView {
    dir: String,
    /// The secrets its download and upload commands are given.
    secrets: Vec<String>,
    download: Option<String>,
    upload: Option<String>,
    refresh: Option<String>,
}

#[derive(Serialize)]
struct Context<'a> {
    keel_version: &'a str,
    tag_patterns: Vec<String>,
    actions: Actions,
    tools: Tools,
    /// Whether some target is built with cargo-zigbuild.
    zigbuild: bool,
    /// Whether some target is built with cross.
    cross: bool,
    install_keel: String,
    /// The commit of keel that `cargo install` builds; `None`: keel's installer.
    keel_rev: Option<&'a str>,
    smoke: &'a [String],
    public_key: Option<&'a str>,
    store: Option<StoreView>,
    matrix: Vec<MatrixEntry>,
    /// Where images are pushed (`destination`, `apps`); empty: no image step.
    images: Vec<ImageView>,
    /// The registries logged in to, each once.
    logins: Vec<RegistryLogin>,
    /// Whether one of them is GitHub's (the release job then may write packages).
    ghcr: bool,
    /// Whether the native builds rehearse the update.
    rehearse: bool,
}

#[derive(Serialize)]
struct ImageView {
    destination: String,
    apps: Vec<String>,
}

/// A name GitHub and GitLab take for a secret and a shell for a variable.
fn secret_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with("GITHUB_")
}

/// The commit of keel's repository that `keel = "cargo"` installs.
fn keel_rev<'a>(inputs: &Inputs<'a>) -> Result<&'a str, Error> {
    let rev = match &inputs.config.keel_rev {
        Some(rev) => rev.as_str(),
        None => inputs.keel_rev.ok_or(Error::NoKeelRev)?,
    };
    if rev.len() != 40 || !rev.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::BadKeelRev(rev.to_owned()));
    }
    Ok(rev)
}

/// How keel gets onto a runner: `Some(commit)` to build it with cargo, `None` for its
/// installer.
fn keel_source<'a>(inputs: &Inputs<'a>) -> Result<Option<&'a str>, Error> {
    match inputs.config.keel.as_deref().unwrap_or("cargo") {
        "cargo" => keel_rev(inputs).map(Some),
        "installer" => Ok(None),
        other => Err(Error::BadInstall(other.to_owned())),
    }
}

/// The steps that put keel on a runner, indented as steps of a job.
fn install_steps(rev: Option<&str>) -> String {
    match rev {
        None => r#"      - name: Install keel (its installer checks the download's sha256)
        if: runner.os != 'Windows'
        run: |
          curl --proto '=https' --tlsv1.2 -LsSf "https://github.com/keel-rs/keel/releases/download/v${KEEL_VERSION}/keel-installer.sh" | sh -s -- --to "$HOME/.keel/bin" --no-modify-path
          echo "$HOME/.keel/bin" >> "$GITHUB_PATH"
      - name: Install keel (Windows)
        if: runner.os == 'Windows'
        shell: pwsh
        run: |
          $env:KEEL_INSTALL_DIR = Join-Path $HOME '.keel\bin'
          $env:KEEL_NO_MODIFY_PATH = '1'
          Invoke-RestMethod "https://github.com/keel-rs/keel/releases/download/v$env:KEEL_VERSION/keel-installer.ps1" | Invoke-Expression
          Add-Content -Path $env:GITHUB_PATH -Value $env:KEEL_INSTALL_DIR"#
            .to_owned(),
        Some(rev) => format!(
            r#"      # keel, built from one commit of its repository into ~/.cargo/bin (on PATH on GitHub's
      # runners); never cached, as a cache restored here could come from another run.
      - name: Install keel
        run: cargo install --locked --git https://github.com/keel-rs/keel --rev {rev} keel"#
        ),
    }
}

fn context<'a>(inputs: &Inputs<'a>) -> Result<Context<'a>, Error> {
    let config = inputs.config;
    let keel_rev = keel_source(inputs)?;
    for command in &config.smoke {
        checked("the smoke command", command)?;
    }
    let store = match &config.store {
        Some(store) => {
            for value in [&store.download, &store.upload, &store.refresh]
                .into_iter()
                .flatten()
            {
                checked("the store command", value)?;
            }
            for name in &store.secrets {
                if !secret_name(name) {
                    return Err(Error::BadSecretName(name.clone()));
                }
            }
            Some(StoreView {
                dir: store.dir.clone(),
                download: store.download.clone(),
                upload: store.upload.clone(),
                refresh: store.refresh.clone(),
                secrets: store.secrets.clone(),
            })
        }
        None => None,
    };
    let mut images = Vec::new();
    let mut logins: Vec<RegistryLogin> = Vec::new();
    for push in inputs.images {
        checked("the image registry", &push.destination)?;
        checked("the image registry", &push.host)?;
        images.push(ImageView {
            destination: push.destination.clone(),
            apps: push.apps.clone(),
        });
        if !logins.iter().any(|l| l.host == push.host) {
            logins.push(registry_login(&push.host));
        }
    }
    logins.sort_by(|a, b| a.host.cmp(&b.host));
    let matrix = matrix(inputs.targets, config, inputs.builders);
    let mut tag_patterns = vec!["v*".to_owned()];
    tag_patterns.extend(inputs.apps.iter().map(|app| format!("{app}-v*")));
    Ok(Context {
        keel_version: inputs.keel_version,
        tag_patterns,
        actions: ACTIONS,
        tools: TOOLS,
        zigbuild: matrix.iter().any(|e| e.builder == "zigbuild"),
        cross: matrix.iter().any(|e| e.builder == "cross"),
        install_keel: install_steps(keel_rev),
        keel_rev,
        smoke: &config.smoke,
        public_key: config.public_key.as_deref(),
        store,
        matrix,
        ghcr: logins.iter().any(|l| l.host == "ghcr.io"),
        rehearse: inputs.rehearse,
        images,
        logins,
    })
}

/// `.github/workflows/release.yml`.
pub fn github_workflow(inputs: &Inputs<'_>) -> Result<String, Error> {
    render(
        "github.yml",
        include_str!("../templates/github.yml.j2"),
        context(inputs)?,
    )
}

/// `.gitlab-ci.yml`.
pub fn gitlab_pipeline(inputs: &Inputs<'_>) -> Result<String, Error> {
    render(
        "gitlab.yml",
        include_str!("../templates/gitlab.yml.j2"),
        context(inputs)?,
    )
}

/// A unified diff (`@@` hunks with two lines of context) from `old`, the file named `old_name`,
/// to `new`, what `keel ci init` would write; empty when they are the same.
pub fn diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    if old == new {
        return String::new();
    }
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header(old_name, new_name)
        .to_string()
}

/// The runners of the targets, for messages.
pub fn runners(entries: &[MatrixEntry]) -> BTreeMap<String, String> {
    entries
        .iter()
        .map(|e| (e.target.clone(), e.runner.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_runners_fit_the_five_platforms() {
        let runner = |t: &str| default_runner(&TargetTriple::parse(t).unwrap());
        assert_eq!(runner("x86_64-unknown-linux-gnu"), "ubuntu-latest");
        assert_eq!(runner("aarch64-unknown-linux-musl"), "ubuntu-24.04-arm");
        assert_eq!(runner("x86_64-apple-darwin"), "macos-15-intel");
        assert_eq!(runner("aarch64-apple-darwin"), "macos-latest");
        assert_eq!(runner("x86_64-pc-windows-msvc"), "windows-latest");
    }

    #[test]
    fn the_diff_names_what_changed() {
        assert_eq!(
            diff("a\nb\nc\n", "a\nB\nc\n", "old", "new"),
            "--- old\n+++ new\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
        );
        assert_eq!(diff("same\n", "same\n", "old", "new"), "");
    }
}
