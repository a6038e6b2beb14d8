//! `keel keygen`, `keel sign`, and loading the signing key for `keel release` and `keel merge`.
//!
//! A key comes from `--sign-key FILE` or from `KEEL_SIGNING_KEY` (the file's contents, as CI
//! secrets hold it); its password from `KEEL_SIGNING_KEY_PASSWORD` or a terminal prompt. No
//! message ever includes a key or a password.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{Context, bail};
use keel_schema::env::{KEEL_SIGNING_KEY as KEY_ENV, KEEL_SIGNING_KEY_PASSWORD as PASSWORD_ENV};
use keel_sign::{Secret, SigningKey};

use crate::cli::{GlobalArgs, KeygenArgs, SignFilesArgs};
use crate::hinted;

fn env_secret(key: &str) -> Option<Secret> {
    std::env::var(key)
        .ok()
        .filter(|v| !v.is_empty())
        .map(Secret::new)
}

/// Whether `KEEL_SIGNING_KEY` holds a key.
pub fn key_in_environment() -> bool {
    env_secret(KEY_ENV).is_some()
}

/// The password: from the environment, else asked for on a terminal.
fn read_password(confirm: bool) -> anyhow::Result<Secret> {
    if let Some(password) = env_secret(PASSWORD_ENV) {
        return Ok(password);
    }
    if !std::io::stdin().is_terminal() {
        bail!(hinted(
            "a password is needed for the secret key, and there is no terminal to ask for it",
            format!("set {PASSWORD_ENV}"),
        ));
    }
    let password = Secret::new(
        rpassword::prompt_password("Password for the secret key: ")
            .context("could not read the password")?,
    );
    if password.expose().is_empty() {
        bail!(hinted(
            "the password is empty",
            "type a password, or pass --unencrypted for a key without one",
        ));
    }
    if confirm {
        let again = Secret::new(
            rpassword::prompt_password("Password again: ")
                .context("could not read the password")?,
        );
        if again.expose() != password.expose() {
            bail!("the two passwords differ");
        }
    }
    Ok(password)
}

/// The signing key from `--sign-key` or `KEEL_SIGNING_KEY`, decrypted; `None` when neither is
/// given.
pub fn load_signing_key(path: Option<&Path>) -> anyhow::Result<Option<SigningKey>> {
    let (text, origin) = match path {
        Some(path) => (
            Secret::new(fs_err::read_to_string(path).map_err(|err| {
                hinted(
                    format!("cannot read the signing key: {err}"),
                    "`keel keygen --out PREFIX` creates a key pair",
                )
            })?),
            path.display().to_string(),
        ),
        None => match env_secret(KEY_ENV) {
            Some(text) => (text, KEY_ENV.to_owned()),
            None => return Ok(None),
        },
    };
    let context = || format!("cannot use the signing key from {origin}");
    let password = if SigningKey::is_encrypted(&text).with_context(context)? {
        Some(read_password(false).with_context(context)?)
    } else {
        None
    };
    let key = SigningKey::from_text(&text, password.as_ref()).with_context(context)?;
    Ok(Some(key))
}

pub fn run_keygen(global: &GlobalArgs, args: &KeygenArgs) -> anyhow::Result<()> {
    // Refused before a password is asked for.
    let (public_path, secret_path) = keel_sign::files::key_pair_paths(&args.out);
    for path in [&public_path, &secret_path] {
        if path.exists() && !args.force {
            return Err(keel_sign::Error::KeyExists { path: path.clone() }.into());
        }
    }
    let password = if args.unencrypted {
        None
    } else {
        Some(read_password(true)?)
    };
    let written = keel_sign::files::write_key_pair(&args.out, password.as_ref(), args.force)?;
    crate::report(global, &written, || {
        let (public, secret) = (written.public_key.display(), written.secret_key.display());
        format!(
            "Wrote {public} (the public key, {}) and {secret} (the secret key: keep it safe)\n\
             Sign releases with `keel release --sign-key {secret}`; in CI, set {KEY_ENV} to the contents of the key file and {PASSWORD_ENV} to its password.\n\
             Anyone can check a release with `keel verify --key {public}` or `minisign -Vm SHA256SUMS -p {public}`.",
            written.key_id,
        )
    });
    Ok(())
}

pub fn run_sign(global: &GlobalArgs, args: &SignFilesArgs) -> anyhow::Result<()> {
    let key = load_signing_key(args.sign.sign_key.as_deref())?.ok_or_else(|| {
        hinted(
            "no signing key",
            format!("pass --sign-key FILE, or set {KEY_ENV} to the contents of a key file"),
        )
    })?;
    let signed = keel_sign::files::sign_files(&key, &args.files, args.trusted_comment.as_deref())?;
    crate::report(global, &signed, || {
        signed
            .signatures
            .iter()
            .map(|out| format!("Wrote {}", out.display()))
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

pub(crate) fn expiry(args: &crate::cli::ExpiryArgs) -> keel_store::Expiry {
    keel_store::Expiry {
        root_days: args.root_days,
        targets_days: args.targets_days,
        snapshot_days: args.snapshot_days,
        timestamp_days: args.timestamp_days,
    }
}

pub(crate) fn require_key(path: Option<&Path>) -> anyhow::Result<keel_sign::SigningKey> {
    load_signing_key(path)?.ok_or_else(|| {
        hinted(
            "no signing key",
            format!(
                "pass --key FILE (from `keel keygen`), or set {}",
                keel_schema::env::KEEL_SIGNING_KEY
            ),
        )
    })
}
