//! `keel image build` and `keel image push`: arguments in, the images of a release out.

use keel_release::{ImageFormat, ImageOptions, PushOptions, ReleaseEnv};

use std::io::IsTerminal;

use anyhow::{Context, bail};
use keel_oci::auth::Credentials;

use crate::cli::{Format, GlobalArgs, ImageBuildArgs, ImageLoginArgs, ImagePushArgs};
use crate::hinted;
use crate::progress::Progress;
use crate::release_dir;

pub fn run_build(global: &GlobalArgs, args: &ImageBuildArgs) -> anyhow::Result<()> {
    let dir = release_dir(global, args.dir.as_deref())?;
    let key = crate::signing::load_signing_key(args.sign.sign_key())?;
    let env = ReleaseEnv::from_process();
    let mut formats: Vec<ImageFormat> = args.image_format.iter().map(|&f| f.into()).collect();
    formats.sort();
    formats.dedup();
    let options = ImageOptions {
        formats,
        apps: args.app.clone(),
        key: key.as_ref(),
        env: &env,
        insecure: args.insecure,
    };
    let progress = Progress::new(global.quiet || global.format == Format::Json);
    progress.step("Making images".to_owned());
    let released = keel_release::build_images(&dir, &options, &progress)?;
    drop(progress);
    let images = keel_release::image_files(&released.manifest);
    let built = keel_release::ImagesBuilt {
        dir: &released.dir,
        images: &images,
    };
    crate::report(global, &built, || {
        format!("{built}\nNext: `keel image push REGISTRY/NAMESPACE` sends them to a registry.")
    });
    Ok(())
}

/// A progress line for a push: each blob and manifest (on a terminal only).
pub(crate) fn push_progress(global: &GlobalArgs, step: String) -> Progress {
    let progress = Progress::new(global.quiet || global.format == Format::Json);
    progress.step(step);
    progress
}

pub fn run_push(global: &GlobalArgs, args: &ImagePushArgs) -> anyhow::Result<()> {
    let dir = release_dir(global, args.dir.as_deref())?;
    let options = PushOptions {
        destination: &args.destination,
        apps: args.app.clone(),
        insecure: args.insecure,
        dry_run: args.dry_run,
        retry: keel_oci::registry::Retry::default(),
    };
    let progress = push_progress(global, format!("Pushing to {}", args.destination));
    let pushed = keel_release::push_images(&dir, &options, &progress)?;
    drop(progress);
    let pushed = keel_release::PushedImages {
        dry_run: args.dry_run,
        images: &pushed,
    };
    crate::show(global, &pushed);
    Ok(())
}

/// The password for `keel image login`: one line of standard input, or typed at a prompt.
fn login_secret(args: &ImageLoginArgs) -> anyhow::Result<String> {
    let secret = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("could not read the password from standard input")?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    } else if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("Password for {}: ", args.username))
            .context("could not read the password")?
    } else {
        bail!(hinted(
            "no password: standard input is not a terminal to ask for one",
            "pipe it in with --password-stdin (`printf '%s' \"$TOKEN\" | keel image login REGISTRY -u USER --password-stdin`)",
        ));
    };
    if secret.is_empty() {
        bail!(hinted(
            "the password is empty",
            "give the password or access token the registry issued for this user",
        ));
    }
    Ok(secret)
}

pub fn run_login(global: &GlobalArgs, args: &ImageLoginArgs) -> anyhow::Result<()> {
    // A registry that cannot be one is refused before the password is asked for.
    keel_oci::Reference::parse_registry(&args.registry)?;
    if args.username.is_empty() {
        bail!("the user name is empty");
    }
    let credentials = Credentials::new(args.username.clone(), login_secret(args)?);
    let logged_in =
        keel_oci::registry::login(&args.registry, &credentials, !args.no_check, args.insecure)
            .map_err(|err| match err {
                keel_oci::Error::Unauthorized { .. } => hinted(
                    err.to_string(),
                    "check the user name and the password or token (a token needs the scope to push: `write:packages` on ghcr.io, Read & Write on Docker Hub)",
                ),
                other => other.into(),
            })?;
    crate::show(global, &logged_in);
    Ok(())
}
