//! Version arithmetic: the next version from a request, what the commits call for, and the
//! pre-release rules. Pure.

use semver::{Prerelease, Version};
use serde::Serialize;

/// How much a version moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// `x.y.Z`.
    Patch,
    /// `x.Y.0`.
    Minor,
    /// `X.0.0`.
    Major,
}

impl std::str::FromStr for Level {
    type Err = String;
    fn from_str(text: &str) -> Result<Level, String> {
        match text {
            "major" => Ok(Level::Major),
            "minor" => Ok(Level::Minor),
            "patch" => Ok(Level::Patch),
            _ => Err(format!("`{text}` is not major, minor or patch")),
        }
    }
}

/// The stages of a pre-release, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// `-alpha.N`.
    Alpha,
    /// `-beta.N`.
    Beta,
    /// `-rc.N`.
    Rc,
}

impl Stage {
    fn as_str(self) -> &'static str {
        match self {
            Stage::Alpha => "alpha",
            Stage::Beta => "beta",
            Stage::Rc => "rc",
        }
    }
}

/// What `keel bump` is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// One level up.
    Level(Level),
    /// Start or advance a pre-release of this stage.
    Pre(Stage),
    /// Finish the pre-release.
    Release,
    /// Whatever the commits call for.
    Auto,
    /// This version.
    Exact(Version),
}

impl std::str::FromStr for Request {
    type Err = String;
    fn from_str(text: &str) -> Result<Request, String> {
        Ok(match text {
            "major" | "minor" | "patch" => Request::Level(text.parse()?),
            "alpha" => Request::Pre(Stage::Alpha),
            "beta" => Request::Pre(Stage::Beta),
            "rc" => Request::Pre(Stage::Rc),
            "release" => Request::Release,
            "auto" => Request::Auto,
            _ => Request::Exact(
                Version::parse(text.strip_prefix('v').unwrap_or(text)).map_err(|_| {
                    format!(
                        "`{text}` is not major, minor, patch, alpha, beta, rc, release, auto or a version (1.2.3)"
                    )
                })?,
            ),
        })
    }
}

/// Why a version cannot be given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NextError {
    /// The new version would not be greater than the current one.
    #[error("{new} is not after {current}: versions only go forwards")]
    Backwards {
        /// The version now.
        current: Version,
        /// The one asked for.
        new: String,
    },
    /// `release` of a version that is not a pre-release.
    #[error("{current} is not a pre-release, so there is nothing to finish")]
    NotPrerelease {
        /// The version now.
        current: Version,
    },
    /// `major`/`minor`/`patch` of a pre-release.
    #[error("{current} is a pre-release; `{level:?}` would leave it without saying how", level = level)]
    LevelOfPrerelease {
        /// The version now.
        current: Version,
        /// The level asked for.
        level: Level,
    },
    /// A pre-release that is not `alpha.N`, `beta.N` or `rc.N`.
    #[error(
        "{current} has a pre-release keel does not know how to advance (it knows alpha.N, beta.N and rc.N)"
    )]
    UnknownPrerelease {
        /// The version now.
        current: Version,
    },
    /// A pre-release asked for with no change to base it on.
    #[error(
        "no commit since {since} calls for a new version, so there is no version to make a pre-release of"
    )]
    NothingToRelease {
        /// The last tag, or `the start`.
        since: String,
    },
}

impl NextError {
    /// What to do about the error, when that needs no command-line flag (the `keel` binary
    /// adds the hints that name its flags).
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            NextError::Backwards { .. } => {
                "a pre-release goes alpha → beta → rc → release; pass a version after the current one"
            }
            NextError::NotPrerelease { .. } => {
                "`keel bump auto` (or major, minor, patch) makes a new version"
            }
            NextError::UnknownPrerelease { .. } => {
                "pass the next version itself: `keel bump 1.3.0-rc.1`"
            }
            _ => return None,
        })
    }
}

/// The version one level up. Explicit: `major` of 0.3.1 is 1.0.0.
pub fn bump(version: &Version, level: Level) -> Version {
    match level {
        Level::Major => Version::new(version.major + 1, 0, 0),
        Level::Minor => Version::new(version.major, version.minor + 1, 0),
        Level::Patch => Version::new(version.major, version.minor, version.patch + 1),
    }
}

