//! `keel keygen`, `keel sign`, and loading the signing key for `keel release` and `keel merge`.
//!
//! A key comes from `--sign-key FILE` or from `KEEL_SIGNING_KEY` (the file's contents, as CI
//! secrets hold it); its password from `KEEL_SIGNING_KEY_PASSWORD` or a terminal prompt. No
//! message ever includes a key or a password.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use keel_schema::env::{KEEL_SIGNING_KEY as KEY_ENV, KEEL_SIGNING_KEY_PASSWORD as PASSWORD_ENV};
use keel_sign::{Secret, SigningKey};

use crate::cli::{Format, GlobalArgs, KeygenArgs, SignFilesArgs};
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
    let prefix = args.out.display().to_string();
    let public_path = PathBuf::from(format!("{prefix}.pub"));
    let secret_path = PathBuf::from(format!("{prefix}.key"));
    for path in [&public_path, &secret_path] {
        if path.exists() && !args.force {
            bail!(hinted(
                format!("{} already exists", path.display()),
                "choose another --out, or pass --force to replace the key pair",
            ));
        }
    }
    let password = if args.unencrypted {
        None
    } else {
        Some(read_password(true)?)
    };
    if let Some(dir) = secret_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs_err::create_dir_all(dir)?;
    }
    let key = SigningKey::generate()?;
    let secret = key.to_text(password.as_ref())?;
    let public = key.public_key();
    keel_fs::write_atomic(&secret_path, secret.expose().as_bytes(), Some(0o600))?;
    keel_fs::write_atomic(&public_path, public.to_text().as_bytes(), Some(0o644))?;
    match global.format {
        Format::Json => crate::print_json(&serde_json::json!({
            "public_key": public_path,
            "secret_key": secret_path,
            "key_id": public.key_id_hex(),
            "encrypted": password.is_some(),
        })),
        Format::Text if global.quiet => {}
        Format::Text => {
            crate::out(&format!(
                "Wrote {} (the public key, {}) and {} (the secret key: keep it safe)",
                public_path.display(),
                public.key_id_hex(),
                secret_path.display()
            ));
            crate::out(&format!(
                "Sign releases with `keel release --sign-key {}`; in CI, set {KEY_ENV} to the contents of the key file and {PASSWORD_ENV} to its password.",
                secret_path.display()
            ));
            crate::out(&format!(
                "Anyone can check a release with `keel verify --key {0}` or `minisign -Vm SHA256SUMS -p {0}`.",
                public_path.display()
            ));
        }
    }
    Ok(())
}

pub fn run_sign(global: &GlobalArgs, args: &SignFilesArgs) -> anyhow::Result<()> {
    let key = load_signing_key(args.sign.sign_key.as_deref())?.ok_or_else(|| {
        hinted(
            "no signing key",
            format!("pass --sign-key FILE, or set {KEY_ENV} to the contents of a key file"),
        )
    })?;
    let mut signed = Vec::new();
    for file in &args.files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .with_context(|| format!("{} is not a file", file.display()))?;
        let comment = args
            .trusted_comment
            .clone()
            .unwrap_or_else(|| format!("file={name}"));
        let data = fs_err::File::open(file)?;
        let signature = key
            .sign(data, &comment, "signature from keel")
            .with_context(|| format!("could not sign {}", file.display()))?;
        let out = PathBuf::from(format!("{}.minisig", file.display()));
        keel_fs::write_atomic(&out, signature.to_text().as_bytes(), Some(0o644))?;
        signed.push(out);
    }
    match global.format {
        Format::Json => crate::print_json(&serde_json::json!({ "signatures": signed })),
        Format::Text if global.quiet => {}
        Format::Text => {
            for out in &signed {
                crate::out(&format!("Wrote {}", out.display()));
            }
        }
    }
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
