//! Outcomes as text for people: what `keel bump` and `keel release-pr` print.

use std::fmt;

use crate::PackageBump;
use crate::ops::Bumped;

/// The package's old and new version and why, then the commits that count for nothing and
/// what `cargo semver-checks` found.
impl fmt::Display for PackageBump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, old, new, why) = (&self.name, &self.old, &self.new, &self.why);
        if self.changed {
            write!(f, "{name} {old} → {new}: {why}")?;
        } else {
            write!(f, "{name} {old} (unchanged): {why}")?;
        }
        for c in &self.unparsed {
            let (commit, subject) = (&c.commit, &c.subject);
            write!(
                f,
                "\n  not in the conventional form, so it counts for nothing: {commit} {subject}"
            )?;
        }
        if let Some(finding) = &self.semver_checks {
            write!(f, "\n  {finding}")?;
        }
        Ok(())
    }
}

/// Each package, then the files changed, the commit and the tags made.
impl fmt::Display for Bumped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for package in &self.packages {
            writeln!(f, "{package}")?;
        }
        if self.tags.is_empty() {
            return write!(f, "Nothing to release.");
        }
        let files = self.files.join(", ");
        match (self.files.is_empty(), self.dry_run) {
            (true, _) => write!(f, "No file changes: the versions are set already.")?,
            (false, true) => write!(f, "Would change {files}")?,
            (false, false) => write!(f, "Changed {files}")?,
        }
        if let Some(commit) = &self.commit {
            let short = &commit[..commit.len().min(7)];
            write!(f, "\nCommitted {short} {}", self.message)?;
        }
        if !self.tagged.is_empty() {
            write!(f, "\nTagged {}", self.tagged.join(", "))?;
        }
        Ok(())
    }
}
