//! Registry credentials: `KEEL_REGISTRY_USER`/`KEEL_REGISTRY_PASSWORD`, else Docker's
//! `config.json` (`credHelpers`, `credsStore`, `auths`), as `docker login` leaves them.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use keel_schema::env;
use serde::Deserialize;

use crate::Error;

/// A user name and a password or token. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub user: String,
    secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl Credentials {
    /// Credentials of `user` with `secret`.
    pub fn new(user: impl Into<String>, secret: impl Into<String>) -> Credentials {
        Credentials {
            user: user.into(),
            secret: secret.into(),
        }
    }

    /// The `Authorization` header value for HTTP Basic.
    pub(crate) fn basic(&self) -> String {
        let pair = format!("{}:{}", self.user, self.secret);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }

    /// The secret, to redact it from anything shown.
    pub(crate) fn secret(&self) -> &str {
        &self.secret
    }
}

/// The key Docker's configuration files a registry under.
pub fn config_key(registry: &str) -> String {
    match registry {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => {
            "https://index.docker.io/v1/".to_owned()
        }
        other => other.to_owned(),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default)]
    creds_store: Option<String>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// The folder holding Docker's `config.json`.
fn docker_config_dir() -> Option<PathBuf> {
    env::path(env::DOCKER_CONFIG).or_else(|| env::path("HOME").map(|home| home.join(".docker")))
}

/// Strips a scheme and path, as Docker does when it matches `auths` keys.
fn host_of(key: &str) -> &str {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    key.split('/').next().unwrap_or(key)
}

/// Which registry credentials are looked up for: `KEEL_REGISTRY_USER` and
/// `KEEL_REGISTRY_PASSWORD` name no registry, so they go only where keel pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The registry keel pushes to (or one image settings name as a destination): the
    /// environment's credentials, else Docker's configuration.
    Destination,
    /// Any other registry (a base image's): Docker's configuration only, which names its
    /// registry.
    Other,
}

/// The credentials for `registry`, from the environment (for a destination only) or Docker's
/// configuration; `None` when nothing names the registry (anonymous access).
pub fn lookup(registry: &str, purpose: Purpose) -> Result<Option<Credentials>, Error> {
    if let (Purpose::Destination, Some(user), Some(secret)) = (
        purpose,
        env::var(env::KEEL_REGISTRY_USER),
        env::var(env::KEEL_REGISTRY_PASSWORD),
    ) {
        return Ok(Some(Credentials::new(user, secret)));
    }
    let Some(dir) = docker_config_dir() else {
        return Ok(None);
    };
    let path = dir.join("config.json");
    let text = match fs_err::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => {
            return Err(Error::Credentials {
                reason: err.to_string(),
            });
        }
    };
    let config: DockerConfig = serde_json::from_str(&text).map_err(|err| Error::Credentials {
        reason: format!("{} is not valid: {err}", path.display()),
    })?;
    from_config(&config, registry)
}

fn from_config(config: &DockerConfig, registry: &str) -> Result<Option<Credentials>, Error> {
    let key = config_key(registry);
    if let Some(helper) = config
        .cred_helpers
        .get(&key)
        .or_else(|| config.cred_helpers.get(registry))
    {
        return helper_get(helper, &key);
    }
    let entry = config
        .auths
        .iter()
        .find(|(name, _)| *name == &key || host_of(name) == host_of(&key))
        .map(|(_, entry)| entry);
    if let Some(entry) = entry {
        if let Some(auth) = entry.auth.as_deref().filter(|auth| !auth.is_empty()) {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| Error::Credentials {
                    reason: format!(
                        "the `auth` of {key} in Docker's config.json is not base64 of user:password"
                    ),
                })?;
            let (user, secret) = decoded.split_once(':').ok_or_else(|| Error::Credentials {
                reason: format!("the `auth` of {key} in Docker's config.json has no `:`"),
            })?;
            return Ok(Some(Credentials::new(user, secret)));
        }
        if let (Some(user), Some(secret)) = (&entry.username, &entry.password) {
            return Ok(Some(Credentials::new(user.clone(), secret.clone())));
        }
    }
    if let Some(store) = &config.creds_store {
        return helper_get(store, &key);
    }
    Ok(None)
}

