//! `keel keygen`, `keel sign`, and loading the signing key for `keel release` and `keel merge`.
//!
//! A key comes from `--sign-key FILE` or from `KEEL_SIGNING_KEY` (the file's contents, as CI
//! secrets hold it); its password from `KEEL_SIGNING_KEY_PASSWORD` or a terminal prompt. No
//! message ever includes a key or a password.

use std::io::IsTerminal;
use std::path::Path;

use keel_sign::{Secret, SigningKey};

use crate::cli::{GlobalArgs, KeygenArgs, SignFilesArgs};
use crate::hinted;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn boxed(message: &str, hint: String) -> BoxError {
    let message = message.to_owned();
    Box::new(crate::Hinted { message, hint })
}

/// Asks for the password on a terminal (`confirm`: twice, for a new key).
fn ask_password(confirm: bool) -> Result<Secret, BoxError> {
    if !std::io::stdin().is_terminal() {
        return Err(boxed(
            "a password is needed for the secret key, and there is no terminal to ask for it",
            "set KEEL_SIGNING_KEY_PASSWORD".to_owned(),
        ));
    }
    let password = Secret::new(rpassword::prompt_password("Password for the secret key: ")?);
    if password.expose().is_empty() {
        return Err(boxed(
            "the password is empty",
            "type a password, or pass --unencrypted for a key without one".to_owned(),
        ));
    }
    if confirm {
        let again = Secret::new(rpassword::prompt_password("Password again: ")?);
        if again.expose() != password.expose() {
            return Err("the two passwords differ".into());
        }
    }
    Ok(password)
}

/// The signing key from `--sign-key` or `KEEL_SIGNING_KEY`, decrypted; `None` when neither is
/// given.
pub fn load_signing_key(path: Option<&Path>) -> anyhow::Result<Option<SigningKey>> {
    Ok(keel_sign::load::signing_key(path, &mut || {
        ask_password(false)
    })?)
}

pub fn run_keygen(global: &GlobalArgs, args: &KeygenArgs) -> anyhow::Result<()> {
    // Refused before a password is asked for.
    keel_sign::files::check_key_pair_free(&args.out, args.force)?;
    let password = if args.unencrypted {
        None
    } else {
        Some(keel_sign::load::password(&mut || ask_password(true))?)
    };
    let written = keel_sign::files::write_key_pair(&args.out, password.as_ref(), args.force)?;
    crate::report(global, &written, || {
        let (public, secret) = (written.public_key.display(), written.secret_key.display());
        format!(
            "Wrote {public} (the public key, {}) and {secret} (the secret key: keep it safe)\n\
             Sign releases with `keel release --sign-key {secret}`; in CI, set KEEL_SIGNING_KEY to the contents of the key file and KEEL_SIGNING_KEY_PASSWORD to its password.\n\
             Anyone can check a release with `keel verify --public-key {public}` or `minisign -Vm SHA256SUMS -p {public}`.",
            written.key_id,
        )
    });
    Ok(())
}

pub fn run_sign(global: &GlobalArgs, args: &SignFilesArgs) -> anyhow::Result<()> {
    let key = load_signing_key(args.sign.sign_key())?.ok_or_else(|| {
        hinted(
            "no signing key",
            "pass --sign-key FILE, or set KEEL_SIGNING_KEY to the contents of a key file",
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

pub(crate) fn require_key(path: Option<&Path>) -> anyhow::Result<keel_sign::SigningKey> {
    load_signing_key(path)?.ok_or_else(|| {
        hinted(
            "no signing key",
            "pass --sign-key FILE (from `keel keygen`), or set KEEL_SIGNING_KEY",
        )
    })
}
