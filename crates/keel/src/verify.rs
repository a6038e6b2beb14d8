//! `keel verify`: runs the release library's checks and shows them.

use anyhow::bail;
use keel_verify::minisign::PublicKey;

use crate::cli::{Format, GlobalArgs, VerifyArgs};

pub fn run_verify(global: &GlobalArgs, args: &VerifyArgs) -> anyhow::Result<()> {
    let dir = crate::release_dir(global, args.dir.as_deref())?;
    let key = args.key.as_deref().map(PublicKey::from_file).transpose()?;
    let report = keel_release::verify(&dir, key.as_ref())?;
    let (failed, skipped) = (report.failed(), report.skipped());
    match global.format {
        Format::Json => crate::print_json(&report),
        Format::Text => {
            for check in &report.checks {
                if global.quiet && check.status == keel_release::Status::Ok {
                    continue;
                }
                let detail = if check.detail.is_empty() {
                    String::new()
                } else {
                    format!(": {}", check.detail)
                };
                crate::out(&format!(
                    "{:<7} {} ({}){detail}",
                    check.status.as_str(),
                    check.file,
                    check.check
                ));
            }
            if !global.quiet {
                crate::out(&format!(
                    "{} checks: {} ok, {failed} failed, {skipped} skipped",
                    report.checks.len(),
                    report.checks.len() - failed - skipped
                ));
            }
        }
    }
    if !report.key_given && !global.quiet {
        crate::warn("no --key given: signatures were not checked, only checksums and contents");
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
