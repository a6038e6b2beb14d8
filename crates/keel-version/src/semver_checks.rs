//! `cargo semver-checks`, when it is installed: a library's public API compared with its last
//! release, so a break the commits do not announce still raises the bump.

use std::path::Path;
use std::process::Command;

use crate::Level;

/// Whether `cargo-semver-checks` is on `PATH`.
fn installed() -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| {
        dir.join("cargo-semver-checks").is_file() || dir.join("cargo-semver-checks.exe").is_file()
    })
}

/// What `cargo semver-checks check-release` says of `package` against the tag `baseline`: the
/// level its findings call for (`None` when it found nothing) and a line for the plan. `None`
/// when the tool is not installed.
pub fn run(root: &Path, package: &str, baseline: &str) -> Option<(Option<Level>, String)> {
    if !installed() {
        return None;
    }
    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "semver-checks",
            "check-release",
            "--package",
            package,
            "--baseline-rev",
            baseline,
        ])
        .current_dir(root)
        .output();
    let output = match output {
        Ok(output) => output,
        Err(err) => return Some((None, format!("could not run cargo semver-checks: {err}"))),
    };
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Some(read(&text, output.status.success()))
}

/// Reads its report.
fn read(text: &str, success: bool) -> (Option<Level>, String) {
    let failures: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("--- failure "))
        .collect();
    let level = if text.contains("requires new major version") {
        Some(Level::Major)
    } else if text.contains("requires new minor version") {
        Some(Level::Minor)
    } else {
        None
    };
    let summary = match (level, success) {
        (Some(_), _) => format!(
            "cargo semver-checks: {}",
            failures
                .iter()
                .map(|f| f.trim_end_matches('-').trim())
                .collect::<Vec<_>>()
                .join("; ")
        ),
        (None, true) => "cargo semver-checks: no semver break".to_owned(),
        (None, false) => {
            let last = text
                .lines()
                .map(str::trim)
                .rfind(|l| !l.is_empty())
                .unwrap_or("");
            format!("cargo semver-checks could not check it: {last}")
        }
    };
    (level, summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn its_report_is_read() {
        let report = "     Parsing ledger v1.2.0 (current)\n    Checking ledger v1.1.0 -> v1.2.0 (minor change)\n--- failure function_missing: pub fn removed or renamed ---\n\nFailed in:\n  function ledger::total, previously in file src/lib.rs:4\n     Summary semver requires new major version: 1 major and 0 minor checks failed\n";
        let (level, text) = read(report, false);
        assert_eq!(level, Some(Level::Major));
        assert_eq!(
            text,
            "cargo semver-checks: function_missing: pub fn removed or renamed"
        );
        assert_eq!(
            read("     Summary no semver update required\n", true),
            (None, "cargo semver-checks: no semver break".into())
        );
        assert_eq!(read("error: no such tag\n", false).0, None);
    }
}
