//! Outcomes as text for people: what `keel install`, `update`, `rollback` and `doctor`
//! print, and what an app that embeds the updater can print the same way.

use std::fmt;

use crate::doctor::{DoctorCheck, DoctorReport};
#[cfg(feature = "store")]
use crate::updater::{Download, RolledBack, UpToDate, UpdatePlan, Updated};

#[cfg(feature = "store")]
impl fmt::Display for UpToDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} is up to date", self.app, self.version)
    }
}

#[cfg(feature = "store")]
impl fmt::Display for UpdatePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (app, from, to, archive) = (&self.app, &self.from, &self.to, &self.archive);
        let databases = match self.databases.is_empty() {
            true => "none".to_owned(),
            false => self.databases.join(", "),
        };
        write!(
            f,
            "Would update {app} {from} to {to} from {archive} (databases snapshotted first: {databases})"
        )
    }
}

/// The patch used, when one was; nothing for a full archive.
#[cfg(feature = "store")]
impl fmt::Display for Download {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(patch) = &self.patch else {
            return Ok(());
        };
        let (bytes, archive) = (self.bytes, self.archive_bytes);
        let percent = bytes as f64 * 100.0 / archive.max(1) as f64;
        write!(
            f,
            "Downloaded the patch {patch} ({bytes} bytes, {percent:.1}% of the {archive}-byte archive)"
        )
    }
}

#[cfg(feature = "store")]
impl fmt::Display for Updated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Updated {} {} to {}", self.app, self.from, self.version)
    }
}

#[cfg(feature = "store")]
impl fmt::Display for RolledBack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Rolled back {} {} to {}",
            self.app, self.from, self.version
        )
    }
}

/// `ok      what`, or `failed  what: why`.
impl fmt::Display for DoctorCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            None => write!(f, "ok      {}", self.what),
            Some(problem) => write!(f, "failed  {}: {problem}", self.what),
        }
    }
}

/// Every check, one per line.
impl fmt::Display for DoctorReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.checks.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}
