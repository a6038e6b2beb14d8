//! The plan as text for people (`keel plan`).

use std::fmt;

use keel_schema::{ArtifactKind, MANIFEST_FILE_NAME};

use crate::Plan;

/// A commit's hash as people read it: its first 12 digits.
fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let release = match (&self.tag, &self.version) {
            (Some(tag), Some(version)) => format!("tag {tag}, version {version}"),
            (Some(tag), None) => format!("tag {tag}"),
            (None, Some(version)) => format!("version {version}, no tag"),
            (None, None) => "no tag".to_owned(),
        };
        let pre = if self.prerelease {
            " (pre-release)"
        } else {
            ""
        };
        writeln!(f, "Release: {release}{pre}")?;
        writeln!(f, "Profile: {}", self.profile)?;
        writeln!(f, "Signed: {}", if self.signed { "yes" } else { "no" })?;
        writeln!(f, "Apps:")?;
        for app in &self.apps {
            writeln!(
                f,
                "  {} {}: {}",
                app.name,
                app.version,
                app.binaries.join(", ")
            )?;
        }
        writeln!(f, "Builds:")?;
        for build in &self.builds {
            let builder = match build.builder_target.as_str() {
                same if same == build.target.as_str() => build.builder.as_str().to_owned(),
                other => format!("{} --target {other}", build.builder.as_str()),
            };
            let outputs: Vec<&str> = build.outputs.iter().map(|o| o.path.as_str()).collect();
            writeln!(f, "  {} ({builder}): {}", build.target, outputs.join(", "))?;
        }
        writeln!(f, "Artifacts:")?;
        for artifact in &self.artifacts {
            let detail = match artifact.kind {
                ArtifactKind::Checksums => format!("checksums of {} files", artifact.covers.len()),
                ArtifactKind::Source => match &artifact.commit {
                    Some(commit) => format!("source of commit {}", short(commit)),
                    None => "source".to_owned(),
                },
                kind => kind.to_string(),
            };
            writeln!(f, "  {} ({detail})", artifact.file_name)?;
            for content in &artifact.contents {
                let mode = if content.executable { "755" } else { "644" };
                writeln!(f, "    {mode} {}  <- {}", content.path, content.source)?;
            }
        }
        write!(f, "  {MANIFEST_FILE_NAME} (manifest)")?;
        if self.signed {
            write!(f, "\n  {MANIFEST_FILE_NAME}.minisig (signature)")?;
        }
        Ok(())
    }
}
