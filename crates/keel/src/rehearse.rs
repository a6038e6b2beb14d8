//! `keel rehearse`: runs the rehearsal library on a release and shows each step.

use std::io::Write;

use anyhow::bail;
use keel_rehearse::{Event, Previous, Progress};
use keel_schema::MANIFEST_FILE_NAME;
use keel_schema::TargetTriple;
use keel_schema::rehearsal::REHEARSAL_FILE_NAME;

use crate::cli::{Format, GlobalArgs, RehearseArgs};
use crate::hinted;

/// Prints each run and step on stderr as it ends (not with `--quiet`).
struct StepPrinter {
    quiet: bool,
}

impl Progress for StepPrinter {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::RehearsalRun {
                app,
                target,
                version,
                previous,
            } => self.run(app, target, version, *previous),
            Event::RehearsalStep(step) => self.line(step.to_string()),
            _ => {}
        }
    }
}

impl StepPrinter {
    fn run(&self, app: &str, target: &TargetTriple, version: &str, previous: Option<&str>) {
        let from = match previous {
            Some(previous) => format!("updating from {previous}"),
            None => "a first release: fresh install, migrate and check only".to_owned(),
        };
        self.line(format!("Rehearsing {app} {version} on {target}, {from}"));
    }

    fn line(&self, text: String) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        }
    }
}

pub fn run_rehearse(global: &GlobalArgs, args: &RehearseArgs) -> anyhow::Result<()> {
    let cwd = crate::cwd()?;
    let dir = crate::release_dir(global, args.dir.as_deref())?;
    let key = crate::signing::load_signing_key(args.sign.sign_key.as_deref())?;
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
    let printer = StepPrinter {
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