/// Where the credentials of a login went (in JSON, `{"file": PATH}` or `{"helper": NAME}`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Saved {
    /// Into `config.json`'s `auths` (the file, written with mode 0600).
    File(PathBuf),
    /// Into the credential helper `docker-credential-<name>` that `config.json` names.
    Helper(String),
}

/// Records `credentials` for `registry` where Docker's `config.json` keeps them, as
/// `docker login` does: the registry's credential helper, else the file's `credsStore`, else
/// base64 in `auths` (the file written with mode 0600 and replaced whole). Every other key of
/// the file is kept.
pub fn save(registry: &str, credentials: &Credentials) -> Result<Saved, Error> {
    let dir = docker_config_dir().ok_or_else(|| Error::Credentials {
        reason: "neither DOCKER_CONFIG nor HOME is set: no place for config.json".to_owned(),
    })?;
    save_in(&dir, registry, credentials)
}

fn save_in(dir: &Path, registry: &str, credentials: &Credentials) -> Result<Saved, Error> {
    let failed = |reason: String| Error::Credentials { reason };
    let path = dir.join("config.json");
    let mut config: serde_json::Map<String, serde_json::Value> = match fs_err::read_to_string(&path)
    {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|err| failed(format!("{} is not valid: {err}", path.display())))?,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => serde_json::Map::new(),
        Err(err) => return Err(failed(err.to_string())),
    };
    let parsed: DockerConfig = serde_json::from_value(serde_json::Value::Object(config.clone()))
        .map_err(|err| failed(format!("{} is not valid: {err}", path.display())))?;
    let key = config_key(registry);
    let helper = parsed
        .cred_helpers
        .get(&key)
        .or_else(|| parsed.cred_helpers.get(registry))
        .or(parsed.creds_store.as_ref());
    if let Some(helper) = helper {
        helper_store(helper, &key, credentials)?;
        return Ok(Saved::Helper(helper.clone()));
    }
    let auths = config
        .entry("auths")
        .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    let Some(auths) = auths.as_object_mut() else {
        return Err(failed(format!(
            "`auths` in {} is not an object",
            path.display()
        )));
    };
    // An older entry for the same host under another spelling would shadow this one.
    auths.retain(|name, _| name == &key || host_of(name) != host_of(&key));
    let pair = format!("{}:{}", credentials.user, credentials.secret);
    auths.insert(
        key,
        serde_json::json!({ "auth": base64::engine::general_purpose::STANDARD.encode(pair) }),
    );
    let mut text = serde_json::to_string_pretty(&config).expect("a JSON map serialises");
    text.push('\n');
    keel_fs::create_dir(dir).map_err(|err| failed(err.to_string()))?;
    keel_fs::write_atomic(&path, text.as_bytes(), Some(0o600))
        .map_err(|err| failed(err.to_string()))?;
    Ok(Saved::File(path))
}

/// Runs `docker-credential-<helper> <action>` with `input` on its standard input: its output
/// and whether it succeeded.
fn run_helper(helper: &str, action: &str, input: &[u8]) -> Result<(Vec<u8>, bool), Error> {
    let program = format!("docker-credential-{helper}");
    let failed = |reason: String| Error::Credentials {
        reason: format!("{program}: {reason}"),
    };
    let mut child = Command::new(&program)
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|err| {
            failed(format!(
                "cannot run it ({err}); Docker's config.json names it"
            ))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input)
            .map_err(|err| failed(err.to_string()))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|err| failed(err.to_string()))?;
    Ok((output.stdout, output.status.success()))
}