/// The stage and number of a pre-release (`beta.2` → (Beta, 2)).
fn stage_of(version: &Version) -> Option<(Stage, u64)> {
    let (stage, number) = version.pre.as_str().split_once('.')?;
    let stage = match stage {
        "alpha" => Stage::Alpha,
        "beta" => Stage::Beta,
        "rc" => Stage::Rc,
        _ => return None,
    };
    Some((stage, number.parse().ok()?))
}

fn with_pre(version: &Version, stage: Stage, number: u64) -> Version {
    let mut v = Version::new(version.major, version.minor, version.patch);
    v.pre = Prerelease::new(&format!("{}.{number}", stage.as_str()))
        .expect("alpha.N, beta.N and rc.N are valid pre-releases");
    v
}

fn release_of(version: &Version) -> Version {
    Version::new(version.major, version.minor, version.patch)
}

/// The inputs of [`next`] besides the request.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// What the commits since the last tag call for (after the below-1.0 rule).
    pub level: Option<Level>,
    /// `--bump`: the level a new pre-release starts from, instead of `level`.
    pub explicit: Option<Level>,
    /// The newest stable version tagged, if any: a pre-release's base moves up when the
    /// commits call for more than it.
    pub last_stable: Option<Version>,
    /// The last tag, for messages.
    pub since: Option<String>,
}

/// The next version, or `None` when it stays (`auto` with nothing that calls for a change).
pub fn next(
    current: &Version,
    request: &Request,
    cx: &Context,
) -> Result<Option<Version>, NextError> {
    let since = || {
        cx.since
            .clone()
            .unwrap_or_else(|| "the first commit".into())
    };
    if let Request::Exact(new) = request {
        return if new > current {
            Ok(Some(new.clone()))
        } else {
            Err(NextError::Backwards {
                current: current.clone(),
                new: new.to_string(),
            })
        };
    }
    if current.pre.is_empty() {
        return Ok(Some(match request {
            Request::Level(level) => bump(current, *level),
            Request::Auto => match cx.level {
                Some(level) => bump(current, level),
                None => return Ok(None),
            },
            Request::Pre(stage) => {
                let level = cx
                    .explicit
                    .or(cx.level)
                    .ok_or_else(|| NextError::NothingToRelease { since: since() })?;
                with_pre(&bump(current, level), *stage, 1)
            }
            Request::Release => {
                return Err(NextError::NotPrerelease {
                    current: current.clone(),
                });
            }
            Request::Exact(_) => unreachable!("handled above"),
        }));
    }
    // A pre-release.
    let stage = match request {
        Request::Release => return Ok(Some(release_of(current))),
        Request::Level(level) => {
            return Err(NextError::LevelOfPrerelease {
                current: current.clone(),
                level: *level,
            });
        }
        Request::Pre(stage) => *stage,
        Request::Auto => match (cx.level, stage_of(current)) {
            (None, _) => return Ok(None),
            (Some(_), Some((stage, _))) => stage,
            (Some(_), None) => {
                return Err(NextError::UnknownPrerelease {
                    current: current.clone(),
                });
            }
        },
        Request::Exact(_) => unreachable!("handled above"),
    };
    let Some((now, number)) = stage_of(current) else {
        return Err(NextError::UnknownPrerelease {
            current: current.clone(),
        });
    };
    let base = release_of(current);
    // The commits may call for more than the pre-release was started for.
    let raised = cx
        .last_stable
        .as_ref()
        .zip(cx.explicit.or(cx.level))
        .map(|(stable, level)| bump(stable, level))
        .filter(|candidate| *candidate > base);
    if let Some(raised) = raised {
        return Ok(Some(with_pre(&raised, stage, 1)));
    }
    if stage < now {
        return Err(NextError::Backwards {
            current: current.clone(),
            new: with_pre(&base, stage, 1).to_string(),
        });
    }
    Ok(Some(if stage == now {
        with_pre(&base, stage, number + 1)
    } else {
        with_pre(&base, stage, 1)
    }))
}

