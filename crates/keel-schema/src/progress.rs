//! Progress, once for all of keel: every library reports what it is doing as an [`Event`] to
//! one [`Progress`] trait, and never prints. A program renders the events it cares about
//! (a spinner, a bar, a line per step) and ignores the rest; [`Silent`] ignores them all.
//!
//! ```
//! use keel_schema::progress::{Event, Progress, UpdateStep};
//! struct Lines;
//! impl Progress for Lines {
//!     fn event(&self, event: &Event<'_>) {
//!         if let Event::Update(UpdateStep::Migrate) = event {
//!             eprintln!("  migrating the data");
//!         }
//!     }
//! }
//! Lines.event(&Event::Update(&UpdateStep::Migrate));
//! ```

use std::path::PathBuf;

use crate::TargetTriple;
use crate::rehearsal::RehearsalStep;

/// A step of an update transaction (install, update, rollback, recovery).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpdateStep {
    /// Copying the new binaries into the app's home.
    Prepare,
    /// Snapshotting a database.
    Snapshot(PathBuf),
    /// Swapping the binaries.
    Swap,
    /// Running the migrate hook.
    Migrate,
    /// Running the check hook.
    Check,
    /// Writing the receipt.
    Commit,
    /// Restoring the previous version and its data.
    RollBack(String),
    /// Finishing or undoing a transaction a crash interrupted.
    Recover,
}

/// The step as a line for people: `snapshotting data/app.db`, `migrating the data`.
impl std::fmt::Display for UpdateStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpdateStep::Prepare => write!(f, "preparing the new version"),
            UpdateStep::Snapshot(db) => write!(f, "snapshotting {}", db.display()),
            UpdateStep::Swap => write!(f, "swapping the binaries"),
            UpdateStep::Migrate => write!(f, "migrating the data"),
            UpdateStep::Check => write!(f, "checking the new version"),
            UpdateStep::Commit => write!(f, "committing"),
            UpdateStep::RollBack(version) => write!(f, "restoring {version} and its data"),
            UpdateStep::Recover => write!(f, "finishing an interrupted update"),
        }
    }
}

/// Something a library is doing.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A target's build begins.
    Building(&'a TargetTriple),
    /// A line of a builder's output.
    BuildOutput {
        /// The target.
        target: &'a str,
        /// The line.
        line: &'a str,
    },
    /// Packaging begins: this many files will be written.
    Packaging(u64),
    /// A file is being written.
    Writing(&'a str),
    /// A file was written.
    Written(&'a str),
    /// Dependencies are being resolved for a target's SBOMs.
    Resolving(&'a TargetTriple),
    /// A stage (building, packaging, images) is over.
    Finished,
    /// A blob was uploaded to a registry (`uploaded`), or found there already.
    Blob {
        /// Its digest.
        digest: &'a str,
        /// Its size in bytes.
        size: u64,
        /// Whether it was sent.
        uploaded: bool,
    },
    /// A manifest, index or tag was written to a registry.
    Manifest(&'a str),
    /// A rehearsal run begins.
    RehearsalRun {
        /// The app.
        app: &'a str,
        /// The target.
        target: &'a TargetTriple,
        /// The candidate's version.
        version: &'a str,
        /// The version updated from (none for a first release).
        previous: Option<&'a str>,
    },
    /// A rehearsal step ended.
    RehearsalStep(&'a RehearsalStep),
    /// A step of an update transaction begins.
    Update(&'a UpdateStep),
    /// A file was left out of an archive (a name no archive may hold safely).
    LeftOut {
        /// The archive.
        archive: &'a str,
        /// The file, as named where it came from.
        path: &'a str,
        /// Why.
        reason: &'a str,
    },
}

impl Event<'_> {
    /// The line a log shows for the events worth one of their own (an update's steps, a
    /// rehearsal's runs and steps); `None` for the rest, which a progress bar shows.
    pub fn line(&self) -> Option<String> {
        Some(match self {
            Event::Update(step) => format!("  {step}"),
            Event::RehearsalStep(step) => step.to_string(),
            Event::RehearsalRun {
                app,
                target,
                version,
                previous,
            } => {
                let from = match previous {
                    Some(previous) => format!("updating from {previous}"),
                    None => "a first release: fresh install, migrate and check only".to_owned(),
                };
                format!("Rehearsing {app} {version} on {target}, {from}")
            }
            _ => return None,
        })
    }
}

/// Receives the [`Event`]s of a library's work. Does nothing by default.
pub trait Progress {
    /// Something happened.
    fn event(&self, _event: &Event<'_>) {}
}

/// Ignores every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {}
