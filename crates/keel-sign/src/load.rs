//! Where a signing key comes from: a secret key file, or `KEEL_SIGNING_KEY` (the file's
//! contents, as CI secrets hold them); its password from `KEEL_SIGNING_KEY_PASSWORD`, else
//! from the caller (who may ask on a terminal). No message ever holds a key or a password.

use std::path::Path;

use keel_schema::env::{KEEL_SIGNING_KEY, KEEL_SIGNING_KEY_PASSWORD};

use crate::{Error, Secret, SigningKey};

/// A password the caller asks for; its error is kept as the cause.
pub type AskPassword<'a> =
    &'a mut dyn FnMut() -> Result<Secret, Box<dyn std::error::Error + Send + Sync>>;

fn env_secret(key: &str) -> Option<Secret> {
    keel_schema::env::var(key).map(Secret::new)
}

/// Whether `KEEL_SIGNING_KEY` holds a key (planning needs to know a key is there, not the
/// key).
pub fn key_in_environment() -> bool {
    env_secret(KEEL_SIGNING_KEY).is_some()
}

/// The password of an encrypted key: `KEEL_SIGNING_KEY_PASSWORD`, else `ask`.
pub fn password(ask: AskPassword<'_>) -> Result<Secret, Error> {
    match env_secret(KEEL_SIGNING_KEY_PASSWORD) {
        Some(password) => Ok(password),
        None => ask().map_err(Error::Password),
    }
}

/// The signing key from the file `path`, else from `KEEL_SIGNING_KEY`, decrypted (see
/// [`password`]); `None` when neither is given.
pub fn signing_key(path: Option<&Path>, ask: AskPassword<'_>) -> Result<Option<SigningKey>, Error> {
    let (text, origin) = match path {
        Some(path) => (
            Secret::new(fs_err::read_to_string(path).map_err(|source| Error::ReadKey { source })?),
            path.display().to_string(),
        ),
        None => match env_secret(KEEL_SIGNING_KEY) {
            Some(text) => (text, KEEL_SIGNING_KEY.to_owned()),
            None => return Ok(None),
        },
    };
    let unusable = |source: Error| Error::UseKey {
        origin: origin.clone(),
        source: Box::new(source),
    };
    let password = if SigningKey::is_encrypted(&text).map_err(unusable)? {
        Some(password(ask).map_err(unusable)?)
    } else {
        None
    };
    SigningKey::from_text(&text, password.as_ref())
        .map(Some)
        .map_err(unusable)
}