/// What a conventional commit calls for: breaking → major (minor below 1.0.0), `feat` →
/// minor, `fix` and `perf` → patch; nothing for other types.
pub fn level_of(commit: &keel_changelog::Conventional, current: &Version) -> Option<Level> {
    if commit.breaking {
        return Some(if current.major == 0 {
            Level::Minor
        } else {
            Level::Major
        });
    }
    match commit.kind.as_str() {
        "feat" => Some(Level::Minor),
        "fix" | "perf" => Some(Level::Patch),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    fn go(
        current: &str,
        request: &str,
        level: Option<Level>,
        stable: Option<&str>,
    ) -> Result<Option<String>, NextError> {
        let cx = Context {
            level,
            explicit: None,
            last_stable: stable.map(v),
            since: Some("v1.2.0".into()),
        };
        next(&v(current), &request.parse().unwrap(), &cx).map(|n| n.map(|n| n.to_string()))
    }

    #[test]
    fn levels_of_a_stable_version() {
        assert_eq!(go("1.2.3", "major", None, None).unwrap().unwrap(), "2.0.0");
        assert_eq!(go("1.2.3", "minor", None, None).unwrap().unwrap(), "1.3.0");
        assert_eq!(go("1.2.3", "patch", None, None).unwrap().unwrap(), "1.2.4");
        assert_eq!(go("0.3.1", "major", None, None).unwrap().unwrap(), "1.0.0");
        assert_eq!(
            go("1.2.3", "auto", Some(Level::Minor), None)
                .unwrap()
                .unwrap(),
            "1.3.0"
        );
        assert_eq!(go("1.2.3", "auto", None, None).unwrap(), None);
        assert_eq!(go("1.2.3", "2.0.0", None, None).unwrap().unwrap(), "2.0.0");
        assert!(matches!(
            go("1.2.3", "1.2.3", None, None),
            Err(NextError::Backwards { .. })
        ));
        assert!(matches!(
            go("1.2.3", "release", None, None),
            Err(NextError::NotPrerelease { .. })
        ));
    }

    #[test]
    fn a_prerelease_cycle() {
        let steps = [
            ("1.2.0", "alpha", Some(Level::Minor), "1.3.0-alpha.1"),
            (
                "1.3.0-alpha.1",
                "alpha",
                Some(Level::Patch),
                "1.3.0-alpha.2",
            ),
            ("1.3.0-alpha.2", "beta", None, "1.3.0-beta.1"),
            ("1.3.0-beta.1", "auto", Some(Level::Patch), "1.3.0-beta.2"),
            ("1.3.0-beta.2", "rc", None, "1.3.0-rc.1"),
            ("1.3.0-rc.1", "release", None, "1.3.0"),
        ];
        for (current, request, level, expected) in steps {
            let got = go(current, request, level, Some("1.2.0")).unwrap().unwrap();
            assert_eq!(got, expected, "{current} {request}");
        }
    }

    #[test]
    fn a_prerelease_never_goes_back_or_becomes_stable_by_accident() {
        assert!(matches!(
            go("1.3.0-rc.1", "alpha", None, Some("1.2.0")),
            Err(NextError::Backwards { .. })
        ));
        assert!(matches!(
            go("1.3.0-beta.1", "patch", None, Some("1.2.0")),
            Err(NextError::LevelOfPrerelease { .. })
        ));
        assert_eq!(go("1.3.0-rc.1", "auto", None, Some("1.2.0")).unwrap(), None);
        assert_eq!(
            go("1.3.0-rc.1", "auto", Some(Level::Minor), Some("1.2.0"))
                .unwrap()
                .unwrap(),
            "1.3.0-rc.2"
        );
        assert!(matches!(
            go("1.3.0-dev", "auto", Some(Level::Patch), None),
            Err(NextError::UnknownPrerelease { .. })
        ));
        assert!(matches!(
            go("1.3.0-beta.1", "1.3.0-alpha.5", None, None),
            Err(NextError::Backwards { .. })
        ));
    }

    #[test]
    fn a_breaking_change_raises_a_prereleases_base() {
        assert_eq!(
            go("1.3.0-beta.2", "auto", Some(Level::Major), Some("1.2.0"))
                .unwrap()
                .unwrap(),
            "2.0.0-beta.1"
        );
        assert_eq!(
            go("1.2.0", "rc", None, None).unwrap_err(),
            NextError::NothingToRelease {
                since: "v1.2.0".into()
            }
        );
    }

    #[test]
    fn breaking_changes_below_one_bump_the_minor() {
        let breaking = keel_changelog::parse("feat!: x", "").unwrap();
        assert_eq!(level_of(&breaking, &v("0.4.2")), Some(Level::Minor));
        assert_eq!(level_of(&breaking, &v("1.4.2")), Some(Level::Major));
        let docs = keel_changelog::parse("docs: x", "").unwrap();
        assert_eq!(level_of(&docs, &v("1.4.2")), None);
    }
}
