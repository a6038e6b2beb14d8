//! `keel rehearse`: runs the rehearsal library on a release and shows each step.

use anyhow::bail;
use keel_rehearse::Previous;
use keel_schema::MANIFEST_FILE_NAME;
use keel_schema::rehearsal::REHEARSAL_FILE_NAME;

use crate::cli::{Format, GlobalArgs, RehearseArgs};
use crate::hinted;

pub fn run_rehearse(global: &GlobalArgs, args: &RehearseArgs) -> anyhow::Result<()> {
    if args.from.is_none() && !args.first_release {
        bail!(hinted(
            "a rehearsal needs the previous release to upgrade from, or to be told there is none",
            "pass --from with the store (or the previous release's folder) operators update from, or --first-release when nothing was released before",
        ));
    }
    let cwd = crate::cwd()?;
    let dir = crate::release_dir(global, args.dir.as_deref())?;
    let key = crate::signing::load_signing_key(args.sign.sign_key())?;
    let signed = dir.join(format!("{MANIFEST_FILE_NAME}.minisig")).is_file();
    if signed && key.is_none() {
        bail!(hinted(
            format!(
                "the release in {} is signed, and its rehearsal report must be too",
                dir.display()
            ),
            "pass --sign-key with the key that signed the release (or set KEEL_SIGNING_KEY)",
        ));
    }
    let previous = match &args.from {
        Some(from) => Previous::locate(from, args.root.as_deref(), &args.channel, &cwd)?,
        None => Previous::None,
    };
    let printer = crate::progress::Lines {
        quiet: global.quiet || global.format == Format::Json,
    };
    let report = keel_rehearse::rehearse(&dir, &previous, None, &printer)?;
    let saved = keel_rehearse::save(&dir, &report, key.as_ref())?;
    let path = dir.join(REHEARSAL_FILE_NAME);
    match global.format {
        Format::Json => crate::print_json(&serde_json::to_value(&saved)?),
        Format::Text if global.quiet => {}
        Format::Text => {
            crate::out(&report.to_string());
            let signed = if key.is_some() { " (signed)" } else { "" };
            crate::out(&format!("Wrote {}{signed}", path.display()));
        }
    }
    let failed = report.failures();
    if !failed.is_empty() {
        bail!(hinted(
            format!("the rehearsal failed: {}", failed.join("; ")),
            "fix the release and rehearse again; `keel publish` refuses a release whose rehearsal failed",
        ));
    }
    Ok(())
}
