//! Build information for an app: its version, the commit it was built from, the commit's
//! date, the target and the compiler, for `--version` and bug reports.
//!
//! In the app's `build.rs` (with `keel-buildinfo` as a build-dependency and a dependency):
//!
//! ```no_run
//! keel_buildinfo::emit();
//! ```
//!
//! and in the app:
//!
//! ```ignore
//! const BUILD: keel_buildinfo::BuildInfo = keel_buildinfo::build_info!();
//! println!("{BUILD}"); // 1.2.0 (3f2a9c1 2026-05-01, x86_64-unknown-linux-gnu, rustc 1.95.0)
//! ```
//!
//! `keel release` tells the build script the commit, whether the tree was dirty and the
//! compiler (`KEEL_BUILD_COMMIT`, `KEEL_BUILD_DIRTY`, `KEEL_BUILD_RUSTC`) and the time
//! (`SOURCE_DATE_EPOCH`); under a plain `cargo build` the script asks git and rustc itself.
//! The date is the commit's, never the clock's, so builds stay byte-reproducible.
#![deny(missing_docs)]

use std::fmt;
use std::process::Command;

/// What an app knows about its own build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildInfo {
    /// The package's version.
    pub version: &'static str,
    /// The full commit hash, or `unknown` outside git.
    pub commit: &'static str,
    /// Whether the work tree had uncommitted changes.
    pub dirty: bool,
    /// The commit's date (`2026-05-01`), or `unknown`.
    pub date: &'static str,
    /// The target triple.
    pub target: &'static str,
    /// The compiler (`rustc 1.95.0 (59807616e 2026-04-14)`).
    pub rustc: &'static str,
}

impl fmt::Display for BuildInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let short: String = self.commit.chars().take(7).collect();
        let dirty = if self.dirty { "-dirty" } else { "" };
        let rustc = self.rustc.split(" (").next().unwrap_or(self.rustc);
        write!(
            f,
            "{} ({short}{dirty} {}, {}, {rustc})",
            self.version, self.date, self.target
        )
    }
}

/// The app's [`BuildInfo`], from what [`emit`] recorded.
#[macro_export]
macro_rules! build_info {
    () => {
        $crate::BuildInfo {
            version: env!("CARGO_PKG_VERSION"),
            commit: env!("KEEL_BUILDINFO_COMMIT"),
            dirty: $crate::__is_true(env!("KEEL_BUILDINFO_DIRTY")),
            date: env!("KEEL_BUILDINFO_DATE"),
            target: env!("KEEL_BUILDINFO_TARGET"),
            rustc: env!("KEEL_BUILDINFO_RUSTC"),
        }
    };
}

#[doc(hidden)]
pub const fn __is_true(text: &str) -> bool {
    matches!(text.as_bytes(), b"true")
}

fn var(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.trim().is_empty())
}

fn run(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program)
        .args(args)
        .current_dir(var("CARGO_MANIFEST_DIR").unwrap_or_else(|| ".".into()))
        // `git status` must not rewrite the index: the build would then see it change.
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// `YYYY-MM-DD` of a Unix time.
fn date(epoch: i64) -> Option<String> {
    let time = jiff::Timestamp::from_second(epoch).ok()?;
    Some(time.strftime("%Y-%m-%d").to_string())
}

/// What the build records, from keel's variables, else git and rustc.
fn gather() -> [(&'static str, String); 5] {
    let commit = var("KEEL_BUILD_COMMIT")
        .or_else(|| run("git", &["rev-parse", "HEAD"]))
        .unwrap_or_else(|| "unknown".into());
    let dirty = var("KEEL_BUILD_DIRTY")
        .or_else(|| {
            run("git", &["status", "--porcelain", "--untracked-files=no"])
                .map(|status| (!status.is_empty()).to_string())
        })
        .unwrap_or_else(|| "false".into());
    let epoch = var("SOURCE_DATE_EPOCH")
        .or_else(|| run("git", &["log", "-1", "--format=%ct"]))
        .and_then(|s| s.trim().parse::<i64>().ok());
    let date = epoch.and_then(date).unwrap_or_else(|| "unknown".into());
    let rustc = var("KEEL_BUILD_RUSTC")
        .or_else(|| run(&var("RUSTC").unwrap_or_else(|| "rustc".into()), &["-V"]))
        .unwrap_or_else(|| "unknown".into());
    [
        ("COMMIT", commit),
        ("DIRTY", dirty),
        ("DATE", date),
        ("TARGET", var("TARGET").unwrap_or_else(|| "unknown".into())),
        ("RUSTC", rustc),
    ]
}

/// Records the build information for [`build_info!`]; call it from `build.rs`.
#[allow(clippy::print_stdout)] // Build scripts talk to cargo on stdout.
pub fn emit() {
    for key in [
        "KEEL_BUILD_COMMIT",
        "KEEL_BUILD_DIRTY",
        "KEEL_BUILD_RUSTC",
        "SOURCE_DATE_EPOCH",
    ] {
        println!("cargo:rerun-if-env-changed={key}");
    }
    if var("KEEL_BUILD_COMMIT").is_none() {
        // A plain cargo build asked git: build again when the commit or the index changes.
        for path in git_watch() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    for (key, value) in gather() {
        println!("cargo:rustc-env=KEEL_BUILDINFO_{key}={value}");
    }
}

/// The files that change with the checked-out commit and the index: `HEAD`, the branch's ref
/// (or `packed-refs` when the ref is packed) and `index`.
fn git_watch() -> Vec<String> {
    let Some(git_dir) = run("git", &["rev-parse", "--absolute-git-dir"]) else {
        return Vec::new();
    };
    let mut paths = vec![format!("{git_dir}/HEAD"), format!("{git_dir}/index")];
    if let Some(branch) = run("git", &["symbolic-ref", "-q", "HEAD"]) {
        let common = run(
            "git",
            &["rev-parse", "--path-format=absolute", "--git-common-dir"],
        )
        .unwrap_or_else(|| git_dir.clone());
        let loose = format!("{common}/{branch}");
        if std::path::Path::new(&loose).exists() {
            paths.push(loose);
        } else {
            paths.push(format!("{common}/packed-refs"));
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_in_one_line() {
        let info = BuildInfo {
            version: "1.2.0",
            commit: "3f2a9c1d00000000000000000000000000000000",
            dirty: false,
            date: "2026-05-01",
            target: "x86_64-unknown-linux-gnu",
            rustc: "rustc 1.95.0 (59807616e 2026-04-14)",
        };
        assert_eq!(
            info.to_string(),
            "1.2.0 (3f2a9c1 2026-05-01, x86_64-unknown-linux-gnu, rustc 1.95.0)"
        );
        assert_eq!(date(1_714_564_800).as_deref(), Some("2024-05-01"));
        assert!(__is_true("true") && !__is_true("false"));
    }
}