/// Gives `docker-credential-<helper> store` the credentials of `key`.
fn helper_store(helper: &str, key: &str, credentials: &Credentials) -> Result<(), Error> {
    let input = serde_json::json!({
        "ServerURL": key,
        "Username": credentials.user,
        "Secret": credentials.secret,
    });
    let (_, succeeded) = run_helper(helper, "store", input.to_string().as_bytes())?;
    if !succeeded {
        return Err(Error::Credentials {
            reason: format!("docker-credential-{helper}: `store` failed"),
        });
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperAnswer {
    username: String,
    secret: String,
}

/// Asks `docker-credential-<helper>` for the credentials of `key`.
fn helper_get(helper: &str, key: &str) -> Result<Option<Credentials>, Error> {
    let (stdout, succeeded) = run_helper(helper, "get", key.as_bytes())?;
    if !succeeded {
        // Helpers answer "credentials not found" with a failure: anonymous access.
        return Ok(None);
    }
    let answer: HelperAnswer = serde_json::from_slice(&stdout).map_err(|_| Error::Credentials {
        reason: format!(
            "docker-credential-{helper}: its answer is not the JSON credential helpers give"
        ),
    })?;
    Ok(Some(Credentials::new(answer.username, answer.secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> DockerConfig {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn auths_are_matched_by_host_and_docker_hub_by_its_old_key() {
        let c = config(
            r#"{"auths": {"https://index.docker.io/v1/": {"auth": "dXNlcjpodWI="},
                          "http://127.0.0.1:5000": {"auth": "bG9jYWw6c2VjcmV0Og=="}}}"#,
        );
        let hub = from_config(&c, "docker.io").unwrap().unwrap();
        assert_eq!((hub.user.as_str(), hub.secret()), ("user", "hub"));
        let local = from_config(&c, "127.0.0.1:5000").unwrap().unwrap();
        // A `:` in the password is kept.
        assert_eq!((local.user.as_str(), local.secret()), ("local", "secret:"));
        assert_eq!(from_config(&c, "ghcr.io").unwrap(), None);
        assert!(!format!("{local:?}").contains("\"secret:\""), "{local:?}");
    }

    #[test]
    fn a_login_is_saved_where_lookup_finds_it_and_keeps_the_rest_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        fs_err::write(
            &path,
            r#"{"auths": {"http://ghcr.io/v1/": {"auth": "b2xkOm9sZA=="},
                          "quay.io": {"auth": "cTpx"}}, "psFormat": "table"}"#,
        )
        .unwrap();
        let saved = save_in(dir.path(), "ghcr.io", &Credentials::new("me", "s:cret")).unwrap();
        assert_eq!(saved, Saved::File(path.clone()));
        let text = fs_err::read_to_string(&path).unwrap();
        let found = from_config(&config(&text), "ghcr.io").unwrap().unwrap();
        assert_eq!((found.user.as_str(), found.secret()), ("me", "s:cret"));
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["psFormat"], "table");
        assert_eq!(value["auths"]["quay.io"]["auth"], "cTpx");
        // The old spelling of the same host is gone, so it cannot shadow the new login.
        assert!(value["auths"].get("http://ghcr.io/v1/").is_none(), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs_err::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Docker Hub is saved under the key Docker uses for it.
        save_in(dir.path(), "docker.io", &Credentials::new("hub", "x")).unwrap();
        let value: serde_json::Value =
            serde_json::from_str(&fs_err::read_to_string(&path).unwrap()).unwrap();
        assert!(value["auths"].get("https://index.docker.io/v1/").is_some());
    }

    #[test]
    fn a_missing_credential_helper_is_named() {
        let c = config(r#"{"credHelpers": {"ghcr.io": "keel-test-no-such-helper"}}"#);
        let err = from_config(&c, "ghcr.io").unwrap_err().to_string();
        assert!(
            err.contains("docker-credential-keel-test-no-such-helper"),
            "{err}"
        );
    }
}
