//! `keel image build` and `keel image push`: arguments in, the images of a release out.

use keel_release::{ImageFormat, ImageOptions, PushOptions, ReleaseEnv};

use crate::cli::{Format, GlobalArgs, ImageBuildArgs, ImageFileFormat, ImagePushArgs};
use crate::progress::Progress;
use crate::publish::release_dir;

pub fn run_build(global: &GlobalArgs, args: &ImageBuildArgs) -> anyhow::Result<()> {
    let dir = release_dir(global, args.dir.as_deref())?;
    let key = crate::signing::load_signing_key(args.sign.sign_key.as_deref())?;
    let env = ReleaseEnv::from_process();
    let mut formats: Vec<ImageFormat> = args
        .image_format
        .iter()
        .map(|f| match f {
            ImageFileFormat::Oci => ImageFormat::Oci,
            ImageFileFormat::DockerArchive => ImageFormat::DockerArchive,
        })
        .collect();
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
    crate::report(
        global,
        serde_json::json!({"dir": released.dir, "images": images}),
        || {
            let mut lines = vec![format!("Images added to {}", released.dir.display())];
            for image in &images {
                lines.push(format!(
                    "  {}  {}  {}  {}",
                    image.file,
                    keel_installer::human_size(image.size),
                    image.platforms.join(","),
                    image.digest.as_deref().unwrap_or_default(),
                ));
            }
            lines.push(
                "Next: `keel image push REGISTRY/NAMESPACE` sends them to a registry.".to_owned(),
            );
            lines.join("\n")
        },
    );
    Ok(())
}

/// Shows each blob and manifest on the progress line (on a terminal only).
struct PushProgress {
    bar: Progress,
}

impl keel_oci::push::Progress for PushProgress {
    fn blob(&mut self, digest: &str, size: u64, uploaded: bool) {
        let what = if uploaded { "pushed" } else { "exists" };
        let short = digest.get(..19).unwrap_or(digest);
        self.bar.message(format!(
            "{what} {short} ({})",
            keel_installer::human_size(size)
        ));
    }

    fn manifest(&mut self, reference: &str) {
        let short = reference.get(..19).unwrap_or(reference);
        self.bar.message(format!("manifest {short}"));
    }
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
    let mut progress = PushProgress {
        bar: Progress::new(global.quiet || global.format == Format::Json),
    };
    progress
        .bar
        .step(format!("Pushing to {}", args.destination));
    let pushed = keel_release::push_images(&dir, &options, &mut progress)?;
    drop(progress);
    crate::report(
        global,
        serde_json::json!({"dry_run": args.dry_run, "images": pushed}),
        || {
            let verb = if args.dry_run { "Would push" } else { "Pushed" };
            let mut lines = Vec::new();
            for image in &pushed {
                lines.push(format!(
                    "{verb} {}@{} ({})",
                    image.repository,
                    image.digest,
                    image.platforms.join(", ")
                ));
                lines.push(format!("  tags: {}", image.tags.join(", ")));
                if !args.dry_run {
                    lines.push(format!(
                        "  {} blobs uploaded ({}), {} already there; {} referrers attached{}",
                        image.uploaded,
                        keel_installer::human_size(image.uploaded_bytes),
                        image.skipped,
                        image.referrers.len(),
                        if image.referrers_by_tag {
                            " (under the sha256-<digest> tag: the registry has no referrers API)"
                        } else {
                            ""
                        }
                    ));
                }
            }
            lines.join("\n")
        },
    );
    Ok(())
}
