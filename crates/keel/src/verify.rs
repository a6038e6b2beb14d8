//! `keel verify`: runs the release library's checks and shows them.

use anyhow::bail;
use keel_release::Status;
use keel_verify::minisign::PublicKey;

use crate::cli::{Format, GlobalArgs, VerifyArgs};

pub fn run_verify(global: &GlobalArgs, args: &VerifyArgs) -> anyhow::Result<()> {
    let dir = crate::release_dir(global, args.dir.as_deref())?;
    let key = args
        .public_key
        .as_deref()
        .map(PublicKey::from_file)
        .transpose()?;
    let report = keel_release::verify(&dir, key.as_ref())?;
    let failed = report.failed();
    match global.format {
        Format::Json => crate::print_json(&report),
        Format::Text if global.quiet => {
            let shown = report.checks.iter().filter(|c| c.status != Status::Ok);
            shown.for_each(|check| crate::out(&check.to_string()));
        }
        Format::Text => crate::out(&report.to_string()),
    }
    if !report.key_given && !global.quiet {
        crate::warn(
            "no --public-key given: signatures were not checked, only checksums and contents",
        );
    }
    if failed > 0 {
        bail!(
            "{failed} of {} checks failed for the release in {}",
            report.checks.len(),
            dir.display()
        );
    }
    Ok(())
}
