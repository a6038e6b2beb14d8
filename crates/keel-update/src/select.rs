//! Choosing the release to install: one decision for `keel install`, `keel update` and every
//! app that updates itself.
//!
//! [`select`] takes the releases a store offers and a [`Request`] (app, target, channel, an
//! optional version asked for, the version installed, the pre-release policy) and answers
//! [`Selection::Install`], [`Selection::UpToDate`] or [`Selection::NotFound`].
//!
//! ```
//! use keel_update::select::{Prereleases, Request, Selection, select};
//! let installed: keel_update::store::Version = "1.0.0".parse().unwrap();
//! let target = keel_schema::TargetTriple::host();
//! let request = Request {
//!     app: "ledger",
//!     target: &target,
//!     channel: "stable",
//!     version: None,
//!     installed: Some(&installed),
//!     prereleases: Prereleases::for_channel("stable", Some(&installed)),
//! };
//! assert_eq!(select(Vec::new(), &request), Selection::NotFound);
//! ```

use keel_schema::TargetTriple;
use semver::Version;

use crate::store::Available;

/// Whether an install may move to a pre-release (`1.3.0-rc.1`) it did not ask for by version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prereleases {
    /// Only releases; a pre-release is installed only when asked for by version.
    Exclude,
    /// Pre-releases too.
    Include,
}

impl Prereleases {
    /// keel's policy: the `stable` channel skips pre-releases, unless the install already runs
    /// one (so `1.3.0-rc.1` moves on to `1.3.0-rc.2` and then `1.3.0`); every other channel
    /// (`beta`, `nightly`, ...) takes them.
    pub fn for_channel(channel: &str, installed: Option<&Version>) -> Prereleases {
        if channel != "stable" || installed.is_some_and(|v| !v.pre.is_empty()) {
            Prereleases::Include
        } else {
            Prereleases::Exclude
        }
    }
}

/// What to look for.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The app.
    pub app: &'a str,
    /// The platform.
    pub target: &'a TargetTriple,
    /// The channel followed.
    pub channel: &'a str,
    /// A version asked for (`--to 1.2.0`); it may be older than the installed one.
    pub version: Option<&'a Version>,
    /// The version installed, if any: nothing older or equal is offered unless asked for.
    pub installed: Option<&'a Version>,
    /// Whether pre-releases are candidates.
    pub prereleases: Prereleases,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Install this release.
    Install(Box<Available>),
    /// The installed version is what was asked for, or nothing newer is on the channel.
    UpToDate,
    /// The store has no release of the app for the target on the channel (or not the version
    /// asked for).
    NotFound,
}

/// Chooses among `releases` (any order) what `request` asks for.
pub fn select(releases: impl IntoIterator<Item = Available>, request: &Request<'_>) -> Selection {
    let mut candidates: Vec<Available> = releases
        .into_iter()
        .filter(|r| {
            r.app == request.app && &r.target == request.target && r.channel == request.channel
        })
        .collect();
    if candidates.is_empty() {
        return Selection::NotFound;
    }
    candidates.sort_by(|a, b| a.version.cmp(&b.version));
    if let Some(wanted) = request.version {
        return match candidates.into_iter().rev().find(|r| &r.version == wanted) {
            None => Selection::NotFound,
            Some(found) if Some(&found.version) == request.installed => Selection::UpToDate,
            Some(found) => Selection::Install(Box::new(found)),
        };
    }
    let newest = candidates
        .into_iter()
        .rev()
        .find(|r| request.prereleases == Prereleases::Include || r.version.pre.is_empty());
    match (newest, request.installed) {
        (Some(newest), Some(installed)) if &newest.version <= installed => Selection::UpToDate,
        (Some(newest), _) => Selection::Install(Box::new(newest)),
        (None, Some(_)) => Selection::UpToDate,
        (None, None) => Selection::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_schema::ArchiveFormat;

    fn release(version: &str, channel: &str) -> Available {
        Available {
            name: format!("app-{version}.tar.gz"),
            app: "app".into(),
            version: version.parse().unwrap(),
            target: TargetTriple::parse("x86_64-unknown-linux-gnu").unwrap(),
            channel: channel.into(),
            format: ArchiveFormat::TarGz,
            executables: vec![],
            hooks: Default::default(),
            length: 1,
        }
    }

    fn pick(releases: &[Available], version: Option<&str>, installed: Option<&str>) -> Selection {
        let target = TargetTriple::parse("x86_64-unknown-linux-gnu").unwrap();
        let version = version.map(|v| v.parse::<Version>().unwrap());
        let installed = installed.map(|v| v.parse::<Version>().unwrap());
        select(
            releases.to_vec(),
            &Request {
                app: "app",
                target: &target,
                channel: "stable",
                version: version.as_ref(),
                installed: installed.as_ref(),
                prereleases: Prereleases::for_channel("stable", installed.as_ref()),
            },
        )
    }

    fn installs(selection: Selection) -> String {
        match selection {
            Selection::Install(release) => release.version.to_string(),
            other => panic!("expected an install, got {other:?}"),
        }
    }

    #[test]
    fn the_newest_release_on_the_channel_wins() {
        let releases = [
            release("1.2.0", "stable"),
            release("1.10.0", "stable"),
            release("2.0.0", "beta"),
        ];
        assert_eq!(installs(pick(&releases, None, None)), "1.10.0");
        assert_eq!(installs(pick(&releases, None, Some("1.2.0"))), "1.10.0");
        assert_eq!(pick(&releases, None, Some("1.10.0")), Selection::UpToDate);
        assert_eq!(pick(&releases, None, Some("3.0.0")), Selection::UpToDate);
    }

    #[test]
    fn a_version_asked_for_may_be_older_and_must_exist() {
        let releases = [release("1.0.0", "stable"), release("1.1.0", "stable")];
        assert_eq!(
            installs(pick(&releases, Some("1.0.0"), Some("1.1.0"))),
            "1.0.0"
        );
        assert_eq!(
            pick(&releases, Some("1.1.0"), Some("1.1.0")),
            Selection::UpToDate
        );
        assert_eq!(pick(&releases, Some("9.9.9"), None), Selection::NotFound);
        assert_eq!(pick(&[], None, Some("1.0.0")), Selection::NotFound);
    }

    #[test]
    fn pre_releases_are_skipped_on_stable_unless_the_install_runs_one() {
        let releases = [release("1.0.0", "stable"), release("1.1.0-rc.1", "stable")];
        assert_eq!(installs(pick(&releases, None, None)), "1.0.0");
        assert_eq!(pick(&releases, None, Some("1.0.0")), Selection::UpToDate);
        assert_eq!(
            installs(pick(&releases, Some("1.1.0-rc.1"), Some("1.0.0"))),
            "1.1.0-rc.1"
        );
        let later = [
            release("1.1.0-rc.1", "stable"),
            release("1.1.0-rc.2", "stable"),
            release("1.1.0", "stable"),
        ];
        assert_eq!(
            installs(pick(&later[..2], None, Some("1.1.0-rc.1"))),
            "1.1.0-rc.2"
        );
        assert_eq!(installs(pick(&later, None, Some("1.1.0-rc.2"))), "1.1.0");
        // Only pre-releases on the channel, nothing installed: nothing to install.
        assert_eq!(pick(&later[..1], None, None), Selection::NotFound);
        assert_eq!(Prereleases::for_channel("beta", None), Prereleases::Include);
    }
}
