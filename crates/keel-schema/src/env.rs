//! Every environment variable keel reads, in one place.
//!
//! The release tools, the command line and the updater that apps embed all name them from
//! here, so a variable has one spelling and one documented meaning.

/// The folder keel keeps installs in (default: `$XDG_STATE_HOME/keel`, else
/// `~/.local/state/keel`).
pub const KEEL_HOME: &str = "KEEL_HOME";
/// Set for a hook's process while an update runs it: `migrate` or `check`.
pub const KEEL_UPDATE_HOOK: &str = "KEEL_UPDATE_HOOK";
/// The HTTP timeout of store requests, in seconds.
pub const KEEL_HTTP_TIMEOUT: &str = "KEEL_HTTP_TIMEOUT";
/// `1` lets the store client use a plain `http://` store URL on another machine than this one
/// (loopback addresses are always allowed): what `--allow-http` does.
pub const KEEL_ALLOW_HTTP: &str = "KEEL_ALLOW_HTTP";
/// A store URL that replaces the one an install recorded (for stores that need credentials).
pub const KEEL_STORE_URL: &str = "KEEL_STORE_URL";
/// A signing key file's contents (a CI secret).
pub const KEEL_SIGNING_KEY: &str = "KEEL_SIGNING_KEY";
/// The password of an encrypted signing key.
pub const KEEL_SIGNING_KEY_PASSWORD: &str = "KEEL_SIGNING_KEY_PASSWORD";
/// The builder: `cargo` or `fake`.
pub const KEEL_BUILDER: &str = "KEEL_BUILDER";
/// The time stamped on every archive entry, in seconds since the Unix epoch.
pub const SOURCE_DATE_EPOCH: &str = "SOURCE_DATE_EPOCH";
/// A GitHub token that may write the repository's contents (`keel publish --to github:`).
pub const GITHUB_TOKEN: &str = "GITHUB_TOKEN";
/// A GitHub token, as the `gh` tool names it; used when `GITHUB_TOKEN` is not set.
pub const GH_TOKEN: &str = "GH_TOKEN";
/// The GitHub API's base URL (GitHub Enterprise Server), default `https://api.github.com`.
pub const KEEL_GITHUB_API_URL: &str = "KEEL_GITHUB_API_URL";
/// `true` on GitHub Actions.
pub const GITHUB_ACTIONS: &str = "GITHUB_ACTIONS";
/// `tag` when GitHub Actions runs for a tag.
pub const GITHUB_REF_TYPE: &str = "GITHUB_REF_TYPE";
/// The tag or branch GitHub Actions runs for.
pub const GITHUB_REF_NAME: &str = "GITHUB_REF_NAME";
/// The full ref GitHub Actions runs for (`refs/tags/v1.0.0`).
pub const GITHUB_REF: &str = "GITHUB_REF";
/// The GitHub server (`https://github.com`).
pub const GITHUB_SERVER_URL: &str = "GITHUB_SERVER_URL";
/// The repository, `owner/name`.
pub const GITHUB_REPOSITORY: &str = "GITHUB_REPOSITORY";
/// The workflow run's id.
pub const GITHUB_RUN_ID: &str = "GITHUB_RUN_ID";
/// The workflow run's attempt.
pub const GITHUB_RUN_ATTEMPT: &str = "GITHUB_RUN_ATTEMPT";

/// cargo's home (its registry cache, git checkouts and config); default `~/.cargo`.
pub const CARGO_HOME: &str = "CARGO_HOME";
/// The user's home folder.
pub const HOME: &str = "HOME";

/// `$CARGO_HOME`, else `~/.cargo`, as cargo finds it.
pub fn cargo_home() -> Option<std::path::PathBuf> {
    path(CARGO_HOME).or_else(|| path(HOME).map(|home| home.join(".cargo")))
}

/// The value of `key`, or `None` when it is unset, empty or not Unicode.
pub fn var(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|value| !value.is_empty())
}

/// The value of `key` as a path, or `None` when it is unset or empty.
pub fn path(key: &str) -> Option<std::path::PathBuf> {
    std::env::var_os(key)
        .filter(|value| !value.is_empty())
        .map(std::path::PathBuf::from)
}

/// The user name for the OCI registry `keel image push` pushes to (with
/// [`KEEL_REGISTRY_PASSWORD`]); else `~/.docker/config.json` is read.
pub const KEEL_REGISTRY_USER: &str = "KEEL_REGISTRY_USER";
/// The password or token for the OCI registry `keel image push` pushes to.
pub const KEEL_REGISTRY_PASSWORD: &str = "KEEL_REGISTRY_PASSWORD";
/// The folder holding Docker's `config.json` (default `~/.docker`), read for registry
/// credentials and credential helpers.
pub const DOCKER_CONFIG: &str = "DOCKER_CONFIG";
/// A PEM file of the certificate authorities HTTPS servers are checked against, instead of the
/// platform's roots (for private registries, stores and GitHub Enterprise servers).
pub const SSL_CERT_FILE: &str = "SSL_CERT_FILE";
